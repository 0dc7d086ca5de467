//! Open file descriptions shared by the broker, the interpreter and builtins:
//! pipes between pipeline stages, files in the image, the host terminal.
//!
//! A [`Handle`] is cheap to clone; clones share one description (offset, append
//! flag), as `dup` does. A pipe's write end counts its clones: when the last one
//! is dropped the reader sees EOF; when every read end is gone a write fails with
//! `BrokenPipe`.

use std::collections::VecDeque;
use std::io;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use fsimage::{Ino, Vfs};

/// How many bytes a pipe buffers before its writer blocks. Larger than Linux's
/// 64 KiB default: every time a side blocks costs a context switch, and a guest's
/// pipe buffer only grows to this size when its reader lags (it starts small).
pub const PIPE_CAPACITY: usize = 1024 * 1024;

/// How much room a blocked writer waits for before it is woken (or less, when it
/// has less to write): waking it for every few bytes a reader takes makes both
/// sides trade the CPU in tiny steps.
const WRITE_LOW_WATER: usize = PIPE_CAPACITY / 4;

/// How often a blocked read looks at its guest's stop flag.
const STOP_CHECK: std::time::Duration = std::time::Duration::from_millis(10);

struct PipeState {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
    /// Threads blocked in a read, in a write, and in [`Pipe::wait_change`]: each
    /// condition variable is signalled only when someone waits on it.
    read_waiters: usize,
    write_waiters: usize,
    watchers: usize,
    /// The least room any blocked writer waits for (`usize::MAX` when none).
    write_need: usize,
}

impl Default for PipeState {
    fn default() -> PipeState {
        PipeState {
            buf: VecDeque::new(),
            readers: 0,
            writers: 0,
            read_waiters: 0,
            write_waiters: 0,
            watchers: 0,
            write_need: usize::MAX,
        }
    }
}

/// The shared buffer of one pipe.
#[derive(Default)]
pub struct Pipe {
    state: Mutex<PipeState>,
    /// Signalled when an empty pipe gets data or loses its last writer.
    readable: Condvar,
    /// Signalled when a full pipe has room a blocked writer waits for, or loses its last reader.
    writable: Condvar,
    /// Signalled on any change while someone polls ([`Pipe::wait_change`]).
    changed: Condvar,
}

impl Pipe {
    /// Blocks until data or EOF; returns 0 at EOF.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut st = self.state.lock().unwrap();
        loop {
            if let Some(n) = self.take(&mut st, buf) {
                return Ok(n);
            }
            st.read_waiters += 1;
            st = self.readable.wait(st).unwrap();
            st.read_waiters -= 1;
        }
    }

    /// Copies buffered bytes into `buf` (waking a writer that waits for the room);
    /// `Some(0)` at EOF, `None` when a reader has to wait.
    fn take(&self, st: &mut PipeState, buf: &mut [u8]) -> Option<usize> {
        if st.buf.is_empty() {
            return (st.writers == 0 || buf.is_empty()).then_some(0);
        }
        let n = buf.len().min(st.buf.len());
        let (a, b) = st.buf.as_slices();
        let from_a = n.min(a.len());
        buf[..from_a].copy_from_slice(&a[..from_a]);
        buf[from_a..n].copy_from_slice(&b[..n - from_a]);
        st.buf.drain(..n);
        if st.write_waiters > 0 && PIPE_CAPACITY - st.buf.len() >= st.write_need {
            st.write_need = usize::MAX;
            self.writable.notify_all();
        }
        if st.watchers > 0 {
            self.changed.notify_all();
        }
        Some(n)
    }

    /// Like [`Pipe::read`], but gives up with `Interrupted` once `stop` is set
    /// (looked at every 10ms), so Ctrl-C reaches a guest waiting for input.
    pub fn read_or_stop(&self, buf: &mut [u8], stop: &AtomicBool) -> io::Result<usize> {
        let mut st = self.state.lock().unwrap();
        loop {
            if let Some(n) = self.take(&mut st, buf) {
                return Ok(n);
            }
            if stop.load(Ordering::Relaxed) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            st.read_waiters += 1;
            st = self.readable.wait_timeout(st, STOP_CHECK).unwrap().0;
            st.read_waiters -= 1;
        }
    }

    /// Blocks until all of `data` is buffered or every reader is gone.
    pub fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        let mut st = self.state.lock().unwrap();
        while !data.is_empty() {
            if st.readers == 0 {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            let room = PIPE_CAPACITY.saturating_sub(st.buf.len());
            if room == 0 {
                let need = data.len().min(WRITE_LOW_WATER);
                st.write_need = st.write_need.min(need);
                st.write_waiters += 1;
                st = self.writable.wait(st).unwrap();
                st.write_waiters -= 1;
                continue;
            }
            let n = room.min(data.len());
            let was_empty = st.buf.is_empty();
            st.buf.extend(&data[..n]);
            data = &data[n..];
            if was_empty && st.read_waiters > 0 {
                self.readable.notify_all();
            }
            if st.watchers > 0 {
                self.changed.notify_all();
            }
        }
        Ok(())
    }

    /// Bytes ready to read, and whether the write side is closed (for poll).
    pub fn readiness(&self) -> (usize, bool) {
        let st = self.state.lock().unwrap();
        (st.buf.len(), st.writers == 0)
    }

    /// Whether a write would not block: room in the buffer or no reader left.
    pub fn writable(&self) -> bool {
        let st = self.state.lock().unwrap();
        st.buf.len() < PIPE_CAPACITY || st.readers == 0
    }

    /// Blocks until the pipe's state changes or `timeout` passes (poll_oneoff).
    pub fn wait_change(&self, timeout: std::time::Duration) {
        let mut st = self.state.lock().unwrap();
        st.watchers += 1;
        st = self.changed.wait_timeout(st, timeout).unwrap().0;
        st.watchers -= 1;
    }

    /// Wakes every waiter: an end closed, which every kind of wait must see.
    fn wake_all(&self) {
        self.readable.notify_all();
        self.writable.notify_all();
        self.changed.notify_all();
    }
}

/// One end of a pipe; the pipe counts live ends of each kind.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    write: bool,
}

impl PipeEnd {
    /// The pipe this end belongs to.
    pub fn pipe(&self) -> &Arc<Pipe> {
        &self.pipe
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut st = self.pipe.state.lock().unwrap();
        if self.write {
            st.writers -= 1;
        } else {
            st.readers -= 1;
        }
        drop(st);
        self.pipe.wake_all();
    }
}

/// Options for opening a file in the image, as `open(2)` flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenOptions {
    pub read: bool,
    pub write: bool,
    pub create: bool,
    pub exclusive: bool,
    pub truncate: bool,
    pub append: bool,
}

/// An open regular file in the image with its own offset.
pub struct FileHandle {
    vfs: Arc<Vfs>,
    ino: Ino,
    pos: Mutex<u64>,
    /// Flags that may change after open (fd_fdstat_set_flags).
    pub append: std::sync::atomic::AtomicBool,
    pub readable: bool,
    pub writable: bool,
    /// The synchronous-write fdflags it was opened with, reported by fd_fdstat_get.
    pub sync: u16,
    /// The `flock` this open file description holds (released with it).
    lock: Mutex<Option<crate::locks::LockHold>>,
}

impl FileHandle {
    /// Opens (and, as asked, creates or truncates) `path`, relative to `base` unless absolute.
    pub fn open(
        vfs: &Arc<Vfs>,
        base: Ino,
        path: &[u8],
        opts: OpenOptions,
    ) -> fsimage::Result<FileHandle> {
        use fsimage::{Errno, Error};
        let ino = match vfs.resolve(base, path, true) {
            Ok(ino) if opts.create && opts.exclusive => {
                let _ = ino;
                return Err(Error::Errno(Errno::Exist));
            }
            Ok(ino) => ino,
            Err(e) if opts.create && e.errno() == Errno::NoEnt => {
                let (dir, name) = vfs.resolve_parent(base, path)?;
                vfs.create(dir, &name, 0o644)?
            }
            Err(e) => return Err(e),
        };
        let st = vfs.stat(ino)?;
        if st.kind == fsimage::FileType::Directory && (opts.write || opts.append) {
            return Err(Error::Errno(Errno::IsDir));
        }
        if opts.truncate && opts.write && st.size != 0 {
            vfs.truncate(ino, 0)?;
        }
        Ok(FileHandle::from_ino(vfs, ino, opts))
    }

    /// Wraps an inode already resolved by the caller.
    pub fn from_ino(vfs: &Arc<Vfs>, ino: Ino, opts: OpenOptions) -> FileHandle {
        vfs.open_ref(ino);
        FileHandle {
            vfs: vfs.clone(),
            ino,
            pos: Mutex::new(0),
            append: opts.append.into(),
            readable: opts.read,
            writable: opts.write || opts.append,
            sync: 0,
            lock: Mutex::new(None),
        }
    }

    /// The slot of this description's `flock`.
    pub(crate) fn lock_slot(&self) -> std::sync::MutexGuard<'_, Option<crate::locks::LockHold>> {
        self.lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The inode this handle reads and writes.
    pub fn ino(&self) -> Ino {
        self.ino
    }

    /// The file system this handle lives on.
    pub fn vfs(&self) -> &Arc<Vfs> {
        &self.vfs
    }

    /// Reads at the current offset and advances it.
    pub fn read(&self, buf: &mut [u8]) -> fsimage::Result<usize> {
        let mut pos = self.pos.lock().unwrap();
        let n = self.vfs.read(self.ino, *pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }

    /// Writes at the current offset (or the end, in append mode) and advances it.
    pub fn write(&self, data: &[u8]) -> fsimage::Result<usize> {
        let mut pos = self.pos.lock().unwrap();
        if self.append.load(std::sync::atomic::Ordering::Relaxed) {
            *pos = self.vfs.stat(self.ino)?.size;
        }
        let n = self.vfs.write(self.ino, *pos, data)?;
        *pos += n as u64;
        Ok(n)
    }

    /// The current offset.
    pub fn position(&self) -> u64 {
        *self.pos.lock().unwrap()
    }

    /// Moves the offset (the caller has computed the absolute target).
    pub fn set_position(&self, pos: u64) {
        *self.pos.lock().unwrap() = pos;
    }
}

impl Drop for FileHandle {
    fn drop(&mut self) {
        self.vfs.close_ref(self.ino);
    }
}

/// An open file description: what a guest's fd 0/1/2 or a redirection points at.
#[derive(Clone)]
pub enum Handle {
    /// Reads give EOF, writes are discarded (`/dev/null`).
    Null,
    /// The host process's stdin (the terminal or whatever wsh was given).
    HostStdin,
    /// The host process's stdout.
    HostStdout,
    /// The host process's stderr.
    HostStderr,
    /// The read end of a pipe.
    PipeRead(Arc<PipeEnd>),
    /// The write end of a pipe.
    PipeWrite(Arc<PipeEnd>),
    /// A regular file in the image.
    File(Arc<FileHandle>),
    /// A regular file in a host directory mounted into the guest's tree.
    HostFile(Arc<crate::mounts::HostFile>),
    /// A character device synthesized by wsh (never the host's).
    Device(Device),
}

/// The character devices of Linux's `/dev` that programs expect, besides `/dev/null`
/// ([`Handle::Null`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// `/dev/zero`: reads zeros, swallows writes.
    Zero,
    /// `/dev/urandom` and `/dev/random`: reads the host's CSPRNG, swallows writes.
    Random,
    /// `/dev/full`: reads zeros, every write fails with ENOSPC.
    Full,
}

/// The synthesized devices by name under `/dev`, with Linux's device numbers (major, minor).
const DEVICES: [(&[u8], Option<Device>, u64); 5] = [
    (b"null", None, 3),
    (b"zero", Some(Device::Zero), 5),
    (b"full", Some(Device::Full), 7),
    (b"random", Some(Device::Random), 8),
    (b"urandom", Some(Device::Random), 9),
];

/// The names of the synthesized devices in `/dev`.
pub fn device_names() -> impl Iterator<Item = &'static str> {
    DEVICES
        .iter()
        .map(|(name, ..)| std::str::from_utf8(name).unwrap_or_default())
}

/// The device an absolute, normalized guest path (`/dev/zero`) names, if any.
pub fn device_at(path: &[u8]) -> Option<Handle> {
    let name = path.strip_prefix(b"/dev/")?;
    DEVICES
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, dev, _)| dev.map_or(Handle::Null, Handle::Device))
}

/// The device whose placeholder in the image's `/dev` is `ino`, when a path
/// reached it other than by its name (a symlink such as `/tmp/n -> /dev/null`, a
/// hard link): opening it must not read or write the empty file behind it.
pub fn placeholder_device(vfs: &Vfs, ino: Ino) -> Option<Handle> {
    // Placeholders are empty regular files; anything else costs one stat.
    let st = vfs.stat(ino).ok()?;
    if st.kind != fsimage::FileType::Regular || st.size != 0 {
        return None;
    }
    let dev = vfs.lookup(vfs.root(), b"dev").ok()?;
    DEVICES
        .iter()
        .find(|(name, ..)| vfs.lookup(dev, name).is_ok_and(|i| i == ino))
        .map(|(_, dev, _)| dev.map_or(Handle::Null, Handle::Device))
}

impl Handle {
    /// The Linux device number (`makedev(1, minor)`) of a synthesized device, for stat.
    pub fn rdev(&self) -> Option<u64> {
        let dev = match self {
            Handle::Null => None,
            Handle::Device(d) => Some(*d),
            _ => return None,
        };
        // /dev/random and /dev/urandom share a Device; either number is honest enough.
        let minor = DEVICES.iter().find(|(_, d, _)| *d == dev).map(|e| e.2)?;
        Some((1 << 8) | minor)
    }

    /// Whether this is a device (null included): seeks succeed at offset 0 and
    /// positioned reads and writes act as plain ones, as on Linux.
    pub fn is_device(&self) -> bool {
        matches!(self, Handle::Null | Handle::Device(_))
    }
}

/// Makes a pipe: (read end, write end).
pub fn pipe() -> (Handle, Handle) {
    let pipe = Arc::new(Pipe::default());
    {
        let mut st = pipe.state.lock().unwrap();
        st.readers = 1;
        st.writers = 1;
    }
    let r = PipeEnd {
        pipe: pipe.clone(),
        write: false,
    };
    let w = PipeEnd { pipe, write: true };
    (
        Handle::PipeRead(Arc::new(r)),
        Handle::PipeWrite(Arc::new(w)),
    )
}

/// A new end of `pipe` (a named pipe's, opened by a reader or a writer).
pub(crate) fn pipe_end(pipe: &Arc<Pipe>, write: bool) -> Handle {
    {
        let mut st = pipe.state.lock().unwrap();
        if write {
            st.writers += 1;
        } else {
            st.readers += 1;
        }
    }
    let end = Arc::new(PipeEnd {
        pipe: pipe.clone(),
        write,
    });
    if write {
        Handle::PipeWrite(end)
    } else {
        Handle::PipeRead(end)
    }
}

impl Pipe {
    /// How many (read, write) ends are open.
    pub(crate) fn ends(&self) -> (usize, usize) {
        let st = self.state.lock().unwrap();
        (st.readers, st.writers)
    }
}

/// Waits until the host's fd 0 has input (or EOF/error) or `stop` is set; in the
/// latter case fails with `Interrupted`. A terminal read cannot be cancelled, so a
/// guest reading it must not block in `read` while Ctrl-C is pending.
pub fn wait_host_stdin(stop: &AtomicBool, paused: &AtomicBool) -> io::Result<()> {
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        // A stopped job does not read the terminal: what is typed goes to the shell.
        if paused.load(Ordering::Relaxed) {
            std::thread::sleep(STOP_CHECK);
            continue;
        }
        let mut pfd = libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, STOP_CHECK.as_millis() as libc::c_int) };
        // A job stopped while poll waited must leave what was typed to the shell.
        if n > 0 && !paused.load(Ordering::Relaxed) {
            return Ok(());
        }
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                // Let the read itself report the problem.
                return Ok(());
            }
        }
    }
}

/// Reads the host's fd 0 without std's buffering, so bytes a guest does not
/// consume stay in the host stream for the next reader.
fn read_host_stdin(buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is a valid, writable slice of `buf.len()` bytes.
        let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Whether the host's descriptor `fd` is a terminal.
pub(crate) fn host_isatty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor number.
    unsafe { libc::isatty(fd) == 1 }
}

/// Writes all of `data` to the host's descriptor `fd`, unbuffered.
fn write_host_fd(fd: i32, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        // SAFETY: `data` is a valid slice of `data.len()` bytes.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        data = &data[n as usize..];
    }
    Ok(())
}

/// Keeps the errno (ENOSPC, EROFS, ...) so the broker hands the guest the real cause
/// instead of EIO; other errors travel as themselves for fd_write's downcast.
fn fs_err(e: fsimage::Error) -> io::Error {
    match e {
        fsimage::Error::Errno(n) => io::Error::from_raw_os_error(n.raw()),
        e => io::Error::other(e),
    }
}

impl Handle {
    /// Reads some bytes; 0 means end of file.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Handle::Null | Handle::HostStdout | Handle::HostStderr | Handle::PipeWrite(_) => Ok(0),
            Handle::HostStdin => read_host_stdin(buf),
            Handle::PipeRead(end) => end.pipe.read(buf),
            Handle::File(f) => f.read(buf).map_err(fs_err),
            Handle::HostFile(f) => f.read(buf),
            Handle::Device(Device::Zero | Device::Full) => {
                buf.fill(0);
                Ok(buf.len())
            }
            Handle::Device(Device::Random) => {
                use rand::RngCore;
                rand::rng().fill_bytes(buf);
                Ok(buf.len())
            }
        }
    }

    /// Writes all of `data`. A pipe without readers gives `BrokenPipe`.
    pub fn write_all(&self, data: &[u8]) -> io::Result<()> {
        match self {
            Handle::Null | Handle::Device(Device::Zero | Device::Random) => Ok(()),
            Handle::Device(Device::Full) => Err(io::Error::from_raw_os_error(libc::ENOSPC)),
            // A terminal is open for both ways (`/dev/tty` is this handle).
            Handle::HostStdin if host_isatty(0) => write_host_fd(0, data),
            Handle::HostStdin | Handle::PipeRead(_) => {
                Err(io::Error::from_raw_os_error(libc::EBADF))
            }
            Handle::HostStdout => {
                let mut out = io::stdout().lock();
                out.write_all(data)?;
                out.flush()
            }
            Handle::HostStderr => io::stderr().lock().write_all(data),
            Handle::PipeWrite(end) => end.pipe.write_all(data),
            Handle::File(f) => {
                let mut rest = data;
                while !rest.is_empty() {
                    let n = f.write(rest).map_err(fs_err)?;
                    rest = &rest[n..];
                }
                Ok(())
            }
            Handle::HostFile(f) => f.write_all(data),
        }
    }

    /// Reads everything up to EOF (command substitution).
    pub fn read_to_end(&self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = self.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }
}

#[cfg(test)]
mod interrupt_tests {
    use super::{Handle, pipe};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    #[test]
    fn a_blocked_pipe_read_gives_way_to_the_stop_flag() {
        let (r, w) = pipe();
        let stop = Arc::new(AtomicBool::new(false));
        let setter = stop.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            setter.store(true, Ordering::Relaxed);
        });
        let Handle::PipeRead(end) = &r else {
            unreachable!()
        };
        let started = Instant::now();
        let err = end.pipe().read_or_stop(&mut [0u8; 8], &stop).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::Interrupted);
        assert!(started.elapsed() < Duration::from_secs(5));
        t.join().unwrap();
        // Data and EOF still come first when there is no stop request.
        stop.store(false, Ordering::Relaxed);
        w.write_all(b"hi").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(end.pipe().read_or_stop(&mut buf, &stop).unwrap(), 2);
        drop(w);
        assert_eq!(end.pipe().read_or_stop(&mut buf, &stop).unwrap(), 0);
    }
}

#[cfg(test)]
mod pipe_tests {
    use super::{PIPE_CAPACITY, pipe};

    /// A deterministic byte stream (so a lost, doubled or reordered chunk shows).
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4093) as u8).collect()
    }

    #[test]
    fn bulk_data_crosses_intact_whatever_the_chunk_sizes() {
        let data = pattern(3 * PIPE_CAPACITY + 12345);
        let (r, w) = pipe();
        let sent = data.clone();
        let writer = std::thread::spawn(move || {
            // Writes smaller than, equal to and larger than the buffer.
            let sizes = [1, 4095, PIPE_CAPACITY, 70_000, 3, PIPE_CAPACITY + 1];
            let (mut at, mut i) = (0, 0);
            while at < sent.len() {
                let n = sizes[i % sizes.len()].min(sent.len() - at);
                w.write_all(&sent[at..at + n]).unwrap();
                at += n;
                i += 1;
            }
        });
        let mut got = Vec::new();
        let sizes = [7, 65536, 1, 300_000, PIPE_CAPACITY * 2];
        let mut i = 0;
        loop {
            let mut buf = vec![0u8; sizes[i % sizes.len()]];
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            i += 1;
        }
        writer.join().unwrap();
        assert_eq!(got.len(), data.len());
        assert!(got == data, "the bytes read differ from the bytes written");
    }

    #[test]
    fn several_blocked_writers_all_finish_and_readers_see_eof() {
        let (r, w) = pipe();
        let writers: Vec<_> = (0..4)
            .map(|k| {
                let w = w.clone();
                std::thread::spawn(move || {
                    // Each waits for room at some point: together they write 4 buffers' worth.
                    w.write_all(&vec![k as u8; PIPE_CAPACITY]).unwrap();
                    w.write_all(&[k as u8]).unwrap();
                })
            })
            .collect();
        drop(w);
        let mut counts = [0usize; 4];
        let mut buf = vec![0u8; 10_000];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            for &b in &buf[..n] {
                counts[b as usize] += 1;
            }
        }
        for t in writers {
            t.join().unwrap();
        }
        assert_eq!(counts, [PIPE_CAPACITY + 1; 4]);
    }

    #[test]
    fn a_writer_blocked_on_a_full_pipe_sees_the_reader_go() {
        let (r, w) = pipe();
        let writer = std::thread::spawn(move || w.write_all(&vec![1u8; 2 * PIPE_CAPACITY]));
        // Let it fill the buffer and block, then close the only read end.
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(r);
        let err = writer.join().unwrap().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }
}
