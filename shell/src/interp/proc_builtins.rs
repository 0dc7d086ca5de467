//! Builtins about the shell as a process: umask, hash, times, and `sh`/`bash`
//! (scripts run by this same interpreter in a fresh shell, as a child process would).

use super::path::Lookup;
use super::{Fds, Shell, Var};
use wsh_runtime::io::OpenOptions;

/// The mask a new shell starts with (as bash and the runtime's guests do).
pub(crate) const DEFAULT_UMASK: u32 = 0o022;

/// Applies one symbolic clause list (`u=rwx,g+w,o-x`) to the permission bits
/// `perm` (the complement of the mask); `None` when the text is not a mode.
fn apply_symbolic(mut perm: u32, text: &str) -> Option<u32> {
    for clause in text.split(',') {
        let op_at = clause.find(['+', '-', '='])?;
        let (who_text, rest) = clause.split_at(op_at);
        let mut who = 0;
        for c in who_text.chars() {
            who |= match c {
                'u' => 0o700,
                'g' => 0o070,
                'o' => 0o007,
                'a' => 0o777,
                _ => return None,
            };
        }
        if who == 0 {
            who = 0o777;
        }
        let op = rest.chars().next()?;
        let mut bits = 0;
        for c in rest[1..].chars() {
            bits |= match c {
                'r' => 0o444,
                'w' => 0o222,
                'x' => 0o111,
                _ => return None,
            };
        }
        let bits = bits & who;
        perm = match op {
            '+' => perm | bits,
            '-' => perm & !bits,
            _ => (perm & !who) | bits,
        };
    }
    Some(perm)
}

/// `u=rwx,g=rx,o=rx` for a mask.
fn symbolic(mask: u32) -> String {
    let perm = !mask & 0o777;
    let part = |shift: u32| {
        let p = (perm >> shift) & 7;
        let mut s = String::new();
        for (bit, c) in [(4, 'r'), (2, 'w'), (1, 'x')] {
            if p & bit != 0 {
                s.push(c);
            }
        }
        s
    };
    format!("u={},g={},o={}", part(6), part(3), part(0))
}

/// `NmN.NNNs`, as `times` prints a duration.
fn minutes(d: libc::timeval) -> String {
    let secs = d.tv_sec as f64 + d.tv_usec as f64 / 1e6;
    let m = (secs / 60.0).floor();
    format!("{}m{:.3}s", m as u64, secs - m * 60.0)
}

/// User and system CPU time of `who` (RUSAGE_SELF or RUSAGE_CHILDREN).
fn usage(who: libc::c_int) -> (String, String) {
    // SAFETY: getrusage only writes into the zeroed struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return ("0m0.000s".into(), "0m0.000s".into());
    }
    (minutes(ru.ru_utime), minutes(ru.ru_stime))
}

impl Shell {
    /// `umask [-p] [-S] [MODE]`.
    pub(crate) fn umask_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (mut sym, mut reusable) = (false, false);
        let mut rest = args;
        while let Some(a) = rest.first() {
            if a == "--" {
                rest = &rest[1..];
                break;
            }
            if a.len() < 2 || !a.starts_with('-') || !a[1..].chars().all(|c| "pS".contains(c)) {
                break;
            }
            sym |= a.contains('S');
            reusable |= a.contains('p');
            rest = &rest[1..];
        }
        let Some(mode) = rest.first() else {
            let text = match (sym, reusable) {
                (true, true) => format!("umask -S {}\n", symbolic(self.umask)),
                (true, false) => format!("{}\n", symbolic(self.umask)),
                (false, true) => format!("umask {:04o}\n", self.umask),
                (false, false) => format!("{:04o}\n", self.umask),
            };
            return i32::from(fds.handle(1).write_all(text.as_bytes()).is_err());
        };
        if mode.starts_with(|c: char| c.is_ascii_digit()) {
            match u32::from_str_radix(mode, 8) {
                Ok(m) if m <= 0o777 => self.umask = m,
                _ => {
                    fds.error(&format!("umask: {mode}: octal number out of range"));
                    return 1;
                }
            }
        } else {
            match apply_symbolic(!self.umask & 0o777, mode) {
                Some(perm) => self.umask = !perm & 0o777,
                None => {
                    fds.error(&format!("umask: `{mode}': invalid symbolic mode operator"));
                    return 1;
                }
            }
        }
        if sym {
            let text = format!("{}\n", symbolic(self.umask));
            return i32::from(fds.handle(1).write_all(text.as_bytes()).is_err());
        }
        0
    }

    /// Counts one run of `name` found on PATH at `path` (what `hash` lists).
    pub(crate) fn remember_program(&mut self, name: &str, path: &str) {
        if name.contains('/') {
            return;
        }
        let e = self
            .hashed
            .entry(name.to_string())
            .or_insert((0, String::new()));
        if e.1 != path {
            *e = (0, path.to_string());
        }
        e.0 += 1;
    }

    /// `hash [-r] [NAME...]`: lists or fills the table of remembered program paths.
    pub(crate) fn hash_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (mut reset, mut delete, mut show, mut list) = (false, false, false, false);
        let mut path: Option<String> = None;
        let mut g = super::getopt::Getopt::new(args, "p");
        for opt in g.by_ref() {
            match opt {
                Ok(('r', _)) => reset = true,
                Ok(('d', _)) => delete = true,
                Ok(('t', _)) => show = true,
                Ok(('l', _)) => list = true,
                Ok(('p', v)) => path = v,
                Ok((c, _)) => {
                    fds.error(&format!("hash: -{c}: invalid option"));
                    fds.error("hash: usage: hash [-lr] [-p pathname] [-dt] [name ...]");
                    return 2;
                }
                Err(c) => {
                    fds.error(&format!("hash: -{c}: option requires an argument"));
                    return 2;
                }
            }
        }
        let names = g.operands();
        if reset {
            self.hashed.clear();
        }
        if let Some(p) = path {
            for n in names {
                self.hashed.insert(n.clone(), (0, p.clone()));
            }
            return 0;
        }
        let mut st = 0;
        if delete || show {
            let mut out = String::new();
            for n in names {
                let found = if delete {
                    self.hashed.remove(n).is_some()
                } else if let Some((_, p)) = self.hashed.get(n) {
                    if list {
                        out.push_str(&format!("builtin hash -p {p} {n}\n"));
                    } else if names.len() > 1 {
                        out.push_str(&format!("{n}\t{p}\n"));
                    } else {
                        out.push_str(&format!("{p}\n"));
                    }
                    true
                } else {
                    false
                };
                if !found {
                    fds.error(&format!("hash: {n}: not found"));
                    st = 1;
                }
            }
            let _ = fds.handle(1).write_all(out.as_bytes());
            return st;
        }
        if names.is_empty() {
            if reset {
                return 0;
            }
            if self.hashed.is_empty() {
                let _ = fds.handle(1).write_all(b"hash: hash table empty\n");
                return 0;
            }
            let mut out = if list {
                String::new()
            } else {
                String::from("hits\tcommand\n")
            };
            for (n, (hits, path)) in &self.hashed {
                if list {
                    out.push_str(&format!("builtin hash -p {path} {n}\n"));
                } else {
                    out.push_str(&format!("{hits:4}\t{path}\n"));
                }
            }
            return i32::from(fds.handle(1).write_all(out.as_bytes()).is_err());
        }
        for n in names {
            if n.contains('/') || super::commands::INTERP_BUILTINS.contains(&n.as_str()) {
                continue;
            }
            match self.find_program(n) {
                Lookup::Found(p) => {
                    self.hashed.insert(n.clone(), (0, p));
                }
                _ if builtins::lookup(n).is_some() => {}
                _ => {
                    // What cannot be found is forgotten (`hash -p` put it there).
                    self.hashed.remove(n);
                    fds.error(&format!("hash: {n}: not found"));
                    st = 1;
                }
            }
        }
        st
    }

    /// `times`: CPU time of the shell and of its children (guests run on threads of
    /// this process, so their time is the shell's).
    pub(crate) fn times_builtin(&mut self, fds: &Fds) -> i32 {
        let (su, ss) = usage(libc::RUSAGE_SELF);
        let (cu, cs) = usage(libc::RUSAGE_CHILDREN);
        let text = format!("{su} {ss}\n{cu} {cs}\n");
        i32::from(fds.handle(1).write_all(text.as_bytes()).is_err())
    }

    /// Shares the REPL's Ctrl-C flag: while it is set, commands stop running.
    pub fn set_interrupt_flag(&mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        self.interrupt = Some(flag);
    }

    /// Records a line typed at the prompt, for the `history` builtin.
    pub fn add_history(&mut self, line: &str) {
        self.history.push(line.trim_end_matches('\n').to_string());
    }

    /// A fresh shell as a child process would start: the exported variables, the
    /// cwd and the umask, but no functions, traps or unexported variables.
    fn child_shell(&self, extra_env: Vec<(String, String)>) -> Shell {
        let mut sub = Shell::new(self.sys.clone());
        // The login defaults give way to the environment; the shell's own unexported
        // variables (IFS, OPTIND, BASH_VERSION...) stay.
        sub.vars.retain(|_, v| !v.exported);
        for (k, v) in self.environment().into_iter().chain(extra_env) {
            sub.vars.insert(
                k,
                Var {
                    value: Some(v),
                    exported: true,
                    ..Var::default()
                },
            );
        }
        // Each shell started counts one level deeper.
        let level = sub
            .get("SHLVL")
            .and_then(|l| l.parse::<i64>().ok())
            .unwrap_or(0);
        sub.vars.insert(
            "SHLVL".into(),
            Var {
                value: Some((level + 1).max(0).to_string()),
                exported: true,
                ..Var::default()
            },
        );
        sub.cwd = self.cwd.clone();
        sub.umask = self.umask;
        sub.kill_signal = self.kill_signal.clone();
        sub
    }

    /// `sh`/`bash [-eux] [-o OPT] (-c LINE [NAME ARGS...] | SCRIPT [ARGS...])`, or the
    /// script on stdin: runs with this interpreter in a fresh shell with `extra_env`
    /// (the command's prefix assignments) added to its environment.
    pub(crate) fn sh_builtin(
        &mut self,
        argv: &[String],
        extra_env: Vec<(String, String)>,
        fds: &Fds,
    ) -> i32 {
        let mut sub = self.child_shell(extra_env);
        let mut set_args = Vec::new();
        let mut shopt_args: Vec<[String; 2]> = Vec::new();
        let (mut command, mut from_stdin) = (false, false);
        let mut i = 1;
        while i < argv.len() {
            let a = &argv[i];
            if a == "--" || a == "-" {
                i += 1;
                break;
            }
            if let Some(long) = a.strip_prefix("--") {
                match long {
                    "norc" | "noprofile" | "noediting" | "login" | "verbose" => {}
                    "posix" => set_args.extend(["-o".to_string(), "posix".to_string()]),
                    "rcfile" | "init-file" => i += 1,
                    _ => {
                        fds.error(&format!("{}: {a}: invalid option", argv[0]));
                        return 2;
                    }
                }
                i += 1;
                continue;
            }
            if a.len() < 2 || !(a.starts_with('-') || a.starts_with('+')) {
                break;
            }
            let on = a.starts_with('-');
            i += 1;
            let mut flags = String::new();
            for c in a[1..].chars() {
                match c {
                    'c' if on => command = true,
                    's' if on => from_stdin = true,
                    // Interactive and login shells: their startup files are not read here.
                    'i' | 'l' | 'r' => {}
                    'o' | 'O' => {
                        let Some(name) = argv.get(i).cloned() else {
                            fds.error(&format!("{}: -{c}: option requires an argument", argv[0]));
                            return 2;
                        };
                        i += 1;
                        if c == 'o' {
                            set_args.extend([format!("{}o", &a[..1]), name]);
                        } else {
                            shopt_args.push([if on { "-s" } else { "-u" }.to_string(), name]);
                        }
                    }
                    _ => flags.push(c),
                }
            }
            if !flags.is_empty() {
                set_args.push(format!("{}{flags}", &a[..1]));
            }
        }
        if !set_args.is_empty()
            && let Ok(s) | Err(super::Flow::Exit(s)) = sub.set_builtin(&set_args, fds)
            && s != 0
        {
            return s;
        }
        for a in &shopt_args {
            let s = sub.shopt_builtin(a, fds);
            if s != 0 {
                return 2;
            }
        }
        let rest = &argv[i..];
        let text = if command {
            let Some(line) = rest.first() else {
                fds.error(&format!("{}: -c: option requires an argument", argv[0]));
                return 2;
            };
            let arg0 = rest.get(1).cloned().unwrap_or_else(|| argv[0].clone());
            sub.source = super::callstack::Source::Command;
            sub.set_args(arg0, rest.iter().skip(2).cloned().collect());
            line.clone()
        } else if let Some(script) = rest.first().filter(|_| !from_stdin) {
            let opts = OpenOptions {
                read: true,
                ..Default::default()
            };
            let read = self
                .sys
                .open(&self.cwd, script, opts)
                .map_err(|e| e.0)
                .and_then(|h| h.read_to_end().map_err(|e| e.to_string()));
            match read {
                Ok(t) => {
                    sub.set_args(script.clone(), rest[1..].to_vec());
                    sub.source = super::callstack::Source::Script(script.clone());
                    String::from_utf8_lossy(&t).into_owned()
                }
                Err(e) => {
                    fds.error(&format!("{script}: {e}"));
                    return 127;
                }
            }
        } else {
            sub.set_args(argv[0].clone(), rest.to_vec());
            match fds.handle(0).read_to_end() {
                Ok(t) => String::from_utf8_lossy(&t).into_owned(),
                Err(e) => {
                    fds.error(&format!("{}: {e}", argv[0]));
                    return 1;
                }
            }
        };
        sub.run_text(&text, fds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbolic_modes_follow_bash() {
        assert_eq!(symbolic(0o022), "u=rwx,g=rx,o=rx");
        assert_eq!(symbolic(0o077), "u=rwx,g=,o=");
        assert_eq!(apply_symbolic(0o700, "g+w"), Some(0o720));
        assert_eq!(apply_symbolic(0o755, "u=rwx,g=rx,o="), Some(0o750));
        assert_eq!(apply_symbolic(0o755, "a-x"), Some(0o644));
        assert_eq!(apply_symbolic(0o755, "q+r"), None);
    }
}
