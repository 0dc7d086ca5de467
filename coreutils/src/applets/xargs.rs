//! xargs: build command lines from standard input and run them (through the
//! `wsh` host interface's spawn), with -n, -I, -0, -d, -P, -r, -t, -L.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::Read;

use super::{args, help, strerror};
use crate::wsh::{self, Child, Spawn, Stdio};

const HELP: &str = "Usage: xargs [OPTION]... COMMAND [INITIAL-ARGS]...
Run COMMAND with arguments INITIAL-ARGS and more arguments read from input.

  -0, --null                   items are separated by a null, not whitespace
  -d, --delimiter=CHARACTER    items are separated by CHARACTER
  -I R                         replace R in INITIAL-ARGS with names read from input
  -L, --max-lines=MAX-LINES    use at most MAX-LINES non-blank input lines per command line
  -n, --max-args=MAX-ARGS      use at most MAX-ARGS arguments per command line
  -P, --max-procs=MAX-PROCS    run at most MAX-PROCS processes at a time
  -r, --no-run-if-empty        if there are no arguments, do not run COMMAND
  -t, --verbose                print commands before executing them
      --help                   display this help and exit
";

/// Most bytes of arguments one command line gets (GNU's default is about this).
const MAX_CHARS: usize = 128 * 1024;

/// Splits input the default way: blanks and newlines separate, quotes and backslashes group.
fn split_default(input: &str) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut in_item = false;
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_item {
                    items.push(std::mem::take(&mut cur));
                    in_item = false;
                }
            }
            '\'' | '"' => {
                in_item = true;
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some('\n') | None => {
                            let kind = if c == '\'' { "single" } else { "double" };
                            return Err(format!(
                                "xargs: unmatched {kind} quote; by default quotes are special to xargs unless you use the -0 option"
                            ));
                        }
                        Some(x) => cur.push(x),
                    }
                }
            }
            '\\' => {
                in_item = true;
                if let Some(x) = chars.next() {
                    cur.push(x);
                }
            }
            _ => {
                in_item = true;
                cur.push(c);
            }
        }
    }
    if in_item {
        items.push(cur);
    }
    Ok(items)
}

struct Runner {
    verbose: bool,
    procs: usize,
    running: VecDeque<Child>,
    status: i32,
    stop: bool,
}

impl Runner {
    fn record(&mut self, s: i32) {
        match s {
            0 => {}
            255 => {
                eprintln!("xargs: command exited with status 255; aborting");
                self.status = 124;
                self.stop = true;
            }
            s if s > 128 => {
                self.status = 125;
                self.stop = true;
            }
            _ => self.status = self.status.max(123),
        }
    }

    fn reap_one(&mut self) {
        if let Some(c) = self.running.pop_front() {
            match c.wait() {
                Ok(s) => self.record(s),
                Err(e) => {
                    eprintln!("xargs: wait: {}", strerror(&e));
                    self.status = 125;
                }
            }
        }
    }

    fn run(&mut self, argv: Vec<String>) {
        if self.stop {
            return;
        }
        if self.verbose {
            eprintln!("{}", argv.join(" "));
        }
        while self.running.len() >= self.procs.max(1) {
            self.reap_one();
        }
        let mut sp = Spawn::new(argv.iter().map(OsString::from).collect());
        sp.stdin = Stdio::Null;
        match sp.start() {
            Ok(c) => self.running.push_back(c),
            Err(e) => {
                eprintln!("xargs: {}: {}", argv[0], strerror(&e));
                self.status = wsh::spawn_failure_status(&e);
                self.stop = true;
            }
        }
    }

    fn finish(&mut self) -> i32 {
        while !self.running.is_empty() {
            self.reap_one();
        }
        self.status
    }
}

fn number(opt: &str, v: Option<&String>) -> Result<usize, String> {
    match v.and_then(|v| v.parse::<usize>().ok()) {
        Some(n) if n > 0 || opt == "P" => Ok(n),
        _ => Err(format!("xargs: invalid number for -{opt} option")),
    }
}

/// Runs xargs.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    let mut delim: Option<char> = None;
    let (mut max_args, mut max_lines, mut replace) = (None, None, None);
    let (mut no_empty, mut verbose, mut procs) = (false, false, 1usize);
    let mut i = 0;
    let parsed: Result<(), String> = (|| {
        while i < a.len() {
            let arg = a[i].clone();
            // `-n2` and `-n 2` both work; the value is the rest or the next word.
            let mut value = |flag: &str| -> Option<String> {
                if arg.len() > flag.len() {
                    Some(arg[flag.len()..].to_string())
                } else {
                    i += 1;
                    a.get(i).cloned()
                }
            };
            match arg.as_str() {
                "--help" => return Err(String::new()),
                "-0" | "--null" => delim = Some('\0'),
                "-r" | "--no-run-if-empty" => no_empty = true,
                "-t" | "--verbose" => verbose = true,
                "--" => {
                    i += 1;
                    break;
                }
                s if s.starts_with("-d") => {
                    let v = value("-d").ok_or("xargs: option requires an argument -- 'd'")?;
                    delim = Some(match v.as_str() {
                        "\\n" => '\n',
                        "\\t" => '\t',
                        "\\0" => '\0',
                        v => v.chars().next().ok_or("xargs: invalid delimiter")?,
                    });
                }
                s if s.starts_with("-n") => max_args = Some(number("n", value("-n").as_ref())?),
                s if s.starts_with("-L") => max_lines = Some(number("L", value("-L").as_ref())?),
                s if s.starts_with("-P") => procs = number("P", value("-P").as_ref())?,
                s if s.starts_with("-I") => {
                    replace = Some(value("-I").ok_or("xargs: option requires an argument -- 'I'")?)
                }
                s if s.starts_with('-') && s.len() > 1 => {
                    return Err(format!(
                        "xargs: invalid option -- '{}'\nTry 'xargs --help' for more information.",
                        &s[1..]
                    ));
                }
                _ => break,
            }
            i += 1;
        }
        Ok(())
    })();
    match parsed {
        Err(msg) if msg.is_empty() => return i32::from(!help(&["--help".to_string()], HELP)),
        Err(msg) => {
            eprintln!("{msg}");
            return 1;
        }
        Ok(()) => {}
    }
    let mut command: Vec<String> = a[i..].to_vec();
    if command.is_empty() {
        command.push("echo".into());
    }
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("xargs: read error: {}", strerror(&e));
        return 1;
    }
    let input = String::from_utf8_lossy(&input).into_owned();
    let mut r = Runner {
        verbose,
        procs: if procs == 0 { 64 } else { procs },
        running: VecDeque::new(),
        status: 0,
        stop: false,
    };

    if let Some(rep) = replace {
        // One command per input line, leading blanks dropped, REPL replaced in every argument.
        let lines: Vec<&str> = match delim {
            Some(d) => input.split(d).filter(|s| !s.is_empty()).collect(),
            None => input
                .lines()
                .map(str::trim_start)
                .filter(|s| !s.is_empty())
                .collect(),
        };
        for line in lines {
            r.run(command.iter().map(|c| c.replace(&rep, line)).collect());
        }
        return r.finish();
    }

    // Groups of items: by lines with -L, else all items.
    let groups: Vec<Vec<String>> = match (delim, max_lines) {
        (Some(d), _) => {
            let mut items: Vec<String> = input.split(d).map(str::to_string).collect();
            if items.last().is_some_and(String::is_empty) {
                items.pop();
            }
            vec![items]
        }
        (None, Some(_)) => {
            let mut out = Vec::new();
            for line in input.lines() {
                match split_default(line) {
                    Ok(items) if !items.is_empty() => out.push(items),
                    Ok(_) => {}
                    Err(msg) => {
                        eprintln!("{msg}");
                        return 1;
                    }
                }
            }
            out
        }
        (None, None) => match split_default(&input) {
            Ok(items) => vec![items],
            Err(msg) => {
                eprintln!("{msg}");
                return 1;
            }
        },
    };
    let mut batches: Vec<Vec<String>> = Vec::new();
    if let Some(per) = max_lines {
        for chunk in groups.chunks(per) {
            batches.push(chunk.concat());
        }
    } else {
        let items = groups.concat();
        let per = max_args.unwrap_or(usize::MAX);
        let mut cur: Vec<String> = Vec::new();
        let mut size = 0;
        for item in items {
            if !cur.is_empty() && (cur.len() >= per || size + item.len() + 1 > MAX_CHARS) {
                batches.push(std::mem::take(&mut cur));
                size = 0;
            }
            size += item.len() + 1;
            cur.push(item);
        }
        if !cur.is_empty() {
            batches.push(cur);
        }
    }
    if batches.is_empty() && !no_empty {
        batches.push(Vec::new());
    }
    for b in batches {
        let mut argv = command.clone();
        argv.extend(b);
        r.run(argv);
    }
    r.finish()
}
