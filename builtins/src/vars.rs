//! Builtins about variables: export, unset.

use crate::{Builtin, ShellState, Stdio, is_name};

/// `export [-p] [NAME[=VALUE]...]`: marks variables for the environment of commands.
pub struct Export;
/// `unset [-v] NAME...`: removes variables.
pub struct Unset;

/// Quotes a value the way `export -p` / `declare -x` prints it.
fn dquote(value: &str) -> String {
    let mut s = String::from("\"");
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

impl Builtin for Export {
    fn run(&self, sh: &mut dyn ShellState, args: &[String], io: &mut Stdio) -> i32 {
        let mut names = &args[1..];
        while let Some(opt) = names.first().filter(|a| a.starts_with('-')) {
            match opt.as_str() {
                "-p" => names = &names[1..],
                "--" => {
                    names = &names[1..];
                    break;
                }
                _ => {
                    io.err(&format!("export: {opt}: invalid option"));
                    io.err("export: usage: export [-p] [name[=value] ...]");
                    return 2;
                }
            }
        }
        if names.is_empty() {
            for (k, v) in sh.exported() {
                if io.out(&format!("declare -x {k}={}\n", dquote(&v))).is_err() {
                    return 1;
                }
            }
            return 0;
        }
        let mut status = 0;
        for arg in names {
            let (name, value) = match arg.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (arg.as_str(), None),
            };
            if !is_name(name) {
                io.err(&format!("export: `{arg}': not a valid identifier"));
                status = 1;
                continue;
            }
            if let Some(Err(msg)) = value.map(|v| sh.set_var(name, v)) {
                io.err(&msg);
                status = 1;
                continue;
            }
            sh.export_var(name);
        }
        status
    }
    fn is_special(&self) -> bool {
        true
    }
}

impl Builtin for Unset {
    fn run(&self, sh: &mut dyn ShellState, args: &[String], io: &mut Stdio) -> i32 {
        let mut status = 0;
        for name in args[1..].iter().filter(|a| a.as_str() != "-v") {
            if !is_name(name) {
                io.err(&format!("unset: `{name}': not a valid identifier"));
                status = 1;
            } else if let Err(msg) = sh.unset_var(name) {
                io.err(&msg);
                status = 1;
            }
        }
        status
    }
    fn is_special(&self) -> bool {
        true
    }
}
