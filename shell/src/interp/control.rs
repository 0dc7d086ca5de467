//! Builtins that reach into the interpreter itself (control flow, options,
//! positional parameters, running more shell text), so they cannot live behind
//! the `builtins` crate's small `ShellState` trait.

use super::{ExecResult, Fds, Flow, Shell};
use wsh_runtime::io::OpenOptions;

impl Shell {
    /// Runs `argv` if it names an interpreter builtin.
    pub(crate) fn interp_builtin(&mut self, argv: &[String], fds: &Fds) -> Option<ExecResult> {
        let args = &argv[1..];
        Some(match argv[0].as_str() {
            "break" | "continue" => {
                let n = match args.first().map(|a| a.parse::<i64>()) {
                    None => 1,
                    Some(Ok(n)) if n >= 1 => u32::try_from(n).unwrap_or(u32::MAX),
                    Some(Ok(_)) => {
                        // bash: out of range still leaves (or restarts) the innermost loop.
                        fds.error(&format!(
                            "{}: {}: loop count out of range",
                            argv[0], args[0]
                        ));
                        1
                    }
                    Some(Err(_)) => {
                        // bash: a fatal error in a script (status 128), so a loop
                        // around it cannot spin forever.
                        fds.error(&format!(
                            "{}: {}: numeric argument required",
                            argv[0], args[0]
                        ));
                        return Some(Err(Flow::Exit(128)));
                    }
                };
                if self.loop_depth == 0 {
                    // bash: only meaningful in a loop; a no-op with status 0 elsewhere.
                    fds.error(&format!(
                        "{}: only meaningful in a `for', `while', or `until' loop",
                        argv[0]
                    ));
                    return Some(Ok(0));
                }
                let n = n.min(self.loop_depth);
                Err(if argv[0] == "break" {
                    Flow::Break(n)
                } else {
                    Flow::Continue(n)
                })
            }
            "return" => {
                let s = match args.first().map(|a| a.parse::<i64>()) {
                    None => self.status,
                    Some(Ok(n)) => (n & 0xff) as i32,
                    Some(Err(_)) => {
                        fds.error(&format!("return: {}: numeric argument required", args[0]));
                        2
                    }
                };
                if self.func_depth == 0 {
                    fds.error("return: can only `return' from a function or sourced script");
                    return Some(Ok(2));
                }
                Err(Flow::Return(s))
            }
            "shift" => {
                let n = match args.first().map(|a| a.parse::<usize>()) {
                    None => 1,
                    Some(Ok(n)) => n,
                    Some(Err(_)) => {
                        fds.error(&format!("shift: {}: numeric argument required", args[0]));
                        return Some(Ok(1));
                    }
                };
                if n > self.positional.len() {
                    return Some(Ok(1));
                }
                self.positional.drain(..n);
                Ok(0)
            }
            "set" => self.set_builtin(args, fds),
            "eval" => {
                let text = args.join(" ");
                match Shell::parse(&text) {
                    Ok(prog) => {
                        // The text's lines count from the line `eval` is on.
                        let base =
                            std::mem::replace(&mut self.line_base, self.lineno.saturating_sub(1));
                        let r = self.run_program_inner(&prog, fds);
                        self.line_base = base;
                        r
                    }
                    Err(e) => {
                        fds.error(&e.to_string());
                        Ok(2)
                    }
                }
            }
            "." | "source" => {
                let Some(file) = args.first() else {
                    fds.error(&format!("{}: filename argument required", argv[0]));
                    return Some(Ok(2));
                };
                let at_fd = super::redirect::dev_fd(file).and_then(|n| fds.get(n).cloned());
                let text = match at_fd {
                    Some(h) => h.read_to_end().map_err(|e| e.to_string()),
                    None => self
                        .sys
                        .open(
                            &self.cwd,
                            file,
                            OpenOptions {
                                read: true,
                                ..Default::default()
                            },
                        )
                        .map_err(|e| e.0)
                        .and_then(|h| h.read_to_end().map_err(|e| e.to_string())),
                };
                let text = match text {
                    Ok(t) => String::from_utf8_lossy(&t).into_owned(),
                    Err(e) => {
                        fds.error(&format!("{file}: {e}"));
                        return Some(Ok(1));
                    }
                };
                match Shell::parse(&text) {
                    Ok(prog) => {
                        let caller_args = self.positional.clone();
                        let saved = (!args[1..].is_empty())
                            .then(|| std::mem::replace(&mut self.positional, args[1..].to_vec()));
                        self.func_depth += 1;
                        // bash gives a sourced file a `source` frame of its own.
                        self.call_stack.push(super::callstack::Frame {
                            func: "source".into(),
                            call_line: self.lineno,
                            file: file.clone(),
                            args: if args.len() > 1 {
                                args[1..].to_vec()
                            } else {
                                vec![args[0].clone()]
                            },
                            caller_args,
                            shown: args.len() == 1,
                        });
                        let outer = self.sourcing.replace(file.clone());
                        let saved_line = self.lineno;
                        let base = std::mem::replace(&mut self.line_base, 0);
                        let r = self.run_program_inner(&prog, fds);
                        self.line_base = base;
                        self.sourcing = outer;
                        self.lineno = saved_line;
                        self.call_stack.pop();
                        self.func_depth -= 1;
                        if let Some(p) = saved {
                            self.positional = p;
                        }
                        let r = match r {
                            Err(Flow::Return(s)) => Ok(s),
                            other => other,
                        };
                        // The RETURN trap runs when a sourced file is done.
                        if let Some(t) = self.traps.get("RETURN").cloned().filter(|t| !t.is_empty())
                            && !self.in_trap
                        {
                            let saved = self.status;
                            self.in_trap = true;
                            let _ = self.run_trap_text(&t, fds);
                            self.in_trap = false;
                            self.status = saved;
                        }
                        r
                    }
                    Err(e) => {
                        fds.error(&format!("{file}: {e}"));
                        Ok(2)
                    }
                }
            }
            _ => return self.state_builtin(argv, fds),
        })
    }

    /// Runs a program inside the current command (eval, source): flows propagate.
    pub(crate) fn run_program_inner(
        &mut self,
        prog: &brush_parser::ast::Program,
        fds: &Fds,
    ) -> ExecResult {
        let mut status = 0;
        let start_gen = self.exec_gen;
        for cmd in &prog.complete_commands {
            // `exec REDIRS` earlier in this text applies to the rest of it.
            let cur = self.exec_fds.clone().filter(|_| self.exec_gen != start_gen);
            status = self.run_list(cmd, cur.as_ref().unwrap_or(fds))?;
        }
        Ok(status)
    }

    /// `set [-eux] [+eux] [-o NAME] [--] [ARGS]`.
    /// `set` with no arguments: every variable with a value, quoted to be read back.
    pub(crate) fn print_variables(&self, fds: &Fds) -> i32 {
        let mut names: Vec<(&String, &str)> = self
            .vars
            .iter()
            .filter_map(|(k, v)| Some((k, v.value.as_deref()?)))
            .collect();
        names.sort();
        let text: String = names
            .iter()
            .map(|(k, v)| format!("{k}={}\n", shell_quote(v)))
            .collect();
        i32::from(fds.handle(1).write_all(text.as_bytes()).is_err())
    }
}

/// Quotes a value for `set` output so it can be read back.
fn shell_quote(v: &str) -> String {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:,=+@%".contains(c))
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}
