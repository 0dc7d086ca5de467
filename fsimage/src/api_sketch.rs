// THE AGREED PUBLIC API OF fsimage (the rest of wsh compiles against exactly this).
// The implementer may add items, but must not change these signatures without
// telling the shell/runtime authors.

/// Inode number inside an ext4 image.
pub type Ino = u32;

/// POSIX error numbers the Vfs reports; the WASI broker maps them to WASI errnos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errno { Perm, NoEnt, Io, BadF, Acces, Exist, XDev, NotDir, IsDir, Inval, FBig, NoSpc, RoFs, MLink, NameTooLong, NotEmpty, Loop, NotSup }

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operation failed the way a POSIX file system call fails.
    #[error("{0:?}")]
    Errno(Errno),
    /// The image file could not be opened/read/written on the host.
    #[error("{path}: {source}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
    /// The image is not a valid/supported ext4 file system (or libext2fs refused it).
    #[error("{path}: not a usable ext4 image: {msg}")]
    Corrupt { path: std::path::PathBuf, msg: String },
}
impl Error { pub fn errno(&self) -> Errno { todo!() } } // Io => Errno::Io, Corrupt => Errno::Io

pub type Result<T> = std::result::Result<T, Error>;

/// File type, as stored in the inode mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType { Regular, Directory, Symlink, CharDevice, BlockDevice, Fifo, Socket }

/// Seconds + nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timestamp { pub sec: i64, pub nsec: u32 }

#[derive(Debug, Clone)]
pub struct Stat {
    pub ino: Ino,
    pub kind: FileType,
    pub mode: u32,        // permission bits only (0o7777)
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub size: u64,
    pub blocks: u64,      // 512-byte units, like st_blocks
    pub atime: Timestamp,
    pub mtime: Timestamp,
    pub ctime: Timestamp,
}

pub struct DirEntry { pub name: Vec<u8>, pub ino: Ino, pub kind: FileType }

/// Where a time should be set to (for utimensat-like calls).
pub enum SetTime { Now, At(Timestamp) }

/// The storage under the file system: a fixed-size array of bytes, read and
/// written in whole blocks. Layers (copy-on-write overlays) implement this.
pub trait BlockDevice: Send {
    /// Total size in bytes.
    fn size(&self) -> u64;
    /// Reads `buf.len()` bytes at `offset`. Reads past the end fail.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()>;
    fn write_at(&mut self, offset: u64, data: &[u8]) -> std::io::Result<()>;
    fn flush(&mut self) -> std::io::Result<()>;
}

/// A host file used as a raw block device.
pub struct FileDevice { /* ... */ }
impl FileDevice {
    pub fn open(path: &std::path::Path, writable: bool) -> Result<FileDevice> { todo!() }
    /// Creates (or truncates) a sparse file of `size` bytes.
    pub fn create(path: &std::path::Path, size: u64) -> Result<FileDevice> { todo!() }
}

/// A copy-on-write overlay kept in memory over a read-only lower device:
/// reads fall through to `lower` for blocks never written. A throwaway container.
pub struct MemOverlay { /* ... */ }
impl MemOverlay {
    pub fn new(lower: Box<dyn BlockDevice>) -> MemOverlay { todo!() }
}

/// Copies every byte of `dev` (sparsely: zero blocks become holes) into a new raw image file.
pub fn export_raw(dev: &mut dyn BlockDevice, dest: &std::path::Path) -> Result<()> { todo!() }

/// An ext4 file system on a block device, safe to share between threads.
/// Every method takes `&self` (internally one mutex around libext2fs).
pub struct Vfs { /* ... */ }

impl Vfs {
    /// Makes a fresh empty ext4 file system (4 KiB blocks, extents, 64bit, dir_index,
    /// metadata_csum, ...) on `dev`, root dir 0755 and lost+found, and opens it read-write.
    pub fn mkfs(dev: Box<dyn BlockDevice>, label: &str) -> Result<Vfs> { todo!() }
    /// Opens an existing ext4 file system (e.g. made by `mkfs.ext4 -d`). `name` is used in errors.
    pub fn open(dev: Box<dyn BlockDevice>, name: &std::path::Path, writable: bool) -> Result<Vfs> { todo!() }
    /// Writes everything back (inode/block bitmaps, superblock, group descriptors) and
    /// flushes the device; after this the device content passes `e2fsck -fn`.
    pub fn sync(&self) -> Result<()> { todo!() }
    /// Syncs, closes libext2fs and gives the device back (for export or sealing).
    pub fn into_device(self) -> Result<Box<dyn BlockDevice>> { todo!() }

    pub fn root(&self) -> Ino { 2 }
    /// One directory entry. `name` is a single component (no '/'); "." and ".." work.
    pub fn lookup(&self, dir: Ino, name: &[u8]) -> Result<Ino> { todo!() }
    /// Walks `path` (absolute => from root, else from `base`), following symlinks in
    /// intermediate components always and in the last one iff `follow`. ".." at the root
    /// stays at the root; absolute symlink targets are resolved from the image root, never
    /// the host. More than 40 symlinks => Errno::Loop. Empty path => NoEnt.
    pub fn resolve(&self, base: Ino, path: &[u8], follow: bool) -> Result<Ino> { todo!() }
    /// Like resolve but stops before the last component: returns (parent dir ino, last name).
    /// Trailing slashes are ignored; a path of "/" gives (root, ".").
    pub fn resolve_parent(&self, base: Ino, path: &[u8]) -> Result<(Ino, Vec<u8>)> { todo!() }

    pub fn stat(&self, ino: Ino) -> Result<Stat> { todo!() }
    /// Reads at `offset`; returns bytes read (0 at/after EOF). Holes read as zeros.
    pub fn read(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize> { todo!() }
    /// Writes at `offset`, extending the file; updates mtime/ctime. NoSpc when full.
    pub fn write(&self, ino: Ino, offset: u64, data: &[u8]) -> Result<usize> { todo!() }
    /// Sets the file size (shrinking frees blocks; growing makes a hole).
    pub fn truncate(&self, ino: Ino, size: u64) -> Result<()> { todo!() }

    /// New empty regular file `name` in `dir` with permission bits `mode`; Exist if present.
    pub fn create(&self, dir: Ino, name: &[u8], mode: u32) -> Result<Ino> { todo!() }
    pub fn mkdir(&self, dir: Ino, name: &[u8], mode: u32) -> Result<Ino> { todo!() }
    pub fn symlink(&self, dir: Ino, name: &[u8], target: &[u8]) -> Result<Ino> { todo!() }
    /// Hard link: a new name for `ino` (not a directory).
    pub fn link(&self, ino: Ino, dir: Ino, name: &[u8]) -> Result<()> { todo!() }
    /// Removes a non-directory entry (IsDir for a directory). The inode is freed when its
    /// link count reaches 0 and no handle holds it open (see `open_ref`).
    pub fn unlink(&self, dir: Ino, name: &[u8]) -> Result<()> { todo!() }
    /// Removes an empty directory (NotEmpty, NotDir as POSIX).
    pub fn rmdir(&self, dir: Ino, name: &[u8]) -> Result<()> { todo!() }
    /// POSIX rename(2) semantics: replaces an existing target (file over file, empty dir over
    /// dir), fixes the moved directory's "..", refuses moving a dir into itself (Inval).
    pub fn rename(&self, from_dir: Ino, from: &[u8], to_dir: Ino, to: &[u8]) -> Result<()> { todo!() }
    pub fn readlink(&self, ino: Ino) -> Result<Vec<u8>> { todo!() }
    /// All entries including "." and "..", in on-disk order.
    pub fn readdir(&self, dir: Ino) -> Result<Vec<DirEntry>> { todo!() }

    pub fn set_times(&self, ino: Ino, atime: Option<SetTime>, mtime: Option<SetTime>) -> Result<()> { todo!() }
    pub fn set_mode(&self, ino: Ino, mode: u32) -> Result<()> { todo!() }
    pub fn set_owner(&self, ino: Ino, uid: Option<u32>, gid: Option<u32>) -> Result<()> { todo!() }

    /// A handle opened `ino`: keeps an unlinked inode alive until `close_ref`.
    pub fn open_ref(&self, ino: Ino) { todo!() }
    pub fn close_ref(&self, ino: Ino) { todo!() }

    /// Total and free bytes (for df/statvfs).
    pub fn space(&self) -> (u64, u64) { todo!() }
}
