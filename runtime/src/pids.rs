//! How many programs and threads a container has alive: the runtime's `pids`
//! cgroup. Every guest and every thread of the interpreter (pipeline stage,
//! background job, command substitution, here-document feeder) holds a
//! [`PidSlot`] for as long as it lives; when the container's limit
//! ([`crate::Limits::pids`]) is reached, starting one more fails with
//! [`ForkError`] (EAGAIN), as `fork` does under a cgroup's `pids.max`. Threads
//! are started through the slot so that a host refusal (out of threads or memory
//! mappings) is the same error rather than a panic.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{JoinHandle, Scope, ScopedJoinHandle};

/// A program or thread could not start: the container has as many alive as its
/// `pids` limit allows, or the host refused a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("fork: Resource temporarily unavailable")]
pub struct ForkError;

/// The count of live slots of one container.
#[derive(Default)]
pub(crate) struct Pids {
    live: Arc<AtomicUsize>,
}

impl Pids {
    /// One more slot, unless `max` are taken.
    pub(crate) fn acquire(&self, max: Option<usize>) -> Result<PidSlot, ForkError> {
        let max = max.unwrap_or(usize::MAX);
        self.live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| ForkError)?;
        Ok(PidSlot {
            live: Some(self.live.clone()),
        })
    }

    /// How many slots are taken.
    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

/// One live program or thread of a container, counted against its `pids` limit
/// until dropped (see [`crate::Runtime::pid_slot`]).
#[must_use = "the slot is released when dropped"]
pub struct PidSlot {
    live: Option<Arc<AtomicUsize>>,
}

impl PidSlot {
    /// A slot that counts against nothing (for callers without a runtime, such
    /// as the interpreter's unit tests).
    pub fn uncounted() -> PidSlot {
        PidSlot { live: None }
    }

    /// Runs `f` on a new thread named `name` that holds this slot until it ends.
    pub fn spawn<T, F>(self, name: &str, f: F) -> Result<JoinHandle<T>, ForkError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let _slot = self;
                f()
            })
            .map_err(|_| ForkError)
    }

    /// Runs `f` on a new thread of `scope` that holds this slot until it ends.
    pub fn spawn_scoped<'scope, 'env, T, F>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        name: &str,
        f: F,
    ) -> Result<ScopedJoinHandle<'scope, T>, ForkError>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn_scoped(scope, move || {
                let _slot = self;
                f()
            })
            .map_err(|_| ForkError)
    }
}

impl Drop for PidSlot {
    fn drop(&mut self) {
        if let Some(live) = &self.live {
            live.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_stop_at_the_limit_and_come_back_when_dropped() {
        let pids = Pids::default();
        let a = pids.acquire(Some(2)).unwrap();
        let b = pids.acquire(Some(2)).unwrap();
        assert_eq!(pids.acquire(Some(2)).err(), Some(ForkError));
        drop(a);
        let c = pids.acquire(Some(2)).unwrap();
        assert_eq!(pids.live(), 2);
        drop((b, c));
        assert_eq!(pids.live(), 0);
        assert!(pids.acquire(None).is_ok());
    }

    #[test]
    fn a_thread_holds_its_slot_until_it_ends() {
        let pids = Pids::default();
        let slot = pids.acquire(Some(1)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = slot.spawn("t", move || rx.recv().is_ok()).unwrap();
        assert!(pids.acquire(Some(1)).is_err());
        tx.send(()).unwrap();
        assert!(t.join().unwrap());
        assert_eq!(pids.live(), 0);
    }
}
