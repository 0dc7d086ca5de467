//! Plain data types of the Vfs API.

/// Inode number inside an ext4 image.
pub type Ino = u32;

/// File type, as stored in the inode mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A character device node.
    CharDevice,
    /// A block device node.
    BlockDevice,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
}

/// Seconds + nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timestamp {
    /// Whole seconds (may be negative).
    pub sec: i64,
    /// Nanoseconds, 0..1e9.
    pub nsec: u32,
}

/// Attributes of an inode, like `struct stat`.
#[derive(Debug, Clone)]
pub struct Stat {
    /// Inode number.
    pub ino: Ino,
    /// File type.
    pub kind: FileType,
    /// Permission bits only (0o7777).
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Hard link count.
    pub nlink: u32,
    /// Size in bytes.
    pub size: u64,
    /// 512-byte units, like st_blocks.
    pub blocks: u64,
    /// Last access.
    pub atime: Timestamp,
    /// Last data modification.
    pub mtime: Timestamp,
    /// Last status change.
    pub ctime: Timestamp,
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// Entry name (a single component).
    pub name: Vec<u8>,
    /// Inode it points to.
    pub ino: Ino,
    /// Type of that inode.
    pub kind: FileType,
}

/// Where a time should be set to (for utimensat-like calls).
#[derive(Debug, Clone, Copy)]
pub enum SetTime {
    /// The host clock now.
    Now,
    /// An explicit time.
    At(Timestamp),
}
