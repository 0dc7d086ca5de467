//! The Vfs is shared between threads (one mutex inside).

mod common;

use fsimage::{FileDevice, Vfs};
use std::sync::Arc;

#[test]
fn parallel_writers() {
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("mt.ext4");
    let vfs =
        Arc::new(Vfs::mkfs(Box::new(FileDevice::create(&img, 64 << 20).unwrap()), "mt").unwrap());
    let handles: Vec<_> = (0..4u8)
        .map(|i| {
            let v = Arc::clone(&vfs);
            std::thread::spawn(move || {
                let d = v
                    .mkdir(v.root(), format!("t{i}").as_bytes(), 0o755)
                    .unwrap();
                for k in 0..50u32 {
                    let f = v.create(d, format!("f{k}").as_bytes(), 0o644).unwrap();
                    v.write(f, 0, &vec![i; 5000 + k as usize]).unwrap();
                }
                v.rename(d, b"f0", v.root(), format!("moved{i}").as_bytes())
                    .unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let v = Arc::try_unwrap(vfs).ok().unwrap();
    v.into_device().unwrap();
    common::fsck_clean(&img);
    assert_eq!(common::debugfs(&img, "cat /t2/f7"), vec![2u8; 5007]);
    assert_eq!(common::debugfs(&img, "cat /moved3"), vec![3u8; 5000]);
}
