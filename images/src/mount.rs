//! `wsh mount`: serves an image's `Vfs` to the host kernel through FUSE (the `fuser` crate),
//! read-only unless asked; SIGINT/SIGTERM or `fusermount3 -u` unmount it cleanly.

use anyhow::{Context, Result};
use fsimage::{Error, FileType, Ino, SetTime, Stat, Timestamp, Vfs};
use fuser::{
    FileAttr, Filesystem, KernelConfig, MountOption, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, Session,
    TimeOrNow,
};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long the kernel may cache attributes and names: we are the only writer.
const TTL: Duration = Duration::from_secs(1);
/// The inode number FUSE uses for the mount's root.
const FUSE_ROOT: u64 = 1;
/// Largest read the kernel is told to expect (fewer round trips for big files).
const MAX_READAHEAD: u32 = 1 << 20;

/// The FUSE file system: one image, shared with whoever else holds the `Vfs`.
struct ImageFs {
    vfs: Arc<Vfs>,
    writable: bool,
}

/// The kernel errno for a Vfs error.
fn errno(e: &Error) -> i32 {
    e.errno().raw()
}

/// ext4's root is inode 2, FUSE's is 1 (ext4's inode 1 is never reachable by name).
fn to_ext(ino: u64) -> Ino {
    if ino == FUSE_ROOT { 2 } else { ino as Ino }
}

/// The reverse of `to_ext`.
fn to_fuse(ino: Ino) -> u64 {
    if ino == 2 { FUSE_ROOT } else { u64::from(ino) }
}

fn kind(k: FileType) -> fuser::FileType {
    match k {
        FileType::Regular => fuser::FileType::RegularFile,
        FileType::Directory => fuser::FileType::Directory,
        FileType::Symlink => fuser::FileType::Symlink,
        FileType::CharDevice => fuser::FileType::CharDevice,
        FileType::BlockDevice => fuser::FileType::BlockDevice,
        FileType::Fifo => fuser::FileType::NamedPipe,
        FileType::Socket => fuser::FileType::Socket,
    }
}

fn systime(t: Timestamp) -> SystemTime {
    if t.sec >= 0 {
        UNIX_EPOCH + Duration::new(t.sec as u64, t.nsec)
    } else {
        UNIX_EPOCH - Duration::from_secs(t.sec.unsigned_abs()) + Duration::from_nanos(t.nsec.into())
    }
}

fn timestamp(t: SystemTime) -> Timestamp {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => Timestamp {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos(),
        },
        Err(e) => {
            let d = e.duration();
            // Before 1970: floor to whole seconds below, positive nanoseconds.
            let (mut sec, mut nsec) = (-(d.as_secs() as i64), d.subsec_nanos());
            if nsec > 0 {
                sec -= 1;
                nsec = 1_000_000_000 - nsec;
            }
            Timestamp { sec, nsec }
        }
    }
}

fn attr(st: &Stat) -> FileAttr {
    FileAttr {
        ino: to_fuse(st.ino),
        size: st.size,
        blocks: st.blocks,
        atime: systime(st.atime),
        mtime: systime(st.mtime),
        ctime: systime(st.ctime),
        crtime: systime(st.ctime),
        kind: kind(st.kind),
        perm: st.mode as u16,
        nlink: st.nlink,
        uid: st.uid,
        gid: st.gid,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

/// What a FUSE setattr asks to change (None: leave alone).
struct AttrChange {
    mode: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
    size: Option<u64>,
    atime: Option<TimeOrNow>,
    mtime: Option<TimeOrNow>,
}

fn set_time(t: TimeOrNow) -> SetTime {
    match t {
        TimeOrNow::Now => SetTime::Now,
        TimeOrNow::SpecificTime(s) => SetTime::At(timestamp(s)),
    }
}

impl ImageFs {
    fn attr_of(&self, ino: Ino) -> Result<FileAttr, i32> {
        self.vfs.stat(ino).map(|s| attr(&s)).map_err(|e| errno(&e))
    }

    fn rw(&self) -> Result<(), i32> {
        if self.writable {
            Ok(())
        } else {
            Err(libc::EROFS)
        }
    }

    /// Gives a new inode to the calling user, as a kernel file system would.
    fn own(&self, req: &Request<'_>, ino: Ino) -> Result<FileAttr, i32> {
        self.vfs
            .set_owner(ino, Some(req.uid()), Some(req.gid()))
            .map_err(|e| errno(&e))?;
        self.attr_of(ino)
    }

    fn entry(&self, reply: ReplyEntry, r: Result<FileAttr, i32>) {
        match r {
            Ok(a) => reply.entry(&TTL, &a, 0),
            Err(e) => reply.error(e),
        }
    }

    fn empty(reply: ReplyEmpty, r: fsimage::Result<()>) {
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn setattr_inner(&self, ino: Ino, c: AttrChange) -> Result<FileAttr, i32> {
        let AttrChange {
            mode,
            uid,
            gid,
            size,
            atime,
            mtime,
        } = c;
        let changes = mode.is_some()
            || uid.is_some()
            || gid.is_some()
            || size.is_some()
            || atime.is_some()
            || mtime.is_some();
        if changes {
            self.rw()?;
        }
        let e = |e: Error| errno(&e);
        if let Some(m) = mode {
            self.vfs.set_mode(ino, m & 0o7777).map_err(e)?;
        }
        if uid.is_some() || gid.is_some() {
            self.vfs.set_owner(ino, uid, gid).map_err(e)?;
        }
        if let Some(s) = size {
            self.vfs.truncate(ino, s).map_err(e)?;
        }
        if atime.is_some() || mtime.is_some() {
            self.vfs
                .set_times(ino, atime.map(set_time), mtime.map(set_time))
                .map_err(e)?;
        }
        self.attr_of(ino)
    }
}

impl Filesystem for ImageFs {
    fn init(&mut self, _req: &Request<'_>, config: &mut KernelConfig) -> Result<(), i32> {
        // Fewer, larger read requests: the kernel caps this at what it supports.
        let _ = config.set_max_readahead(MAX_READAHEAD);
        let _ = config.set_max_write(MAX_READAHEAD);
        // ext4 keeps nanoseconds.
        let _ = config.set_time_granularity(Duration::from_nanos(1));
        Ok(())
    }

    fn destroy(&mut self) {
        // Nobody left to report to; the caller syncs again and reports there.
        let _ = self.vfs.sync();
    }

    fn lookup(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        let r = self
            .vfs
            .lookup(to_ext(parent), name.as_bytes())
            .map_err(|e| errno(&e))
            .and_then(|ino| self.attr_of(ino));
        self.entry(reply, r);
    }

    fn getattr(&mut self, _req: &Request<'_>, ino: u64, _fh: Option<u64>, reply: ReplyAttr) {
        match self.attr_of(to_ext(ino)) {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<u64>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<u32>,
        reply: ReplyAttr,
    ) {
        let change = AttrChange {
            mode,
            uid,
            gid,
            size,
            atime,
            mtime,
        };
        match self.setattr_inner(to_ext(ino), change) {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(e),
        }
    }

    fn readlink(&mut self, _req: &Request<'_>, ino: u64, reply: ReplyData) {
        match self.vfs.readlink(to_ext(ino)) {
            Ok(t) => reply.data(&t),
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn mkdir(
        &mut self,
        req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let r = self.rw().and_then(|()| {
            let ino = self
                .vfs
                .mkdir(to_ext(parent), name.as_bytes(), mode & !umask & 0o7777)
                .map_err(|e| errno(&e))?;
            self.own(req, ino)
        });
        self.entry(reply, r);
    }

    fn unlink(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        if let Err(e) = self.rw() {
            return reply.error(e);
        }
        Self::empty(reply, self.vfs.unlink(to_ext(parent), name.as_bytes()));
    }

    fn rmdir(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        if let Err(e) = self.rw() {
            return reply.error(e);
        }
        Self::empty(reply, self.vfs.rmdir(to_ext(parent), name.as_bytes()));
    }

    fn symlink(
        &mut self,
        req: &Request<'_>,
        parent: u64,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let r = self.rw().and_then(|()| {
            let ino = self
                .vfs
                .symlink(
                    to_ext(parent),
                    link_name.as_bytes(),
                    target.as_os_str().as_bytes(),
                )
                .map_err(|e| errno(&e))?;
            self.own(req, ino)
        });
        self.entry(reply, r);
    }

    fn rename(
        &mut self,
        _req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
        flags: u32,
        reply: ReplyEmpty,
    ) {
        if let Err(e) = self.rw() {
            return reply.error(e);
        }
        let (from, to) = (to_ext(parent), to_ext(newparent));
        if flags & libc::RENAME_NOREPLACE != 0 {
            if self.vfs.lookup(to, newname.as_bytes()).is_ok() {
                return reply.error(libc::EEXIST);
            }
        } else if flags != 0 {
            // RENAME_EXCHANGE and RENAME_WHITEOUT are not supported by the Vfs.
            return reply.error(libc::EINVAL);
        }
        Self::empty(
            reply,
            self.vfs
                .rename(from, name.as_bytes(), to, newname.as_bytes()),
        );
    }

    fn link(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        newparent: u64,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let r = self.rw().and_then(|()| {
            self.vfs
                .link(to_ext(ino), to_ext(newparent), newname.as_bytes())
                .map_err(|e| errno(&e))?;
            self.attr_of(to_ext(ino))
        });
        self.entry(reply, r);
    }

    fn open(&mut self, _req: &Request<'_>, ino: u64, flags: i32, reply: ReplyOpen) {
        if flags & libc::O_ACCMODE != libc::O_RDONLY && !self.writable {
            return reply.error(libc::EROFS);
        }
        let ino = to_ext(ino);
        if let Err(e) = self.vfs.stat(ino) {
            return reply.error(errno(&e));
        }
        // Keeps the inode alive if it is unlinked while open.
        self.vfs.open_ref(ino);
        // Read-only: the data cannot change under the kernel's page cache.
        let keep = if self.writable {
            0
        } else {
            fuser::consts::FOPEN_KEEP_CACHE
        };
        reply.opened(0, keep);
    }

    fn release(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        _flags: i32,
        _lock_owner: Option<u64>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.vfs.close_ref(to_ext(ino));
        reply.ok();
    }

    fn read(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        size: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyData,
    ) {
        let mut buf = vec![0u8; size as usize];
        match self.vfs.read(to_ext(ino), offset.max(0) as u64, &mut buf) {
            Ok(n) => reply.data(&buf[..n]),
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn write(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        data: &[u8],
        _write_flags: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyWrite,
    ) {
        if let Err(e) = self.rw() {
            return reply.error(e);
        }
        match self.vfs.write(to_ext(ino), offset.max(0) as u64, data) {
            Ok(n) => reply.written(n as u32),
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn flush(&mut self, _req: &Request<'_>, _ino: u64, _fh: u64, _lo: u64, reply: ReplyEmpty) {
        reply.ok();
    }

    fn fsync(&mut self, _req: &Request<'_>, _ino: u64, _fh: u64, _ds: bool, reply: ReplyEmpty) {
        Self::empty(reply, self.vfs.sync());
    }

    fn readdir(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        mut reply: ReplyDirectory,
    ) {
        let entries = match self.vfs.readdir(to_ext(ino)) {
            Ok(v) => v,
            Err(e) => return reply.error(errno(&e)),
        };
        // The offset is the index of the next entry to return.
        for (i, e) in entries.iter().enumerate().skip(offset.max(0) as usize) {
            let full = reply.add(
                to_fuse(e.ino),
                (i + 1) as i64,
                kind(e.kind),
                OsStr::from_bytes(&e.name),
            );
            if full {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(&mut self, _req: &Request<'_>, _ino: u64, _fh: u64, _ds: bool, reply: ReplyEmpty) {
        Self::empty(reply, self.vfs.sync());
    }

    fn statfs(&mut self, _req: &Request<'_>, _ino: u64, reply: ReplyStatfs) {
        let (total, free) = self.vfs.space();
        let bs = 4096u64;
        reply.statfs(
            total / bs,
            free / bs,
            free / bs,
            0,
            0,
            bs as u32,
            255,
            bs as u32,
        );
    }

    fn create(
        &mut self,
        req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        if mode & libc::S_IFMT != libc::S_IFREG && mode & libc::S_IFMT != 0 {
            // Device nodes, fifos and sockets have no Vfs call.
            return reply.error(libc::EPERM);
        }
        let r = self.rw().and_then(|()| {
            let ino = self
                .vfs
                .create(to_ext(parent), name.as_bytes(), mode & !umask & 0o7777)
                .map_err(|e| errno(&e))?;
            self.own(req, ino)
        });
        match r {
            Ok(a) => {
                self.vfs.open_ref(to_ext(a.ino));
                reply.created(&TTL, &a, 0, 0, 0)
            }
            Err(e) => reply.error(e),
        }
    }
}

/// Serves `vfs` at `mountpoint` until it is unmounted (`fusermount3 -u`, `umount`) or this
/// process gets SIGINT/SIGTERM (then it unmounts itself). Syncs the image before returning.
/// `writable` allows changes (the Vfs must be writable too); otherwise the mount is `ro`.
pub fn mount(vfs: Arc<Vfs>, mountpoint: &Path, writable: bool) -> Result<()> {
    if writable && !vfs.is_writable() {
        anyhow::bail!("cannot mount read-write: the image is open read-only");
    }
    let mut opts = vec![
        MountOption::FSName("wsh".into()),
        MountOption::Subtype("ext4".into()),
        MountOption::DefaultPermissions,
    ];
    opts.push(if writable {
        MountOption::RW
    } else {
        MountOption::RO
    });
    let fs = ImageFs {
        vfs: Arc::clone(&vfs),
        writable,
    };
    let mut session = Session::new(fs, mountpoint, &opts)
        .with_context(|| format!("mounting on {}", mountpoint.display()))?;
    let mut unmounter = session.unmount_callable();
    let mut signals = signal_hook::iterator::Signals::new([libc::SIGINT, libc::SIGTERM])
        .context("installing signal handlers")?;
    let handle = signals.handle();
    let watcher = std::thread::spawn(move || {
        // The first SIGINT/SIGTERM unmounts, which ends `session.run()` below.
        if signals.forever().next().is_some() {
            let _ = unmounter.unmount();
        }
    });
    let served = session.run();
    handle.close();
    let _ = watcher.join();
    drop(session);
    served.with_context(|| format!("serving {}", mountpoint.display()))?;
    vfs.sync().context("syncing the image after unmount")?;
    Ok(())
}

/// Opens a host image file at `path`: qcow2 (with its backing chain) or raw ext4.
/// `name` is the file errors name.
fn open_file(path: &Path, name: &Path, rw: bool) -> Result<Vfs> {
    let dev: Box<dyn fsimage::BlockDevice> = if fsimage::is_qcow2(path)? {
        Box::new(fsimage::Qcow2Device::open(path, rw)?)
    } else {
        Box::new(fsimage::FileDevice::open(path, rw)?)
    };
    Ok(Vfs::open(dev, name, rw)?)
}

/// Serves `vfs` read-write, then closes it and flushes its device, so that the file
/// under it is complete when this returns Ok.
fn serve_and_close(vfs: Vfs, mountpoint: &Path) -> Result<u64> {
    let vfs = Arc::new(vfs);
    mount(Arc::clone(&vfs), mountpoint, true)?;
    let vfs =
        Arc::try_unwrap(vfs).map_err(|_| anyhow::anyhow!("the file system is still in use"))?;
    let mut dev = vfs.into_device()?;
    crate::store::flush_device(dev.as_mut())?;
    Ok(dev.size())
}

/// `wsh mount IMAGE MOUNTPOINT [--rw]`: serves IMAGE until it is unmounted. IMAGE is a
/// host file (raw ext4 or qcow2; `--rw` changes a working copy that replaces the file at
/// unmount, see `working_copy`) or a store image (NAME[:TAG] or id; `--rw` writes into a
/// new overlay that is sealed as a new image at unmount, whose id is returned).
pub fn serve(image: &str, mountpoint: &Path, rw: bool) -> Result<Option<String>> {
    let file = Path::new(image);
    if file.is_file() {
        if !rw {
            // fsimage's errors already name the file.
            mount(Arc::new(open_file(file, file, false)?), mountpoint, false)?;
            return Ok(None);
        }
        let copy = crate::working_copy::WorkingCopy::create(file)?;
        serve_and_close(open_file(copy.path(), file, true)?, mountpoint)?;
        copy.replace_original()?;
        return Ok(None);
    }
    let store = crate::open_store()?;
    // The built-in base image is made on first use, as for `wsh -c`.
    let (id, config) = match store.resolve(image) {
        Ok(found) => found,
        Err(_) => {
            crate::base::ensure(&store)?;
            store.resolve(image)?
        }
    };
    if !rw {
        let dev = {
            // Held while opening, so a concurrent rmi cannot take the layers away half-way.
            let _lock = store.lock()?;
            store.open_image(&config)?
        };
        let vfs = Vfs::open(Box::new(dev), Path::new(image), false)
            .with_context(|| format!("cannot open image {image}"))?;
        mount(Arc::new(vfs), mountpoint, false)?;
        return Ok(None);
    }
    let (record, dev) = {
        let lock = store.lock()?;
        store.create_container(&lock, Some(&id), 0)?
    };
    let served = Vfs::open(Box::new(dev), Path::new(image), true)
        .with_context(|| format!("cannot open image {image}"))
        .and_then(|vfs| serve_and_close(vfs, mountpoint));
    let size = match served {
        Ok(size) => size,
        Err(e) => {
            let _ = store.remove_container(&record.id);
            return Err(e);
        }
    };
    let lock = store.lock()?;
    let new_id = store.commit(
        &lock,
        &record,
        size,
        &format!("wsh mount --rw {image}"),
        |_| {},
    )?;
    Ok(Some(new_id))
}
