//! A running command as its starter sees it: waiting for its exit status (posted by
//! a guest before its instance is torn down), and job control over it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::{PidSlot, engine};

/// Where a guest's thread posts its exit status as soon as the program is over,
/// before the (slow) teardown of its instance: waiting for a child waits for this.
#[derive(Default)]
pub(crate) struct ExitCell {
    status: Mutex<Option<i32>>,
    posted: std::sync::Condvar,
}

impl ExitCell {
    /// Records `status` unless one was posted already, and wakes the waiter.
    pub(crate) fn post(&self, status: i32) {
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
pub(crate) struct ExitPost(pub(crate) Arc<ExitCell>);

impl Drop for ExitPost {
    fn drop(&mut self) {
        self.0.post(134);
    }
}

/// A running command.
pub struct Child {
    /// How the command's end is known.
    pub(crate) end: End,
    pub(crate) interrupt: Arc<AtomicBool>,
    /// Holds the guest at its next epoch check while set (job control).
    pub(crate) paused: Arc<AtomicBool>,
    /// Set: [`crate::Runtime::interrupt_all`] passes this command by (a background job).
    pub(crate) shielded: Arc<AtomicBool>,
    /// The container's count of this child, for children whose thread does not
    /// hold it itself (see [`Child::hold`]).
    pub(crate) slot: Option<PidSlot>,
}

impl Child {
    /// A child running on `thread` that stops when `interrupt` is set (for
    /// [`crate::CommandLineRunner`]s, whose command lines run on threads of their own).
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
    /// lines started by a [`crate::CommandLineRunner`], whose threads take none).
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
pub(crate) enum End {
    /// A guest on a pooled thread posts its status before its teardown ends.
    Posted(Arc<ExitCell>),
    /// A command line of a [`crate::CommandLineRunner`] ends with its own thread.
    Thread(std::thread::JoinHandle<i32>),
}

/// Job control over one running command: what SIGSTOP, SIGCONT and SIGINT do to a
/// process. A paused guest holds at its next epoch check (compute) or before its
/// blocking call returns (sleep, terminal read); a command that is not a guest
/// (a [`crate::CommandLineRunner`]'s) only stops.
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

    /// Keeps [`crate::Runtime::interrupt_all`] (Ctrl-C) from stopping this command, as
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
