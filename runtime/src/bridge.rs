//! A named network (`wsh network create NAME`, `wsh run --network NAME`) without
//! root or a daemon: the containers on it reach each other by container name, and
//! nothing else. Every guest socket goes through the broker, so the "bridge" is a
//! directory of small files the broker reads and writes:
//!
//! ```text
//! DIR/lock                      taken while a member joins (flock)
//! DIR/members/NAME/ip           the member's address, 10.89.0.N
//! DIR/members/NAME/pid          the wsh process the member runs in
//! DIR/members/NAME/ports/PORT   the host port (on 127.0.0.1) serving guest port PORT
//! ```
//!
//! A name resolves to its member's address; a connect to that address and a port
//! is a connect to the host port registered for it; a member listening on a port
//! listens on a free loopback port and registers it. A member leaves when its
//! runtime drops the bridge; one whose process is gone (stopped, killed) counts as
//! gone too, and its files are swept by the next member to join.

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The network's addresses: 10.89.0.0/24 (2 to 254 for members).
const SUBNET: [u8; 3] = [10, 89, 0];

/// One container's membership of a named network.
#[derive(Debug)]
pub struct Bridge {
    dir: PathBuf,
    name: String,
    ip: Ipv4Addr,
}

/// Whether the member whose files are in `member` still runs (its process lives).
fn alive(member: &Path) -> bool {
    let Some(pid) = fs::read_to_string(member.join("pid"))
        .ok()
        .and_then(|p| p.trim().parse::<libc::pid_t>().ok())
    else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// The names of the members of the network in `dir` that still run.
pub fn members(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.join("members"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| alive(&e.path()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Writes `text` to `path` through a temporary file renamed over it.
fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path)
}

impl Bridge {
    /// Joins the network whose state is in `dir` as `name` (a container name),
    /// taking the lowest free address.
    pub fn join(dir: &Path, name: &str) -> io::Result<Bridge> {
        if name.is_empty() || name.contains(['/', '\0']) || name.starts_with('.') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?} cannot be a member's name"),
            ));
        }
        let members = dir.join("members");
        fs::create_dir_all(&members)?;
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))?;
        // SAFETY: flock on a descriptor we own; released when `lock` closes.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let me = members.join(name);
        // A member of the same name that is gone (its process killed) is replaced.
        let _ = fs::remove_dir_all(&me);
        let mut used = Vec::new();
        for entry in fs::read_dir(&members)?.flatten() {
            if !alive(&entry.path()) {
                let _ = fs::remove_dir_all(entry.path());
                continue;
            }
            if let Ok(ip) = fs::read_to_string(entry.path().join("ip"))
                && let Ok(ip) = ip.trim().parse::<Ipv4Addr>()
            {
                used.push(ip.octets()[3]);
            }
        }
        let last = (2..=254u8).find(|n| !used.contains(n)).ok_or_else(|| {
            io::Error::new(io::ErrorKind::AddrInUse, "the network has no free address")
        })?;
        let ip = Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], last);
        fs::create_dir_all(me.join("ports"))?;
        write_atomic(&me.join("pid"), &std::process::id().to_string())?;
        write_atomic(&me.join("ip"), &ip.to_string())?;
        Ok(Bridge {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            ip,
        })
    }

    /// This member's address on the network.
    pub fn ip(&self) -> Ipv4Addr {
        self.ip
    }

    fn member(&self, name: &str) -> PathBuf {
        self.dir.join("members").join(name)
    }

    /// The address of member `name` (a bare container name), if it is on the network.
    pub fn resolve(&self, name: &str) -> Option<Ipv4Addr> {
        let name = name.trim_end_matches('.');
        if name.is_empty() || name.contains(['/', '\0']) || name.starts_with('.') {
            return None;
        }
        let member = self.member(name);
        if !alive(&member) {
            return None;
        }
        fs::read_to_string(member.join("ip"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Whether `ip` is an address of this network.
    pub fn covers(&self, ip: Ipv4Addr) -> bool {
        ip.octets()[..3] == SUBNET
    }

    /// Where a connect to `to` goes on the host: the port its member registered.
    /// ECONNREFUSED when no member has that address or listens on that port.
    pub fn route(&self, to: SocketAddrV4) -> io::Result<SocketAddr> {
        let refused = || io::Error::from_raw_os_error(libc::ECONNREFUSED);
        let members = fs::read_dir(self.dir.join("members"))?;
        for entry in members.flatten().filter(|e| alive(&e.path())) {
            let ip = fs::read_to_string(entry.path().join("ip")).unwrap_or_default();
            if ip.trim().parse::<Ipv4Addr>().ok() != Some(*to.ip()) {
                continue;
            }
            let port = fs::read_to_string(entry.path().join("ports").join(to.port().to_string()))
                .map_err(|_| refused())?;
            let port: u16 = port.trim().parse().map_err(|_| refused())?;
            return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
        }
        Err(refused())
    }

    /// A listener for this member's guest port `port` on a free loopback port,
    /// registered so that the other members reach it.
    pub fn listen(&self, port: u16) -> io::Result<TcpListener> {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        self.register(port, l.local_addr()?.port())?;
        Ok(l)
    }

    /// Registers host port `host` (on 127.0.0.1) as this member's guest port `port`.
    pub fn register(&self, port: u16, host: u16) -> io::Result<()> {
        write_atomic(
            &self.member(&self.name).join("ports").join(port.to_string()),
            &host.to_string(),
        )
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let me = self.member(&self.name);
        // Only if the files are still this member's (not a newer one of that name).
        if fs::read_to_string(me.join("ip")).is_ok_and(|ip| ip.trim() == self.ip.to_string()) {
            let _ = fs::remove_dir_all(me);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_resolve_route_and_leave() {
        let dir = tempfile::tempdir().unwrap();
        let web = Bridge::join(dir.path(), "web").unwrap();
        let client = Bridge::join(dir.path(), "client").unwrap();
        assert_ne!(web.ip(), client.ip());
        assert_eq!(client.resolve("web"), Some(web.ip()));
        assert_eq!(client.resolve("nobody"), None);
        assert_eq!(client.resolve("../web"), None);
        let l = web.listen(8080).unwrap();
        let to = SocketAddrV4::new(web.ip(), 8080);
        assert_eq!(client.route(to).unwrap(), l.local_addr().unwrap());
        let refused = client.route(SocketAddrV4::new(web.ip(), 9)).unwrap_err();
        assert_eq!(refused.raw_os_error(), Some(libc::ECONNREFUSED));
        assert_eq!(members(dir.path()), ["client", "web"]);
        drop(web);
        assert_eq!(client.resolve("web"), None);
        // A member whose process is gone counts as gone.
        let ghost = dir.path().join("members/ghost");
        fs::create_dir_all(&ghost).unwrap();
        fs::write(ghost.join("ip"), "10.89.0.9").unwrap();
        fs::write(ghost.join("pid"), "2147483646").unwrap();
        assert_eq!(client.resolve("ghost"), None);
        assert_eq!(members(dir.path()), ["client"]);
        // The freed address is taken again.
        let again = Bridge::join(dir.path(), "again").unwrap();
        assert_eq!(again.ip(), *to.ip());
    }
}
