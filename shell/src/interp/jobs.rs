//! Background jobs (`cmd &`), `$!`, `wait` and `jobs`.
//!
//! A background and-or list runs on its own thread with a subshell copy of the
//! shell (as bash forks one) and stdin from /dev/null. Job ids are small numbers
//! handed out per shell; `$!` is that id.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use brush_parser::ast;
use wsh_runtime::Handle;

use super::{Fds, Shell};

/// One background job.
pub(crate) struct Job {
    /// What `$!` reports.
    pub id: u32,
    /// The command text (for `jobs`).
    pub text: String,
    /// The running thread; None once reaped.
    pub thread: Option<JoinHandle<i32>>,
    /// The exit status once reaped.
    pub status: Option<i32>,
}

/// The jobs of one shell (a subshell starts with an empty table).
pub(crate) type JobTable = Arc<Mutex<Vec<Job>>>;

impl Shell {
    /// Starts `ao` in the background.
    pub(crate) fn spawn_background(&mut self, ao: &ast::AndOrList, fds: &Fds) -> i32 {
        let mut sub = self.subshell();
        let text = ao.to_string();
        let ao = ao.clone();
        let mut f = fds.clone();
        f.set(0, Handle::Null);
        let thread = std::thread::spawn(move || {
            let r = sub.run_and_or(&ao, &f);
            super::exec::sub_status(r)
        });
        let id = self.next_job_id();
        if let Ok(mut t) = self.jobs.lock() {
            t.push(Job {
                id,
                text,
                thread: Some(thread),
                status: None,
            });
        }
        self.last_bg = Some(id);
        0
    }

    fn next_job_id(&self) -> u32 {
        // Ids look like pids and never repeat within one shell.
        let n = self.jobs.lock().map(|t| t.len()).unwrap_or(0) as u32;
        std::process::id().wrapping_add(1 + n)
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
                match a.trim_start_matches('%').parse::<u32>() {
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
                status = th.join().unwrap_or(1);
                if let Ok(mut t) = self.jobs.lock()
                    && let Some(j) = t.iter_mut().find(|j| j.id == id)
                {
                    j.status = Some(status);
                }
            }
        }
        // `wait` without arguments returns 0 after all jobs end.
        if args.is_empty() { 0 } else { status }
    }

    /// `jobs`: lists the jobs not yet waited for.
    pub(crate) fn jobs_builtin(&mut self, fds: &Fds) -> i32 {
        let mut out = String::new();
        if let Ok(t) = self.jobs.lock() {
            for (n, j) in t.iter().enumerate() {
                if let Some(th) = &j.thread {
                    let state = if th.is_finished() { "Done" } else { "Running" };
                    out.push_str(&format!("[{}]  {state}\t{}\n", n + 1, j.text));
                }
            }
        }
        i32::from(fds.handle(1).write_all(out.as_bytes()).is_err())
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
