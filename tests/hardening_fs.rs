//! A full disk end to end: a guest fills the room `--storage-opt size=256M` gives the
//! container, sees ENOSPC (not EIO), removes the file, and the saved image is
//! e2fsck-clean and usable. And a default container holds a file past the 1 GiB that
//! used to be the image's size (zeros: cheap on the host, whole blocks in ext4).

mod common;

use common::*;

#[test]
fn filling_the_disk_says_enospc_and_leaves_a_clean_image() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("full.img");
    let out = wsh_cmd(wsh_home())
        .args(["--storage-opt", "size=256M"])
        .arg("--save-image")
        .arg(&img)
        .arg("-c")
        .arg("yes xxx > /big; echo $?; rm /big; echo $?; echo x > /f; cat /f")
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(stdout, "1\n0\nx\n", "stderr: {stderr}");
    assert!(
        stderr.contains("No space left on device"),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains("I/O error"), "stderr: {stderr}");
    let path = img.to_str().unwrap();
    let fsck = host("e2fsck", &["-fn", path]);
    assert!(
        fsck.status.success(),
        "e2fsck -fn failed:\n{}{}",
        text(&fsck.stdout),
        text(&fsck.stderr)
    );
    let problems = fsimage::check(Box::new(fsimage::FileDevice::open(&img, false).unwrap()));
    assert_eq!(problems.unwrap(), vec![]);
    assert_eq!(
        text(&host("debugfs", &["-R", "cat /f", path]).stdout),
        "x\n"
    );
}

#[test]
fn a_default_container_holds_a_file_past_one_gib() {
    let out = wsh_cmd(wsh_home())
        .arg("-c")
        .arg("head -c 1100M /dev/zero > /big && wc -c < /big && df -k / | tail -n 1")
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("1153433600"), "{stdout}{stderr}");
    // df: a 16 GiB file system (in KiB), more than 1.1 GB of it used.
    let df: Vec<u64> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(2)
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(df[0], 16 << 20, "{stdout}");
    assert!(df[1] > 1100 << 10, "{stdout}");
}

#[test]
fn storage_opt_is_checked() {
    let out = wsh_cmd(wsh_home())
        .args(["--storage-opt", "quota=1G", "-c", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown storage option"),
        "{}",
        text(&out.stderr)
    );
}
