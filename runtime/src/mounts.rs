//! Host directories mapped into the guest's tree (`wsh run -v HOST:GUEST[:ro]`).
//!
//! A mount is the one way a guest reaches the host, so the kernel does every
//! lookup below it: each path is opened with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_MAGICLINKS)` from a descriptor of the mount's root, which refuses
//! `..` above the root, absolute symlinks and `/proc` magic links. Calls on a
//! last component use `*at()` on its parent's descriptor with a one-component
//! name, or (when they must follow a symlink) the `/proc/self/fd` link of a
//! descriptor that was itself opened beneath the root. Guest paths are mapped
//! onto mounts lexically (`/data/../etc` is the image's `/etc`), as bash's `cd` does.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fsimage::{DirEntry, Errno, FileType, Ino, SetTime, Stat, Timestamp};
use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags, Timespec, Timestamps};

use crate::io::OpenOptions;

/// One host directory seen by guests at `guest`.
pub struct Mount {
    guest: Vec<u8>,
    host: PathBuf,
    root: OwnedFd,
    readonly: bool,
}

/// What opening a path below a mount gave.
pub enum Opened {
    /// A directory (guests keep its path, not a descriptor).
    Dir,
    /// A regular file.
    File(Arc<HostFile>),
}

/// An open regular file of a host directory.
pub struct HostFile {
    file: File,
    /// Whether reads / writes were asked for at open.
    pub readable: bool,
    pub writable: bool,
    /// The synchronous-write fdflags it was opened with, reported by fd_fdstat_get.
    pub sync: u16,
}

/// The mounts of one container; guests and the interpreter share them.
#[derive(Default, Clone)]
pub struct Mounts {
    list: Vec<Arc<Mount>>,
}

fn errno(e: io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

fn rx(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error())
}

/// `path` as an absolute path without `.`, `..` or repeated slashes; relative
/// paths are taken from `base` (itself absolute).
pub fn normalize(base: &[u8], path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    let whole: Vec<&[u8]> = if path.starts_with(b"/") {
        vec![path]
    } else {
        vec![base, path]
    };
    for chunk in whole {
        for c in chunk.split(|b| *b == b'/') {
            match c {
                b"" | b"." => {}
                b".." => {
                    parts.pop();
                }
                c => parts.push(c),
            }
        }
    }
    let mut out = Vec::new();
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

impl Mounts {
    /// No mounts: every path is in the image.
    pub fn none() -> Mounts {
        Mounts::default()
    }

    /// Adds a mount; a later mount at the same guest path hides the earlier one.
    pub fn add(&mut self, mount: Mount) {
        self.list.retain(|m| m.guest != mount.guest);
        self.list.push(Arc::new(mount));
        // Longest guest path first, so nested mounts win.
        self.list.sort_by_key(|m| std::cmp::Reverse(m.guest.len()));
    }

    /// Whether there are none (the common case: lookups skip the lexical work).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The mounts, longest guest path first.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Mount>> {
        self.list.iter()
    }

    /// The mount holding `path` (relative to the absolute `base`) and the path
    /// below its root ("" for the root itself), or `None` when it is in the image.
    pub fn route(&self, base: &[u8], path: &[u8]) -> Option<(Arc<Mount>, Vec<u8>)> {
        if self.list.is_empty() {
            return None;
        }
        let abs = normalize(base, path);
        let (m, mut rel) = self.list.iter().find_map(|m| {
            let rest = abs.strip_prefix(m.guest.as_slice())?;
            if m.guest == b"/" {
                return Some((m.clone(), abs[1..].to_vec()));
            }
            match rest {
                [] => Some((m.clone(), Vec::new())),
                [b'/', rel @ ..] => Some((m.clone(), rel.to_vec())),
                _ => None,
            }
        })?;
        // A trailing slash asks the kernel to follow a last symlink and insist on
        // a directory: keep it.
        if path.ends_with(b"/") && !rel.is_empty() {
            rel.push(b'/');
        }
        Some((m, rel))
    }
}

/// How lookups below a mount may resolve: never above its root, never through
/// /proc magic links.
fn beneath() -> ResolveFlags {
    ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS
}

impl Mount {
    /// Opens host directory `host` for guests to see at `guest` (an absolute path).
    pub fn new(host: &Path, guest: &str, readonly: bool) -> io::Result<Mount> {
        let root = rustix::fs::open(
            host,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        // Fails on kernels without openat2 (before 5.6): better now than at first use.
        rustix::fs::openat2(
            &root,
            ".",
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            beneath(),
        )?;
        Ok(Mount {
            guest: normalize(b"/", guest.as_bytes()),
            host: host.to_path_buf(),
            root,
            readonly,
        })
    }

    /// Where guests see it.
    pub fn guest_path(&self) -> &[u8] {
        &self.guest
    }

    /// The host directory.
    pub fn host_path(&self) -> &Path {
        &self.host
    }

    /// Whether guests may only read.
    pub fn readonly(&self) -> bool {
        self.readonly
    }

    fn writable(&self) -> Result<(), Errno> {
        if self.readonly {
            Err(Errno::RoFs)
        } else {
            Ok(())
        }
    }

    /// Opens `rel` below the root with the kernel confining the lookup (EAGAIN,
    /// which openat2 gives when a rename raced the lookup, is retried).
    fn open_beneath(&self, rel: &[u8], flags: OFlags, mode: Mode) -> Result<OwnedFd, Errno> {
        let path = if rel.is_empty() { b".".as_slice() } else { rel };
        let path = OsStr::from_bytes(path);
        // openat2 refuses O_NOCTTY next to O_PATH.
        let flags = if flags.contains(OFlags::PATH) {
            flags | OFlags::CLOEXEC
        } else {
            flags | OFlags::CLOEXEC | OFlags::NOCTTY
        };
        let mut tries = 0;
        loop {
            match rustix::fs::openat2(&self.root, path, flags, mode, beneath()) {
                Err(rustix::io::Errno::AGAIN) if tries < 8 => tries += 1,
                // An escape attempt (absolute or upward symlink) reads as a missing file.
                Err(rustix::io::Errno::XDEV) => return Err(Errno::NoEnt),
                r => return r.map_err(rx),
            }
        }
    }

    /// The parent directory of `rel` (opened beneath the root) and its last name.
    /// The root itself has no name in the mount: EBUSY, as for a mount point.
    fn parent<'a>(&self, rel: &'a [u8]) -> Result<(OwnedFd, &'a OsStr), Errno> {
        let rel = rel.strip_suffix(b"/").unwrap_or(rel);
        if rel.is_empty() {
            return Err(Errno::from_raw(libc::EBUSY));
        }
        let (dir, name) = match rel.iter().rposition(|b| *b == b'/') {
            Some(i) => (&rel[..i], &rel[i + 1..]),
            None => (&b""[..], rel),
        };
        let fd = self.open_beneath(dir, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())?;
        Ok((fd, OsStr::from_bytes(name)))
    }

    /// `rel` as a descriptor that only names it (O_PATH), following a last
    /// symlink when `follow`.
    fn path_fd(&self, rel: &[u8], follow: bool) -> Result<OwnedFd, Errno> {
        let mut flags = OFlags::PATH;
        if !follow {
            flags |= OFlags::NOFOLLOW;
        }
        self.open_beneath(rel, flags, Mode::empty())
    }

    /// Facts about `rel`, as the image reports them.
    pub fn stat(&self, rel: &[u8], follow: bool) -> Result<Stat, Errno> {
        let fd = self.path_fd(rel, follow)?;
        host_stat(&File::from(fd))
    }

    /// Opens `rel` as path_open would; `mode` is for a file it creates.
    pub fn open(
        &self,
        rel: &[u8],
        opts: OpenOptions,
        follow: bool,
        want_dir: bool,
        mode: u32,
    ) -> Result<Opened, Errno> {
        if opts.write || opts.create || opts.truncate || opts.append {
            self.writable()?;
        }
        let mut flags = match (opts.read, opts.write || opts.append) {
            (_, false) => OFlags::RDONLY,
            (false, true) => OFlags::WRONLY,
            (true, true) => OFlags::RDWR,
        };
        if opts.create {
            flags |= OFlags::CREATE;
        }
        if opts.exclusive {
            flags |= OFlags::EXCL;
        }
        if opts.truncate {
            flags |= OFlags::TRUNC;
        }
        if opts.append {
            flags |= OFlags::APPEND;
        }
        if !follow {
            flags |= OFlags::NOFOLLOW;
        }
        if want_dir {
            flags |= OFlags::DIRECTORY;
        }
        // openat2 takes a mode only with O_CREAT.
        let mode = if opts.create {
            Mode::from_raw_mode(mode)
        } else {
            Mode::empty()
        };
        // Non-blocking so that a FIFO cannot hang the open; cleared below.
        let fd = self.open_beneath(rel, flags | OFlags::NONBLOCK, mode)?;
        let file = File::from(fd);
        let meta = file.metadata().map_err(errno)?;
        if meta.is_dir() {
            return Ok(Opened::Dir);
        }
        if !meta.is_file() {
            // Devices, FIFOs and sockets of the host stay out of reach.
            return Err(Errno::Acces);
        }
        rustix::fs::fcntl_setfl(
            &file,
            rustix::fs::fcntl_getfl(&file).map_err(rx)? & !OFlags::NONBLOCK,
        )
        .map_err(rx)?;
        Ok(Opened::File(Arc::new(HostFile {
            file,
            readable: opts.read,
            writable: opts.write || opts.append,
            sync: 0,
        })))
    }

    /// The entries of directory `rel`, `.` and `..` included.
    pub fn read_dir(&self, rel: &[u8]) -> Result<Vec<DirEntry>, Errno> {
        let fd = self.open_beneath(rel, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
        let dir = rustix::fs::Dir::new(fd).map_err(rx)?;
        let mut out = Vec::new();
        for e in dir {
            let e = e.map_err(rx)?;
            out.push(DirEntry {
                name: e.file_name().to_bytes().to_vec(),
                // Inode numbers of the host may not fit the image's; they only
                // need to tell entries apart.
                ino: e.ino() as Ino,
                kind: kind_of_dirent(e.file_type()),
            });
        }
        Ok(out)
    }

    /// Creates directory `rel`.
    pub fn mkdir(&self, rel: &[u8], mode: u32) -> Result<(), Errno> {
        self.writable()?;
        if rel.is_empty() {
            return Err(Errno::Exist);
        }
        let (dir, name) = self.parent(rel)?;
        rustix::fs::mkdirat(&dir, name, Mode::from_raw_mode(mode)).map_err(rx)
    }

    /// Removes empty directory `rel`.
    pub fn rmdir(&self, rel: &[u8]) -> Result<(), Errno> {
        self.writable()?;
        let (dir, name) = self.parent(rel)?;
        rustix::fs::unlinkat(&dir, name, AtFlags::REMOVEDIR).map_err(rx)
    }

    /// Removes non-directory `rel`.
    pub fn unlink(&self, rel: &[u8]) -> Result<(), Errno> {
        self.writable()?;
        let (dir, name) = self.parent(rel)?;
        rustix::fs::unlinkat(&dir, name, AtFlags::empty()).map_err(rx)
    }

    /// Renames `from` to `to`, both below this mount.
    pub fn rename(&self, from: &[u8], to: &[u8]) -> Result<(), Errno> {
        self.writable()?;
        let (fdir, fname) = self.parent(from)?;
        let (tdir, tname) = self.parent(to)?;
        rustix::fs::renameat(&fdir, fname, &tdir, tname).map_err(rx)
    }

    /// Makes `rel` a symbolic link to `target` (stored as given; lookups by
    /// guests never follow it out of the mount).
    pub fn symlink(&self, target: &[u8], rel: &[u8]) -> Result<(), Errno> {
        self.writable()?;
        let (dir, name) = self.parent(rel)?;
        rustix::fs::symlinkat(OsStr::from_bytes(target), &dir, name).map_err(rx)
    }

    /// Makes `to` another name of `from` (following a last symlink of `from` when `follow`).
    pub fn link(&self, from: &[u8], follow: bool, to: &[u8]) -> Result<(), Errno> {
        self.writable()?;
        let (tdir, tname) = self.parent(to)?;
        if follow {
            let src = self.path_fd(from, true)?;
            rustix::fs::linkat(&src, "", &tdir, tname, AtFlags::EMPTY_PATH).map_err(rx)
        } else {
            let (fdir, fname) = self.parent(from)?;
            rustix::fs::linkat(&fdir, fname, &tdir, tname, AtFlags::empty()).map_err(rx)
        }
    }

    /// The target of symbolic link `rel`.
    pub fn readlink(&self, rel: &[u8]) -> Result<Vec<u8>, Errno> {
        let (dir, name) = self.parent(rel)?;
        let target = rustix::fs::readlinkat(&dir, name, Vec::new()).map_err(rx)?;
        Ok(target.into_bytes())
    }

    /// Changes the permission bits of `rel`.
    pub fn chmod(&self, rel: &[u8], follow: bool, mode: u32) -> Result<(), Errno> {
        self.writable()?;
        let fd = self.path_fd(rel, follow)?;
        if File::from(fd.try_clone().map_err(errno)?)
            .metadata()
            .map_err(errno)?
            .is_symlink()
        {
            // Linux has no lchmod.
            return Err(Errno::NotSup);
        }
        rustix::fs::chmodat(
            rustix::fs::CWD,
            proc_link(&fd),
            Mode::from_raw_mode(mode & 0o7777),
            AtFlags::empty(),
        )
        .map_err(rx)
    }

    /// Changes the owner and group of `rel` (`None` keeps one).
    pub fn chown(
        &self,
        rel: &[u8],
        follow: bool,
        uid: Option<u32>,
        gid: Option<u32>,
    ) -> Result<(), Errno> {
        self.writable()?;
        let fd = self.path_fd(rel, follow)?;
        rustix::fs::chownat(
            &fd,
            "",
            uid.map(rustix::fs::Uid::from_raw),
            gid.map(rustix::fs::Gid::from_raw),
            AtFlags::EMPTY_PATH,
        )
        .map_err(rx)
    }

    /// Sets the access and modification times of `rel` (`None` keeps one).
    pub fn set_times(
        &self,
        rel: &[u8],
        follow: bool,
        atime: Option<SetTime>,
        mtime: Option<SetTime>,
    ) -> Result<(), Errno> {
        self.writable()?;
        let times = timestamps(atime, mtime);
        if follow {
            let fd = self.path_fd(rel, true)?;
            rustix::fs::utimensat(rustix::fs::CWD, proc_link(&fd), &times, AtFlags::empty())
                .map_err(rx)
        } else {
            let (dir, name) = self.parent(rel)?;
            rustix::fs::utimensat(&dir, name, &times, AtFlags::SYMLINK_NOFOLLOW).map_err(rx)
        }
    }
}

/// The /proc path of a descriptor: calls that cannot take an O_PATH descriptor
/// reach the exact file it names through it.
fn proc_link(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn timestamps(atime: Option<SetTime>, mtime: Option<SetTime>) -> Timestamps {
    let spec = |t: Option<SetTime>| match t {
        None => Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_OMIT,
        },
        Some(SetTime::Now) => Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_NOW,
        },
        Some(SetTime::At(t)) => Timespec {
            tv_sec: t.sec,
            tv_nsec: t.nsec.into(),
        },
    };
    Timestamps {
        last_access: spec(atime),
        last_modification: spec(mtime),
    }
}

fn kind_of_dirent(t: rustix::fs::FileType) -> FileType {
    use rustix::fs::FileType as T;
    match t {
        T::RegularFile => FileType::Regular,
        T::Directory => FileType::Directory,
        T::Symlink => FileType::Symlink,
        T::Fifo => FileType::Fifo,
        T::Socket => FileType::Socket,
        T::CharacterDevice => FileType::CharDevice,
        T::BlockDevice => FileType::BlockDevice,
        // DT_UNKNOWN: the guest stats the entry if it cares.
        _ => FileType::Regular,
    }
}

/// A host file's metadata in the image's terms.
fn host_stat(f: &File) -> Result<Stat, Errno> {
    let m = f.metadata().map_err(errno)?;
    let ft = m.file_type();
    use std::os::unix::fs::FileTypeExt;
    let kind = if ft.is_dir() {
        FileType::Directory
    } else if ft.is_symlink() {
        FileType::Symlink
    } else if ft.is_fifo() {
        FileType::Fifo
    } else if ft.is_socket() {
        FileType::Socket
    } else if ft.is_char_device() {
        FileType::CharDevice
    } else if ft.is_block_device() {
        FileType::BlockDevice
    } else {
        FileType::Regular
    };
    let ts = |sec: i64, nsec: i64| Timestamp {
        sec,
        nsec: nsec as u32,
    };
    Ok(Stat {
        ino: m.ino() as Ino,
        kind,
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
        nlink: m.nlink() as u32,
        size: m.size(),
        blocks: m.blocks(),
        atime: ts(m.atime(), m.atime_nsec()),
        mtime: ts(m.mtime(), m.mtime_nsec()),
        ctime: ts(m.ctime(), m.ctime_nsec()),
    })
}

impl HostFile {
    /// `file` open for reading only (a synthesized file such as `/proc/uptime`'s snapshot).
    pub(crate) fn read_only(file: File) -> HostFile {
        HostFile {
            file,
            readable: true,
            writable: false,
            sync: 0,
        }
    }

    /// Reads at the file's offset.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.file).read(buf)
    }

    /// Writes all of `data` at the file's offset (or its end, in append mode).
    pub fn write_all(&self, data: &[u8]) -> io::Result<()> {
        (&self.file).write_all(data)
    }

    /// Reads at `off` without moving the offset.
    pub fn read_at(&self, buf: &mut [u8], off: u64) -> io::Result<usize> {
        self.file.read_at(buf, off)
    }

    /// Writes at `off` without moving the offset.
    pub fn write_at(&self, data: &[u8], off: u64) -> io::Result<usize> {
        self.file.write_at(data, off)
    }

    /// Moves the offset as lseek does; returns the new one.
    pub fn seek(&self, pos: io::SeekFrom) -> io::Result<u64> {
        use std::io::Seek;
        (&self.file).seek(pos)
    }

    /// Facts about the file.
    pub fn stat(&self) -> Result<Stat, Errno> {
        host_stat(&self.file)
    }

    /// What tells this file's contents apart from any other's without reading them:
    /// device, inode, size and change times (ctime moves on every write and cannot be
    /// set back), as build tools decide a file is unchanged.
    pub fn identity(&self) -> Option<[i64; 7]> {
        use std::os::unix::fs::MetadataExt;
        let m = self.file.metadata().ok()?;
        Some([
            m.dev() as i64,
            m.ino() as i64,
            m.size() as i64,
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        ])
    }

    /// Sets the size.
    pub fn truncate(&self, size: u64) -> Result<(), Errno> {
        self.file.set_len(size).map_err(errno)
    }

    /// Whether writes go to the end.
    pub fn append(&self) -> bool {
        rustix::fs::fcntl_getfl(&self.file).is_ok_and(|f| f.contains(OFlags::APPEND))
    }

    /// Turns append mode on or off.
    pub fn set_append(&self, on: bool) -> Result<(), Errno> {
        let flags = rustix::fs::fcntl_getfl(&self.file).map_err(rx)?;
        let flags = if on {
            flags | OFlags::APPEND
        } else {
            flags & !OFlags::APPEND
        };
        rustix::fs::fcntl_setfl(&self.file, flags).map_err(rx)
    }

    /// Changes the permission bits.
    pub fn chmod(&self, mode: u32) -> Result<(), Errno> {
        rustix::fs::fchmod(&self.file, Mode::from_raw_mode(mode & 0o7777)).map_err(rx)
    }

    /// Changes owner and group (`None` keeps one).
    pub fn chown(&self, uid: Option<u32>, gid: Option<u32>) -> Result<(), Errno> {
        rustix::fs::fchown(
            &self.file,
            uid.map(rustix::fs::Uid::from_raw),
            gid.map(rustix::fs::Gid::from_raw),
        )
        .map_err(rx)
    }

    /// Sets the access and modification times (`None` keeps one).
    pub fn set_times(&self, atime: Option<SetTime>, mtime: Option<SetTime>) -> Result<(), Errno> {
        rustix::fs::futimens(&self.file, &timestamps(atime, mtime)).map_err(rx)
    }

    /// The host descriptor (for poll readiness: a regular file is always ready).
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.file.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(b"/", b"a/./b//c/"), b"/a/b/c");
        assert_eq!(normalize(b"/x/y", b"../z"), b"/x/z");
        assert_eq!(normalize(b"/", b"../../.."), b"/");
        assert_eq!(normalize(b"/w", b"/abs/../q"), b"/q");
    }

    #[test]
    fn routes_pick_the_longest_mount_and_stop_at_its_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let mut ms = Mounts::none();
        ms.add(Mount::new(dir.path(), "/data", false).unwrap());
        ms.add(Mount::new(dir.path(), "/data/in", true).unwrap());
        assert_eq!(ms.route(b"/", b"data/x").unwrap().1, b"x");
        assert!(ms.route(b"/", b"data/in/x").unwrap().0.readonly());
        assert_eq!(ms.route(b"/data", b"..").map(|r| r.1), None);
        assert!(ms.route(b"/", b"/datax").is_none());
        assert_eq!(ms.route(b"/data", b"").unwrap().1, b"");
    }

    #[test]
    fn lookups_cannot_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("m");
        std::fs::create_dir(&inner).unwrap();
        std::fs::write(dir.path().join("secret"), b"s").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", inner.join("abs")).unwrap();
        std::os::unix::fs::symlink("../secret", inner.join("up")).unwrap();
        let m = Mount::new(&inner, "/m", false).unwrap();
        let read = OpenOptions {
            read: true,
            ..Default::default()
        };
        std::fs::write(inner.join("ok"), b"fine").unwrap();
        std::os::unix::fs::symlink("ok", inner.join("near")).unwrap();
        assert_eq!(m.stat(b"near", true).unwrap().size, 4);
        assert!(matches!(
            m.open(b"near", read, true, false, 0),
            Ok(Opened::File(_))
        ));
        for p in [&b"abs"[..], b"up", b"../secret"] {
            assert_eq!(
                m.open(p, read, true, false, 0).err(),
                Some(Errno::NoEnt),
                "{p:?}"
            );
            assert_eq!(m.stat(p, true).err(), Some(Errno::NoEnt), "{p:?}");
        }
        // The links themselves are visible, not followed.
        assert_eq!(m.stat(b"abs", false).unwrap().kind, FileType::Symlink);
        assert_eq!(m.readlink(b"up").unwrap(), b"../secret");
    }

    #[test]
    fn readonly_mounts_refuse_every_change() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"x").unwrap();
        let m = Mount::new(dir.path(), "/ro", true).unwrap();
        let write = OpenOptions {
            write: true,
            ..Default::default()
        };
        assert_eq!(m.open(b"f", write, true, false, 0).err(), Some(Errno::RoFs));
        assert_eq!(m.mkdir(b"d", 0o755), Err(Errno::RoFs));
        assert_eq!(m.unlink(b"f"), Err(Errno::RoFs));
        assert_eq!(m.chmod(b"f", true, 0o600), Err(Errno::RoFs));
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"x");
    }
}
