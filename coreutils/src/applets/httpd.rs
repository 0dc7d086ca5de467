//! `httpd`: busybox's static file server over the broker's sockets: GET and HEAD,
//! `index.html` for directories, 404/403/501 pages, Content-Length, one request
//! per connection (`Connection: close`), connections served one after another.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};

use super::{start, strerror};
use crate::wsh;

const HELP: &str = "Usage: httpd [-fv] [-p [IP:]PORT] [-h HOME]

Listen for incoming HTTP requests and serve the files under HOME.

\t-f\t\tRun in foreground (always: wsh has no daemons; use `wsh run -d`)
\t-v[v]\t\tVerbose: log each request to stderr
\t-p [IP:]PORT\tBind to IP:PORT (default *:80)
\t-h HOME\t\tHome directory (default .)
\t    --help\tdisplay this help and exit

Only GET and HEAD are served; a directory is served as its index.html.
";

/// Parsed options.
struct Opts {
    verbose: u32,
    addr: SocketAddr,
    home: PathBuf,
}

fn parse(a: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        verbose: 0,
        addr: SocketAddr::from(([0, 0, 0, 0], 80)),
        home: PathBuf::from("."),
    };
    let mut i = 0;
    while i < a.len() {
        let arg = &a[i];
        i += 1;
        let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
            return Err(format!("unexpected argument '{arg}'"));
        };
        for (k, c) in flags.char_indices() {
            match c {
                'f' => {}
                'v' => o.verbose += 1,
                'p' | 'h' => {
                    let rest = &flags[k + 1..];
                    let value = if !rest.is_empty() {
                        rest.to_string()
                    } else if i < a.len() {
                        i += 1;
                        a[i - 1].clone()
                    } else {
                        return Err(format!("option requires an argument -- '{c}'"));
                    };
                    if c == 'p' {
                        o.addr = parse_addr(&value)?;
                    } else {
                        o.home = PathBuf::from(value);
                    }
                    break;
                }
                _ => return Err(format!("invalid option -- '{c}'")),
            }
        }
    }
    Ok(o)
}

/// `PORT`, `IP:PORT` or `[IPV6]:PORT`.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([0, 0, 0, 0], port)));
    }
    s.parse().map_err(|_| format!("bad address '{s}'"))
}

/// Runs httpd.
pub fn main(argv: Vec<OsString>) -> i32 {
    let usage = |a: &[String]| {
        parse(a).map_err(|e| format!("httpd: {e}\nTry 'httpd --help' for more information."))
    };
    let o = match start(argv, HELP, usage, 1) {
        Ok(o) => o,
        Err(status) => return status,
    };
    let home = if o.home.is_absolute() {
        o.home.clone()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(&o.home)
    };
    if !home.is_dir() {
        eprintln!("httpd: can't change directory to '{}'", o.home.display());
        return 1;
    }
    let listener = match wsh::tcp_listen(&o.addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("httpd: bind to {}: {}", o.addr, strerror(&e));
            return 1;
        }
    };
    loop {
        match listener.accept() {
            Ok((conn, _)) => {
                if let Err(e) = serve(conn, &home, o.verbose)
                    && o.verbose > 1
                {
                    eprintln!("httpd: {}", strerror(&e));
                }
            }
            Err(e) => {
                eprintln!("httpd: accept: {}", strerror(&e));
                return 1;
            }
        }
    }
}

/// Reads the request head (up to the blank line, at most 8 KiB).
fn read_head(conn: &mut TcpStream) -> io::Result<Option<String>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        if head.len() > 8192 {
            return Ok(None);
        }
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(Some(String::from_utf8_lossy(&head).into_owned()))
}

/// Decodes `%XX` escapes; None for a bad escape.
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html",
        "txt" | "md" => "text/plain",
        "css" => "text/css",
        "js" => "application/javascript",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// Sends a status line, headers and an HTML body naming the status (busybox's pages).
fn error_page(
    conn: &mut TcpStream,
    code: u16,
    reason: &str,
    head_only: bool,
    extra: &str,
) -> io::Result<u16> {
    let body = format!(
        "<HTML><HEAD><TITLE>{code} {reason}</TITLE></HEAD>\n<BODY><H1>{code} {reason}</H1>\n</BODY></HTML>\n"
    );
    let mut out = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/html\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        out.push_str(&body);
    }
    conn.write_all(out.as_bytes())?;
    Ok(code)
}

/// Answers one request on `conn`.
fn serve(mut conn: TcpStream, home: &Path, verbose: u32) -> io::Result<()> {
    let Some(head) = read_head(&mut conn)? else {
        return Ok(());
    };
    let line = head.lines().next().unwrap_or_default().to_string();
    let mut words = line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let head_only = method == "HEAD";
    let code = respond(&mut conn, home, method, target, head_only)?;
    if verbose > 0 {
        use std::os::fd::AsRawFd;
        // std has no peer address on WASI; the `wsh` interface does.
        let peer = wsh::sock_addr(conn.as_raw_fd(), true)
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|_| "?".into());
        eprintln!("{peer} {code} {line}");
    }
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Write);
    Ok(())
}

fn respond(
    conn: &mut TcpStream,
    home: &Path,
    method: &str,
    target: &str,
    head_only: bool,
) -> io::Result<u16> {
    if method != "GET" && method != "HEAD" {
        return error_page(conn, 501, "Not Implemented", false, "");
    }
    let path = target.split(['?', '#']).next().unwrap_or("");
    let Some(decoded) = percent_decode(path).filter(|p| p.starts_with(b"/")) else {
        return error_page(conn, 400, "Bad Request", head_only, "");
    };
    let decoded = String::from_utf8_lossy(&decoded).into_owned();
    if decoded.split('/').any(|c| c == "..") {
        return error_page(conn, 400, "Bad Request", head_only, "");
    }
    let mut file = home.join(decoded.trim_start_matches('/'));
    if file.is_dir() {
        if !decoded.ends_with('/') {
            let loc = format!("Location: {path}/\r\n");
            return error_page(conn, 301, "Moved Permanently", head_only, &loc);
        }
        file.push("index.html");
    }
    let mut f = match std::fs::File::open(&file) {
        Ok(f) if file.is_file() => f,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return error_page(conn, 403, "Forbidden", head_only, "");
        }
        _ => return error_page(conn, 404, "Not Found", head_only, ""),
    };
    let len = f.metadata()?.len();
    let header = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
        content_type(&file)
    );
    conn.write_all(header.as_bytes())?;
    if !head_only {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            conn.write_all(&buf[..n])?;
        }
    }
    Ok(200)
}
