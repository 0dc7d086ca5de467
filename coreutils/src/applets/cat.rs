//! cat with GNU's options and messages. uutils' cat (0.12) refuses on WASI every
//! file that is neither regular nor a directory ("unknown filetype": its device and
//! pipe cases are `cfg(unix)`), so `cat /dev/null` and `cat /dev/stdin` failed; this
//! one reads whatever opens. Without options it copies in large blocks.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command};

use super::strerror;

const HELP: &str = "Usage: cat [OPTION]... [FILE]...
Concatenate FILE(s) to standard output.

With no FILE, or when FILE is -, read standard input.

  -A, --show-all           equivalent to -vET
  -b, --number-nonblank    number nonempty output lines, overrides -n
  -e                       equivalent to -vE
  -E, --show-ends          display $ at end of each line
  -n, --number             number all output lines
  -s, --squeeze-blank      suppress repeated empty output lines
  -t                       equivalent to -vT
  -T, --show-tabs          display TAB characters as ^I
  -u                       (ignored)
  -v, --show-nonprinting   use ^ and M- notation, except for LFD and TAB
      --help        display this help and exit
      --version     output version information and exit
";

/// What to do to the text on its way through.
#[derive(Default)]
struct Opts {
    number: bool,
    nonblank: bool,
    ends: bool,
    tabs: bool,
    nonprinting: bool,
    squeeze: bool,
}

impl Opts {
    fn plain(&self) -> bool {
        !(self.number
            || self.nonblank
            || self.ends
            || self.tabs
            || self.nonprinting
            || self.squeeze)
    }
}

/// Where the formatting stands between reads (and between files, as GNU's cat
/// keeps numbering and squeezing across them).
struct State {
    at_line_start: bool,
    /// Empty lines in a row just seen.
    blanks: u64,
    line: u64,
}

fn command() -> Command {
    let flag = |id: &'static str, short: char, long: Option<&'static str>| {
        let a = Arg::new(id).short(short).action(ArgAction::SetTrue);
        match long {
            Some(l) => a.long(l),
            None => a,
        }
    };
    Command::new("cat")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .infer_long_args(true)
        .args([
            flag("A", 'A', Some("show-all")),
            flag("b", 'b', Some("number-nonblank")),
            flag("e", 'e', None),
            flag("E", 'E', Some("show-ends")),
            flag("n", 'n', Some("number")),
            flag("s", 's', Some("squeeze-blank")),
            flag("t", 't', None),
            flag("T", 'T', Some("show-tabs")),
            flag("u", 'u', None),
            flag("v", 'v', Some("show-nonprinting")),
            Arg::new("help").long("help").action(ArgAction::SetTrue),
            Arg::new("version")
                .long("version")
                .action(ArgAction::SetTrue),
            Arg::new("files")
                .num_args(0..)
                .allow_hyphen_values(false)
                .value_parser(clap::value_parser!(OsString)),
        ])
}

/// GNU getopt's wording for a bad option.
fn usage_error(e: &clap::Error) -> i32 {
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    match e.kind() {
        ErrorKind::UnknownArgument if arg.starts_with("--") => {
            eprintln!("cat: unrecognized option '{arg}'")
        }
        ErrorKind::UnknownArgument => {
            eprintln!("cat: invalid option -- '{}'", arg.trim_start_matches('-'))
        }
        ErrorKind::TooManyValues => {
            eprintln!("cat: option '{arg}' doesn't allow an argument")
        }
        _ => eprintln!("cat: {}", e.kind()),
    }
    eprintln!("Try 'cat --help' for more information.");
    1
}

/// Appends `b` in `cat -v` notation (`^X`, `M-x`, `M-^X`, `^?`).
fn nonprinting(b: u8, out: &mut Vec<u8>) {
    let (meta, c) = if b >= 0x80 {
        (true, b - 0x80)
    } else {
        (false, b)
    };
    if meta {
        out.extend_from_slice(b"M-");
    }
    match c {
        0..=31 => out.extend_from_slice(&[b'^', c + 64]),
        127 => out.extend_from_slice(b"^?"),
        _ => out.push(c),
    }
}

/// Formats `data` into `out` as the options say.
fn format(data: &[u8], o: &Opts, st: &mut State, out: &mut Vec<u8>) {
    for &b in data {
        if st.at_line_start {
            if b == b'\n' {
                st.blanks += 1;
                if o.squeeze && st.blanks > 1 {
                    continue;
                }
                if o.number && !o.nonblank {
                    st.line += 1;
                    out.extend_from_slice(format!("{:>6}\t", st.line).as_bytes());
                }
                if o.ends {
                    out.push(b'$');
                }
                out.push(b'\n');
                continue;
            }
            st.blanks = 0;
            if o.number || o.nonblank {
                st.line += 1;
                out.extend_from_slice(format!("{:>6}\t", st.line).as_bytes());
            }
            st.at_line_start = false;
        }
        match b {
            b'\n' => {
                if o.ends {
                    out.push(b'$');
                }
                out.push(b'\n');
                st.at_line_start = true;
            }
            b'\t' if o.tabs => out.extend_from_slice(b"^I"),
            b'\t' => out.push(b),
            _ if o.nonprinting => nonprinting(b, out),
            _ => out.push(b),
        }
    }
}

/// How a copy ended badly: the input failed (reported, cat goes on) or the output
/// did (cat stops).
enum Failed {
    Input(io::Error),
    Output(io::Error),
}

fn copy(
    input: &mut dyn Read,
    o: &Opts,
    st: &mut State,
    out: &mut impl Write,
) -> Result<(), Failed> {
    let mut buf = vec![0u8; 128 * 1024];
    let mut formatted = Vec::new();
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failed::Input(e)),
        };
        let chunk = if o.plain() {
            &buf[..n]
        } else {
            formatted.clear();
            format(&buf[..n], o, st, &mut formatted);
            &formatted
        };
        out.write_all(chunk).map_err(Failed::Output)?;
    }
}

/// Runs cat with `argv` (argv[0] included); returns the exit status.
pub fn main(argv: Vec<OsString>) -> i32 {
    let m = match command().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => return usage_error(&e),
    };
    if m.get_flag("help") {
        print!("{HELP}");
        return 0;
    }
    if m.get_flag("version") {
        println!("cat (wsh coreutils)");
        return 0;
    }
    let on = |id: &str| m.get_flag(id);
    let o = Opts {
        number: on("n") || on("b"),
        nonblank: on("b"),
        ends: on("E") || on("A") || on("e"),
        tabs: on("T") || on("A") || on("t"),
        nonprinting: on("v") || on("A") || on("e") || on("t"),
        squeeze: on("s"),
    };
    let files: Vec<OsString> = m
        .get_many::<OsString>("files")
        .map(|f| f.cloned().collect())
        .unwrap_or_else(|| vec!["-".into()]);
    let mut st = State {
        at_line_start: true,
        blanks: 0,
        line: 0,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(128 * 1024, stdout.lock());
    let mut status = 0;
    for f in &files {
        let name = f.to_string_lossy();
        let result = if f == "-" {
            copy(&mut io::stdin().lock(), &o, &mut st, &mut out)
        } else {
            match File::open(f) {
                Ok(mut file) => copy(&mut file, &o, &mut st, &mut out),
                Err(e) => Err(Failed::Input(e)),
            }
        };
        match result {
            Ok(()) => {}
            Err(Failed::Input(e)) => {
                // Report after what came before it, as GNU's unbuffered cat does.
                let _ = out.flush();
                eprintln!("cat: {name}: {}", strerror(&e));
                status = 1;
            }
            Err(Failed::Output(e)) => return output_failed(&e),
        }
    }
    match out.flush() {
        Ok(()) => status,
        Err(e) => output_failed(&e),
    }
}

/// A reader that went away ends cat as SIGPIPE ends GNU's (status 141, silent);
/// any other write error is reported.
fn output_failed(e: &io::Error) -> i32 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return 128 + 13;
    }
    eprintln!("cat: write error: {}", strerror(e));
    1
}
