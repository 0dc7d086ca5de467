//! The interpreter when its threads cannot start (the container's `pids` limit):
//! each construct that needs one fails as bash does when `fork` fails, never panics.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wsh_runtime::io::{OpenOptions, pipe};
use wsh_runtime::{Command, ForkError, Handle, PidSlot, SpawnError};

use super::sys::{Job, Kind, SysError, System};
use super::*;

/// A system without programs that grants `slots` threads, then refuses.
struct Limited {
    slots: AtomicUsize,
}

impl System for Limited {
    fn spawn(&self, cmd: Command) -> Result<Box<dyn Job>, SpawnError> {
        Err(SpawnError::NotFound(cmd.program))
    }

    fn kind(&self, _cwd: &str, _path: &str) -> Result<Kind, SysError> {
        Err(SysError("No such file or directory".into()))
    }

    fn open(&self, _cwd: &str, path: &str, _opts: OpenOptions) -> Result<Handle, SysError> {
        match path {
            "/dev/null" => Ok(Handle::Null),
            _ => Err(SysError("No such file or directory".into())),
        }
    }

    fn pid_slot(&self) -> Result<PidSlot, ForkError> {
        self.slots
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .map(|_| PidSlot::uncounted())
            .map_err(|_| ForkError)
    }
}

/// Runs `text` with `slots` threads to spare; returns (status, stdout, stderr).
fn run_with(slots: usize, text: &str) -> (i32, String, String) {
    let sys = Limited {
        slots: AtomicUsize::new(slots),
    };
    let mut sh = Shell::new(Arc::new(sys));
    let (or, ow) = pipe();
    let (er, ew) = pipe();
    let status = sh.run_text(text, &Fds::standard(Handle::Null, ow, ew));
    drop(sh);
    let s = |h: Handle| String::from_utf8(h.read_to_end().unwrap()).unwrap();
    (status, s(or), s(er))
}

const FORK: &str = "wsh: fork: Resource temporarily unavailable\n";

#[test]
fn a_pipeline_that_cannot_start_fails_with_126_and_the_script_goes_on() {
    let (status, out, err) = run_with(0, "true | true; echo $?\necho next");
    // bash abandons the rest of the line ($? is not echoed), then runs the next one.
    assert_eq!((status, out.as_str(), err.as_str()), (0, "next\n", FORK));
    // One stage started, the second could not: the same.
    let (_, out, err) = run_with(1, "true | true\necho $?");
    assert_eq!((out.as_str(), err.as_str()), ("126\n", FORK));
    // With threads to spare, it runs.
    assert_eq!(run_with(2, "echo a | read x; echo $?").1, "0\n");
}

#[test]
fn a_background_job_that_cannot_start_fails_with_126() {
    let (status, out, err) = run_with(0, "echo bg & echo same-line\necho $?");
    assert_eq!((status, out.as_str(), err.as_str()), (0, "126\n", FORK));
    assert_eq!(run_with(1, "echo bg & wait; echo $?").1, "bg\n0\n");
}

#[test]
fn a_command_substitution_that_cannot_start_is_empty_with_126() {
    let (_, out, err) = run_with(0, "x=$(echo hi); echo \"[$x] $?\"");
    assert_eq!((out.as_str(), err.as_str()), ("[] 126\n", FORK));
    assert_eq!(run_with(1, "x=$(echo hi); echo \"[$x] $?\"").1, "[hi] 0\n");
}

#[test]
fn a_large_here_document_that_cannot_be_fed_fails_the_command() {
    // Larger than a pipe's buffer: a thread has to feed it.
    let body = "x".repeat(wsh_runtime::io::PIPE_CAPACITY + 1);
    let text = format!("read -r v <<EOF\n{body}\nEOF\necho $? ${{#v}}");
    let (_, out, err) = run_with(0, &text);
    assert_eq!((out.as_str(), err.as_str()), ("126 0\n", FORK));
    let want = format!("0 {}\n", body.len());
    assert_eq!(run_with(1, &text).1, want);
}

#[test]
fn a_fork_bomb_ends_when_threads_run_out() {
    // Every `f|f&` needs three threads; with 200 to spare the bomb burns out.
    let (_, out, err) = run_with(200, "f(){ f|f& }; f; wait; echo done");
    assert_eq!(out, "done\n");
    assert!(err.contains(FORK), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
