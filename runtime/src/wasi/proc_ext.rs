//! The process, lock and named-pipe calls of the `wsh` import module
//! (docs/host-interface.md): `procs` lists the container's programs, `signal`
//! sends one a signal, `flock` locks an open file, `mkfifo` makes a named pipe.

use wasmtime::{Caller, Linker};

use super::abi::{Errno, Mem};
use super::fdtable::Fd;
use super::path_calls::At;
use super::wsh_ext::MODULE;
use super::{Guest, access, call};
use crate::SignalError;
use crate::io::Handle;
use crate::locks::{LockError, LockMode, host_flock};

/// ESRCH: no such process.
const SRCH: Errno = Errno(71);

/// `flock` operation bits, as Linux's.
const LOCK_SH: u32 = 1;
const LOCK_EX: u32 = 2;
const LOCK_NB: u32 = 4;
const LOCK_UN: u32 = 8;

type C<'a> = Caller<'a, Guest>;

/// `procs(out, max, out_n)`: up to `max` pids (u32) at `out`, their total at `out_n`.
fn procs(m: &mut Mem, g: &mut Guest, out: u32, max: u32, out_n: u32) -> Result<(), Errno> {
    let rt = g.runtime.as_ref().ok_or(Errno::NOSYS)?;
    let pids: Vec<u32> = rt.processes().iter().map(|p| p.pid).collect();
    for (i, pid) in pids.iter().take(max as usize).enumerate() {
        let at = out.checked_add(4 * i as u32).ok_or(Errno::FAULT)?;
        m.write_u32(at, *pid)?;
    }
    m.write_u32(out_n, pids.len() as u32)
}

/// `signal(pid, sig)`: kill(2) within the container.
fn signal(g: &mut Guest, pid: u32, sig: i32) -> Result<(), Errno> {
    let rt = g.runtime.as_ref().ok_or(Errno::NOSYS)?;
    rt.signal(pid, sig, g.creds.uid).map_err(|e| match e {
        SignalError::NoSuchProcess => SRCH,
        SignalError::NotPermitted => Errno::PERM,
        SignalError::Invalid => Errno::INVAL,
    })?;
    // A program that ends itself stops now, not at its next tick.
    if g.interrupted() {
        g.exit = Some(g.process.as_ref().map_or(130, |p| p.status(130)));
    }
    Ok(())
}

/// `flock(fd, op)`: flock(2) on an open file of the image or of a host mount.
fn flock(g: &mut Guest, fd: u32, op: u32) -> Result<(), Errno> {
    let mode = match op & !LOCK_NB {
        LOCK_SH => Some(LockMode::Shared),
        LOCK_EX => Some(LockMode::Exclusive),
        LOCK_UN => None,
        _ => return Err(Errno::INVAL),
    };
    let nonblock = op & LOCK_NB != 0;
    let handle = match g.fds.get(fd)? {
        Fd::Handle(h) => h.clone(),
        // Directories may be locked on Linux; wsh keeps no lock for them yet.
        Fd::Dir(_) | Fd::HostDir(_) => return Err(Errno::NOTSUP),
        Fd::Socket(_) => return Err(Errno::INVAL),
    };
    let stopped = || {
        g.hold_while_paused();
        g.interrupted()
    };
    let result = match &handle {
        Handle::File(fh) => {
            let rt = g.runtime.as_ref().ok_or(Errno::NOSYS)?;
            let locks = rt.inner.locks.clone();
            match mode {
                Some(mode) => {
                    let _sleeping = g.process.as_ref().map(|p| p.sleeping());
                    locks.lock(fh, mode, nonblock, &stopped)
                }
                None => {
                    locks.unlock(fh);
                    Ok(())
                }
            }
        }
        Handle::HostFile(f) => host_flock(f, mode, nonblock, &stopped),
        // Pipes, terminals and devices: Linux locks their inodes; nothing to share here.
        _ => return Err(Errno::INVAL),
    };
    match result {
        Ok(()) => Ok(()),
        Err(LockError::WouldBlock) => Err(Errno::AGAIN),
        Err(LockError::Interrupted) => {
            g.exit = Some(g.process.as_ref().map_or(130, |p| p.status(130)));
            Err(Errno::INTR)
        }
        Err(LockError::Io(n)) => Err(fsimage::Errno::from_raw(n).into()),
    }
}

/// `mkfifo(dirfd, path, len, mode)`: a FIFO inode in the image, mode `mode & ~umask`.
fn mkfifo(g: &mut Guest, fd: u32, path: Vec<u8>, mode: u32) -> Result<(), Errno> {
    match super::path_calls::at(g, fd, path)? {
        At::Image(base, path) => {
            let (dir, name) = access::resolve_parent(&g.vfs, &g.creds, base, &path)?;
            access::may_create(&g.vfs, &g.creds, dir)?;
            let ino = g.vfs.mkfifo(dir, &name, mode & 0o7777 & !g.umask)?;
            Ok(access::own_new(&g.vfs, &g.creds, dir, ino)?)
        }
        // A host directory's FIFO would be the host kernel's, outside the broker.
        At::Host(..) => Err(Errno::NOTSUP),
    }
}

/// Defines `procs`, `signal`, `flock` and `mkfifo` on `linker`.
pub fn add_to_linker(linker: &mut Linker<Guest>) -> wasmtime::Result<()> {
    let u = |x: i32| x as u32;
    linker.func_wrap(
        MODULE,
        "procs",
        move |mut c: C, out: i32, max: i32, n: i32| {
            call(&mut c, |m, g| procs(m, g, u(out), u(max.max(0)), u(n)))
        },
    )?;
    linker.func_wrap(MODULE, "signal", move |mut c: C, pid: i32, sig: i32| {
        call(&mut c, |_, g| signal(g, u(pid), sig))
    })?;
    linker.func_wrap(MODULE, "flock", move |mut c: C, fd: i32, op: i32| {
        call(&mut c, |_, g| flock(g, u(fd), u(op)))
    })?;
    linker.func_wrap(
        MODULE,
        "mkfifo",
        move |mut c: C, fd: i32, p: i32, l: i32, mode: i32| {
            call(&mut c, |m, g| {
                let path = m.path(u(p), u(l))?;
                mkfifo(g, u(fd), path, u(mode))
            })
        },
    )?;
    Ok(())
}
