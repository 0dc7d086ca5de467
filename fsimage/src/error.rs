//! Error types shared by every part of the crate.

use std::path::PathBuf;

/// POSIX error numbers the Vfs reports; the WASI broker maps them to WASI errnos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errno {
    /// EPERM: operation not permitted.
    Perm,
    /// ENOENT: no such file or directory.
    NoEnt,
    /// EIO: input/output error.
    Io,
    /// EBADF: bad file descriptor / inode.
    BadF,
    /// EACCES: permission denied.
    Acces,
    /// EEXIST: file exists.
    Exist,
    /// EXDEV: cross-device link.
    XDev,
    /// ENOTDIR: not a directory.
    NotDir,
    /// EISDIR: is a directory.
    IsDir,
    /// EINVAL: invalid argument.
    Inval,
    /// EFBIG: file too large.
    FBig,
    /// ENOSPC: no space left on device.
    NoSpc,
    /// EROFS: read-only file system.
    RoFs,
    /// EMLINK: too many links.
    MLink,
    /// ENAMETOOLONG: file name too long.
    NameTooLong,
    /// ENOTEMPTY: directory not empty.
    NotEmpty,
    /// ELOOP: too many levels of symbolic links.
    Loop,
    /// ENOTSUP: operation not supported.
    NotSup,
}

impl Errno {
    /// Maps a host errno value (as libc defines it) to an Errno; unknown ones become Io.
    pub fn from_raw(e: i32) -> Errno {
        match e {
            libc::EPERM => Errno::Perm,
            libc::ENOENT => Errno::NoEnt,
            libc::EBADF => Errno::BadF,
            libc::EACCES => Errno::Acces,
            libc::EEXIST => Errno::Exist,
            libc::EXDEV => Errno::XDev,
            libc::ENOTDIR => Errno::NotDir,
            libc::EISDIR => Errno::IsDir,
            libc::EINVAL => Errno::Inval,
            libc::EFBIG => Errno::FBig,
            libc::ENOSPC => Errno::NoSpc,
            libc::EROFS => Errno::RoFs,
            libc::EMLINK => Errno::MLink,
            libc::ENAMETOOLONG => Errno::NameTooLong,
            libc::ENOTEMPTY => Errno::NotEmpty,
            libc::ELOOP => Errno::Loop,
            libc::ENOTSUP => Errno::NotSup,
            _ => Errno::Io,
        }
    }
}

impl Errno {
    /// The host errno value (as libc defines it), so io::Error carries the real cause.
    pub fn raw(self) -> i32 {
        match self {
            Errno::Perm => libc::EPERM,
            Errno::NoEnt => libc::ENOENT,
            Errno::Io => libc::EIO,
            Errno::BadF => libc::EBADF,
            Errno::Acces => libc::EACCES,
            Errno::Exist => libc::EEXIST,
            Errno::XDev => libc::EXDEV,
            Errno::NotDir => libc::ENOTDIR,
            Errno::IsDir => libc::EISDIR,
            Errno::Inval => libc::EINVAL,
            Errno::FBig => libc::EFBIG,
            Errno::NoSpc => libc::ENOSPC,
            Errno::RoFs => libc::EROFS,
            Errno::MLink => libc::EMLINK,
            Errno::NameTooLong => libc::ENAMETOOLONG,
            Errno::NotEmpty => libc::ENOTEMPTY,
            Errno::Loop => libc::ELOOP,
            Errno::NotSup => libc::ENOTSUP,
        }
    }
}

/// Everything that can go wrong in fsimage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operation failed the way a POSIX file system call fails.
    #[error("{0:?}")]
    Errno(Errno),
    /// The image file could not be opened/read/written on the host.
    #[error("{path}: {source}")]
    Io {
        /// The host file concerned.
        path: PathBuf,
        /// What the host said.
        source: std::io::Error,
    },
    /// The image is not a valid/supported ext4 file system (or libext2fs refused it).
    #[error("{path}: not a usable ext4 image: {msg}")]
    Corrupt {
        /// The image concerned.
        path: PathBuf,
        /// Why it was refused.
        msg: String,
    },
    /// A qcow2 layer file is damaged, unsupported, or its backing file is missing.
    #[error("{path}: bad qcow2 layer: {msg}")]
    BadLayer {
        /// The layer file concerned.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
}

impl Error {
    /// The POSIX errno for this error (host I/O and corruption both become Io).
    pub fn errno(&self) -> Errno {
        match self {
            Error::Errno(e) => *e,
            Error::Io { .. } | Error::Corrupt { .. } | Error::BadLayer { .. } => Errno::Io,
        }
    }
}

impl From<Errno> for Error {
    fn from(e: Errno) -> Error {
        Error::Errno(e)
    }
}

/// Result with the crate's Error.
pub type Result<T> = std::result::Result<T, Error>;
