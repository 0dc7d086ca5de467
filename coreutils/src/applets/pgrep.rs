//! pgrep, pkill and kill (procps-ng's) over the container's programs: an extended
//! regex against the name (or `-f` the whole command line), procps' options and
//! exit statuses (0 matched, 1 none, 2 usage, 3 fatal). Signals go through the
//! broker (`wsh.signal`) with their default actions.

use std::ffi::OsString;
use std::io::Write;

use regex::RegexBuilder;

use super::posix_regex::from_extended;
use super::procs::{self, Proc};
use super::{args, help};
use crate::wsh;

const PGREP_HELP: &str = "
Usage:
 pgrep [options] <pattern>

Options:
 -d, --delimiter <string>  specify output delimiter
 -l, --list-name           list PID and process name
 -a, --list-full           list PID and full command line
 -v, --inverse             negates the matching
 -c, --count               count of matching processes
 -f, --full                use full process name to match
 -G, --group <GID,...>     match real group IDs
 -i, --ignore-case         match case insensitively
 -n, --newest              select most recently started
 -o, --oldest              select least recently started
 -P, --parent <PPID,...>   match only child processes of the given parent
 -u, --euid <ID,...>       match by effective IDs
 -U, --uid <ID,...>        match by real IDs
 -x, --exact               match exactly with the command name

 -h, --help     display this help and exit
";

const PKILL_HELP: &str = "
Usage:
 pkill [options] <pattern>

Options:
 -<sig>, --signal <sig>    signal to send (either number or name)
 -e, --echo                display what is killed
 -c, --count               count of matching processes
 -f, --full                use full process name to match
 -G, --group <GID,...>     match real group IDs
 -i, --ignore-case         match case insensitively
 -n, --newest              select most recently started
 -o, --oldest              select least recently started
 -P, --parent <PPID,...>   match only child processes of the given parent
 -u, --euid <ID,...>       match by effective IDs
 -U, --uid <ID,...>        match by real IDs
 -x, --exact               match exactly with the command name

 -h, --help     display this help and exit
";

const KILL_HELP: &str = "
Usage:
 kill [options] <pid> [...]

Options:
 <pid> [...]            send signal to every <pid> listed
 -<signal>, -s, --signal <signal>
                        specify the <signal> to be sent
 -l, --list=[<signal>]  list all signal names, or convert one to a name
 -L, --table            list all signal names in a nice table

 -h, --help     display this help and exit
";

/// What pgrep and pkill were asked.
#[derive(Default)]
struct Options {
    pattern: Option<String>,
    full: bool,
    exact: bool,
    ignore_case: bool,
    inverse: bool,
    newest: bool,
    oldest: bool,
    count: bool,
    list_name: bool,
    list_full: bool,
    echo: bool,
    delimiter: Option<String>,
    signal: Option<i32>,
    euids: Vec<u32>,
    uids: Vec<u32>,
    gids: Vec<u32>,
    parents: Vec<u32>,
}

fn parse(a: &[String], kill: bool) -> Result<Options, String> {
    let mut o = Options::default();
    let mut i = 0;
    let mut operands = Vec::new();
    while i < a.len() {
        let w = &a[i];
        i += 1;
        if w == "--" {
            operands.extend(a[i..].iter().cloned());
            break;
        }
        // pkill -SIG: the first word only, as procps.
        if kill
            && i == 1
            && w.len() > 1
            && w.starts_with('-')
            && let Some(n) = procs::signal_number(&w[1..])
        {
            o.signal = Some(n);
            continue;
        }
        let mut next = |name: &str| {
            i += 1;
            a.get(i - 1)
                .cloned()
                .ok_or_else(|| format!("option requires an argument -- '{name}'"))
        };
        if let Some(long) = w.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let mut value = || inline.clone().map_or_else(|| next(name), Ok);
            match name {
                "full" => o.full = true,
                "exact" => o.exact = true,
                "ignore-case" => o.ignore_case = true,
                "inverse" if !kill => o.inverse = true,
                "newest" => o.newest = true,
                "oldest" => o.oldest = true,
                "count" => o.count = true,
                "list-name" if !kill => o.list_name = true,
                "list-full" if !kill => o.list_full = true,
                "echo" if kill => o.echo = true,
                "delimiter" if !kill => o.delimiter = Some(value()?),
                "signal" if kill => {
                    let v = value()?;
                    o.signal =
                        Some(procs::signal_number(&v).ok_or(format!("Unknown signal \"{v}\""))?)
                }
                "euid" => o.euids.extend(procs::parse_users(&value()?)?),
                "uid" => o.uids.extend(procs::parse_users(&value()?)?),
                "group" => o.gids.extend(procs::parse_pids(&value()?)?),
                "parent" => o.parents.extend(procs::parse_pids(&value()?)?),
                _ => return Err(format!("unrecognized option '{w}'")),
            }
            continue;
        }
        let Some(flags) = w.strip_prefix('-').filter(|f| !f.is_empty()) else {
            operands.push(w.clone());
            continue;
        };
        for (at, c) in flags.char_indices() {
            let rest = &flags[at + c.len_utf8()..];
            let mut value = || {
                if rest.is_empty() {
                    next(&c.to_string())
                } else {
                    Ok(rest.to_string())
                }
            };
            match c {
                'f' => o.full = true,
                'x' => o.exact = true,
                'i' => o.ignore_case = true,
                'v' if !kill => o.inverse = true,
                'n' => o.newest = true,
                'o' => o.oldest = true,
                'c' => o.count = true,
                'l' if !kill => o.list_name = true,
                'a' if !kill => o.list_full = true,
                'e' if kill => o.echo = true,
                'd' if !kill => {
                    o.delimiter = Some(value()?);
                    break;
                }
                'u' => {
                    o.euids.extend(procs::parse_users(&value()?)?);
                    break;
                }
                'U' => {
                    o.uids.extend(procs::parse_users(&value()?)?);
                    break;
                }
                'G' => {
                    o.gids.extend(procs::parse_pids(&value()?)?);
                    break;
                }
                'P' => {
                    o.parents.extend(procs::parse_pids(&value()?)?);
                    break;
                }
                _ => return Err(format!("invalid option -- '{c}'")),
            }
        }
    }
    if operands.len() > 1 {
        return Err("only one pattern can be provided".into());
    }
    o.pattern = operands.pop();
    if o.newest && o.oldest {
        return Err("-n and -o are mutually exclusive".into());
    }
    if o.pattern.is_none()
        && o.euids.is_empty()
        && o.uids.is_empty()
        && o.gids.is_empty()
        && o.parents.is_empty()
    {
        return Err("no matching criteria specified".into());
    }
    Ok(o)
}

/// The programs `o` selects (never the caller itself).
fn matching(o: &Options, name: &str) -> Result<Vec<Proc>, (String, i32)> {
    let pattern = o.pattern.as_deref().unwrap_or("");
    let text = if o.exact {
        format!("^({})$", from_extended(pattern))
    } else {
        from_extended(pattern)
    };
    let re = RegexBuilder::new(&text)
        .case_insensitive(o.ignore_case)
        .build()
        .map_err(|e| (format!("{name}: invalid pattern: {e}"), 2))?;
    let list = procs::all().map_err(|e| {
        (
            format!("{name}: cannot list the processes: {}", super::strerror(&e)),
            3,
        )
    })?;
    let me = procs::own_pid();
    let mut found: Vec<Proc> = list
        .into_iter()
        .filter(|p| p.pid != me)
        .filter(|p| {
            let subject = if o.full { p.cmdline() } else { p.comm.clone() };
            let hit = re.is_match(&subject)
                && (o.euids.is_empty() || o.euids.contains(&p.uid))
                && (o.uids.is_empty() || o.uids.contains(&p.uid))
                && (o.gids.is_empty() || o.gids.contains(&p.gid))
                && (o.parents.is_empty() || o.parents.contains(&p.ppid));
            hit != o.inverse
        })
        .collect();
    let pick = |found: &[Proc], newest: bool| {
        let best = if newest {
            found.iter().max_by_key(|p| (p.start, p.pid))
        } else {
            found.iter().min_by_key(|p| (p.start, p.pid))
        };
        best.cloned().into_iter().collect()
    };
    if o.newest {
        found = pick(&found, true);
    } else if o.oldest {
        found = pick(&found, false);
    }
    Ok(found)
}

fn usage(name: &str, msg: &str) -> i32 {
    eprintln!("{name}: {msg}\nTry `{name} --help' for more information.");
    2
}

/// Runs pgrep.
pub fn pgrep(argv: Vec<OsString>) -> i32 {
    run(argv, false)
}

/// Runs pkill.
pub fn pkill(argv: Vec<OsString>) -> i32 {
    run(argv, true)
}

fn run(argv: Vec<OsString>, kill: bool) -> i32 {
    let name = if kill { "pkill" } else { "pgrep" };
    let a = args(argv);
    if help(&a, if kill { PKILL_HELP } else { PGREP_HELP }) {
        return 0;
    }
    let o = match parse(&a, kill) {
        Ok(o) => o,
        Err(msg) => return usage(name, &msg),
    };
    let found = match matching(&o, name) {
        Ok(f) => f,
        Err((msg, status)) => {
            eprintln!("{msg}");
            return status;
        }
    };
    let mut out = String::new();
    let mut hits = found.len();
    if kill {
        let sig = o.signal.unwrap_or(15);
        hits = 0;
        for p in &found {
            match wsh::signal(p.pid, sig) {
                Ok(()) => {
                    hits += 1;
                    if o.echo {
                        out.push_str(&format!("{} killed (pid {})\n", p.comm, p.pid));
                    }
                }
                // Ended meanwhile: as if it had not matched.
                Err(e) if e.raw_os_error() == Some(71) => {}
                Err(e) => eprintln!(
                    "pkill: killing pid {} failed: {}",
                    p.pid,
                    super::strerror(&e)
                ),
            }
        }
        if o.count {
            out.push_str(&format!("{hits}\n"));
        }
    } else if o.count {
        out.push_str(&format!("{hits}\n"));
    } else {
        let delim = o.delimiter.as_deref().unwrap_or("\n");
        let items: Vec<String> = found
            .iter()
            .map(|p| {
                if o.list_full {
                    format!("{} {}", p.pid, p.cmdline())
                } else if o.list_name {
                    format!("{} {}", p.pid, p.comm)
                } else {
                    p.pid.to_string()
                }
            })
            .collect();
        if !items.is_empty() {
            out.push_str(&items.join(delim));
            out.push('\n');
        }
    }
    if super::print_all(&out).is_err() {
        return 3;
    }
    if hits > 0 { 0 } else { 1 }
}

/// `kill -l`'s two lines of names.
fn signal_lines() -> String {
    let (a, b) = procs::SIGNALS.split_at(16);
    format!("{}\n{}\n", a.join(" "), b.join(" "))
}

/// `kill -L`'s table: seven `NN NAME` cells a row.
fn signal_table() -> String {
    let mut out = String::new();
    for row in procs::SIGNALS.chunks(7).enumerate() {
        let cells: Vec<String> = row
            .1
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{:2} {n:<7}", row.0 * 7 + i + 1))
            .collect();
        // procps trims full rows only; the last one keeps its padding and a space.
        if cells.len() == 7 {
            out.push_str(cells.join(" ").trim_end());
        } else {
            out.push_str(&cells.join(" "));
            out.push(' ');
        }
        out.push('\n');
    }
    out
}

/// Runs kill (the program; the shell's builtin usually answers first).
pub fn kill(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, KILL_HELP) {
        return 0;
    }
    let mut sig = 15;
    let mut i = 0;
    let mut out = String::new();
    while i < a.len() && a[i].starts_with('-') && a[i] != "-" {
        let w = &a[i];
        i += 1;
        match w.as_str() {
            "--" => break,
            "-l" | "--list" => {
                let Some(arg) = a.get(i) else {
                    out.push_str(&signal_lines());
                    return print(&out);
                };
                // A number (or exit status 128+N) to a name, a name to its number.
                let answer = match arg.parse::<i32>() {
                    Ok(n) => {
                        let n = if n > 128 { n - 128 } else { n };
                        procs::SIGNALS
                            .get((n - 1).max(0) as usize)
                            .filter(|_| n >= 1)
                            .map(|s| s.to_string())
                    }
                    Err(_) => procs::signal_number(arg).map(|n| n.to_string()),
                };
                return match answer {
                    Some(t) => print(&format!("{t}\n")),
                    None => {
                        eprintln!("kill: unknown signal name {arg}");
                        1
                    }
                };
            }
            "-L" | "--table" => return print(&signal_table()),
            "-s" | "--signal" | "-n" => {
                let Some(v) = a.get(i) else {
                    eprintln!("kill: option requires an argument -- 's'");
                    return 1;
                };
                i += 1;
                match procs::signal_number(v) {
                    Some(n) => sig = n,
                    None => {
                        eprintln!("kill: unknown signal name {v}");
                        return 1;
                    }
                }
            }
            _ => match procs::signal_number(&w[1..]) {
                Some(n) => sig = n,
                None => {
                    eprintln!("kill: unknown signal name {}", &w[1..]);
                    return 1;
                }
            },
        }
    }
    let pids = &a[i..];
    if pids.is_empty() {
        eprint!("{KILL_HELP}");
        return 1;
    }
    let mut status = 0;
    for p in pids {
        let result = match p.parse::<u32>() {
            Ok(pid) => wsh::signal(pid, sig).map_err(|e| super::strerror(&e)),
            Err(_) => Err("Invalid argument".to_string()),
        };
        if let Err(why) = result {
            eprintln!("kill: ({p}): {why}");
            status = 1;
        }
    }
    status
}

fn print(text: &str) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Ok(()) => 0,
        Err(_) => 1,
    }
}
