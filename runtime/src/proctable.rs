//! The process table of a container: every guest program has an entry while it
//! runs (pid, parent, argv, owner, state, start, CPU time, memory), which `ps`,
//! `top` and `pgrep` read through the synthesized `/proc/PID/*` files and the
//! `wsh` import `procs`, and which `kill`/`pkill` signal through [`Runtime::signal`].
//!
//! Pids come from one counter per wsh process ([`next_pid`]), the same numbers the
//! interpreter gives its background jobs, so a program started as a job can take its
//! job's pid (`sleep 9 &` shows in `ps` with the pid `$!` names).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::Runtime;

/// The last pid handed out, as an offset above the wsh process's own pid.
static NEXT: AtomicU32 = AtomicU32::new(1);

/// A fresh pid: it never repeats within one wsh process and looks like a Linux
/// pid (the wsh process's own pid plus a counter).
pub fn next_pid() -> u32 {
    std::process::id().wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A signal could not be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    /// No program of this container has that pid (ESRCH).
    #[error("No such process")]
    NoSuchProcess,
    /// The sender may not signal that program (EPERM: another user's, sender not root).
    #[error("Operation not permitted")]
    NotPermitted,
    /// Not a signal number (EINVAL).
    #[error("Invalid argument")]
    Invalid,
}

/// One running program.
pub(crate) struct Proc {
    pid: u32,
    ppid: u32,
    argv: Vec<String>,
    uid: u32,
    gid: u32,
    started: Instant,
    /// The guest's stop flag and pause flag (shared with its `Child`).
    interrupt: Arc<AtomicBool>,
    paused: Arc<AtomicBool>,
    /// The CPU clock of the guest's thread, once the thread has started (-1 before).
    clock: AtomicI32,
    /// Bytes of linear memory the guest has (kept by its store limiter).
    pub(crate) memory: Arc<AtomicUsize>,
    /// Blocked waiting (sleep, a pipe): `ps` state S rather than R.
    sleeping: AtomicBool,
    /// The signal that ended it (0: none), for its exit status 128+N.
    signal: AtomicI32,
}

/// What `ps` shows of one program: a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    pub pid: u32,
    pub ppid: u32,
    pub argv: Vec<String>,
    pub uid: u32,
    pub gid: u32,
    /// `R` running, `S` sleeping (blocked in a wait), `T` stopped.
    pub state: char,
    /// When it started, counted from the container's start (Linux: from boot).
    pub start: Duration,
    /// CPU time its thread has used.
    pub cpu: Duration,
    /// Bytes of linear memory.
    pub memory: usize,
}

/// The table of one container (cheap to clone).
#[derive(Clone, Default)]
pub(crate) struct ProcTable {
    procs: Arc<Mutex<BTreeMap<u32, Arc<Proc>>>>,
}

/// A program's place in the table, removed when dropped (when the program ends).
pub(crate) struct Registered {
    table: ProcTable,
    pub(crate) proc: Arc<Proc>,
}

/// Who a new entry is: its pid (fresh unless given), parent, argv and owner.
pub(crate) struct NewProc<'a> {
    pub pid: Option<u32>,
    pub ppid: u32,
    pub argv: &'a [String],
    pub uid: u32,
    pub gid: u32,
    pub interrupt: Arc<AtomicBool>,
    pub paused: Arc<AtomicBool>,
}

impl ProcTable {
    /// Enters a program that is about to start.
    pub(crate) fn register(&self, new: NewProc<'_>) -> Registered {
        let pid = new.pid.unwrap_or_else(next_pid);
        let proc = Arc::new(Proc {
            pid,
            ppid: new.ppid,
            argv: new.argv.to_vec(),
            uid: new.uid,
            gid: new.gid,
            started: Instant::now(),
            interrupt: new.interrupt,
            paused: new.paused,
            clock: AtomicI32::new(-1),
            memory: Arc::default(),
            sleeping: AtomicBool::new(false),
            signal: AtomicI32::new(0),
        });
        self.lock().insert(pid, proc.clone());
        Registered {
            table: self.clone(),
            proc,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, Arc<Proc>>> {
        self.procs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, pid: u32) -> Option<Arc<Proc>> {
        self.lock().get(&pid).cloned()
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut procs = self.table.lock();
        // Only our own entry: a pid is never reused, but be exact anyway.
        if procs
            .get(&self.proc.pid)
            .is_some_and(|p| Arc::ptr_eq(p, &self.proc))
        {
            procs.remove(&self.proc.pid);
        }
    }
}

impl Registered {
    /// The program's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.proc.pid
    }

    /// Called on the guest's own thread as it starts: its CPU clock becomes readable.
    pub(crate) fn on_thread(&self) {
        let mut id: libc::clockid_t = 0;
        // SAFETY: `id` is a valid out-pointer; pthread_self is always valid.
        if unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut id) } == 0 {
            self.proc.clock.store(id, Ordering::SeqCst);
        }
    }

    /// Marks the program as blocked in a wait (`ps` state S) until the guard drops.
    pub(crate) fn sleeping(&self) -> SleepGuard {
        self.proc.sleeping.store(true, Ordering::Relaxed);
        SleepGuard(self.proc.clone())
    }

    /// The exit status of a program that ended with `status`: 128+N when a signal
    /// N stopped it (the interrupt it got reports 130 whatever the signal).
    pub(crate) fn status(&self, status: i32) -> i32 {
        match self.proc.signal.load(Ordering::SeqCst) {
            0 => status,
            n if status == 128 + libc::SIGINT => 128 + n,
            _ => status,
        }
    }
}

/// Clears the sleeping mark when the wait is over.
pub(crate) struct SleepGuard(Arc<Proc>);

impl Drop for SleepGuard {
    fn drop(&mut self) {
        self.0.sleeping.store(false, Ordering::Relaxed);
    }
}

impl Proc {
    fn info(&self, boot: Instant) -> ProcInfo {
        let state = if self.paused.load(Ordering::Relaxed) {
            'T'
        } else if self.sleeping.load(Ordering::Relaxed) {
            'S'
        } else {
            'R'
        };
        ProcInfo {
            pid: self.pid,
            ppid: self.ppid,
            argv: self.argv.clone(),
            uid: self.uid,
            gid: self.gid,
            state,
            start: self.started.saturating_duration_since(boot),
            cpu: self.cpu_time(),
            memory: self.memory.load(Ordering::Relaxed),
        }
    }

    /// CPU time of the guest's thread (zero before it starts or once it is gone).
    fn cpu_time(&self) -> Duration {
        let id = self.clock.load(Ordering::SeqCst);
        if id == -1 {
            return Duration::ZERO;
        }
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid out-pointer; a clock id of a thread that ended
        // gives an error, not undefined behaviour.
        if unsafe { libc::clock_gettime(id, &mut ts) } != 0 {
            return Duration::ZERO;
        }
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }
}

/// What the default action of signal `sig` does to a program.
enum Action {
    Ignore,
    Stop,
    Continue,
    Terminate,
}

fn action(sig: i32) -> Action {
    match sig {
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH => Action::Ignore,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => Action::Stop,
        libc::SIGCONT => Action::Continue,
        _ => Action::Terminate,
    }
}

impl Runtime {
    /// Another runtime of the same container (`wsh exec`): the same file system,
    /// process table, locks, named pipes, memory count and start time, so its
    /// programs see and signal the container's; its own user, mounts, network and
    /// runner to set (none, root and this one's limits to begin with).
    pub fn sibling(&self) -> Runtime {
        let me = &self.inner;
        let identity = std::sync::OnceLock::new();
        if let Some(id) = me.identity.get() {
            let _ = identity.set(id.clone());
        }
        Runtime {
            inner: Arc::new(crate::Inner {
                vfs: me.vfs.clone(),
                cache_dir: me.cache_dir.clone(),
                by_inode: Mutex::new(std::collections::HashMap::new()),
                by_host_file: Mutex::new(std::collections::HashMap::new()),
                running: Mutex::new(Vec::new()),
                limits: Mutex::new(self.limits()),
                runner: Mutex::new(None),
                identity,
                mounts: Mutex::new(Arc::new(crate::mounts::Mounts::none())),
                credentials: Mutex::new(Arc::new(crate::Credentials::root())),
                network: Mutex::new(Arc::new(crate::net::Network::none())),
                pids: crate::pids::Pids::default(),
                memory_used: me.memory_used.clone(),
                started: me.started,
                alive: Arc::default(),
                procs: me.procs.clone(),
                locks: me.locks.clone(),
                fifos: me.fifos.clone(),
            }),
        }
    }

    /// The programs running in this container now, by pid.
    pub fn processes(&self) -> Vec<ProcInfo> {
        let boot = self.inner.started;
        let procs: Vec<Arc<Proc>> = self.inner.procs.lock().values().cloned().collect();
        procs.iter().map(|p| p.info(boot)).collect()
    }

    /// One program of this container, if `pid` is running.
    pub fn process(&self, pid: u32) -> Option<ProcInfo> {
        let boot = self.inner.started;
        self.inner.procs.get(pid).map(|p| p.info(boot))
    }

    /// Sends signal `sig` (0-64) to program `pid` of this container on behalf of
    /// user `sender_uid`, with the signal's default action (guests have no
    /// handlers): STOP/TSTP/TTIN/TTOU pause it, CONT resumes it, CHLD/URG/WINCH do
    /// nothing, any other ends it with status 128+`sig`; 0 only checks that it exists.
    pub fn signal(&self, pid: u32, sig: i32, sender_uid: u32) -> Result<(), SignalError> {
        if !(0..=64).contains(&sig) {
            return Err(SignalError::Invalid);
        }
        let p = self
            .inner
            .procs
            .get(pid)
            .ok_or(SignalError::NoSuchProcess)?;
        if sender_uid != 0 && sender_uid != p.uid {
            return Err(SignalError::NotPermitted);
        }
        if sig == 0 {
            return Ok(());
        }
        match action(sig) {
            Action::Ignore => {}
            Action::Stop => p.paused.store(true, Ordering::SeqCst),
            Action::Continue => p.paused.store(false, Ordering::SeqCst),
            Action::Terminate => {
                let _ = p
                    .signal
                    .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
                p.interrupt.store(true, Ordering::SeqCst);
                crate::engine::increment_epochs();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(table: &ProcTable, argv: &[String]) -> Registered {
        table.register(NewProc {
            pid: None,
            ppid: 1,
            argv,
            uid: 0,
            gid: 0,
            interrupt: Arc::default(),
            paused: Arc::default(),
        })
    }

    #[test]
    fn entries_live_as_long_as_their_registration() {
        let table = ProcTable::default();
        let argv = vec!["sleep".to_string(), "1".to_string()];
        let a = new(&table, &argv);
        let b = new(&table, &argv);
        assert_ne!(a.pid(), b.pid());
        assert_eq!(table.lock().len(), 2);
        drop(a);
        assert_eq!(table.lock().keys().copied().collect::<Vec<_>>(), [b.pid()]);
    }

    #[test]
    fn a_signalled_program_reports_its_signal() {
        let table = ProcTable::default();
        let r = new(&table, &["x".to_string()]);
        assert_eq!(r.status(130), 130);
        r.proc.signal.store(libc::SIGTERM, Ordering::SeqCst);
        assert_eq!(r.status(130), 143);
        assert_eq!(r.status(0), 0);
    }
}
