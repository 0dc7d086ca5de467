//! nohup (GNU's): runs a command with input from /dev/null and output to
//! nohup.out when they are terminals. wsh has no hangup signal to ignore: when
//! the terminal goes, wsh and its programs end together.

use std::ffi::OsString;
use std::os::fd::AsRawFd;

use super::{args, help, strerror};
use crate::wsh::{self, Spawn, Stdio};

const HELP: &str = "Usage: nohup COMMAND [ARG]...
  or:  nohup OPTION
Run COMMAND, ignoring hangup signals.

      --help     display this help and exit

If standard input is a terminal, redirect it from an unreadable file.
If standard output is a terminal, append output to 'nohup.out' if possible,
'$HOME/nohup.out' otherwise.
If standard error is a terminal, redirect it to standard output.
";

/// Runs nohup.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if a.first().is_some_and(|w| w == "--help") && help(&a[..1], HELP) {
        return 0;
    }
    let words: &[String] = match a.first().map(String::as_str) {
        Some("--") => &a[1..],
        _ => &a,
    };
    if words.is_empty() {
        eprintln!("nohup: missing operand\nTry 'nohup --help' for more information.");
        return 125;
    }
    let mut sp = Spawn::new(words.iter().map(OsString::from).collect());
    if wsh::isatty(0) {
        sp.stdin = Stdio::Null;
    }
    // Kept open until the command has ended.
    let mut _out_file = None;
    if wsh::isatty(1) {
        let open = |p: &str| {
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(p)
                .map(|f| (f, p.to_string()))
        };
        let home = std::env::var("HOME").unwrap_or_default();
        let opened = open("nohup.out").or_else(|e| {
            if home.is_empty() {
                Err(e)
            } else {
                open(&format!("{home}/nohup.out"))
            }
        });
        match opened {
            Ok((f, name)) => {
                eprintln!("nohup: ignoring input and appending output to '{name}'");
                sp.stdout = Stdio::Fd(f.as_raw_fd());
                if wsh::isatty(2) {
                    sp.stderr = Stdio::Fd(f.as_raw_fd());
                }
                _out_file = Some(f);
            }
            Err(e) => {
                eprintln!("nohup: failed to open 'nohup.out': {}", strerror(&e));
                return 125;
            }
        }
    } else if wsh::isatty(2) {
        sp.stderr = Stdio::Fd(1);
    }
    match sp.start().and_then(wsh::Child::wait) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "nohup: failed to run command '{}': {}",
                words[0],
                strerror(&e)
            );
            wsh::spawn_failure_status(&e)
        }
    }
}
