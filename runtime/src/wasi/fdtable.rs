//! A guest's file descriptor table.

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

/// Descriptors by number; closed slots are `None`.
#[derive(Default)]
pub struct FdTable {
    slots: Vec<Option<Fd>>,
}

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

    /// Puts `entry` in the lowest free slot and returns its number.
    pub fn insert(&mut self, entry: Fd) -> u32 {
        match self.slots.iter().position(Option::is_none) {
            Some(i) => {
                self.slots[i] = Some(entry);
                i as u32
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
            self.slots.resize_with(i + 1, || None);
        }
        self.slots[i] = Some(entry);
    }

    /// Closes `fd`, returning what it held.
    pub fn remove(&mut self, fd: u32) -> Result<Fd, Errno> {
        self.slots
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(Errno::BADF)
    }
}
