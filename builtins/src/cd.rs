//! Directory builtins: cd and pwd. Paths are logical (like bash without `-P`):
//! `..` removes the previous component of the path as typed, not of the target of a symlink.

use crate::{Builtin, ShellState, Stdio};

/// `cd [DIR]`: changes the working directory; `cd` → $HOME, `cd -` → $OLDPWD.
pub struct Cd;
/// `pwd`: prints the logical working directory.
pub struct Pwd;

/// Joins `path` onto `cwd` (unless absolute) and removes `.`, `..` and empty components.
/// `..` at the root stays at the root.
pub fn normalize(cwd: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{cwd}/{path}")
    };
    for comp in full.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

impl Builtin for Cd {
    fn run(&self, sh: &mut dyn ShellState, args: &[String], io: &mut Stdio) -> i32 {
        let mut rest: Vec<&String> = args[1..].iter().collect();
        // -L (the default) and -P are accepted; both act logically for now.
        while rest
            .first()
            .is_some_and(|a| matches!(a.as_str(), "-L" | "-P" | "--"))
        {
            let stop = rest[0] == "--";
            rest.remove(0);
            if stop {
                break;
            }
        }
        if rest.len() > 1 {
            io.err("cd: too many arguments");
            return 1;
        }
        let (target, print) = match rest.first().map(|s| s.as_str()) {
            None => match sh.var("HOME") {
                Some(h) => (h, false),
                None => {
                    io.err("cd: HOME not set");
                    return 1;
                }
            },
            Some("-") => match sh.var("OLDPWD") {
                Some(o) => (o, true),
                None => {
                    io.err("cd: OLDPWD not set");
                    return 1;
                }
            },
            Some(d) => (d.to_string(), false),
        };
        if target.is_empty() {
            // bash: `cd ""` is a no-op success.
            return 0;
        }
        let cwd = sh.cwd();
        let abs = normalize(&cwd, &target);
        if let Err(reason) = sh.check_dir(&abs) {
            io.err(&format!("cd: {target}: {reason}"));
            return 1;
        }
        let _ = sh.set_var("OLDPWD", &cwd);
        sh.set_cwd(&abs);
        if print && io.out(&format!("{abs}\n")).is_err() {
            return 1;
        }
        0
    }
}

impl Builtin for Pwd {
    fn run(&self, sh: &mut dyn ShellState, _: &[String], io: &mut Stdio) -> i32 {
        match io.out(&format!("{}\n", sh.cwd())) {
            Ok(()) => 0,
            Err(s) => s,
        }
    }
}
