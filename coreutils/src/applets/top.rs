//! top (procps-ng's) over the container's programs: the summary lines and the
//! task table with procps' columns, sorted by %CPU. `-b` batch mode prints
//! `-n` iterations `-d` seconds apart; on a terminal the screen is redrawn in
//! place until `-n` runs out, `q` is typed or Ctrl-C (the only keys read). The
//! %Cpu(s) line is left out: wsh does not account the host's CPU states.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::time::Duration;

use super::procs::{self, HZ, Proc};
use super::start;
use crate::wsh;

const HELP: &str = "Usage:
  top -hv | -bc -d secs -n max -p pid,...

Options:
  -b        batch mode: print each iteration, no screen control
  -c        show command lines instead of program names
  -d SECS   delay between iterations (default 3.0)
  -n MAX    number of iterations, then exit
  -p PIDS   show only these pids (comma-separated)
  -w [COLS] output width (batch mode default 80)

Interactive: q quits.

      --help     display this help and exit
";

struct Options {
    batch: bool,
    cmdline: bool,
    delay: f64,
    iterations: Option<u64>,
    pids: Vec<u32>,
    width: Option<usize>,
}

fn parse(a: &[String]) -> Result<Options, String> {
    let mut o = Options {
        batch: false,
        cmdline: false,
        delay: 3.0,
        iterations: None,
        pids: Vec::new(),
        width: None,
    };
    let mut i = 0;
    while i < a.len() {
        let w = &a[i];
        i += 1;
        let Some(flags) = w.strip_prefix('-') else {
            return Err(format!("top: unknown option '{w}'"));
        };
        for (at, c) in flags.char_indices() {
            let rest = &flags[at + c.len_utf8()..];
            let mut value = || -> Result<String, String> {
                if !rest.is_empty() {
                    return Ok(rest.to_string());
                }
                i += 1;
                a.get(i - 1)
                    .cloned()
                    .ok_or_else(|| format!("top: -{c} requires argument"))
            };
            match c {
                'b' => o.batch = true,
                'c' => o.cmdline = true,
                'd' => {
                    let v = value()?;
                    o.delay = v
                        .parse::<f64>()
                        .ok()
                        .filter(|d| *d >= 0.0 && d.is_finite())
                        .ok_or(format!("top: bad delay interval '{v}'"))?;
                    break;
                }
                'n' => {
                    let v = value()?;
                    o.iterations = Some(
                        v.parse()
                            .map_err(|_| format!("top: bad iterations argument '{v}'"))?,
                    );
                    break;
                }
                'p' => {
                    o.pids.extend(procs::parse_pids(&value()?)?);
                    break;
                }
                'w' => {
                    o.width = Some(if rest.is_empty() {
                        512
                    } else {
                        rest.parse()
                            .map_err(|_| format!("top: bad width '{rest}'"))?
                    });
                    break;
                }
                _ => return Err(format!("top: unknown option '{c}'")),
            }
        }
    }
    Ok(o)
}

/// `up 5 min`, `up  3:02`, `up 1 day,  3:02` as uptime(1) words it.
fn up(secs: u64) -> String {
    let days = secs / 86400;
    let (h, m) = (secs / 3600 % 24, secs / 60 % 60);
    let mut s = String::from("up ");
    if days > 0 {
        s.push_str(&format!("{days} day{}, ", if days == 1 { "" } else { "s" }));
    }
    if h > 0 {
        s.push_str(&format!("{h:2}:{m:02}"));
    } else {
        s.push_str(&format!("{m} min"));
    }
    s
}

/// One screen: the summary and the table, at most `rows` lines when given.
fn screen(o: &Options, list: &[Proc], cpu: &HashMap<u32, f64>, width: usize) -> String {
    let uptime = procs::uptime_ticks();
    let now = procs::now_secs();
    let count = |s: char| list.iter().filter(|p| p.state == s).count();
    let mut out = format!(
        "top - {} {},  0 users,  load average: 0.00, 0.00, 0.00\n\
         Tasks: {:3} total, {:3} running, {:3} sleeping, {:3} stopped,   0 zombie\n",
        procs::clock(now),
        up(uptime / HZ),
        list.len(),
        count('R'),
        count('S'),
        count('T'),
    );
    let mib = |k: &str| procs::meminfo(k) as f64 / 1024.0;
    let (total, free) = (mib("MemTotal"), mib("MemFree"));
    out.push_str(&format!(
        "MiB Mem : {total:8.1} total, {free:8.1} free, {:8.1} used, {:8.1} buff/cache\n\
         MiB Swap: {:8.1} total, {:8.1} free, {:8.1} used. {:8.1} avail Mem\n\n",
        total - free,
        0.0,
        0.0,
        0.0,
        0.0,
        mib("MemAvailable"),
    ));
    let digits = list
        .iter()
        .map(|p| p.pid.to_string().len())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut rows: Vec<&Proc> = list
        .iter()
        .filter(|p| o.pids.is_empty() || o.pids.contains(&p.pid))
        .collect();
    rows.sort_by(|a, b| {
        let (x, y) = (
            cpu.get(&a.pid).unwrap_or(&0.0),
            cpu.get(&b.pid).unwrap_or(&0.0),
        );
        y.total_cmp(x).then(a.pid.cmp(&b.pid))
    });
    let head = format!(
        "{:>digits$} USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND",
        "PID"
    );
    out.push_str(&head);
    out.push('\n');
    let mem_total = procs::meminfo("MemTotal").max(1) as f64;
    for p in rows {
        let kb = p.memory / 1024;
        let hundredths = p.cpu * 100 / HZ;
        let time = format!(
            "{}:{:02}.{:02}",
            hundredths / 6000,
            hundredths / 100 % 60,
            hundredths % 100
        );
        let mut user = procs::user_label(p.uid);
        if user.len() > 8 {
            user.truncate(7);
            user.push('+');
        }
        let line = format!(
            "{:>digits$} {user:<8}  20   0 {kb:>7} {kb:>6} {:>6} {} {:>5.1} {:>5.1} {time:>9} ",
            p.pid,
            0,
            p.state,
            cpu.get(&p.pid).unwrap_or(&0.0),
            kb as f64 * 100.0 / mem_total,
        );
        let command = if o.cmdline {
            p.cmdline()
        } else {
            p.comm.clone()
        };
        let room = width.saturating_sub(line.len()).max(1);
        let command = if command.chars().count() > room {
            let cut: String = command.chars().take(room.saturating_sub(1)).collect();
            format!("{cut}+")
        } else {
            command
        };
        out.push_str(&line);
        out.push_str(&command);
        out.push('\n');
    }
    out
}

/// Runs top.
pub fn main(argv: Vec<OsString>) -> i32 {
    let o = match start(
        argv,
        HELP,
        |a| parse(a).map_err(|msg| format!("{msg}\n{HELP}")),
        1,
    ) {
        Ok(o) => o,
        Err(status) => return status,
    };
    let terminal = !o.batch && wsh::isatty(1);
    // On a terminal, `q` quits (keys come one at a time; Ctrl-C still stops top).
    let mut keys = if terminal {
        super::term::Keys::open(false).ok()
    } else {
        None
    };
    let mut last: HashMap<u32, u64> = HashMap::new();
    let mut last_uptime = 0u64;
    let mut n = 0u64;
    let mut stdout = std::io::stdout().lock();
    loop {
        let list = match procs::all() {
            Ok(l) => l,
            Err(e) => {
                eprintln!("top: cannot list the processes: {}", super::strerror(&e));
                return 1;
            }
        };
        let uptime = procs::uptime_ticks();
        // %CPU over the last interval; the first time, since each program started.
        let cpu: HashMap<u32, f64> = list
            .iter()
            .map(|p| {
                let (used, span) = match last.get(&p.pid) {
                    Some(before) => (p.cpu.saturating_sub(*before), uptime - last_uptime),
                    None => (p.cpu, uptime.saturating_sub(p.start)),
                };
                (p.pid, used as f64 * 100.0 / span.max(1) as f64)
            })
            .collect();
        last = list.iter().map(|p| (p.pid, p.cpu)).collect();
        last_uptime = uptime;
        let (rows, cols) = if terminal {
            wsh::term_size(1).map_or((24, 80), |(r, c)| (r as usize, c as usize))
        } else {
            (usize::MAX, 80)
        };
        let text = screen(&o, &list, &cpu, o.width.unwrap_or(cols));
        let text = if terminal {
            let lines: Vec<&str> = text.lines().take(rows.saturating_sub(1)).collect();
            format!("\x1b[H\x1b[2J{}\n", lines.join("\n"))
        } else if n > 0 {
            format!("\n{text}")
        } else {
            text
        };
        if stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return 1;
        }
        n += 1;
        if o.iterations.is_some_and(|max| n >= max) {
            return 0;
        }
        let delay = Duration::from_secs_f64(o.delay);
        match keys.as_mut() {
            Some(k) => {
                if let Ok(Some(super::term::Key::Char('q'))) = k.within(delay) {
                    return 0;
                }
            }
            None => std::thread::sleep(delay),
        }
    }
}
