//! A guest's file descriptor table.

use std::collections::BTreeSet;
use std::sync::Arc;

use fsimage::{DirEntry, Ino};

use super::abi::Errno;
use crate::io::Handle;
use crate::mounts::Mount;

/// What one descriptor refers to.
pub enum Fd {
    /// A stream or regular file (stdio, a pipe, a file in the image).
    Handle(Handle),
    /// A directory in the image.
    Dir(DirFd),
    /// A directory below a host mount.
    HostDir(HostDirFd),
    /// A TCP socket (a published port's listener, or one made through `wsh`).
    Socket(super::net::Socket),
}

/// An open directory.
pub struct DirFd {
    /// The directory's inode.
    pub ino: Ino,
    /// The name a preopened directory is announced under (fd_prestat_*).
    pub preopen: Option<Vec<u8>>,
    /// The listing `fd_readdir` pages through; refreshed when a guest starts again at cookie 0.
    pub listing: Option<Vec<DirEntry>>,
    /// Its absolute guest path (lexical), when known: paths below it may lead into
    /// a mount. `None` for directories opened through paths wsh did not see whole.
    pub path: Option<Vec<u8>>,
}

/// An open directory of a host mount.
pub struct HostDirFd {
    /// The mount it is in.
    pub mount: Arc<Mount>,
    /// Its path below the mount's root ("" for the root).
    pub rel: Vec<u8>,
    /// The name a preopened mount is announced under.
    pub preopen: Option<Vec<u8>>,
    /// The listing `fd_readdir` pages through.
    pub listing: Option<Vec<DirEntry>>,
}

impl HostDirFd {
    /// Its absolute path as guests see it.
    pub fn guest_path(&self) -> Vec<u8> {
        let mut p = self.mount.guest_path().to_vec();
        if !self.rel.is_empty() {
            if p != b"/" {
                p.push(b'/');
            }
            p.extend_from_slice(&self.rel);
        }
        p
    }
}

/// Descriptors by number; closed slots are `None`. The lowest free number is
/// found in O(log n) (a set of the free numbers below the end of `slots`), so a
/// guest opening many descriptors is not quadratic; at most `limit` may be open.
pub struct FdTable {
    slots: Vec<Option<Fd>>,
    /// The numbers below `slots.len()` whose slot is `None`.
    free: BTreeSet<u32>,
    /// How many descriptors may be open at once (RLIMIT_NOFILE).
    limit: u32,
}

impl Default for FdTable {
    fn default() -> FdTable {
        FdTable {
            slots: Vec::new(),
            free: BTreeSet::new(),
            limit: crate::limits::DEFAULT_OPEN_FILES,
        }
    }
}

/// WASI's EMFILE: the guest has as many descriptors open as it may.
pub const MFILE: Errno = Errno(33);

impl FdTable {
    /// The entry at `fd`, or EBADF.
    pub fn get(&self, fd: u32) -> Result<&Fd, Errno> {
        self.slots
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::BADF)
    }

    /// The entry at `fd` for mutation, or EBADF.
    pub fn get_mut(&mut self, fd: u32) -> Result<&mut Fd, Errno> {
        self.slots
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::BADF)
    }

    /// How many descriptors are open.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Whether no descriptor is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets how many descriptors may be open at once (those already open stay).
    pub fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
    }

    /// Puts `entry` in the lowest free slot and returns its number; EMFILE when
    /// the table already holds its limit.
    pub fn insert(&mut self, entry: Fd) -> Result<u32, Errno> {
        if self.len() >= self.limit as usize {
            return Err(MFILE);
        }
        Ok(self.push(entry))
    }

    /// Puts `entry` in the lowest free slot whatever the limit (the descriptors a
    /// guest starts with).
    pub fn push(&mut self, entry: Fd) -> u32 {
        match self.free.pop_first() {
            Some(i) => {
                self.slots[i as usize] = Some(entry);
                i
            }
            None => {
                self.slots.push(Some(entry));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Puts `entry` at exactly `fd` (replacing what was there).
    pub fn set(&mut self, fd: u32, entry: Fd) {
        let i = fd as usize;
        if self.slots.len() <= i {
            self.free.extend(self.slots.len() as u32..fd);
            self.slots.resize_with(i + 1, || None);
        }
        self.free.remove(&fd);
        self.slots[i] = Some(entry);
    }

    /// Closes `fd`, returning what it held.
    pub fn remove(&mut self, fd: u32) -> Result<Fd, Errno> {
        let entry = self
            .slots
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(Errno::BADF)?;
        self.free.insert(fd);
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn null() -> Fd {
        Fd::Handle(Handle::Null)
    }

    #[test]
    fn the_lowest_free_number_is_reused() {
        let mut t = FdTable::default();
        for want in 0..6 {
            assert_eq!(t.insert(null()), Ok(want));
        }
        t.remove(4).unwrap();
        t.remove(1).unwrap();
        t.remove(2).unwrap();
        assert_eq!(t.insert(null()), Ok(1));
        assert_eq!(t.insert(null()), Ok(2));
        assert_eq!(t.insert(null()), Ok(4));
        assert_eq!(t.insert(null()), Ok(6));
        assert_eq!(t.remove(9).err(), Some(Errno::BADF));
        assert_eq!(t.len(), 7);
    }

    #[test]
    fn set_past_the_end_leaves_the_gap_free() {
        let mut t = FdTable::default();
        t.push(null());
        t.set(3, null());
        assert_eq!(t.insert(null()), Ok(1));
        assert_eq!(t.insert(null()), Ok(2));
        assert_eq!(t.insert(null()), Ok(4));
        // Renumbering onto a free number takes it out of the free set.
        t.remove(1).unwrap();
        t.set(1, null());
        assert_eq!(t.insert(null()), Ok(5));
    }

    #[test]
    fn opening_past_the_limit_is_emfile_until_one_closes() {
        let mut t = FdTable::default();
        for _ in 0..3 {
            t.push(null());
        }
        t.set_limit(5);
        assert_eq!(t.insert(null()), Ok(3));
        assert_eq!(t.insert(null()), Ok(4));
        assert_eq!(t.insert(null()), Err(MFILE));
        t.remove(0).unwrap();
        assert_eq!(t.insert(null()), Ok(0));
        assert_eq!(t.insert(null()), Err(MFILE));
    }
}
