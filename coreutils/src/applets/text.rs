//! Small text filters: rev (util-linux) and envsubst (GNU gettext).

use std::ffi::OsString;
use std::io::{self, BufRead, Read, Write};

use super::{args, help, strerror};

const REV_HELP: &str = "Usage: rev [FILE]...\nReverse the characters of each line of the FILEs (or standard input).\n\n      --help  display this help and exit\n";

/// Runs rev.
pub fn rev(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, REV_HELP) {
        return 0;
    }
    let files: Vec<String> = if a.is_empty() { vec!["-".into()] } else { a };
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut status = 0;
    for f in &files {
        let input = match super::open_input(f) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("rev: cannot open {f}: {}", strerror(&e));
                status = 1;
                continue;
            }
        };
        let mut input = input;
        loop {
            let mut line = Vec::new();
            match input.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    eprintln!("rev: {f}: {}", strerror(&e));
                    status = 1;
                    break;
                }
            }
            // A last line without a newline stays without one.
            let newline = line.last() == Some(&b'\n');
            if newline {
                line.pop();
            }
            // Characters when the line is UTF-8, bytes otherwise.
            let reversed: Vec<u8> = match std::str::from_utf8(&line) {
                Ok(s) => s.chars().rev().collect::<String>().into_bytes(),
                Err(_) => line.iter().rev().copied().collect(),
            };
            let end: &[u8] = if newline { b"\n" } else { b"" };
            if out
                .write_all(&reversed)
                .and_then(|()| out.write_all(end))
                .is_err()
            {
                return 1;
            }
        }
    }
    if out.flush().is_err() {
        return 1;
    }
    status
}

const ENVSUBST_HELP: &str = "Usage: envsubst [OPTION] [SHELL-FORMAT]
Substitutes the values of environment variables.

  -v, --variables    output the variables occurring in SHELL-FORMAT
      --help         display this help and exit

In normal operation mode, standard input is copied to standard output, with
references to environment variables of the form $VARIABLE or ${VARIABLE}
being replaced with the corresponding values.  If a SHELL-FORMAT is given,
only those environment variables that are referenced in SHELL-FORMAT are
substituted; otherwise all environment variables references occurring in
standard input are substituted.
";

/// The `$NAME` / `${NAME}` references in `text`: (start, end, name) byte ranges.
fn references(text: &[u8]) -> Vec<(usize, usize, String)> {
    let name_start = |b: u8| b.is_ascii_alphabetic() || b == b'_';
    let name_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut refs = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'$' {
            i += 1;
            continue;
        }
        let braced = text.get(i + 1) == Some(&b'{');
        let s = i + 1 + usize::from(braced);
        if !text.get(s).is_some_and(|&b| name_start(b)) {
            i += 1;
            continue;
        }
        let mut e = s;
        while e < text.len() && name_char(text[e]) {
            e += 1;
        }
        if braced {
            if text.get(e) != Some(&b'}') {
                i += 1;
                continue;
            }
            refs.push((i, e + 1, String::from_utf8_lossy(&text[s..e]).into_owned()));
            i = e + 1;
        } else {
            refs.push((i, e, String::from_utf8_lossy(&text[s..e]).into_owned()));
            i = e;
        }
    }
    refs
}

/// Runs envsubst.
pub fn envsubst(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, ENVSUBST_HELP) {
        return 0;
    }
    let variables = a.first().is_some_and(|x| x == "-v" || x == "--variables");
    let format: Vec<&String> = a
        .iter()
        .filter(|x| *x != "-v" && *x != "--variables")
        .collect();
    if format.len() > 1 {
        eprintln!("envsubst: too many arguments");
        return 1;
    }
    let only: Option<Vec<String>> = format
        .first()
        .map(|f| references(f.as_bytes()).into_iter().map(|r| r.2).collect());
    if variables {
        let Some(names) = only else {
            eprintln!("envsubst: missing arguments");
            return 1;
        };
        for n in names {
            println!("{n}");
        }
        return 0;
    }
    let mut input = Vec::new();
    if let Err(e) = io::stdin().read_to_end(&mut input) {
        eprintln!(
            "envsubst: error while reading \"standard input\": {}",
            strerror(&e)
        );
        return 1;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut at = 0;
    for (s, e, name) in references(&input) {
        if only.as_ref().is_some_and(|o| !o.contains(&name)) {
            continue;
        }
        out.extend_from_slice(&input[at..s]);
        if let Some(v) = std::env::var_os(&name) {
            out.extend_from_slice(v.as_encoded_bytes());
        }
        at = e;
    }
    out.extend_from_slice(&input[at..]);
    let mut stdout = io::stdout().lock();
    if stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return 1;
    }
    0
}
