//! wget: fetch URLs over HTTP/1.1 through the broker's sockets (`wsh` host
//! interface), with GNU wget's common options and exit statuses: the file named
//! after the URL (or `-O FILE`, `-O -` for stdout), redirects (at most 20), chunked
//! and length-delimited bodies, `-q`, `-S`, `--header`, `-U`, `-T`,
//! `--max-redirect`, `--spider`. No TLS: `https://` is refused by name.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::{start, strerror};
use crate::wsh;

const HELP: &str = "Usage: wget [OPTION]... URL...
Fetch files over HTTP.

  -O, --output-document=FILE  write everything to FILE ('-': standard output)
  -q, --quiet                 no messages
  -S, --server-response       print the server's response headers (stderr)
      --header=LINE           add a request header (repeatable)
  -U, --user-agent=AGENT      identify as AGENT
  -T, --timeout=SECS          network timeout
      --max-redirect=N        follow at most N redirects (default 20)
      --spider                check that the URLs exist, download nothing
      --help                  display this help and exit

Exit status: 0 success, 1 generic error (https, bad URL), 2 bad option, 3 file I/O error,
4 network failure, 8 the server answered with an error.
A wsh container reaches the network only when run with --network host.
";

/// GNU wget's exit statuses.
const GENERIC: i32 = 1;
const FILE_IO: i32 = 3;
const NETWORK: i32 = 4;
const SERVER: i32 = 8;

struct Opts {
    output: Option<String>,
    quiet: bool,
    server_response: bool,
    headers: Vec<String>,
    agent: String,
    timeout: Option<Duration>,
    max_redirect: usize,
    spider: bool,
    urls: Vec<String>,
}

fn parse(a: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        output: None,
        quiet: false,
        server_response: false,
        headers: Vec::new(),
        agent: "Wget/1.21 (wsh)".into(),
        timeout: None,
        max_redirect: 20,
        spider: false,
        urls: Vec::new(),
    };
    let mut i = 0;
    let value = |i: &mut usize, inline: Option<&str>, name: &str| -> Result<String, String> {
        if let Some(v) = inline {
            return Ok(v.to_string());
        }
        *i += 1;
        a.get(*i)
            .cloned()
            .ok_or_else(|| format!("wget: option requires an argument -- '{name}'"))
    };
    while i < a.len() {
        let arg = a[i].as_str();
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (arg, None),
        };
        match name {
            "-O" | "--output-document" => o.output = Some(value(&mut i, inline, "O")?),
            "-q" | "--quiet" => o.quiet = true,
            "-S" | "--server-response" => o.server_response = true,
            "--header" => o.headers.push(value(&mut i, inline, "header")?),
            "-U" | "--user-agent" => o.agent = value(&mut i, inline, "U")?,
            "-T" | "--timeout" => {
                let v = value(&mut i, inline, "T")?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| format!("wget: --timeout: Invalid time period '{v}'"))?;
                o.timeout = (secs > 0.0).then(|| Duration::from_secs_f64(secs));
            }
            "--max-redirect" => {
                let v = value(&mut i, inline, "max-redirect")?;
                o.max_redirect = v
                    .parse()
                    .map_err(|_| format!("wget: --max-redirect: Invalid number '{v}'"))?;
            }
            "--spider" => o.spider = true,
            s if s.starts_with("-O") && s.len() > 2 => o.output = Some(s[2..].to_string()),
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("wget: unrecognized option '{s}'"));
            }
            _ => o.urls.push(arg.to_string()),
        }
        i += 1;
    }
    Ok(o)
}

/// Why a fetch failed, with the exit status it gives.
struct Failure(i32, String);

/// A response: status line, headers, and the body reader positioned after them.
struct Response {
    code: u16,
    reason: String,
    headers: Vec<(String, String)>,
    raw_head: String,
    body: BufReader<std::net::TcpStream>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn connect(url: &url::Url, o: &Opts) -> Result<std::net::TcpStream, Failure> {
    let host = url
        .host_str()
        .ok_or_else(|| Failure(GENERIC, format!("{url}: Invalid host name.")))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = match bare.parse() {
        Ok(ip) => vec![ip],
        Err(_) => wsh::resolve(bare).map_err(|_| {
            Failure(
                NETWORK,
                format!("wget: unable to resolve host address '{host}'"),
            )
        })?,
    };
    let mut last = None;
    for ip in addrs {
        match wsh::tcp_connect(&SocketAddr::new(ip, port)) {
            Ok(s) => {
                let _ = s.set_read_timeout(o.timeout);
                let _ = s.set_write_timeout(o.timeout);
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    let why = last.map_or("no address".into(), |e| strerror(&e));
    Err(Failure(
        NETWORK,
        format!("Connecting to {host}:{port}... failed: {why}."),
    ))
}

fn request(url: &url::Url, o: &Opts) -> Result<Response, Failure> {
    let mut stream = connect(url, o)?;
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let method = if o.spider { "HEAD" } else { "GET" };
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\nAccept: */*\r\n\
         Accept-Encoding: identity\r\nConnection: close\r\n",
        o.agent
    );
    for h in &o.headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    let io_fail = |e: io::Error| Failure(NETWORK, format!("Read error ({})", strerror(&e)));
    stream.write_all(req.as_bytes()).map_err(io_fail)?;
    let mut body = BufReader::with_capacity(64 << 10, stream);
    // The head: lines up to the empty one, parsed by httparse.
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let n = body.read_until(b'\n', &mut head).map_err(io_fail)?;
        if n == 0 {
            return Err(Failure(NETWORK, "No data received.".into()));
        }
        if head[before..].trim_ascii().is_empty() || head.len() > 1 << 20 {
            break;
        }
    }
    let mut slots = [httparse::EMPTY_HEADER; 100];
    let mut parsed = httparse::Response::new(&mut slots);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(Failure(NETWORK, "Malformed status line".into())),
    }
    Ok(Response {
        code: parsed.code.unwrap_or(0),
        reason: parsed.reason.unwrap_or("").to_string(),
        headers: parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        raw_head: String::from_utf8_lossy(&head).into_owned(),
        body,
    })
}

/// Copies the body of `r` to `out` as its framing says; returns the bytes written.
fn copy_body(r: &mut Response, out: &mut dyn Write) -> io::Result<u64> {
    let chunked = r
        .header("Transfer-Encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if !chunked {
        let len = r
            .header("Content-Length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        return match len {
            Some(n) => {
                let got = io::copy(&mut (&mut r.body).take(n), out)?;
                if got < n {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "Connection closed early",
                    ));
                }
                Ok(got)
            }
            None => io::copy(&mut r.body, out),
        };
    }
    let mut total = 0;
    loop {
        let mut line = String::new();
        r.body.read_line(&mut line)?;
        let size = line.split(';').next().unwrap_or("").trim();
        let n = u64::from_str_radix(size, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if n == 0 {
            return Ok(total);
        }
        let got = io::copy(&mut (&mut r.body).take(n), out)?;
        if got < n {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "Connection closed early",
            ));
        }
        total += got;
        let mut crlf = String::new();
        r.body.read_line(&mut crlf)?;
    }
}

/// The local file name GNU wget picks for `url`: its last path component, or
/// `index.html` for a directory.
fn local_name(url: &url::Url) -> String {
    let last = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("");
    if last.is_empty() {
        "index.html".into()
    } else {
        last.to_string()
    }
}

/// Where the bodies go: stdout, one file for all (`-O`), or a file per URL.
enum Sink {
    Stdout,
    File(std::fs::File),
    PerUrl,
}

fn fetch(text: &str, o: &Opts, sink: &mut Sink) -> Result<(), Failure> {
    let mut url = url::Url::parse(text)
        .or_else(|_| url::Url::parse(&format!("http://{text}")))
        .map_err(|e| Failure(GENERIC, format!("{text}: Invalid URL: {e}")))?;
    let mut redirects = 0;
    loop {
        match url.scheme() {
            "http" => {}
            "https" => {
                return Err(Failure(
                    GENERIC,
                    format!(
                        "{url}: HTTPS is not supported by this wget (no TLS in wsh's userland yet)"
                    ),
                ));
            }
            s => {
                return Err(Failure(
                    GENERIC,
                    format!("{url}: Unsupported scheme '{s}'."),
                ));
            }
        }
        if !o.quiet {
            eprintln!("--  {url}");
        }
        let mut r = request(&url, o)?;
        if o.server_response && !o.quiet {
            for l in r.raw_head.trim_end().lines() {
                eprintln!("  {l}");
            }
        }
        if !o.quiet {
            eprintln!(
                "HTTP request sent, awaiting response... {} {}",
                r.code, r.reason
            );
        }
        if matches!(r.code, 301 | 302 | 303 | 307 | 308) {
            let Some(loc) = r.header("Location").map(str::to_string) else {
                return Err(Failure(SERVER, format!("ERROR {}: {}.", r.code, r.reason)));
            };
            if redirects >= o.max_redirect {
                return Err(Failure(
                    SERVER,
                    format!("{} redirections exceeded.", o.max_redirect),
                ));
            }
            redirects += 1;
            url = url
                .join(&loc)
                .map_err(|e| Failure(GENERIC, format!("{loc}: Invalid URL: {e}")))?;
            if !o.quiet {
                eprintln!("Location: {url} [following]");
            }
            continue;
        }
        if !(200..300).contains(&r.code) {
            return Err(Failure(SERVER, format!("ERROR {}: {}.", r.code, r.reason)));
        }
        if o.spider {
            if !o.quiet {
                eprintln!("Remote file exists.");
            }
            return Ok(());
        }
        let name = local_name(&url);
        let net = |e: io::Error| Failure(NETWORK, format!("Read error ({}).", strerror(&e)));
        let n = match sink {
            Sink::Stdout => {
                let mut out = io::stdout().lock();
                let n = copy_body(&mut r, &mut out).map_err(net)?;
                out.flush()
                    .map_err(|e| Failure(FILE_IO, format!("Write error: {}", strerror(&e))))?;
                n
            }
            Sink::File(f) => copy_body(&mut r, f).map_err(net)?,
            Sink::PerUrl => {
                let mut f = std::fs::File::create(&name)
                    .map_err(|e| Failure(FILE_IO, format!("{name}: {}", strerror(&e))))?;
                copy_body(&mut r, &mut f).map_err(net)?
            }
        };
        if !o.quiet {
            let target = match (sink, &o.output) {
                (Sink::PerUrl, _) => name,
                (_, Some(f)) => f.clone(),
                _ => "-".into(),
            };
            eprintln!("'{target}' saved [{n}]");
        }
        return Ok(());
    }
}

/// Runs wget.
pub fn main(argv: Vec<OsString>) -> i32 {
    let usage =
        |a: &[String]| parse(a).map_err(|m| format!("{m}\nUsage: wget [OPTION]... [URL]..."));
    let o = match start(argv, HELP, usage, 2) {
        Ok(o) => o,
        Err(status) => return status,
    };
    if o.urls.is_empty() {
        eprintln!("wget: missing URL\nUsage: wget [OPTION]... [URL]...");
        return GENERIC;
    }
    let mut sink = match o.output.as_deref() {
        Some("-") => Sink::Stdout,
        Some(f) => match std::fs::File::create(f) {
            Ok(file) => Sink::File(file),
            Err(e) => {
                eprintln!("{f}: {}", strerror(&e));
                return FILE_IO;
            }
        },
        None => Sink::PerUrl,
    };
    let mut status = 0;
    for u in &o.urls {
        if let Err(Failure(code, msg)) = fetch(u, &o, &mut sink) {
            // GNU wget's -q silences the errors too.
            if !o.quiet {
                eprintln!("{msg}");
            }
            // As GNU wget: past 0 and 1, the lower status takes precedence.
            if status <= GENERIC || (code > GENERIC && code < status) {
                status = code;
            }
        }
    }
    status
}
