//! Job control of the interactive shell: Ctrl-Z stops the foreground program,
//! `fg`, `bg`, `jobs`, `disown`, job specs (`%N`, `%%`, `%+`, `%-`, `%name`,
//! `%?text`), and the `[N]+  Done` notices printed before a prompt.
//!
//! Only the top-level shell of the REPL has job control (`job_control` is set):
//! a program it runs and waits for can be stopped; pipelines, subshells and the
//! shell code of `cmd &` cannot (their threads have no pause point), so Ctrl-Z
//! leaves them running, as bash leaves a loop of builtins.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::jobs::{Job, next_job_id};
use super::{ExecResult, Fds, Shell};
use wsh_runtime::Handle;

/// How often a foreground wait looks for Ctrl-Z and Ctrl-C.
const POLL: Duration = Duration::from_millis(5);

/// The id of the job `spec` (`%N`, `%%`, `%+`, `%`, `%-`, `%name`, `%?text`)
/// names in `table`, or bash's complaint.
pub(crate) fn jobspec(table: &[Job], spec: &str) -> Result<u32, String> {
    // A job already waited for is gone, as bash forgets it.
    let live: Vec<&Job> = table.iter().filter(|j| j.thread.is_some()).collect();
    let table = live.as_slice();
    let body = spec.strip_prefix('%').unwrap_or(spec);
    let (current, previous) = marks(table.iter().copied());
    let found = match body {
        "" | "%" | "+" => current,
        "-" => previous.or(current),
        _ => {
            if let Ok(n) = body.parse::<usize>() {
                table.iter().find(|j| j.number == n).map(|j| j.id)
            } else {
                let hits: Vec<&&Job> = match body.strip_prefix('?') {
                    Some(text) => table.iter().filter(|j| j.text.contains(text)).collect(),
                    None => table.iter().filter(|j| j.text.starts_with(body)).collect(),
                };
                if hits.len() > 1 {
                    return Err(format!("{spec}: ambiguous job spec"));
                }
                hits.first().map(|j| j.id)
            }
        }
    };
    found.ok_or_else(|| match body {
        "" | "%" | "+" | "-" => "current: no such job".to_string(),
        _ => format!("{spec}: no such job"),
    })
}

/// The ids of the current (`+`) and previous (`-`) jobs: the most recently
/// stopped ones first, then the most recently started or resumed.
fn marks<'a>(table: impl IntoIterator<Item = &'a Job>) -> (Option<u32>, Option<u32>) {
    let mut order: Vec<&Job> = table.into_iter().filter(|j| j.thread.is_some()).collect();
    order.sort_by_key(|j| (std::cmp::Reverse(j.stopped), std::cmp::Reverse(j.touched)));
    (order.first().map(|j| j.id), order.get(1).map(|j| j.id))
}

/// How bash names the end of a job that ended with `status` (`signal`: what
/// `kill` sent it, 0 if nothing).
fn ended_text(status: i32, signal: i32) -> String {
    let sig = if signal > 0 {
        signal
    } else if status > 128 && status - 128 == libc::SIGINT {
        libc::SIGINT
    } else {
        0
    };
    match sig {
        0 if status == 0 => "Done".into(),
        0 => format!("Exit {status}"),
        libc::SIGHUP => "Hangup".into(),
        libc::SIGINT => "Interrupt".into(),
        libc::SIGKILL => "Killed".into(),
        libc::SIGTERM => "Terminated".into(),
        n => format!("Signal {n}"),
    }
}

/// One line of `jobs` (or a notice): `[N]+  STATE                   TEXT`.
fn job_line(j: &Job, mark: char, state: &str, long: bool) -> String {
    let running = state == "Running";
    let pid = if long {
        format!("{:>5} ", j.id)
    } else {
        " ".into()
    };
    let amp = if running { " &" } else { "" };
    format!("[{}]{mark} {pid}{state:<24}{}{amp}\n", j.number, j.text)
}

impl Shell {
    /// Turns on job control (the REPL's shell): `stop` is raised on Ctrl-Z.
    pub fn enable_job_control(&mut self, stop: Arc<AtomicBool>) {
        self.job_control = Some(stop);
    }

    /// Runs one line typed at the prompt: as [`Shell::run_text`], but background
    /// jobs keep running and the EXIT trap waits for the end of the session.
    pub fn run_interactive(&mut self, text: &str, fds: &Fds) -> i32 {
        self.run_text_inner(text, fds)
    }

    /// The end of an interactive session: the EXIT trap runs, then the jobs still
    /// there are stopped (as the terminal's hangup stops bash's) and waited for.
    pub fn end_session(&mut self, fds: &Fds) -> i32 {
        let status = self.run_exit_trap(fds);
        if let Ok(t) = self.jobs.lock() {
            for j in t.iter() {
                j.terminate(libc::SIGHUP);
            }
        }
        self.wait_all_jobs();
        status
    }

    /// Whether some job is stopped (leaving then needs a second `exit`).
    pub fn has_stopped_jobs(&self) -> bool {
        self.jobs
            .lock()
            .is_ok_and(|t| t.iter().any(|j| j.stopped && j.thread.is_some()))
    }

    /// The id of the job `spec` names, or the error text.
    pub(crate) fn find_job(&self, spec: &str) -> Result<u32, String> {
        let t = self
            .jobs
            .lock()
            .map_err(|_| "job table unavailable".to_string())?;
        jobspec(&t, spec)
    }

    /// Joins job `id`'s thread and records its status (128+signal when `kill`
    /// ended it); an interactive shell forgets the job then, as bash does.
    pub(crate) fn join_job(&mut self, id: u32, thread: JoinHandle<i32>) -> i32 {
        let mut status = thread.join().unwrap_or(1);
        if let Ok(mut t) = self.jobs.lock()
            && let Some(i) = t.iter().position(|j| j.id == id)
        {
            let sig = t[i].signal.load(Ordering::Relaxed);
            if sig > 0 && t[i].control.is_some() {
                status = 128 + sig;
            }
            t[i].status = Some(status);
            if self.job_control.is_some() {
                t.remove(i);
            }
        }
        status
    }

    /// Prints `[N]+  Done  TEXT` (or `Exit N`, `Terminated`...) for each job that
    /// ended since the last prompt, and forgets it.
    pub fn notify_jobs(&mut self, fds: &Fds) {
        let text = self.reap_finished();
        if !text.is_empty() {
            let _ = fds.handle(2).write_all(text.as_bytes());
        }
    }

    /// Joins and forgets the jobs whose thread ended; returns their notice lines.
    fn reap_finished(&mut self) -> String {
        let Ok(mut t) = self.jobs.lock() else {
            return String::new();
        };
        let (current, previous) = marks(t.iter());
        let mut out = String::new();
        let mut i = 0;
        while i < t.len() {
            let done = t[i].thread.as_ref().is_some_and(|th| th.is_finished());
            if !done {
                i += 1;
                continue;
            }
            let j = t.remove(i);
            let mut status = j.thread.map_or(0, |th| th.join().unwrap_or(1));
            let sig = j.signal.load(Ordering::Relaxed);
            if sig > 0 && j.control.is_some() {
                status = 128 + sig;
            }
            let mark = mark_of(j.id, current, previous);
            let probe = Job {
                thread: None,
                control: None,
                ..j
            };
            out.push_str(&job_line(&probe, mark, &ended_text(status, sig), false));
        }
        out
    }

    /// Waits for a program the top-level shell runs in the foreground; Ctrl-Z
    /// pauses it and makes it a stopped job (status 148, as bash's `$?`).
    pub(crate) fn wait_foreground(
        &mut self,
        job: Box<dyn super::sys::Job>,
        text: String,
        fds: &Fds,
    ) -> ExecResult {
        let (Some(stop), Some(control)) = (self.job_control.clone(), job.control()) else {
            return Ok(job.wait());
        };
        // Woken at once when the program ends; every POLL to look for Ctrl-Z.
        while !job.wait_for(POLL) {
            if stop.swap(false, Ordering::SeqCst) {
                control.pause();
                // Ctrl-C at the prompt must not reach it any more.
                control.shield();
                let thread = std::thread::Builder::new()
                    .name("wsh stopped job".into())
                    .spawn(move || job.wait());
                let Ok(thread) = thread else {
                    // No thread to wait for it: it goes on unwatched, as if disowned.
                    control.resume();
                    return Ok(128 + libc::SIGTSTP);
                };
                let mut j = Job::new(next_job_id(), text, thread, Default::default());
                j.control = Some(control);
                j.stopped = true;
                self.add_stopped(j, fds);
                return self.stopped_result();
            }
        }
        Ok(job.wait())
    }

    /// What stopping the foreground job does to the command running it: bash
    /// leaves every enclosing loop and goes on after them, with status 148
    /// (128 + SIGTSTP) as anywhere else (the outermost loop reports it, see
    /// `stopped_break`).
    fn stopped_result(&mut self) -> ExecResult {
        if self.loop_depth > 0 {
            self.stopped_break = true;
            Err(super::Flow::Break(self.loop_depth))
        } else {
            Ok(128 + libc::SIGTSTP)
        }
    }

    /// Adds the stopped job `j` (keeping its number if it has one) and prints its notice.
    fn add_stopped(&mut self, j: Job, fds: &Fds) {
        let id = j.id;
        self.add_job(j);
        self.last_bg = self.last_bg.or(Some(id));
        if let Ok(t) = self.jobs.lock() {
            let (current, previous) = marks(t.iter());
            if let Some(j) = t.iter().find(|j| j.id == id) {
                // The terminal echoed ^Z: the notice starts on a line of its own.
                let line = job_line(j, mark_of(id, current, previous), "Stopped", false);
                let _ = fds.handle(2).write_all(format!("\n{line}").as_bytes());
            }
        }
    }

    /// Job-control builtins: `fg`, `bg`, `jobs`, `disown`, `help`.
    pub(crate) fn jobctl_builtin(&mut self, argv: &[String], fds: &Fds) -> Option<ExecResult> {
        let args = &argv[1..];
        Some(Ok(match argv[0].as_str() {
            "jobs" => self.jobs_builtin(args, fds),
            "fg" => return Some(self.fg_builtin(args, fds)),
            "bg" => self.bg_builtin(args, fds),
            "disown" => self.disown_builtin(args, fds),
            "help" => super::help::help_builtin(args, fds),
            _ => return None,
        }))
    }

    /// `jobs [-lprs] [JOBSPEC...]`.
    fn jobs_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (mut long, mut pids, mut running, mut stopped) = (false, false, false, false);
        let mut specs = Vec::new();
        for a in args {
            match a.strip_prefix('-') {
                Some(flags) if !flags.is_empty() && !a.starts_with('%') => {
                    for f in flags.chars() {
                        match f {
                            'l' => long = true,
                            'p' => pids = true,
                            'r' => running = true,
                            's' => stopped = true,
                            'n' => {}
                            _ => {
                                fds.error(&format!("jobs: -{f}: invalid option"));
                                fds.error("jobs: usage: jobs [-lnprs] [jobspec ...]");
                                return 2;
                            }
                        }
                    }
                }
                _ => specs.push(a.clone()),
            }
        }
        let mut out = String::new();
        let mut st = 0;
        {
            let jobs = self.visible_jobs();
            let Ok(t) = jobs.lock() else {
                return 1;
            };
            let mut chosen = Vec::new();
            for s in &specs {
                match jobspec(&t, s) {
                    Ok(id) => chosen.push(id),
                    Err(e) => {
                        fds.error(&format!("jobs: {e}"));
                        st = 1;
                    }
                }
            }
            let (current, previous) = marks(t.iter());
            for j in t.iter() {
                // A job already waited for is gone (scripts keep them for `wait`).
                let Some(th) = &j.thread else { continue };
                if !specs.is_empty() && !chosen.contains(&j.id) {
                    continue;
                }
                let finished = th.is_finished();
                let state = if j.stopped && !finished {
                    "Stopped"
                } else if finished {
                    "Done"
                } else {
                    "Running"
                };
                if (running && state != "Running") || (stopped && state != "Stopped") {
                    continue;
                }
                if pids {
                    out.push_str(&format!("{}\n", j.id));
                } else if state != "Done" || self.job_control.is_none() {
                    out.push_str(&job_line(j, mark_of(j.id, current, previous), state, long));
                }
            }
        }
        // Ended jobs are listed with their real status, then forgotten (interactive).
        if !pids && !running && !stopped && self.job_control.is_some() {
            out.push_str(&self.reap_finished());
        }
        if fds.handle(1).write_all(out.as_bytes()).is_err() {
            return 1;
        }
        st
    }

    /// Takes the job `spec` names (the current one by default) out of the table.
    fn take_job(&mut self, name: &str, args: &[String], fds: &Fds) -> Result<Job, i32> {
        let spec = args.first().map_or("%+", String::as_str);
        let Ok(mut t) = self.jobs.lock() else {
            return Err(1);
        };
        let found = jobspec(&t, spec)
            .ok()
            .and_then(|id| t.iter().position(|j| j.id == id && j.thread.is_some()));
        match found {
            Some(i) => Ok(t.remove(i)),
            None => {
                let what = match spec {
                    "%+" | "%%" | "%" | "%-" => "current".to_string(),
                    s => s.to_string(),
                };
                fds.error(&format!("{name}: {what}: no such job"));
                Err(1)
            }
        }
    }

    /// `fg [JOBSPEC]`: resumes the job in the foreground and waits for it.
    fn fg_builtin(&mut self, args: &[String], fds: &Fds) -> ExecResult {
        if self.job_control.is_none() {
            fds.error("fg: no job control");
            return Ok(1);
        }
        let mut j = match self.take_job("fg", args, fds) {
            Ok(j) => j,
            Err(st) => return Ok(st),
        };
        let _ = fds.handle(1).write_all(format!("{}\n", j.text).as_bytes());
        j.set_stopped(false);
        self.wait_in_foreground(j, None, fds)
    }

    /// Waits for job `j` in the foreground (`done` is signalled when it ends, if
    /// given): Ctrl-C ends it, Ctrl-Z stops it and puts it in the table (148).
    fn wait_in_foreground(
        &mut self,
        mut j: Job,
        done: Option<std::sync::mpsc::Receiver<()>>,
        fds: &Fds,
    ) -> ExecResult {
        let stop = self.job_control.clone().unwrap_or_default();
        // Presses from before do not count.
        stop.store(false, Ordering::SeqCst);
        loop {
            if j.thread.as_ref().is_none_or(|th| th.is_finished()) {
                break;
            }
            if self
                .interrupt
                .as_ref()
                .is_some_and(|f| f.load(Ordering::SeqCst))
            {
                j.terminate(libc::SIGINT);
            }
            if stop.swap(false, Ordering::SeqCst) && j.can_stop() {
                j.set_stopped(true);
                self.add_stopped(j, fds);
                return self.stopped_result();
            }
            match &done {
                Some(rx) => {
                    // Ended (or its sender is gone): the join below does not block long.
                    if !matches!(
                        rx.recv_timeout(POLL),
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                    ) {
                        break;
                    }
                }
                None => std::thread::sleep(POLL),
            }
        }
        let mut status = j.thread.take().map_or(0, |th| th.join().unwrap_or(1));
        let sig = j.signal.load(Ordering::Relaxed);
        if sig > 0 && j.control.is_some() {
            status = 128 + sig;
        }
        Ok(status)
    }

    /// A pipeline typed at the prompt: run as a job of its own (a subshell on a
    /// thread, as `cmd &` is) and waited for, so that Ctrl-Z stops every stage.
    pub(crate) fn run_pipeline_as_job(
        &mut self,
        p: &brush_parser::ast::Pipeline,
        fds: &Fds,
    ) -> ExecResult {
        let mut sub = self.subshell();
        let signal = Arc::new(std::sync::atomic::AtomicI32::new(0));
        let hold = Arc::new(AtomicBool::new(false));
        sub.kill_signal = Some(signal.clone());
        sub.hold = Some(hold.clone());
        let statuses = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let pipeline = p.clone();
        let f = fds.clone();
        let shared = statuses.clone();
        let started = self.sys.pid_slot().and_then(|slot| {
            slot.spawn("wsh pipeline", move || {
                let r = sub.run_pipeline(&pipeline, &f);
                if let Ok(mut s) = shared.lock() {
                    *s = std::mem::take(&mut sub.pipestatus);
                }
                let status = super::exec::sub_status(r);
                let _ = tx.send(());
                status
            })
        });
        let thread = started.map_err(|e| super::jobs::fork_failed(e, fds))?;
        // As bash lists it: `a | b` (brush prints `a |b`), a dup as `2>&1` (not `2>& 1`).
        let stages: Vec<String> = p
            .seq
            .iter()
            .map(|c| c.to_string().trim().to_string())
            .collect();
        let text = format!("{}{}", if p.bang { "! " } else { "" }, stages.join(" | "))
            .replace(">& ", ">&")
            .replace("<& ", "<&");
        let mut j = Job::new(next_job_id(), text.trim().to_string(), thread, signal);
        j.hold = Some(hold);
        let notice = Fds::standard(Handle::Null, Handle::Null, Handle::HostStderr);
        let status = self.wait_in_foreground(j, Some(rx), &notice)?;
        self.pipestatus = match statuses.lock() {
            Ok(s) if !s.is_empty() => s.clone(),
            _ => vec![status],
        };
        Ok(status)
    }

    /// `bg [JOBSPEC...]`: lets stopped jobs go on in the background.
    fn bg_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        if self.job_control.is_none() {
            fds.error("bg: no job control");
            return 1;
        }
        let specs: Vec<String> = if args.is_empty() {
            vec!["%+".into()]
        } else {
            args.to_vec()
        };
        let mut st = 0;
        let Ok(mut t) = self.jobs.lock() else {
            return 1;
        };
        for spec in &specs {
            let Some(j) = jobspec(&t, spec)
                .ok()
                .and_then(|id| t.iter_mut().find(|j| j.id == id))
            else {
                let what = if args.is_empty() { "current" } else { spec };
                fds.error(&format!("bg: {what}: no such job"));
                st = 1;
                continue;
            };
            if !j.stopped {
                fds.error(&format!("bg: job {} already in background", j.number));
                continue;
            }
            j.set_stopped(false);
            let line = format!("[{}]+ {} &\n", j.number, j.text);
            let _ = fds.handle(1).write_all(line.as_bytes());
        }
        st
    }

    /// `disown [-ar] [-h] [JOBSPEC...]`: forgets jobs (they run on, unwaited).
    fn disown_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (mut all, mut running, mut keep) = (false, false, false);
        let mut specs = Vec::new();
        for a in args {
            match a.strip_prefix('-') {
                Some(flags) if !flags.is_empty() => {
                    for f in flags.chars() {
                        match f {
                            'a' => all = true,
                            'r' => running = true,
                            // No hangup is ever sent but at the end: -h keeps the job listed.
                            'h' => keep = true,
                            _ => {
                                fds.error(&format!("disown: -{f}: invalid option"));
                                fds.error(
                                    "disown: usage: disown [-h] [-ar] [jobspec ... | pid ...]",
                                );
                                return 2;
                            }
                        }
                    }
                }
                _ => specs.push(a.clone()),
            }
        }
        let Ok(mut t) = self.jobs.lock() else {
            return 1;
        };
        let mut ids = Vec::new();
        let mut st = 0;
        if all || (running && specs.is_empty()) {
            ids.extend(t.iter().filter(|j| !running || !j.stopped).map(|j| j.id));
        } else {
            if specs.is_empty() {
                specs.push("%+".into());
            }
            for s in &specs {
                let found = if s.starts_with('%') {
                    jobspec(&t, s).map_err(|_| {
                        if args.iter().all(|a| a.starts_with('-')) {
                            "current: no such job".to_string()
                        } else {
                            format!("{s}: no such job")
                        }
                    })
                } else {
                    s.parse::<u32>()
                        .ok()
                        .filter(|id| t.iter().any(|j| j.id == *id))
                        .ok_or_else(|| format!("{s}: no such job"))
                };
                match found {
                    Ok(id) => ids.push(id),
                    Err(e) => {
                        fds.error(&format!("disown: {e}"));
                        st = 1;
                    }
                }
            }
        }
        if !keep {
            // The thread goes on by itself once its handle is dropped.
            t.retain(|j| !ids.contains(&j.id));
        }
        st
    }
}

/// `+`, `-` or a space for job `id`.
fn mark_of(id: u32, current: Option<u32>, previous: Option<u32>) -> char {
    if current == Some(id) {
        '+'
    } else if previous == Some(id) {
        '-'
    } else {
        ' '
    }
}

#[cfg(test)]
mod tests {
    use super::jobspec;
    use crate::interp::jobs::{Job, touch};

    fn job(id: u32, number: usize, text: &str, stopped: bool) -> Job {
        let mut j = Job::new(
            id,
            text.into(),
            std::thread::spawn(|| 0),
            Default::default(),
        );
        j.number = number;
        j.stopped = stopped;
        j.touched = touch();
        j
    }

    #[test]
    fn job_specs_as_bash_reads_them() {
        let t = vec![
            job(101, 1, "sleep 10", false),
            job(102, 2, "yes > /dev/null", true),
            job(103, 3, "sleep 20", false),
        ];
        // The current job is the last stopped one, else the last started.
        assert_eq!(jobspec(&t, "%+"), Ok(102));
        assert_eq!(jobspec(&t, "%%"), Ok(102));
        assert_eq!(jobspec(&t, "%"), Ok(102));
        assert_eq!(jobspec(&t, "%-"), Ok(103));
        assert_eq!(jobspec(&t, "%1"), Ok(101));
        assert_eq!(jobspec(&t, "%yes"), Ok(102));
        assert_eq!(jobspec(&t, "%?20"), Ok(103));
        assert_eq!(
            jobspec(&t, "%sleep"),
            Err("%sleep: ambiguous job spec".into())
        );
        assert_eq!(jobspec(&t, "%4"), Err("%4: no such job".into()));
        assert_eq!(jobspec(&[], "%+"), Err("current: no such job".into()));
    }
}
