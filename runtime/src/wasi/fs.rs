//! Descriptor calls (`fd_*`): reads, writes, seeks, stats and listings of what a
//! guest has open, in the image or on a host mount. Path calls are in `path_calls`.

use std::io::ErrorKind;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use fsimage::SetTime;

use super::Guest;
use super::abi::{self, Errno, FileStat, Mem, filetype, fstflags, rights};
use super::access;
use super::fdtable::{DirFd, Fd, HostDirFd};
use crate::io::{FileHandle, Handle, host_isatty};
use crate::mounts::HostFile;

/// Stat of a host file as guests see it: a device of its own.
pub(super) fn host_filestat(st: &fsimage::Stat) -> FileStat {
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
        Fd::Handle(_) | Fd::Socket(_) => Err(Errno::SPIPE),
        Fd::Dir(_) | Fd::HostDir(_) => Err(Errno::ISDIR),
    }
}

/// The synthesized device behind `fd`, if it is one: Linux lets a program seek it
/// (to 0) and read or write it at any offset, which some tools (dd, tail) do.
fn device(g: &Guest, fd: u32) -> Option<Handle> {
    match g.fds.get(fd) {
        Ok(Fd::Handle(h)) if h.is_device() => Some(h.clone()),
        _ => None,
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
    let handle = match g.fds.get(fd)? {
        Fd::Handle(h) => h.clone(),
        // Rust's std writes a TcpStream with fd_write.
        Fd::Socket(_) => return super::net::sock_send(m, g, fd, iovs, n, out),
        Fd::Dir(_) | Fd::HostDir(_) => return Err(Errno::BADF),
    };
    match &handle {
        Handle::File(f) if !f.writable => return Err(Errno::BADF),
        Handle::HostFile(f) if !f.writable => return Err(Errno::BADF),
        _ => {}
    }
    // One buffer (what `write(2)` passes) is written straight from guest memory.
    let vecs = m.iovecs(iovs, n)?;
    let mut nonempty = vecs.iter().filter(|v| v.1 > 0);
    let written = match (nonempty.next(), nonempty.next()) {
        (Some(&(ptr, len)), None) => handle.write_all(m.slice(ptr, len)?).map(|()| len as usize),
        // Nothing to write still reaches the handle: /dev/full fails it, as on Linux.
        (None, _) => handle.write_all(&[]).map(|()| 0),
        _ => {
            let data = m.gather(iovs, n)?;
            handle.write_all(&data).map(|()| data.len())
        }
    };
    match written {
        Ok(len) => m.write_u32(out, len as u32),
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
            Fd::Socket(_) => return super::net::recv(g, fd, buf, false),
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
            Handle::HostStdin => match crate::io::wait_host_stdin(&g.interrupt, &g.paused) {
                Ok(()) => Handle::HostStdin.read(buf).map_err(|e| io_errno(&e)),
                Err(e) => Err(stopped(g, &e)),
            },
            h => h.read(buf).map_err(|e| io_errno(&e)),
        }
    })
}

/// Fills the guest's iovec array through `read` (at most 1 MiB a call) and stores
/// the count of bytes copied at `out`. One buffer (what `read(2)` passes) is read
/// into straight from guest memory; several go through a scratch buffer kept per
/// thread, so a read never allocates and zeroes memory of its own.
fn read_iovecs(
    m: &mut Mem,
    iovs: u32,
    n: u32,
    out: u32,
    read: impl FnOnce(&mut [u8]) -> Result<usize, Errno>,
) -> Result<(), Errno> {
    let vecs = m.iovecs(iovs, n)?;
    let mut nonempty = vecs.iter().filter(|v| v.1 > 0);
    let got = match (nonempty.next(), nonempty.next()) {
        (Some(&(ptr, len)), None) => read(m.slice_mut(ptr, len.min(READ_MAX as u32))?)?,
        _ => {
            let want = vecs
                .iter()
                .map(|v| v.1 as usize)
                .sum::<usize>()
                .min(READ_MAX);
            SCRATCH.with_borrow_mut(|buf| {
                if buf.len() < want {
                    buf.resize(want, 0);
                }
                let got = read(&mut buf[..want])?;
                m.scatter(&vecs, &buf[..got])
            })?
        }
    };
    m.write_u32(out, got as u32)
}

/// The most one read hands a guest.
const READ_MAX: usize = 1 << 20;

thread_local! {
    /// Where a read into several guest buffers lands before it is scattered.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
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
    if let Some(d) = device(g, fd) {
        return read_iovecs(m, iovs, n, out, |buf| d.read(buf).map_err(|e| io_errno(&e)));
    }
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
    if let Some(d) = device(g, fd) {
        let data = m.gather(iovs, n)?;
        d.write_all(&data).map_err(|e| io_errno(&e))?;
        return m.write_u32(out, data.len() as u32);
    }
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
    if device(g, fd).is_some() {
        return m.write_u64(out, 0);
    }
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
    if device(g, fd).is_some() {
        return m.write_u64(out, 0);
    }
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
/// Rights of a file open for reading and/or writing.
fn file_rights(readable: bool, writable: bool) -> u64 {
    let mut r = rights::FILE;
    if !readable {
        r &= !rights::FD_READ;
    }
    if !writable {
        r &= !rights::FD_WRITE;
    }
    r
}

/// fd_fdstat_get: rights follow what the descriptor is and how it was opened (as
/// wasmtime reports them): a directory has path rights but cannot seek or be
/// resized, and passes file rights on; a file lacks FD_READ / FD_WRITE when not
/// open for them; a stream cannot seek.
pub fn fd_fdstat_get(m: &mut Mem, g: &mut Guest, fd: u32, out: u32) -> Result<(), Errno> {
    // A character device without seek/tell rights is how wasi-libc's isatty() recognises a tty.
    let stream = rights::FILE & !(rights::FD_SEEK | rights::FD_TELL);
    let reader = stream & !rights::FD_WRITE;
    let writer = stream & !rights::FD_READ;
    let tty = filetype::CHARACTER_DEVICE;
    let (ft, flags, base, inheriting) = match g.fds.get(fd)? {
        Fd::Dir(_) | Fd::HostDir(_) => (
            filetype::DIRECTORY,
            0,
            rights::DIR,
            rights::DIR | rights::FILE,
        ),
        Fd::Socket(s) => {
            let (ft, flags, base) = super::net::fdstat(s);
            (ft, flags, base, base)
        }
        Fd::Handle(h) => {
            let (ft, flags, base) = match h {
                Handle::HostFile(f) => (
                    filetype::REGULAR_FILE,
                    f.sync | if f.append() { abi::FDFLAGS_APPEND } else { 0 },
                    file_rights(f.readable, f.writable),
                ),
                Handle::File(f) => {
                    let append = f.append.load(Ordering::Relaxed);
                    (
                        filetype::REGULAR_FILE,
                        f.sync | if append { abi::FDFLAGS_APPEND } else { 0 },
                        file_rights(f.readable, f.writable),
                    )
                }
                Handle::Null | Handle::Device(_) => (filetype::CHARACTER_DEVICE, 0, rights::FILE),
                Handle::HostStdin if host_isatty(0) => (tty, 0, reader),
                Handle::HostStdout if host_isatty(1) => (tty, 0, writer),
                Handle::HostStderr if host_isatty(2) => (tty, 0, writer),
                Handle::HostStdin | Handle::PipeRead(_) => (filetype::UNKNOWN, 0, reader),
                Handle::HostStdout | Handle::HostStderr | Handle::PipeWrite(_) => {
                    (filetype::UNKNOWN, 0, writer)
                }
            };
            (ft, flags, base, base)
        }
    };
    let mut rec = [0u8; 24];
    rec[0] = ft;
    rec[2..4].copy_from_slice(&flags.to_le_bytes());
    rec[8..16].copy_from_slice(&base.to_le_bytes());
    rec[16..24].copy_from_slice(&inheriting.to_le_bytes());
    m.write(out, &rec)
}

/// fd_fdstat_set_rights: ENOTSUP for any open descriptor, as wasmtime answers
/// (rights are reported from how a descriptor was opened, not kept per
/// descriptor, so they cannot be narrowed; preview2 dropped them).
pub fn fd_fdstat_set_rights(g: &mut Guest, fd: u32) -> Result<(), Errno> {
    g.fds.get(fd)?;
    Err(Errno::NOTSUP)
}

pub fn fd_fdstat_set_flags(g: &mut Guest, fd: u32, flags: u16) -> Result<(), Errno> {
    match g.fds.get_mut(fd)? {
        Fd::Handle(Handle::File(f)) => {
            f.append
                .store(flags & abi::FDFLAGS_APPEND != 0, Ordering::Relaxed);
            Ok(())
        }
        Fd::Handle(Handle::HostFile(f)) => Ok(f.set_append(flags & abi::FDFLAGS_APPEND != 0)?),
        Fd::Socket(s) => {
            s.nonblocking = flags & super::net::FDFLAGS_NONBLOCK != 0;
            Ok(())
        }
        Fd::Handle(_) | Fd::Dir(_) | Fd::HostDir(_) => Ok(()),
    }
}

pub fn fd_filestat_get(m: &mut Mem, g: &mut Guest, fd: u32, out: u32) -> Result<(), Errno> {
    let st = match g.fds.get(fd)? {
        Fd::Dir(d) => FileStat::of(&g.vfs.stat(d.ino)?),
        Fd::HostDir(h) => host_filestat(&h.mount.stat(&h.rel, true)?),
        Fd::Handle(Handle::File(f)) => FileStat::of(&f.vfs().stat(f.ino())?),
        Fd::Handle(Handle::HostFile(f)) => host_filestat(&f.stat()?),
        Fd::Handle(Handle::Null | Handle::Device(_)) => super::path_calls::device_filestat(),
        Fd::Socket(_) => FileStat {
            filetype: filetype::SOCKET_STREAM,
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

pub(super) fn set_times(
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
        Fd::Handle(_) | Fd::Socket(_) => return Err(Errno::BADF),
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
                let mut listing = vfs.readdir(dir.ino)?;
                if dir.path.as_deref() == Some(b"/proc")
                    && let Some(rt) = &g.runtime
                {
                    listing = rt.proc_listing(listing);
                }
                dir.listing = Some(listing);
            }
            dir.listing.as_ref().unwrap()
        }
        Fd::HostDir(dir) => {
            if cookie == 0 || dir.listing.is_none() {
                dir.listing = Some(dir.mount.read_dir(&dir.rel)?);
            }
            dir.listing.as_ref().unwrap()
        }
        Fd::Handle(_) | Fd::Socket(_) => return Err(Errno::NOTDIR),
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
