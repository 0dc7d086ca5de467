//! Path resolution rules.

use fsimage::{Errno, FileDevice, Vfs};

fn vfs() -> (tempfile::TempDir, Vfs) {
    let t = tempfile::tempdir().unwrap();
    let dev = FileDevice::create(&t.path().join("r.ext4"), 16 << 20).unwrap();
    let v = Vfs::mkfs(Box::new(dev), "r").unwrap();
    (t, v)
}

#[test]
fn dots_symlinks_and_loops() {
    let (_t, v) = vfs();
    let r = v.root();
    let a = v.mkdir(r, b"a", 0o755).unwrap();
    let b = v.mkdir(a, b"b", 0o755).unwrap();
    let f = v.create(b, b"file", 0o644).unwrap();
    assert_eq!(v.resolve(r, b"/", true).unwrap(), r);
    assert_eq!(v.resolve(r, b"/..", true).unwrap(), r);
    assert_eq!(v.resolve(b, b"../../../..", true).unwrap(), r);
    assert_eq!(v.resolve(r, b"a/./b/../b/file", true).unwrap(), f);
    assert_eq!(v.resolve(b, b"file", true).unwrap(), f);
    assert_eq!(v.resolve(r, b"a/b/", true).unwrap(), b);
    assert_eq!(v.resolve(r, b"a//b///", true).unwrap(), b);
    assert_eq!(
        v.resolve(r, b"a/b/file/", true).unwrap_err().errno(),
        Errno::NotDir
    );
    assert_eq!(
        v.resolve(r, b"a/b/file/x", true).unwrap_err().errno(),
        Errno::NotDir
    );
    assert_eq!(v.resolve(r, b"", true).unwrap_err().errno(), Errno::NoEnt);
    assert_eq!(
        v.resolve(r, b"a/nope", true).unwrap_err().errno(),
        Errno::NoEnt
    );
    // Absolute symlink resolves inside the image, from a nested dir.
    let abs = v.symlink(b, b"abs", b"/a/b/file").unwrap();
    assert_eq!(v.resolve(r, b"/a/b/abs", true).unwrap(), f);
    assert_eq!(v.resolve(r, b"/a/b/abs", false).unwrap(), abs);
    let up = v.symlink(b, b"up", b"../../../../../a").unwrap();
    let _ = up;
    assert_eq!(v.resolve(r, b"/a/b/up/b/file", true).unwrap(), f);
    // A symlink to a directory with a trailing slash is followed even without follow.
    v.symlink(r, b"dirlink", b"a/b").unwrap();
    assert_eq!(v.resolve(r, b"dirlink/", false).unwrap(), b);
    // Loops.
    v.symlink(r, b"loop1", b"loop2").unwrap();
    v.symlink(r, b"loop2", b"/loop1").unwrap();
    assert_eq!(
        v.resolve(r, b"loop1", true).unwrap_err().errno(),
        Errno::Loop
    );
    v.symlink(r, b"self", b"self/x").unwrap();
    assert_eq!(
        v.resolve(r, b"self", true).unwrap_err().errno(),
        Errno::Loop
    );
    // Dangling.
    v.symlink(r, b"dangling", b"/no/such").unwrap();
    assert_eq!(
        v.resolve(r, b"dangling", true).unwrap_err().errno(),
        Errno::NoEnt
    );
    assert!(v.resolve(r, b"dangling", false).is_ok());
    // Long component.
    let long = vec![b'x'; 300];
    assert_eq!(
        v.resolve(r, &long, true).unwrap_err().errno(),
        Errno::NameTooLong
    );
}

#[test]
fn parents() {
    let (_t, v) = vfs();
    let r = v.root();
    let a = v.mkdir(r, b"a", 0o755).unwrap();
    assert_eq!(v.resolve_parent(r, b"/").unwrap(), (r, b".".to_vec()));
    assert_eq!(v.resolve_parent(r, b"///").unwrap(), (r, b".".to_vec()));
    assert_eq!(
        v.resolve_parent(r, b"/a/new/").unwrap(),
        (a, b"new".to_vec())
    );
    assert_eq!(v.resolve_parent(a, b"x").unwrap(), (a, b"x".to_vec()));
    assert_eq!(v.resolve_parent(r, b"/x").unwrap(), (r, b"x".to_vec()));
    assert_eq!(
        v.resolve_parent(r, b"nope/x").unwrap_err().errno(),
        Errno::NoEnt
    );
    assert_eq!(v.resolve_parent(r, b"").unwrap_err().errno(), Errno::NoEnt);
}

#[test]
fn times_modes_owners() {
    use fsimage::{SetTime, Timestamp};
    let (_t, v) = vfs();
    let r = v.root();
    let f = v.create(r, b"f", 0o644).unwrap();
    let st = v.stat(f).unwrap();
    assert!(st.mtime.sec > 1_600_000_000);
    let t = Timestamp {
        sec: 1_000_000_000,
        nsec: 123_456_789,
    };
    v.set_times(f, Some(SetTime::At(t)), None).unwrap();
    let s2 = v.stat(f).unwrap();
    assert_eq!(s2.atime, t);
    assert_eq!(s2.mtime, st.mtime);
    let far = Timestamp {
        sec: 5_000_000_000,
        nsec: 1,
    };
    v.set_times(f, None, Some(SetTime::At(far))).unwrap();
    assert_eq!(v.stat(f).unwrap().mtime, far);
    v.set_mode(f, 0o4711).unwrap();
    v.set_owner(f, Some(70000), None).unwrap();
    let s3 = v.stat(f).unwrap();
    assert_eq!((s3.mode, s3.uid, s3.gid), (0o4711, 70000, 0));
    v.write(f, 0, b"x").unwrap();
    assert!(v.stat(f).unwrap().mtime.sec > 1_600_000_000);
}

/// Lookups remember entries, misses too; after every kind of change the answer
/// must still be what the directory holds on disk (its `readdir`, which never
/// goes through that memory).
#[test]
fn lookups_follow_every_change_of_a_directory() {
    let (_t, v) = vfs();
    let r = v.root();
    let names: [&[u8]; 5] = [b"f", b"g", b"d", b"e", b".."];
    let agree = |v: &Vfs, step: &str| {
        let mut dirs = vec![r];
        while let Some(dir) = dirs.pop() {
            let listed = v.readdir(dir).unwrap();
            for name in names {
                let on_disk = listed.iter().find(|e| e.name == name).map(|e| e.ino);
                let looked_up = match v.lookup(dir, name) {
                    Ok(i) => Some(i),
                    Err(e) => {
                        assert_eq!(e.errno(), Errno::NoEnt, "{step}");
                        None
                    }
                };
                assert_eq!(
                    looked_up,
                    on_disk,
                    "{step}: {}",
                    String::from_utf8_lossy(name)
                );
            }
            for e in listed {
                if e.kind == fsimage::FileType::Directory && e.name != b"." && e.name != b".." {
                    dirs.push(e.ino);
                }
            }
        }
    };
    agree(&v, "empty"); // every name is now remembered as missing
    let f = v.create(r, b"f", 0o644).unwrap();
    agree(&v, "create");
    v.link(f, r, b"g").unwrap();
    agree(&v, "link");
    v.unlink(r, b"f").unwrap();
    agree(&v, "unlink");
    v.rename(r, b"g", r, b"f").unwrap();
    agree(&v, "rename a file");
    let d = v.mkdir(r, b"d", 0o755).unwrap();
    v.symlink(d, b"f", b"/f").unwrap();
    agree(&v, "mkdir, symlink");
    let e = v.mkdir(r, b"e", 0o755).unwrap();
    v.rename(r, b"d", e, b"d").unwrap();
    agree(&v, "move a directory (its .. changes)");
    v.unlink(v.lookup(e, b"d").unwrap(), b"f").unwrap();
    v.rmdir(e, b"d").unwrap();
    agree(&v, "rmdir");
    // A new directory may reuse the removed one's inode number.
    let d2 = v.mkdir(r, b"d", 0o755).unwrap();
    v.create(d2, b"g", 0o644).unwrap();
    agree(&v, "mkdir again");
    v.create(e, b"g", 0o644).unwrap();
    v.rename(e, b"g", r, b"f").unwrap();
    agree(&v, "rename over a file");
    v.rename(r, b"e", r, b"d").unwrap_err();
    v.unlink(d2, b"g").unwrap();
    v.rename(r, b"e", r, b"d").unwrap();
    agree(&v, "rename a directory over an empty one");
}
