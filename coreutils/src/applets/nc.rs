//! `nc`: busybox/traditional netcat over the broker's sockets: connect to HOST
//! PORT (or `-l -p PORT` accept one connection) and copy stdin to the socket and
//! the socket to stdout; `-z` only checks that a connection can be made.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::{start, strerror};
use crate::wsh;

const HELP: &str = "Usage: nc [OPTIONS] HOST PORT  - connect
nc [OPTIONS] -l -p PORT  - listen

\t-l\tListen for (one) incoming connection
\t-p PORT\tLocal port (with -l)
\t-s ADDR\tLocal address to listen on (with -l; default 0.0.0.0)
\t-q SECS\tQuit SECS seconds after EOF on stdin (default: when the peer closes)
\t-N\tShut the connection down for writing after EOF on stdin
\t-z\tZero-I/O mode: only check that a connection can be made
\t-v\tVerbose
\t    --help\tdisplay this help and exit

A wsh container reaches the network only when run with --network host;
it may listen on its published ports (wsh run -p) always.
";

/// WASI's ENETUNREACH: what a connect gets in a container without network.
const ENETUNREACH: i32 = 40;

#[derive(Default)]
struct Opts {
    listen: bool,
    port: Option<u16>,
    source: Option<IpAddr>,
    quit_after: Option<Duration>,
    shutdown: bool,
    zero: bool,
    verbose: bool,
    rest: Vec<String>,
}

fn parse(a: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut i = 0;
    while i < a.len() {
        let arg = &a[i];
        i += 1;
        let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
            o.rest.push(arg.clone());
            continue;
        };
        for (k, c) in flags.char_indices() {
            match c {
                'l' => o.listen = true,
                'N' => o.shutdown = true,
                'z' => o.zero = true,
                'v' => o.verbose = true,
                'p' | 'q' | 's' => {
                    let tail = &flags[k + 1..];
                    let value = if !tail.is_empty() {
                        tail.to_string()
                    } else if i < a.len() {
                        i += 1;
                        a[i - 1].clone()
                    } else {
                        return Err(format!("option requires an argument -- '{c}'"));
                    };
                    match c {
                        'p' => o.port = Some(port(&value)?),
                        's' => {
                            o.source = Some(
                                value
                                    .parse()
                                    .map_err(|_| format!("bad address '{value}'"))?,
                            )
                        }
                        _ => {
                            let secs: f64 =
                                value.parse().map_err(|_| format!("bad number '{value}'"))?;
                            // busybox: a negative -q waits forever.
                            o.quit_after = (secs >= 0.0).then(|| Duration::from_secs_f64(secs));
                        }
                    }
                    break;
                }
                _ => return Err(format!("invalid option -- '{c}'")),
            }
        }
    }
    Ok(o)
}

fn port(s: &str) -> Result<u16, String> {
    s.parse::<u16>().map_err(|_| format!("bad port '{s}'"))
}

/// Runs nc.
pub fn main(argv: Vec<OsString>) -> i32 {
    let usage = |a: &[String]| {
        parse(a).map_err(|e| format!("nc: {e}\nTry 'nc --help' for more information."))
    };
    let o = match start(argv, HELP, usage, 1) {
        Ok(o) => o,
        Err(status) => return status,
    };
    match run(&o) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("nc: {e}");
            1
        }
    }
}

fn run(o: &Opts) -> Result<i32, String> {
    let conn = if o.listen {
        let port = match (o.port, o.rest.as_slice()) {
            (Some(p), []) => p,
            (None, [p]) => port(p)?,
            _ => return Err("-l needs -p PORT (and no HOST)".into()),
        };
        let at = SocketAddr::new(o.source.unwrap_or(IpAddr::from([0, 0, 0, 0])), port);
        let listener =
            wsh::tcp_listen(&at).map_err(|e| format!("bind to {at}: {}", strerror(&e)))?;
        if o.verbose {
            eprintln!("listening on {at} ...");
        }
        let (conn, _) = listener
            .accept()
            .map_err(|e| format!("accept: {}", strerror(&e)))?;
        if o.verbose {
            let peer = wsh::sock_addr(conn.as_raw_fd(), true).map(|p| p.to_string());
            eprintln!(
                "connect to {at} from {}",
                peer.unwrap_or_else(|_| "?".into())
            );
        }
        conn
    } else {
        let [host, p] = o.rest.as_slice() else {
            return Err("need HOST and PORT\nTry 'nc --help' for more information.".into());
        };
        connect(host, port(p)?)?
    };
    if o.zero {
        return Ok(0);
    }
    pump(&conn, o).map_err(|e| strerror(&e))?;
    Ok(0)
}

/// Connects to the first address of `host` that answers.
fn connect(host: &str, port: u16) -> Result<TcpStream, String> {
    let ips = wsh::resolve(host).map_err(|e| match e.raw_os_error() {
        Some(ENETUNREACH) => format!("{host}: cannot resolve: {}{}", strerror(&e), NO_NET),
        _ => format!("bad address '{host}'"),
    })?;
    let mut last = None;
    for ip in ips {
        match wsh::tcp_connect(&SocketAddr::new(ip, port)) {
            Ok(c) => return Ok(c),
            Err(e) => last = Some((ip, e)),
        }
    }
    let Some((ip, e)) = last else {
        return Err(format!("bad address '{host}'"));
    };
    let hint = if e.raw_os_error() == Some(ENETUNREACH) {
        NO_NET
    } else {
        ""
    };
    Err(format!(
        "can't connect to remote host ({ip}): {}{hint}",
        strerror(&e)
    ))
}

/// What nc adds to ENETUNREACH, the errno of a container without network.
const NO_NET: &str = " (a wsh container has no network unless run with --network host)";

/// Copies stdin to `conn` and `conn` to stdout until the peer closes (or `-q`'s
/// time after stdin's EOF runs out).
fn pump(conn: &TcpStream, o: &Opts) -> io::Result<()> {
    let sock = conn.as_raw_fd();
    let mut stdin_open = true;
    let mut eof_at: Option<Instant> = None;
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = io::stdout().lock();
    loop {
        let mut fds = vec![sock];
        if stdin_open {
            fds.push(0);
        }
        let timeout = match (eof_at, o.quit_after) {
            (Some(at), Some(q)) => {
                let left = q.saturating_sub(at.elapsed());
                if left.is_zero() {
                    return Ok(());
                }
                Some(left)
            }
            _ => None,
        };
        let ready = wsh::poll_read(&fds, timeout)?;
        if ready.is_empty() {
            return Ok(());
        }
        if ready.contains(&sock) {
            let n = (&*conn).read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            out.write_all(&buf[..n])?;
            out.flush()?;
        }
        if ready.contains(&0) {
            let n = io::stdin().lock().read(&mut buf)?;
            if n == 0 {
                stdin_open = false;
                eof_at = Some(Instant::now());
                if o.shutdown {
                    let _ = conn.shutdown(Shutdown::Write);
                }
            } else {
                (&*conn).write_all(&buf[..n])?;
            }
        }
    }
}
