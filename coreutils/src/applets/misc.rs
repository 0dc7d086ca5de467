//! Small applets: true, false, hostname, which, clear, timeout, du, df.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use super::{args, help, human_size, strerror};
use crate::wsh::{self, Spawn};

/// Runs true: status 0. Not uutils' `true`, whose start (its localization bundles)
/// costs more than everything else a launch does; `true` is what scripts run most.
pub fn succeed(argv: Vec<OsString>) -> i32 {
    exit_with(argv, "true", 0)
}

/// Runs false: status 1.
pub fn fail(argv: Vec<OsString>) -> i32 {
    exit_with(argv, "false", 1)
}

/// GNU's true and false: arguments are ignored, except a sole `--help` or
/// `--version`, which prints and still ends with `status`.
fn exit_with(argv: Vec<OsString>, name: &str, status: i32) -> i32 {
    // GNU names the program as it was called.
    let called = argv.first().map_or(name.into(), |a| a.to_string_lossy());
    let text = match argv.get(1).and_then(|a| a.to_str()) {
        Some("--help") if argv.len() == 2 => format!(
            "Usage: {called} [ignored command line arguments]\n  or:  {called} OPTION\n\
             Exit with a status code indicating {}.\n\n      --help        display this help and exit\n\
             \x20     --version     output version information and exit\n",
            if status == 0 { "success" } else { "failure" }
        ),
        Some("--version") if argv.len() == 2 => format!("{name} (wsh coreutils)\n"),
        _ => return status,
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // As GNU: an error writing the text is status 1 (for true as for false).
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        eprintln!("{name}: write error: {}", strerror(&e));
        return 1;
    }
    status
}

const HOSTNAME_HELP: &str = "Usage: hostname\nPrint the container's host name (from /etc/hostname).\n\n      --help  display this help and exit\n";

/// Runs hostname.
pub fn hostname(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HOSTNAME_HELP) {
        return 0;
    }
    if !a.is_empty() {
        eprintln!("hostname: setting the host name is not supported in a wsh container");
        return 1;
    }
    let name = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let name = name.trim();
    println!("{}", if name.is_empty() { "localhost" } else { name });
    0
}

const WHICH_HELP: &str = "Usage: which [-a] COMMAND...\nWrite the full path of each COMMAND found on PATH.\n\n  -a      print all matches, not just the first\n      --help  display this help and exit\n";

/// Runs which.
pub fn which(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, WHICH_HELP) {
        return 0;
    }
    let all = a.iter().any(|x| x == "-a");
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    let mut status = 0;
    for name in a.iter().filter(|x| !x.starts_with('-')) {
        let candidates: Vec<String> = if name.contains('/') {
            vec![name.clone()]
        } else {
            path.split(':')
                .map(|d| format!("{}/{name}", if d.is_empty() { "." } else { d }))
                .collect()
        };
        let mut found = false;
        for c in candidates {
            if wsh::stat(Path::new(&c), true)
                .is_ok_and(|s| s.mode & wsh::S_IFMT == wsh::S_IFREG && s.mode & 0o111 != 0)
            {
                println!("{c}");
                found = true;
                if !all {
                    break;
                }
            }
        }
        if !found {
            status = 1;
        }
    }
    status
}

/// Runs clear: the xterm sequence for home, erase screen, erase scrollback.
pub fn clear(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(
        &a,
        "Usage: clear\nClear the terminal screen.\n\n      --help  display this help and exit\n",
    ) {
        return 0;
    }
    print!("\x1b[H\x1b[2J\x1b[3J");
    0
}

const TIMEOUT_HELP: &str = "Usage: timeout [OPTION] DURATION COMMAND [ARG]...
Start COMMAND, and kill it if still running after DURATION.

  -s, --signal=SIGNAL  accepted for compatibility; wsh stops the command either way
  -k, --kill-after=DURATION  accepted for compatibility
      --preserve-status  exit with the same status as COMMAND, even if it times out
      --help           display this help and exit

DURATION is a number with an optional suffix: 's' seconds (default), 'm' minutes, 'h' hours, 'd' days.
If the command times out, and --preserve-status is not set, then exit with status 124.
";

fn duration(s: &str) -> Option<Duration> {
    let (num, mult) = match s.chars().last()? {
        's' => (&s[..s.len() - 1], 1.0),
        'm' => (&s[..s.len() - 1], 60.0),
        'h' => (&s[..s.len() - 1], 3600.0),
        'd' => (&s[..s.len() - 1], 86400.0),
        _ => (s, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    (v >= 0.0 && v.is_finite()).then(|| Duration::from_secs_f64(v * mult))
}

/// Runs timeout.
pub fn timeout(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    let mut i = 0;
    let mut preserve = false;
    while i < a.len() && a[i].starts_with('-') && a[i].len() > 1 {
        match a[i].as_str() {
            "--help" => return i32::from(!help(&a, TIMEOUT_HELP)),
            "--preserve-status" => preserve = true,
            "--foreground" | "-v" | "--verbose" => {}
            "-s" | "-k" => i += 1,
            s if s.starts_with("--signal=")
                || s.starts_with("--kill-after=")
                || s.starts_with("-s")
                || s.starts_with("-k") => {}
            s => {
                eprintln!(
                    "timeout: invalid option -- '{}'\nTry 'timeout --help' for more information.",
                    &s[1..]
                );
                return 125;
            }
        }
        i += 1;
    }
    if a.len() < i + 2 {
        eprintln!("timeout: missing operand\nTry 'timeout --help' for more information.");
        return 125;
    }
    let Some(limit) = duration(&a[i]) else {
        eprintln!(
            "timeout: invalid time interval '{}'\nTry 'timeout --help' for more information.",
            a[i]
        );
        return 125;
    };
    let argv: Vec<OsString> = a[i + 1..].iter().map(OsString::from).collect();
    let child = match Spawn::new(argv).start() {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "timeout: failed to run command '{}': {}",
                a[i + 1],
                strerror(&e)
            );
            return wsh::spawn_failure_status(&e);
        }
    };
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return s,
            Ok(None) => {}
            Err(e) => {
                eprintln!("timeout: {}", strerror(&e));
                return 125;
            }
        }
        if !limit.is_zero() && start.elapsed() >= limit {
            let _ = child.kill();
            let s = child.wait().unwrap_or(137);
            return if preserve { s } else { 124 };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

const DU_HELP: &str = "Usage: du [OPTION]... [FILE]...
Summarize disk usage of each FILE, recursively for directories.

  -a, --all             write counts for all files, not just directories
  -c, --total           produce a grand total
  -h, --human-readable  print sizes in human readable format (e.g., 1K 234M 2G)
  -k                    like --block-size=1K (the default)
  -s, --summarize       display only a total for each argument
      --help            display this help and exit
";

struct Du {
    all: bool,
    summarize: bool,
    human: bool,
    seen: HashSet<u64>,
    status: i32,
}

impl Du {
    fn show(&self, kib: u64, path: &str) {
        if self.human {
            println!("{}\t{path}", human_size(kib * 1024));
        } else {
            println!("{kib}\t{path}");
        }
    }

    /// Returns the KiB used under `path`.
    fn walk(&mut self, path: &str, depth: usize) -> u64 {
        let st = match wsh::stat(Path::new(path), false) {
            Ok(st) => st,
            Err(e) => {
                eprintln!("du: cannot access '{path}': {}", strerror(&e));
                self.status = 1;
                return 0;
            }
        };
        // Hard links count once.
        if st.nlink > 1 && !st.is_dir() && !self.seen.insert(st.ino) {
            return 0;
        }
        let mut total = st.blocks / 2;
        if st.is_dir() {
            match std::fs::read_dir(path) {
                Ok(rd) => {
                    let names: Vec<String> = rd
                        .filter_map(|e| {
                            e.ok().map(|e| e.file_name().to_string_lossy().into_owned())
                        })
                        .collect();
                    for n in names {
                        let child = if path.ends_with('/') {
                            format!("{path}{n}")
                        } else {
                            format!("{path}/{n}")
                        };
                        total += self.walk(&child, depth + 1);
                    }
                }
                Err(e) => {
                    eprintln!("du: cannot read directory '{path}': {}", strerror(&e));
                    self.status = 1;
                }
            }
            if !self.summarize || depth == 0 {
                self.show(total, path);
            }
        } else if depth == 0 || self.all && !self.summarize {
            self.show(total, path);
        }
        total
    }
}

/// Runs du.
pub fn du(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, DU_HELP) {
        return 0;
    }
    let mut d = Du {
        all: false,
        summarize: false,
        human: false,
        seen: HashSet::new(),
        status: 0,
    };
    let mut total = false;
    let mut files = Vec::new();
    for arg in a {
        match arg.as_str() {
            "--all" => d.all = true,
            "--summarize" => d.summarize = true,
            "--human-readable" => d.human = true,
            "--total" => total = true,
            s if s.starts_with('-')
                && s.len() > 1
                && s[1..].chars().all(|c| "ashkc".contains(c)) =>
            {
                for c in s[1..].chars() {
                    match c {
                        'a' => d.all = true,
                        's' => d.summarize = true,
                        'h' => d.human = true,
                        'c' => total = true,
                        _ => d.human = false,
                    }
                }
            }
            s if s.starts_with('-') && s.len() > 1 => {
                eprintln!(
                    "du: invalid option -- '{}'\nTry 'du --help' for more information.",
                    &s[1..]
                );
                return 1;
            }
            _ => files.push(arg),
        }
    }
    if d.all && d.summarize {
        eprintln!(
            "du: cannot both summarize and show all entries\nTry 'du --help' for more information."
        );
        return 1;
    }
    if files.is_empty() {
        files.push(".".into());
    }
    let mut sum = 0;
    for f in &files {
        sum += d.walk(f, 0);
    }
    if total {
        d.show(sum, "total");
    }
    d.status
}

/// Runs df: the container's one file system, the image.
pub fn df(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(
        &a,
        "Usage: df [-h] [-k]\nShow the size and free space of the container's file system.\n\n  -h  print sizes in powers of 1024 (e.g., 1023M)\n  -k  like --block-size=1K (the default)\n      --help  display this help and exit\n",
    ) {
        return 0;
    }
    let human = a.iter().any(|x| x == "-h" || x == "--human-readable");
    let (total, free) = match wsh::statfs() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("df: /: {}", strerror(&e));
            return 1;
        }
    };
    let used = total.saturating_sub(free);
    let pct = if total == 0 {
        0
    } else {
        (used * 100).div_ceil(total)
    };
    if human {
        println!("Filesystem      Size  Used Avail Use% Mounted on");
        println!(
            "wsh-image {:>9} {:>5} {:>5} {:>3}% /",
            human_size(total),
            human_size(used),
            human_size(free),
            pct
        );
    } else {
        println!("Filesystem     1K-blocks      Used Available Use% Mounted on");
        println!(
            "wsh-image {:>14} {:>9} {:>9} {:>3}% /",
            total / 1024,
            used / 1024,
            free / 1024,
            pct
        );
    }
    0
}
