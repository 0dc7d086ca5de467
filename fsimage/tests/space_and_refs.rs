//! ENOSPC, open-but-unlinked inodes, overlays and raw export.

mod common;

use common::*;
use fsimage::{BlockDevice, Errno, FileDevice, MemOverlay, Vfs, export_raw};

#[test]
fn fill_until_enospc_stays_clean() {
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("small.ext4");
    let vfs = Vfs::mkfs(Box::new(FileDevice::create(&img, 8 << 20).unwrap()), "full").unwrap();
    let r = vfs.root();
    let chunk = vec![0x5au8; 64 << 10];
    let mut hit = None;
    'outer: for i in 0..100 {
        let f = vfs.create(r, format!("f{i}").as_bytes(), 0o644).unwrap();
        for k in 0..64u64 {
            if let Err(e) = vfs.write(f, k * chunk.len() as u64, &chunk) {
                hit = Some(e.errno());
                break 'outer;
            }
        }
    }
    assert_eq!(hit, Some(Errno::NoSpc));
    let (_, free) = vfs.space();
    assert!(free < 1 << 20, "free {free}");
    // Metadata operations on a full image fail cleanly too.
    let long = "l".repeat(300);
    let mut errs = 0;
    for i in 0..300 {
        let name = format!("meta-entry-with-a-long-name-{i:05}");
        let r1 = vfs.mkdir(r, name.as_bytes(), 0o755);
        let r2 = vfs.symlink(r, format!("{name}-s").as_bytes(), long.as_bytes());
        for e in [r1.err(), r2.err()].into_iter().flatten() {
            assert_eq!(e.errno(), Errno::NoSpc);
            errs += 1;
        }
    }
    assert!(errs > 0);
    vfs.sync().unwrap();
    fsck_clean(&img);
    // The file system still works: delete something and write again.
    vfs.unlink(r, b"f0").unwrap();
    let g = vfs.create(r, b"after", 0o644).unwrap();
    vfs.write(g, 0, b"still alive").unwrap();
    vfs.sync().unwrap();
    drop(vfs);
    fsck_clean(&img);
    assert_eq!(debugfs(&img, "cat /after"), b"still alive");
}

#[test]
fn inode_exhaustion_is_enospc() {
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("inodes.ext4");
    let vfs = Vfs::mkfs(Box::new(FileDevice::create(&img, 4 << 20).unwrap()), "i").unwrap();
    let mut err = None;
    for i in 0..100_000 {
        if let Err(e) = vfs.create(vfs.root(), format!("{i}").as_bytes(), 0o644) {
            err = Some(e.errno());
            break;
        }
    }
    assert_eq!(err, Some(Errno::NoSpc));
    drop(vfs);
    fsck_clean(&img);
}

#[test]
fn unlinked_open_file_lives_until_close() {
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("orphan.ext4");
    let vfs = Vfs::mkfs(Box::new(FileDevice::create(&img, 32 << 20).unwrap()), "o").unwrap();
    let r = vfs.root();
    let f = vfs.create(r, b"tmp", 0o600).unwrap();
    vfs.write(f, 0, &vec![9u8; 100_000]).unwrap();
    let (_, free_before) = vfs.space();
    vfs.open_ref(f);
    vfs.unlink(r, b"tmp").unwrap();
    assert_eq!(vfs.lookup(r, b"tmp").unwrap_err().errno(), Errno::NoEnt);
    let mut buf = vec![0u8; 100_000];
    assert_eq!(vfs.read(f, 0, &mut buf).unwrap(), 100_000);
    assert!(buf.iter().all(|&b| b == 9));
    vfs.write(f, 100_000, b"tail").unwrap();
    assert_eq!(vfs.stat(f).unwrap().nlink, 0);
    vfs.close_ref(f);
    let (_, free_after) = vfs.space();
    assert!(free_after > free_before, "{free_after} <= {free_before}");
    vfs.sync().unwrap();
    drop(vfs);
    fsck_clean(&img);

    // Dropped while still open: the orphan is freed on close of the Vfs.
    let vfs = Vfs::open(Box::new(FileDevice::open(&img, true).unwrap()), &img, true).unwrap();
    let g = vfs.create(r, b"held", 0o600).unwrap();
    vfs.write(g, 0, &vec![1u8; 30_000]).unwrap();
    vfs.open_ref(g);
    vfs.unlink(r, b"held").unwrap();
    drop(vfs);
    fsck_clean(&img);
}

#[test]
fn overlay_leaves_lower_untouched_and_exports() {
    let t = tempfile::tempdir().unwrap();
    let base = t.path().join("base.ext4");
    let vfs = Vfs::mkfs(
        Box::new(FileDevice::create(&base, 32 << 20).unwrap()),
        "base",
    )
    .unwrap();
    let f = vfs.create(vfs.root(), b"orig", 0o644).unwrap();
    vfs.write(f, 0, b"original").unwrap();
    drop(vfs);
    let before = std::fs::read(&base).unwrap();

    let lower = FileDevice::open(&base, false).unwrap();
    let ov = MemOverlay::new(Box::new(lower));
    let vfs = Vfs::open(Box::new(ov), &base, true).unwrap();
    let r = vfs.root();
    let n = vfs.create(r, b"added", 0o644).unwrap();
    vfs.write(n, 0, &vec![3u8; 70_000]).unwrap();
    vfs.write(f, 0, b"ORIGINAL").unwrap();
    vfs.unlink(r, b"lost+found").unwrap_err();
    let mut dev = vfs.into_device().unwrap();
    assert_eq!(
        std::fs::read(&base).unwrap(),
        before,
        "lower device was written"
    );
    let out = t.path().join("exported.raw");
    export_raw(dev.as_mut(), &out).unwrap();
    assert_eq!(std::fs::metadata(&out).unwrap().len(), dev.size());
    fsck_clean(&out);
    fsck_clean(&base);
    assert_eq!(debugfs(&out, "cat /orig"), b"ORIGINAL");
    assert_eq!(debugfs(&out, "cat /added"), vec![3u8; 70_000]);
    assert_eq!(debugfs(&base, "cat /orig"), b"original");
    // Sparse: far fewer blocks on disk than the apparent size.
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(&out).unwrap();
    assert!(
        m.blocks() * 512 < m.len() / 2,
        "export not sparse: {} blocks",
        m.blocks()
    );
}

#[test]
fn overlay_partial_writes() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("lower");
    let data: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
    std::fs::write(&p, &data).unwrap();
    let mut ov = MemOverlay::new(Box::new(FileDevice::open(&p, false).unwrap()));
    ov.write_at(4000, &[0xff; 200]).unwrap();
    ov.write_at(19_999, &[0xee]).unwrap();
    let mut all = vec![0u8; 20_000];
    ov.read_at(0, &mut all).unwrap();
    let mut want = data.clone();
    want[4000..4200].fill(0xff);
    want[19_999] = 0xee;
    assert_eq!(all, want);
    assert!(ov.read_at(19_999, &mut [0u8; 2]).is_err());
    assert!(ov.write_at(20_000, &[1]).is_err());
    assert_eq!(std::fs::read(&p).unwrap(), data);
}
