//! Descriptor and path calls: every file a guest sees lives in the image.

use std::io::ErrorKind;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use fsimage::{FileType, Ino, SetTime};

use super::Guest;
use super::abi::{self, Errno, FileStat, Mem, filetype, fstflags, oflags, rights};
use super::fdtable::{DirFd, Fd, HostDirFd};
use super::{access, host_access};
use crate::io::{FileHandle, Handle, OpenOptions};
use crate::mounts::{HostFile, Mount, Opened};

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
        Fd::Handle(_) => Err(Errno::NOTDIR),
    }
}

/// Stat of a host file as guests see it: a device of its own.
fn host_filestat(st: &fsimage::Stat) -> FileStat {
    FileStat {
        dev: 2,
        ..FileStat::of(st)
    }
}

/// SIGPIPE's default action: the writer stops with status 128 + 13.
const SIGPIPE_STATUS: i32 = 128 + 13;

fn io_errno(e: &std::io::Error) -> Errno {
    match e.kind() {
        ErrorKind::BrokenPipe => Errno::PIPE,
        ErrorKind::Interrupted => Errno::INTR,
        ErrorKind::WouldBlock => Errno::AGAIN,
        _ => match e.raw_os_error() {
            Some(code) => fsimage::Errno::from_raw(code).into(),
            None => Errno::IO,
        },
    }
}

/// The file behind `fd` if it is a regular file in the image.
fn file(g: &Guest, fd: u32) -> Result<Arc<FileHandle>, Errno> {
    match g.fds.get(fd)? {
        Fd::Handle(Handle::File(f)) => Ok(f.clone()),
        Fd::Handle(_) => Err(Errno::SPIPE),
        Fd::Dir(_) | Fd::HostDir(_) => Err(Errno::ISDIR),
    }
}

/// The host file behind `fd`, if it is one.
fn host_file(g: &Guest, fd: u32) -> Option<Arc<HostFile>> {
    match g.fds.get(fd) {
        Ok(Fd::Handle(Handle::HostFile(f))) => Some(f.clone()),
        _ => None,
    }
}

pub fn fd_write(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    iovs: u32,
    n: u32,
    out: u32,
) -> Result<(), Errno> {
    let data = m.gather(iovs, n)?;
    let handle = match g.fds.get(fd)? {
        Fd::Handle(h) => h.clone(),
        Fd::Dir(_) | Fd::HostDir(_) => return Err(Errno::BADF),
    };
    match &handle {
        Handle::File(f) if !f.writable => return Err(Errno::BADF),
        Handle::HostFile(f) if !f.writable => return Err(Errno::BADF),
        _ => {}
    }
    match handle.write_all(&data) {
        Ok(()) => m.write_u32(out, data.len() as u32),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {
            g.exit = Some(SIGPIPE_STATUS);
            Err(Errno::PIPE)
        }
        Err(e) => Err(
            match e.get_ref().and_then(|i| i.downcast_ref::<fsimage::Error>()) {
                Some(fe) => fe.errno().into(),
                None => io_errno(&e),
            },
        ),
    }
}

pub fn fd_read(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    iovs: u32,
    n: u32,
    out: u32,
) -> Result<(), Errno> {
    read_iovecs(m, iovs, n, out, |buf| {
        let handle = match g.fds.get(fd)? {
            Fd::Handle(h) => h.clone(),
            Fd::Dir(_) | Fd::HostDir(_) => return Err(Errno::ISDIR),
        };
        match &handle {
            Handle::File(f) => {
                if !f.readable {
                    return Err(Errno::BADF);
                }
                Ok(f.read(buf)?)
            }
            Handle::HostFile(f) if !f.readable => Err(Errno::BADF),
            // Blocking reads give way to Ctrl-C: the guest ends with status 130.
            Handle::PipeRead(end) => end
                .pipe()
                .read_or_stop(buf, &g.interrupt)
                .map_err(|e| stopped(g, &e)),
            Handle::HostStdin => match crate::io::wait_host_stdin(&g.interrupt) {
                Ok(()) => Handle::HostStdin.read(buf).map_err(|e| io_errno(&e)),
                Err(e) => Err(stopped(g, &e)),
            },
            h => h.read(buf).map_err(|e| io_errno(&e)),
        }
    })
}

/// Fills the guest's iovec array through `read` (at most 1 MiB a call) and stores
/// the count of bytes copied at `out`.
fn read_iovecs(
    m: &mut Mem,
    iovs: u32,
    n: u32,
    out: u32,
    read: impl FnOnce(&mut [u8]) -> Result<usize, Errno>,
) -> Result<(), Errno> {
    let vecs = m.iovecs(iovs, n)?;
    let want: usize = vecs.iter().map(|v| v.1 as usize).sum();
    let mut buf = vec![0u8; want.min(1 << 20)];
    let got = read(&mut buf)?;
    let copied = m.scatter(&vecs, &buf[..got])?;
    m.write_u32(out, copied as u32)
}

/// The errno for a failed blocking read; an interruption also ends the guest
/// as SIGINT would (status 130).
fn stopped(g: &mut Guest, e: &std::io::Error) -> Errno {
    if e.kind() == ErrorKind::Interrupted {
        g.exit = Some(128 + libc::SIGINT);
        Errno::INTR
    } else {
        io_errno(e)
    }
}

pub fn fd_pread(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    iovs: u32,
    n: u32,
    off: u64,
    out: u32,
) -> Result<(), Errno> {
    if let Some(h) = host_file(g, fd) {
        return read_iovecs(m, iovs, n, out, |buf| {
            h.read_at(buf, off).map_err(|e| io_errno(&e))
        });
    }
    let f = file(g, fd)?;
    read_iovecs(m, iovs, n, out, |buf| {
        Ok(f.vfs().read(f.ino(), off, buf)?)
    })
}

pub fn fd_pwrite(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    iovs: u32,
    n: u32,
    off: u64,
    out: u32,
) -> Result<(), Errno> {
    if let Some(h) = host_file(g, fd) {
        if !h.writable {
            return Err(Errno::BADF);
        }
        let data = m.gather(iovs, n)?;
        let wrote = h.write_at(&data, off).map_err(|e| io_errno(&e))?;
        return m.write_u32(out, wrote as u32);
    }
    let f = file(g, fd)?;
    if !f.writable {
        return Err(Errno::BADF);
    }
    let data = m.gather(iovs, n)?;
    let wrote = f.vfs().write(f.ino(), off, &data)?;
    m.write_u32(out, wrote as u32)
}

pub fn fd_seek(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    delta: i64,
    whence: u8,
    out: u32,
) -> Result<(), Errno> {
    if let Some(h) = host_file(g, fd) {
        let pos = match whence {
            0 => std::io::SeekFrom::Start(u64::try_from(delta).map_err(|_| Errno::INVAL)?),
            1 => std::io::SeekFrom::Current(delta),
            2 => std::io::SeekFrom::End(delta),
            _ => return Err(Errno::INVAL),
        };
        let pos = h.seek(pos).map_err(|e| io_errno(&e))?;
        return m.write_u64(out, pos);
    }
    let f = file(g, fd)?;
    let base = match whence {
        0 => 0,
        1 => f.position() as i64,
        2 => f.vfs().stat(f.ino())?.size as i64,
        _ => return Err(Errno::INVAL),
    };
    let pos = base
        .checked_add(delta)
        .filter(|p| *p >= 0)
        .ok_or(Errno::INVAL)?;
    f.set_position(pos as u64);
    m.write_u64(out, pos as u64)
}

pub fn fd_tell(m: &mut Mem, g: &mut Guest, fd: u32, out: u32) -> Result<(), Errno> {
    if let Some(h) = host_file(g, fd) {
        let pos = h
            .seek(std::io::SeekFrom::Current(0))
            .map_err(|e| io_errno(&e))?;
        return m.write_u64(out, pos);
    }
    let f = file(g, fd)?;
    m.write_u64(out, f.position())
}

pub fn fd_close(g: &mut Guest, fd: u32) -> Result<(), Errno> {
    g.fds.remove(fd).map(drop)
}

pub fn fd_renumber(g: &mut Guest, from: u32, to: u32) -> Result<(), Errno> {
    g.fds.get(to)?;
    let entry = g.fds.remove(from)?;
    g.fds.set(to, entry);
    Ok(())
}

/// Is the host's `fd` a terminal?
fn host_isatty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor number.
    unsafe { libc::isatty(fd) == 1 }
}

pub fn fd_fdstat_get(m: &mut Mem, g: &mut Guest, fd: u32, out: u32) -> Result<(), Errno> {
    // A character device without seek/tell rights is how wasi-libc's isatty() recognises a tty.
    let stream = rights::ALL & !(rights::FD_SEEK | rights::FD_TELL);
    let (ft, flags, base) = match g.fds.get(fd)? {
        Fd::Dir(_) | Fd::HostDir(_) => (filetype::DIRECTORY, 0, rights::ALL),
        Fd::Handle(h) => match h {
            Handle::HostFile(f) => (
                filetype::REGULAR_FILE,
                if f.append() { abi::FDFLAGS_APPEND } else { 0 },
                rights::ALL,
            ),
            Handle::File(f) => {
                let append = f.append.load(Ordering::Relaxed);
                (
                    filetype::REGULAR_FILE,
                    if append { abi::FDFLAGS_APPEND } else { 0 },
                    rights::ALL,
                )
            }
            Handle::Null => (filetype::CHARACTER_DEVICE, 0, rights::ALL),
            Handle::HostStdin if host_isatty(0) => (filetype::CHARACTER_DEVICE, 0, stream),
            Handle::HostStdout if host_isatty(1) => (filetype::CHARACTER_DEVICE, 0, stream),
            Handle::HostStderr if host_isatty(2) => (filetype::CHARACTER_DEVICE, 0, stream),
            _ => (filetype::UNKNOWN, 0, stream),
        },
    };
    let mut rec = [0u8; 24];
    rec[0] = ft;
    rec[2..4].copy_from_slice(&flags.to_le_bytes());
    rec[8..16].copy_from_slice(&base.to_le_bytes());
    rec[16..24].copy_from_slice(&base.to_le_bytes());
    m.write(out, &rec)
}

pub fn fd_fdstat_set_flags(g: &mut Guest, fd: u32, flags: u16) -> Result<(), Errno> {
    match g.fds.get(fd)? {
        Fd::Handle(Handle::File(f)) => {
            f.append
                .store(flags & abi::FDFLAGS_APPEND != 0, Ordering::Relaxed);
            Ok(())
        }
        Fd::Handle(Handle::HostFile(f)) => Ok(f.set_append(flags & abi::FDFLAGS_APPEND != 0)?),
        Fd::Handle(_) | Fd::Dir(_) | Fd::HostDir(_) => Ok(()),
    }
}

pub fn fd_filestat_get(m: &mut Mem, g: &mut Guest, fd: u32, out: u32) -> Result<(), Errno> {
    let st = match g.fds.get(fd)? {
        Fd::Dir(d) => FileStat::of(&g.vfs.stat(d.ino)?),
        Fd::HostDir(h) => host_filestat(&h.mount.stat(&h.rel, true)?),
        Fd::Handle(Handle::File(f)) => FileStat::of(&f.vfs().stat(f.ino())?),
        Fd::Handle(Handle::HostFile(f)) => host_filestat(&f.stat()?),
        Fd::Handle(Handle::Null) => FileStat {
            filetype: filetype::CHARACTER_DEVICE,
            nlink: 1,
            ..Default::default()
        },
        Fd::Handle(_) => FileStat {
            filetype: filetype::UNKNOWN,
            nlink: 1,
            ..Default::default()
        },
    };
    abi::write_filestat(m, out, &st)
}

pub fn fd_filestat_set_size(g: &mut Guest, fd: u32, size: u64) -> Result<(), Errno> {
    if let Some(h) = host_file(g, fd) {
        return Ok(h.truncate(size)?);
    }
    let f = file(g, fd)?;
    need_writable(g, &f)?;
    Ok(f.vfs().truncate(f.ino(), size)?)
}

pub fn fd_allocate(g: &mut Guest, fd: u32, off: u64, len: u64) -> Result<(), Errno> {
    let end = off.checked_add(len).ok_or(Errno::FBIG)?;
    if let Some(h) = host_file(g, fd) {
        if h.stat()?.size < end {
            h.truncate(end)?;
        }
        return Ok(());
    }
    let f = file(g, fd)?;
    need_writable(g, &f)?;
    if f.vfs().stat(f.ino())?.size < end {
        f.vfs().truncate(f.ino(), end)?;
    }
    Ok(())
}

/// ftruncate(2) and fallocate(2) of a non-root guest need a descriptor open for writing.
fn need_writable(g: &Guest, f: &FileHandle) -> Result<(), Errno> {
    if !g.creds.is_root() && !f.writable {
        return Err(Errno::INVAL);
    }
    Ok(())
}

fn set_times(
    atim: u64,
    mtim: u64,
    flags: u16,
) -> Result<(Option<SetTime>, Option<SetTime>), Errno> {
    let pick = |set: u16, now: u16, t: u64| -> Result<Option<SetTime>, Errno> {
        match (flags & set != 0, flags & now != 0) {
            (true, true) => Err(Errno::INVAL),
            (true, false) => Ok(Some(SetTime::At(abi::from_timestamp(t)))),
            (false, true) => Ok(Some(SetTime::Now)),
            (false, false) => Ok(None),
        }
    };
    Ok((
        pick(fstflags::ATIM, fstflags::ATIM_NOW, atim)?,
        pick(fstflags::MTIM, fstflags::MTIM_NOW, mtim)?,
    ))
}

pub fn fd_filestat_set_times(
    g: &mut Guest,
    fd: u32,
    atim: u64,
    mtim: u64,
    flags: u16,
) -> Result<(), Errno> {
    let (a, mt) = set_times(atim, mtim, flags)?;
    let ino = match g.fds.get(fd)? {
        Fd::Dir(d) => d.ino,
        Fd::Handle(Handle::File(f)) => f.ino(),
        Fd::HostDir(h) => return Ok(h.mount.set_times(&h.rel, true, a, mt)?),
        Fd::Handle(Handle::HostFile(f)) => return Ok(f.set_times(a, mt)?),
        Fd::Handle(_) => return Err(Errno::BADF),
    };
    access::may_set_times_of(&g.vfs, &g.creds, ino, flags)?;
    Ok(g.vfs.set_times(ino, a, mt)?)
}

pub fn fd_prestat_get(m: &mut Mem, g: &mut Guest, fd: u32, out: u32) -> Result<(), Errno> {
    let name = preopen_name(g, fd)?;
    m.write_u32(out, 0)?;
    m.write_u32(out + 4, name.len() as u32)
}

pub fn fd_prestat_dir_name(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    ptr: u32,
    len: u32,
) -> Result<(), Errno> {
    let name = preopen_name(g, fd)?.to_vec();
    if (len as usize) < name.len() {
        return Err(Errno::NAMETOOLONG);
    }
    m.write(ptr, &name)
}

/// The name `fd` was preopened under, or EBADF.
fn preopen_name(g: &Guest, fd: u32) -> Result<&[u8], Errno> {
    match g.fds.get(fd)? {
        Fd::Dir(DirFd {
            preopen: Some(name),
            ..
        })
        | Fd::HostDir(HostDirFd {
            preopen: Some(name),
            ..
        }) => Ok(name),
        _ => Err(Errno::BADF),
    }
}

pub fn fd_readdir(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    buf: u32,
    len: u32,
    cookie: u64,
    out: u32,
) -> Result<(), Errno> {
    let vfs = g.vfs.clone();
    let listing = match g.fds.get_mut(fd)? {
        Fd::Dir(dir) => {
            if cookie == 0 || dir.listing.is_none() {
                dir.listing = Some(vfs.readdir(dir.ino)?);
            }
            dir.listing.as_ref().unwrap()
        }
        Fd::HostDir(dir) => {
            if cookie == 0 || dir.listing.is_none() {
                dir.listing = Some(dir.mount.read_dir(&dir.rel)?);
            }
            dir.listing.as_ref().unwrap()
        }
        Fd::Handle(_) => return Err(Errno::NOTDIR),
    };
    // Entries are laid end to end; the last may be cut short, which tells the
    // guest (bufused == len) to come back with a larger buffer or next cookie.
    let mut bytes = Vec::new();
    for (i, e) in listing.iter().enumerate().skip(cookie as usize) {
        if bytes.len() >= len as usize {
            break;
        }
        let mut rec = [0u8; 24];
        rec[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        rec[8..16].copy_from_slice(&(e.ino as u64).to_le_bytes());
        rec[16..20].copy_from_slice(&(e.name.len() as u32).to_le_bytes());
        rec[20] = abi::filetype_of(e.kind);
        bytes.extend_from_slice(&rec);
        bytes.extend_from_slice(&e.name);
    }
    let used = bytes.len().min(len as usize);
    m.write(buf, &bytes[..used])?;
    m.write_u32(out, used as u32)
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
    // The directory's guest path, when known, names what it opens.
    let dir_path = match g.fds.get(fd)? {
        Fd::Dir(d) => d.path.clone(),
        Fd::HostDir(h) => Some(h.guest_path()),
        Fd::Handle(_) => None,
    };
    let entry = match at(g, fd, path.clone())? {
        At::Image(base, path) => {
            let child_path = dir_path.map(|d| crate::mounts::normalize(&d, &path));
            open_in_image(g, base, &path, follow, oflags, opts, child_path)?
        }
        At::Host(mount, rel) => {
            let want_dir = oflags & oflags::DIRECTORY != 0;
            host_access::may_open(&mount, &g.creds, &rel, follow, &opts)?;
            let existed = opts.create && mount.stat(&rel, follow).is_ok();
            let opened = mount.open(&rel, opts, follow, want_dir, 0o666 & !g.umask)?;
            if opts.create && !existed {
                host_access::own_new(&mount, &g.creds, &rel);
            }
            match opened {
                Opened::Dir => Fd::HostDir(HostDirFd {
                    mount,
                    rel,
                    preopen: None,
                    listing: None,
                }),
                Opened::File(f) => Fd::Handle(Handle::HostFile(f)),
            }
        }
    };
    let n = g.fds.insert(entry);
    m.write_u32(out, n)
}

/// path_open for a path in the image.
fn open_in_image(
    g: &Guest,
    base: Ino,
    path: &[u8],
    follow: bool,
    oflags: u16,
    opts: OpenOptions,
    child_path: Option<Vec<u8>>,
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
    let st = vfs.stat(ino)?;
    // A file the caller just made opens whatever its mode says, as with open(2).
    let check = |st: &fsimage::Stat| match created {
        true => Ok(()),
        false => access::may_open(c, st, &opts),
    };
    Ok(match st.kind {
        FileType::Directory => {
            if opts.write && oflags & oflags::DIRECTORY == 0 {
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
        _ => {
            check(&st)?;
            if opts.truncate && st.size != 0 {
                vfs.truncate(ino, 0)?;
            }
            Fd::Handle(Handle::File(Arc::new(FileHandle::from_ino(
                &vfs, ino, opts,
            ))))
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
    let st = match at(g, fd, path)? {
        At::Image(base, path) => FileStat::of(
            &g.vfs
                .stat(access::resolve(&g.vfs, &g.creds, base, &path, follow)?)?,
        ),
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

pub fn path_symlink(g: &mut Guest, target: Vec<u8>, fd: u32, path: Vec<u8>) -> Result<(), Errno> {
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
