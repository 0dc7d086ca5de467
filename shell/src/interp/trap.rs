//! `trap`: commands run on shell events. EXIT (when the shell or a `( )` subshell
//! ends) and ERR (when a command fails where `set -e` would act) are delivered.
//! Signal names are accepted and listed; of the signals only INT is delivered, by the
//! REPL after Ctrl-C stopped a command line ([`Shell::run_signal_trap`]).

use super::{ExecResult, Fds, Flow, Shell};

/// The signals wsh's process found ignored when it started, one bit per number
/// (see [`record_ignored_signals`]).
static IGNORED_ON_ENTRY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Notes which signals the process inherited as ignored (a program started in the
/// background by a shell without job control has INT and QUIT ignored). As POSIX
/// says and bash does, a non-interactive shell can neither trap nor reset those.
/// Called first thing in `main`, before wsh sets handlers of its own. PIPE is left
/// out: Rust's runtime ignores it before `main`, so what was inherited is unknown.
pub fn record_ignored_signals() {
    IGNORED_ON_ENTRY.get_or_init(|| {
        (1..=64)
            .filter(|&n| n != libc::SIGPIPE)
            .filter(|&n| {
                // SAFETY: sigaction with a null new action only reads the disposition.
                let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
                let rc = unsafe { libc::sigaction(n, std::ptr::null(), &mut old) };
                rc == 0 && old.sa_sigaction == libc::SIG_IGN
            })
            .fold(0u64, |bits, n| bits | 1 << (n - 1))
    });
}

/// The names of the signals the process inherited as ignored.
fn ignored_on_entry() -> impl Iterator<Item = String> {
    let bits = IGNORED_ON_ENTRY.get().copied().unwrap_or(0);
    (1..=64)
        .filter(move |n| bits & (1 << (n - 1)) != 0)
        .filter_map(super::jobs::signal_name)
}

/// The shell's own trap conditions (not signals).
const PSEUDO: &[&str] = &["EXIT", "ERR", "DEBUG", "RETURN"];

/// Canonical name of a trap condition: `SIGINT`, `int`, `2` → `INT`; `0` → `EXIT`.
fn canonical(s: &str) -> Option<String> {
    let up = s.to_ascii_uppercase();
    if up == "0" || up == "EXIT" || up == "SIGEXIT" {
        return Some("EXIT".into());
    }
    if PSEUDO.contains(&up.as_str()) {
        return Some(up);
    }
    if let Ok(n) = up.parse::<i32>() {
        return (1..=64)
            .contains(&n)
            .then(|| super::jobs::signal_name(n))
            .flatten();
    }
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    (1..=64)
        .filter_map(super::jobs::signal_name)
        .find(|n| n == name)
}

/// How `trap -p` names a condition: signals with their SIG prefix.
fn shown_name(name: &str) -> String {
    if PSEUDO.contains(&name) {
        name.to_string()
    } else {
        format!("SIG{name}")
    }
}

/// bash's order of conditions in `trap -p`: EXIT, the signals by number, then
/// DEBUG, ERR and RETURN.
fn order(name: &str) -> i32 {
    match name {
        "EXIT" => 0,
        "DEBUG" => 100,
        "ERR" => 101,
        "RETURN" => 102,
        _ => (1..=64)
            .find(|n| super::jobs::signal_name(*n).as_deref() == Some(name))
            .unwrap_or(99),
    }
}

impl Shell {
    /// `trap [-p] [[ACTION] CONDITION...]`, `trap - CONDITION...`.
    pub(crate) fn trap_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let args: Vec<&String> = args.iter().filter(|a| *a != "--").collect();
        if args.first().is_some_and(|a| *a == "-l") {
            return super::jobs::list_signals(&[], fds);
        }
        if args.is_empty() || args[0] == "-p" {
            let mut shown = self.shown_traps.clone();
            shown.extend(self.traps.clone());
            // bash lists the signals ignored on entry as ignored ('').
            if self.job_control.is_none() {
                for name in ignored_on_entry() {
                    shown.entry(name).or_default();
                }
            }
            let mut names: Vec<String> = if args.len() > 1 {
                args[1..].iter().filter_map(|a| canonical(a)).collect()
            } else {
                shown.keys().cloned().collect()
            };
            if args.len() <= 1 {
                names.sort_by_key(|n| order(n));
            }
            let mut out = String::new();
            for name in names {
                let Some(cmd) = shown.get(&name) else {
                    continue;
                };
                out.push_str(&format!(
                    "trap -- '{}' {}\n",
                    cmd.replace('\'', "'\\''"),
                    shown_name(&name)
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
        // Setting a trap ends a subshell's display of its parent's traps.
        self.shown_traps.clear();
        for c in conds {
            let Some(name) = canonical(c) else {
                fds.error(&format!("trap: {c}: invalid signal specification"));
                st = 1;
                continue;
            };
            if self.job_control.is_none() && ignored_on_entry().any(|n| n == name) {
                continue;
            }
            match action {
                Some(a) => {
                    self.traps.insert(name, a.to_string());
                }
                None => {
                    self.traps.remove(&name);
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

    /// A signal the shell sent itself (`kill -USR1 $$`): its trap runs; an ignored
    /// signal does nothing; otherwise the default action of the signals that end a
    /// process ends the shell with 128 + the number.
    pub(crate) fn signal_self(&mut self, sig: i32, fds: &Fds) -> Result<(), Flow> {
        // In a subshell `$$` is still the parent, which this copy cannot reach: the
        // signal is not delivered (the subshell goes on, as it would in bash).
        if sig == 0 || self.subshell_depth > 0 {
            return Ok(());
        }
        let name = super::jobs::signal_name(sig).unwrap_or_default();
        match self.traps.get(&name).cloned() {
            Some(cmd) if cmd.is_empty() => Ok(()),
            Some(cmd) => {
                let saved = self.status;
                self.in_trap = true;
                let r = self.run_trap_text(&cmd, fds);
                self.in_trap = false;
                r?;
                self.status = saved;
                Ok(())
            }
            // Stop, continue, child and window-size signals do not end a process.
            None if matches!(
                name.as_str(),
                "CHLD" | "CONT" | "URG" | "WINCH" | "STOP" | "TSTP" | "TTIN" | "TTOU"
            ) =>
            {
                Ok(())
            }
            None => Err(Flow::Exit(128 + sig)),
        }
    }

    /// Runs the DEBUG trap (if any) before a command (at the top level, or in
    /// functions under `set -T`); true when `shopt -s extdebug` and a failing trap
    /// say to skip the command.
    pub(crate) fn debug_trap(&mut self, fds: &Fds) -> Result<bool, Flow> {
        let Some(cmd) = self.traps.get("DEBUG").cloned().filter(|c| !c.is_empty()) else {
            return Ok(false);
        };
        if self.in_trap
            || (!self.call_stack.is_empty() && !self.options.others.contains("functrace"))
        {
            return Ok(false);
        }
        let saved = self.status;
        self.in_trap = true;
        let r = self.run_trap_text(&cmd, fds);
        self.in_trap = false;
        let st = r?;
        self.status = saved;
        Ok(st != 0 && self.shopt("extdebug"))
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

    pub(crate) fn run_trap_text(&mut self, text: &str, fds: &Fds) -> ExecResult {
        let hold = self.lineno_hold.replace(self.call_stack.len());
        let r = self.run_trap_text_here(text, fds);
        self.lineno_hold = hold;
        r
    }

    fn run_trap_text_here(&mut self, text: &str, fds: &Fds) -> ExecResult {
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
