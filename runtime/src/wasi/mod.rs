//! The broker: our implementation of `wasi_snapshot_preview1`, served from the
//! image (`fsimage::Vfs`) and wsh's pipes, never from host directories.
//!
//! Each host function decodes its arguments, does the work against the guest's
//! [`Guest`] state, and returns a WASI errno. A guest that must stop (proc_exit,
//! or a write to a pipe nobody reads, which is SIGPIPE's job on Unix) gets a trap
//! carrying an [`Exit`] status.

pub mod abi;
pub mod access;
mod fdtable;
mod fs;
pub mod host_access;
pub mod net;
mod path_calls;
mod proc;
mod proc_ext;
pub mod tty;
pub mod wsh_ext;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use fsimage::Vfs;
use wasmtime::{Caller, Linker, Memory};

use abi::{Errno, Mem};
pub use fdtable::{DirFd, Fd, FdTable, HostDirFd};

const M: &str = "wasi_snapshot_preview1";

/// The state one guest instance's WASI calls work on (the wasmtime store data).
pub struct Guest {
    /// The image the guest sees as its whole file system.
    pub vfs: Arc<Vfs>,
    /// argv, `argv[0]` first.
    pub args: Vec<Vec<u8>>,
    /// `KEY=VALUE` strings.
    pub env: Vec<Vec<u8>>,
    /// Open descriptors.
    pub fds: FdTable,
    /// Host directories mapped into the guest's tree.
    pub mounts: Arc<crate::mounts::Mounts>,
    /// The guest's exported memory, known once instantiated.
    pub memory: Option<Memory>,
    /// Set when a call decides the guest must stop with this status.
    pub exit: Option<i32>,
    /// When the guest started (its CPU clocks count from here).
    pub started: Instant,
    /// Set from outside to stop the guest (Ctrl-C, timeouts).
    pub interrupt: Arc<AtomicBool>,
    /// Set from outside to hold the guest where it is (job control's SIGSTOP),
    /// cleared to let it go on (SIGCONT).
    pub paused: Arc<AtomicBool>,
    /// Memory and table caps.
    pub(crate) limits: crate::limits::Limiter,
    /// File-creation mask (`umask`), applied when the guest creates files and directories.
    pub umask: u32,
    /// Who the guest runs as (its container's user): owner of what it creates,
    /// subject of the permission checks unless root.
    pub creds: Arc<access::Credentials>,
    /// The directory the guest starts in (absolute; reported by the `cwd` host call).
    pub cwd: Vec<u8>,
    /// The runtime, for starting the programs a guest spawns (wsh_ext).
    pub(crate) runtime: Option<crate::Runtime>,
    /// Programs this guest spawned and has not waited for, by child id.
    pub(crate) children: wsh_ext::Children,
    /// What the guest may reach on the network (its container's policy and published ports).
    pub net: Arc<crate::net::Network>,
    /// The terminal mode to restore, while the guest has the keyboard raw (`wsh.tty_raw`).
    pub tty_mode: Option<tty::SavedMode>,
    /// Its entry in the container's process table (gone once it has ended).
    pub(crate) process: Option<crate::proctable::Registered>,
}

/// The umask a guest starts with unless its parent says otherwise.
pub const DEFAULT_UMASK: u32 = 0o022;

impl Guest {
    /// The guest's pid (0 when it has none).
    pub fn pid(&self) -> u32 {
        self.process.as_ref().map_or(0, |p| p.pid())
    }

    /// Whether someone asked this guest to stop.
    pub fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::Relaxed)
    }

    /// Blocks while the guest is paused (and not asked to stop), as a stopped
    /// process does not run; called at epoch checks and in blocking calls.
    pub fn hold_while_paused(&self) {
        while self.paused.load(Ordering::Relaxed) && !self.interrupted() {
            std::thread::sleep(crate::engine::TICK);
        }
    }
}

/// A guest stopped with this exit status (proc_exit, or a signal's default action).
#[derive(Debug)]
pub struct Exit(pub i32);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// Runs one call against guest memory and state, turning its result into an errno
/// (or into a trap when the call decided the guest must stop).
fn call(
    c: &mut Caller<'_, Guest>,
    f: impl FnOnce(&mut Mem, &mut Guest) -> Result<(), Errno>,
) -> wasmtime::Result<i32> {
    let Some(memory) = c.data().memory else {
        return Ok(Errno::FAULT.0 as i32);
    };
    let (data, guest) = memory.data_and_store_mut(&mut *c);
    let result = f(&mut Mem(data), guest);
    if let Some(code) = guest.exit.take() {
        return Err(wasmtime::Error::new(Exit(code)));
    }
    Ok(match result {
        Ok(()) => 0,
        Err(e) => e.0 as i32,
    })
}

/// A call that touches only guest state, not memory.
fn call_state(
    c: &mut Caller<'_, Guest>,
    f: impl FnOnce(&mut Guest) -> Result<(), Errno>,
) -> wasmtime::Result<i32> {
    Ok(match f(c.data_mut()) {
        Ok(()) => 0,
        Err(e) => e.0 as i32,
    })
}

type C<'a> = Caller<'a, Guest>;

/// Registers one host function of [`M`] on `$l`: its wasm parameters (all `i32`
/// unless typed), then a body that [`call`] runs with the guest's memory and state
/// (`mem`), or that [`call_state`] runs with the state alone (`state`).
macro_rules! host {
    ($l:ident, $name:literal, mem |$m:pat_param, $g:pat_param| ($($p:ident: $t:ty),*) $body:expr) => {
        $l.func_wrap(M, $name, move |mut c: C $(, $p: $t)*| call(&mut c, |$m, $g| $body))?
    };
    ($l:ident, $name:literal, state |$g:pat_param| ($($p:ident: $t:ty),*) $body:expr) => {
        $l.func_wrap(M, $name, move |mut c: C $(, $p: $t)*| call_state(&mut c, |$g| $body))?
    };
}

/// Defines every `wasi_snapshot_preview1` function on `linker`.
pub fn add_to_linker(linker: &mut Linker<Guest>) -> wasmtime::Result<()> {
    let u = |x: i32| x as u32;
    let l = linker;
    host!(l, "args_get", mem |m, g| (a: i32, b: i32) proc::args_get(m, g, u(a), u(b)));
    host!(l, "args_sizes_get", mem |m, g| (a: i32, b: i32) proc::args_sizes_get(m, g, u(a), u(b)));
    host!(l, "environ_get", mem |m, g| (a: i32, b: i32) proc::environ_get(m, g, u(a), u(b)));
    host!(l, "environ_sizes_get", mem |m, g| (a: i32, b: i32) {
        proc::environ_sizes_get(m, g, u(a), u(b))
    });
    host!(l, "clock_res_get", mem |m, g| (id: i32, out: i32) {
        proc::clock_res_get(m, g, u(id), u(out))
    });
    host!(l, "clock_time_get", mem |m, g| (id: i32, _precision: i64, out: i32) {
        proc::clock_time_get(m, g, u(id), u(out))
    });
    host!(l, "random_get", mem |m, _| (buf: i32, len: i32) proc::random_get(m, u(buf), u(len)));
    host!(l, "poll_oneoff", mem |m, g| (i: i32, o: i32, n: i32, out: i32) {
        proc::poll_oneoff(m, g, u(i), u(o), u(n), u(out))
    });
    l.func_wrap(M, "proc_exit", |_c: C, code: i32| -> wasmtime::Result<()> {
        Err(wasmtime::Error::new(Exit(code & 0xff)))
    })?;
    l.func_wrap(
        M,
        "proc_raise",
        |_c: C, sig: i32| -> wasmtime::Result<i32> {
            Err(wasmtime::Error::new(Exit(128 + (sig & 0x7f))))
        },
    )?;
    l.func_wrap(M, "sched_yield", |_c: C| -> wasmtime::Result<i32> {
        std::thread::yield_now();
        Ok(0)
    })?;

    host!(l, "fd_write", mem |m, g| (fd: i32, iovs: i32, n: i32, out: i32) {
        fs::fd_write(m, g, u(fd), u(iovs), u(n), u(out))
    });
    host!(l, "fd_read", mem |m, g| (fd: i32, iovs: i32, n: i32, out: i32) {
        fs::fd_read(m, g, u(fd), u(iovs), u(n), u(out))
    });
    host!(l, "fd_pread", mem |m, g| (fd: i32, iovs: i32, n: i32, off: i64, out: i32) {
        fs::fd_pread(m, g, u(fd), u(iovs), u(n), off as u64, u(out))
    });
    host!(l, "fd_pwrite", mem |m, g| (fd: i32, iovs: i32, n: i32, off: i64, out: i32) {
        fs::fd_pwrite(m, g, u(fd), u(iovs), u(n), off as u64, u(out))
    });
    host!(l, "fd_seek", mem |m, g| (fd: i32, delta: i64, whence: i32, out: i32) {
        fs::fd_seek(m, g, u(fd), delta, whence as u8, u(out))
    });
    host!(l, "fd_tell", mem |m, g| (fd: i32, out: i32) fs::fd_tell(m, g, u(fd), u(out)));
    host!(l, "fd_close", state |g| (fd: i32) fs::fd_close(g, u(fd)));
    host!(l, "fd_renumber", state |g| (from: i32, to: i32) fs::fd_renumber(g, u(from), u(to)));
    host!(l, "fd_sync", state |g| (fd: i32) g.fds.get(u(fd)).map(drop));
    host!(l, "fd_datasync", state |g| (fd: i32) g.fds.get(u(fd)).map(drop));
    host!(l, "fd_advise", state |g| (fd: i32, _off: i64, _len: i64, _advice: i32) {
        g.fds.get(u(fd)).map(drop)
    });
    host!(l, "fd_allocate", state |g| (fd: i32, off: i64, len: i64) {
        fs::fd_allocate(g, u(fd), off as u64, len as u64)
    });
    host!(l, "fd_fdstat_get", mem |m, g| (fd: i32, out: i32) {
        fs::fd_fdstat_get(m, g, u(fd), u(out))
    });
    host!(l, "fd_fdstat_set_flags", state |g| (fd: i32, flags: i32) {
        fs::fd_fdstat_set_flags(g, u(fd), flags as u16)
    });
    host!(l, "fd_fdstat_set_rights", state |g| (fd: i32, _base: i64, _inh: i64) {
        fs::fd_fdstat_set_rights(g, u(fd))
    });
    host!(l, "fd_filestat_get", mem |m, g| (fd: i32, out: i32) {
        fs::fd_filestat_get(m, g, u(fd), u(out))
    });
    host!(l, "fd_filestat_set_size", state |g| (fd: i32, size: i64) {
        fs::fd_filestat_set_size(g, u(fd), size as u64)
    });
    host!(l, "fd_filestat_set_times", state |g| (fd: i32, a: i64, mt: i64, fl: i32) {
        fs::fd_filestat_set_times(g, u(fd), a as u64, mt as u64, fl as u16)
    });
    host!(l, "fd_prestat_get", mem |m, g| (fd: i32, out: i32) {
        fs::fd_prestat_get(m, g, u(fd), u(out))
    });
    host!(l, "fd_prestat_dir_name", mem |m, g| (fd: i32, p: i32, len: i32) {
        fs::fd_prestat_dir_name(m, g, u(fd), u(p), u(len))
    });
    host!(l, "fd_readdir", mem |m, g| (fd: i32, buf: i32, len: i32, cookie: i64, out: i32) {
        fs::fd_readdir(m, g, u(fd), u(buf), u(len), cookie as u64, u(out))
    });

    // Path calls: (fd, path pointer, path length) first; `m.rel_path` reads the name.
    host!(l, "path_open", mem |m, g| (
        fd: i32, df: i32, p: i32, len: i32, of: i32, rb: i64, _ri: i64, ff: i32, out: i32
    ) {
        let path = m.rel_path(u(p), u(len))?;
        path_calls::path_open(m, g, u(fd), u(df), path, of as u16, rb as u64, ff as u16, u(out))
    });
    host!(l, "path_filestat_get", mem |m, g| (fd: i32, fl: i32, p: i32, len: i32, out: i32) {
        let path = m.rel_path(u(p), u(len))?;
        path_calls::path_filestat_get(m, g, u(fd), u(fl), path, u(out))
    });
    host!(l, "path_filestat_set_times", mem |m, g| (
        fd: i32, fl: i32, p: i32, len: i32, a: i64, mt: i64, fst: i32
    ) {
        let path = m.rel_path(u(p), u(len))?;
        path_calls::path_filestat_set_times(g, u(fd), u(fl), path, a as u64, mt as u64, fst as u16)
    });
    host!(l, "path_create_directory", mem |m, g| (fd: i32, p: i32, len: i32) {
        path_calls::path_create_directory(g, u(fd), m.rel_path(u(p), u(len))?)
    });
    host!(l, "path_remove_directory", mem |m, g| (fd: i32, p: i32, len: i32) {
        path_calls::path_remove_directory(g, u(fd), m.rel_path(u(p), u(len))?)
    });
    host!(l, "path_unlink_file", mem |m, g| (fd: i32, p: i32, len: i32) {
        path_calls::path_unlink_file(g, u(fd), m.rel_path(u(p), u(len))?)
    });
    host!(l, "path_rename", mem |m, g| (fd: i32, p: i32, len: i32, fd2: i32, p2: i32, len2: i32) {
        let from = m.rel_path(u(p), u(len))?;
        let to = m.rel_path(u(p2), u(len2))?;
        path_calls::path_rename(g, u(fd), from, u(fd2), to)
    });
    host!(l, "path_symlink", mem |m, g| (p: i32, len: i32, fd: i32, p2: i32, len2: i32) {
        let target = m.path(u(p), u(len))?;
        let path = m.rel_path(u(p2), u(len2))?;
        path_calls::path_symlink(g, target, u(fd), path)
    });
    host!(l, "path_link", mem |m, g| (
        fd: i32, fl: i32, p: i32, len: i32, fd2: i32, p2: i32, len2: i32
    ) {
        let from = m.rel_path(u(p), u(len))?;
        let to = m.rel_path(u(p2), u(len2))?;
        path_calls::path_link(g, u(fd), u(fl), from, u(fd2), to)
    });
    host!(l, "path_readlink", mem |m, g| (
        fd: i32, p: i32, len: i32, buf: i32, buf_len: i32, out: i32
    ) {
        let path = m.rel_path(u(p), u(len))?;
        path_calls::path_readlink(m, g, u(fd), path, u(buf), u(buf_len), u(out))
    });

    host!(l, "sock_accept", mem |m, g| (fd: i32, fl: i32, out: i32) {
        net::sock_accept(m, g, u(fd), fl as u16, u(out))
    });
    host!(l, "sock_recv", mem |m, g| (
        fd: i32, iovs: i32, n: i32, fl: i32, out_len: i32, out_fl: i32
    ) {
        net::sock_recv(m, g, u(fd), u(iovs), u(n), fl as u16, u(out_len), u(out_fl))
    });
    host!(l, "sock_send", mem |m, g| (fd: i32, iovs: i32, n: i32, _fl: i32, out: i32) {
        net::sock_send(m, g, u(fd), u(iovs), u(n), u(out))
    });
    host!(l, "sock_shutdown", state |g| (fd: i32, how: i32) {
        net::sock_shutdown(g, u(fd), how as u8)
    });
    Ok(())
}
