//! Orphans still open at a crash are on the orphan list and freed at the next open.

mod common;
use fsimage::{FileDevice, Vfs};
#[test]
fn held_orphan_sync_then_reopen() {
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("held.img");
    let vfs = Vfs::mkfs(Box::new(FileDevice::create(&img, 16 << 20).unwrap()), "o").unwrap();
    for name in [&b"x"[..], b"y"] {
        let f = vfs.create(2, name, 0o600).unwrap();
        vfs.write(f, 0, &vec![1u8; 10000]).unwrap();
        vfs.open_ref(f);
        vfs.unlink(2, name).unwrap();
    }
    vfs.sync().unwrap();
    // Simulate a crash: the Vfs never closes.
    std::mem::forget(vfs);
    let vfs = Vfs::open(Box::new(FileDevice::open(&img, true).unwrap()), &img, true).unwrap();
    vfs.sync().unwrap();
    drop(vfs);
    common::fsck_clean(&img);
}
