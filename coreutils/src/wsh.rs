//! Safe wrappers over the broker's `wsh` import module (docs/host-interface.md):
//! full stat, chmod, chown, utimens, umask, isatty, terminal size, pipes and spawn.
//!
//! Paths are made absolute against the current directory and resolved from the
//! image root, which wsh always preopens as fd 3. The whole interface is wrapped
//! here even where no applet uses a call yet (fstat, pipe).
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::wasi::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The preopened image root.
const ROOT_FD: i32 = 3;
/// Path-call flag: follow a final symlink.
const FOLLOW: i32 = 1;

#[link(wasm_import_module = "wsh")]
unsafe extern "C" {
    #[link_name = "stat"]
    fn wsh_stat(dirfd: i32, path: *const u8, len: usize, flags: i32, out: *mut u8) -> i32;
    #[link_name = "fstat"]
    fn wsh_fstat(fd: i32, out: *mut u8) -> i32;
    #[link_name = "chmod"]
    fn wsh_chmod(dirfd: i32, path: *const u8, len: usize, flags: i32, mode: i32) -> i32;
    #[link_name = "fchmod"]
    fn wsh_fchmod(fd: i32, mode: i32) -> i32;
    #[link_name = "chown"]
    fn wsh_chown(dirfd: i32, path: *const u8, len: usize, flags: i32, uid: i32, gid: i32) -> i32;
    #[link_name = "umask"]
    fn wsh_umask(new: i32, old: *mut u32) -> i32;
    #[link_name = "isatty"]
    fn wsh_isatty(fd: i32) -> i32;
    #[link_name = "term_size"]
    fn wsh_term_size(fd: i32, out: *mut u16) -> i32;
    #[link_name = "tty_raw"]
    fn wsh_tty_raw(fd: i32, on: i32) -> i32;
    #[link_name = "identity"]
    fn wsh_identity(out: *mut u32) -> i32;
    #[link_name = "cwd"]
    fn wsh_cwd(buf: *mut u8, cap: i32, len: *mut u32) -> i32;
    #[link_name = "groups"]
    fn wsh_groups(out: *mut u32, max: i32, n: *mut u32) -> i32;
    #[link_name = "statfs"]
    fn wsh_statfs(out: *mut u64) -> i32;
    #[link_name = "pipe"]
    fn wsh_pipe(out: *mut u32) -> i32;
    #[link_name = "spawn"]
    fn wsh_spawn(req: *const u32, child: *mut u32) -> i32;
    #[link_name = "wait"]
    fn wsh_wait(child: u32, flags: i32, status: *mut u32) -> i32;
    #[link_name = "kill"]
    fn wsh_kill(child: u32) -> i32;
    #[link_name = "procs"]
    fn wsh_procs(out: *mut u32, max: i32, n: *mut u32) -> i32;
    #[link_name = "signal"]
    fn wsh_signal(pid: u32, sig: i32) -> i32;
    #[link_name = "flock"]
    fn wsh_flock(fd: i32, op: i32) -> i32;
    #[link_name = "mkfifo"]
    fn wsh_mkfifo(dirfd: i32, path: *const u8, len: usize, mode: i32) -> i32;
}

/// Makes the named pipe `path` with mode `mode & ~umask`.
pub fn mkfifo(path: &Path, mode: u32) -> io::Result<()> {
    let p = absolute(path);
    // SAFETY: the pointer is valid for the length given.
    check(unsafe { wsh_mkfifo(ROOT_FD, p.as_ptr(), p.len(), mode as i32) })
}

/// The pids of the programs running in this container, ascending.
pub fn procs() -> io::Result<Vec<u32>> {
    let mut out = vec![0u32; 256];
    loop {
        let mut n = 0u32;
        // SAFETY: the host writes at most `out.len()` u32 into `out`, the count into `n`.
        check(unsafe { wsh_procs(out.as_mut_ptr(), out.len() as i32, &mut n) })?;
        if n as usize <= out.len() {
            out.truncate(n as usize);
            return Ok(out);
        }
        out.resize(n as usize + 64, 0);
    }
}

/// kill(2) within the container: sends signal `sig` to program `pid`.
pub fn signal(pid: u32, sig: i32) -> io::Result<()> {
    // SAFETY: plain values.
    check(unsafe { wsh_signal(pid, sig) })
}

/// flock(2) on descriptor `fd`: `op` is LOCK_SH 1, LOCK_EX 2, LOCK_UN 8, or'ed with LOCK_NB 4.
pub fn flock(fd: i32, op: i32) -> io::Result<()> {
    // SAFETY: plain values.
    check(unsafe { wsh_flock(fd, op) })
}

fn check(errno: i32) -> io::Result<()> {
    if errno == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(errno))
    }
}

/// `path` made absolute against the current directory, as bytes.
fn absolute(path: &Path) -> Vec<u8> {
    if path.is_absolute() {
        return path.as_os_str().as_bytes().to_vec();
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    cwd.join(path).as_os_str().as_bytes().to_vec()
}

/// Linux `st_mode` type bits.
pub const S_IFMT: u32 = 0o170000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFIFO: u32 = 0o010000;
pub const S_IFSOCK: u32 = 0o140000;

/// What `stat(2)` says about a file.
#[derive(Debug, Clone, Default)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    /// Type bits and permission bits, as Linux's st_mode.
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    /// 512-byte blocks.
    pub blocks: u64,
    pub blksize: u32,
    /// Nanoseconds since the epoch.
    pub atime: i64,
    pub mtime: i64,
    pub ctime: i64,
}

impl Stat {
    fn parse(rec: &[u8; 88]) -> Stat {
        let u64_at = |i: usize| u64::from_le_bytes(rec[i..i + 8].try_into().unwrap());
        let u32_at = |i: usize| u32::from_le_bytes(rec[i..i + 4].try_into().unwrap());
        Stat {
            dev: u64_at(0),
            ino: u64_at(8),
            mode: u32_at(16),
            nlink: u32_at(20),
            uid: u32_at(24),
            gid: u32_at(28),
            rdev: u64_at(32),
            size: u64_at(40),
            blocks: u64_at(48),
            blksize: u32_at(56),
            atime: u64_at(64) as i64,
            mtime: u64_at(72) as i64,
            ctime: u64_at(80) as i64,
        }
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }

    /// Whether this is a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.mode & S_IFMT == S_IFLNK
    }
}

/// stat (follow) or lstat (no follow) of `path`.
pub fn stat(path: &Path, follow: bool) -> io::Result<Stat> {
    let p = absolute(path);
    let mut rec = [0u8; 88];
    // SAFETY: the pointers are valid for the lengths given; the host writes 88 bytes.
    check(unsafe {
        wsh_stat(
            ROOT_FD,
            p.as_ptr(),
            p.len(),
            if follow { FOLLOW } else { 0 },
            rec.as_mut_ptr(),
        )
    })?;
    Ok(Stat::parse(&rec))
}

/// fstat of an open descriptor.
pub fn fstat(fd: i32) -> io::Result<Stat> {
    let mut rec = [0u8; 88];
    // SAFETY: the host writes 88 bytes into `rec`.
    check(unsafe { wsh_fstat(fd, rec.as_mut_ptr()) })?;
    Ok(Stat::parse(&rec))
}

/// Sets the permission bits of `path` (following symlinks, as chmod(2)).
pub fn chmod(path: &Path, mode: u32) -> io::Result<()> {
    let p = absolute(path);
    // SAFETY: the pointer is valid for the length given.
    check(unsafe { wsh_chmod(ROOT_FD, p.as_ptr(), p.len(), FOLLOW, mode as i32) })
}

/// Sets the permission bits of an open file or directory.
pub fn fchmod(fd: i32, mode: u32) -> io::Result<()> {
    // SAFETY: plain integers.
    check(unsafe { wsh_fchmod(fd, mode as i32) })
}

/// Sets owner and/or group of `path` (None keeps one).
pub fn chown(path: &Path, uid: Option<u32>, gid: Option<u32>, follow: bool) -> io::Result<()> {
    let p = absolute(path);
    let id = |x: Option<u32>| x.map_or(-1, |v| v as i32);
    // SAFETY: the pointer is valid for the length given.
    check(unsafe {
        wsh_chown(
            ROOT_FD,
            p.as_ptr(),
            p.len(),
            if follow { FOLLOW } else { 0 },
            id(uid),
            id(gid),
        )
    })
}

/// The file-creation mask; sets it to `new` when given. Returns the old one.
pub fn umask(new: Option<u32>) -> u32 {
    let mut old = 0u32;
    // SAFETY: `old` is a valid out-pointer.
    let _ = unsafe { wsh_umask(new.map_or(-1, |m| m as i32), &mut old) };
    old
}

/// Whether `fd` is a terminal.
pub fn isatty(fd: i32) -> bool {
    // SAFETY: plain value.
    unsafe { wsh_isatty(fd) == 0 }
}

/// (rows, columns) of the terminal on `fd`.
pub fn term_size(fd: i32) -> Option<(u16, u16)> {
    let mut out = [0u16; 2];
    // SAFETY: the host writes two u16 into `out`.
    (unsafe { wsh_term_size(fd, out.as_mut_ptr()) } == 0).then_some((out[0], out[1]))
}

/// Puts the terminal on `fd` in key-at-a-time mode (`on`) or back as it was.
pub fn tty_raw(fd: i32, on: bool) -> io::Result<()> {
    // SAFETY: plain values.
    check(unsafe { wsh_tty_raw(fd, on as i32) })
}

/// As [`tty_raw`] on, with Ctrl-C, Ctrl-\\ and Ctrl-Z delivered as keys rather
/// than stopping the program (what an editor needs).
pub fn tty_raw_keys(fd: i32) -> io::Result<()> {
    // SAFETY: plain values.
    check(unsafe { wsh_tty_raw(fd, 2) })
}

/// (uid, gid) the guest runs as.
pub fn identity() -> (u32, u32) {
    let mut out = [0u32; 2];
    // SAFETY: the host writes two u32 into `out`.
    let _ = unsafe { wsh_identity(out.as_mut_ptr()) };
    (out[0], out[1])
}

/// The directory the host started this program in (its working directory: the
/// environment's PWD is only what the parent chose to pass).
pub fn cwd() -> Option<std::path::PathBuf> {
    use std::os::wasi::ffi::OsStrExt;
    let mut buf = vec![0u8; 4096];
    let mut len = 0u32;
    // SAFETY: the host writes at most `buf.len()` bytes into `buf` and the length into `len`.
    if unsafe { wsh_cwd(buf.as_mut_ptr(), buf.len() as i32, &mut len) } != 0 {
        return None;
    }
    buf.truncate((len as usize).min(buf.len()));
    Some(std::ffi::OsStr::from_bytes(&buf).into())
}

/// The supplementary group ids the guest runs with (getgroups).
pub fn groups() -> Vec<u32> {
    let mut n = 0u32;
    // SAFETY: with max 0 the host writes only the count into `n`.
    if unsafe { wsh_groups(std::ptr::null_mut(), 0, &mut n) } != 0 {
        return Vec::new();
    }
    let mut out = vec![0u32; n as usize];
    // SAFETY: the host writes at most `out.len()` u32 into `out`, and the count into `n`.
    if unsafe { wsh_groups(out.as_mut_ptr(), out.len() as i32, &mut n) } != 0 {
        return Vec::new();
    }
    out.truncate(n as usize);
    out
}

/// The image's (total, free) bytes.
pub fn statfs() -> io::Result<(u64, u64)> {
    let mut out = [0u64; 2];
    // SAFETY: the host writes two u64 into `out`.
    check(unsafe { wsh_statfs(out.as_mut_ptr()) })?;
    Ok((out[0], out[1]))
}

/// A new pipe: (read fd, write fd).
pub fn pipe() -> io::Result<(i32, i32)> {
    let mut out = [0u32; 2];
    // SAFETY: the host writes two u32 into `out`.
    check(unsafe { wsh_pipe(out.as_mut_ptr()) })?;
    Ok((out[0] as i32, out[1] as i32))
}

/// Where a spawned program's stdio goes: a descriptor of ours, or /dev/null.
#[derive(Debug, Clone, Copy)]
pub enum Stdio {
    /// Our own descriptor (0, 1, 2 to inherit; a pipe end or an open file otherwise).
    Fd(i32),
    /// /dev/null.
    Null,
}

impl Stdio {
    fn raw(self) -> u32 {
        match self {
            Stdio::Fd(fd) => fd as u32,
            Stdio::Null => u32::MAX,
        }
    }
}

/// A program to start in the same container.
pub struct Spawn {
    /// argv; argv[0] is looked up on PATH unless it has a slash.
    pub argv: Vec<OsString>,
    /// The whole environment of the new program.
    pub env: Vec<(OsString, OsString)>,
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
}

impl Spawn {
    /// `argv` with our environment and stdio.
    pub fn new(argv: Vec<OsString>) -> Spawn {
        Spawn {
            argv,
            env: std::env::vars_os().collect(),
            stdin: Stdio::Fd(0),
            stdout: Stdio::Fd(1),
            stderr: Stdio::Fd(2),
        }
    }

    /// Starts the program; returns its child id.
    pub fn start(&self) -> io::Result<Child> {
        let mut argv = Vec::new();
        for a in &self.argv {
            argv.extend_from_slice(a.as_bytes());
            argv.push(0);
        }
        let mut env = Vec::new();
        for (k, v) in &self.env {
            env.extend_from_slice(k.as_bytes());
            env.push(b'=');
            env.extend_from_slice(v.as_bytes());
            env.push(0);
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let cwd = cwd.as_os_str().as_bytes();
        let req: [u32; 10] = [
            argv.as_ptr() as u32,
            argv.len() as u32,
            env.as_ptr() as u32,
            env.len() as u32,
            cwd.as_ptr() as u32,
            cwd.len() as u32,
            self.stdin.raw(),
            self.stdout.raw(),
            self.stderr.raw(),
            0,
        ];
        let mut id = 0u32;
        // SAFETY: every pointer in `req` is valid for its length during the call.
        check(unsafe { wsh_spawn(req.as_ptr(), &mut id) })?;
        Ok(Child(id))
    }
}

/// A started program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Child(u32);

impl Child {
    /// Blocks until it ends; returns its exit status (128+N when stopped).
    pub fn wait(self) -> io::Result<i32> {
        let mut status = 0u32;
        // SAFETY: `status` is a valid out-pointer.
        check(unsafe { wsh_wait(self.0, 0, &mut status) })?;
        Ok(status as i32)
    }

    /// Its exit status if it has ended, without blocking.
    pub fn try_wait(self) -> io::Result<Option<i32>> {
        let mut status = 0u32;
        // SAFETY: `status` is a valid out-pointer.
        match unsafe { wsh_wait(self.0, 1, &mut status) } {
            0 => Ok(Some(status as i32)),
            6 => Ok(None),
            e => Err(io::Error::from_raw_os_error(e)),
        }
    }

    /// Stops it as Ctrl-C would.
    pub fn kill(self) -> io::Result<()> {
        // SAFETY: plain value.
        check(unsafe { wsh_kill(self.0) })
    }
}

/// The shell's status for a program that could not start: 127 not found, 126 otherwise.
pub fn spawn_failure_status(e: &io::Error) -> i32 {
    if e.kind() == io::ErrorKind::NotFound {
        127
    } else {
        126
    }
}

/// Runs `argv` with our stdio and waits: its status, or 126/127 after a message.
pub fn run(applet: &str, argv: Vec<OsString>, env: Option<Vec<(OsString, OsString)>>) -> i32 {
    let name = argv.first().cloned().unwrap_or_default();
    let mut sp = Spawn::new(argv);
    if let Some(env) = env {
        sp.env = env;
    }
    match sp.start().and_then(Child::wait) {
        Ok(status) => status,
        Err(e) => {
            eprintln!(
                "{applet}: '{}': {}",
                OsStr::new(&name).to_string_lossy(),
                crate::applets::strerror(&e)
            );
            spawn_failure_status(&e)
        }
    }
}

// Sockets (docs/host-interface.md, "Sockets"): wsh makes the descriptor, std's
// `TcpStream`/`TcpListener` (fd_read, fd_write, sock_accept, sock_shutdown) use it.
#[link(wasm_import_module = "wsh")]
unsafe extern "C" {
    #[link_name = "tcp_connect"]
    fn wsh_tcp_connect(addr: *const u8, len: usize, out: *mut u32) -> i32;
    #[link_name = "tcp_listen"]
    fn wsh_tcp_listen(addr: *const u8, len: usize, out: *mut u32) -> i32;
    #[link_name = "resolve"]
    fn wsh_resolve(name: *const u8, len: usize, buf: *mut u8, cap: i32, out: *mut u32) -> i32;
    #[link_name = "sock_addr"]
    fn wsh_sock_addr(fd: i32, peer: i32, buf: *mut u8, cap: i32, out: *mut u32) -> i32;
}

/// A stream connected to `addr` (`IP:PORT`, IPv6 in brackets).
pub fn tcp_connect(addr: &std::net::SocketAddr) -> io::Result<std::net::TcpStream> {
    use std::os::fd::FromRawFd;
    let text = addr.to_string();
    let mut fd = 0u32;
    // SAFETY: valid pointers for the call's duration.
    check(unsafe { wsh_tcp_connect(text.as_ptr(), text.len(), &mut fd) })?;
    // SAFETY: the broker just made `fd` for us alone.
    Ok(unsafe { std::net::TcpStream::from_raw_fd(fd as i32) })
}

/// A listening socket on `addr` (a published port's listener when the port is published).
pub fn tcp_listen(addr: &std::net::SocketAddr) -> io::Result<std::net::TcpListener> {
    use std::os::fd::FromRawFd;
    let text = addr.to_string();
    let mut fd = 0u32;
    // SAFETY: valid pointers for the call's duration.
    check(unsafe { wsh_tcp_listen(text.as_ptr(), text.len(), &mut fd) })?;
    // SAFETY: as above.
    Ok(unsafe { std::net::TcpListener::from_raw_fd(fd as i32) })
}

/// Calls a wsh function that writes text of unknown length, growing the buffer once.
fn text_call(mut f: impl FnMut(*mut u8, i32, *mut u32) -> i32) -> io::Result<String> {
    let mut buf = vec![0u8; 256];
    loop {
        let mut len = 0u32;
        check(f(buf.as_mut_ptr(), buf.len() as i32, &mut len))?;
        if len as usize <= buf.len() {
            buf.truncate(len as usize);
            return Ok(String::from_utf8_lossy(&buf).into_owned());
        }
        buf.resize(len as usize, 0);
    }
}

/// The addresses of host name `name` (numeric addresses and `localhost` always resolve).
pub fn resolve(name: &str) -> io::Result<Vec<std::net::IpAddr>> {
    // SAFETY: valid pointers for each call's duration.
    let text = text_call(|buf, cap, out| unsafe {
        wsh_resolve(name.as_ptr(), name.len(), buf, cap, out)
    })?;
    Ok(text.lines().filter_map(|l| l.parse().ok()).collect())
}

/// A socket's local (`peer` false) or peer address.
pub fn sock_addr(fd: i32, peer: bool) -> io::Result<std::net::SocketAddr> {
    // SAFETY: valid pointers for each call's duration.
    let text = text_call(|buf, cap, out| unsafe { wsh_sock_addr(fd, peer as i32, buf, cap, out) })?;
    text.parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, text))
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn poll_oneoff(subs: *const u8, events: *mut u8, n: u32, out: *mut u32) -> i32;
}

/// Waits until some of `fds` are readable (or at EOF/hangup), at most `timeout`
/// (None: forever); returns the readable ones. preview1's poll_oneoff, which
/// std does not wrap.
pub fn poll_read(fds: &[i32], timeout: Option<std::time::Duration>) -> io::Result<Vec<i32>> {
    let n = fds.len() + timeout.is_some() as usize;
    let mut subs = vec![0u8; 48 * n];
    for (i, fd) in fds.iter().enumerate() {
        let s = &mut subs[48 * i..48 * (i + 1)];
        s[0..8].copy_from_slice(&(i as u64).to_le_bytes());
        s[8] = 1; // FD_READ
        s[16..20].copy_from_slice(&(*fd as u32).to_le_bytes());
    }
    if let Some(t) = timeout {
        let s = &mut subs[48 * fds.len()..];
        s[0..8].copy_from_slice(&u64::MAX.to_le_bytes());
        s[8] = 0; // CLOCK, monotonic, relative
        s[16..20].copy_from_slice(&1u32.to_le_bytes());
        s[24..32].copy_from_slice(&(t.as_nanos() as u64).to_le_bytes());
    }
    let mut events = vec![0u8; 32 * n];
    let mut got = 0u32;
    // SAFETY: `subs` holds n subscriptions, `events` room for n events.
    check(unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), n as u32, &mut got) })?;
    let mut ready = Vec::new();
    for e in events.chunks(32).take(got as usize) {
        let id = u64::from_le_bytes(e[0..8].try_into().unwrap());
        if let Some(fd) = fds.get(id as usize) {
            ready.push(*fd);
        }
    }
    Ok(ready)
}
