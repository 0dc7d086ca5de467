//! Images made by the host's mkfs.ext4 (default features, metadata_csum, journal).

mod common;

use common::*;
use fsimage::{Error, FileDevice, FileType, Vfs};

#[test]
fn open_and_modify_mkfs_d_image() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    std::fs::create_dir_all(src.join("etc/deep")).unwrap();
    std::fs::write(src.join("etc/motd"), b"welcome\n").unwrap();
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(src.join("etc/deep/blob"), &big).unwrap();
    std::os::unix::fs::symlink("/etc/motd", src.join("motd-link")).unwrap();
    let img = t.path().join("host.ext4");
    host_mkfs(&img, "32M", Some(&src));
    let sb = String::from_utf8_lossy(&debugfs(&img, "stats")).into_owned();
    assert!(
        sb.contains("metadata_csum") && sb.contains("has_journal"),
        "{sb}"
    );

    let vfs = Vfs::open(Box::new(FileDevice::open(&img, true).unwrap()), &img, true).unwrap();
    let r = vfs.root();
    let motd = vfs.resolve(r, b"/etc/motd", true).unwrap();
    let mut buf = vec![0u8; 100];
    let n = vfs.read(motd, 0, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"welcome\n");
    let blob = vfs.resolve(r, b"etc/deep/blob", true).unwrap();
    let mut back = vec![0u8; big.len()];
    assert_eq!(vfs.read(blob, 0, &mut back).unwrap(), big.len());
    assert_eq!(back, big);
    assert_eq!(vfs.resolve(r, b"/motd-link", true).unwrap(), motd);
    let l = vfs.resolve(r, b"/motd-link", false).unwrap();
    assert_eq!(vfs.stat(l).unwrap().kind, FileType::Symlink);

    // Modify: overwrite, append, new files, rename, delete.
    vfs.write(motd, 0, b"WELCOME").unwrap();
    vfs.write(motd, 8, b"more\n").unwrap();
    let etc = vfs.resolve(r, b"/etc", true).unwrap();
    let n = vfs.create(etc, b"new", 0o600).unwrap();
    vfs.write(n, 0, &vec![b'z'; 50_000]).unwrap();
    vfs.rename(etc, b"deep", r, b"deep-moved").unwrap();
    let deep = vfs.resolve(r, b"/deep-moved", true).unwrap();
    vfs.unlink(deep, b"blob").unwrap();
    vfs.mkdir(deep, b"fresh", 0o700).unwrap();
    vfs.sync().unwrap();
    drop(vfs);
    fsck_clean(&img);
    assert_eq!(debugfs(&img, "cat /etc/motd"), b"WELCOME\nmore\n");
    assert_eq!(debugfs(&img, "cat /etc/new"), vec![b'z'; 50_000]);
    let ls = String::from_utf8_lossy(&debugfs(&img, "ls -l /deep-moved")).into_owned();
    assert!(ls.contains("fresh") && !ls.contains("blob"), "{ls}");
}

#[test]
fn read_only_open_never_writes() {
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("ro.ext4");
    host_mkfs(&img, "16M", None);
    let before = std::fs::read(&img).unwrap();
    let vfs = Vfs::open(
        Box::new(FileDevice::open(&img, false).unwrap()),
        &img,
        false,
    )
    .unwrap();
    let r = vfs.root();
    assert_eq!(
        vfs.create(r, b"x", 0o644).unwrap_err().errno(),
        fsimage::Errno::RoFs
    );
    assert!(
        vfs.readdir(r)
            .unwrap()
            .iter()
            .any(|e| e.name == b"lost+found")
    );
    vfs.sync().unwrap();
    drop(vfs);
    assert!(
        std::fs::read(&img).unwrap() == before,
        "read-only image changed"
    );
}

fn expect_bad(bytes: &[u8]) {
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("bad.img");
    std::fs::write(&img, bytes).unwrap();
    for writable in [false, true] {
        let dev = FileDevice::open(&img, writable).unwrap();
        match Vfs::open(Box::new(dev), &img, writable) {
            Err(Error::Corrupt { path, msg }) => {
                assert_eq!(path, img);
                assert!(!msg.is_empty());
                assert!(format!("{}", Error::Corrupt { path, msg }).contains("bad.img"));
            }
            Err(e) => panic!("expected Corrupt, got {e:?}"),
            Ok(_) => panic!("garbage opened as ext4"),
        }
    }
    assert_eq!(
        std::fs::read(&img).unwrap(),
        bytes,
        "refused image was modified"
    );
}

#[test]
fn garbage_images_are_corrupt() {
    expect_bad(&[]);
    expect_bad(&vec![0u8; 4 << 20]);
    let mut x = 0x1234_5678u32;
    let junk: Vec<u8> = (0..(2 << 20))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    expect_bad(&junk);
    // A real image cut short.
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("full.ext4");
    host_mkfs(&img, "32M", None);
    let full = std::fs::read(&img).unwrap();
    expect_bad(&full[..1 << 20]);
    expect_bad(&full[..5000]);
    // Superblock magic intact but the group descriptors smashed.
    let mut smashed = full.clone();
    for b in &mut smashed[4096..8192] {
        *b = 0xa5;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("smashed.img");
    std::fs::write(&p, &smashed).unwrap();
    // Any error is fine here, just no panic.
    let _ =
        Vfs::open(Box::new(FileDevice::open(&p, false).unwrap()), &p, false).map(|v| v.readdir(2));
}
