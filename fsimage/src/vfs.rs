//! The Vfs: POSIX-like operations on an ext4 image, one mutex around libext2fs.

use crate::device::BlockDevice;
use crate::error::{Errno, Error, Result};
use crate::ffi;
use crate::inner::{Inner, check, cname, err, kind_of_mode, now};
use crate::path::ROOT;
use crate::types::{DirEntry, FileType, Ino, SetTime, Stat, Timestamp};
use std::ffi::{CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// A shim constructor of a new inode (`shim_create`, `shim_mkdir`, `shim_mkfifo`).
type MakeInode =
    unsafe extern "C" fn(ffi::Fs, u32, *const c_char, u32, i64, u32, *mut u32) -> ffi::Errcode;

/// Bytes of image per inode made by mkfs (ext4's "small" ratio is 4096, default 16384).
const INODE_RATIO: u64 = 8192;
/// Largest chunk handed to libext2fs in one call (its counts are 32-bit).
const IO_CHUNK: usize = 1 << 30;
/// Longest symlink target (one 4 KiB block, minus the NUL).
const SYMLINK_MAX: usize = 4095;

/// An ext4 file system on a block device, safe to share between threads.
/// Every method takes `&self` (internally one mutex around libext2fs).
pub struct Vfs {
    inner: Mutex<Inner>,
}

fn random16() -> [u8; 16] {
    let mut b = [0u8; 16];
    // SAFETY: b is a valid 16-byte buffer.
    let n = unsafe { libc::getrandom(b.as_mut_ptr() as *mut c_void, 16, 0) };
    if n != 16 {
        // No entropy source: a clock-derived value is still unique enough.
        let t = now();
        b[..8].copy_from_slice(&t.sec.to_le_bytes());
        b[8..12].copy_from_slice(&t.nsec.to_le_bytes());
        b[12..].copy_from_slice(&std::process::id().to_le_bytes());
    }
    b
}

fn ts(sec: i64, nsec: u32) -> Timestamp {
    Timestamp { sec, nsec }
}

impl Vfs {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere leaves libext2fs state as consistent as any error would.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes a fresh empty ext4 file system (4 KiB blocks, extents, 64bit, dir_index,
    /// metadata_csum, ...) on `dev`, root dir 0755 and lost+found, and opens it read-write.
    pub fn mkfs(dev: Box<dyn BlockDevice>, label: &str) -> Result<Vfs> {
        let name = PathBuf::from(format!("<mkfs {label}>"));
        let size = dev.size();
        let blocks = size / 4096;
        if blocks < 256 {
            return Err(Error::Corrupt {
                path: name,
                msg: format!("device of {size} bytes is too small for ext4 (need 1 MiB)"),
            });
        }
        let inodes = (size / INODE_RATIO).clamp(256, u32::MAX as u64 / 2) as u32;
        let mut inner = Inner::new(dev, true);
        let clabel = CString::new(label.replace('\0', "")).unwrap_or_default();
        let (uuid, seed) = (random16(), random16());
        let mut fs = std::ptr::null_mut();
        // SAFETY: the device slot outlives fs (both live in Inner); out-pointer valid.
        let rc = unsafe {
            ffi::shim_mkfs(
                inner.dev_ptr(),
                blocks,
                inodes,
                clabel.as_ptr(),
                uuid.as_ptr(),
                seed.as_ptr(),
                now().sec as u32,
                &mut fs,
            )
        };
        if rc != 0 {
            return Err(Error::Corrupt {
                path: name,
                msg: format!("mkfs failed: {}", ffi::strerror(rc)),
            });
        }
        inner.fs = fs;
        let vfs = Vfs {
            inner: Mutex::new(inner),
        };
        let t = now();
        for ino in [ROOT, vfs.lookup(ROOT, b"lost+found")?] {
            vfs.set_times(ino, Some(SetTime::At(t)), Some(SetTime::At(t)))?;
        }
        vfs.set_mode(vfs.lookup(ROOT, b"lost+found")?, 0o700)?;
        vfs.sync()?;
        Ok(vfs)
    }

    /// Opens an existing ext4 file system (e.g. made by `mkfs.ext4 -d`). `name` is used in errors.
    pub fn open(dev: Box<dyn BlockDevice>, name: &Path, writable: bool) -> Result<Vfs> {
        let dev_size = dev.size();
        let mut inner = Inner::new(dev, writable);
        let corrupt = |msg: String| Error::Corrupt {
            path: name.to_path_buf(),
            msg,
        };
        if dev_size < 2048 {
            return Err(corrupt(format!("only {dev_size} bytes, no superblock")));
        }
        let mut fs = std::ptr::null_mut();
        // SAFETY: the device slot outlives fs; out-pointer valid.
        let rc = unsafe { ffi::shim_open(inner.dev_ptr(), writable as c_int, &mut fs) };
        if rc != 0 {
            return Err(corrupt(ffi::strerror(rc)));
        }
        inner.fs = fs;
        // SAFETY: fs open.
        let claimed = unsafe { ffi::shim_fs_bytes(fs) };
        if claimed > dev_size {
            // Close without writing anything back, even if writable.
            inner.writable = false;
            return Err(corrupt(format!(
                "truncated: file system needs {claimed} bytes, image has {dev_size}"
            )));
        }
        if writable {
            // SAFETY: fs open read-write.
            let rc = unsafe { ffi::shim_release_orphans(fs, now().sec as u32) };
            if rc != 0 {
                inner.writable = false;
                return Err(corrupt(format!("orphan list: {}", ffi::strerror(rc))));
            }
        }
        let vfs = Vfs {
            inner: Mutex::new(inner),
        };
        // A sanity check that the root directory is readable. (The guard must be gone
        // before the body locks again: an `if let` keeps its scrutinee's temporaries.)
        let root = vfs.lock().need_dir(ROOT);
        if let Err(e) = root {
            vfs.lock().writable = false;
            return Err(corrupt(format!("root directory unreadable: {e}")));
        }
        Ok(vfs)
    }

    /// Writes everything back (inode/block bitmaps, superblock, group descriptors) and
    /// flushes the device; after this the device content passes `e2fsck -fn`.
    pub fn sync(&self) -> Result<()> {
        self.lock().sync()
    }

    /// Syncs, then runs `f` with every other operation on this file system held off
    /// until it returns: the device's files are consistent throughout (for copying them).
    pub fn frozen<R>(&self, f: impl FnOnce() -> R) -> Result<R> {
        let mut inner = self.lock();
        inner.sync()?;
        Ok(f())
    }

    /// Syncs, closes libext2fs and gives the device back (for export or sealing).
    pub fn into_device(self) -> Result<Box<dyn BlockDevice>> {
        let mut inner = self.lock();
        inner.sync()?;
        inner.shutdown()?.ok_or(Error::Errno(Errno::Io))
    }

    /// Whether the image was opened for writing.
    pub fn is_writable(&self) -> bool {
        self.lock().writable
    }

    /// The root directory's inode number (always 2 in ext4).
    pub fn root(&self) -> Ino {
        ROOT
    }

    /// One directory entry. `name` is a single component (no '/'); "." and ".." work.
    pub fn lookup(&self, dir: Ino, name: &[u8]) -> Result<Ino> {
        self.lock().lookup(dir, name)
    }

    /// Walks `path` (absolute => from root, else from `base`), following symlinks in
    /// intermediate components always and in the last one iff `follow`. ".." at the root
    /// stays at the root; absolute symlink targets are resolved from the image root, never
    /// the host. More than 40 symlinks => Errno::Loop. Empty path => NoEnt.
    pub fn resolve(&self, base: Ino, path: &[u8], follow: bool) -> Result<Ino> {
        self.lock().resolve(base, path, follow)
    }

    /// Like resolve but stops before the last component: returns (parent dir ino, last name).
    /// Trailing slashes are ignored; a path of "/" gives (root, ".").
    pub fn resolve_parent(&self, base: Ino, path: &[u8]) -> Result<(Ino, Vec<u8>)> {
        self.lock().resolve_parent(base, path)
    }

    /// Attributes of `ino`.
    pub fn stat(&self, ino: Ino) -> Result<Stat> {
        let st = self.lock().raw_stat(ino)?;
        Ok(Stat {
            ino,
            kind: kind_of_mode(st.mode).ok_or(Errno::Io)?,
            mode: st.mode & 0o7777,
            uid: st.uid,
            gid: st.gid,
            nlink: st.nlink,
            size: st.size,
            blocks: st.blocks,
            atime: ts(st.atime, st.atime_ns),
            mtime: ts(st.mtime, st.mtime_ns),
            ctime: ts(st.ctime, st.ctime_ns),
        })
    }

    /// Reads at `offset`; returns bytes read (0 at/after EOF). Holes read as zeros.
    pub fn read(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let inner = self.lock();
        let st = inner.raw_stat(ino)?;
        match kind_of_mode(st.mode) {
            Some(FileType::Regular) | Some(FileType::Symlink) => {}
            Some(FileType::Directory) => return Err(Errno::IsDir.into()),
            _ => return Err(Errno::Inval.into()),
        }
        if offset >= st.size || buf.is_empty() {
            return Ok(0);
        }
        let want = ((st.size - offset) as usize).min(buf.len());
        let mut done = 0;
        while done < want {
            let n = (want - done).min(IO_CHUNK);
            let mut got = 0u32;
            // SAFETY: buf[done..done+n] is valid writable memory.
            check(unsafe {
                ffi::shim_read(
                    inner.fs,
                    ino,
                    offset + done as u64,
                    buf[done..].as_mut_ptr() as *mut c_void,
                    n as u32,
                    &mut got,
                )
            })?;
            if got == 0 {
                break;
            }
            done += got as usize;
        }
        Ok(done)
    }

    /// Writes at `offset`, extending the file; updates mtime/ctime. When the disk fills
    /// part way, returns the bytes stored (as write(2) does); NoSpc when none fit.
    pub fn write(&self, ino: Ino, offset: u64, data: &[u8]) -> Result<usize> {
        let inner = self.lock();
        inner.need_rw()?;
        match inner.kind(ino)? {
            FileType::Regular => {}
            FileType::Directory => return Err(Errno::IsDir.into()),
            _ => return Err(Errno::Inval.into()),
        }
        offset.checked_add(data.len() as u64).ok_or(Errno::FBig)?;
        // New data stops while the host's disk is nearly full, before the image's
        // own metadata could fail to be written.
        if inner.host_space_low() {
            return Err(Errno::NoSpc.into());
        }
        let data = match inner.cap {
            Some(cap) => {
                let (total, free) = inner.space();
                let room = cap.saturating_sub(total - free.min(total));
                if room == 0 && !data.is_empty() {
                    return Err(Errno::NoSpc.into());
                }
                &data[..data.len().min(room.try_into().unwrap_or(usize::MAX))]
            }
            None => data,
        };
        let mut done = 0;
        while done < data.len() {
            let n = (data.len() - done).min(IO_CHUNK);
            let mut wrote = 0u32;
            let t = now();
            // SAFETY: data[done..done+n] is valid memory.
            let r = check(unsafe {
                ffi::shim_write(
                    inner.fs,
                    ino,
                    offset + done as u64,
                    data[done..].as_ptr() as *const c_void,
                    n as u32,
                    t.sec,
                    t.nsec,
                    &mut wrote,
                )
            });
            done += wrote as usize;
            match r {
                // The stored prefix is in the file (size included): report it, and let
                // the caller's next write meet the error, as POSIX short writes do.
                Err(_) if done > 0 => return Ok(done),
                Err(e) => return Err(e),
                Ok(()) if wrote == 0 => return Err(Errno::NoSpc.into()),
                Ok(()) => {}
            }
        }
        Ok(done)
    }

    /// Sets the file size (shrinking frees blocks; growing makes a hole).
    pub fn truncate(&self, ino: Ino, size: u64) -> Result<()> {
        let inner = self.lock();
        inner.need_rw()?;
        match inner.kind(ino)? {
            FileType::Regular => {}
            FileType::Directory => return Err(Errno::IsDir.into()),
            _ => return Err(Errno::Inval.into()),
        }
        let t = now();
        // SAFETY: plain values.
        check(unsafe { ffi::shim_truncate(inner.fs, ino, size, t.sec, t.nsec) })
    }

    /// Checks `name` is free in `dir` for a new entry, returning it as a C string.
    fn new_entry(inner: &Inner, dir: Ino, name: &[u8]) -> Result<CString> {
        inner.need_rw()?;
        let c = cname(name)?;
        inner.need_dir(dir)?;
        if name == b"." || name == b".." {
            return Err(Errno::Exist.into());
        }
        match inner.lookup(dir, name) {
            Ok(_) => Err(Errno::Exist.into()),
            Err(Error::Errno(Errno::NoEnt)) => Ok(c),
            Err(e) => Err(e),
        }
    }

    /// New empty regular file `name` in `dir` with permission bits `mode`; Exist if present.
    pub fn create(&self, dir: Ino, name: &[u8], mode: u32) -> Result<Ino> {
        self.new_inode(dir, name, mode, ffi::shim_create)
    }

    /// New directory `name` in `dir` with permission bits `mode` (parent's link count + 1).
    pub fn mkdir(&self, dir: Ino, name: &[u8], mode: u32) -> Result<Ino> {
        self.new_inode(dir, name, mode, ffi::shim_mkdir)
    }

    /// New named pipe (FIFO) `name` in `dir` with permission bits `mode`; Exist if present.
    pub fn mkfifo(&self, dir: Ino, name: &[u8], mode: u32) -> Result<Ino> {
        self.new_inode(dir, name, mode, ffi::shim_mkfifo)
    }

    /// Makes a new inode of the kind `make` creates (file or directory) as `name` in `dir`.
    fn new_inode(&self, dir: Ino, name: &[u8], mode: u32, make: MakeInode) -> Result<Ino> {
        let inner = self.lock();
        let c = Self::new_entry(&inner, dir, name)?;
        inner.forget(dir, name);
        let t = now();
        let mut ino = 0;
        // SAFETY: `make` is one of the shim's constructors; c is NUL-terminated;
        // the out-pointer is valid.
        check(unsafe {
            make(
                inner.fs,
                dir,
                c.as_ptr(),
                mode & 0o7777,
                t.sec,
                t.nsec,
                &mut ino,
            )
        })?;
        inner.touch_dir(dir)?;
        Ok(ino)
    }

    /// New symbolic link `name` in `dir` pointing at `target` (stored verbatim).
    pub fn symlink(&self, dir: Ino, name: &[u8], target: &[u8]) -> Result<Ino> {
        let inner = self.lock();
        let c = Self::new_entry(&inner, dir, name)?;
        if target.is_empty() {
            return Err(Errno::NoEnt.into());
        }
        if target.len() > SYMLINK_MAX {
            return Err(Errno::NameTooLong.into());
        }
        let ct = CString::new(target).map_err(|_| Errno::Inval)?;
        inner.forget(dir, name);
        let t = now();
        let mut ino = 0;
        // SAFETY: both strings NUL-terminated; out-pointer valid.
        check(unsafe {
            ffi::shim_symlink(
                inner.fs,
                dir,
                c.as_ptr(),
                ct.as_ptr(),
                t.sec,
                t.nsec,
                &mut ino,
            )
        })?;
        inner.touch_dir(dir)?;
        Ok(ino)
    }

    /// Hard link: a new name for `ino` (not a directory).
    pub fn link(&self, ino: Ino, dir: Ino, name: &[u8]) -> Result<()> {
        let inner = self.lock();
        let st = inner.raw_stat(ino)?;
        if kind_of_mode(st.mode) == Some(FileType::Directory) {
            return Err(Errno::Perm.into());
        }
        let c = Self::new_entry(&inner, dir, name)?;
        if st.nlink >= 65000 {
            return Err(Errno::MLink.into());
        }
        // SAFETY: plain values and a NUL-terminated name.
        let ft = unsafe { ffi::shim_ftype_of_mode(st.mode) };
        inner.forget(dir, name);
        check(unsafe { ffi::shim_link(inner.fs, dir, c.as_ptr(), ino, ft) })?;
        inner.add_links(ino, 1)?;
        inner.touch_dir(dir)
    }

    /// Removes a non-directory entry (IsDir for a directory). The inode is freed when its
    /// link count reaches 0 and no handle holds it open (see `open_ref`).
    pub fn unlink(&self, dir: Ino, name: &[u8]) -> Result<()> {
        let mut inner = self.lock();
        inner.need_rw()?;
        if name == b"." || name == b".." {
            return Err(Errno::IsDir.into());
        }
        let c = cname(name)?;
        let ino = inner.lookup(dir, name)?;
        if inner.kind(ino)? == FileType::Directory {
            return Err(Errno::IsDir.into());
        }
        inner.forget(dir, name);
        // SAFETY: NUL-terminated name.
        check(unsafe { ffi::shim_unlink(inner.fs, dir, c.as_ptr(), ino) })?;
        inner.touch_dir(dir)?;
        if inner.add_links(ino, -1)? == 0 {
            inner.release(ino)?;
        }
        Ok(())
    }

    /// True if directory `dir` holds nothing but "." and "..".
    fn dir_is_empty(inner: &Inner, dir: Ino) -> Result<bool> {
        Ok(inner
            .readdir(dir)?
            .iter()
            .all(|e| e.name == b"." || e.name == b".."))
    }

    /// Removes an empty directory (NotEmpty, NotDir as POSIX).
    pub fn rmdir(&self, dir: Ino, name: &[u8]) -> Result<()> {
        let mut inner = self.lock();
        inner.need_rw()?;
        match name {
            b"." => return Err(Errno::Inval.into()),
            b".." => return Err(Errno::NotEmpty.into()),
            _ => {}
        }
        let c = cname(name)?;
        let ino = inner.lookup(dir, name)?;
        if ino == ROOT {
            return Err(Errno::Perm.into());
        }
        inner.need_dir(ino)?;
        if !Self::dir_is_empty(&inner, ino)? {
            return Err(Errno::NotEmpty.into());
        }
        inner.forget_all();
        // SAFETY: NUL-terminated name.
        check(unsafe { ffi::shim_unlink(inner.fs, dir, c.as_ptr(), ino) })?;
        inner.add_links(dir, -1)?;
        inner.touch_dir(dir)?;
        inner.add_links(ino, -2)?;
        inner.release(ino)
    }

    /// POSIX rename(2) semantics: replaces an existing target (file over file, empty dir over
    /// dir), fixes the moved directory's "..", refuses moving a dir into itself (Inval).
    pub fn rename(&self, from_dir: Ino, from: &[u8], to_dir: Ino, to: &[u8]) -> Result<()> {
        let mut inner = self.lock();
        inner.need_rw()?;
        for n in [from, to] {
            if n == b"." || n == b".." {
                return Err(Errno::Inval.into());
            }
        }
        let cfrom = cname(from)?;
        let cto = cname(to)?;
        inner.need_dir(to_dir)?;
        let src = inner.lookup(from_dir, from)?;
        let src_st = inner.raw_stat(src)?;
        let src_is_dir = kind_of_mode(src_st.mode) == Some(FileType::Directory);
        // SAFETY: pure function.
        let ft = unsafe { ffi::shim_ftype_of_mode(src_st.mode) };
        let dst = match inner.lookup(to_dir, to) {
            Ok(i) => Some(i),
            Err(Error::Errno(Errno::NoEnt)) => None,
            Err(e) => return Err(e),
        };
        if dst == Some(src) {
            // Two names of one inode: POSIX says do nothing.
            return Ok(());
        }
        if src_is_dir && inner.is_ancestor(src, to_dir)? {
            return Err(Errno::Inval.into());
        }
        let mut dst_is_dir = false;
        if let Some(d) = dst {
            dst_is_dir = inner.kind(d)? == FileType::Directory;
            match (src_is_dir, dst_is_dir) {
                (true, false) => return Err(Errno::NotDir.into()),
                (false, true) => return Err(Errno::IsDir.into()),
                (true, true) if !Self::dir_is_empty(&inner, d)? => {
                    return Err(Errno::NotEmpty.into());
                }
                _ => {}
            }
        }
        if src_is_dir || dst_is_dir {
            inner.forget_all();
        } else {
            inner.forget(from_dir, from);
            inner.forget(to_dir, to);
        }
        let fs = inner.fs;
        match dst {
            // Repoint the existing entry: needs no new directory space.
            Some(_) => check(unsafe {
                // SAFETY: name bytes valid for their length.
                ffi::shim_replace_entry(
                    fs,
                    to_dir,
                    to.as_ptr() as *const c_char,
                    to.len() as c_int,
                    src,
                    ft,
                )
            })?,
            // SAFETY: NUL-terminated name.
            None => check(unsafe { ffi::shim_link(fs, to_dir, cto.as_ptr(), src, ft) })?,
        }
        // SAFETY: NUL-terminated name.
        check(unsafe { ffi::shim_unlink(fs, from_dir, cfrom.as_ptr(), src) })?;
        if src_is_dir && from_dir != to_dir {
            // SAFETY: literal name bytes.
            check(unsafe { ffi::shim_replace_entry(fs, src, c"..".as_ptr(), 2, to_dir, 2) })?;
            inner.add_links(from_dir, -1)?;
            if !dst_is_dir {
                inner.add_links(to_dir, 1)?;
            }
        } else if dst_is_dir {
            // The replaced directory's ".." no longer counts for to_dir.
            inner.add_links(to_dir, -1)?;
        }
        inner.add_links(src, 0)?; // ctime
        inner.touch_dir(from_dir)?;
        if to_dir != from_dir {
            inner.touch_dir(to_dir)?;
        }
        if let Some(d) = dst {
            let left = if dst_is_dir {
                inner.add_links(d, -2)?
            } else {
                inner.add_links(d, -1)?
            };
            if left == 0 {
                inner.release(d)?;
            }
        }
        Ok(())
    }

    /// The target of symlink `ino` (Inval if not a symlink).
    pub fn readlink(&self, ino: Ino) -> Result<Vec<u8>> {
        self.lock().readlink(ino)
    }

    /// All entries including "." and "..", in on-disk order.
    pub fn readdir(&self, dir: Ino) -> Result<Vec<DirEntry>> {
        self.lock().readdir(dir)
    }

    /// Sets atime and/or mtime (None leaves one alone); ctime becomes now.
    pub fn set_times(
        &self,
        ino: Ino,
        atime: Option<SetTime>,
        mtime: Option<SetTime>,
    ) -> Result<()> {
        let inner = self.lock();
        inner.need_rw()?;
        inner.raw_stat(ino)?;
        let t = now();
        let pick = |s: Option<SetTime>| match s {
            Some(SetTime::Now) => Some(t),
            Some(SetTime::At(x)) => Some(x),
            None => None,
        };
        let (a, m) = (pick(atime), pick(mtime));
        let mut which = ffi::T_CTIME;
        if a.is_some() {
            which |= ffi::T_ATIME;
        }
        if m.is_some() {
            which |= ffi::T_MTIME;
        }
        let (a, m) = (a.unwrap_or_default(), m.unwrap_or_default());
        if a.nsec >= 1_000_000_000 || m.nsec >= 1_000_000_000 {
            return Err(Errno::Inval.into());
        }
        // SAFETY: plain values.
        check(unsafe {
            ffi::shim_set_times(
                inner.fs, ino, which, a.sec, a.nsec, m.sec, m.nsec, t.sec, t.nsec,
            )
        })
    }

    /// Sets the permission bits (0o7777); the file type is kept.
    pub fn set_mode(&self, ino: Ino, mode: u32) -> Result<()> {
        self.set_attr(ino, (mode & 0o7777) as i64, -1, -1)
    }

    /// Sets owner and/or group (None leaves one alone).
    pub fn set_owner(&self, ino: Ino, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
        self.set_attr(
            ino,
            -1,
            uid.map_or(-1, i64::from),
            gid.map_or(-1, i64::from),
        )
    }

    fn set_attr(&self, ino: Ino, perm: i64, uid: i64, gid: i64) -> Result<()> {
        let inner = self.lock();
        inner.need_rw()?;
        inner.raw_stat(ino)?;
        let t = now();
        // SAFETY: plain values.
        check(unsafe { ffi::shim_set_attr(inner.fs, ino, perm, uid, gid, t.sec, t.nsec) })
    }

    /// A handle opened `ino`: keeps an unlinked inode alive until `close_ref`.
    pub fn open_ref(&self, ino: Ino) {
        *self.lock().refs.entry(ino).or_insert(0) += 1;
    }

    /// A handle on `ino` closed: frees the inode if it was unlinked and this was the last.
    pub fn close_ref(&self, ino: Ino) {
        let mut inner = self.lock();
        let left = match inner.refs.get_mut(&ino) {
            Some(n) => {
                *n = n.saturating_sub(1);
                *n
            }
            None => return,
        };
        if left == 0 {
            inner.refs.remove(&ino);
            if inner.orphans.contains(&ino) {
                // Nobody to report to: a failure here leaves a leak e2fsck would fix.
                let _ = inner.release(ino);
            }
        }
    }

    /// Total and free bytes (for df/statvfs); under a cap, the cap is the total.
    pub fn space(&self) -> (u64, u64) {
        let inner = self.lock();
        let (total, free) = inner.space();
        match inner.cap {
            Some(cap) => {
                let used = total - free.min(total);
                (cap.min(total), free.min(cap.saturating_sub(used)))
            }
            None => (total, free),
        }
    }

    /// Lets the file system hold at most `cap` bytes of blocks more than it holds
    /// now (a container's `--storage-opt size`, as a quota on Docker's upper layer;
    /// the file system's own size is larger and sparse): file data past it is
    /// refused with ENOSPC, and `space` reports what is in use plus that room as
    /// the total. `None` lifts the cap.
    pub fn cap_size(&self, cap: Option<u64>) {
        let mut inner = self.lock();
        let (total, free) = inner.space();
        let used = total - free.min(total);
        inner.cap = cap.map(|c| used.saturating_add(c));
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Vfs>();
    let _ = err;
}
