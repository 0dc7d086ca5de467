//! A file system that fills up says ENOSPC and stays e2fsck-clean once the space is
//! freed again (libext2fs before 1.47.4 could not free a run of blocks ending at the
//! disk's last block, which is where a file that fills the disk always ends).

mod common;

use common::*;
use fsimage::{Errno, FileDevice, Ino, Vfs, check};
use std::path::{Path, PathBuf};

fn mkfs(dir: &Path, name: &str, mib: u64) -> (PathBuf, Vfs) {
    let img = dir.join(name);
    let dev = FileDevice::create(&img, mib << 20).unwrap();
    (img.clone(), Vfs::mkfs(Box::new(dev), name).unwrap())
}

/// Appends `chunk` at the end of `ino` until a write fails: (bytes stored, errno).
fn fill(vfs: &Vfs, ino: Ino, chunk: &[u8]) -> (u64, Errno) {
    let mut off = vfs.stat(ino).unwrap().size;
    loop {
        match vfs.write(ino, off, chunk) {
            Ok(0) => panic!("write stored nothing and reported no error"),
            Ok(n) => off += n as u64,
            Err(e) => return (off, e.errno()),
        }
    }
}

/// The byte at file offset `i` of a file written by `fill` with `pattern(len)`.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"xxx\n"[i % 4]).collect()
}

/// Reads the whole file and checks it is `size` bytes of the repeating pattern.
fn assert_pattern(vfs: &Vfs, ino: Ino, size: u64) {
    assert_eq!(vfs.stat(ino).unwrap().size, size);
    let mut buf = vec![0u8; size as usize];
    assert_eq!(vfs.read(ino, 0, &mut buf).unwrap(), size as usize);
    let bad = buf
        .iter()
        .enumerate()
        .position(|(i, &b)| b != b"xxx\n"[i % 4]);
    assert_eq!(bad, None, "content differs from what was written");
}

/// Syncs the open Vfs and has e2fsck, and fsimage::check, judge the image.
fn clean(vfs: &Vfs, img: &Path) {
    vfs.sync().unwrap();
    fsck_clean(img);
    let problems = check(Box::new(FileDevice::open(img, false).unwrap())).unwrap();
    assert_eq!(problems, vec![], "check disagrees with e2fsck");
}

/// A new small file can be written and read back.
fn still_works(vfs: &Vfs, name: &[u8]) {
    let f = vfs.create(vfs.root(), name, 0o644).unwrap();
    assert_eq!(vfs.write(f, 0, b"still alive\n").unwrap(), 12);
    let mut buf = [0u8; 64];
    let n = vfs.read(f, 0, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"still alive\n");
}

#[test]
fn one_file_fills_the_disk_then_unlink_is_clean() {
    let t = tempfile::tempdir().unwrap();
    // 64 KiB and 8 KiB are block-aligned writes; 4004 bytes leaves partial blocks,
    // as `yes` or a shell redirection does.
    for (i, chunk) in [65536usize, 8192, 4004].into_iter().enumerate() {
        let (img, vfs) = mkfs(t.path(), &format!("one{i}.ext4"), 8);
        let (_, free0) = vfs.space();
        let r = vfs.root();
        let f = vfs.create(r, b"big", 0o644).unwrap();
        let (stored, errno) = fill(&vfs, f, &pattern(chunk));
        assert_eq!(errno, Errno::NoSpc, "chunk {chunk}");
        assert!(stored > 6 << 20, "only {stored} bytes fit");
        assert_pattern(&vfs, f, stored);
        clean(&vfs, &img);
        vfs.unlink(r, b"big").unwrap();
        let (_, free1) = vfs.space();
        assert!(free1 >= free0, "space not given back: {free1} < {free0}");
        clean(&vfs, &img);
        still_works(&vfs, b"after");
        drop(vfs);
        fsck_clean(&img);
        assert_eq!(debugfs(&img, "cat /after"), b"still alive\n");
    }
}

#[test]
fn open_full_file_unlinked_is_freed_on_close() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = mkfs(t.path(), "orphan.ext4", 8);
    let r = vfs.root();
    let f = vfs.create(r, b"big", 0o644).unwrap();
    vfs.open_ref(f);
    assert_eq!(fill(&vfs, f, &pattern(65536)).1, Errno::NoSpc);
    vfs.unlink(r, b"big").unwrap();
    // While the handle is open the blocks stay taken; closing frees them.
    let g = vfs.create(r, b"x", 0o644).unwrap();
    assert_eq!(
        vfs.write(g, 0, &[1; 8192]).unwrap_err().errno(),
        Errno::NoSpc
    );
    vfs.close_ref(f);
    clean(&vfs, &img);
    still_works(&vfs, b"after");
    drop(vfs);
    fsck_clean(&img);
}

#[test]
fn full_file_truncated_is_clean() {
    let t = tempfile::tempdir().unwrap();
    // To zero, to a partial block in the middle, and by one byte (the last block stays).
    for (i, keep) in [0u64, 1_000_001, u64::MAX].into_iter().enumerate() {
        let (img, vfs) = mkfs(t.path(), &format!("trunc{i}.ext4"), 8);
        let f = vfs.create(vfs.root(), b"big", 0o644).unwrap();
        let (stored, errno) = fill(&vfs, f, &pattern(65536));
        assert_eq!(errno, Errno::NoSpc);
        let keep = keep.min(stored - 1);
        vfs.truncate(f, keep).unwrap();
        assert_pattern(&vfs, f, keep);
        clean(&vfs, &img);
        // The freed space is usable again, and the file grows back to the end.
        let (grown, errno) = fill(&vfs, f, &pattern(4000)[(keep % 4) as usize..][..3996]);
        assert_eq!(errno, Errno::NoSpc);
        assert!(grown >= keep);
        assert_pattern(&vfs, f, grown);
        clean(&vfs, &img);
        vfs.truncate(f, 0).unwrap();
        clean(&vfs, &img);
        still_works(&vfs, b"after");
        drop(vfs);
        fsck_clean(&img);
    }
}

#[test]
fn one_large_write_stops_short_then_enospc() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = mkfs(t.path(), "short.ext4", 8);
    let r = vfs.root();
    let f = vfs.create(r, b"big", 0o644).unwrap();
    let data = pattern(16 << 20);
    // write(2) semantics: the part that fits is stored and reported...
    let n = vfs.write(f, 0, &data).unwrap();
    assert!(n > 6 << 20 && n < data.len(), "short write of {n}");
    // ...and the next write gets the error.
    assert_eq!(
        vfs.write(f, n as u64, &data[n..]).unwrap_err().errno(),
        Errno::NoSpc
    );
    assert_pattern(&vfs, f, n as u64);
    clean(&vfs, &img);
    vfs.unlink(r, b"big").unwrap();
    clean(&vfs, &img);
    still_works(&vfs, b"after");
    drop(vfs);
    fsck_clean(&img);
}

#[test]
fn fragmented_disk_fills_with_a_deep_extent_tree() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = mkfs(t.path(), "frag.ext4", 16);
    let r = vfs.root();
    let d = vfs.mkdir(r, b"d", 0o755).unwrap();
    // Every other one-block file removed: the big file gets ~1000 one-block extents, so
    // its extent tree grows leaf blocks while the disk runs out.
    for i in 0..2000 {
        let g = vfs.create(d, format!("{i}").as_bytes(), 0o644).unwrap();
        vfs.write(g, 0, &[7u8; 4096]).unwrap();
    }
    for i in (0..2000).step_by(2) {
        vfs.unlink(d, format!("{i}").as_bytes()).unwrap();
    }
    let f = vfs.create(r, b"big", 0o644).unwrap();
    let (stored, errno) = fill(&vfs, f, &pattern(8192));
    assert_eq!(errno, Errno::NoSpc);
    assert_pattern(&vfs, f, stored);
    clean(&vfs, &img);
    // Shrink into the fragmented part, then delete everything.
    vfs.truncate(f, stored / 3).unwrap();
    clean(&vfs, &img);
    vfs.unlink(r, b"big").unwrap();
    for i in (1..2000).step_by(2) {
        vfs.unlink(d, format!("{i}").as_bytes()).unwrap();
    }
    vfs.rmdir(r, b"d").unwrap();
    clean(&vfs, &img);
    still_works(&vfs, b"after");
    drop(vfs);
    fsck_clean(&img);
}

/// Creates `size`-byte files spread over a few directories until something fails:
/// (every (directory, name) made, the errno).
fn fill_with_files(vfs: &Vfs, size: usize) -> (Vec<(Ino, Vec<u8>)>, Errno) {
    let r = vfs.root();
    let data = pattern(size);
    let mut made = Vec::new();
    for i in 0.. {
        let dname = format!("dir{}", i / 500).into_bytes();
        let dir = match vfs
            .lookup(r, &dname)
            .or_else(|_| vfs.mkdir(r, &dname, 0o755))
        {
            Ok(d) => d,
            Err(e) => return (made, e.errno()),
        };
        let name = format!("file-with-a-longish-name-{i:06}").into_bytes();
        let f = match vfs.create(dir, &name, 0o644) {
            Ok(f) => f,
            Err(e) => return (made, e.errno()),
        };
        made.push((dir, name));
        match vfs.write(f, 0, &data) {
            Ok(n) if n == size => {}
            Ok(_) => return (made, Errno::NoSpc),
            Err(e) => return (made, e.errno()),
        }
    }
    unreachable!()
}

/// Removes every file `fill_with_files` made, then its directories.
fn remove_all(vfs: &Vfs, made: &[(Ino, Vec<u8>)]) {
    let r = vfs.root();
    for (dir, name) in made {
        vfs.unlink(*dir, name).unwrap();
    }
    for e in vfs.readdir(r).unwrap() {
        if e.name.starts_with(b"dir") {
            vfs.rmdir(r, &e.name).unwrap();
        }
    }
}

#[test]
fn many_small_files_fill_blocks_or_inodes_then_clean() {
    let t = tempfile::tempdir().unwrap();
    // Empty files run out of inodes; 100-byte files of directory blocks and inodes;
    // 6000-byte files of data blocks.
    for (i, size) in [0usize, 100, 6000].into_iter().enumerate() {
        let (img, vfs) = mkfs(t.path(), &format!("small{i}.ext4"), 16);
        let (_, free0) = vfs.space();
        let (made, errno) = fill_with_files(&vfs, size);
        assert_eq!(errno, Errno::NoSpc, "files of {size} bytes");
        clean(&vfs, &img);
        remove_all(&vfs, &made);
        let (_, free1) = vfs.space();
        assert!(
            free1 + (64 << 10) >= free0,
            "space not given back: {free1} vs {free0}"
        );
        clean(&vfs, &img);
        still_works(&vfs, b"after");
        drop(vfs);
        fsck_clean(&img);
    }
}

#[test]
fn full_data_then_directory_blocks_run_out() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = mkfs(t.path(), "dirfull.ext4", 8);
    let r = vfs.root();
    let f = vfs.create(r, b"big", 0o644).unwrap();
    assert_eq!(fill(&vfs, f, &pattern(65536)).1, Errno::NoSpc);
    // Inodes are left but no block: the root's directory block fills, then ENOSPC.
    let mut made = 0;
    let errno = loop {
        let name = format!("entry-with-a-long-name-so-the-block-fills-{made:05}");
        match vfs.create(r, name.as_bytes(), 0o644) {
            Ok(_) => made += 1,
            Err(e) => break e.errno(),
        }
    };
    assert_eq!(errno, Errno::NoSpc);
    assert!(made > 0 && made < 1000, "{made} entries");
    assert_eq!(
        vfs.mkdir(r, b"newdir", 0o755).unwrap_err().errno(),
        Errno::NoSpc
    );
    assert_eq!(
        vfs.symlink(r, b"long-link", &[b'a'; 200])
            .unwrap_err()
            .errno(),
        Errno::NoSpc
    );
    clean(&vfs, &img);
    vfs.unlink(r, b"big").unwrap();
    clean(&vfs, &img);
    vfs.mkdir(r, b"newdir", 0o755).unwrap();
    still_works(&vfs, b"after");
    drop(vfs);
    fsck_clean(&img);
}

#[test]
fn errno_round_trips_through_libc_numbers() {
    for e in [
        Errno::NoSpc,
        Errno::RoFs,
        Errno::NoEnt,
        Errno::Io,
        Errno::NotEmpty,
    ] {
        assert_eq!(Errno::from_raw(e.raw()), e);
    }
    // Linux's ENOSPC: what the broker's io::Error must carry for the guest.
    assert_eq!(Errno::NoSpc.raw(), 28);
}
