//! `trap`: commands run on shell events. EXIT (when the shell or a `( )` subshell
//! ends) and ERR (when a command fails where `set -e` would act) are delivered.
//! Signal names are accepted and listed; of the signals only INT is delivered, by the
//! REPL after Ctrl-C stopped a command line ([`Shell::run_signal_trap`]).

use super::{ExecResult, Fds, Flow, Shell};

/// Conditions `trap` accepts (bash's names without the SIG prefix).
const NAMES: &[&str] = &[
    "EXIT", "ERR", "DEBUG", "RETURN", "HUP", "INT", "QUIT", "TERM", "USR1", "USR2", "PIPE", "ALRM",
    "CHLD",
];

/// Canonical name of a trap condition: `SIGINT`, `int`, `2` → `INT`; `0` → `EXIT`.
fn canonical(s: &str) -> Option<&'static str> {
    let up = s.to_ascii_uppercase();
    let up = up.strip_prefix("SIG").unwrap_or(&up);
    let by_num = match up {
        "0" => Some("EXIT"),
        "1" => Some("HUP"),
        "2" => Some("INT"),
        "3" => Some("QUIT"),
        "15" => Some("TERM"),
        _ => None,
    };
    by_num.or_else(|| NAMES.iter().copied().find(|n| *n == up))
}

impl Shell {
    /// `trap [-p] [[ACTION] CONDITION...]`, `trap - CONDITION...`.
    pub(crate) fn trap_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let args: Vec<&String> = args.iter().filter(|a| *a != "--").collect();
        if args.is_empty() || args[0] == "-p" {
            let mut out = String::new();
            for (name, cmd) in &self.traps {
                if args.len() > 1
                    && !args[1..]
                        .iter()
                        .any(|a| canonical(a) == Some(name.as_str()))
                {
                    continue;
                }
                out.push_str(&format!(
                    "trap -- '{}' {name}\n",
                    cmd.replace('\'', "'\\''")
                ));
            }
            return i32::from(fds.handle(1).write_all(out.as_bytes()).is_err());
        }
        // A single argument that is a condition resets it (POSIX: `trap INT` is `trap - INT`).
        let (action, conds): (Option<&str>, &[&String]) = if args.len() == 1 || args[0] == "-" {
            (
                None,
                if args[0] == "-" {
                    &args[1..]
                } else {
                    &args[..]
                },
            )
        } else {
            (Some(args[0].as_str()), &args[1..])
        };
        let mut st = 0;
        for c in conds {
            let Some(name) = canonical(c) else {
                fds.error(&format!("trap: {c}: invalid signal specification"));
                st = 1;
                continue;
            };
            match action {
                Some(a) => {
                    self.traps.insert(name.to_string(), a.to_string());
                }
                None => {
                    self.traps.remove(name);
                }
            }
        }
        st
    }

    /// Runs the ERR trap (if any) after a failed command.
    pub(crate) fn run_err_trap(&mut self, fds: &Fds) -> Result<(), Flow> {
        let Some(cmd) = self.traps.get("ERR").cloned().filter(|c| !c.is_empty()) else {
            return Ok(());
        };
        if self.in_trap {
            return Ok(());
        }
        let saved = self.status;
        self.in_trap = true;
        let r = self.run_trap_text(&cmd, fds);
        self.in_trap = false;
        self.status = saved;
        r.map(|_| ())
    }

    /// Runs the EXIT trap once (if any); returns the status the shell ends with.
    pub fn run_exit_trap(&mut self, fds: &Fds) -> i32 {
        let status = self.status;
        let Some(cmd) = self.traps.remove("EXIT").filter(|c| !c.is_empty()) else {
            return status;
        };
        self.in_trap = true;
        let r = self.run_trap_text(&cmd, fds);
        self.in_trap = false;
        match r {
            // `exit N` inside the trap sets the final status.
            Err(Flow::Exit(s)) => {
                self.status = s;
                s
            }
            _ => {
                self.status = status;
                status
            }
        }
    }

    /// Runs the trap set for signal `name` (e.g. "INT"), if any; the REPL calls it
    /// after Ctrl-C stopped the command line. `exit` in the trap ends the shell.
    pub fn run_signal_trap(&mut self, name: &str, fds: &Fds) {
        let Some(cmd) = self.traps.get(name).cloned().filter(|c| !c.is_empty()) else {
            return;
        };
        let saved = self.status;
        self.in_trap = true;
        let r = self.run_trap_text(&cmd, fds);
        self.in_trap = false;
        match r {
            Err(Flow::Exit(s)) => {
                self.status = s;
                self.exit_request = Some(s);
            }
            _ => self.status = saved,
        }
    }

    fn run_trap_text(&mut self, text: &str, fds: &Fds) -> ExecResult {
        match Shell::parse(text) {
            Ok(prog) => {
                let mut st = 0;
                for cmd in &prog.complete_commands {
                    st = self.run_list(cmd, fds)?;
                }
                Ok(st)
            }
            Err(e) => {
                fds.error(&e.to_string());
                Ok(2)
            }
        }
    }
}
