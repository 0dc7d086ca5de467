//! The `wsh` import module: what WASI preview1 lacks and a Unix userland needs —
//! full stat (mode, owner, times in ns), chmod, chown, utimens, umask, isatty and
//! the terminal size, pipes, and starting programs in the same container.
//!
//! Exact signatures and record layouts are in docs/host-interface.md. Every
//! function returns a WASI errno; guests that never import "wsh" are unaffected.

use std::collections::HashMap;
use std::sync::Arc;

use fsimage::{FileType, Ino};
use wasmtime::{Caller, Linker};

use super::abi::{Errno, Mem, fstflags};
use super::fdtable::Fd;
use super::{Guest, call};
use super::{access, host_access};
use crate::io::{Handle, host_isatty};
use crate::mounts::{HostFile, Mount};
use crate::{Child, Command, SpawnError};

/// The import module name guests link against.
pub const MODULE: &str = "wsh";

/// Size of the `wsh_stat` record.
pub const STAT_SIZE: usize = 88;
/// Size of the `wsh_spawn` request record.
pub const SPAWN_REQ_SIZE: u32 = 40;

/// `flags` bit of the path calls: follow a final symlink.
pub const FOLLOW: u32 = 1;
/// `wsh_spawn.flags` bit: `argv` holds one string, a shell command line.
pub const SPAWN_COMMAND_LINE: u32 = 1;
/// `wait` flag: return EAGAIN instead of blocking while the child runs.
pub const WAIT_NOHANG: u32 = 1;

/// Errnos this module adds to the ones the broker already uses.
const CHILD: Errno = Errno(12);
const NOEXEC: Errno = Errno(45);
const NOTTY: Errno = Errno::NOTTY;

/// PATH when the spawn request's environment has none (as bash's default).
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Programs a guest started and has not yet waited for.
#[derive(Default)]
pub struct Children {
    next: u32,
    running: HashMap<u32, Child>,
}

/// Linux `st_mode` file-type bits.
fn type_bits(kind: FileType) -> u32 {
    match kind {
        FileType::Regular => libc::S_IFREG,
        FileType::Directory => libc::S_IFDIR,
        FileType::Symlink => libc::S_IFLNK,
        FileType::CharDevice => libc::S_IFCHR,
        FileType::BlockDevice => libc::S_IFBLK,
        FileType::Fifo => libc::S_IFIFO,
        FileType::Socket => libc::S_IFSOCK,
    }
}

fn ns(t: fsimage::Timestamp) -> i64 {
    t.sec
        .saturating_mul(1_000_000_000)
        .saturating_add(t.nsec as i64)
}

/// The fields of a `wsh_stat` record.
#[derive(Default)]
struct Stat {
    dev: u64,
    ino: u64,
    mode: u32,
    nlink: u32,
    uid: u32,
    gid: u32,
    rdev: u64,
    size: u64,
    blocks: u64,
    blksize: u32,
    atime: i64,
    mtime: i64,
    ctime: i64,
}

impl Stat {
    fn of(st: &fsimage::Stat) -> Stat {
        Stat {
            dev: 1,
            ino: st.ino as u64,
            mode: type_bits(st.kind) | (st.mode & 0o7777),
            nlink: st.nlink,
            uid: st.uid,
            gid: st.gid,
            // fsimage does not expose device numbers; images hold no device nodes yet.
            rdev: 0,
            size: st.size,
            blocks: st.blocks,
            blksize: 4096,
            atime: ns(st.atime),
            mtime: ns(st.mtime),
            ctime: ns(st.ctime),
        }
    }

    /// A stream (pipe, terminal, /dev/null) has no inode in the image.
    fn stream(mode: u32) -> Stat {
        Stat {
            mode,
            nlink: 1,
            blksize: 4096,
            ..Default::default()
        }
    }

    fn write(&self, m: &mut Mem, ptr: u32) -> Result<(), Errno> {
        let mut rec = [0u8; STAT_SIZE];
        rec[0..8].copy_from_slice(&self.dev.to_le_bytes());
        rec[8..16].copy_from_slice(&self.ino.to_le_bytes());
        rec[16..20].copy_from_slice(&self.mode.to_le_bytes());
        rec[20..24].copy_from_slice(&self.nlink.to_le_bytes());
        rec[24..28].copy_from_slice(&self.uid.to_le_bytes());
        rec[28..32].copy_from_slice(&self.gid.to_le_bytes());
        rec[32..40].copy_from_slice(&self.rdev.to_le_bytes());
        rec[40..48].copy_from_slice(&self.size.to_le_bytes());
        rec[48..56].copy_from_slice(&self.blocks.to_le_bytes());
        rec[56..60].copy_from_slice(&self.blksize.to_le_bytes());
        rec[64..72].copy_from_slice(&self.atime.to_le_bytes());
        rec[72..80].copy_from_slice(&self.mtime.to_le_bytes());
        rec[80..88].copy_from_slice(&self.ctime.to_le_bytes());
        m.write(ptr, &rec)
    }
}

/// The host descriptor behind a host stdio handle, for tty questions.
use super::tty::host_fd;

/// What a call on a file names: an inode of the image, a path below a host
/// mount (following a last symlink or not), or an open host file.
enum Node {
    Image(Ino),
    Host(Arc<Mount>, Vec<u8>, bool),
    HostFile(Arc<HostFile>),
}

/// The file a path call names, relative to directory `dirfd`.
fn resolve(g: &Guest, dirfd: u32, path: &[u8], flags: u32) -> Result<Node, Errno> {
    let follow = flags & FOLLOW != 0;
    Ok(match super::path_calls::at(g, dirfd, path.to_vec())? {
        super::path_calls::At::Image(base, path) => {
            Node::Image(access::resolve(&g.vfs, &g.creds, base, &path, follow)?)
        }
        super::path_calls::At::Host(mount, rel) => Node::Host(mount, rel, follow),
    })
}

/// The file behind descriptor `fd` (a directory or a regular file).
fn fd_node(g: &Guest, fd: u32) -> Result<Node, Errno> {
    match g.fds.get(fd)? {
        Fd::Dir(d) => Ok(Node::Image(d.ino)),
        Fd::HostDir(h) => Ok(Node::Host(h.mount.clone(), h.rel.clone(), true)),
        Fd::Handle(Handle::File(f)) => Ok(Node::Image(f.ino())),
        Fd::Handle(Handle::HostFile(f)) => Ok(Node::HostFile(f.clone())),
        Fd::Handle(_) | Fd::Socket(_) => Err(Errno::BADF),
    }
}

fn node_stat(g: &Guest, node: &Node) -> Result<Stat, Errno> {
    // Host files are on a device of their own, as a bind mount would be.
    let host = |st: fsimage::Stat| Stat {
        dev: 2,
        ..Stat::of(&st)
    };
    Ok(match node {
        Node::Image(ino) => Stat::of(&g.vfs.stat(*ino)?),
        Node::Host(m, rel, follow) => host(m.stat(rel, *follow)?),
        Node::HostFile(f) => host(f.stat()?),
    })
}

fn stat(
    m: &mut Mem,
    g: &mut Guest,
    dirfd: u32,
    path: &[u8],
    flags: u32,
    out: u32,
) -> Result<(), Errno> {
    if let Some(h) = super::path_calls::device(g, dirfd, path)? {
        return device_stat(&h).write(m, out);
    }
    let node = resolve(g, dirfd, path, flags)?;
    if let Node::Image(ino) = node
        && let Some(h) = crate::io::placeholder_device(&g.vfs, ino)
    {
        return device_stat(&h).write(m, out);
    }
    node_stat(g, &node)?.write(m, out)
}

fn fstat(m: &mut Mem, g: &mut Guest, fd: u32, out: u32) -> Result<(), Errno> {
    let st = match g.fds.get(fd)? {
        Fd::Handle(h @ (Handle::Null | Handle::Device(_))) => device_stat(h),
        Fd::Handle(Handle::PipeRead(_) | Handle::PipeWrite(_)) => {
            Stat::stream(libc::S_IFIFO | 0o600)
        }
        Fd::Socket(_) => Stat::stream(libc::S_IFSOCK | 0o777),
        Fd::Handle(h @ (Handle::HostStdin | Handle::HostStdout | Handle::HostStderr)) => {
            match host_fd(h) {
                Some(n) if host_isatty(n) => Stat::stream(libc::S_IFCHR | 0o620),
                _ => Stat::stream(libc::S_IFIFO | 0o600),
            }
        }
        _ => node_stat(g, &fd_node(g, fd)?)?,
    };
    st.write(m, out)
}

/// A synthesized device as Linux's `/dev` shows it: crw-rw-rw- root root, rdev 1,N.
fn device_stat(h: &Handle) -> Stat {
    Stat {
        rdev: h.rdev().unwrap_or_default(),
        ..Stat::stream(libc::S_IFCHR | 0o666)
    }
}

fn chmod_node(g: &Guest, node: Node, mode: u32) -> Result<(), Errno> {
    match node {
        Node::Image(ino) => {
            // Linux has no lchmod: a symlink's own mode cannot change.
            let st = g.vfs.stat(ino)?;
            if st.kind == FileType::Symlink {
                return Err(Errno::NOTSUP);
            }
            access::may_set_attrs(&g.creds, &st)?;
            let mode = access::chmod_mode(&g.creds, &st, mode & 0o7777);
            Ok(g.vfs.set_mode(ino, mode)?)
        }
        Node::Host(m, rel, follow) => {
            host_access::may_chmod(&m, &g.creds, &rel, follow)?;
            Ok(m.chmod(&rel, follow, mode)?)
        }
        Node::HostFile(f) => {
            access::may_set_attrs(&g.creds, &f.stat()?)?;
            Ok(f.chmod(mode)?)
        }
    }
}

fn chown_node(g: &Guest, node: Node, uid: i32, gid: i32) -> Result<(), Errno> {
    let keep = |id: i32| (id >= 0).then_some(id as u32);
    match node {
        Node::Image(ino) => {
            if !g.creds.is_root() {
                access::may_chown(&g.creds, &g.vfs.stat(ino)?, keep(uid), keep(gid))?;
            }
            Ok(g.vfs.set_owner(ino, keep(uid), keep(gid))?)
        }
        Node::Host(m, rel, follow) => {
            host_access::may_chown(&m, &g.creds, &rel, follow, keep(uid), keep(gid))?;
            Ok(m.chown(&rel, follow, keep(uid), keep(gid))?)
        }
        Node::HostFile(f) => {
            access::may_chown(&g.creds, &f.stat()?, keep(uid), keep(gid))?;
            Ok(f.chown(keep(uid), keep(gid))?)
        }
    }
}

fn utimens(g: &Guest, node: Node, atime: i64, mtime: i64, fst: u16) -> Result<(), Errno> {
    use fsimage::{SetTime, Timestamp};
    let at = |t: i64| Timestamp {
        sec: t.div_euclid(1_000_000_000),
        nsec: t.rem_euclid(1_000_000_000) as u32,
    };
    let pick = |set: u16, now: u16, t: i64| match (fst & set != 0, fst & now != 0) {
        (true, true) => Err(Errno::INVAL),
        (true, false) => Ok(Some(SetTime::At(at(t)))),
        (false, true) => Ok(Some(SetTime::Now)),
        (false, false) => Ok(None),
    };
    let a = pick(fstflags::ATIM, fstflags::ATIM_NOW, atime)?;
    let m = pick(fstflags::MTIM, fstflags::MTIM_NOW, mtime)?;
    match node {
        Node::Image(ino) => {
            access::may_set_times_of(&g.vfs, &g.creds, ino, fst)?;
            Ok(g.vfs.set_times(ino, a, m)?)
        }
        Node::Host(mount, rel, follow) => {
            let explicit = fst & (fstflags::ATIM | fstflags::MTIM) != 0;
            host_access::may_set_times(&mount, &g.creds, &rel, follow, explicit)?;
            Ok(mount.set_times(&rel, follow, a, m)?)
        }
        Node::HostFile(f) => {
            let explicit = fst & (fstflags::ATIM | fstflags::MTIM) != 0;
            access::may_set_times(&g.creds, &f.stat()?, explicit)?;
            Ok(f.set_times(a, m)?)
        }
    }
}

fn term_size(m: &mut Mem, g: &mut Guest, fd: u32, out: u32) -> Result<(), Errno> {
    let n = super::tty::terminal_fd(g, fd)?;
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the valid `ws`.
    if unsafe { libc::ioctl(n, libc::TIOCGWINSZ, &mut ws) } != 0 {
        return Err(NOTTY);
    }
    m.write_u16(out, ws.ws_row)?;
    m.write_u16(out + 2, ws.ws_col)
}

fn isatty(g: &Guest, fd: u32) -> Result<(), Errno> {
    super::tty::terminal_fd(g, fd).map(|_| ())
}

fn pipe(m: &mut Mem, g: &mut Guest, out: u32) -> Result<(), Errno> {
    let (r, w) = crate::io::pipe();
    let rfd = g.fds.insert(Fd::Handle(r))?;
    let wfd = match g.fds.insert(Fd::Handle(w)) {
        Ok(n) => n,
        Err(e) => {
            let _ = g.fds.remove(rfd);
            return Err(e);
        }
    };
    m.write_u32(out, rfd)?;
    m.write_u32(out + 4, wfd)
}

/// NUL-separated strings (a trailing NUL is optional).
fn strings(bytes: &[u8]) -> Result<Vec<String>, Errno> {
    let bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    bytes
        .split(|b| *b == 0)
        .map(|s| String::from_utf8(s.to_vec()).map_err(|_| Errno(25)))
        .collect()
}

/// Joins `path` onto directory `cwd` (both image paths).
fn join(cwd: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{path}", cwd.trim_end_matches('/'))
    }
}

/// Finds `name` as bash would: as given when it has a slash, else the first
/// executable regular file of that name on `path`.
fn find_program(g: &Guest, name: &str, path: &str, cwd: &str) -> Option<String> {
    if name.contains('/') {
        return Some(join(cwd, name));
    }
    path.split(':').find_map(|dir| {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = join(cwd, &format!("{}/{name}", dir.trim_end_matches('/')));
        let ino =
            access::resolve(&g.vfs, &g.creds, g.vfs.root(), candidate.as_bytes(), true).ok()?;
        let st = g.vfs.stat(ino).ok()?;
        let runnable = g.creds.check(&st, access::EXEC).is_ok();
        (st.kind == FileType::Regular && runnable).then_some(candidate)
    })
}

/// Whether the file at image path `program` starts as a WebAssembly module does
/// (anything unreadable counts as one: the runtime then says why it cannot run).
fn is_module(g: &Guest, program: &str) -> bool {
    let Ok(ino) = g.vfs.resolve(g.vfs.root(), program.as_bytes(), true) else {
        return true;
    };
    let mut magic = [0u8; 4];
    match g.vfs.read(ino, 0, &mut magic) {
        Ok(4) => &magic == b"\0asm",
        Ok(_) => false,
        Err(_) => true,
    }
}

/// Whether `name` (a command name or path) is `sh` or `bash`.
fn is_shell_name(name: &str) -> bool {
    matches!(name.rsplit('/').next(), Some("sh" | "bash"))
}

/// `s` in single quotes for the shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The stream a spawn request's stdio slot names: a guest fd, or -1 for /dev/null.
fn stdio(g: &Guest, fd: i32) -> Result<Handle, Errno> {
    if fd < 0 {
        return Ok(Handle::Null);
    }
    match g.fds.get(fd as u32)? {
        Fd::Handle(h) => Ok(h.clone()),
        Fd::Dir(_) | Fd::HostDir(_) => Err(Errno::ISDIR),
        // A socket cannot be a child's stdio yet (stdio are Handles the interpreter shares).
        Fd::Socket(_) => Err(Errno::NOTSUP),
    }
}

fn spawn(m: &mut Mem, g: &mut Guest, req: u32, out: u32) -> Result<(), Errno> {
    let field = |i: u32| m.read_u32(req + 4 * i);
    let (argv_ptr, argv_len, env_ptr, env_len) = (field(0)?, field(1)?, field(2)?, field(3)?);
    let (cwd_ptr, cwd_len) = (field(4)?, field(5)?);
    let fds = [field(6)? as i32, field(7)? as i32, field(8)? as i32];
    let flags = field(9)?;
    let argv = strings(m.slice(argv_ptr, argv_len)?)?;
    let env: Vec<(String, String)> = strings(m.slice(env_ptr, env_len)?)?
        .into_iter()
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let cwd = String::from_utf8(m.slice(cwd_ptr, cwd_len)?.to_vec()).map_err(|_| Errno(25))?;
    let cwd = if cwd.starts_with('/') {
        cwd
    } else {
        "/".to_string()
    };
    if argv.is_empty() {
        return Err(Errno::INVAL);
    }
    let rt = g.runtime.clone().ok_or(Errno::NOSYS)?;
    let mut cmd = Command {
        program: String::new(),
        argv,
        env,
        cwd,
        stdin: stdio(g, fds[0])?,
        stdout: stdio(g, fds[1])?,
        stderr: stdio(g, fds[2])?,
        extra_fds: Vec::new(),
        open_files: None,
        pid: None,
        ppid: g.pid(),
    };
    let path = cmd
        .env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map_or(DEFAULT_PATH, |(_, v)| v.as_str());
    let found = if flags & SPAWN_COMMAND_LINE != 0 {
        None
    } else {
        find_program(g, &cmd.argv[0], path, &cmd.cwd)
    };
    // A script (`#!` line or plain text) is run by the shell's interpreter, which
    // reads its first line as execve and bash would.
    let mut script_line = None;
    let found = match found {
        // The image's /bin/sh placeholder (not a module): the interpreter is the shell.
        Some(p) if is_shell_name(&cmd.argv[0]) && is_shell_name(&p) && !is_module(g, &p) => None,
        Some(p) if !is_module(g, &p) && rt.command_line_runner().is_some() => {
            let line = cmd
                .argv
                .iter()
                .map(|a| sh_quote(a))
                .collect::<Vec<_>>()
                .join(" ");
            cmd.argv = vec!["sh".into(), "-c".into(), line.clone()];
            script_line = Some(line);
            None
        }
        other => other,
    };
    let child = match found {
        Some(program) => {
            cmd.program = program;
            rt.spawn_with_umask(cmd, g.umask)
        }
        None => {
            // A command line, or `sh -c LINE` with no sh in the image: the shell's interpreter runs it.
            let line = if script_line.is_some() {
                script_line
            } else if flags & SPAWN_COMMAND_LINE != 0 {
                (cmd.argv.len() == 1).then(|| cmd.argv[0].clone())
            } else if cmd.argv.len() >= 3 && is_shell_name(&cmd.argv[0]) && cmd.argv[1] == "-c" {
                Some(cmd.argv[2].clone())
            } else if cmd.argv.len() >= 2
                && is_shell_name(&cmd.argv[0])
                && !cmd.argv[1].starts_with('-')
            {
                // `sh SCRIPT ARGS...` becomes `sh -c '. "$0"' SCRIPT ARGS...`: the same
                // $0 and positional parameters, read by the interpreter from the image.
                let line = String::from(". \"$0\"");
                cmd.argv.splice(1..1, ["-c".to_string(), line.clone()]);
                Some(line)
            } else {
                return Err(Errno::NOENT);
            };
            let line = line.ok_or(Errno::INVAL)?;
            let runner = rt.command_line_runner().ok_or(Errno::NOSYS)?;
            if flags & SPAWN_COMMAND_LINE != 0 {
                cmd.argv = vec!["sh".into(), "-c".into(), line.clone()];
            }
            cmd.program = "sh".into();
            // The runner's thread takes no slot of its own: its child holds one.
            let slot = rt.pid_slot().map_err(|_| Errno::AGAIN)?;
            runner.start(&rt, &line, cmd).map(|mut child| {
                child.hold(slot);
                child
            })
        }
    };
    let child = child.map_err(|e| match e {
        SpawnError::NotFound(_) => Errno::NOENT,
        SpawnError::NotExecutable(_, why) if why == "Permission denied" => Errno::ACCES,
        SpawnError::NotExecutable(..) => NOEXEC,
        SpawnError::Fork(_) => Errno::AGAIN,
        SpawnError::Other(_) => Errno::IO,
    })?;
    let id = g.children.next;
    g.children.next += 1;
    g.children.running.insert(id, child);
    m.write_u32(out, id)
}

fn wait(m: &mut Mem, g: &mut Guest, child: u32, flags: u32, out: u32) -> Result<(), Errno> {
    let running = g.children.running.get(&child).ok_or(CHILD)?;
    if flags & WAIT_NOHANG != 0 && !running.is_finished() {
        return Err(Errno::AGAIN);
    }
    let status = g.children.running.remove(&child).ok_or(CHILD)?.wait();
    m.write_u32(out, status as u32)
}

type C<'a> = Caller<'a, Guest>;

/// Defines every function of the `wsh` import module on `linker`.
pub fn add_to_linker(linker: &mut Linker<Guest>) -> wasmtime::Result<()> {
    let u = |x: i32| x as u32;
    linker.func_wrap(
        MODULE,
        "stat",
        move |mut c: C, fd: i32, p: i32, l: i32, fl: i32, out: i32| {
            call(&mut c, |m, g| {
                let path = m.path(u(p), u(l))?;
                stat(m, g, u(fd), &path, u(fl), u(out))
            })
        },
    )?;
    linker.func_wrap(MODULE, "fstat", move |mut c: C, fd: i32, out: i32| {
        call(&mut c, |m, g| fstat(m, g, u(fd), u(out)))
    })?;
    linker.func_wrap(
        MODULE,
        "chmod",
        move |mut c: C, fd: i32, p: i32, l: i32, fl: i32, mode: i32| {
            call(&mut c, |m, g| {
                let path = m.path(u(p), u(l))?;
                let node = resolve(g, u(fd), &path, u(fl))?;
                chmod_node(g, node, u(mode))
            })
        },
    )?;
    linker.func_wrap(MODULE, "fchmod", move |mut c: C, fd: i32, mode: i32| {
        call(&mut c, |_, g| chmod_node(g, fd_node(g, u(fd))?, u(mode)))
    })?;
    linker.func_wrap(
        MODULE,
        "chown",
        move |mut c: C, fd: i32, p: i32, l: i32, fl: i32, uid: i32, gid: i32| {
            call(&mut c, |m, g| {
                let path = m.path(u(p), u(l))?;
                let node = resolve(g, u(fd), &path, u(fl))?;
                chown_node(g, node, uid, gid)
            })
        },
    )?;
    linker.func_wrap(
        MODULE,
        "fchown",
        move |mut c: C, fd: i32, uid: i32, gid: i32| {
            call(&mut c, |_, g| chown_node(g, fd_node(g, u(fd))?, uid, gid))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "utimens",
        move |mut c: C, fd: i32, p: i32, l: i32, fl: i32, at: i64, mt: i64, fst: i32| {
            call(&mut c, |m, g| {
                let path = m.path(u(p), u(l))?;
                let node = resolve(g, u(fd), &path, u(fl))?;
                utimens(g, node, at, mt, fst as u16)
            })
        },
    )?;
    linker.func_wrap(MODULE, "umask", move |mut c: C, new: i32, out: i32| {
        call(&mut c, |m, g| {
            m.write_u32(u(out), g.umask)?;
            if new >= 0 {
                g.umask = u(new) & 0o777;
            }
            Ok(())
        })
    })?;
    linker.func_wrap(MODULE, "isatty", move |mut c: C, fd: i32| {
        call(&mut c, |_, g| isatty(g, u(fd)))
    })?;
    linker.func_wrap(MODULE, "tty_raw", move |mut c: C, fd: i32, mode: i32| {
        call(&mut c, |_, g| super::tty::tty_raw(g, u(fd), mode))
    })?;
    linker.func_wrap(MODULE, "term_size", move |mut c: C, fd: i32, out: i32| {
        call(&mut c, |m, g| term_size(m, g, u(fd), u(out)))
    })?;
    linker.func_wrap(MODULE, "identity", move |mut c: C, out: i32| {
        // The container's user (Docker's USER), root unless the runtime says otherwise.
        call(&mut c, |m, g| {
            m.write_u32(u(out), g.creds.uid)?;
            m.write_u32(u(out) + 4, g.creds.gid)
        })
    })?;
    linker.func_wrap(
        MODULE,
        "groups",
        move |mut c: C, out: i32, max: i32, out_n: i32| {
            // getgroups(2): the supplementary groups, at most `max` of them, and their count.
            call(&mut c, |m, g| {
                let groups = g.creds.groups.clone();
                for (i, gid) in groups.iter().take(max.max(0) as usize).enumerate() {
                    let at = u(out).checked_add(4 * i as u32).ok_or(Errno::FAULT)?;
                    m.write_u32(at, *gid)?;
                }
                m.write_u32(u(out_n), groups.len() as u32)
            })
        },
    )?;
    linker.func_wrap(
        MODULE,
        "cwd",
        move |mut c: C, buf: i32, cap: i32, out_len: i32| {
            // The starting directory: at most `cap` bytes of it, and its length.
            call(&mut c, |m, g| {
                let cwd = g.cwd.clone();
                let n = cwd.len().min(cap.max(0) as usize);
                m.write(u(buf), &cwd[..n])?;
                m.write_u32(u(out_len), cwd.len() as u32)
            })
        },
    )?;
    linker.func_wrap(MODULE, "statfs", move |mut c: C, out: i32| {
        call(&mut c, |m, g| {
            let (total, free) = g.vfs.space();
            m.write_u64(u(out), total)?;
            m.write_u64(u(out) + 8, free)
        })
    })?;
    linker.func_wrap(MODULE, "pipe", move |mut c: C, out: i32| {
        call(&mut c, |m, g| pipe(m, g, u(out)))
    })?;
    linker.func_wrap(MODULE, "spawn", move |mut c: C, req: i32, out: i32| {
        call(&mut c, |m, g| spawn(m, g, u(req), u(out)))
    })?;
    linker.func_wrap(
        MODULE,
        "wait",
        move |mut c: C, child: i32, fl: i32, out: i32| {
            call(&mut c, |m, g| wait(m, g, u(child), u(fl), u(out)))
        },
    )?;
    add_net_calls(linker)?;
    super::proc_ext::add_to_linker(linker)?;
    linker.func_wrap(MODULE, "kill", move |mut c: C, child: i32| {
        call(&mut c, |_, g| {
            g.children.running.get(&u(child)).ok_or(CHILD)?.kill();
            Ok(())
        })
    })?;
    Ok(())
}

/// The socket calls of the `wsh` module (implemented in `net.rs`).
fn add_net_calls(linker: &mut Linker<Guest>) -> wasmtime::Result<()> {
    use super::net;
    let u = |x: i32| x as u32;
    linker.func_wrap(
        MODULE,
        "tcp_connect",
        move |mut c: C, a: i32, l: i32, out: i32| {
            call(&mut c, |m, g| net::tcp_connect(m, g, u(a), u(l), u(out)))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "tcp_listen",
        move |mut c: C, a: i32, l: i32, out: i32| {
            call(&mut c, |m, g| net::tcp_listen(m, g, u(a), u(l), u(out)))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "resolve",
        move |mut c: C, n: i32, l: i32, buf: i32, cap: i32, out: i32| {
            call(&mut c, |m, g| {
                net::resolve(m, g, u(n), u(l), u(buf), u(cap), u(out))
            })
        },
    )?;
    linker.func_wrap(
        MODULE,
        "sock_addr",
        move |mut c: C, fd: i32, peer: i32, buf: i32, cap: i32, out: i32| {
            call(&mut c, |m, g| {
                net::sock_addr(m, g, u(fd), u(peer), u(buf), u(cap), u(out))
            })
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_separated_strings_split() {
        assert_eq!(strings(b"a\0bc\0").unwrap(), vec!["a", "bc"]);
        assert_eq!(strings(b"a\0\0b").unwrap(), vec!["a", "", "b"]);
        assert!(strings(b"").unwrap().is_empty());
    }

    #[test]
    fn paths_join_onto_the_working_directory() {
        assert_eq!(join("/home", "x/y"), "/home/x/y");
        assert_eq!(join("/", "x"), "/x");
        assert_eq!(join("/home", "/bin/ls"), "/bin/ls");
    }
}
