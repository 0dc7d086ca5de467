//! Background jobs (`cmd &`), `$!`, `wait` and `jobs`.
//!
//! A background and-or list runs on its own thread with a subshell copy of the
//! shell (as bash forks one) and stdin from /dev/null. Job ids are small numbers
//! handed out per shell; `$!` is that id. `kill` marks a job with a signal number:
//! its shell stops the guest it waits for and runs no further command.

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use brush_parser::ast;
use wsh_runtime::{ForkError, Handle};

use super::jobctl::jobspec;
use super::{ExecResult, Fds, Flow, Shell};

/// One background job.
pub(crate) struct Job {
    /// What `$!` reports.
    pub id: u32,
    /// Its job number, `%N` (the lowest one above those in use).
    pub number: usize,
    /// The command text (for `jobs`).
    pub text: String,
    /// The running thread; None once reaped.
    pub thread: Option<JoinHandle<i32>>,
    /// The exit status once reaped.
    pub status: Option<i32>,
    /// The signal `kill` sent (0: none).
    pub signal: Arc<AtomicI32>,
    /// For a program stopped in the foreground (Ctrl-Z): pauses, resumes, stops it.
    pub control: Option<wsh_runtime::JobControl>,
    /// For a job of shell code (`cmd &`, a pipeline): its shell's hold flag.
    pub hold: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Stopped (Ctrl-Z, `kill -STOP`) rather than running.
    pub stopped: bool,
    /// When it was last started, stopped or resumed: `%+` is the latest.
    pub touched: u64,
}

impl Job {
    /// A job running `thread`, numbered later by [`Shell::add_job`].
    pub(crate) fn new(
        id: u32,
        text: String,
        thread: JoinHandle<i32>,
        signal: Arc<AtomicI32>,
    ) -> Job {
        Job {
            id,
            number: 0,
            text,
            thread: Some(thread),
            status: None,
            signal,
            control: None,
            hold: None,
            stopped: false,
            touched: 0,
        }
    }

    /// Whether it can be stopped and continued.
    pub(crate) fn can_stop(&self) -> bool {
        self.control.is_some() || self.hold.is_some()
    }

    /// Stops (`on`) or continues the job: its program paused, or its shell held
    /// between commands with its running program paused.
    pub(crate) fn set_stopped(&mut self, on: bool) {
        if let Some(c) = &self.control {
            if on { c.pause() } else { c.resume() }
        }
        if let Some(h) = &self.hold {
            h.store(on, Ordering::SeqCst);
        }
        self.stopped = on;
        self.touched = touch();
    }

    /// Stops the job for good: `kill` with `sig` (its program ends at once).
    pub(crate) fn terminate(&self, sig: i32) {
        let _ = self
            .signal
            .compare_exchange(0, sig, Ordering::Relaxed, Ordering::Relaxed);
        if let Some(c) = &self.control {
            c.kill();
        }
    }
}

/// Orders jobs by when they were last touched (for `%+` and `%-`).
static TOUCHES: AtomicU64 = AtomicU64::new(1);

/// The next value of the `touched` clock.
pub(crate) fn touch() -> u64 {
    TOUCHES.fetch_add(1, Ordering::Relaxed)
}

/// Linux's signal names by number (1-31; 32 and 33 are glibc's own).
pub(crate) const SIGNALS: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// The name of signal `n` without "SIG", as bash's `kill -l` prints it.
pub(crate) fn signal_name(n: i32) -> Option<String> {
    match n {
        0 => Some("EXIT".into()),
        1..=31 => Some(SIGNALS[n as usize - 1].into()),
        34 => Some("RTMIN".into()),
        35..=49 => Some(format!("RTMIN+{}", n - 34)),
        50..=63 => Some(format!("RTMAX-{}", 64 - n)),
        64 => Some("RTMAX".into()),
        _ => None,
    }
}

/// The signal number of `-SIG`/`SIGTERM`/`15` style text.
pub(crate) fn signal_number(text: &str) -> Option<i32> {
    if let Ok(n) = text.parse::<i32>() {
        return (0..=64).contains(&n).then_some(n);
    }
    let name = text.to_ascii_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    (1..=64).find(|n| signal_name(*n).as_deref() == Some(name))
}

/// `kill -l [SIG|STATUS...]`: the table, or each number's name / each name's number.
pub(crate) fn list_signals(args: &[String], fds: &Fds) -> i32 {
    let mut out = String::new();
    let mut st = 0;
    if args.is_empty() {
        let all: Vec<i32> = (1..=64).filter(|n| !matches!(n, 32 | 33)).collect();
        for row in all.chunks(5) {
            for n in row {
                out.push_str(&format!(
                    "{n:2}) SIG{}\t",
                    signal_name(*n).unwrap_or_default()
                ));
            }
            if row.len() == 5 {
                out.pop();
            }
            out.push('\n');
        }
    }
    for a in args {
        // A number names a signal; above 128, an exit status (128 + signal).
        let answer = match a.parse::<i32>() {
            Ok(n) => signal_name(if n > 128 { n - 128 } else { n }),
            // EXIT, the trap's pseudo-signal, is 0.
            Err(_) if a.eq_ignore_ascii_case("EXIT") => Some("0".to_string()),
            Err(_) => signal_number(a).filter(|n| *n > 0).map(|n| n.to_string()),
        };
        match answer {
            Some(t) => out.push_str(&format!("{t}\n")),
            None => {
                fds.error(&format!("kill: {a}: invalid signal specification"));
                st = 1;
            }
        }
    }
    if fds.handle(1).write_all(out.as_bytes()).is_err() {
        return 1;
    }
    st
}

/// The jobs of one shell (a subshell starts with an empty table).
pub(crate) type JobTable = Arc<Mutex<Vec<Job>>>;

/// A fresh pid for a job, from the runtime's counter (the programs' pids).
pub(crate) fn next_job_id() -> u32 {
    wsh_runtime::next_pid()
}

/// Reports that a thread (bash: a process) could not start, in bash's words, and
/// abandons the rest of the complete command with bash's status for a failed fork.
pub(crate) fn fork_failed(e: ForkError, fds: &Fds) -> Flow {
    fds.error(&e.to_string());
    Flow::Abort(126)
}

impl Shell {
    /// Starts `ao` in the background (on a thread counted against the container's
    /// `pids` limit); fails as a refused fork does when it cannot start.
    pub(crate) fn spawn_background(&mut self, ao: &ast::AndOrList, fds: &Fds) -> ExecResult {
        let mut sub = self.subshell();
        let signal = Arc::new(AtomicI32::new(0));
        sub.kill_signal = Some(signal.clone());
        let hold = Arc::new(std::sync::atomic::AtomicBool::new(false));
        sub.hold = Some(hold.clone());
        // Ctrl-C at the prompt stops the foreground command, not the background jobs.
        sub.interrupt = None;
        let text = ao.to_string();
        let id = next_job_id();
        sub.proc_pid = id;
        let mut started_rx = None;
        // `prog ARGS &`: the program is the job (bash execs it in the forked shell).
        if ao.additional.is_empty()
            && let [ast::Command::Simple(_)] = ao.first.seq.as_slice()
        {
            let (tx, rx) = std::sync::mpsc::channel();
            sub.exec_as = Some((id, self.proc_pid, tx));
            started_rx = Some(rx);
        }
        let ao = ao.clone();
        let mut f = fds.clone();
        f.set(0, Handle::Null);
        let started = self.sys.pid_slot().and_then(|slot| {
            slot.spawn("wsh job", move || {
                let r = sub.run_and_or(&ao, &f);
                super::exec::sub_status(r)
            })
        });
        let thread = started.map_err(|e| fork_failed(e, fds))?;
        if let Some(rx) = started_rx {
            // Until its program has started (or the job is over, or it runs shell code).
            let _ = rx.recv_timeout(Duration::from_secs(1));
        }
        let mut job = Job::new(id, text, thread, signal);
        job.hold = Some(hold);
        let number = self.add_job(job);
        if self.job_control.is_some() {
            // An interactive shell tells the job's number and pid, as bash does.
            let _ = fds
                .handle(2)
                .write_all(format!("[{number}] {id}\n").as_bytes());
        }
        self.last_bg = Some(id);
        Ok(0)
    }

    /// The jobs `jobs` and `kill` see: this shell's, or while it has none, those of
    /// the shell this subshell came from.
    pub(crate) fn visible_jobs(&self) -> JobTable {
        let own_empty = self.jobs.lock().map(|t| t.is_empty()).unwrap_or(true);
        match &self.parent_jobs {
            Some(parent) if own_empty => parent.clone(),
            _ => self.jobs.clone(),
        }
    }

    /// Puts `job` in the table with the next free number; returns that number.
    pub(crate) fn add_job(&self, mut job: Job) -> usize {
        let Ok(mut t) = self.jobs.lock() else {
            return 0;
        };
        if job.number == 0 {
            job.number = t.iter().map(|j| j.number).max().unwrap_or(0) + 1;
        }
        job.touched = touch();
        let n = job.number;
        t.push(job);
        t.sort_by_key(|j| j.number);
        n
    }

    /// `wait [ID...]`: waits for the given jobs (or all); status of the last one.
    pub(crate) fn wait_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let ids: Vec<u32> = if args.is_empty() {
            self.jobs
                .lock()
                .map(|t| t.iter().map(|j| j.id).collect())
                .unwrap_or_default()
        } else {
            let mut v = Vec::new();
            for a in args {
                if a.starts_with('%') {
                    match self.find_job(a) {
                        Ok(id) => v.push(id),
                        Err(e) => {
                            fds.error(&format!("wait: {e}"));
                            return 127;
                        }
                    }
                    continue;
                }
                match a.parse::<u32>() {
                    Ok(n) => v.push(n),
                    Err(_) => {
                        fds.error(&format!("wait: `{a}': not a pid or valid job spec"));
                        return 2;
                    }
                }
            }
            v
        };
        let mut status = 0;
        for id in ids {
            let thread = {
                let Ok(mut t) = self.jobs.lock() else {
                    return 1;
                };
                match t.iter_mut().find(|j| j.id == id) {
                    // A stopped job would never end: report it as bash's `wait -f` would not.
                    Some(j) if j.stopped => {
                        status = 128 + libc::SIGTSTP;
                        None
                    }
                    Some(j) => match j.thread.take() {
                        Some(th) => Some(th),
                        None => {
                            status = j.status.unwrap_or(0);
                            None
                        }
                    },
                    None => {
                        fds.error(&format!("wait: pid {id} is not a child of this shell"));
                        status = 127;
                        None
                    }
                }
            };
            if let Some(th) = thread {
                status = self.join_job(id, th);
            }
        }
        // `wait` without arguments returns 0 after all jobs end.
        if args.is_empty() { 0 } else { status }
    }

    /// In a killed background job: unwinds with 128+signal.
    pub(crate) fn check_killed(&self) -> Result<(), Flow> {
        if self
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
        {
            // Ctrl-C at the prompt: abandon the rest of the command line, as bash does.
            return Err(Flow::Abort(128 + libc::SIGINT));
        }
        // A stopped job's shell runs no further command until it is continued or killed.
        while self
            .hold
            .as_ref()
            .is_some_and(|h| h.load(Ordering::Relaxed))
            && self
                .kill_signal
                .as_ref()
                .is_none_or(|s| s.load(Ordering::Relaxed) == 0)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        match self.kill_signal.as_ref().map(|s| s.load(Ordering::Relaxed)) {
            Some(sig) if sig > 0 => Err(Flow::Exit(128 + sig)),
            _ => Ok(()),
        }
    }

    /// Waits for `job` inside a background job, stopping it when `kill` signals.
    pub(crate) fn wait_killable(
        &mut self,
        job: Box<dyn super::sys::Job>,
        signal: &AtomicI32,
    ) -> super::ExecResult {
        if job.is_finished().is_some() {
            let control = job.control();
            let mut paused = false;
            while !job.wait_for(Duration::from_millis(5)) {
                if signal.load(Ordering::Relaxed) > 0 {
                    job.stop();
                    break;
                }
                // The job was stopped or continued: so is its program.
                let held = self
                    .hold
                    .as_ref()
                    .is_some_and(|h| h.load(Ordering::Relaxed));
                if held != paused
                    && let Some(c) = &control
                {
                    if held {
                        c.pause()
                    } else {
                        c.resume()
                    }
                    paused = held;
                }
            }
        }
        let status = job.wait();
        self.check_killed()?;
        Ok(status)
    }

    /// `kill [-s SIG | -SIG] %JOB|ID...`: stops wsh's own background jobs (there are
    /// no other processes to signal).
    pub(crate) fn kill_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let mut sig = 15;
        let mut rest = args;
        if rest.first().is_some_and(|a| a == "-l" || a == "-L") {
            return list_signals(&rest[1..], fds);
        }
        if let Some(first) = rest.first()
            && first.starts_with('-')
            && first != "--"
        {
            let text = if first == "-s" || first == "-n" {
                rest = &rest[1..];
                rest.first().map(String::as_str).unwrap_or("")
            } else {
                &first[1..]
            };
            match signal_number(text) {
                Some(n) => sig = n,
                None => {
                    fds.error(&format!("kill: {text}: invalid signal specification"));
                    return 1;
                }
            }
            rest = &rest[1..];
        }
        if rest.first().is_some_and(|a| a == "--") {
            rest = &rest[1..];
        }
        if rest.is_empty() {
            fds.error("kill: usage: kill [-s sigspec | -sigspec] pid | jobspec ...");
            return 2;
        }
        let mut st = 0;
        // `kill -SIG $$`: the shell signals itself (see trap.rs).
        let me = std::process::id().to_string();
        let (own, rest): (Vec<&String>, Vec<&String>) = rest.iter().partition(|a| **a == me);
        for _ in own {
            if let Err(f) = self.signal_self(sig, fds) {
                return match f {
                    super::Flow::Exit(s) => {
                        self.exit_request = Some(s);
                        s
                    }
                    _ => 1,
                };
            }
        }
        let mut stop_changes = Vec::new();
        let jobs = self.visible_jobs();
        let Ok(mut table) = jobs.lock() else {
            return 1;
        };
        for a in rest {
            let job = match a.strip_prefix('%') {
                Some(_) => match jobspec(&table, a) {
                    Ok(id) => table.iter().find(|j| j.id == id),
                    Err(e) => {
                        fds.error(&format!("kill: {e}"));
                        st = 1;
                        continue;
                    }
                },
                None => match a.parse::<u32>() {
                    Ok(id) => table.iter().find(|j| j.id == id),
                    Err(_) => {
                        fds.error(&format!("kill: {a}: arguments must be process or job IDs"));
                        st = 1;
                        continue;
                    }
                },
            };
            // A job already waited for is gone, as a reaped process is.
            match job.filter(|j| j.thread.is_some()) {
                // Stop and continue: the job is held, or its program paused.
                Some(j) if matches!(sig, libc::SIGSTOP | libc::SIGTSTP | libc::SIGCONT) => {
                    if j.can_stop() {
                        stop_changes.push((j.id, sig != libc::SIGCONT));
                    } else {
                        fds.error(&format!("kill: {a}: this job cannot be stopped"));
                        st = 1;
                    }
                }
                // Signal 0 only asks whether the job exists.
                Some(j) if sig > 0 => j.terminate(sig),
                Some(_) => {}
                None if a.starts_with('%') => {
                    fds.error(&format!("kill: {a}: no such job"));
                    st = 1;
                }
                // Not a job: a program of the container (`kill $(pgrep sleep)`).
                None => {
                    if let Err(why) = a.parse().map_or(Err("No such process".into()), |pid| {
                        self.sys.signal(pid, sig)
                    }) {
                        fds.error(&format!("kill: ({a}) - {why}"));
                        st = 1;
                    }
                }
            }
        }
        for (id, stopped) in stop_changes {
            if let Some(j) = table.iter_mut().find(|j| j.id == id) {
                j.set_stopped(stopped);
            }
        }
        if self.job_control.is_some() && sig > 0 {
            // Give the jobs a moment to end, so the next prompt reports them as bash's does.
            let deadline = std::time::Instant::now() + Duration::from_millis(300);
            while table.iter().any(|j| {
                j.signal.load(Ordering::Relaxed) > 0
                    && j.thread.as_ref().is_some_and(|t| !t.is_finished())
            }) && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        st
    }

    /// Waits for every job still running (before the shell ends, so their output and
    /// file changes land before the container is saved).
    pub fn wait_all_jobs(&mut self) {
        let threads: Vec<JoinHandle<i32>> = match self.jobs.lock() {
            Ok(mut t) => t.iter_mut().filter_map(|j| j.thread.take()).collect(),
            Err(_) => return,
        };
        for th in threads {
            let _ = th.join();
        }
    }
}
