//! `wsh mount --rw FILE` changes a working copy of FILE next to it and renames it over
//! FILE at unmount, after making it durable: a crash or `kill -9` at any moment leaves
//! FILE either as it was or as the unmount left it, never half-written (libext2fs
//! writes bitmaps, group descriptors and the superblock only when it syncs).

use anyhow::{Context, Result, bail};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::locations::sync_dir;

/// A writable copy of a host image file, locked against a second `--rw` mount.
pub(crate) struct WorkingCopy {
    original: PathBuf,
    copy: PathBuf,
    /// Holds the `flock` on the original until the copy has replaced it.
    lock: File,
    replaced: bool,
}

/// The directory of `path` ("." for a bare name).
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Opens `path` and takes an exclusive `flock` on it without waiting. Retries when the
/// file was replaced between the open and the lock (another mount's rename), so the
/// lock is always on the file the path names.
fn lock_original(path: &Path) -> Result<File> {
    loop {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: a valid fd; the lock goes with the file.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                bail!("{} is already mounted read-write", path.display());
            }
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
        let (held, now) = (file.metadata()?, std::fs::metadata(path)?);
        if (held.dev(), held.ino()) == (now.dev(), now.ino()) {
            return Ok(file);
        }
    }
}

impl WorkingCopy {
    /// Locks `original`, and copies it (sparsely, or by reflink where the file system
    /// can) to `.NAME.wsh-rw` beside it, replacing a copy a killed mount left there.
    pub(crate) fn create(original: &Path) -> Result<WorkingCopy> {
        let lock = lock_original(original)?;
        let name = original
            .file_name()
            .context("an image file needs a name")?
            .to_string_lossy();
        let copy = dir_of(original).join(format!(".{name}.wsh-rw"));
        let this = WorkingCopy {
            original: original.to_path_buf(),
            copy,
            lock,
            replaced: false,
        };
        let meta = this.lock.metadata()?;
        let dst = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&this.copy)
            .with_context(|| format!("cannot create the working copy {}", this.copy.display()))?;
        copy_sparse(&this.lock, &dst, meta.len()).with_context(|| {
            format!(
                "cannot copy {} to {}",
                original.display(),
                this.copy.display()
            )
        })?;
        dst.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        // Only root (or the owner, to its own group) may keep the owner: best effort.
        // SAFETY: a valid fd.
        let _ = unsafe { libc::fchown(dst.as_raw_fd(), meta.uid(), meta.gid()) };
        Ok(this)
    }

    /// The copy to open read-write.
    pub(crate) fn path(&self) -> &Path {
        &self.copy
    }

    /// Makes the copy durable and renames it over the original (the device must be
    /// closed and flushed already).
    pub(crate) fn replace_original(mut self) -> Result<()> {
        File::open(&self.copy)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot sync {}", self.copy.display()))?;
        std::fs::rename(&self.copy, &self.original)
            .with_context(|| format!("cannot replace {}", self.original.display()))?;
        self.replaced = true;
        sync_dir(dir_of(&self.original))
    }
}

impl Drop for WorkingCopy {
    fn drop(&mut self) {
        // Not replaced: the mount failed, and the original stays as it was.
        if !self.replaced {
            let _ = std::fs::remove_file(&self.copy);
        }
    }
}

/// Copies the first `len` bytes of `src` into the empty `dst`: a reflink when the file
/// system shares extents, else only the data regions (`SEEK_DATA`/`SEEK_HOLE`), so a
/// sparse image stays sparse.
fn copy_sparse(src: &File, dst: &File, len: u64) -> io::Result<()> {
    let (sfd, dfd) = (src.as_raw_fd(), dst.as_raw_fd());
    // SAFETY: two valid fds; FICLONE only reads the source.
    if unsafe { libc::ioctl(dfd, libc::FICLONE, sfd) } == 0 {
        return Ok(());
    }
    dst.set_len(len)?;
    let mut pos = 0u64;
    while pos < len {
        // SAFETY: lseek on a valid fd.
        let data = unsafe { libc::lseek(sfd, pos as libc::off_t, libc::SEEK_DATA) };
        let (start, end) = if data < 0 {
            match io::Error::last_os_error().raw_os_error() {
                // No data after `pos`: the rest is a hole.
                Some(libc::ENXIO) => break,
                // No SEEK_DATA here: copy everything.
                Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) => (pos, len),
                _ => return Err(io::Error::last_os_error()),
            }
        } else {
            // SAFETY: as above.
            let hole = unsafe { libc::lseek(sfd, data, libc::SEEK_HOLE) };
            if hole < 0 {
                return Err(io::Error::last_os_error());
            }
            (data as u64, (hole as u64).min(len))
        };
        copy_range(src, dst, start, end.saturating_sub(start))?;
        pos = end.max(start + 1);
    }
    Ok(())
}

/// Copies `n` bytes at `off` from `src` to the same offset of `dst`: `copy_file_range`
/// (in-kernel), or plain reads and writes where the kernel cannot.
fn copy_range(src: &File, dst: &File, off: u64, n: u64) -> io::Result<()> {
    let (mut done, mut kernel) = (0u64, true);
    let mut buf = Vec::new();
    while done < n {
        let left = n - done;
        if kernel {
            let (mut i, mut o) = ((off + done) as libc::loff_t, (off + done) as libc::loff_t);
            // SAFETY: valid fds and offset pointers; no buffers involved.
            let r = unsafe {
                libc::copy_file_range(
                    src.as_raw_fd(),
                    &mut i,
                    dst.as_raw_fd(),
                    &mut o,
                    left.min(1 << 30) as usize,
                    0,
                )
            };
            match r {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                r if r > 0 => done += r as u64,
                _ => match io::Error::last_os_error().raw_os_error() {
                    Some(libc::ENOSYS | libc::EXDEV | libc::EINVAL | libc::EOPNOTSUPP) => {
                        kernel = false
                    }
                    _ => return Err(io::Error::last_os_error()),
                },
            }
            continue;
        }
        buf.resize(left.min(1 << 20) as usize, 0);
        src.read_exact_at(&mut buf, off + done)?;
        dst.write_all_at(&buf, off + done)?;
        done += buf.len() as u64;
    }
    Ok(())
}
