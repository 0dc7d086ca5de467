//! mkfs + every kind of mutation, judged by e2fsck and debugfs.

mod common;

use common::*;
use fsimage::{Errno, FileDevice, FileType, Vfs};

fn fresh(dir: &std::path::Path, mib: u64) -> (std::path::PathBuf, Vfs) {
    let img = dir.join("img.ext4");
    let dev = FileDevice::create(&img, mib << 20).unwrap();
    let vfs = Vfs::mkfs(Box::new(dev), "test").unwrap();
    (img, vfs)
}

#[test]
fn mkfs_is_clean() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = fresh(t.path(), 64);
    let root = vfs.stat(vfs.root()).unwrap();
    assert_eq!(root.kind, FileType::Directory);
    assert_eq!(root.mode, 0o755);
    assert_eq!((root.uid, root.gid), (0, 0));
    assert_eq!(root.nlink, 3);
    let lf = vfs.lookup(vfs.root(), b"lost+found").unwrap();
    assert_eq!(vfs.stat(lf).unwrap().kind, FileType::Directory);
    drop(vfs);
    fsck_clean(&img);
    let sb = String::from_utf8_lossy(&debugfs(&img, "stats")).into_owned();
    for f in [
        "metadata_csum",
        "extent",
        "64bit",
        "flex_bg",
        "dir_index",
        "huge_file",
        "extra_isize",
    ] {
        assert!(sb.contains(f), "feature {f} missing:\n{sb}");
    }
    assert!(sb.contains("Inode size:\t          256"), "{sb}");
}

#[test]
fn files_dirs_links_rename() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = fresh(t.path(), 64);
    let r = vfs.root();
    let d = vfs.mkdir(r, b"dir", 0o750).unwrap();
    let sub = vfs.mkdir(d, b"sub", 0o755).unwrap();
    assert_eq!(vfs.stat(d).unwrap().nlink, 3);
    assert_eq!(vfs.stat(r).unwrap().nlink, 4);
    let f = vfs.create(d, b"hello.txt", 0o640).unwrap();
    assert_eq!(vfs.write(f, 0, b"hello world\n").unwrap(), 12);
    assert_eq!(vfs.write(f, 6, b"WORLD").unwrap(), 5);
    // Write past a hole at 1 MiB.
    let big = vfs.create(r, b"big", 0o644).unwrap();
    let pattern: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    vfs.write(big, 1 << 20, &pattern).unwrap();
    let mut back = vec![0u8; pattern.len() + 10];
    assert_eq!(vfs.read(big, 1 << 20, &mut back).unwrap(), pattern.len());
    assert_eq!(&back[..pattern.len()], &pattern[..]);
    let mut hole = vec![1u8; 4096];
    assert_eq!(vfs.read(big, 4096, &mut hole).unwrap(), 4096);
    assert!(hole.iter().all(|&b| b == 0));
    // Truncate down then up.
    let tr = vfs.create(r, b"trunc", 0o600).unwrap();
    vfs.write(tr, 0, &vec![7u8; 100_000]).unwrap();
    vfs.truncate(tr, 5000).unwrap();
    assert_eq!(vfs.stat(tr).unwrap().size, 5000);
    vfs.truncate(tr, 9000).unwrap();
    // Symlinks, short (fast) and long (slow).
    vfs.symlink(r, b"short", b"dir/hello.txt").unwrap();
    let long_target = format!("/{}", "x".repeat(200));
    let ls = vfs.symlink(r, b"long", long_target.as_bytes()).unwrap();
    assert_eq!(vfs.readlink(ls).unwrap(), long_target.as_bytes());
    assert_eq!(vfs.stat(ls).unwrap().kind, FileType::Symlink);
    // Hard links.
    vfs.link(f, r, b"hard").unwrap();
    assert_eq!(vfs.stat(f).unwrap().nlink, 2);
    assert_eq!(vfs.link(d, r, b"dirlink").unwrap_err().errno(), Errno::Perm);
    // Errors.
    assert_eq!(
        vfs.create(d, b"hello.txt", 0o644).unwrap_err().errno(),
        Errno::Exist
    );
    assert_eq!(
        vfs.mkdir(r, b"dir", 0o755).unwrap_err().errno(),
        Errno::Exist
    );
    assert_eq!(vfs.lookup(r, b"nope").unwrap_err().errno(), Errno::NoEnt);
    assert_eq!(vfs.lookup(f, b"x").unwrap_err().errno(), Errno::NotDir);
    assert_eq!(
        vfs.create(r, &[b'n'; 256], 0o644).unwrap_err().errno(),
        Errno::NameTooLong
    );
    assert_eq!(vfs.unlink(r, b"dir").unwrap_err().errno(), Errno::IsDir);
    assert_eq!(vfs.rmdir(r, b"dir").unwrap_err().errno(), Errno::NotEmpty);
    assert_eq!(vfs.rmdir(r, b"big").unwrap_err().errno(), Errno::NotDir);
    assert_eq!(
        vfs.rename(r, b"dir", d, b"inside").unwrap_err().errno(),
        Errno::Inval
    );
    // Rename: file within a dir, dir across dirs, file over existing, dir over empty dir.
    vfs.rename(d, b"hello.txt", d, b"greeting").unwrap();
    let other = vfs.mkdir(r, b"other", 0o755).unwrap();
    vfs.rename(d, b"sub", other, b"moved").unwrap();
    assert_eq!(vfs.lookup(sub, b"..").unwrap(), other);
    assert_eq!(vfs.stat(d).unwrap().nlink, 2);
    assert_eq!(vfs.stat(other).unwrap().nlink, 3);
    let victim = vfs.create(r, b"victim", 0o644).unwrap();
    vfs.write(victim, 0, b"old contents").unwrap();
    vfs.rename(r, b"trunc", r, b"victim").unwrap();
    assert_eq!(vfs.lookup(r, b"victim").unwrap(), tr);
    let empty = vfs.mkdir(r, b"empty", 0o755).unwrap();
    let _ = empty;
    vfs.rename(other, b"moved", r, b"empty").unwrap();
    assert_eq!(vfs.lookup(sub, b"..").unwrap(), r);
    assert_eq!(vfs.stat(other).unwrap().nlink, 2);
    // Unlink and rmdir.
    vfs.unlink(r, b"hard").unwrap();
    assert_eq!(vfs.stat(f).unwrap().nlink, 1);
    let gone = vfs.create(r, b"gone", 0o644).unwrap();
    vfs.write(gone, 0, &vec![1u8; 50_000]).unwrap();
    vfs.unlink(r, b"gone").unwrap();
    vfs.rmdir(r, b"other").unwrap();
    let names: Vec<Vec<u8>> = vfs
        .readdir(r)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(names.contains(&b".".to_vec()) && names.contains(&b"..".to_vec()));
    assert!(names.contains(&b"empty".to_vec()) && !names.contains(&b"other".to_vec()));
    vfs.sync().unwrap();
    drop(vfs);
    fsck_clean(&img);

    assert_eq!(debugfs(&img, "cat /dir/greeting"), b"hello WORLD\n");
    assert_eq!(debugfs(&img, "cat /victim").len(), 9000);
    let st = dstat(&img, "/dir/greeting");
    assert!(st.contains("Mode:  0640"), "{st}");
    assert!(st.contains("Size: 12"), "{st}");
    let st = dstat(&img, "/dir");
    assert!(st.contains("Mode:  0750"), "{st}");
    let st = dstat(&img, "/long");
    assert!(
        st.contains("Type: symlink") && st.contains("Size: 201"),
        "{st}"
    );
    assert_eq!(debugfs(&img, "cat /long"), long_target.as_bytes());
    let st = dstat(&img, "/short");
    assert!(st.contains("Fast link dest: \"dir/hello.txt\""), "{st}");
    let ls = String::from_utf8_lossy(&debugfs(&img, "ls -l /")).into_owned();
    assert!(
        ls.contains("empty") && ls.contains("big") && !ls.contains("gone"),
        "{ls}"
    );
    let big_cat = debugfs(&img, "cat /big");
    assert_eq!(big_cat.len(), (1 << 20) + pattern.len());
    assert_eq!(&big_cat[1 << 20..], &pattern[..]);
}

#[test]
fn many_entries_expand_directories() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = fresh(t.path(), 64);
    let d = vfs.mkdir(vfs.root(), b"many", 0o755).unwrap();
    for i in 0..400 {
        let name = format!("entry-with-a-longish-name-{i:04}");
        match i % 3 {
            0 => drop(vfs.create(d, name.as_bytes(), 0o644).unwrap()),
            1 => drop(vfs.mkdir(d, name.as_bytes(), 0o755).unwrap()),
            _ => drop(vfs.symlink(d, name.as_bytes(), b"target").unwrap()),
        }
    }
    assert_eq!(vfs.readdir(d).unwrap().len(), 402);
    assert_eq!(vfs.stat(d).unwrap().nlink, 2 + 133);
    drop(vfs);
    fsck_clean(&img);
}

/// Appends in chunks that do not line up with blocks (as `head` writes a pipe's data):
/// each write's partial last block is read back by the next one from the pending
/// write-back run. Reads in between, two files written in turn, and what debugfs and
/// e2fsck find on disk must all agree with the bytes written.
#[test]
fn unaligned_appends_read_back_what_was_written() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = fresh(t.path(), 64);
    let a = vfs.create(vfs.root(), b"a", 0o644).unwrap();
    let b = vfs.create(vfs.root(), b"b", 0o644).unwrap();
    let (mut want_a, mut want_b) = (Vec::new(), Vec::new());
    for i in 0..3000u32 {
        let chunk: Vec<u8> = format!("{i:06} {}\n", "x".repeat((i % 700) as usize)).into_bytes();
        let (ino, want) = if i % 3 == 0 {
            (b, &mut want_b)
        } else {
            (a, &mut want_a)
        };
        assert_eq!(
            vfs.write(ino, want.len() as u64, &chunk).unwrap(),
            chunk.len()
        );
        want.extend_from_slice(&chunk);
        if i % 97 == 0 {
            // The tail, partly in a block still pending.
            let from = want.len().saturating_sub(5000);
            let mut buf = vec![0; want.len() - from];
            assert_eq!(vfs.read(ino, from as u64, &mut buf).unwrap(), buf.len());
            assert_eq!(buf, want[from..], "file {ino:?} after write {i}");
        }
    }
    for (ino, want) in [(a, &want_a), (b, &want_b)] {
        let mut buf = vec![0; want.len()];
        assert_eq!(vfs.read(ino, 0, &mut buf).unwrap(), want.len());
        assert!(buf == *want, "file {ino:?} differs");
    }
    drop(vfs);
    fsck_clean(&img);
    assert!(
        debugfs(&img, "cat /a") == want_a,
        "debugfs reads another /a"
    );
    assert!(
        debugfs(&img, "cat /b") == want_b,
        "debugfs reads another /b"
    );
}

/// Large appends map their blocks by growing the file's last extent (one extent
/// update a write, not one a block). The blocks are not zeroed first, so here they are
/// blocks a deleted file filled with 0xff: what the appends wrote, the zeros past the
/// end of the file in its last block, and the zeros a later extension shows must all
/// read back, through the Vfs and through debugfs, with the file in a few extents.
#[test]
fn appends_over_freed_blocks_read_back_zeros_past_the_end() {
    let t = tempfile::tempdir().unwrap();
    let (img, vfs) = fresh(t.path(), 64);
    let stale = vfs.create(vfs.root(), b"stale", 0o644).unwrap();
    vfs.write(stale, 0, &vec![0xff; 4 << 20]).unwrap();
    vfs.unlink(vfs.root(), b"stale").unwrap();
    vfs.close_ref(stale);
    let a = vfs.create(vfs.root(), b"a", 0o644).unwrap();
    vfs.write(a, 0, b"start\n").unwrap();
    let mut want = b"start\n".to_vec();
    for i in 0..40u32 {
        let chunk: Vec<u8> = (0..70_001u32).map(|j| (i + j) as u8 | 1).collect();
        assert_eq!(
            vfs.write(a, want.len() as u64, &chunk).unwrap(),
            chunk.len()
        );
        want.extend_from_slice(&chunk);
    }
    // Past the end: zeros, never the deleted file's bytes.
    let grown = want.len() + 10_000;
    vfs.truncate(a, grown as u64).unwrap();
    want.resize(grown, 0);
    let mut buf = vec![0; grown];
    assert_eq!(vfs.read(a, 0, &mut buf).unwrap(), grown);
    assert!(buf == want, "the Vfs reads other bytes");
    drop(vfs);
    fsck_clean(&img);
    assert!(debugfs(&img, "cat /a") == want, "debugfs reads other bytes");
    let st = dstat(&img, "/a");
    let extents = st.split("EXTENTS:").nth(1).unwrap_or("");
    assert!(
        // Not one per write (40); the metadata in the way splits it in a few.
        extents.matches('(').count() <= 4,
        "the appends should continue one extent:\n{st}"
    );
}
