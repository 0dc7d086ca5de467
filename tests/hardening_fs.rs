//! A full disk end to end: a guest fills the container's 1 GiB file system, sees
//! ENOSPC (not EIO), removes the file, and the saved image is e2fsck-clean and usable.
//! (Writes about 1 GiB once.)

mod common;

use common::*;

#[test]
fn filling_the_disk_says_enospc_and_leaves_a_clean_image() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("full.img");
    let out = wsh_cmd(wsh_home())
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
