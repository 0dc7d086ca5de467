//! Block devices under the file system: host files, in-memory copy-on-write
//! overlays, and raw export.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Granularity of the copy-on-write overlay and of sparse export.
pub const CHUNK: usize = 4096;

/// The storage under the file system: a fixed-size array of bytes, read and
/// written in whole blocks. Layers (copy-on-write overlays) implement this.
pub trait BlockDevice: Send {
    /// Total size in bytes.
    fn size(&self) -> u64;
    /// Reads `buf.len()` bytes at `offset`. Reads past the end fail.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Writes `data` at `offset`. Writes past the end fail.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Makes earlier writes durable (as far as the layer can).
    fn flush(&mut self) -> io::Result<()>;
    /// How many bytes from `offset` (at most `max`) are known to read as zeros without
    /// being stored (holes); 0 when unknown. Lets export skip them.
    fn zero_extent(&mut self, offset: u64, max: u64) -> io::Result<u64> {
        let _ = (offset, max);
        Ok(0)
    }
    /// Whether the host storage under the device is nearly full (see [`HostSpace`]):
    /// the Vfs then refuses new file data with ENOSPC, so that a guest filling a
    /// large sparse image stops before the host's disk does, with room left for
    /// the file system's own metadata.
    fn host_space_low(&mut self) -> bool {
        false
    }
}

/// What a device writing into a host file keeps free on the host's file system:
/// 1 GiB, or 5% of a smaller file system.
fn host_reserve(total: u64) -> u64 {
    (total / 20).min(1 << 30)
}

/// Watches the free space of the host file system holding an image file, looking
/// at most every 64 MiB written or every second.
#[derive(Debug)]
pub(crate) struct HostSpace {
    dir: PathBuf,
    checked: Option<std::time::Instant>,
    low: bool,
    /// Bytes written since the last look.
    since: u64,
}

impl HostSpace {
    /// Watches the file system holding `file`.
    pub fn new(file: &Path) -> HostSpace {
        let dir = match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        HostSpace {
            dir,
            checked: None,
            low: false,
            since: 0,
        }
    }

    /// Whether less than the reserve is left (an unreadable statvfs counts as enough).
    pub fn low(&mut self) -> bool {
        let fresh = self
            .checked
            .is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1));
        if !fresh {
            self.checked = Some(std::time::Instant::now());
            self.low =
                statvfs_space(&self.dir).is_some_and(|(avail, total)| avail < host_reserve(total));
        }
        self.low
    }

    /// Notes `n` bytes written: after 64 MiB the next [`HostSpace::low`] looks again.
    pub fn wrote(&mut self, n: usize) {
        self.since += n as u64;
        if self.since >= 64 << 20 {
            self.since = 0;
            self.checked = None;
        }
    }
}

/// (bytes available to unprivileged users, total bytes) of the file system at `dir`.
fn statvfs_space(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: a NUL-terminated path and a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: statvfs succeeded, so it filled `st`.
    let st = unsafe { st.assume_init() };
    let unit = st.f_frsize;
    Some((st.f_bavail * unit, st.f_blocks * unit))
}

fn out_of_range(offset: u64, len: usize, size: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("access of {len} bytes at {offset} beyond device end {size}"),
    )
}

fn check_range(offset: u64, len: usize, size: u64) -> io::Result<()> {
    match offset.checked_add(len as u64) {
        Some(end) if end <= size => Ok(()),
        _ => Err(out_of_range(offset, len, size)),
    }
}

/// A host file used as a raw block device.
pub struct FileDevice {
    file: File,
    path: PathBuf,
    size: u64,
    writable: bool,
    space: HostSpace,
}

impl FileDevice {
    /// Opens an existing image file; with `writable == false` it is never written.
    pub fn open(path: &Path, writable: bool) -> Result<FileDevice> {
        let io_err = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(writable)
            .open(path)
            .map_err(io_err)?;
        let size = file.metadata().map_err(io_err)?.len();
        Ok(FileDevice {
            file,
            path: path.to_path_buf(),
            size,
            writable,
            space: HostSpace::new(path),
        })
    }

    /// Creates (or truncates) a sparse file of `size` bytes.
    pub fn create(path: &Path, size: u64) -> Result<FileDevice> {
        let io_err = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(io_err)?;
        file.set_len(size).map_err(io_err)?;
        Ok(FileDevice {
            file,
            path: path.to_path_buf(),
            size,
            writable: true,
            space: HostSpace::new(path),
        })
    }

    /// The host path of the image (for error messages).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl BlockDevice for FileDevice {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        check_range(offset, buf.len(), self.size)?;
        self.file.read_exact_at(buf, offset)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        if !self.writable {
            return Err(io::Error::from_raw_os_error(libc::EROFS));
        }
        check_range(offset, data.len(), self.size)?;
        self.space.wrote(data.len());
        self.file.write_all_at(data, offset)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.writable {
            self.file.sync_data()?;
        }
        Ok(())
    }

    fn host_space_low(&mut self) -> bool {
        self.space.low()
    }
}

/// A copy-on-write overlay kept in memory over a read-only lower device:
/// reads fall through to `lower` for blocks never written. A throwaway container.
pub struct MemOverlay {
    lower: Box<dyn BlockDevice>,
    blocks: HashMap<u64, Box<[u8]>>,
}

impl MemOverlay {
    /// Wraps `lower`, which is only ever read from then on.
    pub fn new(lower: Box<dyn BlockDevice>) -> MemOverlay {
        MemOverlay {
            lower,
            blocks: HashMap::new(),
        }
    }

    /// How many 4 KiB blocks have been written (and are held in memory).
    pub fn dirty_blocks(&self) -> usize {
        self.blocks.len()
    }

    /// Reads one whole chunk into `out` (the last chunk may be short).
    fn chunk_len(&self, idx: u64) -> usize {
        let start = idx * CHUNK as u64;
        (self.lower.size() - start).min(CHUNK as u64) as usize
    }
}

impl BlockDevice for MemOverlay {
    fn size(&self) -> u64 {
        self.lower.size()
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        check_range(offset, buf.len(), self.size())?;
        let mut done = 0;
        while done < buf.len() {
            let pos = offset + done as u64;
            let idx = pos / CHUNK as u64;
            let within = (pos % CHUNK as u64) as usize;
            // Read runs of untouched chunks from the lower device in one go.
            let n = (CHUNK - within).min(buf.len() - done);
            match self.blocks.get(&idx) {
                Some(b) => buf[done..done + n].copy_from_slice(&b[within..within + n]),
                None => {
                    let mut end = done + n;
                    while end < buf.len() {
                        let next = (offset + end as u64) / CHUNK as u64;
                        if self.blocks.contains_key(&next) {
                            break;
                        }
                        end = (end + CHUNK).min(buf.len());
                    }
                    self.lower.read_at(pos, &mut buf[done..end])?;
                    done = end;
                    continue;
                }
            }
            done += n;
        }
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        check_range(offset, data.len(), self.size())?;
        let mut done = 0;
        while done < data.len() {
            let pos = offset + done as u64;
            let idx = pos / CHUNK as u64;
            let within = (pos % CHUNK as u64) as usize;
            let n = (CHUNK - within).min(data.len() - done);
            if !self.blocks.contains_key(&idx) {
                let len = self.chunk_len(idx);
                let mut b = vec![0u8; len].into_boxed_slice();
                // A partial write must keep the rest of the lower chunk.
                if n != len {
                    self.lower.read_at(idx * CHUNK as u64, &mut b)?;
                }
                self.blocks.insert(idx, b);
            }
            let b = self.blocks.get_mut(&idx).expect("inserted above");
            b[within..within + n].copy_from_slice(&data[done..done + n]);
            done += n;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Nothing to persist: the overlay is throwaway and the lower is read-only.
        Ok(())
    }
}

/// Copies every byte of `dev` (sparsely: zero blocks become holes) into a new raw image file.
pub fn export_raw(dev: &mut dyn BlockDevice, dest: &Path) -> Result<()> {
    let io_err = |source| Error::Io {
        path: dest.to_path_buf(),
        source,
    };
    let out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(dest)
        .map_err(io_err)?;
    let size = dev.size();
    let mut buf = vec![0u8; 256 * CHUNK];
    let mut pos = 0u64;
    while pos < size {
        let hole = dev.zero_extent(pos, size - pos).map_err(io_err)? / CHUNK as u64 * CHUNK as u64;
        if hole > 0 {
            pos += hole;
            continue;
        }
        let n = (size - pos).min(buf.len() as u64) as usize;
        dev.read_at(pos, &mut buf[..n]).map_err(io_err)?;
        for (i, chunk) in buf[..n].chunks(CHUNK).enumerate() {
            if chunk.iter().any(|&b| b != 0) {
                out.write_all_at(chunk, pos + (i * CHUNK) as u64)
                    .map_err(io_err)?;
            }
        }
        pos += n as u64;
    }
    out.set_len(size).map_err(io_err)?;
    out.sync_all().map_err(io_err)?;
    Ok(())
}
