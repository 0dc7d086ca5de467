//! Crash safety of `wsh mount --rw`: files are written through the mount, then wsh gets
//! SIGINT (which starts the unmount) and SIGKILL a few milliseconds later, over a range
//! of delays. Every time the image must pass `e2fsck -fn` and hold exactly the old tree
//! or exactly the new one; for a store image, the next wsh command must find the store
//! clean (no dead container, no overlay) and the original image unchanged.
//! Where FUSE is unusable (no /dev/fuse, no fusermount3), each test prints SKIPPED.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

macro_rules! need_fuse {
    ($name:expr) => {
        if let Some(why) = fuse_unusable() {
            println!("SKIPPED {}: FUSE unusable here ({why})", $name);
            eprintln!("SKIPPED {}: FUSE unusable here ({why})", $name);
            return;
        }
    };
}

/// Milliseconds between SIGINT and SIGKILL, one attempt each; `None` kills with no
/// SIGINT at all (in the middle of the mount).
const DELAYS: &[Option<u64>] = &[
    None,
    Some(0),
    Some(1),
    Some(2),
    Some(4),
    Some(7),
    Some(10),
    Some(15),
    Some(20),
    Some(30),
    Some(50),
    Some(75),
    Some(100),
    Some(150),
    Some(200),
];

/// What the test writes through the mount (and, for the expected tree, on the host).
const CHANGES: &str = "set -e; printf 'through fuse\\n' > new; mkdir -p d/e; mv a d/e/a2; \
    rm hard; seq 1 300000 > d/big; truncate -s 100 sub/big; rmdir empty; ln -s d/e/a2 sl; \
    for i in $(seq 1 40); do echo $i > d/f$i; done";

/// The tree before: small files, a hard link, a symlink, a 1 MB file, an empty dir.
fn make_old_tree(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let out = bash_in(
        dir,
        "set -e; mkdir -p sub empty; printf 'hello\\n' > a; ln a hard; ln -s a short; \
         seq 1 150000 > sub/big",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// The old tree with CHANGES applied by the host's tools.
fn make_new_tree(old: &Path, new: &Path) {
    let out = Command::new("cp")
        .args(["-a"])
        .arg(old)
        .arg(new)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = bash_in(new, CHANGES);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Starts `wsh mount --rw IMAGE MNT` with `home` as WSH_HOME; returns once mounted.
fn start_rw(home: &Path, image: &str, mnt: &Path) -> Child {
    let mut child = wsh_cmd(home)
        .arg("mount")
        .arg(image)
        .arg(mnt)
        .arg("--rw")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the mount to appear", || {
        if let Ok(Some(st)) = child.try_wait() {
            let mut err = String::new();
            if let Some(e) = child.stderr.as_mut() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("wsh mount exited early ({st}): {err}");
        }
        is_mounted(mnt)
    });
    child
}

/// Writes CHANGES through the mount, then SIGINT, `delay` ms, SIGKILL. Returns wsh's
/// stdout (an image id if a store mount got as far as printing it).
fn change_and_kill(child: Child, mnt: &Path, delay: Option<u64>) -> String {
    let out = bash_in(mnt, CHANGES);
    assert!(out.status.success(), "changes: {}", text(&out.stderr));
    let pid = child.id() as i32;
    if let Some(ms) = delay {
        // SAFETY: plain syscall on our own child's pid (not yet reaped).
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
        std::thread::sleep(Duration::from_millis(ms));
    }
    // SAFETY: as above; it may have exited already (then a zombie until waited for).
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let out = child.wait_with_output().unwrap();
    // A killed server leaves its mount behind, disconnected: detach it.
    let _ = Command::new("fusermount3")
        .arg("-uz")
        .arg(mnt)
        .stderr(Stdio::null())
        .status();
    wait_for("the mount to go", || !is_mounted(mnt));
    text(&out.stdout)
}

/// e2fsck -fn on a raw image must exit 0.
fn assert_fsck_clean(img: &Path, what: &str) {
    let fsck = host("e2fsck", &["-fn", img.to_str().unwrap()]);
    assert!(
        fsck.status.success(),
        "{what}: e2fsck -fn exit {:?}\n{}{}",
        fsck.status.code(),
        text(&fsck.stdout),
        text(&fsck.stderr)
    );
}

/// Whether the raw image's tree equals `tree` (names, contents, symlink targets).
fn image_equals(img: &Path, tree: &Path, scratch: &Path) -> bool {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).unwrap();
    let cmd = format!("rdump / {}", scratch.display());
    let out = host("debugfs", &["-R", &cmd, img.to_str().unwrap()]);
    assert!(out.status.success(), "debugfs: {}", text(&out.stderr));
    Command::new("diff")
        .args(["-r", "--no-dereference", "-x", "lost+found", "-q"])
        .arg(tree)
        .arg(scratch)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// Which tree the raw image holds: "old" or "new"; panics if neither.
fn judge(img: &Path, old: &Path, new: &Path, scratch: &Path, what: &str) -> &'static str {
    assert_fsck_clean(img, what);
    if image_equals(img, old, scratch) {
        "old"
    } else if image_equals(img, new, scratch) {
        "new"
    } else {
        panic!("{what}: the image holds neither the old nor the new tree");
    }
}

/// Old tree, new tree and a raw image of the old one, under `t`.
fn setup(t: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (old, new) = (t.join("old"), t.join("new"));
    make_old_tree(&old);
    make_new_tree(&old, &new);
    let img = t.join("orig.ext4");
    let out = mkfs_from_dir(&old, &img, "32M");
    assert!(out.status.success(), "{}", text(&out.stderr));
    (old, new, img)
}

/// The kill loop over a host image file: raw ext4, or qcow2 when `qcow2`.
fn host_file_loop(qcow2: bool) {
    let t = tempfile::tempdir().unwrap();
    let (old, new, orig) = setup(t.path());
    let home = t.path().join("home");
    let mut seen = Vec::new();
    for (i, delay) in DELAYS.iter().enumerate() {
        let what = format!("attempt {i} (SIGKILL {delay:?} ms after SIGINT)");
        let mnt = t.path().join(format!("mnt{i}"));
        std::fs::create_dir(&mnt).unwrap();
        let work = t.path().join(format!("work{i}"));
        let args: Vec<&str> = if qcow2 {
            vec!["convert", "-f", "raw", "-O", "qcow2"]
        } else {
            vec!["convert", "-f", "raw", "-O", "raw"]
        };
        let mut args = args;
        args.push(orig.to_str().unwrap());
        args.push(work.to_str().unwrap());
        assert!(host("qemu-img", &args).status.success());
        let child = start_rw(&home, work.to_str().unwrap(), &mnt);
        change_and_kill(child, &mnt, *delay);
        let raw = if qcow2 {
            let check = host("qemu-img", &["check", work.to_str().unwrap()]);
            assert!(
                check.status.success(),
                "{what}: qemu-img check: {}",
                text(&check.stdout)
            );
            let raw = t.path().join(format!("flat{i}"));
            let out = host(
                "qemu-img",
                &[
                    "convert",
                    "-O",
                    "raw",
                    work.to_str().unwrap(),
                    raw.to_str().unwrap(),
                ],
            );
            assert!(out.status.success(), "{}", text(&out.stderr));
            raw
        } else {
            work
        };
        seen.push(judge(&raw, &old, &new, &t.path().join("dump"), &what));
    }
    eprintln!("outcomes by attempt: {seen:?}");
    // Killed mid-mount, the file is untouched.
    assert_eq!(seen[0], "old");
}

#[test]
fn kill_during_unmount_leaves_a_raw_image_old_or_new() {
    need_fuse!("kill_during_unmount_leaves_a_raw_image_old_or_new");
    host_file_loop(false);
}

#[test]
fn kill_during_unmount_leaves_a_qcow2_image_old_or_new() {
    need_fuse!("kill_during_unmount_leaves_a_qcow2_image_old_or_new");
    host_file_loop(true);
}

/// Files in `dir` (empty if it does not exist).
fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Every image config names only layers that exist.
fn assert_configs_complete(data: &Path, what: &str) {
    for name in names_in(&data.join("images")) {
        if !name.ends_with(".json") {
            continue;
        }
        let bytes = std::fs::read(data.join("images").join(&name)).unwrap();
        let config: serde_json::Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{what}: config {name} unreadable: {e}"));
        for layer in config["layers"].as_array().unwrap() {
            let file = data
                .join("layers")
                .join(format!("{}.qcow2", layer.as_str().unwrap()));
            assert!(file.exists(), "{what}: {name} names missing layer {layer}");
        }
    }
}

/// Exports store image `name` into `dest` (raw).
fn export(home: &Path, name: &str, dest: &Path) {
    let out = wsh_cmd(home)
        .arg("export")
        .arg(name)
        .arg(dest)
        .output()
        .unwrap();
    assert!(out.status.success(), "export {name}: {}", text(&out.stderr));
}

#[test]
fn kill_during_unmount_of_a_store_image_leaves_the_store_consistent() {
    need_fuse!("kill_during_unmount_of_a_store_image_leaves_the_store_consistent");
    let t = tempfile::tempdir().unwrap();
    let (old, new, _) = setup(t.path());
    let home = t.path().join("home");
    let data = home.join("data");
    let out = wsh_cmd(&home)
        .arg("import")
        .arg(&old)
        .arg("victim")
        .output()
        .unwrap();
    assert!(out.status.success(), "import: {}", text(&out.stderr));
    let mut seen = Vec::new();
    for (i, delay) in DELAYS.iter().enumerate() {
        let what = format!("attempt {i} (SIGKILL {delay:?} ms after SIGINT)");
        let mnt = t.path().join(format!("mnt{i}"));
        std::fs::create_dir(&mnt).unwrap();
        let child = start_rw(&home, "victim", &mnt);
        let printed = change_and_kill(child, &mnt, *delay);
        // The next wsh command works and cleans up after the killed one.
        let out = wsh_cmd(&home).arg("images").output().unwrap();
        assert!(
            out.status.success(),
            "{what}: images: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains("victim"), "{what}");
        let records = names_in(&data.join("containers"));
        assert!(records.is_empty(), "{what}: containers left: {records:?}");
        let overlays: Vec<String> = names_in(&data.join("layers"))
            .into_iter()
            .filter(|n| n.starts_with("rw-"))
            .collect();
        assert!(overlays.is_empty(), "{what}: overlays left: {overlays:?}");
        assert_configs_complete(&data, &what);
        // The image mounted is unchanged.
        let raw = t.path().join("export.ext4");
        export(&home, "victim", &raw);
        assert_fsck_clean(&raw, &what);
        assert!(
            image_equals(&raw, &old, &t.path().join("dump")),
            "{what}: the original image changed"
        );
        // An image id printed means the new image is complete.
        let id = printed.trim();
        if !id.is_empty() {
            export(&home, id, &raw);
            assert_eq!(
                judge(&raw, &old, &new, &t.path().join("dump"), &what),
                "new"
            );
        }
        seen.push(if id.is_empty() { "no id" } else { "new image" });
    }
    eprintln!("outcomes by attempt: {seen:?}");
}
