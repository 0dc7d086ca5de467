//! watch (procps'): runs a command every -n seconds and shows its output, on a
//! terminal as a screen with procps' title line (the size from the broker),
//! elsewhere one output after the other. `-t -g -x -n`; Ctrl-C ends it.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::FromRawFd;
use std::time::Duration;

use super::{args, help, strerror, utc};
use crate::wsh::{self, Spawn, Stdio};

const HELP: &str = "Usage:
 watch [options] command

Options:
  -g, --chgexit          exit when output from command changes
  -n, --interval <secs>  seconds to wait between updates (at least 0.1)
  -t, --no-title         turn off header
  -x, --exec             pass command to exec instead of \"sh -c\"
      --help             display this help and exit
";

/// Runs `argv`, its stdout and stderr into one text; (text, status).
fn capture(argv: Vec<OsString>) -> io::Result<(Vec<u8>, i32)> {
    let (r, w) = wsh::pipe()?;
    // SAFETY: both descriptors were just made for us and are owned here only.
    let (mut reader, writer) = unsafe { (File::from_raw_fd(r), File::from_raw_fd(w)) };
    let mut sp = Spawn::new(argv);
    sp.stdin = Stdio::Null;
    sp.stdout = Stdio::Fd(w);
    sp.stderr = Stdio::Fd(w);
    let child = sp.start();
    drop(writer);
    let child = child?;
    let mut text = Vec::new();
    reader.read_to_end(&mut text)?;
    Ok((text, child.wait()?))
}

/// procps' title: "Every N.Ns: CMD" and, on the right, "HOST: DATE" (UTC).
fn title(interval: f64, cmd: &str, cols: usize) -> String {
    let left = format!("Every {interval:.1}s: {cmd}");
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    let (y, mo, d, h, mi, s, _) = utc(now);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let wday = DAYS[(now.div_euclid(86_400_000_000_000).rem_euclid(7)) as usize];
    let month = MONTHS[(mo as usize).saturating_sub(1) % 12];
    let right = format!(
        "{}: {wday} {month} {d:2} {h:02}:{mi:02}:{s:02} {y}",
        host.trim()
    );
    let pad = cols
        .saturating_sub(left.chars().count() + right.chars().count())
        .max(1);
    format!("{left}{}{right}", " ".repeat(pad))
}

/// Runs watch.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if a.first().is_some_and(|w| w == "--help") && help(&a[..1], HELP) {
        return 0;
    }
    let (mut interval, mut no_title, mut chg_exit, mut exec) = (2.0f64, false, false, false);
    let mut i = 0;
    while i < a.len() && a[i].starts_with('-') && a[i].len() > 1 {
        let w = &a[i];
        let value = |i: &mut usize| -> Option<String> {
            match w.split_once('=') {
                Some((_, v)) if w.starts_with("--") => Some(v.to_string()),
                _ if !w.starts_with("--") && w.len() > 2 && w.starts_with("-n") => {
                    Some(w[2..].to_string())
                }
                _ => {
                    *i += 1;
                    a.get(*i).cloned()
                }
            }
        };
        match w.split('=').next().unwrap_or("") {
            "--" => {
                i += 1;
                break;
            }
            "-n" | "--interval" => match value(&mut i).and_then(|v| v.parse::<f64>().ok()) {
                Some(v) if v.is_finite() => interval = v.max(0.1),
                _ => {
                    eprintln!(
                        "watch: failed to parse argument: '{}'",
                        a.get(i).map_or("", |s| s.as_str())
                    );
                    return 1;
                }
            },
            "--no-title" => no_title = true,
            "--chgexit" => chg_exit = true,
            "--exec" => exec = true,
            s if s.starts_with("-n") => match value(&mut i).and_then(|v| v.parse::<f64>().ok()) {
                Some(v) if v.is_finite() => interval = v.max(0.1),
                _ => {
                    eprintln!("watch: failed to parse argument: '{s}'");
                    return 1;
                }
            },
            s if !s.starts_with("--") && s[1..].chars().all(|c| "tgx".contains(c)) => {
                no_title |= s.contains('t');
                chg_exit |= s.contains('g');
                exec |= s.contains('x');
            }
            s => {
                eprintln!(
                    "watch: unrecognized option '{s}'\nTry 'watch --help' for more information."
                );
                return 1;
            }
        }
        i += 1;
    }
    let words = &a[i..];
    if words.is_empty() {
        eprintln!("watch: no command given\nTry 'watch --help' for more information.");
        return 1;
    }
    let cmd = words.join(" ");
    let argv: Vec<OsString> = if exec {
        words.iter().map(OsString::from).collect()
    } else {
        vec!["sh".into(), "-c".into(), cmd.clone().into()]
    };
    let tty = wsh::isatty(1);
    let mut previous: Option<Vec<u8>> = None;
    loop {
        let (text, _) = match capture(argv.clone()) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("watch: {}: {}", words[0], strerror(&e));
                return 1;
            }
        };
        let mut screen = Vec::new();
        if tty {
            let (rows, cols) = wsh::term_size(1).unwrap_or((24, 80));
            let (rows, cols) = (usize::from(rows.max(1)), usize::from(cols.max(1)));
            screen.extend_from_slice(b"\x1b[H\x1b[2J");
            let mut room = rows;
            if !no_title {
                screen.extend_from_slice(title(interval, &cmd, cols).as_bytes());
                screen.extend_from_slice(b"\n\n");
                room = room.saturating_sub(2);
            }
            // As much of the output as the screen holds, each line cut to its width.
            let body = String::from_utf8_lossy(&text);
            let lines: Vec<String> = body
                .lines()
                .take(room)
                .map(|l| l.chars().take(cols).collect())
                .collect();
            screen.extend_from_slice(lines.join("\n").as_bytes());
        } else {
            screen.extend_from_slice(&text);
        }
        let mut out = io::stdout().lock();
        if out.write_all(&screen).and_then(|()| out.flush()).is_err() {
            return 1;
        }
        if chg_exit && previous.as_ref().is_some_and(|p| *p != text) {
            if tty {
                let _ = out.write_all(b"\n");
            }
            return 0;
        }
        previous = Some(text);
        drop(out);
        std::thread::sleep(Duration::from_secs_f64(interval));
    }
}
