//! ps (procps-ng's): the programs of the container, with procps' columns, headers
//! and widths — the default `PID TTY TIME CMD`, `-f`, BSD `aux`/`ax`, and `-o`
//! with any of the keys in [`COLUMNS`] (`key=HEADER` renames). Selection by `-e`/`-A`,
//! `-p`, `-u`, `-C`, `--ppid`. wsh's programs have no terminal (TTY `?`) and run as
//! one thread whose memory is all resident (RSS = VSZ).

use std::ffi::OsString;

use super::procs::{self, HZ, Proc};
use super::start;

const HELP: &str = "Usage:
 ps [options]

Basic options:
 -A, -e               all processes
 a                    all with tty, including other users
 x                    processes without controlling ttys

Selection by list:
 -C <command>         command name
 -p, p, --pid <PID>   process id
 -u, U, --user <UID>  effective user id or name
 --ppid <PID>         parent process id

Output formats:
 -f                   full-format
 -o, o, --format <format>
                      user-defined format (keys: pid ppid pgid uid user group gid
                      stat s etime etimes time cputime rss rsz vsz sz args cmd
                      command comm tty tt pcpu pmem c stime start lstart ni pri nlwp;
                      key=HEADER renames a column)
 u                    user-oriented format
 --no-headers, h      do not print header at all

      --help     display this help and exit
";

/// One column a key names: its header, width and alignment.
#[derive(Clone)]
struct Column {
    key: &'static str,
    header: String,
    width: usize,
    right: bool,
}

/// procps' keys: (key, header, width, right-aligned).
const COLUMNS: &[(&str, &str, usize, bool)] = &[
    ("pid", "PID", 5, true),
    ("tgid", "TGID", 5, true),
    ("ppid", "PPID", 5, true),
    ("pgid", "PGID", 5, true),
    ("pgrp", "PGRP", 5, true),
    ("sid", "SID", 5, true),
    ("sess", "SESS", 5, true),
    ("uid", "UID", 5, true),
    ("euid", "EUID", 5, true),
    ("ruid", "RUID", 5, true),
    ("user", "USER", 8, false),
    ("euser", "EUSER", 8, false),
    ("ruser", "RUSER", 8, false),
    ("uname", "USER", 8, false),
    ("gid", "GID", 5, true),
    ("egid", "EGID", 5, true),
    ("group", "GROUP", 8, false),
    ("egroup", "EGROUP", 8, false),
    ("stat", "STAT", 4, false),
    ("s", "S", 1, false),
    ("state", "S", 1, false),
    ("etime", "ELAPSED", 11, true),
    ("etimes", "ELAPSED", 7, true),
    ("time", "TIME", 8, true),
    ("cputime", "TIME", 8, true),
    ("bsdtime", "TIME", 6, true),
    ("rss", "RSS", 5, true),
    ("rssize", "RSS", 5, true),
    ("rsz", "RSZ", 5, true),
    ("vsz", "VSZ", 6, true),
    ("vsize", "VSZ", 6, true),
    ("sz", "SZ", 5, true),
    ("args", "COMMAND", 27, false),
    ("command", "COMMAND", 27, false),
    ("cmd", "CMD", 27, false),
    ("comm", "COMMAND", 15, false),
    ("ucmd", "CMD", 15, false),
    ("ucomm", "COMMAND", 15, false),
    ("tty", "TT", 8, false),
    ("tt", "TT", 8, false),
    ("tname", "TTY", 8, false),
    ("pcpu", "%CPU", 4, true),
    ("%cpu", "%CPU", 4, true),
    ("pmem", "%MEM", 4, true),
    ("%mem", "%MEM", 4, true),
    ("c", "C", 2, true),
    ("stime", "STIME", 5, false),
    ("start_time", "START", 5, false),
    ("bsdstart", "START", 6, true),
    ("start", "STARTED", 8, true),
    ("lstart", "STARTED", 24, false),
    ("ni", "NI", 3, true),
    ("nice", "NI", 3, true),
    ("pri", "PRI", 3, true),
    ("nlwp", "NLWP", 4, true),
    ("thcount", "THCNT", 5, true),
];

fn column(spec: &str) -> Result<Column, String> {
    let (key, header) = match spec.split_once('=') {
        Some((k, h)) => (k, Some(h)),
        None => (spec, None),
    };
    let &(key, h, width, right) = COLUMNS
        .iter()
        .find(|c| c.0 == key)
        .ok_or_else(|| format!("error: unknown user-defined format specifier \"{key}\""))?;
    let header = header.unwrap_or(h).to_string();
    Ok(Column {
        key,
        width: width.max(header.len()),
        header,
        right,
    })
}

/// A format list as `-o` takes it ("pid,comm" or "pid comm"; in `key=HEADER` the
/// header runs to the next comma, spaces included, as procps reads it).
fn columns(list: &str) -> Result<Vec<Column>, String> {
    let mut out = Vec::new();
    for piece in list.split(',') {
        let (keys, header) = match piece.split_once('=') {
            Some((k, h)) => (k, Some(h)),
            None => (piece, None),
        };
        let keys: Vec<&str> = keys.split_whitespace().collect();
        for (i, key) in keys.iter().enumerate() {
            match header {
                Some(h) if i + 1 == keys.len() => out.push(column(&format!("{key}={h}"))?),
                _ => out.push(column(key)?),
            }
        }
        if keys.is_empty() && header.is_some() {
            return Err(format!(
                "error: unknown user-defined format specifier \"{piece}\""
            ));
        }
    }
    Ok(out)
}

fn named(list: &[(&str, &str)]) -> Vec<Column> {
    list.iter()
        .map(|(k, h)| {
            let mut c = column(k).expect("known key");
            if !h.is_empty() {
                c.header = h.to_string();
            }
            c
        })
        .collect()
}

/// What to show and of whom.
#[derive(Default)]
struct Options {
    all: bool,
    full: bool,
    user_format: bool,
    bsd: bool,
    no_headers: bool,
    format: Vec<Column>,
    pids: Vec<u32>,
    ppids: Vec<u32>,
    users: Vec<u32>,
    commands: Vec<String>,
}

fn parse(a: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut i = 0;
    // The argument of an option: the rest of this word, or the next word.
    let value = |i: &mut usize, rest: &str, what: &str| -> Result<String, String> {
        if !rest.is_empty() {
            return Ok(rest.to_string());
        }
        *i += 1;
        a.get(*i)
            .cloned()
            .ok_or_else(|| format!("error: {what} requires an argument"))
    };
    while i < a.len() {
        let w = &a[i];
        if let Some(long) = w.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let mut arg = |what: &str| match inline.clone() {
                Some(v) => Ok(v),
                None => value(&mut i, "", what),
            };
            match name {
                "no-headers" | "no-heading" => o.no_headers = true,
                "pid" => o.pids.extend(procs::parse_pids(&arg("--pid")?)?),
                "ppid" => o.ppids.extend(procs::parse_pids(&arg("--ppid")?)?),
                "user" => o.users.extend(procs::parse_users(&arg("--user")?)?),
                "format" => o.format.extend(columns(&arg("--format")?)?),
                _ => return Err("error: unknown gnu long option".into()),
            }
        } else if let Some(flags) = w.strip_prefix('-') {
            for (at, c) in flags.char_indices() {
                let rest = &flags[at + c.len_utf8()..];
                match c {
                    'e' | 'A' => o.all = true,
                    'f' => o.full = true,
                    'o' => {
                        o.format.extend(columns(&value(&mut i, rest, "-o")?)?);
                        break;
                    }
                    'p' => {
                        o.pids
                            .extend(procs::parse_pids(&value(&mut i, rest, "-p")?)?);
                        break;
                    }
                    'u' | 'U' => {
                        o.users
                            .extend(procs::parse_users(&value(&mut i, rest, "-u")?)?);
                        break;
                    }
                    'C' => {
                        let v = value(&mut i, rest, "-C")?;
                        o.commands.extend(v.split(',').map(str::to_string));
                        break;
                    }
                    _ => return Err(format!("error: unsupported SysV option: -{c}")),
                }
            }
        } else {
            // BSD options: no dash.
            o.bsd = true;
            for (at, c) in w.char_indices() {
                let rest = &w[at + c.len_utf8()..];
                match c {
                    'a' | 'x' => o.all = true,
                    'u' => o.user_format = true,
                    'h' => o.no_headers = true,
                    'o' => {
                        o.format.extend(columns(&value(&mut i, rest, "o")?)?);
                        break;
                    }
                    'p' => {
                        o.pids
                            .extend(procs::parse_pids(&value(&mut i, rest, "p")?)?);
                        break;
                    }
                    'U' => {
                        o.users
                            .extend(procs::parse_users(&value(&mut i, rest, "U")?)?);
                        break;
                    }
                    _ => return Err("error: unsupported option (BSD syntax)".into()),
                }
            }
        }
        i += 1;
    }
    Ok(o)
}

/// The text of column `key` for `p`.
fn cell(key: &str, p: &Proc, uptime: u64, mem_total_kb: u64) -> String {
    let kb = p.memory / 1024;
    let cpu_secs = p.cpu / HZ;
    let elapsed = procs::elapsed_secs(p, uptime);
    let pcpu = || {
        let run = uptime.saturating_sub(p.start);
        if run == 0 {
            0.0
        } else {
            p.cpu as f64 * 100.0 / run as f64
        }
    };
    match key {
        "pid" | "tgid" | "pgid" | "pgrp" => p.pid.to_string(),
        "sid" | "sess" => p.pid.to_string(),
        "ppid" => p.ppid.to_string(),
        "uid" | "euid" | "ruid" => p.uid.to_string(),
        "user" | "euser" | "ruser" | "uname" => procs::user_label(p.uid),
        "gid" | "egid" => p.gid.to_string(),
        "group" | "egroup" => super::group_name(p.gid).unwrap_or_else(|| p.gid.to_string()),
        "stat" | "s" | "state" => p.state.to_string(),
        "etime" => procs::etime(elapsed),
        "etimes" => elapsed.to_string(),
        "time" | "cputime" => procs::hms(cpu_secs),
        "bsdtime" => format!("{}:{:02}", cpu_secs / 60, cpu_secs % 60),
        "rss" | "rssize" | "rsz" | "vsz" | "vsize" => kb.to_string(),
        "sz" => p.memory.div_ceil(4096).to_string(),
        "args" | "command" | "cmd" => p.cmdline(),
        "comm" | "ucmd" | "ucomm" => p.comm.clone(),
        "tty" | "tt" | "tname" => "?".into(),
        "pcpu" | "%cpu" => format!("{:.1}", pcpu()),
        "c" => format!("{}", pcpu() as u64),
        "pmem" | "%mem" => {
            let m = kb as f64 * 100.0 / mem_total_kb.max(1) as f64;
            format!("{m:.1}")
        }
        "stime" | "start_time" | "bsdstart" => procs::stime(procs::start_secs(p, uptime)),
        "start" => procs::clock(procs::start_secs(p, uptime)),
        "lstart" => procs::lstart(procs::start_secs(p, uptime)),
        "ni" | "nice" => "0".into(),
        "pri" => "19".into(),
        _ => "1".into(),
    }
}

/// One line of the table: each cell padded to its width; the last one unpadded
/// on the right, a command column in the middle cut to its width.
fn line(cols: &[Column], cells: &[String]) -> String {
    let mut out = String::new();
    for (i, (c, v)) in cols.iter().zip(cells).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let last = i + 1 == cols.len();
        let cut = !last && matches!(c.key, "args" | "command" | "cmd");
        let v: String = if cut {
            v.chars().take(c.width).collect()
        } else {
            v.clone()
        };
        if c.right {
            out.push_str(&format!("{v:>w$}", w = c.width));
        } else if last {
            out.push_str(&v);
        } else {
            out.push_str(&format!("{v:<w$}", w = c.width));
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Runs ps.
pub fn main(argv: Vec<OsString>) -> i32 {
    let usage =
        |msg| format!("{msg}\n\nUsage:\n ps [options]\n\n Try 'ps --help' for more information.");
    let o = match start(argv, HELP, |a| parse(a).map_err(usage), 1) {
        Ok(o) => o,
        Err(status) => return status,
    };
    let list = match procs::all() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ps: cannot list the processes: {}", super::strerror(&e));
            return 1;
        }
    };
    let me = crate::wsh::identity().0;
    let listed = !o.pids.is_empty() || !o.ppids.is_empty() || !o.commands.is_empty();
    let selected: Vec<&Proc> = list
        .iter()
        .filter(|p| {
            if listed || !o.users.is_empty() {
                o.pids.contains(&p.pid)
                    || o.ppids.contains(&p.ppid)
                    || o.commands.contains(&p.comm)
                    || o.users.contains(&p.uid)
            } else {
                // No terminal anywhere: the default is the caller's user's programs.
                o.all || p.uid == me
            }
        })
        .collect();
    let mut cols = if !o.format.is_empty() {
        o.format.clone()
    } else if o.user_format {
        named(&[
            ("user", ""),
            ("pid", ""),
            ("pcpu", ""),
            ("pmem", ""),
            ("vsz", ""),
            ("rss", ""),
            ("tname", "TTY"),
            ("stat", ""),
            ("start_time", "START"),
            ("bsdtime", ""),
            ("command", ""),
        ])
    } else if o.full {
        named(&[
            ("user", "UID"),
            ("pid", ""),
            ("ppid", ""),
            ("c", ""),
            ("stime", ""),
            ("tname", "TTY"),
            ("time", ""),
            ("args", "CMD"),
        ])
    } else if o.bsd {
        named(&[
            ("pid", ""),
            ("tname", "TTY"),
            ("stat", ""),
            ("bsdtime", ""),
            ("command", ""),
        ])
    } else {
        named(&[("pid", ""), ("tname", "TTY"), ("time", ""), ("ucmd", "CMD")])
    };
    // Pids wider than procps' 5 columns widen theirs.
    let digits = selected
        .iter()
        .map(|p| p.pid.max(p.ppid).to_string().len())
        .max()
        .unwrap_or(0);
    for c in &mut cols {
        if matches!(
            c.key,
            "pid" | "ppid" | "tgid" | "pgid" | "pgrp" | "sid" | "sess"
        ) {
            c.width = c.width.max(digits);
        }
    }
    let uptime = procs::uptime_ticks();
    let mem_total = procs::meminfo("MemTotal");
    let mut out = String::new();
    if !o.no_headers && cols.iter().any(|c| !c.header.is_empty()) {
        let headers: Vec<String> = cols.iter().map(|c| c.header.clone()).collect();
        out.push_str(&line(&cols, &headers));
        out.push('\n');
    }
    for p in &selected {
        let cells: Vec<String> = cols
            .iter()
            .map(|c| cell(c.key, p, uptime, mem_total))
            .collect();
        out.push_str(&line(&cols, &cells));
        out.push('\n');
    }
    if super::print_all(&out).is_err() {
        return 1;
    }
    // procps: 1 when a selection list matched nothing.
    if (listed || !o.users.is_empty()) && selected.is_empty() {
        return 1;
    }
    0
}
