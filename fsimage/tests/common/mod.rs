//! Helpers shared by the integration tests: real e2fsprogs tools as judges.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

pub const E2FSCK: &str = "/usr/sbin/e2fsck";
pub const DEBUGFS: &str = "/usr/sbin/debugfs";
pub const MKFS: &str = "/usr/sbin/mkfs.ext4";

/// Runs `e2fsck -fn` and panics with its output unless it exits 0.
pub fn fsck_clean(img: &Path) {
    let out = Command::new(E2FSCK)
        .arg("-fn")
        .arg(img)
        .output()
        .expect("run e2fsck");
    assert!(
        out.status.success(),
        "e2fsck -fn {} failed ({:?}):\n{}\n{}",
        img.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Output of `debugfs -R CMD img` (stdout only; stderr has the banner).
pub fn debugfs(img: &Path, cmd: &str) -> Vec<u8> {
    let out = Command::new(DEBUGFS)
        .arg("-R")
        .arg(cmd)
        .arg(img)
        .output()
        .expect("run debugfs");
    assert!(
        out.status.success(),
        "debugfs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `debugfs stat` as text.
pub fn dstat(img: &Path, path: &str) -> String {
    String::from_utf8_lossy(&debugfs(img, &format!("stat {path}"))).into_owned()
}

/// Makes an image with the host's mkfs.ext4 (default features), optionally from a directory.
pub fn host_mkfs(img: &Path, size: &str, src: Option<&Path>) {
    let mut c = Command::new(MKFS);
    c.arg("-q").arg("-F");
    if let Some(s) = src {
        c.arg("-d").arg(s);
    }
    c.arg(img).arg(size);
    let out = c.output().expect("run mkfs.ext4");
    assert!(
        out.status.success(),
        "mkfs.ext4: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
