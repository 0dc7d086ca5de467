//! Descriptor and path calls: every file a guest sees lives in the image.

use std::io::ErrorKind;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use fsimage::{FileType, SetTime};

use super::Guest;
use super::abi::{self, Errno, FileStat, Mem, filetype, fstflags, oflags, rights};
use super::fdtable::{DirFd, Fd};
use crate::io::{FileHandle, Handle, OpenOptions};

/// SIGPIPE's default action: the writer stops with status 128 + 13.
const SIGPIPE_STATUS: i32 = 128 + 13;

fn io_errno(e: &std::io::Error) -> Errno {
    match e.kind() {
        ErrorKind::BrokenPipe => Errno::PIPE,
        ErrorKind::Interrupted => Errno::INTR,
        ErrorKind::WouldBlock => Errno::AGAIN,
        _ => match e.raw_os_error() {
            Some(libc::EBADF) => Errno::BADF,
            Some(libc::ENOSPC) => Errno::NOSPC,
            _ => Errno::IO,
        },
    }
}

/// The file behind `fd` if it is a regular file in the image.
fn file(g: &Guest, fd: u32) -> Result<Arc<FileHandle>, Errno> {
    match g.fds.get(fd)? {
        Fd::Handle(Handle::File(f)) => Ok(f.clone()),
        Fd::Handle(_) => Err(Errno::SPIPE),
        Fd::Dir(_) => Err(Errno::ISDIR),
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
        Fd::Dir(_) => return Err(Errno::BADF),
    };
    if let Handle::File(f) = &handle
        && !f.writable
    {
        return Err(Errno::BADF);
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
            Fd::Dir(_) => return Err(Errno::ISDIR),
        };
        match &handle {
            Handle::File(f) => {
                if !f.readable {
                    return Err(Errno::BADF);
                }
                Ok(f.read(buf)?)
            }
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
        Fd::Dir(_) => (filetype::DIRECTORY, 0, rights::ALL),
        Fd::Handle(h) => match h {
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
        Fd::Handle(_) | Fd::Dir(_) => Ok(()),
    }
}

pub fn fd_filestat_get(m: &mut Mem, g: &mut Guest, fd: u32, out: u32) -> Result<(), Errno> {
    let st = match g.fds.get(fd)? {
        Fd::Dir(d) => FileStat::of(&g.vfs.stat(d.ino)?),
        Fd::Handle(Handle::File(f)) => FileStat::of(&f.vfs().stat(f.ino())?),
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
    let f = file(g, fd)?;
    Ok(f.vfs().truncate(f.ino(), size)?)
}

pub fn fd_allocate(g: &mut Guest, fd: u32, off: u64, len: u64) -> Result<(), Errno> {
    let f = file(g, fd)?;
    let end = off.checked_add(len).ok_or(Errno::FBIG)?;
    if f.vfs().stat(f.ino())?.size < end {
        f.vfs().truncate(f.ino(), end)?;
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
    let ino = match g.fds.get(fd)? {
        Fd::Dir(d) => d.ino,
        Fd::Handle(Handle::File(f)) => f.ino(),
        Fd::Handle(_) => return Err(Errno::BADF),
    };
    let (a, mt) = set_times(atim, mtim, flags)?;
    Ok(g.vfs.set_times(ino, a, mt)?)
}

pub fn fd_prestat_get(m: &mut Mem, g: &mut Guest, fd: u32, out: u32) -> Result<(), Errno> {
    match g.fds.get(fd)? {
        Fd::Dir(DirFd {
            preopen: Some(name),
            ..
        }) => {
            m.write_u32(out, 0)?;
            m.write_u32(out + 4, name.len() as u32)
        }
        _ => Err(Errno::BADF),
    }
}

pub fn fd_prestat_dir_name(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    ptr: u32,
    len: u32,
) -> Result<(), Errno> {
    match g.fds.get(fd)? {
        Fd::Dir(DirFd {
            preopen: Some(name),
            ..
        }) => {
            if (len as usize) < name.len() {
                return Err(Errno::NAMETOOLONG);
            }
            m.write(ptr, name)
        }
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
    let dir = match g.fds.get_mut(fd)? {
        Fd::Dir(d) => d,
        Fd::Handle(_) => return Err(Errno::NOTDIR),
    };
    if cookie == 0 || dir.listing.is_none() {
        dir.listing = Some(vfs.readdir(dir.ino)?);
    }
    let listing = dir.listing.as_ref().unwrap();
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
    let base = g.fds.dir(fd)?;
    let follow = dirflags & abi::LOOKUP_SYMLINK_FOLLOW != 0;
    let vfs = g.vfs.clone();
    let ino = match vfs.resolve(base, &path, follow) {
        Ok(_) if oflags & oflags::CREAT != 0 && oflags & oflags::EXCL != 0 => {
            return Err(Errno::EXIST);
        }
        Ok(ino) => ino,
        Err(e) if oflags & oflags::CREAT != 0 && e.errno() == fsimage::Errno::NoEnt => {
            if path.ends_with(b"/") {
                return Err(Errno::ISDIR);
            }
            let (dir, name) = vfs.resolve_parent(base, &path)?;
            vfs.create(dir, &name, 0o666 & !g.umask)?
        }
        Err(e) => return Err(e.into()),
    };
    let st = vfs.stat(ino)?;
    let write = rights_base & rights::FD_WRITE != 0 || fdflags & abi::FDFLAGS_APPEND != 0;
    let entry = match st.kind {
        FileType::Directory => {
            if write && oflags & oflags::DIRECTORY == 0 {
                return Err(Errno::ISDIR);
            }
            Fd::Dir(DirFd {
                ino,
                preopen: None,
                listing: None,
            })
        }
        _ if oflags & oflags::DIRECTORY != 0 => return Err(Errno::NOTDIR),
        // O_NOFOLLOW on a symlink fails as POSIX says.
        FileType::Symlink => return Err(Errno::LOOP),
        _ => {
            if oflags & oflags::TRUNC != 0 && st.size != 0 {
                vfs.truncate(ino, 0)?;
            }
            let opts = OpenOptions {
                read: rights_base & rights::FD_READ != 0,
                write,
                append: fdflags & abi::FDFLAGS_APPEND != 0,
                ..Default::default()
            };
            Fd::Handle(Handle::File(Arc::new(FileHandle::from_ino(
                &vfs, ino, opts,
            ))))
        }
    };
    let n = g.fds.insert(entry);
    m.write_u32(out, n)
}

pub fn path_filestat_get(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    flags: u32,
    path: Vec<u8>,
    out: u32,
) -> Result<(), Errno> {
    let base = g.fds.dir(fd)?;
    let ino = g
        .vfs
        .resolve(base, &path, flags & abi::LOOKUP_SYMLINK_FOLLOW != 0)?;
    abi::write_filestat(m, out, &FileStat::of(&g.vfs.stat(ino)?))
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
    let base = g.fds.dir(fd)?;
    let ino = g
        .vfs
        .resolve(base, &path, flags & abi::LOOKUP_SYMLINK_FOLLOW != 0)?;
    let (a, mt) = set_times(atim, mtim, fst)?;
    Ok(g.vfs.set_times(ino, a, mt)?)
}

pub fn path_create_directory(g: &mut Guest, fd: u32, path: Vec<u8>) -> Result<(), Errno> {
    let (dir, name) = g.vfs.resolve_parent(g.fds.dir(fd)?, &path)?;
    g.vfs.mkdir(dir, &name, 0o777 & !g.umask)?;
    Ok(())
}

pub fn path_remove_directory(g: &mut Guest, fd: u32, path: Vec<u8>) -> Result<(), Errno> {
    let (dir, name) = g.vfs.resolve_parent(g.fds.dir(fd)?, &path)?;
    Ok(g.vfs.rmdir(dir, &name)?)
}

pub fn path_unlink_file(g: &mut Guest, fd: u32, path: Vec<u8>) -> Result<(), Errno> {
    let (dir, name) = g.vfs.resolve_parent(g.fds.dir(fd)?, &path)?;
    if path.ends_with(b"/") {
        // "file/" names a directory or nothing.
        let ino = g.vfs.lookup(dir, &name)?;
        if g.vfs.stat(ino)?.kind != FileType::Directory {
            return Err(Errno::NOTDIR);
        }
        return Err(Errno::ISDIR);
    }
    Ok(g.vfs.unlink(dir, &name)?)
}

pub fn path_rename(
    g: &mut Guest,
    fd: u32,
    from: Vec<u8>,
    to_fd: u32,
    to: Vec<u8>,
) -> Result<(), Errno> {
    let (fdir, fname) = g.vfs.resolve_parent(g.fds.dir(fd)?, &from)?;
    let (tdir, tname) = g.vfs.resolve_parent(g.fds.dir(to_fd)?, &to)?;
    Ok(g.vfs.rename(fdir, &fname, tdir, &tname)?)
}

pub fn path_symlink(g: &mut Guest, target: Vec<u8>, fd: u32, path: Vec<u8>) -> Result<(), Errno> {
    let (dir, name) = g.vfs.resolve_parent(g.fds.dir(fd)?, &path)?;
    g.vfs.symlink(dir, &name, &target)?;
    Ok(())
}

pub fn path_link(
    g: &mut Guest,
    fd: u32,
    flags: u32,
    from: Vec<u8>,
    to_fd: u32,
    to: Vec<u8>,
) -> Result<(), Errno> {
    let ino = g.vfs.resolve(
        g.fds.dir(fd)?,
        &from,
        flags & abi::LOOKUP_SYMLINK_FOLLOW != 0,
    )?;
    if g.vfs.stat(ino)?.kind == FileType::Directory {
        return Err(Errno::PERM);
    }
    let (dir, name) = g.vfs.resolve_parent(g.fds.dir(to_fd)?, &to)?;
    Ok(g.vfs.link(ino, dir, &name)?)
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
    let ino = g.vfs.resolve(g.fds.dir(fd)?, &path, false)?;
    if g.vfs.stat(ino)?.kind != FileType::Symlink {
        return Err(Errno::INVAL);
    }
    let target = g.vfs.readlink(ino)?;
    let n = target.len().min(len as usize);
    m.write(buf, &target[..n])?;
    m.write_u32(out, n as u32)
}
