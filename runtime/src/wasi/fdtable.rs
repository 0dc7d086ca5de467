//! A guest's file descriptor table.

use fsimage::{DirEntry, Ino};

use super::abi::Errno;
use crate::io::Handle;

/// What one descriptor refers to.
pub enum Fd {
    /// A stream or regular file (stdio, a pipe, a file in the image).
    Handle(Handle),
    /// A directory in the image.
    Dir(DirFd),
}

/// An open directory.
pub struct DirFd {
    /// The directory's inode.
    pub ino: Ino,
    /// The name a preopened directory is announced under (fd_prestat_*).
    pub preopen: Option<Vec<u8>>,
    /// The listing `fd_readdir` pages through; refreshed when a guest starts again at cookie 0.
    pub listing: Option<Vec<DirEntry>>,
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

    /// The directory inode behind `fd` (path_* calls resolve from it), or ENOTDIR/EBADF.
    pub fn dir(&self, fd: u32) -> Result<Ino, Errno> {
        match self.get(fd)? {
            Fd::Dir(d) => Ok(d.ino),
            Fd::Handle(_) => Err(Errno::NOTDIR),
        }
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
