//! mkfifo (GNU's): makes named pipes in the image (FIFO inodes, through the
//! broker's `wsh.mkfifo`); opening one meets the other side on an in-process pipe
//! (runtime/src/fifo.rs). `-m MODE` as chmod reads it, from a=rw.

use std::ffi::OsString;
use std::path::Path;

use super::{args, chmod, help, strerror};
use crate::wsh;

const HELP: &str = "Usage: mkfifo [OPTION]... NAME...
Create named pipes (FIFOs) with the given NAMEs.

Mandatory arguments to long options are mandatory for short options too.
  -m, --mode=MODE    set file permission bits to MODE, not a=rw - umask
      --help        display this help and exit
";

fn usage(msg: &str) -> i32 {
    eprintln!("mkfifo: {msg}\nTry 'mkfifo --help' for more information.");
    1
}

/// Runs mkfifo.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    let mut names = Vec::new();
    let mut mode = None;
    let mut it = a.into_iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            "-m" | "--mode" => match it.next() {
                Some(m) => mode = Some(m),
                None => return usage("option requires an argument -- 'm'"),
            },
            _ if w.starts_with("--mode=") => mode = Some(w["--mode=".len()..].to_string()),
            _ if w.starts_with("-m") => mode = Some(w[2..].to_string()),
            "--" => names.extend(it.by_ref()),
            _ if w.starts_with("--") => return usage(&format!("unrecognized option '{w}'")),
            _ if w.starts_with('-') && w != "-" => {
                return usage(&format!("invalid option -- '{}'", &w[1..2]));
            }
            _ => names.push(w),
        }
    }
    // GNU: MODE applies to a=rw with the umask for symbolic modes without who,
    // and is then set exactly (chmod after creation overrides the umask).
    let umask = wsh::umask(None);
    let exact = match &mode {
        Some(m) => match chmod::apply(m, wsh::S_IFIFO | 0o666, umask) {
            Some(bits) => Some(bits & 0o7777),
            None => {
                eprintln!("mkfifo: invalid mode");
                return 1;
            }
        },
        None => None,
    };
    if names.is_empty() {
        return usage("missing operand");
    }
    let mut status = 0;
    for n in &names {
        let made = wsh::mkfifo(Path::new(n), 0o666)
            .and_then(|()| exact.map_or(Ok(()), |m| wsh::chmod(Path::new(n), m)));
        if let Err(e) = made {
            eprintln!("mkfifo: cannot create fifo '{n}': {}", strerror(&e));
            status = 1;
        }
    }
    status
}
