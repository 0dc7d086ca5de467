//! What the interpreter needs from the world below it: start programs, look at
//! and open files in the image. [`ImageSystem`] is the real one (runtime + Vfs);
//! unit tests substitute a fake so the interpreter is testable without guests.

use std::sync::Arc;

use fsimage::{Errno, FileType};
use wsh_runtime::io::{FileHandle, OpenOptions};
use wsh_runtime::mounts::{Mount, Opened};
use wsh_runtime::wasi::{access, host_access};
use wsh_runtime::{Command, Credentials, ForkError, Handle, PidSlot, Runtime, SpawnError};

/// A started program the interpreter can wait for.
pub trait Job: Send {
    /// Blocks until the program ends; returns its exit status.
    fn wait(self: Box<Self>) -> i32;
    /// Whether the program has ended; `None` when this job cannot tell (then only
    /// `wait` works and `kill` of a background job takes effect between commands).
    fn is_finished(&self) -> Option<bool> {
        None
    }
    /// Asks the program to stop, as Ctrl-C does (jobs that cannot be stopped ignore it).
    fn stop(&self) {}
    /// Pause/resume/stop from elsewhere (Ctrl-Z, `fg`, `bg`); None when this job
    /// cannot be paused.
    fn control(&self) -> Option<wsh_runtime::JobControl> {
        None
    }
    /// Waits up to `limit` for the program to end; whether it has.
    fn wait_for(&self, limit: std::time::Duration) -> bool {
        std::thread::sleep(limit);
        self.is_finished() == Some(true)
    }
}

impl Job for wsh_runtime::Child {
    fn wait(self: Box<Self>) -> i32 {
        wsh_runtime::Child::wait(*self)
    }

    fn is_finished(&self) -> Option<bool> {
        Some(wsh_runtime::Child::is_finished(self))
    }

    fn stop(&self) {
        self.kill();
    }

    fn control(&self) -> Option<wsh_runtime::JobControl> {
        Some(wsh_runtime::Child::control(self))
    }

    fn wait_for(&self, limit: std::time::Duration) -> bool {
        wsh_runtime::Child::wait_for(self, limit)
    }
}

/// Kinds of file the interpreter distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Regular,
    Directory,
    Other,
}

/// What `test -f/-s/-x/-L/-nt` need to know about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// The file's kind; `symlink` tells whether the path itself is a symbolic link.
    pub kind: Kind,
    pub symlink: bool,
    /// Size in bytes.
    pub size: u64,
    /// Permission bits (0o7777).
    pub mode: u32,
    /// Modification time, seconds and nanoseconds.
    pub mtime: (i64, u32),
    /// Inode number (for `-ef`).
    pub ino: u64,
    /// Owner and group ids (for `-r/-w/-x` of a non-root user, `-O`, `-G`).
    pub uid: u32,
    pub gid: u32,
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
    /// Starts a program with file-creation mask `umask` (ignored by systems without one).
    fn spawn_with_umask(&self, cmd: Command, umask: u32) -> Result<Box<dyn Job>, SpawnError> {
        let _ = umask;
        self.spawn(cmd)
    }
    /// The CPU time the interpreter's own loops may use (`--timeout`); none by default.
    fn cpu_time_limit(&self) -> Option<std::time::Duration> {
        None
    }
    /// The caps the runtime puts on each program (`ulimit`); none by default.
    fn limits(&self) -> Option<wsh_runtime::Limits> {
        None
    }
    /// The kind of file at `path`, following symlinks.
    fn kind(&self, cwd: &str, path: &str) -> Result<Kind, SysError>;
    /// Opens `path` for a redirection.
    fn open(&self, cwd: &str, path: &str, opts: OpenOptions) -> Result<Handle, SysError>;
    /// Opens `path` for a redirection; a file it creates gets mode 0666 & !`umask`
    /// (systems without permissions ignore the mask).
    fn open_masked(
        &self,
        cwd: &str,
        path: &str,
        opts: OpenOptions,
        umask: u32,
    ) -> Result<Handle, SysError> {
        let _ = umask;
        self.open(cwd, path, opts)
    }
    /// Facts about the file at `path` (following a final symlink for everything but
    /// `Meta::symlink`). The default knows only the kind.
    fn stat(&self, cwd: &str, path: &str) -> Result<Meta, SysError> {
        let kind = self.kind(cwd, path)?;
        Ok(Meta {
            kind,
            symlink: false,
            size: 0,
            mode: 0o755,
            mtime: (0, 0),
            ino: 0,
            uid: 0,
            gid: 0,
        })
    }
    /// Who the programs run as (and whom `test -r/-w/-x` answers for): root by default.
    fn credentials(&self) -> Arc<Credentials> {
        Arc::new(Credentials::root())
    }
    /// The names in directory `path` (without `.` and `..`), for globbing.
    fn read_dir(&self, _cwd: &str, _path: &str) -> Result<Vec<String>, SysError> {
        Err(SysError("Operation not supported".into()))
    }
    /// One of the container's `pids` slots, for a thread of the interpreter about
    /// to start (pipeline stage, background job, command substitution); systems
    /// without a container count nothing.
    fn pid_slot(&self) -> Result<PidSlot, ForkError> {
        Ok(PidSlot::uncounted())
    }
    /// Sends signal `sig` to program `pid` of the container (`kill PID` for a pid
    /// that is not one of the shell's jobs); the error is kill(2)'s text.
    fn signal(&self, pid: u32, sig: i32) -> Result<(), String> {
        let _ = (pid, sig);
        Err("No such process".into())
    }
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

    /// The host mount `path` (from `cwd`) lies in, and the path below its root.
    fn mounted(&self, cwd: &str, path: &str) -> Option<(Arc<Mount>, Vec<u8>)> {
        self.rt.mounts().route(cwd.as_bytes(), path.as_bytes())
    }

    /// The inode `path` is resolved from: the root for an absolute path (so that a
    /// working directory on a `-v` mount, which the image does not have, does not
    /// matter), else the working directory.
    fn base_ino(&self, cwd: &str, path: &str) -> Result<fsimage::Ino, SysError> {
        let vfs = self.rt.vfs();
        if path.starts_with('/') {
            return Ok(vfs.root());
        }
        vfs.resolve(vfs.root(), cwd.as_bytes(), true)
            .map_err(|e| e.errno().into())
    }

    /// The image path to resolve for `path` from `cwd` when it lies in a live
    /// program's `/proc/PID`: the image's stand-in for it (`wsh_runtime::procfs`).
    fn proc_alias(&self, cwd: &str, path: &str) -> Option<String> {
        let alias = self
            .rt
            .proc_pid_path(cwd.as_bytes(), path.as_bytes(), None)?;
        Some(String::from_utf8_lossy(&alias).into_owned())
    }

    /// Resolves `path` from `base` with the search checks of the runtime's user.
    fn resolve(
        &self,
        base: fsimage::Ino,
        path: &str,
        follow: bool,
    ) -> Result<fsimage::Ino, SysError> {
        let creds = self.rt.credentials();
        access::resolve(self.rt.vfs(), &creds, base, path.as_bytes(), follow)
            .map_err(|e| SysError::from(e.errno()))
    }
}

impl System for ImageSystem {
    fn limits(&self) -> Option<wsh_runtime::Limits> {
        Some(self.rt.limits())
    }

    fn spawn(&self, cmd: Command) -> Result<Box<dyn Job>, SpawnError> {
        Ok(Box::new(self.rt.spawn(cmd)?))
    }

    fn spawn_with_umask(&self, cmd: Command, umask: u32) -> Result<Box<dyn Job>, SpawnError> {
        Ok(Box::new(self.rt.spawn_with_umask(cmd, umask)?))
    }

    fn cpu_time_limit(&self) -> Option<std::time::Duration> {
        self.rt.limits().cpu_time
    }

    fn kind(&self, cwd: &str, path: &str) -> Result<Kind, SysError> {
        if device(cwd, path).is_some() {
            return Ok(Kind::Other);
        }
        let alias = self.proc_alias(cwd, path);
        let (cwd, path) = alias.as_deref().map_or((cwd, path), |a| ("/", a));
        if let Some((m, rel)) = self.mounted(cwd, path) {
            return Ok(kind_of(m.stat(&rel, true)?.kind));
        }
        let vfs = self.rt.vfs();
        let base = self.base_ino(cwd, path)?;
        let ino = self.resolve(base, path, true)?;
        if wsh_runtime::io::placeholder_device(vfs, ino).is_some() {
            return Ok(Kind::Other);
        }
        let st = vfs.stat(ino).map_err(|e| SysError::from(e.errno()))?;
        Ok(kind_of(st.kind))
    }

    fn stat(&self, cwd: &str, path: &str) -> Result<Meta, SysError> {
        if device(cwd, path).is_some() {
            return Ok(DEVICE_META);
        }
        let alias = self.proc_alias(cwd, path);
        let (cwd, path) = alias.as_deref().map_or((cwd, path), |a| ("/", a));
        if let Some((m, rel)) = self.mounted(cwd, path) {
            let symlink = m.stat(&rel, false)?.kind == FileType::Symlink;
            return Ok(meta_of(&m.stat(&rel, true)?, symlink));
        }
        let vfs = self.rt.vfs();
        let base = self.base_ino(cwd, path)?;
        let link = self.resolve(base, path, false)?;
        let symlink =
            vfs.stat(link).map_err(|e| SysError::from(e.errno()))?.kind == FileType::Symlink;
        let ino = self.resolve(base, path, true)?;
        if wsh_runtime::io::placeholder_device(vfs, ino).is_some() {
            return Ok(Meta {
                symlink,
                ..DEVICE_META
            });
        }
        let st = vfs.stat(ino).map_err(|e| SysError::from(e.errno()))?;
        Ok(meta_of(&st, symlink))
    }

    fn read_dir(&self, cwd: &str, path: &str) -> Result<Vec<String>, SysError> {
        let listing_proc =
            wsh_runtime::mounts::normalize(cwd.as_bytes(), path.as_bytes()) == b"/proc";
        let alias = self.proc_alias(cwd, path);
        let (cwd, path) = alias.as_deref().map_or((cwd, path), |a| ("/", a));
        let entries = match self.mounted(cwd, path) {
            Some((m, rel)) => m.read_dir(&rel)?,
            None => {
                let vfs = self.rt.vfs();
                let base = self.base_ino(cwd, path)?;
                let dir = self.resolve(base, path, true)?;
                let creds = self.rt.credentials();
                if !creds.is_root() {
                    let st = vfs.stat(dir).map_err(|e| SysError::from(e.errno()))?;
                    creds
                        .check(&st, access::READ)
                        .map_err(|e| SysError::from(e.errno()))?;
                }
                let entries = vfs.readdir(dir).map_err(|e| SysError::from(e.errno()))?;
                match listing_proc {
                    true => self.rt.proc_listing(entries),
                    false => entries,
                }
            }
        };
        Ok(entries
            .into_iter()
            .filter(|e| e.name != b"." && e.name != b"..")
            .map(|e| String::from_utf8_lossy(&e.name).into_owned())
            .collect())
    }

    fn open(&self, cwd: &str, path: &str, opts: OpenOptions) -> Result<Handle, SysError> {
        // The devices are the runtime's, as for guests (/dev/std* are mapped onto the fd
        // table by the redirection code).
        if let Some(dev) = device(cwd, path) {
            return Ok(dev);
        }
        // So is the synthesized /proc (`read up idle < /proc/uptime`).
        let write = opts.write || opts.truncate || opts.create;
        let abs = wsh_runtime::mounts::normalize(cwd.as_bytes(), path.as_bytes());
        if let Some(opened) = self.rt.open_proc(&abs, write) {
            return opened.map_err(SysError::from);
        }
        if let Some((m, rel)) = self.mounted(cwd, path) {
            let creds = self.rt.credentials();
            return open_mounted(&m, &creds, &rel, opts, wsh_runtime::wasi::DEFAULT_UMASK);
        }
        if let Some(fifo) = self.open_fifo(cwd, path, opts)? {
            return Ok(fifo);
        }
        let base = self.base_ino(cwd, path)?;
        let creds = self.rt.credentials();
        if !creds.is_root() {
            return self.open_as_user(&creds, base, path, opts, 0o644);
        }
        let fh = FileHandle::open(self.rt.vfs(), base, path.as_bytes(), opts)
            .map_err(|e| SysError::from(e.errno()))?;
        Ok(device_or_file(fh))
    }

    fn credentials(&self) -> Arc<Credentials> {
        self.rt.credentials()
    }

    fn pid_slot(&self) -> Result<PidSlot, ForkError> {
        self.rt.pid_slot()
    }

    fn signal(&self, pid: u32, sig: i32) -> Result<(), String> {
        let uid = self.rt.credentials().uid;
        self.rt.signal(pid, sig, uid).map_err(|e| e.to_string())
    }

    fn open_masked(
        &self,
        cwd: &str,
        path: &str,
        opts: OpenOptions,
        umask: u32,
    ) -> Result<Handle, SysError> {
        if let Some((m, rel)) = self.mounted(cwd, path) {
            let creds = self.rt.credentials();
            return open_mounted(&m, &creds, &rel, opts, umask);
        }
        if let Some(fifo) = self.open_fifo(cwd, path, opts)? {
            return Ok(fifo);
        }
        let creds = self.rt.credentials();
        if !creds.is_root() && device(cwd, path).is_none() {
            let base = self.base_ino(cwd, path)?;
            return self.open_as_user(&creds, base, path, opts, 0o666 & !umask);
        }
        let vfs = self.rt.vfs();
        let existed = opts.create
            && self
                .base_ino(cwd, path)
                .is_ok_and(|base| vfs.resolve(base, path.as_bytes(), true).is_ok());
        let h = self.open(cwd, path, opts)?;
        if let Handle::File(fh) = &h
            && opts.create
            && !existed
        {
            vfs.set_mode(fh.ino(), 0o666 & !umask)
                .map_err(|e| SysError::from(e.errno()))?;
        }
        Ok(h)
    }
}

/// A character device as the runtime serves it: crw-rw-rw- root root.
const DEVICE_META: Meta = Meta {
    kind: Kind::Other,
    symlink: false,
    size: 0,
    mode: 0o666,
    mtime: (0, 0),
    ino: 0,
    uid: 0,
    gid: 0,
};

/// The synthesized device (`/dev/null`, `/dev/zero`, ...) `path` names from `cwd`, if any.
fn device(cwd: &str, path: &str) -> Option<Handle> {
    // "/dev/null/" promises a directory: the image's placeholder answers ENOTDIR.
    if path.ends_with('/') {
        return None;
    }
    wsh_runtime::io::device_at(&wsh_runtime::mounts::normalize(
        cwd.as_bytes(),
        path.as_bytes(),
    ))
}

impl ImageSystem {
    /// A redirection's open of a named pipe in the image: it waits for the other
    /// side (as bash's open does; Ctrl-C does not reach it). `None` for anything else.
    fn open_fifo(
        &self,
        cwd: &str,
        path: &str,
        opts: OpenOptions,
    ) -> Result<Option<Handle>, SysError> {
        let vfs = self.rt.vfs();
        let Some(st) = self
            .base_ino(cwd, path)
            .and_then(|base| self.resolve(base, path, true))
            .ok()
            .and_then(|ino| vfs.stat(ino).ok())
            .filter(|st| st.kind == FileType::Fifo)
        else {
            return Ok(None);
        };
        let creds = self.rt.credentials();
        access::may_open(&creds, &st, &opts).map_err(|e| SysError::from(e.errno()))?;
        self.rt
            .open_fifo(st.ino, opts.read, opts.write || opts.append, &|| false)
            .map(Some)
            .map_err(|_| SysError("No such device or address".into()))
    }

    /// A redirection's open for a user who is not root: the permission checks and
    /// the new file's owner are the runtime's (`wsh_runtime::wasi::access`).
    fn open_as_user(
        &self,
        creds: &Credentials,
        base: fsimage::Ino,
        path: &str,
        opts: OpenOptions,
        mode: u32,
    ) -> Result<Handle, SysError> {
        let vfs = self.rt.vfs();
        let ino = access::open_file(vfs, creds, base, path.as_bytes(), &opts, mode)
            .map_err(|e| SysError::from(e.errno()))?;
        Ok(device_or_file(FileHandle::from_ino(vfs, ino, opts)))
    }
}

/// The open file, or the device it is the image's placeholder of (reached through
/// a symlink such as `/tmp/n -> /dev/null`).
fn device_or_file(fh: FileHandle) -> Handle {
    wsh_runtime::io::placeholder_device(fh.vfs(), fh.ino())
        .unwrap_or_else(|| Handle::File(Arc::new(fh)))
}

fn kind_of(kind: FileType) -> Kind {
    match kind {
        FileType::Regular => Kind::Regular,
        FileType::Directory => Kind::Directory,
        _ => Kind::Other,
    }
}

fn meta_of(st: &fsimage::Stat, symlink: bool) -> Meta {
    Meta {
        kind: kind_of(st.kind),
        symlink,
        size: st.size,
        mode: st.mode,
        mtime: (st.mtime.sec, st.mtime.nsec),
        ino: u64::from(st.ino),
        uid: st.uid,
        gid: st.gid,
    }
}

/// Opens a file of a host mount for a redirection, as user `creds`.
fn open_mounted(
    m: &Mount,
    creds: &Credentials,
    rel: &[u8],
    opts: OpenOptions,
    umask: u32,
) -> Result<Handle, SysError> {
    match host_access::open(m, creds, rel, opts, true, false, 0o666 & !umask)
        .map_err(|e| SysError::from(e.errno()))?
    {
        Opened::File(f) => Ok(Handle::HostFile(f)),
        Opened::Dir => Err(Errno::IsDir.into()),
    }
}
