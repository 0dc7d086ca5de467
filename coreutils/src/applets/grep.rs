//! grep on the `regex` crate with GNU's common flags: -E -F -G -e -i -v -w -x -c
//! -l -L -n -h -H -o -q -s -r -R. Basic regexes (-G, the default) are translated
//! to the crate's syntax (`\(` groups, literal `+?|{}`).

use std::ffi::OsString;
use std::io::{Read, Write};

use regex::bytes::{Regex, RegexBuilder};

use super::{args, help, strerror};

const HELP: &str = "Usage: grep [OPTION]... PATTERNS [FILE]...
Search for PATTERNS in each FILE.

  -E, --extended-regexp     PATTERNS are extended regular expressions
  -F, --fixed-strings       PATTERNS are strings
  -G, --basic-regexp        PATTERNS are basic regular expressions (default)
  -e, --regexp=PATTERNS     use PATTERNS for matching
  -i, --ignore-case         ignore case distinctions in patterns and data
  -v, --invert-match        select non-matching lines
  -w, --word-regexp         match only whole words
  -x, --line-regexp         match only whole lines
  -c, --count               print only a count of selected lines per FILE
  -l, --files-with-matches  print only names of FILEs with selected lines
  -L, --files-without-match print only names of FILEs with no selected lines
  -n, --line-number         print line number with output lines
  -H, --with-filename       print file name with output lines
  -h, --no-filename         suppress the file name prefix on output
  -o, --only-matching       show only nonempty parts of lines that match
  -q, --quiet, --silent     suppress all normal output
  -s, --no-messages         suppress error messages
  -r, -R, --recursive       search directories recursively
      --help                display this help and exit

Exit status is 0 if any line is selected, 1 otherwise; if any error occurs and -q is not given, the exit status is 2.
";

#[derive(Default)]
struct Opts {
    mode: char,
    ignore_case: bool,
    invert: bool,
    word: bool,
    line: bool,
    count: bool,
    files_with: bool,
    files_without: bool,
    number: bool,
    with_name: Option<bool>,
    only: bool,
    quiet: bool,
    no_messages: bool,
    recursive: bool,
}

/// A POSIX basic regex in the regex crate's syntax.
fn from_basic(p: &str) -> String {
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    // A `*` at the start of the regex or of a group is literal in a BRE.
    let mut star_literal = true;
    while let Some(c) = chars.next() {
        let mut next_star_literal = false;
        match c {
            '\\' => match chars.next() {
                Some('(') => {
                    out.push('(');
                    next_star_literal = true;
                }
                Some(x @ (')' | '{' | '}' | '|' | '+' | '?')) => {
                    out.push(x);
                    next_star_literal = x == '|';
                }
                Some('<' | '>') => out.push_str("\\b"),
                Some(x) => {
                    out.push('\\');
                    out.push(x);
                }
                None => out.push_str("\\\\"),
            },
            '(' | ')' | '{' | '}' | '|' | '+' | '?' => {
                out.push('\\');
                out.push(c);
            }
            '*' if star_literal => out.push_str("\\*"),
            '^' if out.is_empty() => {
                out.push('^');
                next_star_literal = true;
            }
            '[' => bracket(&mut chars, &mut out),
            _ => out.push(c),
        }
        star_literal = next_star_literal;
    }
    out
}

/// Copies a POSIX bracket expression (after its `[`), escaping what the crate treats specially.
fn bracket(chars: &mut std::iter::Peekable<std::str::Chars>, out: &mut String) {
    out.push('[');
    if chars.peek() == Some(&'^') {
        out.push('^');
        chars.next();
    }
    let mut first = true;
    while let Some(x) = chars.next() {
        match x {
            ']' if !first => break,
            '[' if chars.peek() == Some(&':') => {
                // A character class such as [:alpha:], copied up to its ":]".
                out.push('[');
                for y in chars.by_ref() {
                    out.push(y);
                    if y == ']' {
                        break;
                    }
                }
            }
            '\\' | '[' | ']' | '&' | '~' => {
                out.push('\\');
                out.push(x);
            }
            _ => out.push(x),
        }
        first = false;
    }
    out.push(']');
}

/// An extended regex in the regex crate's syntax (`\<` `\>` become `\b`).
fn from_extended(p: &str) -> String {
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('<' | '>') => out.push_str("\\b"),
                Some(x) => {
                    out.push('\\');
                    out.push(x);
                }
                None => out.push_str("\\\\"),
            },
            '[' => bracket(&mut chars, &mut out),
            _ => out.push(c),
        }
    }
    out
}

fn build(patterns: &[String], o: &Opts) -> Result<Regex, String> {
    let parts: Vec<String> = patterns
        .iter()
        .flat_map(|p| p.split('\n').map(str::to_string).collect::<Vec<_>>())
        .map(|p| match o.mode {
            'F' => regex::escape(&p),
            'E' => from_extended(&p),
            _ => from_basic(&p),
        })
        .collect();
    let mut re = parts
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    if o.line {
        re = format!("^(?:{re})$");
    } else if o.word {
        re = format!(r"\b(?:{re})\b");
    }
    RegexBuilder::new(&re)
        .case_insensitive(o.ignore_case)
        .unicode(false)
        .build()
        .map_err(|e| {
            format!(
                "grep: {}",
                e.to_string()
                    .lines()
                    .last()
                    .unwrap_or("invalid regular expression")
            )
        })
}

struct Search<'a> {
    re: &'a Regex,
    o: &'a Opts,
    out: std::io::StdoutLock<'static>,
    matched: bool,
    error: bool,
}

impl Search<'_> {
    fn data(&mut self, name: &str, data: &[u8], show_name: bool) {
        let o = self.o;
        let binary = data.contains(&0);
        let mut count = 0u64;
        let body = data.strip_suffix(b"\n").unwrap_or(data);
        let lines: Vec<&[u8]> = if data.is_empty() {
            Vec::new()
        } else {
            body.split(|b| *b == b'\n').collect()
        };
        for (n, line) in lines.iter().enumerate() {
            let hit = self.re.is_match(line) != o.invert;
            if !hit {
                continue;
            }
            count += 1;
            self.matched = true;
            if o.quiet {
                return;
            }
            if o.count || o.files_with || o.files_without {
                continue;
            }
            if binary {
                let _ = writeln!(self.out, "Binary file {name} matches");
                return;
            }
            let prefix = {
                let mut p = String::new();
                if show_name {
                    p.push_str(name);
                    p.push(':');
                }
                if o.number {
                    p.push_str(&format!("{}:", n + 1));
                }
                p
            };
            if o.only && !o.invert {
                for m in self.re.find_iter(line).filter(|m| !m.as_bytes().is_empty()) {
                    let _ = self.out.write_all(prefix.as_bytes());
                    let _ = self.out.write_all(m.as_bytes());
                    let _ = self.out.write_all(b"\n");
                }
            } else if !o.only {
                let _ = self.out.write_all(prefix.as_bytes());
                let _ = self.out.write_all(line);
                let _ = self.out.write_all(b"\n");
            }
        }
        if o.quiet {
            return;
        }
        if o.count {
            if show_name {
                let _ = writeln!(self.out, "{name}:{count}");
            } else {
                let _ = writeln!(self.out, "{count}");
            }
        }
        if o.files_with && count > 0 || o.files_without && count == 0 {
            let _ = writeln!(self.out, "{name}");
        }
    }

    fn path(&mut self, path: &str, show_name: bool) {
        if self.o.quiet && self.matched {
            return;
        }
        let is_dir = std::fs::metadata(path).map(|m| m.is_dir()).unwrap_or(false);
        if is_dir {
            if !self.o.recursive {
                if !self.o.no_messages {
                    eprintln!("grep: {path}: Is a directory");
                }
                return;
            }
            let mut names: Vec<String> = match std::fs::read_dir(path) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                    .collect(),
                Err(e) => {
                    self.fail(path, &e);
                    return;
                }
            };
            names.sort();
            for n in names {
                let child = if path.ends_with('/') {
                    format!("{path}{n}")
                } else {
                    format!("{path}/{n}")
                };
                // Symlinks met while recursing are skipped, as GNU's -r does.
                if std::fs::symlink_metadata(&child).is_ok_and(|m| m.file_type().is_symlink()) {
                    continue;
                }
                self.path(&child, show_name);
            }
            return;
        }
        let read = if path == "-" {
            let mut v = Vec::new();
            std::io::stdin().read_to_end(&mut v).map(|_| v)
        } else {
            std::fs::read(path)
        };
        match read {
            Ok(data) => {
                let name = if path == "-" {
                    "(standard input)"
                } else {
                    path
                };
                self.data(name, &data, show_name);
            }
            Err(e) => self.fail(path, &e),
        }
    }

    fn fail(&mut self, path: &str, e: &std::io::Error) {
        self.error = true;
        if !self.o.no_messages {
            eprintln!("grep: {path}: {}", strerror(e));
        }
    }
}

/// egrep: `grep -E`, with GNU's warning that it is obsolescent.
pub fn egrep(argv: Vec<OsString>) -> i32 {
    obsolescent("egrep", "-E", argv)
}

/// fgrep: `grep -F`, with GNU's warning that it is obsolescent.
pub fn fgrep(argv: Vec<OsString>) -> i32 {
    obsolescent("fgrep", "-F", argv)
}

fn obsolescent(name: &str, flag: &str, mut argv: Vec<OsString>) -> i32 {
    eprintln!("{name}: warning: {name} is obsolescent; using grep {flag}");
    argv.insert(1, flag.into());
    main(argv)
}

/// Runs grep.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    let mut o = Opts {
        mode: 'G',
        ..Default::default()
    };
    let mut patterns: Vec<String> = Vec::new();
    let mut operands = Vec::new();
    let mut it = a.into_iter();
    let mut done = false;
    while let Some(arg) = it.next() {
        if done || !arg.starts_with('-') || arg == "-" {
            operands.push(arg);
            continue;
        }
        let long = |o: &mut Opts, s: &str| -> bool {
            match s {
                "--extended-regexp" => o.mode = 'E',
                "--fixed-strings" => o.mode = 'F',
                "--basic-regexp" => o.mode = 'G',
                "--ignore-case" => o.ignore_case = true,
                "--invert-match" => o.invert = true,
                "--word-regexp" => o.word = true,
                "--line-regexp" => o.line = true,
                "--count" => o.count = true,
                "--files-with-matches" => o.files_with = true,
                "--files-without-match" => o.files_without = true,
                "--line-number" => o.number = true,
                "--with-filename" => o.with_name = Some(true),
                "--no-filename" => o.with_name = Some(false),
                "--only-matching" => o.only = true,
                "--quiet" | "--silent" => o.quiet = true,
                "--no-messages" => o.no_messages = true,
                "--recursive" | "--dereference-recursive" => o.recursive = true,
                _ => return false,
            }
            true
        };
        if arg == "--" {
            done = true;
            continue;
        }
        if let Some(p) = arg.strip_prefix("--regexp=") {
            patterns.push(p.to_string());
            continue;
        }
        if arg.starts_with("--") {
            if !long(&mut o, &arg) {
                eprintln!(
                    "grep: unrecognized option '{arg}'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."
                );
                return 2;
            }
            continue;
        }
        let flags: Vec<char> = arg[1..].chars().collect();
        for (k, c) in flags.iter().enumerate() {
            match c {
                'E' | 'F' | 'G' => o.mode = *c,
                'i' | 'y' => o.ignore_case = true,
                'v' => o.invert = true,
                'w' => o.word = true,
                'x' => o.line = true,
                'c' => o.count = true,
                'l' => o.files_with = true,
                'L' => o.files_without = true,
                'n' => o.number = true,
                'H' => o.with_name = Some(true),
                'h' => o.with_name = Some(false),
                'o' => o.only = true,
                'q' => o.quiet = true,
                's' => o.no_messages = true,
                'r' | 'R' => o.recursive = true,
                'e' => {
                    let rest: String = flags[k + 1..].iter().collect();
                    let p = if rest.is_empty() {
                        it.next()
                    } else {
                        Some(rest)
                    };
                    match p {
                        Some(p) => patterns.push(p),
                        None => {
                            eprintln!(
                                "grep: option requires an argument -- 'e'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."
                            );
                            return 2;
                        }
                    }
                    break;
                }
                _ => {
                    eprintln!(
                        "grep: invalid option -- '{c}'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."
                    );
                    return 2;
                }
            }
        }
    }
    if patterns.is_empty() {
        if operands.is_empty() {
            eprintln!(
                "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."
            );
            return 2;
        }
        patterns.push(operands.remove(0));
    }
    let re = match build(&patterns, &o) {
        Ok(re) => re,
        Err(msg) => {
            eprintln!("{msg}");
            return 2;
        }
    };
    let implicit_dot = operands.is_empty() && o.recursive;
    if operands.is_empty() {
        operands.push(if o.recursive { ".".into() } else { "-".into() });
    }
    let show_name = o.with_name.unwrap_or(operands.len() > 1 || o.recursive);
    let mut s = Search {
        re: &re,
        o: &o,
        out: std::io::stdout().lock(),
        matched: false,
        error: false,
    };
    for p in &operands {
        if implicit_dot {
            // `grep -r PAT` names files without the leading "./".
            let mut names: Vec<String> = std::fs::read_dir(".")
                .map(|rd| {
                    rd.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            for n in names {
                s.path(&n, show_name);
            }
        } else {
            s.path(p, show_name);
        }
    }
    let _ = s.out.flush();
    if s.matched && (o.quiet || !s.error) {
        0
    } else if s.error {
        2
    } else {
        1
    }
}
