//! Process substitution: `<(list)` and `>(list)`. The list runs in a subshell on its
//! own thread, connected to the command by a pipe; the command sees the pipe either as
//! a redirection (`done < <(list)`) or as a `/dev/fd/N` word naming a descriptor of its
//! fd table (`source <(list)`), as bash does it.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use brush_parser::ast::{ProcessSubstitutionKind as Kind, SubshellCommand};
use wsh_runtime::Handle;
use wsh_runtime::io::pipe;

use super::expand::Fail;
use super::{Fds, Shell};

/// The threads of the process substitutions a shell started (shared by its copies).
pub(crate) type ProcSubs = Arc<Mutex<Vec<JoinHandle<i32>>>>;

/// How long the end of a run waits for process substitutions still writing output.
const DRAIN: Duration = Duration::from_secs(2);

impl Shell {
    /// Starts `list` for a `<(list)` or `>(list)` and returns the command's end of the pipe.
    pub(crate) fn process_subst(
        &mut self,
        kind: &Kind,
        list: &SubshellCommand,
        fds: &Fds,
    ) -> Result<Handle, Fail> {
        let (r, w) = pipe();
        let (ours, theirs) = match kind {
            Kind::Read => (r, w),
            Kind::Write => (w, r),
        };
        let mut f = fds.clone();
        f.set(if matches!(kind, Kind::Read) { 1 } else { 0 }, theirs);
        let mut sub = self.subshell();
        let list = list.list.clone();
        let started = self.sys.pid_slot().and_then(|slot| {
            slot.spawn("wsh procsub", move || {
                sub.status = super::exec::sub_status(sub.run_list(&list, &f));
                sub.run_exit_trap(&f)
            })
        });
        let thread = started.map_err(|e| Fail::Flow(super::jobs::fork_failed(e, fds)))?;
        if let Ok(mut t) = self.procsubs.lock() {
            t.retain(|t| !t.is_finished());
            t.push(thread);
        }
        Ok(ours)
    }

    /// A `<(list)` or `>(list)` word: the pipe goes into `fds` at a free descriptor
    /// counting down from 63, and the word is its `/dev/fd/N` name.
    pub(crate) fn process_subst_word(
        &mut self,
        kind: &Kind,
        list: &SubshellCommand,
        fds: &mut Fds,
    ) -> Result<String, Fail> {
        let h = self.process_subst(kind, list, fds)?;
        let n = (10..=63)
            .rev()
            .find(|n| fds.get(*n).is_none())
            .unwrap_or(63);
        fds.set(n, h);
        Ok(format!("/dev/fd/{n}"))
    }

    /// Gives process substitutions that are still running a short while to finish,
    /// so that what they print is not cut off when the shell exits.
    pub(crate) fn drain_process_substs(&mut self) {
        let threads: Vec<JoinHandle<i32>> = match self.procsubs.lock() {
            Ok(mut t) => t.drain(..).collect(),
            Err(_) => return,
        };
        let deadline = Instant::now() + DRAIN;
        for t in threads {
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}
