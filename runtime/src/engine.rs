//! One wasmtime engine per process, the linker holding the broker, and the
//! compiled-module cache (in memory, and serialized on disk so that only the
//! first run after an install compiles).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module, OptLevel,
    PoolingAllocationConfig,
};

use crate::wasi::{self, Guest};

/// How many guest instances the pooling allocator holds (pipeline stages, background
/// jobs). Past it, guests run on an engine that allocates on demand (see
/// [`Shared::overflow_pre`]): slower to start, but with no fixed cap besides the
/// container's `pids` limit.
pub const MAX_INSTANCES: u32 = 128;

/// How much of a pooled memory or table stays resident between guests.
const KEEP_RESIDENT: usize = 1 << 20;

/// Memories (and tables) one module may define.
const MAX_PER_MODULE: u32 = 8;

/// The process-wide engine, its broker linker and modules compiled so far.
pub struct Shared {
    pub engine: Engine,
    linker: Linker<Guest>,
    /// Pre-linked modules by sha256 of their bytes.
    modules: Mutex<HashMap<[u8; 32], InstancePre<Guest>>>,
    /// Why modules that failed to compile failed, by sha256 of their bytes.
    failed: Mutex<HashMap<[u8; 32], String>>,
    /// The on-demand engine for guests past the pool, made when first needed.
    overflow: OnceLock<Result<Overflow, String>>,
}

/// A second engine, identical but for allocating instances on demand, that runs
/// guests once the pooling allocator's [`MAX_INSTANCES`] slots are all taken.
struct Overflow {
    engine: Engine,
    linker: Linker<Guest>,
    /// Modules brought over so far: (the pooled engine's module, its twin here).
    modules: Mutex<Vec<(Module, InstancePre<Guest>)>>,
}

static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();

/// The engine's settings: pooled instances, or (`pooled` false) on-demand ones with
/// the same code-generation settings, so compiled modules move between the two.
fn config(pooled: bool) -> Config {
    let strategy = if pooled {
        let mut pool = PoolingAllocationConfig::default();
        // Multi-memory and reference types allow several memories and tables per
        // module (toolchains emit them); the totals leave room for some of each.
        pool.total_core_instances(MAX_INSTANCES)
            .max_memories_per_module(MAX_PER_MODULE)
            .max_tables_per_module(MAX_PER_MODULE)
            .total_memories(MAX_INSTANCES * 2)
            .total_tables(MAX_INSTANCES * 2)
            .table_elements(100_000)
            // A finished guest's slot is reset by rewriting the pages it touched
            // (found with PAGEMAP_SCAN where the kernel has it) rather than
            // unmapping them: the next short program takes no page faults there
            // and no TLB shootdown is paid at teardown.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            .pagemap_scan(wasmtime::Enabled::Auto);
        InstanceAllocationStrategy::Pooling(pool)
    } else {
        InstanceAllocationStrategy::OnDemand
    };
    let mut c = Config::new();
    c.allocation_strategy(strategy)
        .memory_init_cow(true)
        .epoch_interruption(true)
        .cranelift_opt_level(OptLevel::Speed)
        .parallel_compilation(true);
    c
}

/// The shared engine, made on first use.
pub fn shared() -> anyhow::Result<&'static Shared> {
    SHARED
        .get_or_init(|| {
            let engine =
                Engine::new(&config(true)).map_err(|e| format!("cannot start wasmtime: {e}"))?;
            let linker = broker_linker(&engine)?;
            start_ticker(&engine).map_err(|e| format!("cannot start the epoch ticker: {e}"))?;
            Ok(Shared {
                engine,
                linker,
                modules: Mutex::new(HashMap::new()),
                failed: Mutex::new(HashMap::new()),
                overflow: OnceLock::new(),
            })
        })
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// A linker holding the broker (WASI preview 1 and wsh's own interface) for `engine`.
fn broker_linker(engine: &Engine) -> Result<Linker<Guest>, String> {
    let mut linker = Linker::new(engine);
    wasi::add_to_linker(&mut linker).map_err(|e| format!("cannot link the WASI broker: {e}"))?;
    wasi::wsh_ext::add_to_linker(&mut linker)
        .map_err(|e| format!("cannot link the wsh host interface: {e}"))?;
    Ok(linker)
}

/// Advances the epoch of every engine guests run on: an interrupt or a tick.
pub(crate) fn increment_epochs() {
    if let Some(Ok(s)) = SHARED.get() {
        s.engine.increment_epoch();
        if let Some(Ok(o)) = s.overflow.get() {
            o.engine.increment_epoch();
        }
    }
}

/// How often the epoch advances: the granularity of CPU-time checks and interrupts.
pub const TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// How many guests are running: the ticker sleeps while there are none.
static ACTIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// The ticker thread, to wake it when the first guest starts.
static TICKER: OnceLock<std::thread::Thread> = OnceLock::new();

/// Marks one guest as running for as long as it lives (see [`start_ticker`]).
pub(crate) struct Running(());

impl Running {
    /// Counts a guest in, waking the ticker if it was idle.
    pub(crate) fn start() -> Running {
        if ACTIVE.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0
            && let Some(t) = TICKER.get()
        {
            t.unpark();
        }
        Running(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Advances the engine's epoch every [`TICK`] while any guest runs, so every
/// running guest's deadline callback gets to check its stop flag and CPU time;
/// with no guest (an idle REPL) it parks instead of waking 100 times a second.
fn start_ticker(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    let handle = std::thread::Builder::new()
        .name("wsh-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                if ACTIVE.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                    drop(engine);
                    // An unpark that came first makes this return at once: no lost wake-up.
                    std::thread::park();
                    continue;
                }
                drop(engine);
                increment_epochs();
                std::thread::sleep(TICK);
            }
        })?;
    let _ = TICKER.set(handle.thread().clone());
    Ok(())
}

impl Shared {
    /// A key naming this engine's compiled-code format: wasmtime version + settings.
    fn compat_key(&self) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        format!("{:016x}", h.finish())
    }

    /// The pre-linked module for `bytes`: from memory, else the disk cache, else compiled
    /// (and then written to the cache). Returns it, whether it had to compile, and the
    /// module's sha256. A module that fails to compile fails the same way for the same
    /// engine every time, so the failure is cached too (a `.failed` file next to where
    /// the compiled form would be): a damaged module costs one compile, not one per run.
    /// `name` is the program's path, for the progress line of a long compile (shown
    /// unless `quiet`: a caller with its own display).
    pub fn instance_pre(
        &self,
        name: &str,
        bytes: &[u8],
        cache_dir: &Path,
        quiet: bool,
    ) -> anyhow::Result<(InstancePre<Guest>, bool, [u8; 32])> {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(pre) = self.modules.lock().unwrap().get(&digest) {
            return Ok((pre.clone(), false, digest));
        }
        let path = self.cache_path(&digest, cache_dir);
        let failed = failure_path(&path);
        if let Some(why) = self.known_failure(&digest, &failed) {
            anyhow::bail!("{why}");
        }
        // Several wsh processes starting on a cold cache compile once: the first takes
        // the lock and compiles, the others wait and then load its result.
        let _compile_lock = compile_lock(&path);
        let (module, compiled) = match self.load_cached(&path) {
            Some(m) => (m, false),
            None => {
                // The process that held the lock may have failed where we would.
                if let Some(why) = self.known_failure(&digest, &failed) {
                    anyhow::bail!("{why}");
                }
                let progress = (!quiet).then(|| CompileProgress::start(name, bytes.len()));
                let compiled = Module::new(&self.engine, bytes);
                if let Some(p) = progress {
                    p.finish();
                }
                let module = match compiled {
                    Ok(m) => m,
                    Err(e) => {
                        let why = format!("{e:#}");
                        self.failed.lock().unwrap().insert(digest, why.clone());
                        // Like the compiled cache: failing to write it costs speed only.
                        if let Err(e) = write_atomic(&failed, why.as_bytes()) {
                            eprintln!(
                                "wsh: warning: cannot cache a compile failure at {}: {e:#}",
                                failed.display()
                            );
                        }
                        anyhow::bail!("{why}");
                    }
                };
                // A cache we cannot write only costs speed, never correctness.
                if let Err(e) = store_cached(&path, &module) {
                    eprintln!(
                        "wsh: warning: cannot cache compiled module at {}: {e:#}",
                        path.display()
                    );
                }
                (module, true)
            }
        };
        let pre = self.link(&module)?;
        self.modules.lock().unwrap().insert(digest, pre.clone());
        Ok((pre, compiled, digest))
    }

    /// Links `module` to the broker. Imports wsh does not provide (a module its own host
    /// package was meant to supply) become functions that trap when called, naming the
    /// import, as the wasmtime CLI's `-W unknown-imports-trap=y` does: the program runs
    /// until it needs one.
    fn link(&self, module: &Module) -> anyhow::Result<InstancePre<Guest>> {
        link_with(&self.linker, module)
    }

    /// The twin of `pre` (a module of the pooled engine) on the on-demand engine, for
    /// a guest that finds the pool full. The first time for a module, its compiled
    /// code is carried over (serialized and loaded again, no compile).
    pub(crate) fn overflow_pre(
        &self,
        pre: &InstancePre<Guest>,
    ) -> anyhow::Result<InstancePre<Guest>> {
        let overflow = self
            .overflow
            .get_or_init(|| {
                let engine = Engine::new(&config(false))
                    .map_err(|e| format!("cannot start wasmtime (on demand): {e}"))?;
                let linker = broker_linker(&engine)?;
                Ok(Overflow {
                    engine,
                    linker,
                    modules: Mutex::new(Vec::new()),
                })
            })
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut modules = overflow.modules.lock().unwrap();
        if let Some((_, twin)) = modules.iter().find(|(m, _)| Module::same(m, pre.module())) {
            return Ok(twin.clone());
        }
        let bytes = pre.module().serialize()?;
        // SAFETY: the bytes were serialized just now, in this process, by an engine with
        // the same code-generation settings; wasmtime checks that they are compatible.
        let module = unsafe { Module::deserialize(&overflow.engine, &bytes) }?;
        let twin = link_with(&overflow.linker, &module)?;
        modules.push((pre.module().clone(), twin.clone()));
        Ok(twin)
    }
}

/// Links `module` to the broker in `linker`; see [`Shared::link`].
fn link_with(linker: &Linker<Guest>, module: &Module) -> anyhow::Result<InstancePre<Guest>> {
    match linker.instantiate_pre(module) {
        Ok(pre) => Ok(pre),
        Err(first) => {
            let mut linker = linker.clone();
            linker
                .define_unknown_imports_as_traps(module)
                .and_then(|()| linker.instantiate_pre(module))
                // The first error says what does not fit (a wrong signature, say).
                .map_err(|_| anyhow::anyhow!("{first:#}"))
        }
    }
}

impl Shared {
    /// Why the module with sha256 `digest` failed to compile before, if it did
    /// (in this process, or in any other: the `failed` file).
    fn known_failure(&self, digest: &[u8; 32], failed: &Path) -> Option<String> {
        if let Some(why) = self.failed.lock().unwrap().get(digest) {
            return Some(why.clone());
        }
        let why = std::fs::read_to_string(failed).ok()?;
        self.failed.lock().unwrap().insert(*digest, why.clone());
        Some(why)
    }

    /// Where the compiled form of the module with sha256 `digest` is cached.
    fn cache_path(&self, digest: &[u8; 32], cache_dir: &Path) -> PathBuf {
        cache_dir.join("modules").join(format!(
            "{}-{}.cwasm",
            hex::encode(digest),
            self.compat_key()
        ))
    }

    /// The pre-linked module whose bytes hash to `digest`, if it is in memory or in the
    /// disk cache (never compiles: the caller does not have the bytes).
    pub fn cached_instance_pre(
        &self,
        digest: &[u8; 32],
        cache_dir: &Path,
    ) -> Option<InstancePre<Guest>> {
        if let Some(pre) = self.modules.lock().unwrap().get(digest) {
            return Some(pre.clone());
        }
        let module = self.load_cached(&self.cache_path(digest, cache_dir))?;
        let pre = self.link(&module).ok()?;
        self.modules.lock().unwrap().insert(*digest, pre.clone());
        Some(pre)
    }

    fn load_cached(&self, path: &Path) -> Option<Module> {
        if !path.exists() {
            return None;
        }
        // SAFETY: the file is one wsh itself serialized into the user's own cache
        // directory (written atomically, named by the module hash and this engine's
        // compatibility hash); wasmtime also checks its header before use.
        unsafe { Module::deserialize_file(&self.engine, path) }.ok()
    }
}

/// An exclusive advisory lock next to the cache entry `path`, held until dropped;
/// `None` when the cache directory is unusable (then each process compiles alone).
fn compile_lock(path: &Path) -> Option<std::fs::File> {
    use std::os::fd::AsRawFd;
    std::fs::create_dir_all(path.parent()?).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.with_extension("lock"))
        .ok()?;
    // SAFETY: flock on a descriptor we own; the lock goes with the file when dropped.
    (unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0).then_some(file)
}

/// Where the compile failure of the module cached at `path` is recorded (the
/// same name with `.failed`: keyed by module hash and engine settings alike;
/// deleting it makes the next run try again).
fn failure_path(path: &Path) -> PathBuf {
    path.with_extension("failed")
}

fn store_cached(path: &Path, module: &Module) -> anyhow::Result<()> {
    let bytes = module.serialize().map_err(|e| anyhow::anyhow!("{e:#}"))?;
    write_atomic(path, &bytes)
}

/// Writes `bytes` to `path` atomically (temp file, sync, rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().expect("cache path has a parent");
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)?;
    Ok(())
}

/// A spinner with the elapsed time on stderr while a compile takes longer than a
/// second (a big module compiles for minutes): nothing for quick compiles, and nothing
/// when stderr is not a terminal (indicatif hides itself there), so scripted output
/// stays clean.
struct CompileProgress {
    done: std::sync::Arc<(Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CompileProgress {
    /// How long a compile runs before the spinner shows.
    const QUIET: std::time::Duration = std::time::Duration::from_secs(1);

    fn start(name: &str, size: usize) -> CompileProgress {
        let done = std::sync::Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let msg = format!("compiling {name} ({:.1} MB)", size as f64 / 1e6);
        let flag = done.clone();
        // Without a thread the compile still runs; it only goes without a spinner.
        let thread = std::thread::Builder::new()
            .name("wsh compile progress".into())
            .spawn(move || {
                let (lock, cv) = &*flag;
                let finished = lock.lock().unwrap_or_else(|e| e.into_inner());
                let (finished, _) = cv
                    .wait_timeout_while(finished, Self::QUIET, |d| !*d)
                    .unwrap_or_else(|e| e.into_inner());
                if *finished {
                    return;
                }
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_style(
                    indicatif::ProgressStyle::with_template("wsh: {spinner} {msg} {elapsed}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
                bar.set_message(msg);
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                let finished = cv
                    .wait_while(finished, |d| !*d)
                    .unwrap_or_else(|e| e.into_inner());
                drop(finished);
                bar.finish_and_clear();
            })
            .ok();
        CompileProgress { done, thread }
    }

    /// Ends the spinner (clearing its line) once the compile is over.
    fn finish(mut self) {
        let (lock, cv) = &*self.done;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
