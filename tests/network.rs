//! Networking through the broker, judged by real clients: host `curl` against
//! published ports (served by the `httpd` applet and by a plain Rust std program
//! on its preopened listener), 50 concurrent clients, `nc` in and out, the
//! default no-network policy and `--network host`, ports freed after the run.
//! Every port is picked free by the kernel (`-p 127.0.0.1:0:GUEST`, read back from
//! wsh's `published` line).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Builds an image tagged `tag` from a Balenafile and extra context files.
fn build_image(tag: &str, balenafile: &str, files: &[(&str, &[u8])]) {
    let dir = tempfile::tempdir().unwrap();
    for (name, data) in files {
        std::fs::write(dir.path().join(name), data).unwrap();
    }
    std::fs::write(dir.path().join("Balenafile"), balenafile).unwrap();
    let out = wsh_cmd(wsh_home())
        .args(["build", "-t", tag])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "build {tag}: {}", text(&out.stderr));
}

/// A container started with `wsh run ARGS...` that keeps serving, and the host
/// port its first published port got. Killed (and waited for) when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = wsh_cmd(wsh_home())
            .arg("run")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let port = loop {
            line.clear();
            if lines.read_line(&mut line).unwrap() == 0 {
                panic!("wsh run {args:?} printed no published port");
            }
            // wsh: published 127.0.0.1:PORT -> GUEST/tcp
            if let Some(rest) = line.strip_prefix("wsh: published 127.0.0.1:") {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        // Keep draining stderr so the server never blocks on it.
        std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
        Server { child, port }
    }

    /// Everything the container writes on stdout, once it ends by itself.
    fn stdout(&mut self) -> String {
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `curl -s ARGS...`.
fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-s", "--max-time", "30"])
        .args(args)
        .output()
        .expect("curl is installed (.ci/run installs it)")
}

const SITE: &str = r#"FROM base
RUN mkdir -p /www/sub && echo 'hello from wsh' > /www/index.html && printf 'plain\n' > /www/sub/a.txt
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"#;

#[test]
fn httpd_on_a_published_port_answers_curl_and_50_concurrent_clients() {
    build_image("net-site", SITE, &[]);
    let s = Server::start(&["-p", "127.0.0.1:0:8080", "net-site"]);
    let out = curl(&["-i", &s.url("/")]);
    let resp = text(&out.stdout);
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.contains("Content-Length: 15\r\n"), "{resp}");
    assert!(resp.ends_with("\r\n\r\nhello from wsh\n"), "{resp}");
    let out = curl(&[&s.url("/sub/a.txt")]);
    assert_eq!(text(&out.stdout), "plain\n");
    let out = curl(&["-o", "/dev/null", "-w", "%{http_code}", &s.url("/missing")]);
    assert_eq!(text(&out.stdout), "404");
    let out = curl(&["-I", &s.url("/sub/a.txt")]);
    let head = text(&out.stdout);
    assert!(
        head.contains("Content-Length: 6\r\n") && head.contains("text/plain"),
        "{head}"
    );
    // 50 clients at once: all answered in full (httpd serves them one by one from the backlog).
    let clients: Vec<Child> = (0..50)
        .map(|_| {
            Command::new("curl")
                .args(["-s", "--max-time", "60", &s.url("/")])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in clients {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(text(&out.stdout), "hello from wsh\n");
    }
    // The port is the container's only while it runs.
    let port = s.port;
    drop(s);
    TcpListener::bind(("127.0.0.1", port)).expect("the published port is free after the run");
}

#[test]
fn minus_capital_p_publishes_the_exposed_ports() {
    build_image("net-site", SITE, &[]);
    let s = Server::start(&["-P", "net-site"]);
    assert_eq!(text(&curl(&[&s.url("/")]).stdout), "hello from wsh\n");
}

#[test]
fn listening_on_a_port_that_is_not_published_is_refused() {
    let out = wsh_cmd(wsh_home())
        .args(["run", "base", "httpd", "-f", "-p", "8080"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "httpd: bind to 0.0.0.0:8080: Permission denied\n"
    );
}

/// A host listener on a free loopback port that answers `back` to whatever it reads.
fn echo_listener() -> (u16, std::thread::JoinHandle<Option<String>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    l.set_nonblocking(true).unwrap();
    let t = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut conn = loop {
            match l.accept() {
                Ok((c, _)) => break c,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(_) => return None,
            }
        };
        conn.set_nonblocking(false).unwrap();
        let mut got = String::new();
        conn.read_to_string(&mut got).unwrap();
        conn.write_all(b"back\n").unwrap();
        Some(got)
    });
    (port, t)
}

#[test]
fn outbound_is_refused_by_default_and_allowed_with_network_host() {
    let (port, listener) = echo_listener();
    let line = format!("echo hello | nc -N 127.0.0.1 {port}");
    let out = wsh_cmd(wsh_home())
        .args(["run", "base", "sh", "-c", &line])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "nc: can't connect to remote host (127.0.0.1): Network unreachable \
         (a wsh container has no network unless run with --network host)\n"
    );
    let out = wsh_cmd(wsh_home())
        .args(["run", "--network", "host", "base", "sh", "-c", &line])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "back\n");
    // Only the second run reached the listener.
    assert_eq!(listener.join().unwrap().as_deref(), Some("hello\n"));
}

#[test]
fn nc_listens_on_a_published_port() {
    let mut s = Server::start(&["-p", "127.0.0.1:0:9000", "base", "nc", "-l", "-p", "9000"]);
    let mut conn = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    conn.write_all(b"to the container\n").unwrap();
    conn.shutdown(std::net::Shutdown::Write).unwrap();
    // nc copies what it got to its stdout and ends when its peer closes.
    assert_eq!(s.stdout(), "to the container\n");
    assert_eq!(s.child.wait().unwrap().code(), Some(0));
}

/// A plain WASI program (Rust std, no `wsh` imports) serving on the listener wsh
/// hands it: fd 4, right after the preopened root, as LISTEN_FDS says.
const STD_SERVER: &str = r#"
use std::io::{Read, Write};
use std::os::fd::FromRawFd;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn fd_fdstat_get(fd: i32, out: *mut u8) -> i32;
}

fn main() {
    assert_eq!(std::env::var("LISTEN_FDS").as_deref(), Ok("1"));
    let mut stat = [0u8; 24];
    assert_eq!(unsafe { fd_fdstat_get(4, stat.as_mut_ptr()) }, 0);
    assert_eq!(stat[0], 6, "fd 4 is a SOCKET_STREAM");
    let listener = unsafe { std::net::TcpListener::from_raw_fd(4) };
    for conn in listener.incoming() {
        let mut conn = conn.unwrap();
        let mut buf = [0u8; 4096];
        let mut head = Vec::new();
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut buf).unwrap();
            if n == 0 { break; }
            head.extend_from_slice(&buf[..n]);
        }
        let body = format!("std server saw {} bytes\n", head.len());
        write!(conn, "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        conn.shutdown(std::net::Shutdown::Both).unwrap();
    }
}
"#;

#[test]
fn a_rust_std_program_serves_on_its_preopened_listener() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("server.rs");
    std::fs::write(&src, STD_SERVER).unwrap();
    let wasm = dir.path().join("server.wasm");
    let out = Command::new("rustc")
        .args(["--edition", "2024", "--target", "wasm32-wasip1", "-O", "-o"])
        .arg(&wasm)
        .arg(&src)
        .output()
        .unwrap();
    assert!(out.status.success(), "rustc: {}", text(&out.stderr));
    let balenafile =
        "FROM base\nCOPY --chmod=755 server.wasm /usr/local/bin/server\nCMD [\"server\"]\n";
    build_image(
        "net-std",
        balenafile,
        &[("server.wasm", &std::fs::read(&wasm).unwrap())],
    );
    let s = Server::start(&["-p", "127.0.0.1:0:80", "net-std"]);
    let out = curl(&[&s.url("/x")]);
    let body = text(&out.stdout);
    assert!(
        body.starts_with("std server saw ") && body.ends_with(" bytes\n"),
        "{body:?}"
    );
}

#[test]
fn wget_fetches_as_gnu_wget_does() {
    build_image("net-site", SITE, &[]);
    let server = Server::start(&["-p", "0:8080", "net-site"]);
    let url = server.url("");
    // Each line runs under GNU wget on the host and under wsh's in a container
    // (with --network host); stdout and exit status must agree.
    let cases = [
        format!("wget -q -O - {url}/"),
        format!("wget -q -O - {url}/sub/a.txt"),
        format!("wget -q -O - {url}/missing; echo $?"),
        format!("wget -q -O - {url}/sub; echo $?"),
        format!(
            "d=$(mktemp -d) && cd $d && wget -q {url}/sub/a.txt && cat a.txt && wget -q {url}/ && cat index.html"
        ),
        format!("wget -q -O - {url}/sub/a.txt {url}/ {url}/nope; echo $?"),
        format!("wget -q --spider {url}/sub/a.txt; echo $?; wget -q --spider {url}/nope; echo $?"),
        "wget -q -O - http://127.0.0.1:1/; echo $?".to_string(),
        format!("wget -q --max-redirect=0 -O - {url}/sub; echo $?"),
        "wget --bogus-option x 2>/dev/null; echo $?; wget 2>/dev/null; echo $?".to_string(),
    ];
    for case in &cases {
        let gnu = Command::new("bash").args(["-c", case]).output().unwrap();
        let ours = wsh_cmd(wsh_home())
            .args(["run", "--network", "host", "base", "sh", "-c", case])
            .output()
            .unwrap();
        // Under -q both say nothing on stderr either.
        let quiet_stderr =
            |o: &Output| case.contains("-q ") && !case.contains("2>") && o.stderr.is_empty();
        assert_eq!(
            (text(&ours.stdout), ours.status.code(), quiet_stderr(&ours)),
            (text(&gnu.stdout), gnu.status.code(), quiet_stderr(&gnu)),
            "{case}\nwsh's stderr: {}\nGNU's stderr: {}",
            text(&ours.stderr),
            text(&gnu.stderr)
        );
    }
}

#[test]
fn containers_on_a_named_network_reach_each_other_by_name() {
    build_image("net-site", SITE, &[]);
    let wsh = |args: &[&str]| wsh_cmd(wsh_home()).args(args).output().unwrap();
    let _ = wsh(&["network", "rm", "wsh-test-net"]);
    let made = wsh(&["network", "create", "wsh-test-net"]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let again = wsh(&["network", "create", "wsh-test-net"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again.stderr));
    let _ = wsh(&["rm", "-f", "netweb"]);
    let started = wsh(&[
        "run",
        "-d",
        "--name",
        "netweb",
        "--network",
        "wsh-test-net",
        "net-site",
    ]);
    assert!(started.status.success(), "{}", text(&started.stderr));
    let fetch = [
        "run",
        "--network",
        "wsh-test-net",
        "base",
        "wget",
        "-q",
        "-O",
        "-",
        "http://netweb:8080/",
    ];
    wait_for("netweb to serve on the network", || {
        wsh(&fetch).status.success()
    });
    assert_eq!(text(&wsh(&fetch).stdout), "hello from wsh\n");
    let ls = text(&wsh(&["network", "ls"]).stdout);
    assert!(
        ls.lines()
            .any(|l| l.starts_with("wsh-test-net") && l.ends_with("netweb")),
        "{ls}"
    );
    // nc too; an unknown name and an unserved port are refused.
    let nc = wsh(&[
        "run",
        "--network",
        "wsh-test-net",
        "base",
        "sh",
        "-c",
        "nc -z netweb 8080; echo $?; nc -z netweb 9 2>/dev/null; echo $?; \
         wget -q -O - http://nobody:8080/; echo $?",
    ]);
    assert_eq!(text(&nc.stdout), "0\n1\n4\n", "{}", text(&nc.stderr));
    // Off the network the name means nothing, and the network is not the host's.
    let off = wsh(&[
        "run",
        "base",
        "wget",
        "-q",
        "-O",
        "-",
        "http://netweb:8080/",
    ]);
    assert_eq!(off.status.code(), Some(4));
    // A network with members is not removed; once they are gone it is.
    assert_eq!(
        wsh(&["network", "rm", "wsh-test-net"]).status.code(),
        Some(1)
    );
    assert!(wsh(&["stop", "netweb"]).status.success());
    assert!(wsh(&["rm", "netweb"]).status.success());
    // (The supervisor may still be exiting when `stop` returns.)
    wait_for("the network to have no members", || {
        wsh(&["network", "rm", "wsh-test-net"]).status.success()
    });
    let gone = wsh(&["run", "--network", "wsh-test-net", "base", "true"]);
    assert_eq!(gone.status.code(), Some(125), "{}", text(&gone.stderr));
    assert!(text(&gone.stderr).contains("network wsh-test-net not found"));
}

#[test]
fn compose_runs_services_that_reach_each_other_by_service_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("web")).unwrap();
    std::fs::write(dir.path().join("web/Balenafile"), SITE).unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n\
         \x20 client:\n\
         \x20   image: base\n\
         \x20   command: [\"sh\", \"-c\", \"until wget -q -O - http://web:8080/; do sleep 0.2; done; echo GREETING=$$GREETING\"]\n\
         \x20   environment:\n\
         \x20     GREETING: hi there\n\
         \x20   depends_on: [web]\n\
         \x20 web:\n\
         \x20   build: ./web\n\
         \x20   volumes: [\"./data:/data\"]\n",
    )
    .unwrap();
    let compose = |args: &[&str]| {
        wsh_cmd(wsh_home())
            .current_dir(dir.path())
            .args(["compose", "-p", "wshtestproj"])
            .args(args)
            .output()
            .unwrap()
    };
    let _ = compose(&["down"]);
    let up = compose(&["up", "-d"]);
    assert!(up.status.success(), "{}", text(&up.stderr));
    // What wsh does not act on is said, not silently dropped.
    assert!(
        text(&up.stderr).contains("service web: `volumes` is ignored"),
        "{}",
        text(&up.stderr)
    );
    wait_for("the client to fetch from web", || {
        text(&compose(&["logs", "client"]).stdout).contains("GREETING=")
    });
    assert_eq!(
        text(&compose(&["logs", "client"]).stdout),
        "client | hello from wsh\nclient | GREETING=hi there\n"
    );
    let ps = text(&compose(&["ps"]).stdout);
    assert!(
        ps.contains("wshtestproj-web-1") && ps.contains("wshtestproj-client-1"),
        "{ps}"
    );
    let down = compose(&["down"]);
    assert!(down.status.success(), "{}", text(&down.stderr));
    let nets = wsh_cmd(wsh_home())
        .args(["network", "ls", "-q"])
        .output()
        .unwrap();
    assert!(!text(&nets.stdout).contains("wshtestproj_default"));
    let all = wsh_cmd(wsh_home()).args(["ps", "-a"]).output().unwrap();
    assert!(
        !text(&all.stdout).contains("wshtestproj-"),
        "{}",
        text(&all.stdout)
    );
    // A dependency cycle is refused before anything starts.
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  a:\n    image: base\n    depends_on: [b]\n  b:\n    image: base\n    depends_on: [a]\n",
    )
    .unwrap();
    let cyc = compose(&["up", "-d"]);
    assert!(!cyc.status.success());
    assert!(text(&cyc.stderr).contains("cycle"), "{}", text(&cyc.stderr));
}

#[test]
fn the_example_web_stage_serves_its_site_detached() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let wsh = |args: &[&str]| wsh_cmd(wsh_home()).args(args).output().unwrap();
    let f = root.join("Balenafile.example");
    let built = wsh_cmd(wsh_home())
        .args(["build", "-q", "--target", "web", "-t", "example-web", "-f"])
        .arg(&f)
        .arg(root)
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", text(&built.stderr));
    let _ = wsh(&["rm", "-f", "example-web-test"]);
    let run = wsh(&[
        "run",
        "-d",
        "--name",
        "example-web-test",
        "-p",
        "0:8080",
        "example-web",
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let mut addr = String::new();
    wait_for("the published port", || {
        addr = text(&wsh(&["port", "example-web-test", "8080"]).stdout)
            .trim()
            .to_string();
        !addr.is_empty() && curl(&[&format!("http://{addr}/")]).status.success()
    });
    let page = text(&curl(&[&format!("http://{addr}/")]).stdout);
    assert!(
        page.contains("<h1>wsh example</h1>") && page.contains("hello from wasm"),
        "{page}"
    );
    assert!(wsh(&["stop", "example-web-test"]).status.success());
    assert!(wsh(&["rm", "example-web-test"]).status.success());
}
