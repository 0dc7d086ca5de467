//! `flock(2)` for guests (the `wsh` import `flock`, used by the `flock` applet):
//! advisory whole-file locks on image files, kept by the container's runtime per
//! inode. As on Linux, a lock belongs to the open file description (the
//! [`FileHandle`] shared by `dup` and inheritance), so it is released by an
//! explicit unlock or when the last descriptor of that description closes — when
//! its holder exits. Files of host mounts are locked on the host with `flock(2)`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use fsimage::Ino;

use crate::io::FileHandle;
use crate::mounts::HostFile;

/// The kind of lock asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// `LOCK_SH`: many holders at once.
    Shared,
    /// `LOCK_EX`: one holder, no shared ones.
    Exclusive,
}

/// Why a lock was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockError {
    /// Held by someone else and the caller would not wait (EWOULDBLOCK).
    WouldBlock,
    /// The caller was stopped while it waited (EINTR).
    Interrupted,
    /// Another host error (host mounts).
    Io(i32),
}

/// Who holds the lock of one inode.
#[derive(Default)]
struct Holders {
    exclusive: Option<u64>,
    shared: Vec<u64>,
}

impl Holders {
    fn free_for(&self, owner: u64, mode: LockMode) -> bool {
        let other_ex = self.exclusive.is_some_and(|o| o != owner);
        match mode {
            LockMode::Shared => !other_ex,
            LockMode::Exclusive => !other_ex && self.shared.iter().all(|o| *o == owner),
        }
    }

    fn drop_owner(&mut self, owner: u64) {
        if self.exclusive == Some(owner) {
            self.exclusive = None;
        }
        self.shared.retain(|o| *o != owner);
    }

    fn is_empty(&self) -> bool {
        self.exclusive.is_none() && self.shared.is_empty()
    }
}

/// The locks of one container's image files.
#[derive(Default)]
pub(crate) struct Locks {
    held: Mutex<HashMap<Ino, Holders>>,
    changed: Condvar,
}

/// Owners are open file descriptions; each gets a number at its first lock.
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

/// One open file description's lock, released when dropped (with the description).
pub struct LockHold {
    locks: Arc<Locks>,
    ino: Ino,
    owner: u64,
}

impl Drop for LockHold {
    fn drop(&mut self) {
        self.locks.release(self.ino, self.owner);
    }
}

impl Locks {
    fn release(&self, ino: Ino, owner: u64) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = held.get_mut(&ino) {
            h.drop_owner(owner);
            if h.is_empty() {
                held.remove(&ino);
            }
        }
        drop(held);
        self.changed.notify_all();
    }

    /// Locks the image file open as `fh` in `mode`; waits while others hold it
    /// unless `nonblock`, giving up when `stopped()` says so (checked every 10 ms).
    pub(crate) fn lock(
        self: &Arc<Self>,
        fh: &FileHandle,
        mode: LockMode,
        nonblock: bool,
        stopped: &dyn Fn() -> bool,
    ) -> Result<(), LockError> {
        let ino = fh.ino();
        let mut slot = fh.lock_slot();
        let owner = match &*slot {
            Some(hold) => hold.owner,
            None => NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
        };
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let h = held.entry(ino).or_default();
            if h.free_for(owner, mode) {
                h.drop_owner(owner);
                match mode {
                    LockMode::Shared => h.shared.push(owner),
                    LockMode::Exclusive => h.exclusive = Some(owner),
                }
                break;
            }
            if nonblock {
                return Err(LockError::WouldBlock);
            }
            if stopped() {
                return Err(LockError::Interrupted);
            }
            held = self
                .changed
                .wait_timeout(held, Duration::from_millis(10))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        drop(held);
        // A shared lock turned exclusive (or back) may let waiters in.
        self.changed.notify_all();
        if slot.is_none() {
            *slot = Some(LockHold {
                locks: self.clone(),
                ino,
                owner,
            });
        }
        Ok(())
    }

    /// Drops the lock the description `fh` holds, if any (`LOCK_UN`).
    pub(crate) fn unlock(&self, fh: &FileHandle) {
        drop(fh.lock_slot().take());
    }
}

/// `flock(2)` on a host mount's file: on the host, waiting in 10 ms steps so a
/// stopped guest gives up.
pub(crate) fn host_flock(
    file: &HostFile,
    mode: Option<LockMode>,
    nonblock: bool,
    stopped: &dyn Fn() -> bool,
) -> Result<(), LockError> {
    use rustix::fs::FlockOperation as Op;
    let op = match mode {
        None => Op::Unlock,
        Some(LockMode::Shared) => Op::NonBlockingLockShared,
        Some(LockMode::Exclusive) => Op::NonBlockingLockExclusive,
    };
    loop {
        match rustix::fs::flock(file.as_fd(), op) {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                if nonblock {
                    return Err(LockError::WouldBlock);
                }
                if stopped() {
                    return Err(LockError::Interrupted);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) if e == rustix::io::Errno::INTR => {}
            Err(e) => return Err(LockError::Io(e.raw_os_error())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_and_shared_shares() {
        let mut h = Holders::default();
        assert!(h.free_for(1, LockMode::Exclusive));
        h.exclusive = Some(1);
        assert!(!h.free_for(2, LockMode::Shared));
        assert!(h.free_for(1, LockMode::Shared));
        h.drop_owner(1);
        h.shared = vec![1, 2];
        assert!(h.free_for(3, LockMode::Shared));
        assert!(!h.free_for(1, LockMode::Exclusive));
        h.drop_owner(2);
        assert!(h.free_for(1, LockMode::Exclusive));
        h.drop_owner(1);
        assert!(h.is_empty());
    }
}
