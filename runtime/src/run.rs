//! One guest's life on its pool thread: instantiate, run `_start`, report the exit
//! status (before the teardown), map traps and exits to statuses.

use wasmtime::{InstancePre, Store};

use crate::child::ExitPost;
use crate::io::Handle;
use crate::wasi::{self, Guest};
use crate::{Limits, PidSlot, TearingDown, engine, limits};

/// What a guest gives up when its program is over, before its instance is torn
/// down: its place in the container's `pids` count, and its exit status to post.
pub(crate) struct Ended<'a> {
    pub(crate) slot: PidSlot,
    pub(crate) post: ExitPost,
    pub(crate) tearing: &'a TearingDown,
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
pub(crate) fn run_guest(
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
