//! What the interpreter needs from the world below it: start programs, look at
//! and open files in the image. [`ImageSystem`] is the real one (runtime + Vfs);
//! unit tests substitute a fake so the interpreter is testable without guests.

use std::sync::Arc;

use fsimage::{Errno, FileType};
use wsh_runtime::io::{FileHandle, OpenOptions};
use wsh_runtime::{Command, Handle, Runtime, SpawnError};

/// A started program the interpreter can wait for.
pub trait Job: Send {
    /// Blocks until the program ends; returns its exit status.
    fn wait(self: Box<Self>) -> i32;
}

impl Job for wsh_runtime::Child {
    fn wait(self: Box<Self>) -> i32 {
        wsh_runtime::Child::wait(*self)
    }
}

/// Kinds of file the interpreter distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Regular,
    Directory,
    Other,
}

/// A failed file operation, as the strerror text bash would print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysError(pub String);

impl From<Errno> for SysError {
    fn from(e: Errno) -> SysError {
        SysError(
            match e {
                Errno::NoEnt => "No such file or directory",
                Errno::NotDir => "Not a directory",
                Errno::IsDir => "Is a directory",
                Errno::Acces | Errno::Perm => "Permission denied",
                Errno::Exist => "File exists",
                Errno::Loop => "Too many levels of symbolic links",
                Errno::NameTooLong => "File name too long",
                Errno::NoSpc => "No space left on device",
                Errno::RoFs => "Read-only file system",
                _ => "Input/output error",
            }
            .to_string(),
        )
    }
}

/// The interpreter's view of the machine. Paths are relative to `cwd` (an absolute
/// image path) unless absolute; nothing here ever touches a host path.
pub trait System: Send + Sync {
    /// Starts a program (its `program` is an absolute image path).
    fn spawn(&self, cmd: Command) -> Result<Box<dyn Job>, SpawnError>;
    /// The kind of file at `path`, following symlinks.
    fn kind(&self, cwd: &str, path: &str) -> Result<Kind, SysError>;
    /// Opens `path` for a redirection.
    fn open(&self, cwd: &str, path: &str, opts: OpenOptions) -> Result<Handle, SysError>;
}

/// The real system: guests run by the runtime over its image.
pub struct ImageSystem {
    rt: Runtime,
}

impl ImageSystem {
    /// Wraps a runtime (whose Vfs is the image everything resolves in).
    pub fn new(rt: Runtime) -> Arc<ImageSystem> {
        Arc::new(ImageSystem { rt })
    }

    fn cwd_ino(&self, cwd: &str) -> Result<fsimage::Ino, SysError> {
        let vfs = self.rt.vfs();
        vfs.resolve(vfs.root(), cwd.as_bytes(), true).map_err(|e| e.errno().into())
    }
}

impl System for ImageSystem {
    fn spawn(&self, cmd: Command) -> Result<Box<dyn Job>, SpawnError> {
        Ok(Box::new(self.rt.spawn(cmd)?))
    }

    fn kind(&self, cwd: &str, path: &str) -> Result<Kind, SysError> {
        let vfs = self.rt.vfs();
        let base = self.cwd_ino(cwd)?;
        let ino = vfs.resolve(base, path.as_bytes(), true).map_err(|e| SysError::from(e.errno()))?;
        let st = vfs.stat(ino).map_err(|e| SysError::from(e.errno()))?;
        Ok(match st.kind {
            FileType::Regular => Kind::Regular,
            FileType::Directory => Kind::Directory,
            _ => Kind::Other,
        })
    }

    fn open(&self, cwd: &str, path: &str, opts: OpenOptions) -> Result<Handle, SysError> {
        // /dev is not in the image; /dev/null is the one device scripts cannot do without
        // (/dev/std* are mapped onto the fd table by the redirection code).
        if path == "/dev/null" {
            return Ok(Handle::Null);
        }
        let base = self.cwd_ino(cwd)?;
        let fh = FileHandle::open(self.rt.vfs(), base, path.as_bytes(), opts)
            .map_err(|e| SysError::from(e.errno()))?;
        Ok(Handle::File(Arc::new(fh)))
    }
}
