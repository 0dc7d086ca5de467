//! wsh's own applets: the ones uutils cannot provide under WASI (they need modes,
//! owners or starting programs, which only the `wsh` host interface offers) and
//! the ones uutils does not have. Each module's `main` takes argv and returns the
//! exit status.

pub mod accounts;
pub mod awk;
pub mod bc;
pub mod cat;
pub mod chmod;
pub mod chown;
pub mod column;
pub mod compress;
pub mod diff;
pub mod ed;
pub mod edit;
pub mod env;
pub mod file;
pub mod find;
pub mod flock;
pub mod grep;
pub mod hexdump;
pub mod httpd;
pub mod iconv;
pub mod ids;
pub mod install;
pub mod jq;
pub mod less;
pub mod locale;
pub mod ls;
pub mod man;
pub mod misc;
pub mod mkdir;
pub mod mkfifo;
pub mod more;
pub mod nano;
pub mod nc;
pub mod nohup;
pub mod patch;
pub mod pgrep;
pub mod posix_regex;
pub mod procs;
pub mod ps;
pub mod sed;
pub mod seq;
pub mod stat;
pub mod tar;
pub mod term;
pub mod text;
pub mod top;
pub mod unzip;
pub mod vi;
pub mod watch;
pub mod wc;
pub mod wget;
pub mod xargs;
pub mod zip;

use std::ffi::OsString;
use std::io::{self, Write};

/// An error's text without Rust's " (os error N)" suffix, as C's strerror.
pub fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Writes `text` to standard output and flushes it: an applet that gathered its whole
/// output checks the one result.
pub fn print_all(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// argv as Strings (lossy), without argv[0].
pub fn args(argv: Vec<OsString>) -> Vec<String> {
    argv.into_iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// The start applets' `main`s share: the arguments, `--help`, then the options
/// `parse` makes of them. `Err(status)` when the applet is done already: 0 after
/// the help, `bad` after printing `parse`'s message.
pub fn start<O>(
    argv: Vec<OsString>,
    help_text: &str,
    parse: impl FnOnce(&[String]) -> Result<O, String>,
    bad: i32,
) -> Result<O, i32> {
    let a = args(argv);
    if help(&a, help_text) {
        return Err(0);
    }
    parse(&a).map_err(|msg| {
        eprintln!("{msg}");
        bad
    })
}

/// An input named on a command line, buffered: `-` is standard input.
pub fn open_input(name: &str) -> io::Result<Box<dyn io::BufRead>> {
    if name == "-" {
        return Ok(Box::new(io::stdin().lock()));
    }
    Ok(Box::new(io::BufReader::new(std::fs::File::open(name)?)))
}

/// Prints `text` to stdout if `args` ask for `--help`; returns whether it did.
pub fn help(args: &[String], text: &str) -> bool {
    if args
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--help")
    {
        let mut out = io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        return true;
    }
    false
}

/// Reads one of the image's colon-separated account files as (name, id) pairs.
fn accounts(file: &str) -> Vec<(String, u32)> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?.to_string();
            let id = f.nth(1)?.parse().ok()?;
            Some((name, id))
        })
        .collect()
}

/// The user name of `uid` from /etc/passwd.
pub fn user_name(uid: u32) -> Option<String> {
    accounts("/etc/passwd")
        .into_iter()
        .find(|(_, id)| *id == uid)
        .map(|(n, _)| n)
}

/// The group name of `gid` from /etc/group.
pub fn group_name(gid: u32) -> Option<String> {
    accounts("/etc/group")
        .into_iter()
        .find(|(_, id)| *id == gid)
        .map(|(n, _)| n)
}

/// The uid of user `name` (or a number).
pub fn user_id(name: &str) -> Option<u32> {
    accounts("/etc/passwd")
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, id)| id)
        .or_else(|| name.parse().ok())
}

/// The gid of group `name` (or a number).
pub fn group_id(name: &str) -> Option<u32> {
    accounts("/etc/group")
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, id)| id)
        .or_else(|| name.parse().ok())
}

/// `ls -l`'s ten-character mode string, e.g. `-rw-r-----`.
pub fn mode_string(mode: u32) -> String {
    use crate::wsh::*;
    let kind = match mode & S_IFMT {
        S_IFDIR => 'd',
        S_IFLNK => 'l',
        S_IFCHR => 'c',
        S_IFBLK => 'b',
        S_IFIFO => 'p',
        S_IFSOCK => 's',
        _ => '-',
    };
    let mut s = String::with_capacity(10);
    s.push(kind);
    let special = [(0o4000, 's', 'S'), (0o2000, 's', 'S'), (0o1000, 't', 'T')];
    for (i, (bit, on, off)) in special.iter().enumerate() {
        let shift = 6 - 3 * i;
        let p = (mode >> shift) & 7;
        s.push(if p & 4 != 0 { 'r' } else { '-' });
        s.push(if p & 2 != 0 { 'w' } else { '-' });
        let x = p & 1 != 0;
        s.push(match (mode & bit != 0, x) {
            (true, true) => *on,
            (true, false) => *off,
            (false, true) => 'x',
            (false, false) => '-',
        });
    }
    s
}

/// GNU's name for a file type (stat's %F).
pub fn type_name(mode: u32) -> &'static str {
    use crate::wsh::*;
    match mode & S_IFMT {
        S_IFDIR => "directory",
        S_IFLNK => "symbolic link",
        S_IFCHR => "character special file",
        S_IFBLK => "block special file",
        S_IFIFO => "fifo",
        S_IFSOCK => "socket",
        _ => "regular file",
    }
}

/// Civil date (year, month 1-12, day) of a day count since 1970-01-01.
pub fn civil(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Broken-down UTC time of nanoseconds since the epoch: (y, mon, d, h, min, s, ns).
pub fn utc(ns: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000) as u32;
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    (
        y,
        m,
        d,
        (t / 3600) as u32,
        (t % 3600 / 60) as u32,
        (t % 60) as u32,
        nanos,
    )
}

/// Human-readable size as `ls -h`/`du -h` print it (1024 powers, one decimal below 10).
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 7] = ["", "K", "M", "G", "T", "P", "E"];
    if n < 1024 {
        return n.to_string();
    }
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if v < 10.0 {
        // GNU rounds up.
        let r = (v * 10.0).ceil() / 10.0;
        if r < 10.0 {
            return format!("{r:.1}{}", UNITS[i]);
        }
        return format!("{}{}", r.ceil() as u64, UNITS[i]);
    }
    let r = v.ceil() as u64;
    if r >= 1024 && i < UNITS.len() - 1 {
        return format!("1.0{}", UNITS[i + 1]);
    }
    format!("{r}{}", UNITS[i])
}
