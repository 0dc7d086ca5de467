//! The preview1 ABI: errno numbers, enum tags, record layouts, and bounds-checked
//! access to guest memory. Offsets follow `wasi_snapshot_preview1.witx` for wasm32.

/// A WASI errno (`$errno`, u16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub u16);

#[allow(missing_docs)]
impl Errno {
    pub const SUCCESS: Errno = Errno(0);
    pub const ACCES: Errno = Errno(2);
    pub const AGAIN: Errno = Errno(6);
    pub const BADF: Errno = Errno(8);
    pub const NOTTY: Errno = Errno(59);
    pub const NXIO: Errno = Errno(60);
    pub const EXIST: Errno = Errno(20);
    pub const FAULT: Errno = Errno(21);
    pub const FBIG: Errno = Errno(22);
    pub const INTR: Errno = Errno(27);
    pub const INVAL: Errno = Errno(28);
    pub const IO: Errno = Errno(29);
    pub const ISDIR: Errno = Errno(31);
    pub const LOOP: Errno = Errno(32);
    pub const MLINK: Errno = Errno(34);
    pub const NAMETOOLONG: Errno = Errno(37);
    pub const NOENT: Errno = Errno(44);
    pub const NOSPC: Errno = Errno(51);
    pub const NOSYS: Errno = Errno(52);
    pub const NOTDIR: Errno = Errno(54);
    pub const NOTEMPTY: Errno = Errno(55);
    pub const NOTSOCK: Errno = Errno(57);
    pub const NOTSUP: Errno = Errno(58);
    pub const PERM: Errno = Errno(63);
    pub const PIPE: Errno = Errno(64);
    pub const ROFS: Errno = Errno(69);
    pub const SPIPE: Errno = Errno(70);
    pub const XDEV: Errno = Errno(75);
}

impl From<fsimage::Errno> for Errno {
    fn from(e: fsimage::Errno) -> Errno {
        use fsimage::Errno as E;
        match e {
            E::Perm => Errno::PERM,
            E::NoEnt => Errno::NOENT,
            E::Io => Errno::IO,
            E::BadF => Errno::BADF,
            E::Acces => Errno::ACCES,
            E::Exist => Errno::EXIST,
            E::XDev => Errno::XDEV,
            E::NotDir => Errno::NOTDIR,
            E::IsDir => Errno::ISDIR,
            E::Inval => Errno::INVAL,
            E::FBig => Errno::FBIG,
            E::NoSpc => Errno::NOSPC,
            E::RoFs => Errno::ROFS,
            E::MLink => Errno::MLINK,
            E::NameTooLong => Errno::NAMETOOLONG,
            E::NotEmpty => Errno::NOTEMPTY,
            E::Loop => Errno::LOOP,
            E::NotSup => Errno::NOTSUP,
        }
    }
}

impl From<fsimage::Error> for Errno {
    fn from(e: fsimage::Error) -> Errno {
        e.errno().into()
    }
}

/// `$filetype` tags.
pub mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// The `$filetype` of an inode kind.
pub fn filetype_of(kind: fsimage::FileType) -> u8 {
    use fsimage::FileType as F;
    match kind {
        F::Regular => filetype::REGULAR_FILE,
        F::Directory => filetype::DIRECTORY,
        F::Symlink => filetype::SYMBOLIC_LINK,
        F::CharDevice => filetype::CHARACTER_DEVICE,
        F::BlockDevice => filetype::BLOCK_DEVICE,
        F::Socket => filetype::SOCKET_STREAM,
        F::Fifo => filetype::UNKNOWN,
    }
}

/// `$rights`: what a descriptor may be used for, as `fd_fdstat_get` reports it.
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    /// What an open file (or stream) may do, before its open mode takes away
    /// FD_READ or FD_WRITE.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
    /// What a directory may do: path calls and listing, no seek, no resize
    /// (wasmtime's set, which the WASI testsuite checks preopens against).
    pub const DIR: u64 = PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES;
}

/// `$fdflags`.
pub const FDFLAGS_APPEND: u16 = 1;
/// `$fdflags`: the synchronous-write flags (dsync, rsync, sync). They are kept and
/// reported back, nothing more: fd_sync has no work of its own in wsh either (the
/// image reaches its disk file when the container's overlay is flushed).
pub const FDFLAGS_SYNCS: u16 = 2 | 8 | 16;
/// `$oflags`.
pub mod oflags {
    pub const CREAT: u16 = 1;
    pub const DIRECTORY: u16 = 2;
    pub const EXCL: u16 = 4;
    pub const TRUNC: u16 = 8;
}
/// `$lookupflags::symlink_follow`.
pub const LOOKUP_SYMLINK_FOLLOW: u32 = 1;
/// `$fstflags`.
pub mod fstflags {
    pub const ATIM: u16 = 1;
    pub const ATIM_NOW: u16 = 2;
    pub const MTIM: u16 = 4;
    pub const MTIM_NOW: u16 = 8;
}

/// Guest linear memory, every access bounds-checked (a bad pointer is EFAULT, never UB).
pub struct Mem<'a>(pub &'a mut [u8]);

impl Mem<'_> {
    /// `len` bytes at `ptr`.
    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::FAULT)?;
        self.0.get(start..end).ok_or(Errno::FAULT)
    }

    /// `len` writable bytes at `ptr`.
    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::FAULT)?;
        self.0.get_mut(start..end).ok_or(Errno::FAULT)
    }

    /// Copies `data` to `ptr`.
    pub fn write(&mut self, ptr: u32, data: &[u8]) -> Result<(), Errno> {
        self.slice_mut(ptr, data.len() as u32)?
            .copy_from_slice(data);
        Ok(())
    }

    pub fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        Ok(u32::from_le_bytes(self.slice(ptr, 4)?.try_into().unwrap()))
    }

    pub fn read_u64(&self, ptr: u32) -> Result<u64, Errno> {
        Ok(u64::from_le_bytes(self.slice(ptr, 8)?.try_into().unwrap()))
    }

    pub fn read_u16(&self, ptr: u32) -> Result<u16, Errno> {
        Ok(u16::from_le_bytes(self.slice(ptr, 2)?.try_into().unwrap()))
    }

    pub fn read_u8(&self, ptr: u32) -> Result<u8, Errno> {
        Ok(self.slice(ptr, 1)?[0])
    }

    pub fn write_u8(&mut self, ptr: u32, v: u8) -> Result<(), Errno> {
        self.write(ptr, &[v])
    }

    pub fn write_u16(&mut self, ptr: u32, v: u16) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    pub fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    pub fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// A path argument: bytes, without interior NULs.
    pub fn path(&self, ptr: u32, len: u32) -> Result<Vec<u8>, Errno> {
        let p = self.slice(ptr, len)?;
        if p.contains(&0) {
            return Err(Errno::INVAL);
        }
        Ok(p.to_vec())
    }

    /// A path a preview1 path call names relative to its directory descriptor:
    /// an absolute one is EPERM, as wasmtime answers (WASI paths never start at
    /// `/`; wasi-libc makes every path relative to a preopen first).
    pub fn rel_path(&self, ptr: u32, len: u32) -> Result<Vec<u8>, Errno> {
        let p = self.path(ptr, len)?;
        if p.starts_with(b"/") {
            return Err(Errno::PERM);
        }
        Ok(p)
    }

    /// The (ptr, len) pairs of an iovec array.
    pub fn iovecs(&self, iovs: u32, count: u32) -> Result<Vec<(u32, u32)>, Errno> {
        (0..count)
            .map(|i| {
                let at = iovs
                    .checked_add(i.checked_mul(8).ok_or(Errno::FAULT)?)
                    .ok_or(Errno::FAULT)?;
                Ok((self.read_u32(at)?, self.read_u32(at + 4)?))
            })
            .collect()
    }

    /// Concatenates the buffers of a ciovec array (what a guest writes).
    pub fn gather(&self, iovs: u32, count: u32) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        for (ptr, len) in self.iovecs(iovs, count)? {
            out.extend_from_slice(self.slice(ptr, len)?);
        }
        Ok(out)
    }

    /// Copies `data` into the buffers of an iovec array, in order; returns bytes copied.
    pub fn scatter(&mut self, iovs: &[(u32, u32)], mut data: &[u8]) -> Result<usize, Errno> {
        let mut total = 0;
        for &(ptr, len) in iovs {
            if data.is_empty() {
                break;
            }
            let n = (len as usize).min(data.len());
            self.write(ptr, &data[..n])?;
            data = &data[n..];
            total += n;
        }
        Ok(total)
    }
}

/// Writes a `$filestat` record (64 bytes) at `ptr`.
pub fn write_filestat(mem: &mut Mem, ptr: u32, st: &FileStat) -> Result<(), Errno> {
    let mut rec = [0u8; 64];
    rec[0..8].copy_from_slice(&st.dev.to_le_bytes());
    rec[8..16].copy_from_slice(&st.ino.to_le_bytes());
    rec[16] = st.filetype;
    rec[24..32].copy_from_slice(&st.nlink.to_le_bytes());
    rec[32..40].copy_from_slice(&st.size.to_le_bytes());
    rec[40..48].copy_from_slice(&st.atim.to_le_bytes());
    rec[48..56].copy_from_slice(&st.mtim.to_le_bytes());
    rec[56..64].copy_from_slice(&st.ctim.to_le_bytes());
    mem.write(ptr, &rec)
}

/// The fields of a `$filestat`.
#[derive(Default)]
pub struct FileStat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

/// Nanoseconds since the epoch, as `$timestamp` (negative times clamp to 0).
pub fn timestamp(t: fsimage::Timestamp) -> u64 {
    if t.sec < 0 {
        0
    } else {
        (t.sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(t.nsec as u64)
    }
}

/// `$timestamp` back to seconds + nanoseconds.
pub fn from_timestamp(ns: u64) -> fsimage::Timestamp {
    fsimage::Timestamp {
        sec: (ns / 1_000_000_000) as i64,
        nsec: (ns % 1_000_000_000) as u32,
    }
}

impl FileStat {
    /// The `$filestat` of an inode.
    pub fn of(st: &fsimage::Stat) -> FileStat {
        FileStat {
            dev: 1,
            ino: st.ino as u64,
            filetype: filetype_of(st.kind),
            nlink: st.nlink as u64,
            size: st.size,
            atim: timestamp(st.atime),
            mtim: timestamp(st.mtime),
            ctim: timestamp(st.ctime),
        }
    }
}
