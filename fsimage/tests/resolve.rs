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
