//! diff and cmp on the `diffutils` crate's library: its option parsing and
//! output formats, driven here (the crate's own drivers want `std::env::ArgsOs`).

use std::ffi::OsString;
use std::io::{self, Read, Write};

use diffutilslib::params::{Format, parse_params};
use diffutilslib::{cmp, context_diff, ed_diff, normal_diff, side_by_side_diff, unified_diff};

const DIFF_HELP: &str = "Usage: diff [OPTION]... FROM TO
Compare FROM and TO line by line.

  -q, --brief                   report only when files differ
  -s, --report-identical-files  report when two files are the same
  -c, -C NUM, --context[=NUM]   output NUM (default 3) lines of copied context
  -u, -U NUM, --unified[=NUM]   output NUM (default 3) lines of unified context
  -e, --ed                      output an ed script
  -y, --side-by-side            output in two columns
  -t, --expand-tabs             expand tabs to spaces in output
  -W, --width=NUM               output at most NUM (default 130) print columns
      --help                    display this help and exit

Exit status is 0 if inputs are the same, 1 if different, 2 if trouble.
";

const CMP_HELP: &str = "Usage: cmp [OPTION]... FILE1 [FILE2 [SKIP1 [SKIP2]]]
Compare two files byte by byte.

  -b, --print-bytes          print differing bytes
  -i, --ignore-initial=SKIP  skip first SKIP bytes of both inputs
  -l, --verbose              output byte numbers and differing byte values
  -n, --bytes=LIMIT          compare at most LIMIT bytes
  -s, --quiet, --silent      suppress all normal output
      --help                 display this help and exit

Exit status is 0 if inputs are the same, 1 if different, 2 if trouble.
";

/// Prints `text` if argv asks for --help.
fn wants_help(argv: &[OsString], text: &str) -> bool {
    let asked = argv
        .iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--help");
    if asked {
        print!("{text}");
    }
    asked
}

fn read(path: &OsString) -> io::Result<Vec<u8>> {
    if path == "-" {
        let mut v = Vec::new();
        io::stdin().read_to_end(&mut v)?;
        Ok(v)
    } else {
        std::fs::read(path)
    }
}

/// Runs diff: 0 same, 1 different, 2 trouble.
pub fn main(argv: Vec<OsString>) -> i32 {
    if wants_help(&argv, DIFF_HELP) {
        return 0;
    }
    let p = match parse_params(argv.into_iter().peekable()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let (from, to) = match (read(&p.from), read(&p.to)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            let which = if read(&p.from).is_err() {
                &p.from
            } else {
                &p.to
            };
            eprintln!("diff: {}: {}", which.to_string_lossy(), super::strerror(&e));
            return 2;
        }
    };
    let out: Vec<u8> = match p.format {
        Format::Normal => normal_diff(&from, &to, &p),
        Format::Unified => unified_diff(&from, &to, &p),
        Format::Context => context_diff(&from, &to, &p),
        Format::Ed => match ed_diff(&from, &to, &p) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("diff: {e}");
                return 2;
            }
        },
        Format::SideBySide => {
            let mut buf = Vec::new();
            side_by_side_diff(&from, &to, &mut buf, &p);
            buf
        }
    };
    let mut stdout = io::stdout().lock();
    let same = out.is_empty();
    if p.brief && !same {
        let _ = writeln!(
            stdout,
            "Files {} and {} differ",
            p.from.to_string_lossy(),
            p.to.to_string_lossy()
        );
    } else {
        let _ = stdout.write_all(&out);
    }
    if same && p.report_identical_files {
        let _ = writeln!(
            stdout,
            "Files {} and {} are identical",
            p.from.to_string_lossy(),
            p.to.to_string_lossy()
        );
    }
    let _ = stdout.flush();
    i32::from(!same)
}

/// Runs cmp: 0 same, 1 different, 2 trouble.
pub fn cmp(argv: Vec<OsString>) -> i32 {
    if wants_help(&argv, CMP_HELP) {
        return 0;
    }
    // -s silences the trouble messages too (the crate keeps its flag private).
    let quiet = argv.iter().skip(1).take_while(|a| *a != "--").any(|a| {
        let a = a.to_string_lossy();
        a == "--quiet"
            || a == "--silent"
            || a.starts_with('-') && !a.starts_with("--") && a.contains('s')
    });
    let p = match cmp::parse_params(argv.into_iter().peekable()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    match cmp::cmp(&p) {
        Ok(cmp::Cmp::Equal) => 0,
        Ok(cmp::Cmp::Different) => 1,
        Err(e) => {
            if !quiet {
                eprintln!("{e}");
            }
            2
        }
    }
}
