//! `enable`: turning builtins off and on. A disabled builtin is looked up on PATH
//! like any program (`enable -n printf` runs /usr/bin/printf), and `builtin`,
//! `type` and `command -v` no longer see it.

use super::{Fds, Shell};

/// POSIX's special builtins (`enable -s`), in bash's order.
const SPECIAL: &[&str] = &[
    ".", ":", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set",
    "shift", "source", "times", "trap", "unset",
];

impl Shell {
    /// Whether `name` is a builtin that is enabled.
    pub(crate) fn builtin_enabled(&self, name: &str) -> bool {
        super::exec::is_builtin_name(name) && !self.disabled.contains(name)
    }

    /// `enable [-a] [-n] [-s] [-p] [NAME...]`.
    pub(crate) fn enable_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (mut off, mut all, mut special) = (false, false, false);
        let mut names = Vec::new();
        let mut options = true;
        for a in args {
            match a.strip_prefix('-') {
                Some("-") if options => options = false,
                Some(flags) if options && !flags.is_empty() => {
                    for c in flags.chars() {
                        match c {
                            'n' => off = true,
                            'a' => all = true,
                            's' => special = true,
                            'p' => {}
                            _ => {
                                fds.error(&format!("enable: -{c}: invalid option"));
                                fds.error(
                                    "enable: usage: enable [-a] [-dnps] [-f filename] [name ...]",
                                );
                                return 2;
                            }
                        }
                    }
                }
                _ => {
                    options = false;
                    names.push(a.as_str());
                }
            }
        }
        if names.is_empty() {
            let list: Vec<&str> = if special {
                SPECIAL.to_vec()
            } else {
                super::complete::BASH_BUILTINS
                    .iter()
                    .copied()
                    .filter(|b| super::exec::is_builtin_name(b))
                    .collect()
            };
            let mut out = String::new();
            for b in list {
                let on = !self.disabled.contains(b);
                // Plain `enable` lists the enabled ones, `-n` the disabled, `-a` all.
                if all || on != off {
                    out.push_str(if on { "enable " } else { "enable -n " });
                    out.push_str(b);
                    out.push('\n');
                }
            }
            return i32::from(fds.handle(1).write_all(out.as_bytes()).is_err());
        }
        let mut status = 0;
        for n in names {
            if !super::exec::is_builtin_name(n) {
                fds.error(&format!("enable: {n}: not a shell builtin"));
                status = 1;
            } else if off {
                self.disabled.insert(n.to_string());
            } else {
                self.disabled.remove(n);
            }
        }
        status
    }
}
