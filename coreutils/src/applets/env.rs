//! env: print the environment, or run a program in a modified one (through the
//! `wsh` host interface's spawn, which plain WASI lacks).

use std::ffi::OsString;
use std::io::Write;

use super::{args, help};
use crate::wsh;

const HELP: &str = "Usage: env [OPTION]... [-] [NAME=VALUE]... [COMMAND [ARG]...]
Set each NAME to VALUE in the environment and run COMMAND.

  -i, --ignore-environment  start with an empty environment
  -0, --null           end each output line with NUL, not newline
  -u, --unset=NAME     remove variable from the environment
      --help           display this help and exit

A mere - implies -i.  If no COMMAND, print the resulting environment.
";

/// Runs env.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    let mut env: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let mut nul = false;
    let mut i = 0;
    // Options come first; the first NAME=VALUE or command ends them.
    while i < a.len() {
        let arg = a[i].as_str();
        match arg {
            "--help" => return i32::from(!help(&a[..=i], HELP)),
            "-i" | "--ignore-environment" | "-" => env.clear(),
            "-0" | "--null" => nul = true,
            "-u" | "--unset" => {
                i += 1;
                let Some(name) = a.get(i) else {
                    eprintln!(
                        "env: option requires an argument -- 'u'\nTry 'env --help' for more information."
                    );
                    return 125;
                };
                env.retain(|(k, _)| k != name);
            }
            "--" => {
                i += 1;
                break;
            }
            s if s.starts_with("--unset=") => env.retain(|(k, _)| k != &s[8..]),
            s if s.starts_with("-u") && s.len() > 2 => env.retain(|(k, _)| k != &s[2..]),
            s if s.starts_with('-') && s.len() > 1 && s[1..].chars().all(|c| "i0".contains(c)) => {
                for c in s[1..].chars() {
                    if c == 'i' {
                        env.clear();
                    } else {
                        nul = true;
                    }
                }
            }
            s if s.starts_with('-') && s.len() > 1 => {
                eprintln!(
                    "env: invalid option -- '{}'\nTry 'env --help' for more information.",
                    &s[1..]
                );
                return 125;
            }
            _ => break,
        }
        i += 1;
    }
    while i < a.len() {
        match a[i].split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                env.retain(|(n, _)| n != k);
                env.push((k.to_string(), v.to_string()));
                i += 1;
            }
            _ => break,
        }
    }
    if i == a.len() {
        let mut out = std::io::stdout().lock();
        for (k, v) in &env {
            let _ = write!(out, "{k}={v}{}", if nul { '\0' } else { '\n' });
        }
        return if out.flush().is_ok() { 0 } else { 125 };
    }
    if nul {
        eprintln!(
            "env: cannot specify --null (-0) with command\nTry 'env --help' for more information."
        );
        return 125;
    }
    let argv: Vec<OsString> = a[i..].iter().map(OsString::from).collect();
    let env = env.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
    wsh::run("env", argv, Some(env))
}
