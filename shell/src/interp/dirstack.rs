//! The directory stack: `pushd`, `popd` and `dirs`. The stack's top is the working
//! directory; the entries below it are kept here, nearest first.

use super::{ExecResult, Fds, Shell};

impl Shell {
    /// The whole stack, the working directory first.
    pub(crate) fn dir_entries(&self) -> Vec<String> {
        std::iter::once(self.cwd.clone())
            .chain(self.dir_stack.iter().cloned())
            .collect()
    }

    /// `dir` with `$HOME` shown as `~` (unless `long`).
    fn dir_shown(&self, dir: &str, long: bool) -> String {
        let home = self.get("HOME").unwrap_or("").trim_end_matches('/');
        if long || home.is_empty() {
            return dir.to_string();
        }
        if dir == home {
            "~".to_string()
        } else if let Some(rest) = dir.strip_prefix(home).filter(|r| r.starts_with('/')) {
            format!("~{rest}")
        } else {
            dir.to_string()
        }
    }

    /// Changes directory as `cd` does; its status.
    fn dirstack_cd(&mut self, dir: &str, fds: &Fds) -> Result<i32, super::Flow> {
        self.dispatch(
            vec!["cd".to_string(), dir.to_string()],
            Vec::new(),
            fds.clone(),
            false,
        )
    }

    /// `dirs [-clpv] [+N|-N]`.
    pub(crate) fn dirs_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (mut long, mut lines, mut numbered) = (false, false, false);
        let mut pick: Option<&String> = None;
        for a in args {
            match a.as_str() {
                "-c" => {
                    self.dir_stack.clear();
                    return 0;
                }
                "-l" => long = true,
                "-p" => lines = true,
                "-v" => {
                    lines = true;
                    numbered = true;
                }
                s if (s.starts_with('+') || s.starts_with('-'))
                    && s[1..].parse::<usize>().is_ok() =>
                {
                    pick = Some(a)
                }
                s => {
                    fds.error(&format!("dirs: {s}: invalid option"));
                    fds.error("dirs: usage: dirs [-clpv] [+N] [-N]");
                    return 2;
                }
            }
        }
        let entries = self.dir_entries();
        if let Some(p) = pick {
            let n: usize = p[1..].parse().unwrap_or(0);
            let idx = if p.starts_with('+') {
                Some(n)
            } else {
                entries.len().checked_sub(n + 1)
            };
            return match idx.and_then(|i| entries.get(i)) {
                Some(d) => {
                    let line = format!("{}\n", self.dir_shown(d, long));
                    i32::from(fds.handle(1).write_all(line.as_bytes()).is_err())
                }
                None => {
                    fds.error(&format!("dirs: {p}: directory stack index out of range"));
                    1
                }
            };
        }
        self.print_dirs(long, lines, numbered, fds)
    }

    fn print_dirs(&self, long: bool, lines: bool, numbered: bool, fds: &Fds) -> i32 {
        let shown: Vec<String> = self
            .dir_entries()
            .iter()
            .map(|d| self.dir_shown(d, long))
            .collect();
        let text = if numbered {
            shown
                .iter()
                .enumerate()
                .map(|(i, d)| format!("{i:2}  {d}\n"))
                .collect()
        } else if lines {
            shown.iter().map(|d| format!("{d}\n")).collect()
        } else {
            format!("{}\n", shown.join(" "))
        };
        i32::from(fds.handle(1).write_all(text.as_bytes()).is_err())
    }

    /// `pushd [-n] [DIR | +N | -N]`.
    pub(crate) fn pushd_builtin(&mut self, args: &[String], fds: &Fds) -> ExecResult {
        let no_cd = args.iter().any(|a| a == "-n");
        let rest: Vec<&String> = args.iter().filter(|a| *a != "-n").collect();
        match rest.first() {
            None => {
                // Swap the top two entries.
                let Some(next) = self.dir_stack.first().cloned() else {
                    fds.error("pushd: no other directory");
                    return Ok(1);
                };
                let old = self.cwd.clone();
                if !no_cd {
                    let st = self.dirstack_cd(&next, fds)?;
                    if st != 0 {
                        return Ok(st);
                    }
                }
                self.dir_stack[0] = old;
            }
            Some(a)
                if (a.starts_with('+') || a.starts_with('-'))
                    && a[1..].parse::<usize>().is_ok() =>
            {
                // Rotate the stack so that entry N is on top.
                let mut entries = self.dir_entries();
                let n: usize = a[1..].parse().unwrap_or(0);
                let idx = if a.starts_with('+') {
                    Some(n)
                } else {
                    entries.len().checked_sub(n + 1)
                };
                let Some(idx) = idx.filter(|i| *i < entries.len()) else {
                    fds.error(&format!("pushd: {a}: directory stack index out of range"));
                    return Ok(1);
                };
                entries.rotate_left(idx);
                let st = self.dirstack_cd(&entries[0], fds)?;
                if st != 0 {
                    return Ok(st);
                }
                self.dir_stack = entries[1..].to_vec();
            }
            Some(dir) => {
                let old = self.cwd.clone();
                if no_cd {
                    self.dir_stack.insert(0, (*dir).clone());
                } else {
                    let st = self.dirstack_cd(dir, fds)?;
                    if st != 0 {
                        return Ok(st);
                    }
                    self.dir_stack.insert(0, old);
                }
            }
        }
        Ok(self.print_dirs(false, false, false, fds))
    }

    /// `popd [-n] [+N | -N]`.
    pub(crate) fn popd_builtin(&mut self, args: &[String], fds: &Fds) -> ExecResult {
        let no_cd = args.iter().any(|a| a == "-n");
        let rest: Vec<&String> = args.iter().filter(|a| *a != "-n").collect();
        if self.dir_stack.is_empty() {
            fds.error("popd: directory stack empty");
            return Ok(1);
        }
        match rest.first() {
            Some(a)
                if (a.starts_with('+') || a.starts_with('-'))
                    && a[1..].parse::<usize>().is_ok() =>
            {
                let entries = self.dir_entries();
                let n: usize = a[1..].parse().unwrap_or(0);
                let idx = if a.starts_with('+') {
                    Some(n)
                } else {
                    entries.len().checked_sub(n + 1)
                };
                match idx.filter(|i| *i < entries.len()) {
                    Some(0) => return self.popd_builtin(&[], fds),
                    Some(i) => {
                        self.dir_stack.remove(i - 1);
                    }
                    None => {
                        fds.error(&format!("popd: {a}: directory stack index out of range"));
                        return Ok(1);
                    }
                }
            }
            Some(a) => {
                fds.error(&format!("popd: {a}: invalid argument"));
                fds.error("popd: usage: popd [-n] [+N | -N]");
                return Ok(2);
            }
            None if no_cd => {
                self.dir_stack.remove(0);
            }
            None => {
                let top = self.dir_stack[0].clone();
                let st = self.dirstack_cd(&top, fds)?;
                if st != 0 {
                    return Ok(st);
                }
                self.dir_stack.remove(0);
            }
        }
        Ok(self.print_dirs(false, false, false, fds))
    }
}
