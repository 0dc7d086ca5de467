//! xxd (vim's: -c -g -l -s -u -p, -r for plain and default dumps) and `hexdump -C`
//! (util-linux's canonical format, `*` for repeated lines unless -v).

use std::ffi::OsString;
use std::io::{self, Read, Write};

use clap::{Arg, ArgAction, Command};

use super::strerror;

/// The input: a file, or standard input for `-` or none.
fn read_input(name: Option<&String>) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    match name.map(String::as_str) {
        None | Some("-") => io::stdin().read_to_end(&mut data)?,
        Some(f) => std::fs::File::open(f)?.read_to_end(&mut data)?,
    };
    Ok(data)
}

fn printable(b: u8) -> char {
    if (0x20..0x7f).contains(&b) {
        b as char
    } else {
        '.'
    }
}

/// A number as xxd takes it (decimal, 0x hex, 0 octal).
fn number(s: &str) -> Option<usize> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        usize::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        usize::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

fn xxd_command() -> Command {
    Command::new("xxd")
        .about("Make a hex dump of a file, or turn one back into bytes (vim's xxd options).")
        .override_usage(
            "xxd [-c COLS] [-g BYTES] [-l LEN] [-s SEEK] [-u] [-p] [-r] [INFILE [OUTFILE]]",
        )
        .args([
            Arg::new("cols")
                .short('c')
                .help("octets per line (default 16; -p: 30)"),
            Arg::new("group")
                .short('g')
                .help("octets per group (default 2)"),
            Arg::new("len").short('l').help("stop after LEN octets"),
            Arg::new("seek").short('s').help("start at offset SEEK"),
            Arg::new("upper")
                .short('u')
                .action(ArgAction::SetTrue)
                .help("upper-case hex"),
            Arg::new("plain")
                .short('p')
                .action(ArgAction::SetTrue)
                .help("plain hex dump"),
            Arg::new("revert")
                .short('r')
                .action(ArgAction::SetTrue)
                .help("hex dump to bytes"),
            Arg::new("files").num_args(0..=2),
        ])
}

/// Runs xxd.
pub fn xxd(argv: Vec<OsString>) -> i32 {
    let m = match xxd_command().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return if e.kind() == clap::error::ErrorKind::DisplayHelp {
                0
            } else {
                1
            };
        }
    };
    let files: Vec<String> = m
        .get_many::<String>("files")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let num = |id: &str| -> Result<Option<usize>, String> {
        m.get_one::<String>(id)
            .map(|v| number(v).ok_or_else(|| format!("xxd: invalid number '{v}'")))
            .transpose()
    };
    let (cols, group, len, seek) = match (num("cols"), num("group"), num("len"), num("seek")) {
        (Ok(c), Ok(g), Ok(l), Ok(s)) => (c, g, l, s),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let data = match read_input(files.first()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("xxd: {}: {}", files[0], strerror(&e));
            return 2;
        }
    };
    let plain = m.get_flag("plain");
    let out = if m.get_flag("revert") {
        revert(&data, plain)
    } else {
        let start = seek.unwrap_or(0).min(data.len());
        let end = len.map_or(data.len(), |l| (start + l).min(data.len()));
        let cols = cols.unwrap_or(if plain { 30 } else { 16 }).max(1);
        let group = group.unwrap_or(2);
        dump(
            &data[start..end],
            start,
            cols,
            group,
            plain,
            m.get_flag("upper"),
        )
        .into_bytes()
    };
    let written = match files.get(1) {
        Some(f) => std::fs::write(f, &out),
        None => {
            let mut o = io::stdout().lock();
            o.write_all(&out).and_then(|()| o.flush())
        }
    };
    match written {
        Ok(()) => 0,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("xxd: {}", strerror(&e));
            3
        }
    }
}

fn dump(data: &[u8], base: usize, cols: usize, group: usize, plain: bool, upper: bool) -> String {
    let hex = |b: u8| {
        if upper {
            format!("{b:02X}")
        } else {
            format!("{b:02x}")
        }
    };
    let mut out = String::new();
    for (i, line) in data.chunks(cols).enumerate() {
        if plain {
            line.iter().for_each(|&b| out.push_str(&hex(b)));
            out.push('\n');
            continue;
        }
        out.push_str(&format!("{:08x}: ", base + i * cols));
        let mut hexpart = String::new();
        for (j, &b) in line.iter().enumerate() {
            hexpart.push_str(&hex(b));
            if group > 0 && (j + 1) % group == 0 && j + 1 < cols {
                hexpart.push(' ');
            }
        }
        // The hex column is as wide as a full line's.
        let width = cols * 2 + cols.saturating_sub(1).checked_div(group).unwrap_or(0);
        out.push_str(&format!("{hexpart:<width$}"));
        out.push_str("  ");
        out.extend(line.iter().map(|&b| printable(b)));
        out.push('\n');
    }
    out
}

/// `xxd -r` (`-p`: hex digits anywhere; else the default dump's hex column).
fn revert(text: &[u8], plain: bool) -> Vec<u8> {
    let text = String::from_utf8_lossy(text);
    let mut out = Vec::new();
    let push_hex = |s: &str, out: &mut Vec<u8>| {
        let digits: Vec<u8> = s
            .bytes()
            .filter(u8::is_ascii_hexdigit)
            .map(|c| (c as char).to_digit(16).unwrap_or(0) as u8)
            .collect();
        out.extend(digits.chunks_exact(2).map(|p| p[0] << 4 | p[1]));
    };
    if plain {
        push_hex(&text, &mut out);
        return out;
    }
    for line in text.lines() {
        let Some((offset, rest)) = line.split_once(':') else {
            continue;
        };
        let Ok(at) = usize::from_str_radix(offset.trim(), 16) else {
            continue;
        };
        // The hex column ends at the two spaces before the text column.
        let hex = rest.split("  ").next().unwrap_or("");
        if out.len() < at {
            out.resize(at, 0);
        }
        out.truncate(at);
        push_hex(hex, &mut out);
    }
    out
}

/// Runs hexdump (the canonical `-C` format; other formats are not offered).
pub fn hexdump(argv: Vec<OsString>) -> i32 {
    let cmd = Command::new("hexdump")
        .about("Display file contents in hexadecimal (util-linux's -C canonical format).")
        .override_usage("hexdump -C [-v] [-n LEN] [-s SKIP] [FILE...]")
        .args([
            Arg::new("canonical")
                .short('C')
                .action(ArgAction::SetTrue)
                .help("canonical hex+ASCII display"),
            Arg::new("all")
                .short('v')
                .action(ArgAction::SetTrue)
                .help("show repeated lines too"),
            Arg::new("len").short('n').help("interpret only LEN bytes"),
            Arg::new("skip").short('s').help("skip SKIP bytes"),
            Arg::new("files").num_args(0..),
        ]);
    let m = match cmd.try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return if e.kind() == clap::error::ErrorKind::DisplayHelp {
                0
            } else {
                1
            };
        }
    };
    if !m.get_flag("canonical") {
        eprintln!("hexdump: only the canonical format (-C) is offered; try hexdump -C or od");
        return 1;
    }
    let files: Vec<String> = m
        .get_many::<String>("files")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let mut data = Vec::new();
    let mut status = 0;
    if files.is_empty() {
        match read_input(None) {
            Ok(d) => data = d,
            Err(e) => {
                eprintln!("hexdump: stdin: {}", strerror(&e));
                return 1;
            }
        }
    }
    for f in &files {
        match read_input(Some(f)) {
            Ok(d) => data.extend(d),
            Err(e) => {
                eprintln!("hexdump: {f}: {}", strerror(&e));
                status = 1;
            }
        }
    }
    let n = |id: &str| m.get_one::<String>(id).and_then(|v| number(v));
    let start = n("skip").unwrap_or(0).min(data.len());
    let end = n("len").map_or(data.len(), |l| (start + l).min(data.len()));
    let data = &data[start..end];
    let mut out = String::new();
    let mut previous: Option<&[u8]> = None;
    let mut starred = false;
    for (i, line) in data.chunks(16).enumerate() {
        if !m.get_flag("all") && line.len() == 16 && previous == Some(line) {
            if !starred {
                out.push_str("*\n");
                starred = true;
            }
            continue;
        }
        starred = false;
        previous = Some(line);
        out.push_str(&format!("{:08x} ", start + i * 16));
        for (j, b) in line.iter().enumerate() {
            if j == 8 {
                out.push(' ');
            }
            out.push_str(&format!(" {b:02x}"));
        }
        let missing = 16 - line.len();
        out.push_str(&" ".repeat(missing * 3 + usize::from(line.len() <= 8)));
        out.push_str("  |");
        out.extend(line.iter().map(|&b| printable(b)));
        out.push_str("|\n");
    }
    if !data.is_empty() || start > 0 {
        out.push_str(&format!("{:08x}\n", start + data.len()));
    }
    if super::print_all(&out).is_err() {
        return 1;
    }
    status
}
