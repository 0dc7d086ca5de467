//! man: every applet's manual is its `--help`, run and shown through the pager
//! (more's) on a terminal, printed as it is otherwise.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::FromRawFd;

use super::{args, help, strerror};
use crate::wsh::{self, Spawn, Stdio};

const HELP: &str = "Usage: man [SECTION] NAME...
Show the manual of each program NAME: its --help text, a screenful at a time
on a terminal (Enter for the next one, q then Enter to quit).

      --help  display this help and exit

Exit status: 0, 16 when there is no manual entry for a NAME.
";

/// The --help text of program `name`, if it runs and says something.
fn help_text(name: &str) -> io::Result<Option<Vec<u8>>> {
    let (r, w) = wsh::pipe()?;
    // SAFETY: both descriptors were just made for us and are owned here only.
    let (mut reader, writer) = unsafe { (File::from_raw_fd(r), File::from_raw_fd(w)) };
    let mut sp = Spawn::new(vec![name.into(), "--help".into()]);
    sp.stdin = Stdio::Null;
    sp.stdout = Stdio::Fd(w);
    sp.stderr = Stdio::Null;
    let child = sp.start();
    // Our copy of the write end goes, so the read sees the end of the text.
    drop(writer);
    let child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut text = Vec::new();
    reader.read_to_end(&mut text)?;
    let status = child.wait()?;
    Ok((status == 0 && !text.is_empty()).then_some(text))
}

/// Whether `name` is a program on PATH (or a path to one).
fn exists(name: &str) -> bool {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    let candidates: Vec<String> = if name.contains('/') {
        vec![name.to_string()]
    } else {
        path.split(':').map(|d| format!("{d}/{name}")).collect()
    };
    candidates
        .iter()
        .any(|c| wsh::stat(std::path::Path::new(c), true).is_ok_and(|s| !s.is_dir()))
}

/// Runs man.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    // A leading section number (`man 1 ls`) changes nothing: there is one section.
    let names: Vec<&String> = a
        .iter()
        .enumerate()
        .filter(|(i, w)| !(*i == 0 && a.len() > 1 && w.chars().all(|c| c.is_ascii_digit())))
        .map(|(_, w)| w)
        .collect();
    if names.is_empty() {
        eprintln!("What manual page do you want?\nFor example, try 'man man'.");
        return 1;
    }
    let mut status = 0;
    let mut pages = Vec::new();
    for n in names {
        let text = if exists(n) { help_text(n) } else { Ok(None) };
        match text {
            Ok(Some(t)) => pages.push(t),
            Ok(None) => {
                eprintln!("No manual entry for {n}");
                status = 16;
            }
            Err(e) => {
                eprintln!("man: {n}: {}", strerror(&e));
                status = 16;
            }
        }
    }
    let text = pages.concat();
    let mut out = io::stdout().lock();
    if wsh::isatty(1) && wsh::isatty(0) {
        let rows = wsh::term_size(1).map_or(24, |(r, _)| r as usize);
        let _ = super::more::page(&text, rows, &mut io::stdin().lock(), &mut out);
    } else if out.write_all(&text).and_then(|()| out.flush()).is_err() {
        return 1;
    }
    status
}
