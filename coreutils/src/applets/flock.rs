//! flock (util-linux's): holds an advisory lock on a file while a command runs,
//! or locks an open descriptor (`flock FD`, e.g. `{ flock 0; ...; } <lockfile`,
//! whose lock stays with the shell's open file as on Linux). The locks are the
//! broker's (`wsh.flock`): per image file, per open file description, released
//! when the last descriptor of it closes.

use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::{args, help, strerror};
use crate::wsh::{self, Spawn};

const HELP: &str = "
Usage:
 flock [options] <file>|<directory> <command> [<argument>...]
 flock [options] <file>|<directory> -c <command>
 flock [options] <file descriptor number>

Manage file locks from shell scripts.

Options:
 -s, --shared             get a shared lock
 -x, --exclusive          get an exclusive lock (default)
 -u, --unlock             remove a lock
 -n, --nonblock           fail rather than wait
 -w, --timeout <secs>     wait for a limited amount of time
 -E, --conflict-exit-code <number>  exit code after conflict or timeout
 -o, --close              close file descriptor before running command
 -c, --command <command>  run a single command string through the shell
 -F, --no-fork            execute command without forking
     --verbose            increase verbosity

 -h, --help               display this help
";

const LOCK_SH: i32 = 1;
const LOCK_EX: i32 = 2;
const LOCK_NB: i32 = 4;
const LOCK_UN: i32 = 8;
/// sysexits' EX_USAGE, util-linux's status for a bad command line.
const EX_USAGE: i32 = 64;

struct Options {
    op: i32,
    nonblock: bool,
    timeout: Option<f64>,
    conflict: i32,
    verbose: bool,
    /// The file or descriptor, then the command.
    target: String,
    command: Vec<String>,
}

fn parse(a: &[String]) -> Result<Options, String> {
    let mut o = Options {
        op: LOCK_EX,
        nonblock: false,
        timeout: None,
        conflict: 1,
        verbose: false,
        target: String::new(),
        command: Vec::new(),
    };
    let mut i = 0;
    let mut shell_command = None;
    let mut operands = Vec::new();
    while i < a.len() {
        let w = &a[i];
        i += 1;
        // Options stop at the first operand after the file (the command's own options).
        if !operands.is_empty() {
            operands.push(w.clone());
            continue;
        }
        if w == "--" {
            operands.extend(a[i..].iter().cloned());
            break;
        }
        let mut next = |what: &str| {
            i += 1;
            a.get(i - 1)
                .cloned()
                .ok_or_else(|| format!("option '{what}' requires an argument"))
        };
        // Long options, and each letter of a short group (`-xn`, `-w5`).
        let items: Vec<(String, Option<String>)> = match w.strip_prefix("--") {
            Some(long) => vec![match long.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (long.to_string(), None),
            }],
            None if w.len() > 1 && w.starts_with('-') => {
                let mut items = Vec::new();
                for (at, c) in w[1..].char_indices() {
                    let rest = &w[1 + at + c.len_utf8()..];
                    if matches!(c, 'w' | 'E' | 'c') && !rest.is_empty() {
                        items.push((c.to_string(), Some(rest.to_string())));
                        break;
                    }
                    items.push((c.to_string(), None));
                }
                items
            }
            _ => {
                operands.push(w.clone());
                continue;
            }
        };
        for (key, inline) in items {
            let mut value = |what: &str| inline.clone().map_or_else(|| next(what), Ok);
            match key.as_str() {
                "s" | "shared" => o.op = LOCK_SH,
                "x" | "e" | "exclusive" => o.op = LOCK_EX,
                "u" | "unlock" => o.op = LOCK_UN,
                "n" | "nb" | "nonblock" => o.nonblock = true,
                "o" | "close" | "F" | "no-fork" => {}
                "verbose" => o.verbose = true,
                "w" | "wait" | "timeout" => {
                    let v = value("--timeout")?;
                    let secs: f64 = v
                        .parse()
                        .ok()
                        .filter(|s: &f64| *s >= 0.0 && s.is_finite())
                        .ok_or(format!("invalid timeout value: '{v}'"))?;
                    o.timeout = Some(secs);
                }
                "E" | "conflict-exit-code" => {
                    let v = value("--conflict-exit-code")?;
                    o.conflict = v
                        .parse()
                        .ok()
                        .filter(|c| (0..=255).contains(c))
                        .ok_or(format!("invalid exit code: '{v}'"))?;
                }
                "c" | "command" => shell_command = Some(value("--command")?),
                k if k.len() == 1 => return Err(format!("invalid option -- '{k}'")),
                _ => return Err(format!("unrecognized option '{w}'")),
            }
        }
    }
    if operands.is_empty() {
        return Err("not enough arguments".into());
    }
    o.target = operands.remove(0);
    // `flock FILE -c CMD`: util-linux looks for -c right after the file too.
    if matches!(
        operands.first().map(String::as_str),
        Some("-c" | "--command")
    ) {
        if operands.len() != 2 {
            return Err(format!(
                "{} requires exactly one command argument",
                operands[0]
            ));
        }
        shell_command = operands.pop();
        operands.clear();
    }
    o.command = match shell_command {
        Some(c) if operands.is_empty() => vec!["sh".into(), "-c".into(), c],
        Some(_) => return Err("-c requires exactly one command argument".into()),
        None => operands,
    };
    Ok(o)
}

/// Locks `fd` as `o` asks: Ok(true) locked, Ok(false) a conflict (held elsewhere,
/// or the timeout passed).
fn lock(fd: i32, o: &Options) -> std::io::Result<bool> {
    if o.op == LOCK_UN {
        wsh::flock(fd, LOCK_UN)?;
        return Ok(true);
    }
    let busy = |e: &std::io::Error| e.kind() == std::io::ErrorKind::WouldBlock;
    if o.nonblock || o.timeout == Some(0.0) {
        return match wsh::flock(fd, o.op | LOCK_NB) {
            Ok(()) => Ok(true),
            Err(e) if busy(&e) => Ok(false),
            Err(e) => Err(e),
        };
    }
    let Some(secs) = o.timeout else {
        wsh::flock(fd, o.op)?;
        return Ok(true);
    };
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    loop {
        match wsh::flock(fd, o.op | LOCK_NB) {
            Ok(()) => return Ok(true),
            Err(e) if busy(&e) => {}
            Err(e) => return Err(e),
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs flock.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    let o = match parse(&a) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("flock: {msg}\nTry 'flock --help' for more information.");
            return EX_USAGE;
        }
    };
    // `flock FD`: a descriptor of ours (inherited from the shell), no command.
    let _file;
    let fd = match o.target.parse::<i32>() {
        Ok(fd) if o.command.is_empty() => fd,
        _ if o.command.is_empty() => {
            eprintln!("flock: requires file descriptor, file or directory");
            return EX_USAGE;
        }
        _ => {
            let opened = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&o.target)
                .or_else(|_| std::fs::File::open(&o.target));
            match opened {
                Ok(f) => {
                    _file = f;
                    _file.as_raw_fd()
                }
                Err(e) => {
                    eprintln!(
                        "flock: cannot open lock file {}: {}",
                        o.target,
                        strerror(&e)
                    );
                    return 66;
                }
            }
        }
    };
    let started = Instant::now();
    match lock(fd, &o) {
        Ok(true) => {}
        Ok(false) => return o.conflict,
        Err(e) => {
            eprintln!("flock: {}: {}", o.target, strerror(&e));
            // sysexits' EX_DATAERR, as util-linux.
            return 65;
        }
    }
    if o.verbose {
        eprintln!(
            "flock: getting lock took {:.6} seconds",
            started.elapsed().as_secs_f64()
        );
    }
    if o.command.is_empty() {
        return 0;
    }
    if o.verbose {
        eprintln!("flock: executing {}", o.command[0]);
    }
    // The lock stays ours (the file stays open) until the command has ended.
    match Spawn::new(o.command.iter().map(OsString::from).collect())
        .start()
        .and_then(wsh::Child::wait)
    {
        Ok(status) => status,
        Err(e) => {
            eprintln!(
                "flock: failed to execute {}: {}",
                o.command[0],
                strerror(&e)
            );
            // sysexits' EX_UNAVAILABLE, as util-linux after a failed exec.
            69
        }
    }
}
