//! Who a container's programs run as (Docker's `USER`), and the permission checks
//! (DAC) Linux makes for a user who is not root: search (`x`) on every directory a
//! path walks, `r`/`w` on the file an open reads or writes, `w+x` on the directory
//! an entry is created in or removed from (plus the sticky-bit rule of /tmp), owner
//! only for chmod and times, root only for giving a file away.
//!
//! Root (uid 0) passes every check (CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN) except
//! that a program it runs needs at least one execute bit. Callers test
//! [`Credentials::is_root`] first, so a root guest pays for none of this.
//! Files of host mounts are not checked here: the host kernel does that.

use fsimage::{Errno, Error, FileType, Ino, Result, Stat, Vfs};

use crate::io::OpenOptions;

/// Read permission (the `r` of a permission triple).
pub const READ: u32 = 4;
/// Write permission.
pub const WRITE: u32 = 2;
/// Execute permission on files, search permission on directories.
pub const EXEC: u32 = 1;

/// Symlinks followed in one walk before giving up (as Linux and fsimage).
const MAX_SYMLINKS: u32 = 40;
/// Longest path accepted (PATH_MAX), as fsimage's own walk.
const PATH_MAX: usize = 4096;

/// The user and groups a container's programs run as.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    /// User id (0 is root).
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary group ids (the primary one may be repeated here).
    pub groups: Vec<u32>,
}

fn denied() -> Error {
    Error::Errno(Errno::Acces)
}

fn not_permitted() -> Error {
    Error::Errno(Errno::Perm)
}

impl Credentials {
    /// Root: uid 0, gid 0, no supplementary groups.
    pub fn root() -> Credentials {
        Credentials::default()
    }

    /// Whether these are root's, which bypass the permission checks.
    pub fn is_root(&self) -> bool {
        self.uid == 0
    }

    /// Whether `gid` is the primary group or a supplementary one.
    pub fn in_group(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }

    /// Whether permission bits `mode` of a file owned by `uid:gid` grant all of
    /// `want` (READ | WRITE | EXEC). Only one class counts, as in Linux: the
    /// owner's bits for the owner, the group's for a member, the others' else.
    pub fn permits(&self, mode: u32, uid: u32, gid: u32, is_dir: bool, want: u32) -> bool {
        if self.is_root() {
            // Root may read and write anything and search any directory, but
            // runs only files that have an execute bit for someone.
            return want & EXEC == 0 || is_dir || mode & 0o111 != 0;
        }
        let bits = if uid == self.uid {
            mode >> 6
        } else if self.in_group(gid) {
            mode >> 3
        } else {
            mode
        } & 7;
        bits & want == want
    }

    /// EACCES unless the file `st` grants `want`.
    pub fn check(&self, st: &Stat, want: u32) -> Result<()> {
        let dir = st.kind == FileType::Directory;
        if self.permits(st.mode, st.uid, st.gid, dir, want) {
            Ok(())
        } else {
            Err(denied())
        }
    }

    /// Whether these credentials own `st` (root counts as every owner).
    pub fn owns(&self, st: &Stat) -> bool {
        self.is_root() || st.uid == self.uid
    }
}

/// Resolves `path` from directory `base` as [`Vfs::resolve`] does, checking search
/// permission on every directory the walk passes through (symlink targets included).
pub fn resolve(vfs: &Vfs, c: &Credentials, base: Ino, path: &[u8], follow: bool) -> Result<Ino> {
    if c.is_root() {
        return vfs.resolve(base, path, follow);
    }
    let mut links = 0;
    walk(vfs, c, base, path, follow, &mut links)
}

/// The walk of fsimage's `path.rs`, with a search check before each lookup.
fn walk(
    vfs: &Vfs,
    c: &Credentials,
    base: Ino,
    path: &[u8],
    follow: bool,
    links: &mut u32,
) -> Result<Ino> {
    if path.is_empty() {
        return Err(Errno::NoEnt.into());
    }
    if path.len() > PATH_MAX {
        return Err(Errno::NameTooLong.into());
    }
    let trailing_slash = path.ends_with(b"/");
    let mut cur = if path[0] == b'/' { vfs.root() } else { base };
    let comps: Vec<&[u8]> = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .collect();
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let st = vfs.stat(cur)?;
        if st.kind != FileType::Directory {
            return Err(Errno::NotDir.into());
        }
        c.check(&st, EXEC)?;
        let next = match *comp {
            b"." => cur,
            b".." if cur == vfs.root() => cur,
            name => vfs.lookup(cur, name)?,
        };
        if (!last || follow || trailing_slash) && vfs.stat(next)?.kind == FileType::Symlink {
            *links += 1;
            if *links > MAX_SYMLINKS {
                return Err(Errno::Loop.into());
            }
            let target = vfs.readlink(next)?;
            cur = walk(vfs, c, cur, &target, true, links)?;
        } else {
            cur = next;
        }
    }
    if trailing_slash && vfs.stat(cur)?.kind != FileType::Directory {
        return Err(Errno::NotDir.into());
    }
    Ok(cur)
}

/// Resolves all but the last component as [`Vfs::resolve_parent`] does, checking
/// search permission on the way and on the parent itself (its entry is looked up).
pub fn resolve_parent(
    vfs: &Vfs,
    c: &Credentials,
    base: Ino,
    path: &[u8],
) -> Result<(Ino, Vec<u8>)> {
    if c.is_root() {
        return vfs.resolve_parent(base, path);
    }
    // The dir part is walked with the checks first, so a directory the user may
    // not search hides what lies below it (EACCES, not ENOENT, as Linux); then
    // fsimage finds the parent and the name as usual.
    let mut end = path.len();
    while end > 0 && path[end - 1] == b'/' {
        end -= 1;
    }
    if let Some(pos) = path[..end].iter().rposition(|&b| b == b'/') {
        let dir_part = &path[..pos];
        if !dir_part.iter().all(|&b| b == b'/') {
            resolve(vfs, c, base, dir_part, true)?;
        }
    }
    let found = vfs.resolve_parent(base, path)?;
    c.check(&vfs.stat(found.0)?, EXEC)?;
    Ok(found)
}

/// EACCES unless an entry may be made in directory `dir` (write and search on it).
pub fn may_create(vfs: &Vfs, c: &Credentials, dir: Ino) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    c.check(&vfs.stat(dir)?, WRITE | EXEC)
}

/// Whether entry `name` of `dir` may be removed or renamed away: write and search
/// on `dir`, and in a sticky directory (/tmp) only the owner of the entry or of
/// the directory may (EPERM otherwise, as Linux). A missing entry passes, so the
/// operation itself reports ENOENT.
pub fn may_delete(vfs: &Vfs, c: &Credentials, dir: Ino, name: &[u8]) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    let dst = vfs.stat(dir)?;
    c.check(&dst, WRITE | EXEC)?;
    if dst.mode & 0o1000 != 0
        && dst.uid != c.uid
        && let Ok(ino) = vfs.lookup(dir, name)
        && vfs.stat(ino)?.uid != c.uid
    {
        return Err(not_permitted());
    }
    Ok(())
}

/// The checks of rename(2) beyond the two parents' search: removing the old
/// entry, making the new one (and replacing what it names), and write permission
/// on a directory that moves to another parent (its `..` changes).
pub fn may_rename(
    vfs: &Vfs,
    c: &Credentials,
    (from_dir, from): (Ino, &[u8]),
    (to_dir, to): (Ino, &[u8]),
) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    may_delete(vfs, c, from_dir, from)?;
    may_create(vfs, c, to_dir)?;
    may_delete(vfs, c, to_dir, to)?;
    if from_dir != to_dir
        && let Ok(ino) = vfs.lookup(from_dir, from)
    {
        let st = vfs.stat(ino)?;
        if st.kind == FileType::Directory {
            c.check(&st, WRITE)?;
        }
    }
    Ok(())
}

/// Linux's `fs.protected_hardlinks` (on by default): someone who does not own a
/// regular file may link to it only if they may read and write it.
pub fn may_link(c: &Credentials, st: &Stat) -> Result<()> {
    if c.owns(st) || (st.kind == FileType::Regular && c.check(st, READ | WRITE).is_ok()) {
        Ok(())
    } else {
        Err(not_permitted())
    }
}

/// The permission an open with `opts` needs on an existing file `st`: read for
/// reading (directories too: listing them), write for writing or truncating.
pub fn may_open(c: &Credentials, st: &Stat, opts: &OpenOptions) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    let mut want = 0;
    if opts.read {
        want |= READ;
    }
    if opts.write || opts.append || opts.truncate {
        want |= WRITE;
    }
    c.check(st, want)
}

/// EPERM unless these credentials may change the mode or owner-only attributes
/// of `st` (they own it).
pub fn may_set_attrs(c: &Credentials, st: &Stat) -> Result<()> {
    if c.owns(st) {
        Ok(())
    } else {
        Err(not_permitted())
    }
}

/// The mode chmod really sets: a non-root caller outside the file's group
/// loses the set-group-id bit, as Linux does.
pub fn chmod_mode(c: &Credentials, st: &Stat, mode: u32) -> u32 {
    if c.is_root() || c.in_group(st.gid) {
        mode
    } else {
        mode & !0o2000
    }
}

/// chown(2)'s rule: only root gives a file away; an owner may change its group
/// to one of their own groups (EPERM otherwise).
pub fn may_chown(c: &Credentials, st: &Stat, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    // chown(f, -1, -1) changes nothing and is allowed to anyone; otherwise only
    // the owner may, even to the values already set (as Linux's chown_ok).
    if uid.is_none() && gid.is_none() {
        return Ok(());
    }
    let uid_ok = uid.is_none_or(|u| u == st.uid);
    let gid_ok = gid.is_none_or(|g| g == st.gid || c.in_group(g));
    if uid_ok && gid_ok && st.uid == c.uid {
        return Ok(());
    }
    Err(not_permitted())
}

/// utimensat(2)'s rule: explicit times need the owner; setting them to now
/// also works with write permission.
pub fn may_set_times(c: &Credentials, st: &Stat, explicit: bool) -> Result<()> {
    if c.owns(st) {
        return Ok(());
    }
    if explicit {
        return Err(not_permitted());
    }
    c.check(st, WRITE)
}

/// [`may_set_times`] for inode `ino`, given preview1's `fstflags` (explicit when
/// a time other than now is set). Root passes without a look at the inode.
pub fn may_set_times_of(vfs: &Vfs, c: &Credentials, ino: Ino, fst: u16) -> Result<()> {
    use super::abi::fstflags::{ATIM, MTIM};
    if c.is_root() {
        return Ok(());
    }
    may_set_times(c, &vfs.stat(ino)?, fst & (ATIM | MTIM) != 0)
}

/// Gives a new inode `ino`, just made in `dir`, to its creator: the caller's uid
/// and gid, or the directory's group when it has the set-group-id bit (a new
/// directory then inherits that bit too). Root's files are made as root already.
pub fn own_new(vfs: &Vfs, c: &Credentials, dir: Ino, ino: Ino) -> Result<()> {
    if c.is_root() {
        return Ok(());
    }
    let parent = vfs.stat(dir)?;
    let setgid = parent.mode & 0o2000 != 0;
    let gid = if setgid { parent.gid } else { c.gid };
    vfs.set_owner(ino, Some(c.uid), Some(gid))?;
    if setgid {
        let st = vfs.stat(ino)?;
        if st.kind == FileType::Directory {
            vfs.set_mode(ino, st.mode | 0o2000)?;
        }
    }
    Ok(())
}

/// Opens (and with `opts.create`, makes with permission bits `mode`) the file at
/// `path` from `base` as open(2) does for `c`, following a final symlink: the
/// checks, the new file's owner, truncation. Returns the inode (a directory only
/// when opened without write). Used by the interpreter's redirections.
pub fn open_file(
    vfs: &Vfs,
    c: &Credentials,
    base: Ino,
    path: &[u8],
    opts: &OpenOptions,
    mode: u32,
) -> Result<Ino> {
    let ino = match resolve(vfs, c, base, path, true) {
        Ok(_) if opts.create && opts.exclusive => return Err(Errno::Exist.into()),
        Ok(ino) => {
            let st = vfs.stat(ino)?;
            if st.kind == FileType::Directory && (opts.write || opts.append) {
                return Err(Errno::IsDir.into());
            }
            may_open(c, &st, opts)?;
            if opts.truncate && (opts.write || opts.append) && st.size != 0 {
                vfs.truncate(ino, 0)?;
            }
            ino
        }
        Err(e) if opts.create && e.errno() == Errno::NoEnt => {
            let (dir, name) = resolve_parent(vfs, c, base, path)?;
            may_create(vfs, c, dir)?;
            let ino = vfs.create(dir, &name, mode)?;
            own_new(vfs, c, dir, ino)?;
            ino
        }
        Err(e) => return Err(e),
    };
    Ok(ino)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Credentials {
        Credentials {
            uid: 1000,
            gid: 1000,
            groups: vec![50],
        }
    }

    #[test]
    fn only_one_class_of_bits_counts() {
        let u = user();
        // The owner is refused by owner bits even when others may.
        assert!(!u.permits(0o077, 1000, 0, false, READ));
        assert!(u.permits(0o640, 0, 50, false, READ));
        assert!(!u.permits(0o640, 0, 50, false, WRITE));
        assert!(u.permits(0o604, 0, 0, false, READ));
        assert!(!u.permits(0o600, 0, 0, false, READ));
        assert!(u.permits(0o755, 0, 0, true, READ | EXEC));
    }

    #[test]
    fn root_reads_everything_but_runs_only_executables() {
        let r = Credentials::root();
        assert!(r.permits(0, 1000, 1000, false, READ | WRITE));
        assert!(!r.permits(0o644, 0, 0, false, EXEC));
        assert!(r.permits(0o001, 1000, 1000, false, EXEC));
        assert!(r.permits(0, 1000, 1000, true, EXEC));
    }

    fn stat(uid: u32, gid: u32) -> Stat {
        let t = fsimage::Timestamp { sec: 0, nsec: 0 };
        Stat {
            ino: 12,
            kind: FileType::Regular,
            mode: 0o644,
            uid,
            gid,
            nlink: 1,
            size: 0,
            blocks: 0,
            atime: t,
            mtime: t,
            ctime: t,
        }
    }

    #[test]
    fn chown_by_a_user_only_changes_the_group_to_one_of_theirs() {
        let u = user();
        let mine = stat(1000, 1000);
        assert!(may_chown(&u, &mine, None, Some(50)).is_ok());
        assert!(may_chown(&u, &mine, Some(1000), Some(1000)).is_ok());
        assert!(may_chown(&u, &mine, Some(0), None).is_err());
        assert!(may_chown(&u, &mine, None, Some(0)).is_err());
        let roots = stat(0, 0);
        assert!(may_chown(&u, &roots, Some(0), Some(0)).is_err());
        assert!(may_chown(&u, &roots, None, None).is_ok());
        assert!(may_chown(&u, &roots, None, Some(50)).is_err());
        assert!(may_chown(&Credentials::root(), &mine, Some(0), Some(0)).is_ok());
    }

    #[test]
    fn times_to_now_need_write_explicit_times_need_the_owner() {
        let u = user();
        let mut other = stat(0, 0);
        other.mode = 0o666;
        assert!(may_set_times(&u, &other, false).is_ok());
        assert!(may_set_times(&u, &other, true).is_err());
        other.mode = 0o644;
        assert!(may_set_times(&u, &other, false).is_err());
        assert!(may_set_times(&u, &stat(1000, 0), true).is_ok());
    }

    /// An image with root's 0700 /root, a sticky 1777 /tmp holding root's file,
    /// and /home/app owned by 1000.
    fn image() -> (tempfile::TempDir, Vfs) {
        let dir = tempfile::tempdir().unwrap();
        let dev = fsimage::FileDevice::create(&dir.path().join("img"), 16 << 20).unwrap();
        let vfs = Vfs::mkfs(Box::new(dev), "t").unwrap();
        let root = vfs.root();
        let r = vfs.mkdir(root, b"root", 0o700).unwrap();
        vfs.create(r, b"secret", 0o644).unwrap();
        let tmp = vfs.mkdir(root, b"tmp", 0o1777).unwrap();
        vfs.create(tmp, b"roots", 0o666).unwrap();
        let home = vfs.mkdir(root, b"home", 0o755).unwrap();
        let app = vfs.mkdir(home, b"app", 0o755).unwrap();
        vfs.set_owner(app, Some(1000), Some(1000)).unwrap();
        vfs.symlink(root, b"lnk", b"/root/secret").unwrap();
        (dir, vfs)
    }

    fn errno<T: std::fmt::Debug>(r: Result<T>) -> Errno {
        r.unwrap_err().errno()
    }

    #[test]
    fn walks_need_search_on_every_directory_symlink_targets_included() {
        let (_d, vfs) = image();
        let (u, root) = (user(), vfs.root());
        assert_eq!(
            errno(resolve(&vfs, &u, root, b"/root/secret", true)),
            Errno::Acces
        );
        assert_eq!(errno(resolve(&vfs, &u, root, b"/lnk", true)), Errno::Acces);
        // The link itself is reachable; only following it crosses /root.
        assert!(resolve(&vfs, &u, root, b"/lnk", false).is_ok());
        assert!(resolve(&vfs, &Credentials::root(), root, b"/lnk", true).is_ok());
        assert_eq!(
            errno(resolve_parent(&vfs, &u, root, b"/root/x")),
            Errno::Acces
        );
        // What lies below an unsearchable directory stays hidden: EACCES, not ENOENT.
        assert_eq!(
            errno(resolve_parent(&vfs, &u, root, b"/root/no/x")),
            Errno::Acces
        );
        assert_eq!(
            errno(resolve(&vfs, &u, root, b"/root/no/x", true)),
            Errno::Acces
        );
        assert_eq!(
            errno(resolve(&vfs, &u, root, b"/nope/x", true)),
            Errno::NoEnt
        );
        assert!(resolve_parent(&vfs, &u, root, b"/home/app/new").is_ok());
    }

    #[test]
    fn new_files_belong_to_their_creator_and_need_a_writable_parent() {
        let (_d, vfs) = image();
        let (u, root) = (user(), vfs.root());
        let create = OpenOptions {
            write: true,
            create: true,
            ..Default::default()
        };
        let ino = open_file(&vfs, &u, root, b"/home/app/f", &create, 0o644).unwrap();
        let st = vfs.stat(ino).unwrap();
        assert_eq!((st.uid, st.gid, st.mode), (1000, 1000, 0o644));
        assert_eq!(
            errno(open_file(&vfs, &u, root, b"/home/g", &create, 0o644)),
            Errno::Acces
        );
        // An existing file of root's: readable, not writable.
        let read = OpenOptions {
            read: true,
            ..Default::default()
        };
        assert_eq!(
            errno(open_file(&vfs, &u, root, b"/root/secret", &read, 0)),
            Errno::Acces
        );
        let tmp = resolve(&vfs, &u, root, b"/tmp", true).unwrap();
        let roots = vfs.lookup(tmp, b"roots").unwrap();
        vfs.set_mode(roots, 0o644).unwrap();
        assert!(open_file(&vfs, &u, root, b"/tmp/roots", &read, 0).is_ok());
        assert_eq!(
            errno(open_file(&vfs, &u, root, b"/tmp/roots", &create, 0)),
            Errno::Acces
        );
    }

    #[test]
    fn sticky_directories_protect_other_users_entries() {
        let (_d, vfs) = image();
        let u = user();
        let tmp = vfs.lookup(vfs.root(), b"tmp").unwrap();
        assert_eq!(errno(may_delete(&vfs, &u, tmp, b"roots")), Errno::Perm);
        let mine = vfs.create(tmp, b"mine", 0o600).unwrap();
        own_new(&vfs, &u, tmp, mine).unwrap();
        assert!(may_delete(&vfs, &u, tmp, b"mine").is_ok());
        assert!(may_delete(&vfs, &Credentials::root(), tmp, b"roots").is_ok());
        let home = vfs.lookup(vfs.root(), b"home").unwrap();
        assert_eq!(errno(may_delete(&vfs, &u, home, b"app")), Errno::Acces);
    }

    #[test]
    fn setgid_directories_hand_down_their_group() {
        let (_d, vfs) = image();
        let u = user();
        let shared = vfs.mkdir(vfs.root(), b"shared", 0o2777).unwrap();
        vfs.set_owner(shared, Some(0), Some(50)).unwrap();
        let sub = vfs.mkdir(shared, b"sub", 0o755).unwrap();
        own_new(&vfs, &u, shared, sub).unwrap();
        let st = vfs.stat(sub).unwrap();
        assert_eq!((st.uid, st.gid, st.mode), (1000, 50, 0o2755));
    }

    #[test]
    fn setgid_is_dropped_by_a_chmod_outside_the_group() {
        let u = user();
        assert_eq!(chmod_mode(&u, &stat(1000, 7), 0o2755), 0o755);
        assert_eq!(chmod_mode(&u, &stat(1000, 50), 0o2755), 0o2755);
    }
}
