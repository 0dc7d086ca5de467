//! Process-level calls: arguments, environment, clocks, randomness and waiting.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::Guest;
use super::abi::{Errno, Mem};
use super::fdtable::Fd;
use crate::io::Handle;

/// Writes a list of NUL-terminated strings (argv or environ) as wasi-libc expects.
fn write_strings(m: &mut Mem, list: &[Vec<u8>], ptrs: u32, buf: u32) -> Result<(), Errno> {
    let mut at = buf;
    for (i, s) in list.iter().enumerate() {
        m.write_u32(ptrs + 4 * i as u32, at)?;
        m.write(at, s)?;
        m.write_u8(at + s.len() as u32, 0)?;
        at += s.len() as u32 + 1;
    }
    Ok(())
}

fn write_sizes(m: &mut Mem, list: &[Vec<u8>], count: u32, size: u32) -> Result<(), Errno> {
    m.write_u32(count, list.len() as u32)?;
    m.write_u32(size, list.iter().map(|s| s.len() as u32 + 1).sum())
}

pub fn args_get(m: &mut Mem, g: &mut Guest, ptrs: u32, buf: u32) -> Result<(), Errno> {
    write_strings(m, &g.args, ptrs, buf)
}

pub fn args_sizes_get(m: &mut Mem, g: &mut Guest, count: u32, size: u32) -> Result<(), Errno> {
    write_sizes(m, &g.args, count, size)
}

pub fn environ_get(m: &mut Mem, g: &mut Guest, ptrs: u32, buf: u32) -> Result<(), Errno> {
    write_strings(m, &g.env, ptrs, buf)
}

pub fn environ_sizes_get(m: &mut Mem, g: &mut Guest, count: u32, size: u32) -> Result<(), Errno> {
    write_sizes(m, &g.env, count, size)
}

/// Nanoseconds on clock `id`: realtime, monotonic, or (for the CPU clocks) time since start.
fn now(g: &Guest, id: u32) -> Result<u64, Errno> {
    match id {
        0 => Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)),
        1 => Ok(crate::monotonic_ns()),
        2 | 3 => Ok(g.started.elapsed().as_nanos() as u64),
        _ => Err(Errno::INVAL),
    }
}

pub fn clock_res_get(m: &mut Mem, _g: &mut Guest, id: u32, out: u32) -> Result<(), Errno> {
    if id > 3 {
        return Err(Errno::INVAL);
    }
    m.write_u64(out, 1)
}

pub fn clock_time_get(m: &mut Mem, g: &mut Guest, id: u32, out: u32) -> Result<(), Errno> {
    let t = now(g, id)?;
    m.write_u64(out, t)
}

pub fn random_get(m: &mut Mem, buf: u32, len: u32) -> Result<(), Errno> {
    use rand::RngCore;
    rand::rng().fill_bytes(m.slice_mut(buf, len)?);
    Ok(())
}

/// One subscription of `poll_oneoff`, decoded.
enum Sub {
    Clock { userdata: u64, deadline: Instant },
    Read { userdata: u64, fd: u32 },
    Write { userdata: u64, fd: u32 },
}

/// Readiness of `fd` for reading: Some(bytes available, hangup) when a read would not block.
fn read_ready(g: &Guest, fd: u32) -> Result<Option<(u64, bool)>, Errno> {
    if let Fd::Socket(s) = g.fds.get(fd)? {
        return Ok(super::net::ready(s, false));
    }
    Ok(match g.fds.get(fd)? {
        Fd::Handle(Handle::PipeRead(end)) => {
            let (n, closed) = end.pipe().readiness();
            (n > 0 || closed).then_some(n as u64)
        }
        Fd::Handle(Handle::HostStdin) => {
            let mut p = libc::pollfd {
                fd: 0,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, zero timeout.
            let r = unsafe { libc::poll(&mut p, 1, 0) };
            (r > 0).then_some(1)
        }
        Fd::Handle(Handle::File(f)) => {
            let size = f.vfs().stat(f.ino())?.size;
            Some(size.saturating_sub(f.position()))
        }
        _ => Some(0),
    }
    .map(|n| (n, false)))
}

fn write_ready(g: &Guest, fd: u32) -> Result<bool, Errno> {
    Ok(match g.fds.get(fd)? {
        Fd::Handle(Handle::PipeWrite(end)) => end.pipe().writable(),
        Fd::Socket(s) => super::net::ready(s, true).is_some(),
        _ => true,
    })
}

/// Waits for clocks and descriptors; enough for `sleep` and blocking pipe reads.
pub fn poll_oneoff(
    m: &mut Mem,
    g: &mut Guest,
    subs: u32,
    events: u32,
    n: u32,
    out: u32,
) -> Result<(), Errno> {
    if n == 0 {
        return Err(Errno::INVAL);
    }
    let mut list = Vec::with_capacity(n as usize);
    for i in 0..n {
        let at = subs + 48 * i;
        let userdata = m.read_u64(at)?;
        let sub = match m.read_u8(at + 8)? {
            0 => {
                let id = m.read_u32(at + 16)?;
                let timeout = m.read_u64(at + 24)?;
                let abstime = m.read_u16(at + 40)? & 1 != 0;
                let wait = if abstime {
                    timeout.saturating_sub(now(g, id)?)
                } else {
                    timeout
                };
                Sub::Clock {
                    userdata,
                    deadline: Instant::now() + Duration::from_nanos(wait),
                }
            }
            1 => Sub::Read {
                userdata,
                fd: m.read_u32(at + 16)?,
            },
            2 => Sub::Write {
                userdata,
                fd: m.read_u32(at + 16)?,
            },
            _ => return Err(Errno::INVAL),
        };
        list.push(sub);
    }
    // `ps` shows the guest as sleeping (S) while it waits here.
    let mut _sleeping = None;
    loop {
        // (userdata, errno, type, nbytes, hangup)
        let mut fired: Vec<(u64, Errno, u8, u64, bool)> = Vec::new();
        let mut next_deadline: Option<Instant> = None;
        for sub in &list {
            match *sub {
                Sub::Clock { userdata, deadline } => {
                    if Instant::now() >= deadline {
                        fired.push((userdata, Errno::SUCCESS, 0, 0, false));
                    } else {
                        next_deadline = Some(next_deadline.map_or(deadline, |d| d.min(deadline)));
                    }
                }
                Sub::Read { userdata, fd } => match read_ready(g, fd) {
                    Ok(Some((nb, hup))) => fired.push((userdata, Errno::SUCCESS, 1, nb, hup)),
                    Ok(None) => {}
                    Err(e) => fired.push((userdata, e, 1, 0, false)),
                },
                Sub::Write { userdata, fd } => match write_ready(g, fd) {
                    Ok(true) => fired.push((userdata, Errno::SUCCESS, 2, 0, false)),
                    Ok(false) => {}
                    Err(e) => fired.push((userdata, e, 2, 0, false)),
                },
            }
        }
        if !fired.is_empty() {
            for (i, (userdata, err, kind, nbytes, hangup)) in fired.iter().enumerate() {
                let at = events + 32 * i as u32;
                let mut rec = [0u8; 32];
                rec[0..8].copy_from_slice(&userdata.to_le_bytes());
                rec[8..10].copy_from_slice(&err.0.to_le_bytes());
                rec[10] = *kind;
                rec[16..24].copy_from_slice(&nbytes.to_le_bytes());
                rec[24..26].copy_from_slice(&(*hangup as u16).to_le_bytes());
                m.write(at, &rec)?;
            }
            return m.write_u32(out, fired.len() as u32);
        }
        if _sleeping.is_none() {
            _sleeping = g.process.as_ref().map(|p| p.sleeping());
        }
        // A stopped guest's timers run on (as a stopped process's do) but it wakes
        // only once it is let go.
        g.hold_while_paused();
        if g.interrupted() {
            // Stop the guest as SIGINT would (status 130): handing EINTR back makes
            // Rust's `thread::sleep` panic ("unexpected result of poll_oneoff").
            g.exit = Some(128 + libc::SIGINT);
            return Err(Errno::INTR);
        }
        // Sleep until the next deadline, waking often enough to see pipes and interrupts.
        let nap = next_deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_millis(10))
            .min(Duration::from_millis(10));
        let pipe = list.iter().find_map(|s| match s {
            Sub::Read { fd, .. } | Sub::Write { fd, .. } => match g.fds.get(*fd) {
                Ok(Fd::Handle(Handle::PipeRead(e) | Handle::PipeWrite(e))) => {
                    Some(e.pipe().clone())
                }
                _ => None,
            },
            _ => None,
        });
        // Sockets are waited for in poll(2) itself, so a connection wakes the guest at once.
        let mut sockets: Vec<libc::pollfd> = list
            .iter()
            .filter_map(|s| match s {
                Sub::Read { fd, .. } => Some((*fd, libc::POLLIN)),
                Sub::Write { fd, .. } => Some((*fd, libc::POLLOUT)),
                Sub::Clock { .. } => None,
            })
            .filter_map(|(fd, events)| {
                super::net::raw_fd(g, fd).map(|raw| libc::pollfd {
                    fd: raw,
                    events,
                    revents: 0,
                })
            })
            .collect();
        match pipe {
            Some(p) if sockets.is_empty() => p.wait_change(nap),
            Some(_) => {
                // Both kinds: look at the pipes again soon.
                let ms = nap.as_millis().min(2) as libc::c_int;
                // SAFETY: a valid array of pollfds.
                unsafe { libc::poll(sockets.as_mut_ptr(), sockets.len() as libc::nfds_t, ms) };
            }
            None if !sockets.is_empty() => {
                let ms = nap.as_millis().max(1) as libc::c_int;
                // SAFETY: a valid array of pollfds.
                unsafe { libc::poll(sockets.as_mut_ptr(), sockets.len() as libc::nfds_t, ms) };
            }
            None => std::thread::sleep(nap),
        }
    }
}
