//! `coproc [NAME] COMMAND`: COMMAND runs as a background job whose stdin and stdout
//! are pipes the shell keeps, at descriptors counting down from 63 that `NAME[0]`
//! (read its output) and `NAME[1]` (write its input) hold; `NAME_PID` is the job's
//! id for `wait`. The shell's ends join its fd table as `exec` redirections do, so
//! `read -u ${COPROC[0]}`, `cat <&${COPROC[0]}` and `exec {fd}>&-` reach them.

use std::sync::Arc;
use std::sync::atomic::AtomicI32;

use brush_parser::ast;
use wsh_runtime::io::pipe;

use super::jobs::{Job, fork_failed, next_job_id};
use super::{ExecResult, Fds, Shell};

impl Shell {
    /// Starts a coprocess; its status is 0 once it runs, as in bash.
    pub(crate) fn run_coproc(&mut self, c: &ast::CoprocessCommand, fds: &Fds) -> ExecResult {
        let name = c
            .name
            .as_ref()
            .map_or_else(|| "COPROC".to_string(), |w| w.value.clone());
        if !builtins::is_name(&name) {
            fds.error(&format!("`{name}': not a valid identifier"));
            return Ok(1);
        }
        // Input: the shell writes `to_w`, the coprocess reads `to_r`; output the other way.
        let (to_r, to_w) = pipe();
        let (from_r, from_w) = pipe();
        let mut sub = self.subshell();
        let signal = Arc::new(AtomicI32::new(0));
        sub.kill_signal = Some(signal.clone());
        sub.interrupt = None;
        let body = (*c.body).clone();
        let mut f = fds.clone();
        f.set(0, to_r);
        f.set(1, from_w);
        let started = self.sys.pid_slot().and_then(|slot| {
            slot.spawn("wsh coproc", move || {
                let r = sub.run_command(&body, &f);
                super::exec::sub_status(r)
            })
        });
        let thread = started.map_err(|e| fork_failed(e, fds))?;
        let id = next_job_id();
        self.add_job(Job::new(
            id,
            format!("coproc {name} {}", c.body),
            thread,
            signal,
        ));
        self.last_bg = Some(id);
        // The shell's ends, at the highest free descriptors up to 63.
        let mut mine = fds.clone();
        let mut free = (10..=63).rev().filter(|n| fds.get(*n).is_none());
        let (Some(rfd), Some(wfd)) = (free.next(), free.next()) else {
            fds.error("coproc: no free file descriptor");
            return Ok(1);
        };
        mine.set(rfd, from_r);
        mine.set(wfd, to_w);
        self.exec_fds = Some(mine);
        self.exec_gen += 1;
        let items = vec![(None, rfd.to_string()), (None, wfd.to_string())];
        if let Err(e) = self.assign_array(&name, items, false) {
            fds.error(&e);
            return Ok(1);
        }
        if let Err(e) = self.set(&format!("{name}_PID"), id.to_string()) {
            fds.error(&e);
            return Ok(1);
        }
        Ok(0)
    }
}
