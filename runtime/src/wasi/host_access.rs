//! The permission checks of [`super::access`] for non-root guests on host
//! mounts (`wsh run -v`, `RUN --mount`). Docker runs a container's user on bind
//! mounts with the same numeric ids, so a container user may do there only what
//! that uid could do on the host; wsh's own process may be allowed more (it is
//! often root), so the checks are made here against the host's modes and owners.
//! What such a guest creates is given its uid and gid when wsh runs as root (as
//! under Docker); otherwise it stays wsh's user's, the only owner wsh can set.

use fsimage::{Errno, Error, FileType, Result, Stat};

use super::access::{self, Credentials, EXEC, WRITE};
use crate::io::OpenOptions;
use crate::mounts::{Mount, Opened};

fn stat(m: &Mount, rel: &[u8], follow: bool) -> Result<Stat> {
    m.stat(rel, follow).map_err(Error::Errno)
}

/// The parent of `rel` below the mount's root ("" for a top-level entry).
fn parent(rel: &[u8]) -> &[u8] {
    let rel = rel.strip_suffix(b"/").unwrap_or(rel);
    match rel.iter().rposition(|b| *b == b'/') {
        Some(i) => &rel[..i],
        None => b"",
    }
}

/// Search permission on every directory from the mount's root down to `rel`'s parent.
pub fn traverse(m: &Mount, c: &Credentials, rel: &[u8]) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    c.check(&stat(m, b"", true)?, EXEC)?;
    let dir = parent(rel);
    let ends = dir
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'/')
        .map(|(i, _)| i)
        .chain((!dir.is_empty()).then_some(dir.len()));
    for end in ends.filter(|i| *i > 0) {
        c.check(&stat(m, &dir[..end], true)?, EXEC)?;
    }
    Ok(())
}

/// What open(2) checks: the path's directories, then read/write on an existing
/// file, or write and search on the parent for one it creates.
pub fn may_open(
    m: &Mount,
    c: &Credentials,
    rel: &[u8],
    follow: bool,
    opts: &OpenOptions,
) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    traverse(m, c, rel)?;
    match m.stat(rel, follow) {
        Ok(st) => access::may_open(c, &st, opts),
        Err(Errno::NoEnt) if opts.create => may_create(m, c, rel),
        // The open itself reports it.
        Err(_) => Ok(()),
    }
}

/// Opens `rel` for `c` as open(2) would: [`may_open`], the open itself (`mode`
/// for a file it creates), and a new file given to its creator ([`own_new`]).
pub fn open(
    m: &Mount,
    c: &Credentials,
    rel: &[u8],
    opts: OpenOptions,
    follow: bool,
    want_dir: bool,
    mode: u32,
) -> Result<Opened> {
    may_open(m, c, rel, follow, &opts)?;
    // Only a non-root creator needs to know whether the open made the file.
    let made = opts.create && !c.is_root() && m.stat(rel, follow).is_err();
    let opened = m
        .open(rel, opts, follow, want_dir, mode)
        .map_err(Error::Errno)?;
    if made {
        own_new(m, c, rel);
    }
    Ok(opened)
}

/// Making entry `rel`: write and search on its parent.
pub fn may_create(m: &Mount, c: &Credentials, rel: &[u8]) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    traverse(m, c, rel)?;
    c.check(&stat(m, parent(rel), true)?, WRITE | EXEC)
}

/// Removing entry `rel`: write and search on its parent, and the sticky rule (in
/// a sticky directory only the owner of the entry or of the directory may).
pub fn may_delete(m: &Mount, c: &Credentials, rel: &[u8]) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    traverse(m, c, rel)?;
    let dir = stat(m, parent(rel), true)?;
    c.check(&dir, WRITE | EXEC)?;
    if dir.mode & 0o1000 != 0
        && dir.uid != c.uid
        && let Ok(st) = m.stat(rel, false)
        && st.uid != c.uid
    {
        return Err(Error::Errno(Errno::Perm));
    }
    Ok(())
}

/// rename(2) within one mount: remove the old name, make (or replace) the new
/// one, and write permission on a directory that changes parent.
pub fn may_rename(m: &Mount, c: &Credentials, from: &[u8], to: &[u8]) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    may_delete(m, c, from)?;
    may_create(m, c, to)?;
    if m.stat(to, false).is_ok() {
        may_delete(m, c, to)?;
    }
    if parent(from) != parent(to)
        && let Ok(st) = m.stat(from, false)
        && st.kind == FileType::Directory
    {
        c.check(&st, WRITE)?;
    }
    Ok(())
}

/// link(2): Linux's protected hard links on the source, and making the new name.
pub fn may_link(m: &Mount, c: &Credentials, from: &[u8], follow: bool, to: &[u8]) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    traverse(m, c, from)?;
    access::may_link(c, &stat(m, from, follow)?)?;
    may_create(m, c, to)
}

/// chmod: only the owner.
pub fn may_chmod(m: &Mount, c: &Credentials, rel: &[u8], follow: bool) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    traverse(m, c, rel)?;
    access::may_set_attrs(c, &stat(m, rel, follow)?)
}

/// chown: chown(2)'s rule.
pub fn may_chown(
    m: &Mount,
    c: &Credentials,
    rel: &[u8],
    follow: bool,
    uid: Option<u32>,
    gid: Option<u32>,
) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    traverse(m, c, rel)?;
    access::may_chown(c, &stat(m, rel, follow)?, uid, gid)
}

/// utimensat: explicit times need the owner; "now" also works with write permission.
pub fn may_set_times(
    m: &Mount,
    c: &Credentials,
    rel: &[u8],
    follow: bool,
    explicit: bool,
) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    traverse(m, c, rel)?;
    access::may_set_times(c, &stat(m, rel, follow)?, explicit)
}

/// Whether wsh's own process may give files away (it runs as root).
fn host_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Gives new entry `rel` to its creator (the directory's group when it has the
/// set-group-id bit) when wsh can; best effort otherwise.
pub fn own_new(m: &Mount, c: &Credentials, rel: &[u8]) {
    if c.is_root() || !host_is_root() {
        return;
    }
    let Ok(dir) = m.stat(parent(rel), true) else {
        return;
    };
    let gid = if dir.mode & 0o2000 != 0 {
        dir.gid
    } else {
        c.gid
    };
    let _ = m.chown(rel, false, Some(c.uid), Some(gid));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_of_mount_paths() {
        assert_eq!(parent(b"a"), b"");
        assert_eq!(parent(b"a/b/c"), b"a/b");
        assert_eq!(parent(b"a/b/"), b"a");
    }

    #[test]
    fn a_non_root_user_is_held_to_the_host_modes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("locked")).unwrap();
        std::fs::write(dir.path().join("f"), b"x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir.path().join("f"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        std::fs::set_permissions(
            dir.path().join("locked"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        let m = Mount::new(dir.path(), "/m", false).unwrap();
        let owner = std::fs::metadata(dir.path()).map(|md| {
            use std::os::unix::fs::MetadataExt;
            md.uid()
        });
        let other = Credentials {
            uid: owner.unwrap() + 4242,
            gid: 4242,
            groups: vec![],
        };
        let write = OpenOptions {
            write: true,
            ..Default::default()
        };
        let read = OpenOptions {
            read: true,
            ..Default::default()
        };
        let acces = Some(Errno::Acces);
        let errno = |r: Result<()>| match r {
            Err(Error::Errno(e)) => Some(e),
            _ => None,
        };
        assert_eq!(errno(may_open(&m, &other, b"f", true, &write)), acces);
        assert_eq!(errno(may_open(&m, &other, b"f", true, &read)), None);
        assert_eq!(errno(may_create(&m, &other, b"new")), acces);
        assert_eq!(errno(may_delete(&m, &other, b"f")), acces);
        assert_eq!(errno(may_open(&m, &other, b"locked/x", true, &read)), acces);
        assert_eq!(errno(may_chmod(&m, &other, b"f", true)), Some(Errno::Perm));
        // Root, and so the owner's checks, pass.
        assert!(may_create(&m, &Credentials::root(), b"new").is_ok());
    }
}
