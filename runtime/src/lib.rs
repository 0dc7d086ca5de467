//! wsh's runtime: compiles guest modules once, instantiates one per command, and
//! serves their WASI preview1 calls from an [`fsimage::Vfs`] (the broker).

pub mod bridge;
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
pub mod wasi;
mod workers;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

pub use fifo::FifoError;
use fsimage::Vfs;
pub use io::Handle;
pub use limits::{
    DEFAULT_CONTAINER_MEMORY, DEFAULT_OPEN_FILES, DEFAULT_PIDS, Limits, default_limits, parse_size,
    set_default_limits, thread_cpu_time,
};
pub use pids::{ForkError, PidSlot};
pub use proctable::{ProcInfo, SignalError, next_pid};
use wasi::Guest;
pub use wasi::access::Credentials;
use wasmtime::{InstancePre, Store};

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
    /// argv, argv[0] included.
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

/// Where a guest's thread posts its exit status as soon as the program is over,
/// before the (slow) teardown of its instance: waiting for a child waits for this.
#[derive(Default)]
struct ExitCell {
    status: Mutex<Option<i32>>,
    posted: std::sync::Condvar,
}

impl ExitCell {
    /// Records `status` unless one was posted already, and wakes the waiter.
    fn post(&self, status: i32) {
        let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
        if s.is_none() {
            *s = Some(status);
            self.posted.notify_all();
        }
    }

    fn wait(&self) -> i32 {
        let s = self.status.lock().unwrap_or_else(|e| e.into_inner());
        let s = self
            .posted
            .wait_while(s, |s| s.is_none())
            .unwrap_or_else(|e| e.into_inner());
        s.unwrap_or(134)
    }

    /// Waits up to `limit` for the status; whether it was posted.
    fn wait_for(&self, limit: std::time::Duration) -> bool {
        let s = self.status.lock().unwrap_or_else(|e| e.into_inner());
        let (s, _) = self
            .posted
            .wait_timeout_while(s, limit, |s| s.is_none())
            .unwrap_or_else(|e| e.into_inner());
        s.is_some()
    }

    fn is_posted(&self) -> bool {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
}

/// The guest thread's end of an [`ExitCell`]: a thread that dies without posting
/// (a panic in the broker) reports 134, as a join of the panicked thread did.
struct ExitPost(Arc<ExitCell>);

impl Drop for ExitPost {
    fn drop(&mut self) {
        self.0.post(134);
    }
}

/// A running command.
pub struct Child {
    /// How the command's end is known.
    end: End,
    interrupt: Arc<AtomicBool>,
    /// Holds the guest at its next epoch check while set (job control).
    paused: Arc<AtomicBool>,
    /// Set: [`Runtime::interrupt_all`] passes this command by (a background job).
    shielded: Arc<AtomicBool>,
    /// The container's count of this child, for children whose thread does not
    /// hold it itself (see [`Child::hold`]).
    slot: Option<PidSlot>,
}

impl Child {
    /// A child running on `thread` that stops when `interrupt` is set (for
    /// [`CommandLineRunner`]s, whose command lines run on threads of their own).
    pub fn new(thread: std::thread::JoinHandle<i32>, interrupt: Arc<AtomicBool>) -> Child {
        Child {
            end: End::Thread(thread),
            interrupt,
            paused: Arc::new(AtomicBool::new(false)),
            shielded: Arc::new(AtomicBool::new(false)),
            slot: None,
        }
    }

    /// Keeps `slot` taken until this child is waited for or dropped (for command
    /// lines started by a [`CommandLineRunner`], whose threads take none).
    pub fn hold(&mut self, slot: PidSlot) {
        self.slot = Some(slot);
    }

    /// Waits for the command and returns its exit status (0-255; 128+N when stopped).
    pub fn wait(self) -> i32 {
        match self.end {
            // The thread finishes tearing the instance down on its own.
            End::Posted(exit) => exit.wait(),
            End::Thread(thread) => thread.join().unwrap_or(134),
        }
    }

    /// Whether the command has ended (so `wait` would not block).
    pub fn is_finished(&self) -> bool {
        match &self.end {
            End::Posted(exit) => exit.is_posted(),
            End::Thread(thread) => thread.is_finished(),
        }
    }

    /// Waits up to `limit` for the command to end; whether it has (then `wait`
    /// does not block).
    pub fn wait_for(&self, limit: std::time::Duration) -> bool {
        match &self.end {
            End::Posted(exit) => exit.wait_for(limit),
            End::Thread(thread) => {
                if !thread.is_finished() {
                    std::thread::sleep(limit);
                }
                thread.is_finished()
            }
        }
    }

    /// Asks the command to stop, as Ctrl-C does: it ends with status 130.
    pub fn kill(&self) {
        self.control().kill();
    }

    /// A handle that pauses, resumes or stops this command from anywhere, also
    /// after the `Child` itself was handed to a waiter.
    pub fn control(&self) -> JobControl {
        JobControl {
            interrupt: self.interrupt.clone(),
            paused: self.paused.clone(),
            shielded: self.shielded.clone(),
        }
    }
}

/// How a [`Child`]'s end is known.
enum End {
    /// A guest on a pooled thread posts its status before its teardown ends.
    Posted(Arc<ExitCell>),
    /// A command line of a [`CommandLineRunner`] ends with its own thread.
    Thread(std::thread::JoinHandle<i32>),
}

/// Job control over one running command: what SIGSTOP, SIGCONT and SIGINT do to a
/// process. A paused guest holds at its next epoch check (compute) or before its
/// blocking call returns (sleep, terminal read); a command that is not a guest
/// (a [`CommandLineRunner`]'s) only stops.
#[derive(Clone)]
pub struct JobControl {
    interrupt: Arc<AtomicBool>,
    paused: Arc<AtomicBool>,
    shielded: Arc<AtomicBool>,
}

impl JobControl {
    /// Holds the command where it is until [`JobControl::resume`].
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Lets a paused command go on.
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }

    /// Whether the command is held.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Keeps [`Runtime::interrupt_all`] (Ctrl-C) from stopping this command, as
    /// the terminal's Ctrl-C does not reach a background job.
    pub fn shield(&self) {
        self.shielded.store(true, Ordering::SeqCst);
    }

    /// Stops the command (paused or not): it ends with status 130.
    pub fn kill(&self) {
        self.interrupt.store(true, Ordering::Relaxed);
        engine::increment_epochs();
    }
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

/// What must be unchanged for a module file to be the same module.
#[derive(Hash, PartialEq, Eq)]
struct ModuleKey {
    ino: fsimage::Ino,
    size: u64,
    mtime: (i64, u32),
    ctime: (i64, u32),
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

    /// Makes sure the module at `program` is compiled and cached; returns whether it had to compile.
    pub fn prepare(&self, program: &str) -> Result<bool, SpawnError> {
        self.module(program).map(|(_, compiled)| compiled)
    }

    fn module(&self, program: &str) -> Result<(InstancePre<Guest>, bool), SpawnError> {
        use fsimage::{Errno, FileType};
        // A program below a `-v` mount (`wsh run -v $PWD:/src base /src/app.wasm`) is
        // read from the host directory, within the mount as every guest access is.
        if let Some((mount, rel)) = self.mounts().route(b"/", program.as_bytes()) {
            return self.host_module(program, &mount, &rel);
        }
        let vfs = &self.inner.vfs;
        let creds = self.credentials();
        let not_found = || SpawnError::NotFound(program.to_string());
        let denied = || SpawnError::NotExecutable(program.into(), "Permission denied".into());
        let ino = wasi::access::resolve(vfs, &creds, vfs.root(), program.as_bytes(), true)
            .map_err(|e| match e.errno() {
                Errno::NoEnt | Errno::NotDir => not_found(),
                Errno::Acces => denied(),
                _ => SpawnError::Other(format!("{program}: {e}")),
            })?;
        let st = vfs
            .stat(ino)
            .map_err(|e| SpawnError::Other(format!("{program}: {e}")))?;
        match st.kind {
            FileType::Regular => {}
            FileType::Directory => {
                return Err(SpawnError::NotExecutable(
                    program.into(),
                    "Is a directory".into(),
                ));
            }
            _ => return Err(denied()),
        }
        // execve(2): an execute bit for the caller (root: for anyone), as bash's 126.
        if creds.check(&st, wasi::access::EXEC).is_err() {
            return Err(denied());
        }
        let key = ModuleKey {
            ino,
            size: st.size,
            mtime: (st.mtime.sec, st.mtime.nsec),
            ctime: (st.ctime.sec, st.ctime.nsec),
        };
        if let Some(pre) = self.inner.by_inode.lock().unwrap().get(&key) {
            return Ok((pre.clone(), false));
        }
        let index = self.index_path(&key);
        if let Some(pre) = index.as_deref().and_then(|p| self.indexed_module(p)) {
            self.inner.by_inode.lock().unwrap().insert(key, pre.clone());
            return Ok((pre, false));
        }
        let mut bytes = vec![0u8; st.size as usize];
        let mut at = 0;
        while at < bytes.len() {
            let n = vfs
                .read(ino, at as u64, &mut bytes[at..])
                .map_err(|e| SpawnError::Other(format!("{program}: {e}")))?;
            if n == 0 {
                bytes.truncate(at);
                break;
            }
            at += n;
        }
        let (pre, compiled, digest) = self.compile(program, &bytes)?;
        if let Some(index) = index {
            // Only a hint for later processes: failing to write it costs speed, not correctness.
            let _ = write_index(&index, &digest);
        }
        self.inner.by_inode.lock().unwrap().insert(key, pre.clone());
        Ok((pre, compiled))
    }

    /// [`Runtime::module`] for a program in a host mount: the same checks on the
    /// host file, found in the compiled cache by its contents' digest.
    fn host_module(
        &self,
        program: &str,
        mount: &mounts::Mount,
        rel: &[u8],
    ) -> Result<(InstancePre<Guest>, bool), SpawnError> {
        use fsimage::{Errno, FileType};
        let failed = |e: Errno| match e {
            Errno::NoEnt | Errno::NotDir => SpawnError::NotFound(program.to_string()),
            Errno::Acces | Errno::Perm => {
                SpawnError::NotExecutable(program.into(), "Permission denied".into())
            }
            Errno::IsDir => SpawnError::NotExecutable(program.into(), "Is a directory".into()),
            e => SpawnError::Other(format!(
                "{program}: {}",
                std::io::Error::from_raw_os_error(e.raw())
            )),
        };
        let st = mount.stat(rel, true).map_err(failed)?;
        match st.kind {
            FileType::Regular => {}
            FileType::Directory => return Err(failed(Errno::IsDir)),
            _ => return Err(failed(Errno::Acces)),
        }
        if self.credentials().check(&st, wasi::access::EXEC).is_err() {
            return Err(failed(Errno::Acces));
        }
        let opts = io::OpenOptions {
            read: true,
            ..Default::default()
        };
        let mounts::Opened::File(file) = mount.open(rel, opts, true, false, 0).map_err(failed)?
        else {
            return Err(failed(Errno::IsDir));
        };
        let identity = file.identity();
        if let Some(pre) =
            identity.and_then(|k| self.inner.by_host_file.lock().unwrap().get(&k).cloned())
        {
            return Ok((pre, false));
        }
        let mut bytes = Vec::with_capacity(st.size as usize);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SpawnError::Other(format!("{program}: {e}"))),
            }
        }
        let (pre, compiled, _) = self.compile(program, &bytes)?;
        // Known only if the file did not change while it was read.
        if let Some(k) = identity.filter(|k| file.identity().as_ref() == Some(k)) {
            self.inner
                .by_host_file
                .lock()
                .unwrap()
                .insert(k, pre.clone());
        }
        Ok((pre, compiled))
    }

    /// Compiles (or finds in the cache) the module whose file holds `bytes`.
    fn compile(
        &self,
        program: &str,
        bytes: &[u8],
    ) -> Result<(InstancePre<Guest>, bool, [u8; 32]), SpawnError> {
        // A component (WASI preview 2) has the wasm magic with layer 1 after its version.
        if bytes.starts_with(b"\0asm") && bytes.get(6..8) == Some(&[1, 0]) {
            return Err(SpawnError::NotExecutable(
                program.into(),
                "a WebAssembly component (WASI preview 2): wsh runs core modules \
                 (wasm32-wasip1) only; build for wasm32-wasip1"
                    .into(),
            ));
        }
        // A core wasm module: magic + version 1. Anything else is not runnable here.
        if !bytes.starts_with(b"\0asm\x01\0\0\0") {
            return Err(SpawnError::NotExecutable(
                program.into(),
                "cannot execute binary file: Exec format error".into(),
            ));
        }
        engine::shared()
            .and_then(|s| s.instance_pre(program, bytes, &self.inner.cache_dir, false))
            .map_err(|e| {
                let why = format!("{e}");
                let why = if why.contains("threads must be enabled") {
                    "the module uses threads (a shared memory: wasm32-wasip1-threads), \
                     which wsh does not support: build it for wasm32-wasip1 without threads"
                        .to_string()
                } else {
                    format!("invalid module: {why}")
                };
                SpawnError::NotExecutable(program.into(), why)
            })
    }

    /// Names the image this runtime's file system was opened from (an image id). Then
    /// a module file still as the image has it (same inode, size, mtime and ctime) is
    /// found in the compiled cache by that identity, without reading and hashing its
    /// bytes: the start-up cost of a fresh wsh process. A guest cannot forge a match:
    /// any change to the file sets its ctime to the host's current time.
    pub fn set_image_identity(&self, id: &str) {
        let _ = self.inner.identity.set(id.to_string());
    }

    fn index_path(&self, key: &ModuleKey) -> Option<PathBuf> {
        let id = self.inner.identity.get()?;
        let text = format!(
            "{id}\n{}\n{}\n{}.{}\n{}.{}",
            key.ino, key.size, key.mtime.0, key.mtime.1, key.ctime.0, key.ctime.1
        );
        let name = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
        Some(self.inner.cache_dir.join("index").join(name))
    }

    fn indexed_module(&self, index: &Path) -> Option<InstancePre<Guest>> {
        let text = std::fs::read_to_string(index).ok()?;
        let digest: [u8; 32] = hex::decode(text.trim()).ok()?.try_into().ok()?;
        engine::shared()
            .ok()?
            .cached_instance_pre(&digest, &self.inner.cache_dir)
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

/// Records which module digest an index entry names (atomically: temp file + rename).
fn write_index(path: &Path, digest: &[u8; 32]) -> std::io::Result<()> {
    let dir = path.parent().expect("index path has a parent");
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::write(tmp.path(), hex::encode(digest))?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// What a guest gives up when its program is over, before its instance is torn
/// down: its place in the container's `pids` count, and its exit status to post.
struct Ended<'a> {
    slot: PidSlot,
    post: ExitPost,
    tearing: &'a TearingDown,
}

impl Ended<'_> {
    /// Reports that the program in `store` ended with `status`, as a process's
    /// exit does: its descriptors closed (readers of its pipes see EOF), its memory
    /// and pid no longer counted against the container, then the status posted. The
    /// caller tears the store down afterwards, off the waiter's critical path.
    fn report(self, store: &mut Store<Guest>, status: i32) {
        let guest = store.data_mut();
        drop(std::mem::take(&mut guest.fds));
        drop(std::mem::take(&mut guest.children));
        // Gone from `ps` as soon as it has ended.
        drop(guest.process.take());
        guest.limits.release();
        drop(self.slot);
        self.tearing.arm();
        self.post.0.post(status);
    }

    /// Reports `status` for a program that never ran; returns it.
    fn give_up(self, status: i32) -> i32 {
        drop(self.slot);
        self.tearing.arm();
        self.post.0.post(status);
        status
    }
}

/// Instantiates and runs one guest to completion; returns its exit status (posted
/// through `ended` before the store is torn down).
fn run_guest(
    pre: InstancePre<Guest>,
    guest: Guest,
    name: &str,
    stderr: Handle,
    caps: Limits,
    ended: Ended<'_>,
) -> i32 {
    let report = |msg: String| {
        let _ = stderr.write_all(format!("wsh: {name}: {msg}\n").as_bytes());
    };
    let _running = engine::Running::start();
    if let Some(p) = &guest.process {
        p.on_thread();
    }
    let mut store = new_store(&pre, guest, caps);
    let instance = match pre.instantiate(&mut store) {
        Ok(i) => i,
        // The pool is full (a long pipeline, many background jobs): run on demand.
        Err(e) if pool_full(&e) => {
            let guest = store.into_data();
            let started = engine::shared()
                .and_then(|s| s.overflow_pre(&pre))
                .map(|pre| {
                    let mut store = new_store(&pre, guest, caps);
                    let instance = pre.instantiate(&mut store);
                    (store, instance)
                });
            match started {
                Ok((s, Ok(i))) => {
                    store = s;
                    i
                }
                Ok((_, Err(e))) => {
                    report(format!("cannot start: {e}"));
                    return ended.give_up(126);
                }
                Err(e) => {
                    report(format!("cannot start: {e}"));
                    return ended.give_up(126);
                }
            }
        }
        Err(e) => {
            report(format!("cannot start: {e}"));
            return ended.give_up(126);
        }
    };
    let memory = instance.get_memory(&mut store, "memory");
    store.data_mut().memory = memory;
    let start = match instance.get_typed_func::<(), ()>(&mut store, "_start") {
        Ok(f) => f,
        Err(_) => {
            report("not a command module (no _start)".into());
            return ended.give_up(126);
        }
    };
    let status = match start.call(&mut store, ()) {
        Ok(()) => 0,
        Err(e) => exit_status(&e, &report),
    };
    // A signal (`kill PID`) ends the guest as an interrupt does: report its number.
    let status = match &store.data().process {
        Some(p) => p.status(status),
        None => status,
    };
    ended.report(&mut store, status);
    drop(store);
    status
}

/// Whether instantiation failed because the pooling allocator has no free slot.
fn pool_full(e: &wasmtime::Error) -> bool {
    e.chain()
        .any(|c| c.is::<wasmtime::PoolConcurrencyLimitError>())
}

/// A store for `guest` on the engine of `pre`, with its memory limiter and the
/// epoch callback that enforces its stop flag and CPU time.
fn new_store(pre: &InstancePre<Guest>, guest: Guest, caps: Limits) -> Store<Guest> {
    let mut store = Store::new(pre.module().engine(), guest);
    store.limiter(|g| &mut g.limits);
    // The engine's ticker bumps the epoch every few milliseconds; at each tick the
    // guest stops if its stop flag is set or its thread has used up its CPU time.
    let cpu_start = limits::thread_cpu_time();
    store.epoch_deadline_callback(move |ctx| {
        ctx.data().hold_while_paused();
        if ctx.data().interrupted() {
            return Err(wasmtime::Error::new(wasmtime::Trap::Interrupt));
        }
        if let Some(max) = caps.cpu_time
            && limits::thread_cpu_time().saturating_sub(cpu_start) > max
        {
            return Err(wasmtime::Error::new(limits::CpuLimitExceeded(max)));
        }
        Ok(wasmtime::UpdateDeadline::Continue(1))
    });
    store.set_epoch_deadline(1);
    store
}

/// Maps a guest's end to a shell status: its exit code, or 128+signal for a trap.
fn exit_status(e: &wasmtime::Error, report: &dyn Fn(String)) -> i32 {
    use wasmtime::Trap;
    if let Some(wasi::Exit(code)) = e.downcast_ref::<wasi::Exit>() {
        return *code;
    }
    if let Some(limit) = e.downcast_ref::<limits::CpuLimitExceeded>() {
        report(limit.to_string());
        return 128 + libc::SIGXCPU;
    }
    if let Some(limit) = e.downcast_ref::<limits::MemoryLimitExceeded>() {
        // What the kernel's OOM killer does to a process: SIGKILL.
        report(limit.to_string());
        return 128 + libc::SIGKILL;
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => 128 + libc::SIGINT,
        Some(t @ (Trap::MemoryOutOfBounds | Trap::StackOverflow | Trap::HeapMisaligned)) => {
            report(format!("guest crashed: {t}"));
            128 + libc::SIGSEGV
        }
        Some(t @ (Trap::IntegerDivisionByZero | Trap::IntegerOverflow)) => {
            report(format!("guest crashed: {t}"));
            128 + libc::SIGFPE
        }
        Some(Trap::UnreachableCodeReached) => {
            // Rust's panic=abort and C's abort() both end in `unreachable`.
            report("aborted (wasm trap: unreachable)".into());
            128 + libc::SIGABRT
        }
        Some(t) => {
            report(format!("guest crashed: {t}"));
            128 + libc::SIGILL
        }
        None => {
            // The root cause names what failed (an unknown import, say); the rest is a backtrace.
            let cause = e.root_cause().to_string();
            let hint = if cause.contains("`wasi::thread-spawn`") {
                " (the program uses wasi-threads, which wsh does not support: build it \
                 for wasm32-wasip1 without threads)"
            } else {
                ""
            };
            report(format!("guest failed: {cause}{hint}"));
            128 + libc::SIGABRT
        }
    }
}
