//! The history list and its builtins: `history` (list, `-c`, `-d`, `-s`, `-a`, `-w`,
//! `-r`) and `fc` (`-l` listings, `-s` re-execution). The REPL adds the lines typed;
//! a script run with `set -o history` adds each command before it runs, as bash does.

use super::{ExecResult, Fds, Shell};
use wsh_runtime::io::OpenOptions;

impl Shell {
    /// Adds `text` (a command about to run) to the history when `set -o history` is on.
    pub(crate) fn record_history(&mut self, text: &str) {
        if self.options.others.contains("history") {
            let line = text.trim().trim_end_matches(';').trim_end();
            if !line.is_empty() {
                self.history.push(line.to_string());
            }
        }
    }

    /// `$HISTFILE`, or bash's default `~/.bash_history`.
    fn histfile(&self) -> String {
        match self.get("HISTFILE") {
            Some(f) => f.to_string(),
            None => format!("{}/.bash_history", self.get("HOME").unwrap_or("")),
        }
    }

    /// Writes `lines` to `file` (appending or replacing).
    fn write_history(&self, file: &str, lines: &[String], append: bool) -> Result<(), String> {
        let opts = OpenOptions {
            write: true,
            create: true,
            truncate: !append,
            append,
            ..Default::default()
        };
        let h = self.sys.open(&self.cwd, file, opts).map_err(|e| e.0)?;
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        h.write_all(text.as_bytes()).map_err(|e| e.to_string())
    }

    /// `history [N]`, `history -c`, `-d OFFSET`, `-s ARGS`, `-a`/`-w`/`-r [FILE]`.
    pub(crate) fn history_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        match args.first().map(String::as_str) {
            Some("-c") => {
                self.history.clear();
                self.history_appended = 0;
                return 0;
            }
            Some("-d") => {
                let Some(off) = args.get(1) else {
                    fds.error("history: -d: option requires an argument");
                    return 2;
                };
                let n = self.history.len() as i64;
                let idx = match off.parse::<i64>() {
                    Ok(o) if o < 0 && n + o >= 0 => n + o,
                    Ok(o) if o > 0 && o <= n => o - 1,
                    _ => {
                        fds.error(&format!("history: {off}: history position out of range"));
                        return 1;
                    }
                };
                self.history.remove(idx as usize);
                return 0;
            }
            Some("-s") => {
                // The `history -s` line itself is replaced by the arguments.
                self.history.pop();
                self.history.push(args[1..].join(" "));
                return 0;
            }
            Some(op @ ("-a" | "-w" | "-r")) => {
                let file = args.get(1).cloned().unwrap_or_else(|| self.histfile());
                let r = match op {
                    "-w" => {
                        let all = self.history.clone();
                        self.history_appended = all.len();
                        self.write_history(&file, &all, false)
                    }
                    "-a" => {
                        let new =
                            self.history[self.history_appended.min(self.history.len())..].to_vec();
                        self.history_appended = self.history.len();
                        self.write_history(&file, &new, true)
                    }
                    _ => self
                        .sys
                        .open(
                            &self.cwd,
                            &file,
                            OpenOptions {
                                read: true,
                                ..Default::default()
                            },
                        )
                        .map_err(|e| e.0)
                        .and_then(|h| h.read_to_end().map_err(|e| e.to_string()))
                        .map(|t| {
                            let text = String::from_utf8_lossy(&t).into_owned();
                            self.history.extend(text.lines().map(str::to_string));
                        }),
                };
                return match r {
                    Ok(()) => 0,
                    Err(e) => {
                        fds.error(&format!("history: {file}: {e}"));
                        1
                    }
                };
            }
            _ => {}
        }
        let count = match args {
            [] => self.history.len(),
            [n] => match n.parse::<usize>() {
                Ok(n) => n.min(self.history.len()),
                Err(_) => {
                    fds.error(&format!("history: {n}: numeric argument required"));
                    return 1;
                }
            },
            _ => {
                fds.error("history: too many arguments");
                return 1;
            }
        };
        let first = self.history.len() - count;
        let text: String = self.history[first..]
            .iter()
            .enumerate()
            .map(|(i, line)| format!("{:5}  {line}\n", first + i + 1))
            .collect();
        i32::from(fds.handle(1).write_all(text.as_bytes()).is_err())
    }

    /// The index (0-based) an `fc` argument names among the first `n` entries: a
    /// number (negative: back from the end), or the latest entry starting with it.
    fn fc_index(&self, spec: &str, n: usize) -> Option<usize> {
        if n == 0 {
            return None;
        }
        match spec.parse::<i64>() {
            Ok(0) => Some(n - 1),
            Ok(k) if k < 0 => Some((n as i64 + k).max(0) as usize),
            Ok(k) => Some((k as usize).clamp(1, n) - 1),
            Err(_) => self.history[..n].iter().rposition(|l| l.starts_with(spec)),
        }
    }

    /// `fc -l [-nr] [FIRST [LAST]]`, `fc -s [OLD=NEW] [COMMAND]`.
    pub(crate) fn fc_builtin(&mut self, args: &[String], fds: &Fds) -> ExecResult {
        let (mut list, mut numbers, mut reverse, mut redo) = (false, true, false, false);
        let mut i = 0;
        while let Some(a) = args.get(i) {
            let Some(letters) = a
                .strip_prefix('-')
                .filter(|l| !l.is_empty() && l.chars().all(|c| "lnrs".contains(c)))
            else {
                break;
            };
            for c in letters.chars() {
                match c {
                    'l' => list = true,
                    'n' => numbers = false,
                    'r' => reverse = true,
                    _ => redo = true,
                }
            }
            i += 1;
        }
        let rest = &args[i..];
        // The `fc` command itself (the last entry) is not one it works on.
        let n = self.history.len().saturating_sub(1);
        if redo {
            let (subst, rest) = match rest.first() {
                Some(a) if a.contains('=') => (a.split_once('='), &rest[1..]),
                _ => (None, rest),
            };
            let idx = match rest.first() {
                Some(s) => self.fc_index(s, n),
                None => n.checked_sub(1),
            };
            let Some(idx) = idx else {
                fds.error("fc: no command found");
                return Ok(1);
            };
            let mut cmd = self.history[idx].clone();
            if let Some((old, new)) = subst
                && !old.is_empty()
            {
                cmd = cmd.replace(old, new);
            }
            let _ = fds.handle(2).write_all(format!("{cmd}\n").as_bytes());
            self.history.pop();
            self.history.push(cmd.clone());
            return match Shell::parse(&cmd) {
                Ok(prog) => self.run_program_inner(&prog, fds),
                Err(e) => {
                    fds.error(&e.to_string());
                    Ok(2)
                }
            };
        }
        if !list {
            fds.error("fc: editing history is not supported; use fc -l or fc -s");
            return Ok(2);
        }
        if n == 0 {
            return Ok(0);
        }
        let first = match rest.first() {
            Some(s) => self.fc_index(s, n),
            None => Some(n.saturating_sub(16)),
        };
        // One argument lists from there to the latest entry.
        let last = match rest.get(1) {
            Some(s) => self.fc_index(s, n),
            None => Some(n - 1),
        };
        let (Some(mut a), Some(mut b)) = (first, last) else {
            fds.error("fc: history specification out of range");
            return Ok(1);
        };
        if a > b {
            std::mem::swap(&mut a, &mut b);
            reverse = !reverse;
        }
        let mut rows: Vec<usize> = (a..=b).collect();
        if reverse {
            rows.reverse();
        }
        let text: String = rows
            .into_iter()
            .map(|k| {
                if numbers {
                    format!("{}\t {}\n", k + 1, self.history[k])
                } else {
                    format!("\t {}\n", self.history[k])
                }
            })
            .collect();
        Ok(i32::from(fds.handle(1).write_all(text.as_bytes()).is_err()))
    }
}
