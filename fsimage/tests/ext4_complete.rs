//! ext4 completeness: attributes in inodes, hard links, short and long symlinks, files past
//! 2 GiB, 10,000-entry directories, sparse files and free-space accounting — each judged by
//! `e2fsck -fn` and `debugfs` reading the image we wrote.

mod common;

use common::*;
use fsimage::{FileDevice, SetTime, Timestamp, Vfs};
use std::path::{Path, PathBuf};

fn fresh(dir: &Path, mib: u64) -> (PathBuf, Vfs) {
    let img = dir.join("t.ext4");
    let vfs = Vfs::mkfs(Box::new(FileDevice::create(&img, mib << 20).unwrap()), "t").unwrap();
    (img, vfs)
}

/// The value after `key` in debugfs' `stat` text (e.g. "Links:" -> "3").
fn field<'a>(stat: &'a str, key: &str) -> &'a str {
    let at = stat
        .find(key)
        .unwrap_or_else(|| panic!("{key} not in debugfs stat:\n{stat}"));
    stat[at + key.len()..].split_whitespace().next().unwrap()
}

#[test]
fn modes_owners_times_links_in_inodes() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = fresh(t.path(), 16);
    let r = vfs.root();
    let f = vfs.create(r, b"f", 0o644).unwrap();
    vfs.write(f, 0, b"hello").unwrap();
    vfs.set_mode(f, 0o4751).unwrap();
    vfs.set_owner(f, Some(70_001), Some(1234)).unwrap();
    let at = Timestamp {
        sec: 1_000_000_000,
        nsec: 250_000_000,
    };
    let mt = Timestamp {
        sec: 1_200_000_000,
        nsec: 0,
    };
    vfs.set_times(f, Some(SetTime::At(at)), Some(SetTime::At(mt)))
        .unwrap();
    let d = vfs.mkdir(r, b"d", 0o700).unwrap();
    vfs.link(f, d, b"f2").unwrap();
    vfs.link(f, r, b"f3").unwrap();
    let ctime = vfs.stat(f).unwrap().ctime;
    drop(vfs);
    fsck_clean(&img);
    let s = dstat(&img, "/f");
    assert_eq!(field(&s, "Mode:"), "04751", "{s}");
    assert_eq!(field(&s, "User:"), "70001", "{s}");
    assert_eq!(field(&s, "Group:"), "1234", "{s}");
    assert_eq!(field(&s, "Links:"), "3", "{s}");
    assert_eq!(field(&s, "Size:"), "5", "{s}");
    // debugfs prints "atime: 0xSECONDS:NSEC_EXTRA -- date".
    assert_eq!(
        field(&s, "atime:"),
        format!("0x{:08x}:{:08x}", at.sec, at.nsec << 2)
    );
    assert_eq!(field(&s, "mtime:"), format!("0x{:08x}:00000000", mt.sec));
    assert!(field(&s, "ctime:").starts_with(&format!("0x{:08x}:", ctime.sec)));
    assert_eq!(field(&dstat(&img, "/d"), "Mode:"), "0700");
    // All three names show the same inode and content.
    assert_eq!(debugfs(&img, "cat /d/f2"), b"hello");
    assert_eq!(debugfs(&img, "cat /f3"), b"hello");
    // Remove two names: the inode stays with one link, then goes.
    let vfs = Vfs::open(Box::new(FileDevice::open(&img, true).unwrap()), &img, true).unwrap();
    let r = vfs.root();
    vfs.unlink(r, b"f").unwrap();
    let d = vfs.lookup(r, b"d").unwrap();
    vfs.unlink(d, b"f2").unwrap();
    let f3 = vfs.lookup(r, b"f3").unwrap();
    assert_eq!(vfs.stat(f3).unwrap().nlink, 1);
    drop(vfs);
    fsck_clean(&img);
    assert_eq!(field(&dstat(&img, "/f3"), "Links:"), "1");
}

#[test]
fn short_and_long_symlinks() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = fresh(t.path(), 16);
    let r = vfs.root();
    let short = b"a/b/c";
    let at59 = vec![b'x'; 59]; // the longest that fits in i_block (60 bytes, no NUL)
    let at60 = vec![b'y'; 60];
    let long: Vec<u8> = (0..4000).map(|i| b'a' + (i % 26) as u8).collect();
    for (name, target) in [
        (&b"short"[..], &short[..]),
        (b"at59", &at59),
        (b"at60", &at60),
        (b"long", &long),
    ] {
        let ino = vfs.symlink(r, name, target).unwrap();
        assert_eq!(vfs.readlink(ino).unwrap(), target);
        assert_eq!(vfs.stat(ino).unwrap().size, target.len() as u64);
    }
    assert!(vfs.symlink(r, b"too-long", &[b'z'; 4096]).is_err());
    drop(vfs);
    fsck_clean(&img);
    let s = dstat(&img, "/short");
    assert!(s.contains("Fast link dest: \"a/b/c\""), "{s}");
    assert!(dstat(&img, "/at59").contains("Fast link dest:"));
    // Slow symlinks keep their target in a data block: debugfs shows its blocks.
    assert_eq!(field(&dstat(&img, "/long"), "Size:"), "4000");
    assert!(!dstat(&img, "/long").contains("Fast link dest:"));
    let vfs = Vfs::open(
        Box::new(FileDevice::open(&img, false).unwrap()),
        &img,
        false,
    )
    .unwrap();
    let r = vfs.root();
    assert_eq!(vfs.readlink(vfs.lookup(r, b"long").unwrap()).unwrap(), long);
    assert_eq!(vfs.readlink(vfs.lookup(r, b"at60").unwrap()).unwrap(), at60);
}

#[test]
fn file_past_2_gib_is_sparse() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = fresh(t.path(), 32);
    let r = vfs.root();
    let f = vfs.create(r, b"big", 0o644).unwrap();
    let off: u64 = 5 << 29; // 2.5 GiB
    let data: Vec<u8> = (0..(1u32 << 20)).map(|i| (i * 7 % 251) as u8).collect();
    assert_eq!(vfs.write(f, off, &data).unwrap(), data.len());
    let st = vfs.stat(f).unwrap();
    assert_eq!(st.size, off + data.len() as u64);
    // 1 MiB of data = 2048 sectors, plus at most a few extent-tree blocks.
    assert!(st.blocks >= 2048 && st.blocks <= 2048 + 16, "{}", st.blocks);
    let mut buf = vec![1u8; 64 << 10];
    assert_eq!(vfs.read(f, 1 << 30, &mut buf).unwrap(), buf.len());
    assert!(buf.iter().all(|&b| b == 0), "hole reads as zeros");
    let mut back = vec![0u8; data.len() + 10];
    assert_eq!(vfs.read(f, off, &mut back).unwrap(), data.len());
    assert_eq!(&back[..data.len()], &data[..]);
    // Shrink below 2 GiB and grow again: the tail is freed, then reads as a hole.
    vfs.truncate(f, (2 << 30) + 4096).unwrap();
    vfs.truncate(f, off + 8192).unwrap();
    assert_eq!(vfs.read(f, off, &mut buf).unwrap(), 8192);
    assert!(buf[..8192].iter().all(|&b| b == 0));
    vfs.write(f, off + 4096, &data[..4096]).unwrap();
    drop(vfs);
    fsck_clean(&img);
    let s = dstat(&img, "/big");
    assert_eq!(field(&s, "Size:"), (off + 8192).to_string(), "{s}");
    assert_eq!(field(&s, "Blockcount:"), "8", "{s}");
}

#[test]
fn sparse_file_blocks_and_zeros() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = fresh(t.path(), 16);
    let f = vfs.create(vfs.root(), b"sparse", 0o644).unwrap();
    vfs.write(f, 1 << 20, &[0xab; 4096]).unwrap();
    vfs.write(f, 3 << 20, &[0xcd; 100]).unwrap();
    let st = vfs.stat(f).unwrap();
    assert_eq!(st.size, (3 << 20) + 100);
    assert_eq!(st.blocks, 16, "two 4 KiB blocks = 16 sectors");
    let mut buf = vec![9u8; 1 << 20];
    assert_eq!(vfs.read(f, 0, &mut buf).unwrap(), 1 << 20);
    assert!(buf.iter().all(|&b| b == 0));
    drop(vfs);
    fsck_clean(&img);
    assert_eq!(field(&dstat(&img, "/sparse"), "Blockcount:"), "16");
    // The host's view of the same file, through debugfs: holes dump as zeros.
    let out = t.path().join("dumped");
    debugfs(&img, &format!("dump /sparse {}", out.display()));
    let host = std::fs::read(&out).unwrap();
    assert_eq!(host.len(), (3 << 20) + 100);
    assert!(host[..1 << 20].iter().all(|&b| b == 0));
    assert!(host[1 << 20..(1 << 20) + 4096].iter().all(|&b| b == 0xab));
}

#[test]
fn ten_thousand_entries() {
    let t = tempfile::tempdir().unwrap();
    // 128 MiB at one inode per 8 KiB gives 16,384 inodes.
    let (img, vfs) = fresh(t.path(), 128);
    let d = vfs.mkdir(vfs.root(), b"big", 0o755).unwrap();
    for i in 0..10_000 {
        vfs.create(d, format!("file-{i:05}").as_bytes(), 0o644)
            .unwrap();
    }
    assert_eq!(vfs.readdir(d).unwrap().len(), 10_002);
    assert!(vfs.lookup(d, b"file-09999").is_ok());
    for i in (0..10_000).step_by(2) {
        vfs.unlink(d, format!("file-{i:05}").as_bytes()).unwrap();
    }
    assert_eq!(vfs.readdir(d).unwrap().len(), 5_002);
    drop(vfs);
    fsck_clean(&img);
    let ls = String::from_utf8(debugfs(&img, "ls -l /big")).unwrap();
    assert_eq!(ls.matches("file-").count(), 5_000);
    assert!(ls.contains("file-09999") && !ls.contains("file-09998"));
}

/// Free blocks as the superblock records them (dumpe2fs -h).
fn sb_free_blocks(img: &Path) -> u64 {
    let out = std::process::Command::new("/usr/sbin/dumpe2fs")
        .arg("-h")
        .arg(img)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    field(&text, "Free blocks:").parse().unwrap()
}

#[test]
fn free_space_accounting() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = fresh(t.path(), 64);
    let r = vfs.root();
    let (total, free0) = vfs.space();
    assert_eq!(total, 64 << 20);
    let f = vfs.create(r, b"f", 0o644).unwrap();
    vfs.write(f, 0, &vec![1u8; 8 << 20]).unwrap();
    let (_, free1) = vfs.space();
    // 8 MiB of data plus at most a few metadata blocks.
    let used = free0 - free1;
    assert!((8 << 20..(8 << 20) + (64 << 10)).contains(&used), "{used}");
    vfs.sync().unwrap();
    fsck_clean(&img); // e2fsck checks the counters against the bitmaps
    let before = sb_free_blocks(&img);
    vfs.unlink(r, b"f").unwrap();
    vfs.sync().unwrap();
    assert_eq!(vfs.space().1, free0);
    assert_eq!(sb_free_blocks(&img), before + 2048);
    drop(vfs);
    fsck_clean(&img);
}
