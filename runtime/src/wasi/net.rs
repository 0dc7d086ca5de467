//! Sockets in the broker: the descriptors behind `sock_accept`, `sock_recv`,
//! `sock_send`, `sock_shutdown` (and `fd_read`/`fd_write`, which Rust's std uses
//! on a `TcpStream`), their readiness for `poll_oneoff`, and the `wsh` calls that
//! make them (`tcp_connect`, `tcp_listen`, `resolve`, `sock_addr`; see
//! docs/host-interface.md, "Sockets").
//!
//! Host sockets are always non-blocking; a guest's blocking call waits in
//! `poll(2)` 10 ms at a time so Ctrl-C still reaches it (as pipe reads do). What a
//! guest may reach is its container's [`crate::net::Network`] policy.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::sync::Arc;

use super::Guest;
use super::abi::{Errno, Mem, filetype, rights};
use super::fdtable::Fd;
use crate::net::Policy;

/// How long one wait in `poll(2)` lasts before the guest's stop flag is looked at again.
const WAIT_SLICE_MS: libc::c_int = 10;

/// `$fdflags` bit for non-blocking I/O.
pub const FDFLAGS_NONBLOCK: u16 = 4;

/// WASI errnos of the network (preview1's numbering).
mod errno {
    use super::Errno;
    pub const ADDRINUSE: Errno = Errno(3);
    pub const ADDRNOTAVAIL: Errno = Errno(4);
    pub const AFNOSUPPORT: Errno = Errno(5);
    pub const CONNABORTED: Errno = Errno(13);
    pub const CONNREFUSED: Errno = Errno(14);
    pub const CONNRESET: Errno = Errno(15);
    pub const HOSTUNREACH: Errno = Errno(23);
    pub const ISCONN: Errno = Errno(30);
    pub const MFILE: Errno = Errno(33);
    pub const NETDOWN: Errno = Errno(38);
    pub const NETUNREACH: Errno = Errno(40);
    pub const NOBUFS: Errno = Errno(42);
    pub const NOTCONN: Errno = Errno(53);
    pub const TIMEDOUT: Errno = Errno(73);
}
pub use errno::NETUNREACH;

/// What a socket descriptor is.
pub enum SockKind {
    /// A listening socket (shared with the container's published port, if it is one).
    Listener(Arc<TcpListener>),
    /// A connected stream.
    Stream(TcpStream),
}

/// A socket descriptor of a guest.
pub struct Socket {
    /// The host socket.
    pub kind: SockKind,
    /// The guest asked for non-blocking I/O (`FDFLAGS_NONBLOCK`): EAGAIN instead of waiting.
    pub nonblocking: bool,
}

impl Socket {
    /// A descriptor for `kind`, blocking from the guest's point of view.
    pub fn new(kind: SockKind) -> Socket {
        Socket {
            kind,
            nonblocking: false,
        }
    }

    fn raw(&self) -> RawFd {
        match &self.kind {
            SockKind::Listener(l) => l.as_raw_fd(),
            SockKind::Stream(s) => s.as_raw_fd(),
        }
    }
}

/// A Linux errno as WASI's.
fn net_errno(e: &io::Error) -> Errno {
    let Some(code) = e.raw_os_error() else {
        return match e.kind() {
            ErrorKind::WouldBlock => Errno::AGAIN,
            ErrorKind::Interrupted => Errno::INTR,
            ErrorKind::BrokenPipe => Errno::PIPE,
            ErrorKind::InvalidInput => Errno::INVAL,
            _ => Errno::IO,
        };
    };
    match code {
        libc::EADDRINUSE => errno::ADDRINUSE,
        libc::EADDRNOTAVAIL => errno::ADDRNOTAVAIL,
        libc::EAFNOSUPPORT => errno::AFNOSUPPORT,
        libc::ECONNABORTED => errno::CONNABORTED,
        libc::ECONNREFUSED => errno::CONNREFUSED,
        libc::ECONNRESET => errno::CONNRESET,
        libc::EHOSTUNREACH => errno::HOSTUNREACH,
        libc::EISCONN => errno::ISCONN,
        libc::EMFILE | libc::ENFILE => errno::MFILE,
        libc::ENETDOWN => errno::NETDOWN,
        libc::ENETUNREACH => errno::NETUNREACH,
        libc::ENOBUFS | libc::ENOMEM => errno::NOBUFS,
        libc::ENOTCONN => errno::NOTCONN,
        libc::ETIMEDOUT => errno::TIMEDOUT,
        libc::EPIPE => Errno::PIPE,
        libc::EAGAIN => Errno::AGAIN,
        libc::EACCES => Errno::ACCES,
        libc::EPERM => Errno::PERM,
        libc::EINVAL => Errno::INVAL,
        libc::EINTR => Errno::INTR,
        _ => Errno::IO,
    }
}

/// The socket behind `fd`: EBADF if none is open there, ENOTSOCK if it is not one.
fn socket(g: &Guest, fd: u32) -> Result<&Socket, Errno> {
    match g.fds.get(fd)? {
        Fd::Socket(s) => Ok(s),
        _ => Err(Errno::NOTSOCK),
    }
}

/// Waits (10 ms at a time, watching the stop flag) until `raw` is ready for
/// `events`, or the guest is asked to stop (then it ends with 130, as on SIGINT).
fn wait(g: &mut Guest, raw: RawFd, events: libc::c_short) -> Result<(), Errno> {
    loop {
        if g.interrupted() {
            g.exit = Some(128 + libc::SIGINT);
            return Err(Errno::INTR);
        }
        let mut p = libc::pollfd {
            fd: raw,
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut p, 1, WAIT_SLICE_MS) } > 0 {
            return Ok(());
        }
    }
}

/// Runs `op` on the socket at `fd`, waiting for `events` and retrying while it
/// would block, unless the guest asked for non-blocking I/O (then EAGAIN).
fn blocking<T>(
    g: &mut Guest,
    fd: u32,
    events: libc::c_short,
    mut op: impl FnMut(&Socket) -> io::Result<T>,
) -> Result<T, Errno> {
    loop {
        let s = socket(g, fd)?;
        let (raw, nonblocking) = (s.raw(), s.nonblocking);
        match op(s) {
            Ok(v) => return Ok(v),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock && !nonblocking => {}
            Err(e) => return Err(net_errno(&e)),
        }
        wait(g, raw, events)?;
    }
}

fn stream(s: &Socket) -> io::Result<&TcpStream> {
    match &s.kind {
        SockKind::Stream(t) => Ok(t),
        // A listener has no peer to talk to (Linux: ENOTCONN).
        SockKind::Listener(_) => Err(io::Error::from_raw_os_error(libc::ENOTCONN)),
    }
}

/// Reads from a stream socket into `buf` (fd_read, sock_recv); `peek` leaves the
/// bytes queued. 0 is the peer's end of stream.
pub fn recv(g: &mut Guest, fd: u32, buf: &mut [u8], peek: bool) -> Result<usize, Errno> {
    blocking(g, fd, libc::POLLIN, |s| {
        let mut t = stream(s)?;
        if peek { t.peek(buf) } else { t.read(buf) }
    })
}

/// Writes `data` to a stream socket (fd_write, sock_send): all of it when
/// blocking, what fits when non-blocking. A peer that is gone gives EPIPE, without
/// the SIGPIPE end a pipe's writer gets (servers ignore SIGPIPE; Rust's std does).
pub fn send(g: &mut Guest, fd: u32, data: &[u8]) -> Result<usize, Errno> {
    let mut done = 0;
    while done < data.len() {
        let rest = &data[done..];
        match blocking(g, fd, libc::POLLOUT, |s| stream(s)?.write(rest)) {
            Ok(n) => done += n,
            Err(e) if done > 0 && e != Errno::INTR => break,
            Err(e) => return Err(e),
        }
        if socket(g, fd)?.nonblocking {
            break;
        }
    }
    Ok(done)
}

/// sock_accept: waits for a connection on a listening socket; the new
/// descriptor gets `flags` (only NONBLOCK means anything).
pub fn sock_accept(m: &mut Mem, g: &mut Guest, fd: u32, flags: u16, out: u32) -> Result<(), Errno> {
    if flags & !FDFLAGS_NONBLOCK != 0 {
        return Err(Errno::INVAL);
    }
    let conn = blocking(g, fd, libc::POLLIN, |s| match &s.kind {
        SockKind::Listener(l) => l.accept().map(|(t, _)| t),
        SockKind::Stream(_) => Err(io::Error::from_raw_os_error(libc::EINVAL)),
    })?;
    conn.set_nonblocking(true).map_err(|e| net_errno(&e))?;
    let mut sock = Socket::new(SockKind::Stream(conn));
    sock.nonblocking = flags & FDFLAGS_NONBLOCK != 0;
    let n = g.fds.insert(Fd::Socket(sock))?;
    m.write_u32(out, n)
}

/// sock_recv: `ri_flags` RECV_PEEK (1) and RECV_WAITALL (2); writes the byte
/// count and `ro_flags` (always 0: preview1's only flag, DATA_TRUNCATED, is for datagrams).
#[allow(clippy::too_many_arguments)]
pub fn sock_recv(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    iovs: u32,
    n: u32,
    ri_flags: u16,
    out_len: u32,
    out_flags: u32,
) -> Result<(), Errno> {
    if ri_flags & !3 != 0 {
        return Err(Errno::INVAL);
    }
    let vecs = m.iovecs(iovs, n)?;
    let want: usize = vecs.iter().map(|v| v.1 as usize).sum();
    let mut buf = vec![0u8; want.min(1 << 20)];
    let mut got = recv(g, fd, &mut buf, ri_flags & 1 != 0)?;
    if ri_flags == 2 {
        while got < buf.len() {
            match recv(g, fd, &mut buf[got..], false)? {
                0 => break,
                k => got += k,
            }
        }
    }
    let copied = m.scatter(&vecs, &buf[..got])?;
    m.write_u32(out_len, copied as u32)?;
    m.write_u16(out_flags, 0)
}

/// sock_send: `si_flags` has no defined bits.
pub fn sock_send(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    iovs: u32,
    n: u32,
    out: u32,
) -> Result<(), Errno> {
    let data = m.gather(iovs, n)?;
    let sent = send(g, fd, &data)?;
    m.write_u32(out, sent as u32)
}

/// sock_shutdown: `how` is RD (1), WR (2) or both.
pub fn sock_shutdown(g: &mut Guest, fd: u32, how: u8) -> Result<(), Errno> {
    let how = match how {
        1 => Shutdown::Read,
        2 => Shutdown::Write,
        3 => Shutdown::Both,
        _ => return Err(Errno::INVAL),
    };
    let s = socket(g, fd)?;
    stream(s)
        .and_then(|t| t.shutdown(how))
        .map_err(|e| net_errno(&e))
}

/// fd_fdstat_get's (filetype, flags, rights) of a socket.
pub fn fdstat(s: &Socket) -> (u8, u16, u64) {
    let flags = if s.nonblocking { FDFLAGS_NONBLOCK } else { 0 };
    let base = rights::FD_READ
        | rights::FD_WRITE
        | rights::FD_FDSTAT_SET_FLAGS
        | rights::FD_FILESTAT_GET
        | rights::POLL_FD_READWRITE
        | SOCK_SHUTDOWN
        | SOCK_ACCEPT;
    (filetype::SOCKET_STREAM, flags, base)
}

/// `$rights` bits of sockets.
const SOCK_SHUTDOWN: u64 = 1 << 28;
const SOCK_ACCEPT: u64 = 1 << 29;

/// Readiness of a socket for poll_oneoff: Some((bytes, hangup)) when ready
/// (a listener is readable when a connection waits).
pub fn ready(s: &Socket, write: bool) -> Option<(u64, bool)> {
    let mut p = libc::pollfd {
        fd: s.raw(),
        events: if write { libc::POLLOUT } else { libc::POLLIN },
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    if unsafe { libc::poll(&mut p, 1, 0) } <= 0 {
        return None;
    }
    let hangup = p.revents & (libc::POLLHUP | libc::POLLERR) != 0;
    let mut avail: libc::c_int = 0;
    if !write && matches!(s.kind, SockKind::Stream(_)) {
        // SAFETY: FIONREAD writes one int.
        unsafe { libc::ioctl(s.raw(), libc::FIONREAD, &mut avail) };
    }
    Some((avail.max(0) as u64, hangup))
}

/// The host descriptors of `fds` that are sockets, for poll_oneoff to sleep in `poll(2)`.
pub fn raw_fd(g: &Guest, fd: u32) -> Option<RawFd> {
    match g.fds.get(fd) {
        Ok(Fd::Socket(s)) => Some(s.raw()),
        _ => None,
    }
}

/// Parses a text address `IP:PORT` (IPv6 in brackets) from guest memory.
fn text_addr(m: &Mem, ptr: u32, len: u32) -> Result<SocketAddr, Errno> {
    let text = std::str::from_utf8(m.slice(ptr, len)?).map_err(|_| Errno::INVAL)?;
    text.trim().parse().map_err(|_| Errno::INVAL)
}

/// `wsh.tcp_connect`: a connected stream socket to `IP:PORT`, when the policy
/// lets the guest out (ENETUNREACH otherwise, as Docker's `--network none`).
pub fn tcp_connect(m: &mut Mem, g: &mut Guest, addr: u32, len: u32, out: u32) -> Result<(), Errno> {
    let mut to = text_addr(m, addr, len)?;
    match (&g.net.bridge, to) {
        // A member of the container's named network: the host port it registered.
        (Some(b), SocketAddr::V4(v4)) if b.covers(*v4.ip()) => {
            to = b.route(v4).map_err(|e| net_errno(&e))?;
        }
        _ if g.net.policy != Policy::Host => return Err(NETUNREACH),
        _ => {}
    }
    let conn = connect(g, to)?;
    let n = g
        .fds
        .insert(Fd::Socket(Socket::new(SockKind::Stream(conn))))?;
    m.write_u32(out, n)
}

/// A non-blocking connect the guest waits for in slices (so Ctrl-C stops it).
fn connect(g: &mut Guest, to: SocketAddr) -> Result<TcpStream, Errno> {
    let family = if to.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: plain socket(2); the descriptor is owned by the TcpStream at once.
    let raw = unsafe { libc::socket(family, ty, 0) };
    if raw < 0 {
        return Err(net_errno(&io::Error::last_os_error()));
    }
    // SAFETY: `raw` is a fresh socket nobody else owns.
    let conn = unsafe { TcpStream::from_raw_fd(raw) };
    let (sa, sa_len) = sockaddr(to);
    // SAFETY: `sa` is a valid sockaddr of `sa_len` bytes.
    let r = unsafe { libc::connect(raw, (&raw const sa).cast(), sa_len) };
    if r == 0 {
        return Ok(conn);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() != Some(libc::EINPROGRESS) {
        return Err(net_errno(&err));
    }
    wait(g, raw, libc::POLLOUT)?;
    match conn.take_error() {
        Ok(None) => Ok(conn),
        Ok(Some(e)) | Err(e) => Err(net_errno(&e)),
    }
}

/// `to` as a `sockaddr_storage` and its length.
fn sockaddr(to: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match to {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and suitably aligned.
            unsafe { std::ptr::write((&raw mut ss).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write((&raw mut ss).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

/// `wsh.tcp_listen`: a listening socket on `IP:PORT`. A published guest port is
/// that port's listener whatever the IP; otherwise the host policy binds the
/// host's port itself (port 0: a free one), and no network refuses with EACCES.
pub fn tcp_listen(m: &mut Mem, g: &mut Guest, addr: u32, len: u32, out: u32) -> Result<(), Errno> {
    let at = text_addr(m, addr, len)?;
    let listener = match g.net.published_for(at.port()) {
        Some(l) => {
            if let (Some(b), Ok(host)) = (&g.net.bridge, l.local_addr()) {
                b.register(at.port(), host.port())
                    .map_err(|e| net_errno(&e))?;
            }
            l
        }
        None => {
            let l = match (g.net.policy, &g.net.bridge) {
                (Policy::Host, _) => TcpListener::bind(at),
                // On a named network: a loopback port the other members are routed to.
                (_, Some(b)) => b.listen(at.port()),
                (_, None) => return Err(Errno::ACCES),
            }
            .map_err(|e| net_errno(&e))?;
            l.set_nonblocking(true).map_err(|e| net_errno(&e))?;
            Arc::new(l)
        }
    };
    let n = g
        .fds
        .insert(Fd::Socket(Socket::new(SockKind::Listener(listener))))?;
    m.write_u32(out, n)
}

/// Writes `text` (at most `cap` bytes) at `buf` and its whole length at `out_len`.
fn write_text(m: &mut Mem, text: &[u8], buf: u32, cap: u32, out_len: u32) -> Result<(), Errno> {
    let n = text.len().min(cap as usize);
    m.write(buf, &text[..n])?;
    m.write_u32(out_len, text.len() as u32)
}

/// `wsh.resolve`: the addresses of a host name, one per line. Numeric addresses
/// and `localhost` always resolve; other names need the host policy (ENETUNREACH),
/// and one that does not resolve is ENOENT.
pub fn resolve(
    m: &mut Mem,
    g: &mut Guest,
    name: u32,
    len: u32,
    buf: u32,
    cap: u32,
    out_len: u32,
) -> Result<(), Errno> {
    let name = std::str::from_utf8(m.slice(name, len)?)
        .map_err(|_| Errno::INVAL)?
        .to_string();
    let ips: Vec<IpAddr> = if let Ok(ip) = name.parse::<IpAddr>() {
        vec![ip]
    } else if name.eq_ignore_ascii_case("localhost") {
        vec![
            IpAddr::from([127, 0, 0, 1]),
            IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ]
    } else if let Some(ip) = g.net.bridge.as_ref().and_then(|b| b.resolve(&name)) {
        vec![IpAddr::V4(ip)]
    } else if g.net.policy != Policy::Host {
        return Err(if g.net.bridge.is_some() {
            Errno::NOENT
        } else {
            NETUNREACH
        });
    } else {
        let mut ips: Vec<IpAddr> = Vec::new();
        for a in (name.as_str(), 0)
            .to_socket_addrs()
            .map_err(|_| Errno::NOENT)?
        {
            if !ips.contains(&a.ip()) {
                ips.push(a.ip());
            }
        }
        ips
    };
    let text: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
    write_text(m, text.join("\n").as_bytes(), buf, cap, out_len)
}

/// `wsh.sock_addr`: a socket's local (`peer` 0) or peer (`peer` 1) address as `IP:PORT`.
pub fn sock_addr(
    m: &mut Mem,
    g: &mut Guest,
    fd: u32,
    peer: u32,
    buf: u32,
    cap: u32,
    out_len: u32,
) -> Result<(), Errno> {
    let s = socket(g, fd)?;
    let addr = match (&s.kind, peer) {
        (SockKind::Listener(l), 0) => l.local_addr(),
        (SockKind::Stream(t), 0) => t.local_addr(),
        (SockKind::Stream(t), 1) => t.peer_addr(),
        (SockKind::Listener(_), 1) => Err(io::Error::from_raw_os_error(libc::ENOTCONN)),
        _ => return Err(Errno::INVAL),
    }
    .map_err(|e| net_errno(&e))?;
    write_text(m, addr.to_string().as_bytes(), buf, cap, out_len)
}
