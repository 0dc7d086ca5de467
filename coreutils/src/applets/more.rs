//! more: a pager. Into a pipe or file it copies its input as GNU more does; on a
//! terminal (asked through the `wsh` host interface) it shows a screenful at a
//! time and reads the answer from a terminal stdin: Enter or space+Enter for the
//! next page, `q` to quit. (No raw keyboard mode: the guest sees whole lines.)

use std::ffi::OsString;
use std::io::{self, BufRead, Read, Write};

use super::{args, help, strerror};
use crate::wsh;

const HELP: &str = "Usage: more [FILE]...
Show FILEs (or standard input) a screenful at a time on a terminal.

At the --More-- prompt: Enter shows the next screenful, q then Enter quits.
When standard output is not a terminal, the input is copied unchanged.

      --help  display this help and exit
";

/// Shows `text` a page at a time; returns false when the user quit.
pub fn page(
    text: &[u8],
    rows: usize,
    keys: &mut dyn BufRead,
    out: &mut dyn Write,
) -> io::Result<bool> {
    let lines: Vec<&[u8]> = text.split_inclusive(|b| *b == b'\n').collect();
    let per = rows.saturating_sub(1).max(1);
    for (n, chunk) in lines.chunks(per).enumerate() {
        if n > 0 {
            write!(out, "--More--")?;
            out.flush()?;
            let mut answer = String::new();
            if keys.read_line(&mut answer)? == 0 || answer.trim() == "q" {
                return Ok(false);
            }
        }
        for l in chunk {
            out.write_all(l)?;
        }
    }
    out.flush()?;
    Ok(true)
}

/// Runs more.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    let files: Vec<String> = if a.is_empty() { vec!["-".into()] } else { a };
    let tty = wsh::isatty(1) && wsh::isatty(0) && !files.iter().any(|f| f == "-");
    let rows = wsh::term_size(1).map_or(24, |(r, _)| r as usize);
    let mut out = io::stdout().lock();
    // Answers come from a terminal stdin, which is then never a file to show.
    let mut keys = tty.then(|| io::stdin().lock());
    let mut status = 0;
    let many = files.len() > 1;
    for f in &files {
        let mut data = Vec::new();
        let read = if f == "-" {
            io::stdin().read_to_end(&mut data)
        } else {
            std::fs::File::open(f).and_then(|mut h| h.read_to_end(&mut data))
        };
        if let Err(e) = read {
            eprintln!("more: cannot open {f}: {}", strerror(&e));
            status = 1;
            continue;
        }
        if many {
            let bar = "::::::::::::::";
            data = [format!("{bar}\n{f}\n{bar}\n").into_bytes(), data].concat();
        }
        let go_on = match keys.as_mut() {
            Some(k) => page(&data, rows, k, &mut out),
            None => out.write_all(&data).map(|_| true),
        };
        match go_on {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                eprintln!("more: {}", strerror(&e));
                return 1;
            }
        }
    }
    let _ = out.flush();
    status
}
