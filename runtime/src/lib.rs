//! wsh's runtime: compiles guest modules once, instantiates one per command, and
//! serves their WASI preview1 calls from an [`fsimage::Vfs`] (the broker).

pub mod bridge;
mod child;
mod engine;
mod fifo;
pub mod io;
mod limits;
mod locks;
pub mod mounts;
pub mod net;
mod pids;
pub mod procfs;
mod proctable;
mod programs;
mod run;
pub mod wasi;
mod workers;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

pub use child::{Child, JobControl};
use child::{End, ExitCell, ExitPost};
pub use fifo::FifoError;
use fsimage::Vfs;
pub use io::Handle;
pub use limits::{
    DEFAULT_CONTAINER_MEMORY, DEFAULT_OPEN_FILES, DEFAULT_PIDS, Limits, default_limits, parse_size,
    set_default_limits, thread_cpu_time,
};
pub use pids::{ForkError, PidSlot};
pub use proctable::{ProcInfo, SignalError, next_pid};
use programs::ModuleKey;
use run::{Ended, run_guest};
use wasi::Guest;
pub use wasi::access::Credentials;
use wasmtime::InstancePre;

/// Why a command could not start.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// No such file in the image (exit status 127).
    #[error("{0}: No such file or directory")]
    NotFound(String),
    /// The file exists but is not a runnable module (exit status 126).
    #[error("{0}: {1}")]
    NotExecutable(String, String),
    /// The container has as many programs and threads alive as its `pids` limit
    /// allows, or the host refused a thread (EAGAIN; bash's status 126).
    #[error(transparent)]
    Fork(#[from] ForkError),
    /// Anything else (compile failure, cache I/O...).
    #[error("{0}")]
    Other(String),
}

/// A command to start: a program in the image and its environment.
pub struct Command {
    /// Absolute path of the module inside the image.
    pub program: String,
    /// argv, `argv[0]` included.
    pub argv: Vec<String>,
    /// The environment, in order.
    pub env: Vec<(String, String)>,
    /// Absolute working directory inside the image (the `cwd` host call reports it;
    /// the environment is passed as given, so PWD is the caller's to set).
    pub cwd: String,
    pub stdin: Handle,
    pub stdout: Handle,
    pub stderr: Handle,
    /// Descriptors past stdio the program inherits at their numbers (a shell's
    /// `exec 9<file`, a process substitution's `/dev/fd/63`). A number the runtime
    /// uses for a preopen or a published port is left out: wasi-libc finds its
    /// preopens by scanning up from 3.
    pub extra_fds: Vec<(u32, Handle)>,
    /// A lower cap on open descriptors than the runtime's (a shell's `ulimit -n`).
    pub open_files: Option<u32>,
    /// The pid the program takes in the container's process table (`None`: a
    /// fresh one from [`next_pid`]).
    pub pid: Option<u32>,
    /// Its parent's pid, as `ps` shows it (0: unknown).
    pub ppid: u32,
}

/// Compiles the core module `bytes` (`name` is its path, for errors) into the
/// compiled-module cache in `cache_dir` unless it is there already, so its first run
/// starts at once; returns whether it compiled. Shows no progress: the caller does.
pub fn precompile(name: &str, bytes: &[u8], cache_dir: &Path) -> anyhow::Result<bool> {
    let (_, compiled, _) = engine::shared()?.instance_pre(name, bytes, cache_dir, true)?;
    Ok(compiled)
}

/// Runs shell command lines for guests (`sh -c LINE` through the host interface's
/// spawn). The interpreter lives above the runtime, so the shell registers one
/// with [`Runtime::set_command_line_runner`]; without it such spawns fail with ENOSYS.
pub trait CommandLineRunner: Send + Sync {
    /// Starts `line` with `cmd`'s environment, working directory and stdio
    /// (`cmd.program` and `cmd.argv` are `sh` and `["sh", "-c", line]`).
    fn start(&self, rt: &Runtime, line: &str, cmd: Command) -> Result<Child, SpawnError>;
}

/// The engine, the compiled-module cache and the image the guests see. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    vfs: Arc<Vfs>,
    cache_dir: PathBuf,
    /// Modules by inode identity, so a repeated command skips reading and hashing its file.
    by_inode: Mutex<HashMap<ModuleKey, InstancePre<Guest>>>,
    /// The same for programs on host mounts, by [`mounts::HostFile::identity`]: a
    /// program run again is not read and hashed again.
    by_host_file: Mutex<HashMap<[i64; 7], InstancePre<Guest>>>,
    /// Stop flags of the guests that may still run, each with its shield flag
    /// (set: a background job's guest, which Ctrl-C does not reach).
    running: Mutex<Vec<(Weak<AtomicBool>, Arc<AtomicBool>)>>,
    /// Memory and CPU caps for each guest started from now on.
    limits: Mutex<Limits>,
    /// Who runs `sh -c` command lines for guests, once the shell registers itself.
    runner: Mutex<Option<Arc<dyn CommandLineRunner>>>,
    /// Names the image this file system started as (see `set_image_identity`).
    identity: OnceLock<String>,
    /// Host directories mapped into every guest's tree (`wsh run -v`).
    mounts: Mutex<Arc<mounts::Mounts>>,
    /// Who guests run as (`USER`); root unless set.
    credentials: Mutex<Arc<Credentials>>,
    /// What guests may reach on the network, and the ports published to them.
    network: Mutex<Arc<net::Network>>,
    /// The programs and threads alive in this container (its `pids` count).
    pids: pids::Pids,
    /// Bytes of linear memory all guests have now (checked against
    /// `Limits::container_memory`; each guest gives its share back when it ends).
    memory_used: Arc<AtomicUsize>,
    /// When the container started (`/proc/uptime`).
    started: Instant,
    /// Guests not yet torn down (their exit may have been reported already).
    alive: Arc<Alive>,
    /// The programs running now (`ps`).
    procs: proctable::ProcTable,
    /// `flock`s on image files.
    locks: Arc<locks::Locks>,
    /// Named pipes being opened or in use.
    fifos: Arc<fifo::Fifos>,
}

/// A count of guests whose exit was reported but whose teardown is not over, to
/// wait for (see [`Runtime::settle`]).
#[derive(Default)]
struct Alive {
    count: Mutex<usize>,
    zero: std::sync::Condvar,
}

/// One guest thread's place in [`Alive`]: taken when its exit is reported
/// ([`TearingDown::arm`]), given back when the thread is done with everything.
struct TearingDown {
    alive: Arc<Alive>,
    armed: std::cell::Cell<bool>,
}

impl TearingDown {
    fn new(alive: Arc<Alive>) -> TearingDown {
        TearingDown {
            alive,
            armed: false.into(),
        }
    }

    fn arm(&self) {
        if !self.armed.replace(true) {
            *self.alive.count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        }
    }
}

impl Drop for TearingDown {
    fn drop(&mut self) {
        if !self.armed.get() {
            return;
        }
        let mut n = self.alive.count.lock().unwrap_or_else(|e| e.into_inner());
        *n -= 1;
        if *n == 0 {
            self.alive.zero.notify_all();
        }
    }
}

/// The runner of runtimes that have none of their own (the shell sets it once at start).
static DEFAULT_RUNNER: Mutex<Option<Arc<dyn CommandLineRunner>>> = Mutex::new(None);

/// Registers who runs `sh -c` command lines for the guests of every runtime
/// without a runner of its own.
pub fn set_default_command_line_runner(runner: Arc<dyn CommandLineRunner>) {
    *DEFAULT_RUNNER.lock().unwrap_or_else(|e| e.into_inner()) = Some(runner);
}

/// Nanoseconds on a monotonic clock (WASI's clock 1).
pub(crate) fn monotonic_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    // Start far from zero so guests that subtract small offsets never underflow.
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64 + 1_000_000_000
}

/// The largest linear memory one guest may have unless [`Limits`] say otherwise.
pub const DEFAULT_MEMORY_LIMIT: usize = limits::DEFAULT_MEMORY;

impl Runtime {
    /// A runtime over `vfs`, keeping compiled modules in `cache_dir`.
    pub fn new(vfs: Arc<Vfs>, cache_dir: &Path) -> anyhow::Result<Runtime> {
        engine::shared()?;
        let limits = limits::default_limits();
        vfs.cap_size(limits.disk);
        Ok(Runtime {
            inner: Arc::new(Inner {
                vfs,
                cache_dir: cache_dir.to_path_buf(),
                by_inode: Mutex::new(HashMap::new()),
                by_host_file: Mutex::new(HashMap::new()),
                running: Mutex::new(Vec::new()),
                limits: Mutex::new(limits),
                runner: Mutex::new(None),
                identity: OnceLock::new(),
                mounts: Mutex::new(Arc::new(mounts::Mounts::none())),
                credentials: Mutex::new(Arc::new(Credentials::root())),
                network: Mutex::new(Arc::new(net::Network::none())),
                pids: pids::Pids::default(),
                memory_used: Arc::new(AtomicUsize::new(0)),
                started: Instant::now(),
                alive: Arc::default(),
                procs: Default::default(),
                locks: Arc::default(),
                fifos: Default::default(),
            }),
        })
    }

    /// Maps host directories into the tree of every guest started from now on.
    pub fn set_mounts(&self, mounts: mounts::Mounts) {
        *self.inner.mounts.lock().unwrap() = Arc::new(mounts);
    }

    /// The host directories guests see.
    pub fn mounts(&self) -> Arc<mounts::Mounts> {
        self.inner.mounts.lock().unwrap().clone()
    }

    /// Gives every guest started from now on this network policy and these
    /// published ports (preopened as listening sockets after the directories).
    pub fn set_network(&self, network: net::Network) {
        *self.inner.network.lock().unwrap() = Arc::new(network);
    }

    /// The container's network policy and published ports.
    pub fn network(&self) -> Arc<net::Network> {
        self.inner.network.lock().unwrap().clone()
    }

    /// Makes every guest started from now on run as `creds` (Docker's `USER`):
    /// they own what they create and, unless root, meet the permission checks.
    pub fn set_credentials(&self, creds: Credentials) {
        *self.inner.credentials.lock().unwrap() = Arc::new(creds);
    }

    /// Who guests run as.
    pub fn credentials(&self) -> Arc<Credentials> {
        self.inner.credentials.lock().unwrap().clone()
    }

    /// Sets the caps of every guest started from now on (the container's memory and
    /// `pids` caps apply to what is already running too, from its next growth or start).
    pub fn set_limits(&self, limits: Limits) {
        self.inner.vfs.cap_size(limits.disk);
        *self.inner.limits.lock().unwrap() = limits;
    }

    /// Takes one of the container's `pids` slots for a program or thread about to
    /// start (held until dropped; [`PidSlot::spawn`] starts a thread holding it).
    pub fn pid_slot(&self) -> Result<PidSlot, ForkError> {
        self.inner.pids.acquire(self.limits().pids)
    }

    /// How many programs and threads of this container hold a `pids` slot now.
    pub fn live_pids(&self) -> usize {
        self.inner.pids.live()
    }

    /// How long this runtime (the container) has existed.
    pub fn uptime(&self) -> std::time::Duration {
        self.inner.started.elapsed()
    }

    /// Bytes of linear memory this container's guests have now.
    pub fn memory_in_use(&self) -> usize {
        self.inner.memory_used.load(Ordering::SeqCst)
    }

    /// The caps guests start with.
    pub fn limits(&self) -> Limits {
        *self.inner.limits.lock().unwrap()
    }

    /// Registers who runs `sh -c` command lines that guests spawn.
    pub fn set_command_line_runner(&self, runner: Arc<dyn CommandLineRunner>) {
        *self.inner.runner.lock().unwrap() = Some(runner);
    }

    /// The command-line runner: this runtime's own, else the process-wide default.
    pub fn command_line_runner(&self) -> Option<Arc<dyn CommandLineRunner>> {
        let own = self.inner.runner.lock().unwrap().clone();
        own.or_else(|| {
            DEFAULT_RUNNER
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        })
    }

    /// The image every guest of this runtime shares.
    pub fn vfs(&self) -> &Arc<Vfs> {
        &self.inner.vfs
    }

    /// Starts `cmd` on its own thread.
    pub fn spawn(&self, cmd: Command) -> Result<Child, SpawnError> {
        self.spawn_with_umask(cmd, wasi::DEFAULT_UMASK)
    }

    /// Starts `cmd` with file-creation mask `umask` (a guest's children inherit theirs).
    pub fn spawn_with_umask(&self, cmd: Command, umask: u32) -> Result<Child, SpawnError> {
        let (pre, _) = self.module(&cmd.program)?;
        // wsh's own programs learn the working directory through the `wsh` import;
        // any other program sees it only through its preopens (see `top_level_preopens`).
        let foreign = !pre.module().imports().any(|i| i.module() == "wsh");
        let slot = self.pid_slot()?;
        let limits = self.limits();
        let interrupt = Arc::new(AtomicBool::new(false));
        let paused = Arc::new(AtomicBool::new(false));
        let shielded = Arc::new(AtomicBool::new(false));
        {
            let mut running = self.inner.running.lock().unwrap();
            running.retain(|(w, _)| w.strong_count() > 0);
            running.push((Arc::downgrade(&interrupt), shielded.clone()));
        }
        let env: Vec<Vec<u8>> = cmd
            .env
            .iter()
            .map(|(k, v)| format!("{k}={v}").into_bytes())
            .collect();
        // stdio and preopens come first, whatever the cap (as the descriptors a
        // process inherits may exceed a lowered RLIMIT_NOFILE).
        let mut fds = wasi::FdTable::default();
        fds.push(wasi::Fd::Handle(cmd.stdin));
        fds.push(wasi::Fd::Handle(cmd.stdout));
        fds.push(wasi::Fd::Handle(cmd.stderr.clone()));
        fds.push(wasi::Fd::Dir(wasi::DirFd {
            ino: self.inner.vfs.root(),
            preopen: Some(b"/".to_vec()),
            listing: None,
            path: Some(b"/".to_vec()),
        }));
        // Only a foreign program away from `/` needs its working directory preopened
        // (wsh's own applets, the common case, skip this work).
        let cwd = foreign
            .then(|| mounts::normalize(b"/", cmd.cwd.as_bytes()))
            .filter(|c| c != b"/");
        if cwd.is_some() {
            self.top_level_preopens(&mut fds);
        }
        // Mounts are preopened after the root: wasi-libc picks the longest
        // matching prefix, so `/data/x` goes to the mount at /data.
        let mounts = self.mounts();
        for mount in mounts.iter() {
            fds.push(wasi::Fd::HostDir(wasi::HostDirFd {
                mount: mount.clone(),
                rel: Vec::new(),
                preopen: Some(mount.guest_path().to_vec()),
                listing: None,
            }));
        }
        if let Some(cwd) = &cwd {
            self.cwd_preopen(&mut fds, &mounts, cwd);
        }
        // Published ports come last: wasi-libc stops scanning for preopened
        // directories at the first descriptor that is not one.
        let network = self.network();
        for p in &network.published {
            fds.push(wasi::Fd::Socket(wasi::net::Socket::new(
                wasi::net::SockKind::Listener(p.listener.clone()),
            )));
        }
        let first_free = fds.len() as u32;
        for (n, h) in cmd.extra_fds {
            if n >= first_free {
                fds.set(n, wasi::Fd::Handle(h));
            }
        }
        fds.set_limit(
            cmd.open_files
                .map_or(limits.open_files, |n| n.min(limits.open_files)),
        );
        let creds = self.credentials();
        let process = self.inner.procs.register(proctable::NewProc {
            pid: cmd.pid,
            ppid: cmd.ppid,
            argv: &cmd.argv,
            uid: creds.uid,
            gid: creds.gid,
            interrupt: interrupt.clone(),
            paused: paused.clone(),
        });
        let mut memory_limiter = limits::Limiter::new(
            limits.memory,
            limits.container_memory,
            self.inner.memory_used.clone(),
        );
        memory_limiter.share_size(process.proc.memory.clone());
        let guest = Guest {
            vfs: self.inner.vfs.clone(),
            args: cmd.argv.iter().map(|a| a.clone().into_bytes()).collect(),
            env,
            fds,
            mounts,
            memory: None,
            exit: None,
            started: Instant::now(),
            interrupt: interrupt.clone(),
            paused: paused.clone(),
            limits: memory_limiter,
            umask,
            creds,
            cwd: cmd.cwd.clone().into_bytes(),
            runtime: Some(self.clone()),
            children: Default::default(),
            net: network,
            tty_mode: None,
            process: Some(process),
        };
        let name = cmd
            .argv
            .first()
            .cloned()
            .unwrap_or_else(|| cmd.program.clone());
        let exit = Arc::new(ExitCell::default());
        let post = ExitPost(exit.clone());
        let alive = self.inner.alive.clone();
        let stderr = cmd.stderr;
        workers::run(move || {
            // Dropped last: once everything the guest held (its store, its stderr) is gone.
            let tearing = TearingDown::new(alive);
            let ended = Ended {
                slot,
                post,
                tearing: &tearing,
            };
            run_guest(pre, guest, &name, stderr, limits, ended);
        })?;
        Ok(Child {
            end: End::Posted(exit),
            interrupt,
            paused,
            shielded,
            slot: None,
        })
    }

    /// Preopens that give a program built with the stock wasi-libc (C, Rust std...)
    /// the working directory `cwd`. Such a program keeps its own working directory,
    /// `/` at start, and turns a relative path into an absolute one before it looks
    /// for the preopen with the longest prefix (ties: the last one); a relative
    /// `file` and an absolute `/file` reach the host as the same call. So the
    /// directory is preopened as `.` after everything else, and each top-level
    /// directory of the image under its own name before it: `/etc/passwd` goes to the
    /// `/etc` preopen, `data.txt` to `.`. What remains ambiguous, and is documented:
    /// a relative path whose first component is a top-level directory's name
    /// (`etc/x` in the working directory) and absolute paths to `/` itself or to
    /// top-level files, which this choice sends to the working directory.
    fn top_level_preopens(&self, fds: &mut wasi::FdTable) {
        let vfs = &self.inner.vfs;
        let root = vfs.root();
        let mut top = vfs.readdir(root).unwrap_or_default();
        top.sort_by(|a, b| a.name.cmp(&b.name));
        for entry in top {
            if entry.name == b"." || entry.name == b".." {
                continue;
            }
            let mut path = b"/".to_vec();
            path.extend_from_slice(&entry.name);
            let (ino, lexical) = match entry.kind {
                fsimage::FileType::Directory => (entry.ino, Some(path.clone())),
                // A symlink to a directory (`/lib -> usr/lib`): its target, whose
                // path wsh does not know whole.
                fsimage::FileType::Symlink => match vfs.resolve(root, &path, true) {
                    Ok(ino)
                        if vfs
                            .stat(ino)
                            .is_ok_and(|st| st.kind == fsimage::FileType::Directory) =>
                    {
                        (ino, None)
                    }
                    _ => continue,
                },
                _ => continue,
            };
            fds.push(wasi::Fd::Dir(wasi::DirFd {
                ino,
                preopen: Some(path),
                listing: None,
                path: lexical,
            }));
        }
    }

    /// The last preopen of [`Runtime::top_level_preopens`]'s scheme: `cwd` as `.`.
    fn cwd_preopen(&self, fds: &mut wasi::FdTable, mounts: &mounts::Mounts, cwd: &[u8]) {
        let vfs = &self.inner.vfs;
        let dot = Some(b".".to_vec());
        if let Some((mount, rel)) = mounts.route(b"/", cwd) {
            fds.push(wasi::Fd::HostDir(wasi::HostDirFd {
                mount,
                rel,
                preopen: dot,
                listing: None,
            }));
            return;
        }
        let is_dir = |ino| {
            vfs.stat(ino)
                .is_ok_and(|st| st.kind == fsimage::FileType::Directory)
        };
        match wasi::access::resolve(vfs, &self.credentials(), vfs.root(), cwd, true) {
            Ok(ino) if is_dir(ino) => {
                fds.push(wasi::Fd::Dir(wasi::DirFd {
                    ino,
                    preopen: dot,
                    listing: None,
                    path: Some(cwd.to_vec()),
                }));
            }
            // A working directory that is gone leaves the program with `/` alone.
            _ => {}
        }
    }

    /// Waits until every guest reported as ended is also torn down: then nothing of
    /// theirs holds the file system (before it is closed). Guests still running are
    /// not waited for.
    pub fn settle(&self) {
        let alive = &self.inner.alive;
        let n = alive.count.lock().unwrap_or_else(|e| e.into_inner());
        drop(
            alive
                .zero
                .wait_while(n, |n| *n > 0)
                .unwrap_or_else(|e| e.into_inner()),
        );
    }

    /// Stops every guest still running (Ctrl-C) but the shielded ones (see
    /// [`JobControl::shield`]): each ends with status 130.
    pub fn interrupt_all(&self) {
        for (w, shielded) in self.inner.running.lock().unwrap().iter() {
            if shielded.load(Ordering::SeqCst) {
                continue;
            }
            if let Some(flag) = w.upgrade() {
                flag.store(true, Ordering::Relaxed);
            }
        }
        engine::increment_epochs();
    }
}
