//! The state behind the Vfs mutex: the open libext2fs handle and the device,
//! with small safe wrappers over the shim calls.

use crate::device::BlockDevice;
use crate::error::{Errno, Error, Result};
use crate::ffi::{self, DevSlot, Errcode, Fs, ShimStat};
use crate::types::{DirEntry, FileType, Ino, Timestamp};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::ffi::{CString, c_char, c_int, c_void};
use std::time::{SystemTime, UNIX_EPOCH};

/// Longest name a directory entry holds.
pub const NAME_MAX: usize = 255;

/// Converts a libext2fs error code into an Errno error.
pub fn err(code: Errcode) -> Error {
    // SAFETY: pure function of an integer.
    Error::Errno(Errno::from_raw(unsafe { ffi::shim_errno(code) }))
}

/// Ok if `code` is 0, else the matching Errno.
pub fn check(code: Errcode) -> Result<()> {
    if code == 0 { Ok(()) } else { Err(err(code)) }
}

/// The host clock, as ext4 stores it.
pub fn now() -> Timestamp {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => Timestamp {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos(),
        },
        Err(_) => Timestamp::default(),
    }
}

/// A directory-entry name as C wants it: no '/', no NUL, 1..=255 bytes.
pub fn cname(name: &[u8]) -> Result<CString> {
    if name.is_empty() {
        return Err(Errno::NoEnt.into());
    }
    if name.len() > NAME_MAX {
        return Err(Errno::NameTooLong.into());
    }
    if name.contains(&b'/') {
        return Err(Errno::Inval.into());
    }
    CString::new(name).map_err(|_| Errno::Inval.into())
}

/// File type from the S_IFMT bits of a mode.
pub fn kind_of_mode(mode: u32) -> Option<FileType> {
    Some(match mode & 0o170000 {
        0o100000 => FileType::Regular,
        0o040000 => FileType::Directory,
        0o120000 => FileType::Symlink,
        0o020000 => FileType::CharDevice,
        0o060000 => FileType::BlockDevice,
        0o010000 => FileType::Fifo,
        0o140000 => FileType::Socket,
        _ => return None,
    })
}

/// File type from the EXT2_FT_* code stored in directory entries.
pub fn kind_of_ftype(ft: c_int) -> Option<FileType> {
    Some(match ft {
        1 => FileType::Regular,
        2 => FileType::Directory,
        3 => FileType::CharDevice,
        4 => FileType::BlockDevice,
        5 => FileType::Fifo,
        6 => FileType::Socket,
        7 => FileType::Symlink,
        _ => return None,
    })
}

/// Everything the Vfs mutex protects.
pub struct Inner {
    /// Open libext2fs handle; null once closed.
    pub fs: Fs,
    /// The device the io_manager calls into (owned; from Box::into_raw).
    pub dev: *mut DevSlot,
    /// Whether mutations are allowed.
    pub writable: bool,
    /// Open handles per inode (see Vfs::open_ref).
    pub refs: HashMap<Ino, u32>,
    /// Unlinked inodes kept alive by handles.
    pub orphans: HashSet<Ino>,
    /// At most this many bytes of blocks in use, in all (see `Vfs::cap_size`).
    pub cap: Option<u64>,
    /// Directory entries looked up so far, misses too (see [`Inner::lookup`]).
    dentries: RefCell<Dentries>,
}

/// The entries of each directory that lookups found (`Some(ino)`) or did not
/// (`None`). Every command start walks the same few directories (`/`, `/usr/bin`,
/// the PATH); without this each walk reads their blocks through the layers again.
/// Kept exact by [`Inner::forget`] and [`Inner::forget_all`], which every change
/// of a directory's entries calls first.
#[derive(Default)]
struct Dentries {
    dirs: HashMap<Ino, HashMap<Box<[u8]>, Option<Ino>>>,
    /// Entries in `dirs`, all directories together.
    len: usize,
}

/// Entries remembered at most; past it the cache starts over.
const DENTRIES_MAX: usize = 8192;

// SAFETY: the raw pointers are only used by whoever holds the Vfs mutex, and
// libext2fs keeps no thread-local state for a file system.
unsafe impl Send for Inner {}

impl Inner {
    /// Boxes `dev` so libext2fs can hold a thin pointer to it.
    pub fn new(dev: Box<dyn BlockDevice>, writable: bool) -> Inner {
        Inner {
            fs: std::ptr::null_mut(),
            dev: Box::into_raw(Box::new(dev)),
            writable,
            refs: HashMap::new(),
            orphans: HashSet::new(),
            cap: None,
            dentries: RefCell::default(),
        }
    }

    /// Total and free bytes of the file system, as the superblock counts them.
    pub fn space(&self) -> (u64, u64) {
        let (mut total, mut free) = (0, 0);
        // SAFETY: fs open; out-pointers valid.
        unsafe { ffi::shim_space(self.fs, &mut total, &mut free) };
        (total, free)
    }

    /// The device pointer as the shim expects it.
    pub fn dev_ptr(&self) -> *mut c_void {
        self.dev as *mut c_void
    }

    /// Whether the host storage under the device is nearly full (see
    /// `BlockDevice::host_space_low`).
    pub fn host_space_low(&self) -> bool {
        if self.dev.is_null() {
            return false;
        }
        // SAFETY: `dev` is the live device slot, used only by whoever holds the Vfs
        // mutex, as the io_manager callbacks do.
        unsafe { (*self.dev).host_space_low() }
    }

    /// Fails with RoFs on a read-only image (checked before any mutation).
    pub fn need_rw(&self) -> Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(Errno::RoFs.into())
        }
    }

    /// Raw inode attributes.
    pub fn raw_stat(&self, ino: Ino) -> Result<ShimStat> {
        let mut st = ShimStat::default();
        // SAFETY: fs is open while Inner lives; st is a valid out-pointer.
        check(unsafe { ffi::shim_stat(self.fs, ino, &mut st) })?;
        if st.mode == 0 && st.nlink == 0 {
            // A free inode: a stale number from the caller.
            return Err(Errno::NoEnt.into());
        }
        Ok(st)
    }

    /// The type of inode `ino`.
    pub fn kind(&self, ino: Ino) -> Result<FileType> {
        kind_of_mode(self.raw_stat(ino)?.mode).ok_or(Errno::Io.into())
    }

    /// NotDir unless `ino` is a directory.
    pub fn need_dir(&self, ino: Ino) -> Result<()> {
        if self.kind(ino)? == FileType::Directory {
            Ok(())
        } else {
            Err(Errno::NotDir.into())
        }
    }

    /// One directory entry by name.
    pub fn lookup(&self, dir: Ino, name: &[u8]) -> Result<Ino> {
        if name.len() > NAME_MAX {
            return Err(Errno::NameTooLong.into());
        }
        if name.is_empty() || name.contains(&b'/') {
            return Err(Errno::NoEnt.into());
        }
        if let Some(known) = self
            .dentries
            .borrow()
            .dirs
            .get(&dir)
            .and_then(|d| d.get(name))
        {
            return known.ok_or(Errno::NoEnt.into());
        }
        self.need_dir(dir)?;
        let mut ino = 0;
        // SAFETY: name is valid for name.len() bytes; ino is an out-pointer.
        let found = match check(unsafe {
            ffi::shim_lookup(
                self.fs,
                dir,
                name.as_ptr() as *const c_char,
                name.len() as c_int,
                &mut ino,
            )
        }) {
            Ok(()) => Some(ino),
            Err(Error::Errno(Errno::NoEnt)) => None,
            Err(e) => return Err(e),
        };
        let mut cache = self.dentries.borrow_mut();
        if cache.len >= DENTRIES_MAX {
            *cache = Dentries::default();
        }
        cache.len += 1;
        cache
            .dirs
            .entry(dir)
            .or_default()
            .insert(name.into(), found);
        found.ok_or(Errno::NoEnt.into())
    }

    /// Drops what [`Inner::lookup`] remembers of `name` in `dir`: called before
    /// the entry is added, removed or repointed.
    pub fn forget(&self, dir: Ino, name: &[u8]) {
        let mut cache = self.dentries.borrow_mut();
        if cache
            .dirs
            .get_mut(&dir)
            .and_then(|d| d.remove(name))
            .is_some()
        {
            cache.len -= 1;
        }
    }

    /// Drops every remembered entry: called before a directory is removed or moved
    /// (its inode number may come back as another directory; its `..` changes).
    pub fn forget_all(&self) {
        *self.dentries.borrow_mut() = Dentries::default();
    }

    /// All entries of `dir`, in disk order.
    pub fn readdir(&self, dir: Ino) -> Result<Vec<DirEntry>> {
        self.need_dir(dir)?;
        unsafe extern "C" fn cb(
            ctx: *mut c_void,
            name: *const c_char,
            len: c_int,
            ino: u32,
            ft: c_int,
        ) -> c_int {
            // SAFETY: ctx is the Vec passed below; name holds len bytes.
            let out = unsafe { &mut *(ctx as *mut Vec<(Vec<u8>, Ino, c_int)>) };
            let name = unsafe { std::slice::from_raw_parts(name as *const u8, len as usize) };
            out.push((name.to_vec(), ino, ft));
            0
        }
        let mut raw: Vec<(Vec<u8>, Ino, c_int)> = Vec::new();
        // SAFETY: the callback only touches `raw`, which outlives the call.
        check(unsafe { ffi::shim_readdir(self.fs, dir, cb, &mut raw as *mut _ as *mut c_void) })?;
        let mut out = Vec::with_capacity(raw.len());
        for (name, ino, ft) in raw {
            let kind = match kind_of_ftype(ft) {
                Some(k) => k,
                // No filetype feature: ask the inode.
                None => self.kind(ino)?,
            };
            out.push(DirEntry { name, ino, kind });
        }
        Ok(out)
    }

    /// The target of a symlink.
    pub fn readlink(&self, ino: Ino) -> Result<Vec<u8>> {
        let st = self.raw_stat(ino)?;
        if kind_of_mode(st.mode) != Some(FileType::Symlink) {
            return Err(Errno::Inval.into());
        }
        let mut buf = vec![0u8; st.size.min(1 << 20) as usize];
        let mut len = 0u32;
        // SAFETY: buf holds buf.len() bytes.
        check(unsafe {
            ffi::shim_readlink(
                self.fs,
                ino,
                buf.as_mut_ptr() as *mut c_char,
                buf.len() as u32,
                &mut len,
            )
        })?;
        buf.truncate(len as usize);
        Ok(buf)
    }

    /// Adds `delta` to the link count, returning the new count.
    pub fn add_links(&self, ino: Ino, delta: i32) -> Result<u32> {
        let t = now();
        let mut n = 0;
        // SAFETY: out-pointer valid.
        check(unsafe { ffi::shim_add_links(self.fs, ino, delta, t.sec, t.nsec, &mut n) })?;
        Ok(n)
    }

    /// Stamps mtime and ctime of a directory whose entries changed.
    pub fn touch_dir(&self, dir: Ino) -> Result<()> {
        let t = now();
        // SAFETY: plain values.
        check(unsafe {
            ffi::shim_set_times(
                self.fs,
                dir,
                ffi::T_MTIME | ffi::T_CTIME,
                0,
                0,
                t.sec,
                t.nsec,
                t.sec,
                t.nsec,
            )
        })
    }

    /// Frees `ino` now, or later if a handle still holds it.
    pub fn release(&mut self, ino: Ino) -> Result<()> {
        if self.refs.get(&ino).copied().unwrap_or(0) > 0 {
            self.orphans.insert(ino);
            return Ok(());
        }
        self.orphans.remove(&ino);
        // SAFETY: plain values.
        check(unsafe { ffi::shim_free_inode(self.fs, ino, now().sec as u32) })
    }

    /// Frees every orphan no handle holds (all of them when `all`).
    pub fn reap_orphans(&mut self, all: bool) -> Result<()> {
        let list: Vec<Ino> = self.orphans.iter().copied().collect();
        let mut first_err = Ok(());
        for ino in list {
            if all || self.refs.get(&ino).copied().unwrap_or(0) == 0 {
                self.orphans.remove(&ino);
                // SAFETY: plain values.
                let r = check(unsafe { ffi::shim_free_inode(self.fs, ino, now().sec as u32) });
                if first_err.is_ok() {
                    first_err = r;
                }
            }
        }
        first_err
    }

    /// Chains the held orphans into the superblock's orphan list (empty when none).
    fn write_orphan_list(&self) -> Result<()> {
        let mut list: Vec<Ino> = self.orphans.iter().copied().collect();
        list.sort_unstable();
        // SAFETY: list holds list.len() inode numbers.
        check(unsafe { ffi::shim_set_orphans(self.fs, list.as_ptr(), list.len() as u32) })
    }

    /// Writes all metadata back and flushes the device.
    pub fn sync(&mut self) -> Result<()> {
        if self.fs.is_null() || !self.writable {
            return Ok(());
        }
        self.reap_orphans(false)?;
        self.write_orphan_list()?;
        // SAFETY: fs open.
        check(unsafe { ffi::shim_flush(self.fs) })
    }

    /// Frees all orphans, closes libext2fs and hands the device back.
    pub fn shutdown(&mut self) -> Result<Option<Box<dyn BlockDevice>>> {
        let mut res = Ok(());
        if !self.fs.is_null() {
            if self.writable {
                res = self
                    .reap_orphans(true)
                    .and_then(|()| self.write_orphan_list());
            }
            // SAFETY: fs open; it is nulled right after, so closed once.
            let rc = unsafe { ffi::shim_close(self.fs) };
            self.fs = std::ptr::null_mut();
            if res.is_ok() {
                res = check(rc);
            }
        }
        let dev = if self.dev.is_null() {
            None
        } else {
            // SAFETY: dev came from Box::into_raw and libext2fs no longer uses it.
            let slot = unsafe { Box::from_raw(self.dev) };
            self.dev = std::ptr::null_mut();
            Some(*slot)
        };
        res.map(|()| dev)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
