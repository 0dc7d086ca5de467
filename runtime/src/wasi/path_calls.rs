//! Path calls (`path_*`): each is routed by [`at`] to the image (resolved by the
//! Vfs with the guest's credentials) or to a host mount (resolved by the kernel
//! below the mount's root, see `crate::mounts`).

use std::sync::Arc;

use fsimage::{FileType, Ino};

use super::Guest;
use super::abi::{self, Errno, FileStat, Mem, fstflags, oflags, rights};
use super::fdtable::{DirFd, Fd, HostDirFd};
use super::fs::{host_filestat, set_times};
use super::{access, host_access};
use crate::io::{FileHandle, Handle, OpenOptions};
use crate::mounts::{Mount, Opened};

/// Where a path call lands: the image (a directory inode and the path from it)
/// or a host mount (the path below its root).
pub(super) enum At {
    Image(Ino, Vec<u8>),
    Host(Arc<Mount>, Vec<u8>),
}

/// Routes `path`, relative to directory descriptor `fd`, to the image or a mount.
pub(super) fn at(g: &Guest, fd: u32, path: Vec<u8>) -> Result<At, Errno> {
    match g.fds.get(fd)? {
        Fd::Dir(d) => match &d.path {
            // Inside a live program's /proc/PID: the image's stand-in for it.
            Some(dir)
                if let Some(rt) = &g.runtime
                    && let Some(alias) = rt.proc_pid_path(dir, &path, Some(g.pid())) =>
            {
                Ok(At::Image(g.vfs.root(), alias[1..].to_vec()))
            }
            Some(dir) if !g.mounts.is_empty() => Ok(match g.mounts.route(dir, &path) {
                Some((m, rel)) => At::Host(m, rel),
                None => At::Image(d.ino, path),
            }),
            _ => Ok(At::Image(d.ino, path)),
        },
        Fd::HostDir(h) => {
            let dir = h.guest_path();
            Ok(match g.mounts.route(&dir, &path) {
                Some((m, rel)) => At::Host(m, rel),
                // `..` led out of the mount: the rest is in the image.
                None => At::Image(g.vfs.root(), crate::mounts::normalize(&dir, &path)),
            })
        }
        Fd::Handle(_) | Fd::Socket(_) => Err(Errno::NOTDIR),
    }
}

/// The device wsh synthesizes at `path` from directory `fd`, if the lexical guest
/// path names one (`/dev/null`, `/dev/./zero`, `null` from `/dev`): devices are
/// wsh's own, never the image's placeholder files nor the host's nodes.
pub(super) fn device(g: &Guest, fd: u32, path: &[u8]) -> Result<Option<Handle>, Errno> {
    match guest_path(g, fd, path)? {
        Some(abs) => device_named(g, &abs, path),
        None => Ok(None),
    }
}

/// [`device`] for `path` whose absolute, normalized guest path is `abs`.
fn device_named(g: &Guest, abs: &[u8], path: &[u8]) -> Result<Option<Handle>, Errno> {
    let h = match own_descriptor(abs) {
        // `/dev/stdin`, `/dev/fd/N`: the guest's own descriptor N, as bash and Linux
        // give it (a descriptor that is not open: ENOENT, as /proc/self/fd says).
        Some(n) => match g.fds.get(n) {
            Ok(Fd::Handle(h)) => h.clone(),
            _ => return Err(Errno::NOENT),
        },
        None if abs == b"/dev/tty" => super::tty::dev_tty(g)?,
        None => match crate::io::device_at(abs) {
            Some(h) => h,
            None => return Ok(None),
        },
    };
    // "/dev/null/" promises a directory.
    if path.ends_with(b"/") {
        return Err(Errno::NOTDIR);
    }
    Ok(Some(h))
}

/// The descriptor an absolute, normalized path names: `/dev/stdin|stdout|stderr`,
/// `/dev/fd/N` or `/proc/self/fd/N`.
fn own_descriptor(path: &[u8]) -> Option<u32> {
    match path {
        b"/dev/stdin" => Some(0),
        b"/dev/stdout" => Some(1),
        b"/dev/stderr" => Some(2),
        _ => {
            let n = path
                .strip_prefix(b"/dev/fd/")
                .or_else(|| path.strip_prefix(b"/proc/self/fd/"))?;
            if n.is_empty() || !n.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(n).ok()?.parse().ok()
        }
    }
}

/// The absolute, normalized guest path `path` from directory `fd` names, when the
/// directory's own path is known.
fn guest_path(g: &Guest, fd: u32, path: &[u8]) -> Result<Option<Vec<u8>>, Errno> {
    let dir = match g.fds.get(fd)? {
        Fd::Dir(d) => d.path.clone(),
        Fd::HostDir(h) => Some(h.guest_path()),
        Fd::Handle(_) | Fd::Socket(_) => return Err(Errno::NOTDIR),
    };
    Ok(dir.map(|d| crate::mounts::normalize(&d, path)))
}

/// The snapshot of the synthesized `/proc` file at the absolute guest path `abs`, if
/// it names one (see `procfs`); EACCES when opened for writing.
fn proc_file(g: &Guest, abs: &[u8], write: bool) -> Result<Option<Handle>, Errno> {
    let Some(rt) = &g.runtime else {
        return Ok(None);
    };
    // `/proc/self/...` is the caller's own entry.
    let own;
    let abs = match abs.strip_prefix(b"/proc/self/") {
        Some(rest) => {
            own = [format!("/proc/{}/", g.pid()).as_bytes(), rest].concat();
            &own[..]
        }
        None => abs,
    };
    match rt.open_proc(abs, write) {
        Some(Ok(h)) => Ok(Some(h)),
        Some(Err(e)) => Err(e.into()),
        None => Ok(None),
    }
}

/// The filestat of a synthesized device: a character device without an inode.
pub(super) fn device_filestat() -> FileStat {
    FileStat {
        filetype: abi::filetype::CHARACTER_DEVICE,
        nlink: 1,
        ..Default::default()
    }
}

// The arguments are preview1's path_open parameters, one for one.
#[allow(clippy::too_many_arguments)]
pub fn path_open(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    dirflags: u32,
    path: Vec<u8>,
    oflags: u16,
    rights_base: u64,
    fdflags: u16,
    out: u32,
) -> Result<(), Errno> {
    let follow = dirflags & abi::LOOKUP_SYMLINK_FOLLOW != 0;
    let write = rights_base & rights::FD_WRITE != 0 || fdflags & abi::FDFLAGS_APPEND != 0;
    let opts = OpenOptions {
        read: rights_base & rights::FD_READ != 0,
        write,
        append: fdflags & abi::FDFLAGS_APPEND != 0,
        create: oflags & oflags::CREAT != 0,
        exclusive: oflags & oflags::EXCL != 0,
        truncate: oflags & oflags::TRUNC != 0,
    };
    let sync = fdflags & abi::FDFLAGS_SYNCS;
    // Devices and /proc are named by the lexical guest path, worked out once here.
    if let Some(abs) = guest_path(g, fd, &path)? {
        if let Some(h) = device_named(g, &abs, &path)? {
            if oflags & oflags::DIRECTORY != 0 {
                return Err(Errno::NOTDIR);
            }
            if opts.create && opts.exclusive {
                return Err(Errno::EXIST);
            }
            let n = g.fds.insert(Fd::Handle(h))?;
            return m.write_u32(out, n);
        }
        if let Some(h) = proc_file(g, &abs, opts.write || opts.truncate || opts.create)? {
            if oflags & oflags::DIRECTORY != 0 {
                return Err(Errno::NOTDIR);
            }
            let n = g.fds.insert(Fd::Handle(h))?;
            return m.write_u32(out, n);
        }
    }
    // The directory's guest path, when known, names what it opens.
    let dir_path = match g.fds.get(fd)? {
        Fd::Dir(d) => d.path.clone(),
        Fd::HostDir(h) => Some(h.guest_path()),
        Fd::Handle(_) | Fd::Socket(_) => None,
    };
    let entry = match at(g, fd, path.clone())? {
        At::Image(base, image_path) => {
            // Named by what the guest asked for (`at` may resolve elsewhere: /proc/PID).
            let child_path = dir_path.map(|d| crate::mounts::normalize(&d, &path));
            open_in_image(g, base, &image_path, follow, oflags, opts, child_path, sync)?
        }
        At::Host(mount, rel) => {
            let want_dir = oflags & oflags::DIRECTORY != 0;
            let mode = 0o666 & !g.umask;
            match host_access::open(&mount, &g.creds, &rel, opts, follow, want_dir, mode)? {
                Opened::Dir => Fd::HostDir(HostDirFd {
                    mount,
                    rel,
                    preopen: None,
                    listing: None,
                }),
                Opened::File(mut f) => {
                    // Just made, so not shared yet.
                    if let Some(h) = Arc::get_mut(&mut f) {
                        h.sync = sync;
                    }
                    Fd::Handle(Handle::HostFile(f))
                }
            }
        }
    };
    let n = g.fds.insert(entry)?;
    m.write_u32(out, n)
}

/// path_open for a path in the image.
#[allow(clippy::too_many_arguments)]
fn open_in_image(
    g: &Guest,
    base: Ino,
    path: &[u8],
    follow: bool,
    oflags: u16,
    opts: OpenOptions,
    child_path: Option<Vec<u8>>,
    sync: u16,
) -> Result<Fd, Errno> {
    let vfs = g.vfs.clone();
    let c = &*g.creds;
    let mut created = false;
    let ino = match access::resolve(&vfs, c, base, path, follow) {
        Ok(_) if opts.create && opts.exclusive => return Err(Errno::EXIST),
        Ok(ino) => ino,
        Err(e) if opts.create && e.errno() == fsimage::Errno::NoEnt => {
            if path.ends_with(b"/") {
                return Err(Errno::ISDIR);
            }
            let (dir, name) = access::resolve_parent(&vfs, c, base, path)?;
            access::may_create(&vfs, c, dir)?;
            let ino = vfs.create(dir, &name, 0o666 & !g.umask)?;
            access::own_new(&vfs, c, dir, ino)?;
            created = true;
            ino
        }
        Err(e) => return Err(e.into()),
    };
    if !created && let Some(h) = crate::io::placeholder_device(&vfs, ino) {
        if oflags & oflags::DIRECTORY != 0 {
            return Err(Errno::NOTDIR);
        }
        return Ok(Fd::Handle(h));
    }
    let st = vfs.stat(ino)?;
    // A file the caller just made opens whatever its mode says, as with open(2).
    let check = |st: &fsimage::Stat| match created {
        true => Ok(()),
        false => access::may_open(c, st, &opts),
    };
    Ok(match st.kind {
        FileType::Directory => {
            // open(2) of a directory for writing is EISDIR, O_DIRECTORY or not.
            if opts.write {
                return Err(Errno::ISDIR);
            }
            check(&st)?;
            Fd::Dir(DirFd {
                ino,
                preopen: None,
                listing: None,
                path: child_path,
            })
        }
        _ if oflags & oflags::DIRECTORY != 0 => return Err(Errno::NOTDIR),
        // O_NOFOLLOW on a symlink fails as POSIX says.
        FileType::Symlink => return Err(Errno::LOOP),
        // A named pipe: meet the other side on the container's pipe for it.
        FileType::Fifo => {
            check(&st)?;
            let rt = g.runtime.as_ref().ok_or(Errno::NXIO)?;
            let _sleeping = g.process.as_ref().map(|p| p.sleeping());
            let stopped = || {
                g.hold_while_paused();
                g.interrupted()
            };
            match rt.open_fifo(ino, opts.read, opts.write || opts.append, &stopped) {
                Ok(h) => Fd::Handle(h),
                Err(crate::FifoError::Interrupted) => return Err(Errno::INTR),
                Err(crate::FifoError::ReadWrite) => return Err(Errno::NXIO),
            }
        }
        _ => {
            check(&st)?;
            if opts.truncate && st.size != 0 {
                vfs.truncate(ino, 0)?;
            }
            let mut handle = FileHandle::from_ino(&vfs, ino, opts);
            handle.sync = sync;
            Fd::Handle(Handle::File(Arc::new(handle)))
        }
    })
}

pub fn path_filestat_get(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    flags: u32,
    path: Vec<u8>,
    out: u32,
) -> Result<(), Errno> {
    let follow = flags & abi::LOOKUP_SYMLINK_FOLLOW != 0;
    if device(g, fd, &path)?.is_some() {
        return abi::write_filestat(m, out, &device_filestat());
    }
    let st = match at(g, fd, path)? {
        At::Image(base, path) => {
            let ino = access::resolve(&g.vfs, &g.creds, base, &path, follow)?;
            match crate::io::placeholder_device(&g.vfs, ino) {
                Some(_) => device_filestat(),
                None => FileStat::of(&g.vfs.stat(ino)?),
            }
        }
        At::Host(mount, rel) => {
            host_access::traverse(&mount, &g.creds, &rel)?;
            host_filestat(&mount.stat(&rel, follow)?)
        }
    };
    abi::write_filestat(m, out, &st)
}

pub fn path_filestat_set_times(
    g: &mut Guest,
    fd: u32,
    flags: u32,
    path: Vec<u8>,
    atim: u64,
    mtim: u64,
    fst: u16,
) -> Result<(), Errno> {
    let follow = flags & abi::LOOKUP_SYMLINK_FOLLOW != 0;
    let (a, mt) = set_times(atim, mtim, fst)?;
    match at(g, fd, path)? {
        At::Image(base, path) => {
            let ino = access::resolve(&g.vfs, &g.creds, base, &path, follow)?;
            access::may_set_times_of(&g.vfs, &g.creds, ino, fst)?;
            Ok(g.vfs.set_times(ino, a, mt)?)
        }
        At::Host(mount, rel) => {
            let explicit = fst & (fstflags::ATIM | fstflags::MTIM) != 0;
            host_access::may_set_times(&mount, &g.creds, &rel, follow, explicit)?;
            Ok(mount.set_times(&rel, follow, a, mt)?)
        }
    }
}

pub fn path_create_directory(g: &mut Guest, fd: u32, path: Vec<u8>) -> Result<(), Errno> {
    match at(g, fd, path)? {
        At::Image(base, path) => {
            let (dir, name) = access::resolve_parent(&g.vfs, &g.creds, base, &path)?;
            access::may_create(&g.vfs, &g.creds, dir)?;
            let ino = g.vfs.mkdir(dir, &name, 0o777 & !g.umask)?;
            Ok(access::own_new(&g.vfs, &g.creds, dir, ino)?)
        }
        At::Host(mount, rel) => {
            host_access::may_create(&mount, &g.creds, &rel)?;
            mount.mkdir(&rel, 0o777 & !g.umask)?;
            host_access::own_new(&mount, &g.creds, &rel);
            Ok(())
        }
    }
}

pub fn path_remove_directory(g: &mut Guest, fd: u32, path: Vec<u8>) -> Result<(), Errno> {
    match at(g, fd, path)? {
        At::Image(base, path) => {
            let (dir, name) = access::resolve_parent(&g.vfs, &g.creds, base, &path)?;
            access::may_delete(&g.vfs, &g.creds, dir, &name)?;
            Ok(g.vfs.rmdir(dir, &name)?)
        }
        At::Host(mount, rel) => {
            host_access::may_delete(&mount, &g.creds, &rel)?;
            Ok(mount.rmdir(&rel)?)
        }
    }
}

pub fn path_unlink_file(g: &mut Guest, fd: u32, path: Vec<u8>) -> Result<(), Errno> {
    let slash = path.ends_with(b"/");
    match at(g, fd, path)? {
        At::Image(base, path) => {
            let (dir, name) = access::resolve_parent(&g.vfs, &g.creds, base, &path)?;
            if slash {
                // "file/" names a directory or nothing.
                let ino = g.vfs.lookup(dir, &name)?;
                if g.vfs.stat(ino)?.kind != FileType::Directory {
                    return Err(Errno::NOTDIR);
                }
                return Err(Errno::ISDIR);
            }
            access::may_delete(&g.vfs, &g.creds, dir, &name)?;
            Ok(g.vfs.unlink(dir, &name)?)
        }
        At::Host(mount, rel) => {
            host_access::may_delete(&mount, &g.creds, &rel)?;
            if slash {
                return Err(match mount.stat(&rel, false)?.kind {
                    FileType::Directory => Errno::ISDIR,
                    _ => Errno::NOTDIR,
                });
            }
            Ok(mount.unlink(&rel)?)
        }
    }
}

pub fn path_rename(
    g: &mut Guest,
    fd: u32,
    from: Vec<u8>,
    to_fd: u32,
    to: Vec<u8>,
) -> Result<(), Errno> {
    match (at(g, fd, from)?, at(g, to_fd, to)?) {
        (At::Image(fb, from), At::Image(tb, to)) => {
            let (fdir, fname) = access::resolve_parent(&g.vfs, &g.creds, fb, &from)?;
            let (tdir, tname) = access::resolve_parent(&g.vfs, &g.creds, tb, &to)?;
            access::may_rename(&g.vfs, &g.creds, (fdir, &fname), (tdir, &tname))?;
            Ok(g.vfs.rename(fdir, &fname, tdir, &tname)?)
        }
        (At::Host(fm, from), At::Host(tm, to)) if Arc::ptr_eq(&fm, &tm) => {
            host_access::may_rename(&fm, &g.creds, &from, &to)?;
            Ok(fm.rename(&from, &to)?)
        }
        // Across file systems, as rename(2) says; mv then copies.
        _ => Err(Errno::XDEV),
    }
}

/// A new symlink or hard link named with a trailing slash fails as on Linux: a
/// slash promises a directory, which neither call makes: EEXIST if something is
/// there already, ENOENT if not (in the image and on mounts alike, whose
/// helpers take the slash off).
fn refuse_slashed_new_name(g: &Guest, fd: u32, path: &[u8]) -> Result<(), Errno> {
    if !path.ends_with(b"/") {
        return Ok(());
    }
    let bare = path[..path.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1)].to_vec();
    let found: Result<(), fsimage::Errno> = match at(g, fd, bare)? {
        At::Image(base, p) => access::resolve(&g.vfs, &g.creds, base, &p, false)
            .map(drop)
            .map_err(|e| e.errno()),
        At::Host(mount, rel) => mount.stat(&rel, false).map(drop),
    };
    match found {
        Ok(()) => Err(Errno::EXIST),
        Err(fsimage::Errno::NoEnt) => Err(Errno::NOENT),
        Err(e) => Err(e.into()),
    }
}

pub fn path_symlink(g: &mut Guest, target: Vec<u8>, fd: u32, path: Vec<u8>) -> Result<(), Errno> {
    refuse_slashed_new_name(g, fd, &path)?;
    match at(g, fd, path)? {
        At::Image(base, path) => {
            let (dir, name) = access::resolve_parent(&g.vfs, &g.creds, base, &path)?;
            access::may_create(&g.vfs, &g.creds, dir)?;
            let ino = g.vfs.symlink(dir, &name, &target)?;
            Ok(access::own_new(&g.vfs, &g.creds, dir, ino)?)
        }
        At::Host(mount, rel) => {
            host_access::may_create(&mount, &g.creds, &rel)?;
            mount.symlink(&target, &rel)?;
            host_access::own_new(&mount, &g.creds, &rel);
            Ok(())
        }
    }
}

pub fn path_link(
    g: &mut Guest,
    fd: u32,
    flags: u32,
    from: Vec<u8>,
    to_fd: u32,
    to: Vec<u8>,
) -> Result<(), Errno> {
    let follow = flags & abi::LOOKUP_SYMLINK_FOLLOW != 0;
    refuse_slashed_new_name(g, to_fd, &to)?;
    match (at(g, fd, from)?, at(g, to_fd, to)?) {
        (At::Image(fb, from), At::Image(tb, to)) => {
            let ino = access::resolve(&g.vfs, &g.creds, fb, &from, follow)?;
            let st = g.vfs.stat(ino)?;
            if st.kind == FileType::Directory {
                return Err(Errno::PERM);
            }
            let (dir, name) = access::resolve_parent(&g.vfs, &g.creds, tb, &to)?;
            if !g.creds.is_root() {
                access::may_create(&g.vfs, &g.creds, dir)?;
                access::may_link(&g.creds, &st)?;
            }
            Ok(g.vfs.link(ino, dir, &name)?)
        }
        (At::Host(fm, from), At::Host(tm, to)) if Arc::ptr_eq(&fm, &tm) => {
            host_access::may_link(&fm, &g.creds, &from, follow, &to)?;
            Ok(fm.link(&from, follow, &to)?)
        }
        _ => Err(Errno::XDEV),
    }
}

pub fn path_readlink(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    path: Vec<u8>,
    buf: u32,
    len: u32,
    out: u32,
) -> Result<(), Errno> {
    let target = match at(g, fd, path)? {
        At::Image(base, path) => {
            let ino = access::resolve(&g.vfs, &g.creds, base, &path, false)?;
            if g.vfs.stat(ino)?.kind != FileType::Symlink {
                return Err(Errno::INVAL);
            }
            g.vfs.readlink(ino)?
        }
        At::Host(mount, rel) => {
            host_access::traverse(&mount, &g.creds, &rel)?;
            mount.readlink(&rel)?
        }
    };
    let n = target.len().min(len as usize);
    m.write(buf, &target[..n])?;
    m.write_u32(out, n as u32)
}
