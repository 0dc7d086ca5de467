//! stat: a file's full status from the `wsh` host interface, with GNU's `-c` formats.

use std::ffi::OsString;
use std::path::Path;

use super::{args, group_name, help, mode_string, strerror, type_name, user_name, utc};
use crate::wsh::{self, Stat};

const HELP: &str = "Usage: stat [OPTION]... FILE...
Display file status.

  -L, --dereference     follow links
  -c  --format=FORMAT   use the specified FORMAT instead of the default;
                          output a newline after each use of FORMAT
      --printf=FORMAT   like --format, but interpret backslash escapes,
                          and do not output a mandatory trailing newline
      --help            display this help and exit

Sequences: %a %A %b %B %d %f %F %g %G %h %i %n %N %o %s %u %U %w %W %x %X %y %Y %z %Z %%
";

/// `2026-11-25 14:08:51.123456789 +0000`, as GNU stat prints times (in UTC).
fn time(ns: i64) -> String {
    let (y, mo, d, h, mi, s, n) = utc(ns);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{n:09} +0000")
}

fn format(fmt: &str, path: &str, st: &Stat) -> String {
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(k) = chars.next() else {
            out.push('%');
            break;
        };
        let secs = |ns: i64| ns.div_euclid(1_000_000_000).to_string();
        match k {
            '%' => out.push('%'),
            'a' => out.push_str(&format!("{:o}", st.mode & 0o7777)),
            'A' => out.push_str(&mode_string(st.mode)),
            'b' => out.push_str(&st.blocks.to_string()),
            'B' => out.push_str("512"),
            'd' => out.push_str(&st.dev.to_string()),
            'f' => out.push_str(&format!("{:x}", st.mode)),
            'F' => out.push_str(if st.mode & wsh::S_IFMT == wsh::S_IFREG && st.size == 0 {
                "regular empty file"
            } else {
                type_name(st.mode)
            }),
            'g' => out.push_str(&st.gid.to_string()),
            'G' => out.push_str(&group_name(st.gid).unwrap_or_else(|| "UNKNOWN".into())),
            'h' => out.push_str(&st.nlink.to_string()),
            'i' => out.push_str(&st.ino.to_string()),
            'n' => out.push_str(path),
            'N' => match st
                .is_symlink()
                .then(|| std::fs::read_link(path).ok())
                .flatten()
            {
                Some(t) => out.push_str(&format!("'{path}' -> '{}'", t.display())),
                None => out.push_str(&format!("'{path}'")),
            },
            'o' => out.push_str(&st.blksize.to_string()),
            's' => out.push_str(&st.size.to_string()),
            'u' => out.push_str(&st.uid.to_string()),
            'U' => out.push_str(&user_name(st.uid).unwrap_or_else(|| "UNKNOWN".into())),
            'w' => out.push('-'),
            'W' => out.push('0'),
            'x' => out.push_str(&time(st.atime)),
            'X' => out.push_str(&secs(st.atime)),
            'y' => out.push_str(&time(st.mtime)),
            'Y' => out.push_str(&secs(st.mtime)),
            'z' => out.push_str(&time(st.ctime)),
            'Z' => out.push_str(&secs(st.ctime)),
            other => {
                out.push('?');
                out.push(other);
            }
        }
    }
    out
}

/// Backslash escapes of --printf.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('a') => out.push('\x07'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

const DEFAULT: &str = "  File: %N\n  Size: %-10s\tBlocks: %-10b IO Block: %-6o %F\nDevice: %d\tInode: %-11i Links: %h\nAccess: (%04a/%A)  Uid: (%5u/%8U)   Gid: (%5g/%8G)\nAccess: %x\nModify: %y\nChange: %z\n Birth: %w\n";

/// The default (no -c) listing, GNU's layout.
fn default_listing(path: &str, st: &Stat) -> String {
    let pad = |s: String, w: usize, left: bool| {
        if left {
            format!("{s:<w$}")
        } else {
            format!("{s:>w$}")
        }
    };
    let mut t = DEFAULT.to_string();
    let fields = [
        ("%-10s", pad(st.size.to_string(), 10, true)),
        ("%-10b", pad(st.blocks.to_string(), 10, true)),
        ("%-6o", pad(st.blksize.to_string(), 6, true)),
        ("%-11i", pad(st.ino.to_string(), 11, true)),
        ("%04a", format!("{:04o}", st.mode & 0o7777)),
        ("%5u", pad(st.uid.to_string(), 5, false)),
        (
            "%8U",
            pad(
                user_name(st.uid).unwrap_or_else(|| "UNKNOWN".into()),
                8,
                false,
            ),
        ),
        ("%5g", pad(st.gid.to_string(), 5, false)),
        (
            "%8G",
            pad(
                group_name(st.gid).unwrap_or_else(|| "UNKNOWN".into()),
                8,
                false,
            ),
        ),
    ];
    for (k, v) in fields {
        t = t.replace(k, &v.replace('%', "%%"));
    }
    format(&t, path, st)
}

/// Runs stat.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    let mut follow = false;
    let mut fmt: Option<(String, bool)> = None;
    let mut files = Vec::new();
    let mut it = a.into_iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-L" | "--dereference" => follow = true,
            "-c" | "--format" => match it.next() {
                Some(f) => fmt = Some((f, true)),
                None => {
                    eprintln!("stat: option requires an argument -- 'c'");
                    return 1;
                }
            },
            "--printf" => match it.next() {
                Some(f) => fmt = Some((unescape(&f), false)),
                None => {
                    eprintln!("stat: option '--printf' requires an argument");
                    return 1;
                }
            },
            s if s.starts_with("--format=") => fmt = Some((s[9..].to_string(), true)),
            s if s.starts_with("--printf=") => fmt = Some((unescape(&s[9..]), false)),
            s if s.starts_with("-c") && s.len() > 2 => fmt = Some((s[2..].to_string(), true)),
            s if s.starts_with('-') && s.len() > 1 => {
                eprintln!(
                    "stat: invalid option -- '{}'\nTry 'stat --help' for more information.",
                    &s[1..]
                );
                return 1;
            }
            _ => files.push(arg),
        }
    }
    if files.is_empty() {
        eprintln!("stat: missing operand\nTry 'stat --help' for more information.");
        return 1;
    }
    let mut status = 0;
    for f in files {
        match wsh::stat(Path::new(&f), follow) {
            Ok(st) => match &fmt {
                Some((fm, newline)) => {
                    print!("{}", format(fm, &f, &st));
                    if *newline {
                        println!();
                    }
                }
                None => print!("{}", default_listing(&f, &st)),
            },
            Err(e) => {
                eprintln!("stat: cannot statx '{f}': {}", strerror(&e));
                status = 1;
            }
        }
    }
    status
}
