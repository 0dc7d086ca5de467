//! Named pipes: a FIFO inode of the image is a meeting point. Opening it joins the
//! in-process [`Pipe`] of that inode (made when nobody has it open), as a reader
//! or a writer; as on Linux the open blocks until the other side has opened too,
//! and the pipe lives while any end of it is open (its data is never written to
//! the image). Guests (`path_open`) and the interpreter's redirections (`> fifo`)
//! meet through [`Runtime::open_fifo`].
//!
//! Not modelled: `O_NONBLOCK` opens (they block like the others) and opening for
//! reading and writing at once (`<>`, refused with ENXIO).

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use fsimage::Ino;

use crate::Runtime;
use crate::io::{Handle, Pipe, pipe_end};

/// One FIFO's current pipe and how many times each side has opened it.
struct Meeting {
    pipe: Arc<Pipe>,
    readers_opened: u64,
    writers_opened: u64,
}

/// The meeting points of one container, by inode.
#[derive(Default)]
pub(crate) struct Fifos {
    open: Mutex<HashMap<Ino, Meeting>>,
    changed: Condvar,
}

/// Why a FIFO open failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FifoError {
    /// The opener was stopped while it waited for the other side (EINTR).
    Interrupted,
    /// Opened for reading and writing at once (not supported).
    ReadWrite,
}

impl Runtime {
    /// Opens the FIFO inode `ino` of the image for writing (`write`) or reading,
    /// waiting until the other side opens it; gives up when `stopped()` says so
    /// (asked every 10 ms).
    pub fn open_fifo(
        &self,
        ino: Ino,
        read: bool,
        write: bool,
        stopped: &dyn Fn() -> bool,
    ) -> Result<Handle, FifoError> {
        if read && write {
            return Err(FifoError::ReadWrite);
        }
        let fifos = &self.inner.fifos;
        let mut open = fifos.open.lock().unwrap_or_else(|e| e.into_inner());
        // A pipe nobody holds any more is done with: the next opens meet on a new one.
        let stale = open.get(&ino).is_some_and(|m| m.pipe.ends() == (0, 0));
        if stale {
            open.remove(&ino);
        }
        let m = open.entry(ino).or_insert_with(|| Meeting {
            pipe: Arc::new(Pipe::default()),
            readers_opened: 0,
            writers_opened: 0,
        });
        let pipe = m.pipe.clone();
        let end = pipe_end(&pipe, write);
        let others_before = if write {
            m.writers_opened += 1;
            m.readers_opened
        } else {
            m.readers_opened += 1;
            m.writers_opened
        };
        fifos.changed.notify_all();
        loop {
            // Met: the other side is open now, or has opened since we came.
            let (readers, writers) = pipe.ends();
            let others_now = if write { readers } else { writers };
            let opened_since = open.get(&ino).is_some_and(|m| {
                Arc::ptr_eq(&m.pipe, &pipe)
                    && (if write {
                        m.readers_opened
                    } else {
                        m.writers_opened
                    }) > others_before
            });
            if others_now > 0 || opened_since {
                return Ok(end);
            }
            if stopped() {
                return Err(FifoError::Interrupted);
            }
            open = fifos
                .changed
                .wait_timeout(open, Duration::from_millis(10))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}
