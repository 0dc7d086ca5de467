//! grep on the `regex` crate with GNU's options and output: -E -F -G -P, -e -i -v -w
//! -x, -c -l -L -o -q -s, -n -H -h, -A -B -C context with `--` between groups, -m,
//! -a -I, -r -R with --include/--exclude/--exclude-dir, and --color (GNU's default
//! GREP_COLORS escapes). Basic and extended regexes are translated by `posix_regex`;
//! -P takes the crate's own syntax (Perl-like classes and lazy repeats; no
//! look-around or back-references).

use std::ffi::OsString;
use std::io::{Read, Write};

use clap::{Arg, ArgAction, ArgMatches, Command};
use regex::bytes::{Regex, RegexBuilder};
use wsh_pattern::{PatChar, matches, unquoted};

use super::posix_regex::{from_basic, from_extended};
use super::strerror;

const HELP: &str = "Usage: grep [OPTION]... PATTERNS [FILE]...
Search for PATTERNS in each FILE.

Pattern selection and interpretation:
  -E, --extended-regexp     PATTERNS are extended regular expressions
  -F, --fixed-strings       PATTERNS are strings
  -G, --basic-regexp        PATTERNS are basic regular expressions (default)
  -P, --perl-regexp         PATTERNS are Perl-like (the regex crate's syntax)
  -e, --regexp=PATTERNS     use PATTERNS for matching
  -f, --file=FILE           take PATTERNS from FILE
  -i, --ignore-case         ignore case distinctions in patterns and data
      --no-ignore-case      do not ignore case distinctions (default)
  -w, --word-regexp         match only whole words
  -x, --line-regexp         match only whole lines

Miscellaneous:
  -s, --no-messages         suppress error messages
  -v, --invert-match        select non-matching lines
      --help                display this help and exit

Output control:
  -m, --max-count=NUM       stop after NUM selected lines
  -n, --line-number         print line number with output lines
  -H, --with-filename       print file name with output lines
  -h, --no-filename         suppress the file name prefix on output
      --label=LABEL         use LABEL as the standard input file name prefix
  -o, --only-matching       show only nonempty parts of lines that match
  -q, --quiet, --silent     suppress all normal output
  -a, --text                equivalent to --binary-files=text
  -I                        equivalent to --binary-files=without-match
  -r, --recursive           search directories recursively
  -R, --dereference-recursive  likewise
      --include=GLOB        search only files that match GLOB (a file pattern)
      --exclude=GLOB        skip files that match GLOB
      --exclude-dir=GLOB    skip directories that match GLOB
  -L, --files-without-match print only names of FILEs with no selected lines
  -l, --files-with-matches  print only names of FILEs with selected lines
  -c, --count               print only a count of selected lines per FILE

Context control:
  -B, --before-context=NUM  print NUM lines of leading context
  -A, --after-context=NUM   print NUM lines of trailing context
  -C, --context=NUM         print NUM lines of output context
      --color[=WHEN],
      --colour[=WHEN]       use markers to highlight the matching strings;
                            WHEN is 'always', 'never', or 'auto'

Exit status is 0 if any line is selected, 1 otherwise;
if any error occurs and -q is not given, the exit status is 2.
";

/// How the patterns are read.
#[derive(Clone, Copy, PartialEq)]
enum Syntax {
    Basic,
    Extended,
    Fixed,
    Perl,
}

struct Opts {
    syntax: Syntax,
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
    before: usize,
    after: usize,
    /// Whether -A/-B/-C was given (even 0): groups are then separated by `--`.
    context: bool,
    max_count: Option<u64>,
    color: bool,
    /// Binary files: searched as text (-a), skipped (-I), or reported (default).
    text: bool,
    skip_binary: bool,
    label: String,
    include: Vec<Vec<PatChar>>,
    exclude: Vec<Vec<PatChar>>,
    exclude_dir: Vec<Vec<PatChar>>,
}

/// GNU grep's default colors (GREP_COLORS ms=01;31:fn=35:ln=32:se=36), with `\33[K`.
const MATCH_COLOR: &str = "\x1b[01;31m\x1b[K";
const NAME_COLOR: &str = "\x1b[35m\x1b[K";
const LINE_COLOR: &str = "\x1b[32m\x1b[K";
const SEP_COLOR: &str = "\x1b[36m\x1b[K";
const END_COLOR: &str = "\x1b[m\x1b[K";

fn command() -> Command {
    let flag = |id: &'static str, short: Option<char>, long: Option<&'static str>| {
        let mut a = Arg::new(id).action(ArgAction::SetTrue);
        if let Some(s) = short {
            a = a.short(s);
        }
        if let Some(l) = long {
            a = a.long(l);
        }
        a
    };
    let value = |id: &'static str, short: Option<char>, long: &'static str| {
        let mut a = Arg::new(id).long(long).action(ArgAction::Append);
        if let Some(s) = short {
            a = a.short(s);
        }
        a.allow_hyphen_values(true)
    };
    Command::new("grep")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .args_override_self(true)
        .args([
            flag("E", Some('E'), Some("extended-regexp")),
            flag("F", Some('F'), Some("fixed-strings")),
            flag("G", Some('G'), Some("basic-regexp")),
            flag("P", Some('P'), Some("perl-regexp")),
            value("regexp", Some('e'), "regexp"),
            value("file", Some('f'), "file"),
            flag("i", Some('i'), Some("ignore-case")).overrides_with("no_i"),
            flag("y", Some('y'), None),
            flag("no_i", None, Some("no-ignore-case")).overrides_with("i"),
            flag("w", Some('w'), Some("word-regexp")),
            flag("x", Some('x'), Some("line-regexp")),
            flag("s", Some('s'), Some("no-messages")),
            flag("v", Some('v'), Some("invert-match")),
            value("max", Some('m'), "max-count"),
            flag("n", Some('n'), Some("line-number")),
            flag("H", Some('H'), Some("with-filename")).overrides_with("h"),
            flag("h", Some('h'), Some("no-filename")).overrides_with("H"),
            value("label", None, "label"),
            flag("o", Some('o'), Some("only-matching")),
            flag("q", Some('q'), Some("quiet")),
            flag("silent", None, Some("silent")),
            flag("a", Some('a'), Some("text")),
            flag("I", Some('I'), None),
            flag("r", Some('r'), Some("recursive")),
            flag("R", Some('R'), Some("dereference-recursive")),
            value("include", None, "include"),
            value("exclude", None, "exclude"),
            value("exclude_dir", None, "exclude-dir"),
            flag("L", Some('L'), Some("files-without-match")),
            flag("l", Some('l'), Some("files-with-matches")),
            flag("c", Some('c'), Some("count")),
            value("B", Some('B'), "before-context"),
            value("A", Some('A'), "after-context"),
            value("C", Some('C'), "context"),
            Arg::new("color")
                .long("color")
                .alias("colour")
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("auto"),
            flag("help", None, Some("help")),
            Arg::new("operands")
                .num_args(0..)
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(OsString)),
        ])
}

/// GNU's usage error: the message, the usage lines, status 2.
fn usage_error(msg: &str) -> i32 {
    eprintln!(
        "grep: {msg}\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."
    );
    2
}

fn clap_error(e: &clap::Error) -> i32 {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.split(['=', ' ']).next().unwrap_or("").to_string(),
        _ => String::new(),
    };
    match e.kind() {
        ErrorKind::UnknownArgument if arg.starts_with("--") => {
            usage_error(&format!("unrecognized option '{arg}'"))
        }
        ErrorKind::UnknownArgument => usage_error(&format!(
            "invalid option -- '{}'",
            arg.trim_start_matches('-')
        )),
        ErrorKind::InvalidValue | ErrorKind::NoEquals if arg.starts_with("--") => {
            usage_error(&format!("option '{arg}' requires an argument"))
        }
        ErrorKind::InvalidValue | ErrorKind::NoEquals => usage_error(&format!(
            "option requires an argument -- '{}'",
            arg.trim_start_matches('-')
        )),
        _ => usage_error(&e.kind().to_string()),
    }
}

/// A context or count argument: GNU's "invalid context length argument".
fn number(m: &ArgMatches, id: &str) -> Result<Option<u64>, String> {
    let Some(v) = m
        .get_many::<String>(id)
        .and_then(|v| v.into_iter().next_back())
    else {
        return Ok(None);
    };
    v.parse::<u64>().map(Some).map_err(|_| match id {
        "max" => "invalid max count".to_string(),
        _ => format!("{v}: invalid context length argument"),
    })
}

fn globs(m: &ArgMatches, id: &str) -> Vec<Vec<PatChar>> {
    m.get_many::<String>(id)
        .map(|v| v.map(|g| unquoted(g)).collect())
        .unwrap_or_default()
}

fn build(patterns: &[String], o: &Opts) -> Result<Regex, String> {
    let parts: Vec<String> = patterns
        .iter()
        .flat_map(|p| p.split('\n').map(str::to_string).collect::<Vec<_>>())
        .map(|p| match o.syntax {
            Syntax::Fixed => regex::escape(&p),
            Syntax::Extended => from_extended(&p),
            Syntax::Basic => from_basic(&p),
            Syntax::Perl => p,
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
        // Lines hold no newline, so this changes nothing for them; a search over
        // a whole buffer (`data_by_search`) needs `^` and `$` at each line.
        .multi_line(true)
        .case_insensitive(o.ignore_case)
        .unicode(o.syntax == Syntax::Perl)
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

/// The last component of `path`, as the glob options match it.
fn last_component(path: &str) -> Vec<char> {
    let trimmed = path.trim_end_matches('/');
    trimmed
        .rsplit('/')
        .next()
        .unwrap_or(trimmed)
        .chars()
        .collect()
}

struct Search<'a> {
    re: &'a Regex,
    o: &'a Opts,
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    matched: bool,
    error: bool,
    /// Whether a group of lines was printed yet (the next one after a gap gets `--`).
    printed_any: bool,
}

impl Search<'_> {
    /// `name` then `sep`, colored as GNU colors them.
    fn prefix(&self, name: &str, show_name: bool, line: Option<usize>, sep: u8) -> Vec<u8> {
        let mut p = Vec::new();
        let sep = sep as char;
        let part = |p: &mut Vec<u8>, text: &str, color: &str| {
            if self.o.color {
                p.extend_from_slice(
                    format!("{color}{text}{END_COLOR}{SEP_COLOR}{sep}{END_COLOR}").as_bytes(),
                );
            } else {
                p.extend_from_slice(format!("{text}{sep}").as_bytes());
            }
        };
        if show_name {
            part(&mut p, name, NAME_COLOR);
        }
        if let Some(n) = line {
            part(&mut p, &(n + 1).to_string(), LINE_COLOR);
        }
        p
    }

    fn emit(&mut self, bytes: &[u8]) {
        if self.out.write_all(bytes).is_err() {
            // The reader went away: stop as GNU grep does on SIGPIPE.
            std::process::exit(2);
        }
    }

    /// Writes `line` with its prefix; `selected` lines use `:`, context lines `-`.
    fn line(&mut self, name: &str, show_name: bool, n: usize, line: &[u8], selected: bool) {
        let o = self.o;
        let mut buf = self.prefix(
            name,
            show_name,
            o.number.then_some(n),
            if selected { b':' } else { b'-' },
        );
        if o.color && selected && !o.invert {
            let mut at = 0;
            for m in self.re.find_iter(line).filter(|m| !m.as_bytes().is_empty()) {
                buf.extend_from_slice(&line[at..m.start()]);
                buf.extend_from_slice(MATCH_COLOR.as_bytes());
                buf.extend_from_slice(m.as_bytes());
                buf.extend_from_slice(END_COLOR.as_bytes());
                at = m.end();
            }
            buf.extend_from_slice(&line[at..]);
        } else {
            buf.extend_from_slice(line);
        }
        buf.push(b'\n');
        self.emit(&buf);
    }

    fn separator(&mut self) {
        let sep: &[u8] = if self.o.color {
            b"\x1b[36m\x1b[K--\x1b[m\x1b[K\n"
        } else {
            b"--\n"
        };
        self.emit(sep);
    }

    fn data(&mut self, name: &str, data: &[u8], show_name: bool) {
        let o = self.o;
        let binary = !o.text && data.contains(&0);
        if binary && o.skip_binary {
            return;
        }
        // `\A` and `\z` (Perl syntax) would mean the buffer's ends there.
        if !o.invert && !o.only && !o.color && !o.context && o.syntax != Syntax::Perl {
            return self.data_by_search(name, data, show_name, binary);
        }
        let body = data.strip_suffix(b"\n").unwrap_or(data);
        let lines: Vec<&[u8]> = if data.is_empty() {
            Vec::new()
        } else {
            body.split(|b| *b == b'\n').collect()
        };
        let listing = o.quiet || o.count || o.files_with || o.files_without;
        let context = !listing && !o.only && !binary && o.context;
        let mut count = 0u64;
        // The last line written (so context is not repeated) and trailing context left.
        let mut last_printed: Option<usize> = None;
        let mut after_left = 0usize;
        for (n, line) in lines.iter().enumerate() {
            if o.max_count.is_some_and(|m| count >= m) {
                // GNU prints the trailing context of the last selected line, then stops.
                if after_left > 0 && self.re.is_match(line) == o.invert {
                    self.line(name, show_name, n, line, false);
                    last_printed = Some(n);
                    after_left -= 1;
                    continue;
                }
                break;
            }
            let hit = self.re.is_match(line) != o.invert;
            if !hit {
                if context && after_left > 0 {
                    self.line(name, show_name, n, line, false);
                    last_printed = Some(n);
                    after_left -= 1;
                }
                continue;
            }
            count += 1;
            self.matched = true;
            if o.quiet {
                return;
            }
            if listing {
                continue;
            }
            if binary {
                // GNU 3.8 says so on stderr, after what was printed before.
                let _ = self.out.flush();
                eprintln!("grep: {name}: binary file matches");
                return;
            }
            if context {
                let from = n.saturating_sub(o.before);
                let from = last_printed.map_or(from, |l| from.max(l + 1));
                if self.printed_any && last_printed.is_none_or(|l| from > l + 1) {
                    self.separator();
                }
                for (c, ctx) in lines.iter().enumerate().take(n).skip(from) {
                    self.line(name, show_name, c, ctx, false);
                }
                after_left = o.after;
            }
            if o.only && !o.invert {
                let prefix = self.prefix(name, show_name, o.number.then_some(n), b':');
                let finds: Vec<(usize, usize)> = self
                    .re
                    .find_iter(line)
                    .filter(|m| !m.as_bytes().is_empty())
                    .map(|m| (m.start(), m.end()))
                    .collect();
                for (s, e) in finds {
                    let mut buf = prefix.clone();
                    if o.color {
                        buf.extend_from_slice(MATCH_COLOR.as_bytes());
                        buf.extend_from_slice(&line[s..e]);
                        buf.extend_from_slice(END_COLOR.as_bytes());
                    } else {
                        buf.extend_from_slice(&line[s..e]);
                    }
                    buf.push(b'\n');
                    self.emit(&buf);
                }
            } else if !o.only {
                self.line(name, show_name, n, line, true);
            }
            last_printed = Some(n);
            self.printed_any = true;
        }
        self.finish(name, show_name, count);
    }

    /// [`Search::data`] for the common case, as GNU grep does it: one search over
    /// the whole buffer finds the next line that can match, and only that line is
    /// looked at on its own (a match across a newline is not one). A line-local
    /// match is also a match in the buffer (`^`/`$` are multi-line), so no line
    /// that matches is passed over.
    fn data_by_search(&mut self, name: &str, data: &[u8], show_name: bool, binary: bool) {
        let o = self.o;
        let listing = o.quiet || o.count || o.files_with || o.files_without;
        let body = data.strip_suffix(b"\n").unwrap_or(data);
        let line_end =
            |from: usize| memchr::memchr(b'\n', &body[from..]).map_or(body.len(), |i| from + i);
        let mut count = 0u64;
        // The start of the next line to look at, and its number (0-based).
        let (mut pos, mut n) = (0usize, 0usize);
        // Set once a match runs across a newline (a pattern such as `a\sb`): searching
        // on from each line could then rescan far ahead again and again, so the rest
        // goes line by line.
        let mut by_line = false;
        while !data.is_empty() && pos <= body.len() {
            if o.max_count.is_some_and(|m| count >= m) {
                break;
            }
            let (start, end, hit) = if by_line {
                let end = line_end(pos);
                (pos, end, self.re.is_match(&body[pos..end]))
            } else {
                let Some(m) = self.re.find_at(body, pos) else {
                    break;
                };
                let start =
                    memchr::memrchr(b'\n', &body[pos..m.start()]).map_or(pos, |i| pos + i + 1);
                let end = line_end(m.start());
                by_line = m.end() > end;
                (start, end, !by_line || self.re.is_match(&body[start..end]))
            };
            if o.number {
                n += memchr::memchr_iter(b'\n', &body[pos..start]).count();
            }
            let line = &body[start..end];
            if hit {
                count += 1;
                self.matched = true;
                if o.quiet {
                    return;
                }
                if !listing {
                    if binary {
                        let _ = self.out.flush();
                        eprintln!("grep: {name}: binary file matches");
                        return;
                    }
                    self.line(name, show_name, n, line, true);
                    self.printed_any = true;
                }
            }
            pos = end + 1;
            n += 1;
        }
        self.finish(name, show_name, count);
    }

    /// What follows a file's lines: its count, or its name for -l / -L.
    fn finish(&mut self, name: &str, show_name: bool, count: u64) {
        let o = self.o;
        if o.quiet {
            return;
        }
        if o.count {
            let mut p = if show_name {
                self.prefix(name, true, None, b':')
            } else {
                Vec::new()
            };
            p.extend_from_slice(format!("{count}\n").as_bytes());
            self.emit(&p);
        }
        if o.files_with && count > 0 || o.files_without && count == 0 {
            let n = if o.color {
                format!("{NAME_COLOR}{name}{END_COLOR}\n")
            } else {
                format!("{name}\n")
            };
            self.emit(n.as_bytes());
        }
    }

    /// Whether --include/--exclude keep the file `path` (by its last component).
    fn wanted_file(&self, path: &str) -> bool {
        let base = last_component(path);
        let hit = |globs: &[Vec<PatChar>]| globs.iter().any(|g| matches(g, &base));
        !hit(&self.o.exclude) && (self.o.include.is_empty() || hit(&self.o.include))
    }

    /// Whether --exclude-dir keeps the directory `path`.
    fn wanted_dir(&self, path: &str) -> bool {
        let base = last_component(path);
        !self.o.exclude_dir.iter().any(|g| matches(g, &base))
    }

    fn path(&mut self, path: &str, show_name: bool, top: bool) {
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
            if !top && !self.wanted_dir(path) {
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
                self.path(&child, show_name, false);
            }
            return;
        }
        if path != "-" && !self.wanted_file(path) {
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
                    self.o.label.as_str()
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
            let _ = self.out.flush();
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
    let m = match command().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => return clap_error(&e),
    };
    if m.get_flag("help") {
        print!("{HELP}");
        return 0;
    }
    let on = |id: &str| m.get_flag(id);
    if ["E", "F", "G", "P"].iter().filter(|k| on(k)).count() > 1 {
        eprintln!("grep: conflicting matchers specified");
        return 2;
    }
    let syntax = if on("E") {
        Syntax::Extended
    } else if on("F") {
        Syntax::Fixed
    } else if on("P") {
        Syntax::Perl
    } else {
        Syntax::Basic
    };
    let nums = (|| -> Result<_, String> {
        let c = number(&m, "C")?;
        Ok((
            number(&m, "B")?.or(c),
            number(&m, "A")?.or(c),
            number(&m, "max")?,
        ))
    })();
    let (before, after, max_count) = match nums {
        Ok(n) => n,
        Err(msg) => {
            eprintln!("grep: {msg}");
            return 2;
        }
    };
    let color = match m.get_one::<String>("color").map(String::as_str) {
        None | Some("never" | "no" | "none") => false,
        Some("always" | "yes" | "force") => true,
        Some("auto" | "tty" | "if-tty") => {
            crate::wsh::isatty(1) && std::env::var("TERM").is_ok_and(|t| t != "dumb")
        }
        Some(other) => {
            eprintln!("grep: invalid argument '{other}' for '--color'");
            return 2;
        }
    };
    let o = Opts {
        syntax,
        ignore_case: on("i") || on("y"),
        invert: on("v"),
        word: on("w"),
        line: on("x"),
        count: on("c"),
        files_with: on("l"),
        files_without: on("L"),
        number: on("n"),
        with_name: if on("H") {
            Some(true)
        } else if on("h") {
            Some(false)
        } else {
            None
        },
        only: on("o"),
        quiet: on("q") || on("silent"),
        no_messages: on("s"),
        recursive: on("r") || on("R"),
        context: before.is_some() || after.is_some(),
        before: before.unwrap_or(0) as usize,
        after: after.unwrap_or(0) as usize,
        max_count,
        color,
        text: on("a"),
        skip_binary: on("I"),
        label: m
            .get_many::<String>("label")
            .and_then(|v| v.into_iter().next_back().cloned())
            .unwrap_or_else(|| "(standard input)".into()),
        include: globs(&m, "include"),
        exclude: globs(&m, "exclude"),
        exclude_dir: globs(&m, "exclude_dir"),
    };
    let mut operands: Vec<String> = m
        .get_many::<OsString>("operands")
        .map(|v| v.map(|a| a.to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    let mut patterns: Vec<String> = m
        .get_many::<String>("regexp")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let pattern_files: Vec<String> = m
        .get_many::<String>("file")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    for f in &pattern_files {
        let read = if f == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map(|_| s)
        } else {
            std::fs::read_to_string(f)
        };
        match read {
            Ok(text) => patterns.extend(text.lines().map(str::to_string)),
            Err(e) => {
                eprintln!("grep: {f}: {}", strerror(&e));
                return 2;
            }
        }
    }
    if patterns.is_empty() && pattern_files.is_empty() {
        if operands.is_empty() {
            eprintln!(
                "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."
            );
            return 2;
        }
        patterns.push(operands.remove(0));
    }
    // `-f /dev/null`: no pattern at all, which matches nothing.
    let re = if patterns.is_empty() {
        Regex::new(r"[^\x00-\xff]").ok()
    } else {
        None
    };
    let re = match re.map_or_else(|| build(&patterns, &o), Ok) {
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
        out: std::io::BufWriter::new(std::io::stdout().lock()),
        matched: false,
        error: false,
        printed_any: false,
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
                if std::fs::symlink_metadata(&n).is_ok_and(|m| m.file_type().is_symlink()) {
                    continue;
                }
                s.path(&n, show_name, false);
            }
        } else {
            s.path(p, show_name, true);
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
