//! A detached container's control socket: how `exec`, `cp` and `commit` reach the
//! files of a running container, which only its supervisor may open.
//!
//! The supervisor listens on `run/<id>/ctl.sock` (bound and reached through
//! `/proc/self/fd/N/`, the run directory opened, since a store path may exceed the
//! 108 bytes a socket address holds; the directory's permissions are the access
//! control). A client sends one JSON request line, then both sides exchange frames:
//! a kind byte, a big-endian u32 length, the payload.
//!
//! `exec` runs its command in a runtime of its own over the container's file system
//! and process table (its own user, the container's mounts and network), through wsh's interpreter,
//! with the environment and working directory the container's command got.

use std::io::{BufRead as _, BufReader, Read, Write};
use std::os::fd::AsRawFd as _;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use wsh_runtime::{Handle, Runtime};

use crate::build::container_run::{Ready, shell_text};
use crate::interp::{Fds, ImageSystem, Shell};

/// Frame kinds.
const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const EXIT: u8 = 3;
const ERROR: u8 = 4;
const DATA: u8 = 5;
const INFO: u8 = 6;
const OK: u8 = 7;

/// What a client asks of a supervisor.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// Run a command in the container.
    Exec {
        argv: Vec<String>,
        env: Vec<(String, String)>,
        workdir: Option<String>,
        user: Option<String>,
        interactive: bool,
    },
    /// Send `path` as a copy's tar (after an INFO frame saying whether it is a directory).
    CpOut { path: String },
    /// Receive a copy's tar at `dest`.
    CpIn {
        dest: String,
        src_is_dir: bool,
        contents: bool,
        owner: Option<(u32, u32)>,
    },
    /// Copy the container's overlay, consistent, to `dest` (for `commit`).
    Snapshot { dest: PathBuf },
}

fn write_frame(w: &mut impl Write, kind: u8, data: &[u8]) -> std::io::Result<()> {
    let mut head = [0u8; 5];
    head[0] = kind;
    head[1..].copy_from_slice(&(data.len() as u32).to_be_bytes());
    w.write_all(&head)?;
    w.write_all(data)?;
    w.flush()
}

fn read_frame(r: &mut impl Read) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    r.read_exact(&mut head)?;
    let len = u32::from_be_bytes(head[1..].try_into().expect("4 bytes")) as usize;
    let mut data = vec![0u8; len];
    r.read_exact(&mut data)?;
    Ok((head[0], data))
}

/// Writes DATA frames; [`FrameWriter::end`] sends the empty one that ends them.
struct FrameWriter<W: Write>(W);

impl<W: Write> Write for FrameWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = buf.len().min(1 << 20);
        write_frame(&mut self.0, DATA, &buf[..n])?;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write> FrameWriter<W> {
    fn end(mut self) -> std::io::Result<W> {
        write_frame(&mut self.0, DATA, &[])?;
        Ok(self.0)
    }
}

/// Reads DATA frames until the empty one; an ERROR frame becomes an error.
struct FrameReader<R: Read> {
    inner: R,
    buf: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> FrameReader<R> {
    fn new(inner: R) -> Self {
        FrameReader {
            inner,
            buf: Vec::new(),
            at: 0,
            done: false,
        }
    }

    /// Reads what is left of the stream (a tar reader may stop before its padding).
    fn drain(mut self) -> std::io::Result<R> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok(self.inner)
    }
}

impl<R: Read> Read for FrameReader<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.buf.len() {
            if self.done {
                return Ok(0);
            }
            let (kind, data) = read_frame(&mut self.inner)?;
            match kind {
                DATA if data.is_empty() => self.done = true,
                DATA => {
                    self.buf = data;
                    self.at = 0;
                }
                ERROR => return Err(std::io::Error::other(String::from_utf8_lossy(&data))),
                k => return Err(std::io::Error::other(format!("unexpected frame {k}"))),
            }
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The socket's address, reached through an open run directory `dir`.
fn socket_path(dir: &std::fs::File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}/ctl.sock", dir.as_raw_fd()))
}

/// Connects to the supervisor of the container whose run directory is `run_dir`.
pub fn connect(run_dir: &Path) -> std::io::Result<UnixStream> {
    let dir = std::fs::File::open(run_dir)?;
    UnixStream::connect(socket_path(&dir))
}

/// Sends `req` on a new connection.
pub fn request(run_dir: &Path, req: &Request) -> anyhow::Result<UnixStream> {
    let mut s = connect(run_dir).context("cannot reach the container's supervisor")?;
    let mut line = serde_json::to_vec(req)?;
    line.push(b'\n');
    s.write_all(&line)?;
    Ok(s)
}

/// Waits for an OK frame; an ERROR frame is the error it says.
pub fn expect_ok(s: &mut impl Read) -> anyhow::Result<Vec<u8>> {
    match read_frame(s).context("the container's supervisor hung up")? {
        (OK | INFO, data) => Ok(data),
        (ERROR, msg) => anyhow::bail!("{}", String::from_utf8_lossy(&msg)),
        (k, _) => anyhow::bail!("unexpected answer {k} from the supervisor"),
    }
}

/// What the supervisor needs to serve requests.
struct Served {
    vfs: Arc<fsimage::Vfs>,
    main: Runtime,
    prelude: String,
    overlay: PathBuf,
}

/// Starts serving the control socket in `run_dir` for the container that is `ready`.
pub fn serve(run_dir: &Path, overlay: PathBuf, ready: &Ready<'_>) -> anyhow::Result<()> {
    let dir = std::fs::File::open(run_dir)?;
    let path = socket_path(&dir);
    // A previous run's socket.
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).context("cannot make the control socket")?;
    // Only the owner may connect (connecting takes write permission), whatever the umask.
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .context("cannot restrict the control socket")?;
    let rt = ready.container.runtime();
    let served = Arc::new(Served {
        vfs: rt.vfs().clone(),
        main: rt.clone(),
        prelude: ready.prelude.to_string(),
        overlay,
    });
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let served = served.clone();
            std::thread::spawn(move || {
                let mut w = match conn.try_clone() {
                    Ok(w) => w,
                    Err(_) => return,
                };
                if let Err(e) = handle(&served, conn) {
                    let _ = write_frame(&mut w, ERROR, format!("{e:#}").as_bytes());
                }
            });
        }
    });
    Ok(())
}

fn handle(served: &Served, conn: UnixStream) -> anyhow::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let req: Request = serde_json::from_str(&line).context("a bad request")?;
    let mut w = conn;
    match req {
        Request::Exec {
            argv,
            env,
            workdir,
            user,
            interactive,
        } => exec(served, reader, w, &argv, &env, workdir, user, interactive),
        Request::CpOut { path } => {
            let src = images::cp::source_in(&served.vfs, &path)?;
            write_frame(&mut w, INFO, &[src.is_dir as u8])?;
            let mut fw = FrameWriter(w);
            images::cp::write_source(&served.vfs, &src, &mut fw)?;
            fw.end()?;
            Ok(())
        }
        Request::CpIn {
            dest,
            src_is_dir,
            contents,
            owner,
        } => {
            let vfs = &served.vfs;
            let target =
                images::cp::target(&dest, src_is_dir, contents, |p| images::cp::kind_in(vfs, p))?;
            write_frame(&mut w, OK, &[])?;
            let mut fr = FrameReader::new(reader);
            images::cp::extract_in(vfs, &target, owner, &mut fr)?;
            fr.drain()?;
            write_frame(&mut w, OK, &[])?;
            Ok(())
        }
        Request::Snapshot { dest } => {
            served
                .vfs
                .frozen(|| std::fs::copy(&served.overlay, &dest))?
                .context("cannot copy the container's files")?;
            write_frame(&mut w, OK, &[])?;
            Ok(())
        }
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Copies what a runtime pipe's read end gives into frames of `kind`.
fn pump(from: Handle, kind: u8, to: Arc<Mutex<UnixStream>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut s = to.lock().unwrap_or_else(|e| e.into_inner());
                    if write_frame(&mut *s, kind, &buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn exec(
    served: &Served,
    mut reader: BufReader<UnixStream>,
    w: UnixStream,
    argv: &[String],
    env: &[(String, String)],
    workdir: Option<String>,
    user: Option<String>,
    interactive: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(!argv.is_empty(), "exec: no command given");
    // The container's programs, locks and FIFOs are the exec'd command's too (`ps`).
    let rt = served.main.sibling();
    rt.set_mounts((*served.main.mounts()).clone());
    rt.set_network((*served.main.network()).clone());
    let mut prelude = served.prelude.clone();
    match &user {
        Some(spec) => {
            let u = crate::build::user::resolve(&served.vfs, spec)?;
            rt.set_credentials(u.creds.clone());
            prelude.push_str(&crate::build::user::home_export(&[], &u));
        }
        None => rt.set_credentials((*served.main.credentials()).clone()),
    }
    for (k, v) in env {
        prelude.push_str(&format!("export {k}={}\n", quote(v)));
    }
    if let Some(wd) = &workdir {
        prelude.push_str(&format!("cd {}\n", quote(wd)));
    }
    let (out_r, out_w) = wsh_runtime::io::pipe();
    let (err_r, err_w) = wsh_runtime::io::pipe();
    let stdin = if interactive {
        let (in_r, in_w) = wsh_runtime::io::pipe();
        std::thread::spawn(move || {
            while let Ok((STDIN, data)) = read_frame(&mut reader) {
                if data.is_empty() || in_w.write_all(&data).is_err() {
                    break;
                }
            }
            drop(in_w);
        });
        in_r
    } else {
        Handle::Null
    };
    let w = Arc::new(Mutex::new(w));
    let pumps = [
        pump(out_r, STDOUT, w.clone()),
        pump(err_r, STDERR, w.clone()),
    ];
    let status = {
        let fds = Fds::standard(stdin, out_w, err_w);
        let mut sh = Shell::new(ImageSystem::new(rt.clone()));
        if sh.run_text(&prelude, &fds) != 0 {
            let msg = format!(
                "exec: cannot set up the command's environment or enter {}\n",
                workdir.as_deref().unwrap_or("the working directory")
            );
            let _ = write_frame(&mut *w.lock().unwrap(), STDERR, msg.as_bytes());
            126
        } else {
            let sh_c = matches!(argv, [s, c, _, ..] if (s == "/bin/sh" || s == "sh") && c == "-c");
            if sh_c && argv.len() > 3 {
                sh.set_args(argv[3].clone(), argv[4..].to_vec());
            }
            sh.run_text(&shell_text(argv), &fds)
        }
    };
    rt.settle();
    for p in pumps {
        let _ = p.join();
    }
    let mut s = w.lock().unwrap_or_else(|e| e.into_inner());
    write_frame(&mut *s, EXIT, &status.to_be_bytes())?;
    Ok(())
}

/// The client side of `exec`: forwards stdin (with `interactive`), prints what the
/// command writes, returns its exit status.
pub fn run_exec(run_dir: &Path, req: &Request, interactive: bool) -> anyhow::Result<i32> {
    let s = request(run_dir, req)?;
    if interactive {
        let mut w = s.try_clone()?;
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let mut stdin = std::io::stdin().lock();
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if write_frame(&mut w, STDIN, &buf[..n]).is_err() {
                            return;
                        }
                    }
                }
            }
            let _ = write_frame(&mut w, STDIN, &[]);
        });
    }
    let mut r = BufReader::new(s);
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    loop {
        let (kind, data) =
            read_frame(&mut r).context("the container stopped before the command ended")?;
        match kind {
            STDOUT => {
                // A closed stdout (`| head`) ends the client quietly, as the command's
                // own writes would end it.
                if out.write_all(&data).and_then(|()| out.flush()).is_err() {
                    return Ok(141);
                }
            }
            STDERR => {
                let _ = err.write_all(&data);
            }
            EXIT => {
                let code: [u8; 4] = data.as_slice().try_into().context("a bad exit frame")?;
                return Ok(i32::from_be_bytes(code));
            }
            ERROR => anyhow::bail!("{}", String::from_utf8_lossy(&data)),
            k => anyhow::bail!("unexpected frame {k} from the supervisor"),
        }
    }
}

/// The client side of `cp` out of a running container: whether the source is a
/// directory, and a reader of its tar.
pub fn cp_out(run_dir: &Path, path: &str) -> anyhow::Result<(bool, impl Read + use<>)> {
    let mut s = request(
        run_dir,
        &Request::CpOut {
            path: path.to_string(),
        },
    )?;
    let info = expect_ok(&mut s)?;
    Ok((
        info.first() == Some(&1),
        FrameReader::new(BufReader::new(s)),
    ))
}

/// The client side of `cp` into a running container: `write` writes the tar.
pub fn cp_in(
    run_dir: &Path,
    req: &Request,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut s = request(run_dir, req)?;
    expect_ok(&mut s)?;
    let mut fw = FrameWriter(s.try_clone()?);
    let sent = write(&mut fw).and_then(|()| Ok(fw.end()?));
    // A supervisor that gave up half-way says why before it hung up.
    let answer = expect_ok(&mut s);
    sent.and(answer)?;
    Ok(())
}
