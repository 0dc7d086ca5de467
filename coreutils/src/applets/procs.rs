//! What ps, top, pgrep, pkill and kill share: the container's programs as the
//! broker describes them (`wsh.procs` lists the pids, `/proc/PID/stat` and
//! `/proc/PID/cmdline` describe each, as on Linux), signal names, and the time
//! formats of procps.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::wsh;

/// Clock ticks per second in `/proc/PID/stat`.
pub const HZ: u64 = 100;

/// One program of the container.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    /// R running, S sleeping, T stopped.
    pub state: char,
    /// Start, in ticks since the container started.
    pub start: u64,
    /// CPU time, in ticks.
    pub cpu: u64,
    /// Bytes of memory (all of it resident: wasm linear memory).
    pub memory: u64,
    /// Its name (argv[0]'s last component, at most 15 bytes).
    pub comm: String,
    pub argv: Vec<String>,
}

impl Proc {
    /// The command line, or `[comm]` when it has none (as procps shows it).
    pub fn cmdline(&self) -> String {
        if self.argv.is_empty() {
            format!("[{}]", self.comm)
        } else {
            self.argv.join(" ")
        }
    }
}

/// Reads program `pid`, if it is still running.
pub fn read(pid: u32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let f: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // Fields after the name, counted from 3 (state) as in proc(5).
    let field = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    let id_of = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    };
    let argv = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>();
    let argv = match argv.split_last() {
        Some((last, rest)) if last.is_empty() => rest.to_vec(),
        _ => argv,
    };
    Some(Proc {
        pid,
        ppid: field(4)? as u32,
        uid: id_of("Uid:")?,
        gid: id_of("Gid:")?,
        state: f.first()?.chars().next()?,
        cpu: field(14)? + field(15)?,
        start: field(22)?,
        memory: field(23)?,
        comm,
        argv,
    })
}

/// Every program of the container (those that end while being read are left out).
pub fn all() -> std::io::Result<Vec<Proc>> {
    Ok(wsh::procs()?.into_iter().filter_map(read).collect())
}

/// This program's own pid.
pub fn own_pid() -> u32 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// How long the container has run, in ticks (`/proc/uptime`).
pub fn uptime_ticks() -> u64 {
    std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0, |s| (s * HZ as f64) as u64)
}

/// A `/proc/meminfo` value in KiB.
pub fn meminfo(key: &str) -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// Seconds since the epoch now.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// When `p` started, in seconds since the epoch.
pub fn start_secs(p: &Proc, uptime: u64) -> i64 {
    now_secs() - (uptime.saturating_sub(p.start) / HZ) as i64
}

/// Seconds since `p` started.
pub fn elapsed_secs(p: &Proc, uptime: u64) -> u64 {
    uptime.saturating_sub(p.start) / HZ
}

/// `[DD-]HH:MM:SS` (ps's TIME).
pub fn hms(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}-{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// `[[DD-]HH:]MM:SS` (ps's ELAPSED).
pub fn etime(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}-{h:02}:{m:02}:{s:02}")
    } else if h > 0 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// `HH:MM` for a start today, `MonDD` before (ps's STIME, UTC).
pub fn stime(start: i64) -> String {
    let (y, mo, d, h, mi, _, _) = super::utc(start * 1_000_000_000);
    let (ty, tmo, td, ..) = super::utc(now_secs() * 1_000_000_000);
    if (y, mo, d) == (ty, tmo, td) {
        format!("{h:02}:{mi:02}")
    } else {
        format!("{}{d:02}", MONTHS[mo as usize - 1])
    }
}

/// `Fri Dec  4 16:41:15 2026` (ps's lstart, UTC).
pub fn lstart(start: i64) -> String {
    let (y, mo, d, h, mi, s, _) = super::utc(start * 1_000_000_000);
    let wd = DAYS[start.div_euclid(86400).rem_euclid(7) as usize];
    format!(
        "{wd} {} {d:2} {h:02}:{mi:02}:{s:02} {y}",
        MONTHS[mo as usize - 1]
    )
}

/// `HH:MM:SS` (the time of day, UTC).
pub fn clock(secs: i64) -> String {
    let (_, _, _, h, mi, s, _) = super::utc(secs * 1_000_000_000);
    format!("{h:02}:{mi:02}:{s:02}")
}

/// Linux's signal names by number (1-31).
pub const SIGNALS: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "POLL", "PWR", "SYS",
];

/// The number of a signal named `TERM`, `SIGTERM`, `term` or `15`.
pub fn signal_number(text: &str) -> Option<i32> {
    if let Ok(n) = text.parse::<i32>() {
        return (0..=64).contains(&n).then_some(n);
    }
    let up = text.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    match name {
        "IO" => return Some(29),
        "IOT" => return Some(6),
        "CLD" => return Some(17),
        "RTMIN" => return Some(34),
        "RTMAX" => return Some(64),
        _ => {}
    }
    SIGNALS
        .iter()
        .position(|s| *s == name)
        .map(|i| i as i32 + 1)
}

/// The users named in a `-u` list: names from /etc/passwd or numbers.
pub fn parse_users(list: &str) -> Result<Vec<u32>, String> {
    list.split(',')
        .filter(|u| !u.is_empty())
        .map(|u| {
            u.parse()
                .ok()
                .or_else(|| super::user_id(u))
                .ok_or_else(|| format!("invalid user name: {u}"))
        })
        .collect()
}

/// A comma- or space-separated list of pids.
pub fn parse_pids(list: &str) -> Result<Vec<u32>, String> {
    list.split([',', ' '])
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().map_err(|_| format!("invalid process id: {p}")))
        .collect()
}

/// A user's name, or the number when /etc/passwd has none.
pub fn user_label(uid: u32) -> String {
    super::user_name(uid).unwrap_or_else(|| uid.to_string())
}
