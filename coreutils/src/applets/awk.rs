//! awk on the `awk-rs` crate's interpreter: `awk [-F FS] [-v VAR=VALUE]... [-f PROGFILE | 'PROGRAM'] [FILE]...`.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Write};

use awk_rs::{Interpreter, Lexer, Parser};

use super::{args, strerror};

const HELP: &str = "Usage: awk [-F FS] [-v VAR=VALUE]... 'PROGRAM' [FILE]...
       awk [-F FS] [-v VAR=VALUE]... -f PROGFILE [FILE]...
Scan and process patterns in each FILE (or standard input).

  -F FS          use FS as the input field separator
  -v VAR=VALUE   assign VALUE to VAR before the program starts
  -f PROGFILE    read the program from PROGFILE
      --help     display this help and exit
";

fn run(a: Vec<String>) -> Result<i32, String> {
    let (mut fs, mut vars, mut source) = (None, Vec::new(), None);
    let mut i = 0;
    while i < a.len() {
        let arg = &a[i];
        let mut value = |flag: &str| -> Result<String, String> {
            if arg.len() > flag.len() {
                Ok(arg[flag.len()..].to_string())
            } else {
                i += 1;
                a.get(i).cloned().ok_or(format!(
                    "awk: option requires an argument -- {}",
                    &flag[1..]
                ))
            }
        };
        match arg.as_str() {
            "--" => {
                i += 1;
                break;
            }
            s if s.starts_with("-F") => {
                let v = value("-F")?;
                fs = Some(if v == "t" { "\t".to_string() } else { v });
            }
            s if s.starts_with("-v") => {
                let v = value("-v")?;
                let (k, val) = v
                    .split_once('=')
                    .ok_or(format!("awk: invalid -v argument: {v}"))?;
                vars.push((k.to_string(), val.to_string()));
            }
            s if s.starts_with("-f") => {
                let f = value("-f")?;
                source = Some(
                    std::fs::read_to_string(&f)
                        .map_err(|e| format!("awk: {f}: {}", strerror(&e)))?,
                );
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("awk: unknown option {s}"));
            }
            _ => break,
        }
        i += 1;
    }
    let source = match source {
        Some(s) => s,
        None => {
            let s = a.get(i).cloned().ok_or("awk: no program given")?;
            i += 1;
            s
        }
    };
    let files: Vec<String> = a[i..].to_vec();
    let tokens = Lexer::new(&source)
        .tokenize()
        .map_err(|e| format!("awk: {e}"))?;
    let program = Parser::new(tokens)
        .parse()
        .map_err(|e| format!("awk: {e}"))?;
    let mut interp = Interpreter::new(&program);
    if let Some(fs) = fs {
        interp.set_fs(&fs);
    }
    let mut argv = vec!["awk".to_string()];
    argv.extend(files.iter().cloned());
    interp.set_args(argv);
    for (k, v) in &vars {
        interp.set_variable(k, v);
    }
    let mut inputs: Vec<Box<dyn BufRead>> = Vec::new();
    let mut names = Vec::new();
    if files.is_empty() {
        inputs.push(Box::new(BufReader::new(io::stdin())));
        names.push(String::new());
    }
    for f in &files {
        if f == "-" {
            inputs.push(Box::new(BufReader::new(io::stdin())));
        } else {
            let file = std::fs::File::open(f)
                .map_err(|e| format!("awk: cannot open \"{f}\" ({})", strerror(&e)))?;
            inputs.push(Box::new(BufReader::new(file)));
        }
        names.push(f.clone());
    }
    interp.set_filenames(names);
    let mut out = io::stdout().lock();
    let status = interp
        .run(inputs, &mut out)
        .map_err(|e| format!("awk: {e}"))?;
    out.flush().map_err(|e| format!("awk: {}", strerror(&e)))?;
    Ok(status)
}

/// Runs awk.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if a.first().is_some_and(|x| x == "--help") {
        print!("{HELP}");
        return 0;
    }
    match run(a) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("{msg}");
            2
        }
    }
}
