//! mkfifo: wsh's image has no named pipes yet (neither WASI nor the broker can
//! make one), so every NAME fails with "Operation not supported", after the same
//! checks GNU's makes.

use std::ffi::OsString;

use super::{args, help};
use crate::wsh;

const HELP: &str = "Usage: mkfifo [OPTION]... NAME...
Create named pipes (FIFOs) with the given NAMEs.

  -m, --mode=MODE    set file permission bits to MODE, not a=rw - umask
      --help        display this help and exit

In a wsh container this always fails: the image has no named pipes yet.
";

/// Runs mkfifo.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    let mut names = Vec::new();
    let mut it = a.into_iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            "-m" | "--mode" => {
                if it.next().is_none() {
                    eprintln!(
                        "mkfifo: option requires an argument -- 'm'\nTry 'mkfifo --help' for more information."
                    );
                    return 1;
                }
            }
            _ if w.starts_with("--mode=") || w.starts_with("-m") => {}
            "--" => names.extend(it.by_ref()),
            _ if w.starts_with('-') && w != "-" => {
                eprintln!(
                    "mkfifo: unrecognized option '{w}'\nTry 'mkfifo --help' for more information."
                );
                return 1;
            }
            _ => names.push(w),
        }
    }
    if names.is_empty() {
        eprintln!("mkfifo: missing operand\nTry 'mkfifo --help' for more information.");
        return 1;
    }
    for n in &names {
        let reason = if wsh::stat(std::path::Path::new(n), false).is_ok() {
            "File exists"
        } else {
            "Operation not supported"
        };
        eprintln!("mkfifo: cannot create fifo '{n}': {reason}");
    }
    1
}
