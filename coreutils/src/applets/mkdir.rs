//! mkdir with GNU's options (-p, -m MODE, -v) and messages. Each directory is made
//! relative to an open descriptor of its parent, so `mkdir -p` of N levels costs N
//! one-name lookups (uutils' re-resolved every prefix from the root: O(N²)).

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::wasi::ffi::OsStrExt;

use rustix::fs::{Mode, OFlags};

use super::{chmod, strerror};
use crate::wsh;

const HELP: &str = "Usage: mkdir [OPTION]... DIRECTORY...
Create the DIRECTORY(ies), if they do not already exist.

  -m, --mode=MODE   set file mode (as in chmod), not a=rwx - umask
  -p, --parents     no error if existing, make parent directories as needed,
                    with their file modes unaffected by any -m option.
  -v, --verbose     print a message for each created directory
  -Z, --context     accepted and ignored (no SELinux)
      --help        display this help and exit
      --version     output version information and exit
";

/// The options.
struct Opts {
    parents: bool,
    verbose: bool,
    /// The -m expression (already checked to parse).
    mode: Option<String>,
    umask: u32,
}

/// GNU's `quote()` in the C locale (shell-escape style): 'x', "a'b", 'e'$'\t''f'.
fn quote(name: &[u8]) -> String {
    let plain = |b: u8| (0x20..0x7f).contains(&b);
    if name.iter().all(|&b| plain(b)) {
        let s = String::from_utf8_lossy(name);
        if !s.contains('\'') {
            return format!("'{s}'");
        }
        if !s.contains(['"', '$', '`', '\\', '!']) {
            return format!("\"{s}\"");
        }
        return format!("'{}'", s.replace('\'', "'\\''"));
    }
    // Runs of printable bytes in '...', the others as $'\t' or $'\ooo'.
    let mut out = String::new();
    let mut run = Vec::new();
    let flush = |run: &mut Vec<u8>, out: &mut String| {
        if !run.is_empty() {
            out.push_str(&quote(run));
            run.clear();
        }
    };
    for &b in name {
        if plain(b) {
            run.push(b);
            continue;
        }
        flush(&mut run, &mut out);
        let esc = match b {
            7 => "\\a".to_string(),
            8 => "\\b".to_string(),
            9 => "\\t".to_string(),
            10 => "\\n".to_string(),
            11 => "\\v".to_string(),
            12 => "\\f".to_string(),
            13 => "\\r".to_string(),
            _ => format!("\\{b:03o}"),
        };
        out.push_str(&format!("$'{esc}'"));
    }
    flush(&mut run, &mut out);
    out
}

fn fail(name: &[u8], e: &io::Error) {
    eprintln!(
        "mkdir: cannot create directory {}: {}",
        quote(name),
        strerror(e)
    );
}

fn announce(o: &Opts, name: &[u8]) {
    if o.verbose {
        println!("mkdir: created directory {}", quote(name));
    }
}

fn open_dir(at: &OwnedFd, name: &[u8]) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat(
        at,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY,
        Mode::empty(),
    )?)
}

/// Sets the new directory `name` (in `at`) to the -m mode, as GNU does after mkdir:
/// exactly the mode, except set-id bits the mode does not mention stay as inherited.
fn set_mode(at: &OwnedFd, name: &[u8], o: &Opts, expr: &str) -> io::Result<()> {
    let fd = open_dir(at, name)?;
    let cur = wsh::fstat(fd.as_raw_fd())?.mode;
    let base = wsh::S_IFDIR | 0o777 | (cur & 0o6000);
    let want = chmod::apply(expr, base, o.umask).ok_or(io::ErrorKind::InvalidInput)? & 0o7777;
    if cur & 0o7777 != want {
        wsh::fchmod(fd.as_raw_fd(), want)?;
    }
    Ok(())
}

/// Makes the missing ancestors of the last component of `path`, each inside the one
/// before (GNU's mkancesdirs), and returns the last one's parent. On failure reports
/// the ancestor (the prefix of `path` up to it) and returns None.
fn ancestors(path: &[u8], comps: &[(usize, usize)], start: OwnedFd, o: &Opts) -> Option<OwnedFd> {
    // GNU gives ancestors a=rwx minus the umask, but always u+wx so the rest can be made.
    let relaxed = o.umask & 0o300 != 0;
    let mut dir = start;
    for &(start, end) in comps {
        let name = &path[start..end];
        if name == b"." {
            continue;
        }
        let made = if name == b".." {
            Err(rustix::io::Errno::EXIST)
        } else {
            rustix::fs::mkdirat(&dir, name, Mode::from_raw_mode(0o777))
        };
        match open_dir(&dir, name) {
            Ok(fd) => {
                if made.is_ok() {
                    announce(o, &path[..end]);
                    if relaxed {
                        let _ = wsh::fchmod(fd.as_raw_fd(), 0o777 & !(o.umask & !0o300));
                    }
                }
                dir = fd;
            }
            Err(open) => {
                // A dangling symlink: mkdir's "File exists" says more than ENOENT.
                let err = match made {
                    Err(mk) if open.kind() == io::ErrorKind::NotFound => mk.into(),
                    _ => open,
                };
                fail(&path[..end], &err);
                return None;
            }
        }
    }
    Some(dir)
}

/// The (start, end) byte ranges of `path`'s non-empty components.
fn components(path: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in path
        .iter()
        .enumerate()
        .chain(std::iter::once((path.len(), &b'/')))
    {
        if b == b'/' {
            if i > start {
                out.push((start, i));
            }
            start = i + 1;
        }
    }
    out
}

/// Makes one operand; false (after a message) when it fails.
fn make(path: &[u8], o: &Opts) -> bool {
    let comps = components(path);
    let root: &[u8] = if path.first() == Some(&b'/') {
        b"/"
    } else {
        b"."
    };
    let Some(&(ls, le)) = comps.last() else {
        // "" does not exist; "/" does.
        let e = if path.is_empty() {
            rustix::io::Errno::NOENT
        } else if o.parents {
            return true;
        } else {
            rustix::io::Errno::EXIST
        };
        fail(path, &e.into());
        return false;
    };
    let start = match rustix::fs::open(root, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) => {
            fail(path, &e.into());
            return false;
        }
    };
    let parent = if o.parents {
        match ancestors(path, &comps[..comps.len() - 1], start, o) {
            Some(fd) => fd,
            None => return false,
        }
    } else if comps.len() == 1 {
        start
    } else {
        // One lookup of the whole parent path: its errors name the operand, as GNU's.
        match open_dir(&start, &path[..comps[comps.len() - 2].1]) {
            Ok(fd) => fd,
            Err(e) => {
                fail(path, &e);
                return false;
            }
        }
    };
    let name = &path[ls..le];
    match rustix::fs::mkdirat(&parent, name, Mode::from_raw_mode(0o777)) {
        Ok(()) => {
            announce(o, path);
            if let Some(expr) = &o.mode
                && let Err(e) = set_mode(&parent, name, o, expr)
            {
                eprintln!(
                    "mkdir: cannot set permissions of {}: {}",
                    quote(path),
                    strerror(&e)
                );
                return false;
            }
            true
        }
        Err(rustix::io::Errno::EXIST) if o.parents && open_dir(&parent, name).is_ok() => true,
        Err(e) => {
            fail(path, &e.into());
            false
        }
    }
}

/// The usage error GNU's getopt prints, and status 1.
fn usage_error(msg: &str) -> i32 {
    eprintln!("mkdir: {msg}\nTry 'mkdir --help' for more information.");
    1
}

/// Runs mkdir.
pub fn main(argv: Vec<OsString>) -> i32 {
    let argv: Vec<Vec<u8>> = argv
        .into_iter()
        .skip(1)
        .map(|a| a.as_bytes().to_vec())
        .collect();
    let mut o = Opts {
        parents: false,
        verbose: false,
        mode: None,
        umask: wsh::umask(None),
    };
    let longs = ["mode", "parents", "verbose", "context", "help", "version"];
    let mut operands = Vec::new();
    let mut i = 0;
    // GNU getopt: options may follow operands; `--` ends them.
    while i < argv.len() {
        let arg = &argv[i];
        i += 1;
        if arg == b"--" {
            operands.extend(argv[i..].iter().cloned());
            break;
        }
        if let Some(long) = arg.strip_prefix(b"--") {
            let text = String::from_utf8_lossy(long).into_owned();
            let (name, value) = match text.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (text.clone(), None),
            };
            let hits: Vec<&str> = longs
                .iter()
                .copied()
                .filter(|l| l.starts_with(&name))
                .collect();
            let full = match hits.as_slice() {
                [one] => *one,
                _ if longs.contains(&name.as_str()) => name.as_str(),
                [] => return usage_error(&format!("unrecognized option '--{text}'")),
                _ => return usage_error(&format!("option '--{name}' is ambiguous")),
            };
            match full {
                "mode" => match value.or_else(|| {
                    i += 1;
                    argv.get(i - 1)
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                }) {
                    Some(v) => o.mode = Some(v),
                    None => return usage_error("option '--mode' requires an argument"),
                },
                "help" => {
                    print!("{HELP}");
                    return 0;
                }
                "version" => {
                    println!("mkdir (wsh coreutils)");
                    return 0;
                }
                _ if value.is_some() && full != "context" => {
                    return usage_error(&format!("option '--{full}' doesn't allow an argument"));
                }
                "parents" => o.parents = true,
                "verbose" => o.verbose = true,
                _ => {}
            }
            continue;
        }
        if arg.len() < 2 || arg[0] != b'-' {
            operands.push(arg.clone());
            continue;
        }
        let mut j = 1;
        while j < arg.len() {
            match arg[j] {
                b'p' => o.parents = true,
                b'v' => o.verbose = true,
                b'Z' => {}
                b'm' => {
                    let rest = &arg[j + 1..];
                    let v = if !rest.is_empty() {
                        rest.to_vec()
                    } else if let Some(v) = argv.get(i) {
                        i += 1;
                        v.clone()
                    } else {
                        return usage_error("option requires an argument -- 'm'");
                    };
                    o.mode = Some(String::from_utf8_lossy(&v).into_owned());
                    break;
                }
                c => {
                    return usage_error(&format!("invalid option -- '{}'", c as char));
                }
            }
            j += 1;
        }
    }
    if operands.is_empty() {
        return usage_error("missing operand");
    }
    if let Some(expr) = &o.mode
        && chmod::apply(expr, wsh::S_IFDIR | 0o777, o.umask).is_none()
    {
        eprintln!("mkdir: invalid mode {}", quote(expr.as_bytes()));
        return 1;
    }
    let mut ok = true;
    for path in &operands {
        ok &= make(path, &o);
    }
    if ok { 0 } else { 1 }
}
