//! The function call stack as bash shows it: `FUNCNAME`, `BASH_LINENO`,
//! `BASH_SOURCE` and the `caller` builtin; calling functions (frames, `set -T` traps).

use brush_parser::ast;

use super::{ExecResult, Fds, Flow, Shell};

/// One running function.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    /// The name it was called by.
    pub func: String,
    /// The line it was called from.
    pub call_line: usize,
    /// Its `BASH_SOURCE` entry: the file the function was defined in, or the file
    /// a `source` frame reads.
    pub file: String,
    /// Its arguments as `BASH_ARGV` shows them (a `source` without arguments: the file).
    pub args: Vec<String>,
    /// The caller's positional parameters (the outermost frame's are the shell's own).
    pub caller_args: Vec<String>,
    /// Whether `BASH_ARGV` shows the frame without `shopt -s extdebug` (bash: only
    /// a `source` without arguments).
    pub shown: bool,
}

/// Where the shell's text comes from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// Commands read from stdin (bash calls their source `main`).
    Stdin,
    /// `-c` text (bash: `environment`).
    Command,
    /// A script file: bash adds a `main` frame for it.
    Script(String),
}

impl Source {
    /// The name `BASH_SOURCE` gives what was defined in this source.
    pub(crate) fn label(&self) -> &str {
        match self {
            Source::Stdin => "main",
            Source::Command => "environment",
            Source::Script(p) => p,
        }
    }
}

/// Whether `name` is one of the call-stack arrays.
pub(crate) fn is_stack_var(name: &str) -> bool {
    matches!(
        name,
        "FUNCNAME" | "BASH_LINENO" | "BASH_SOURCE" | "BASH_ARGV" | "BASH_ARGC"
    )
}

impl Shell {
    /// The file the running text comes from: the innermost `source`d file, or the
    /// shell's own source.
    pub(crate) fn current_file(&self) -> String {
        match &self.sourcing {
            Some(f) => f.clone(),
            None => self.source.label().to_string(),
        }
    }

    /// The elements of `FUNCNAME`, `BASH_LINENO` or `BASH_SOURCE`, innermost first.
    pub(crate) fn stack_var(&self, name: &str) -> Vec<String> {
        let script = match &self.source {
            Source::Script(p) => Some(p.as_str()),
            _ => None,
        };
        let frames = self.call_stack.iter().rev();
        if matches!(name, "BASH_ARGV" | "BASH_ARGC") {
            return self.arg_stack(name == "BASH_ARGV");
        }
        match name {
            "FUNCNAME" if self.call_stack.is_empty() => Vec::new(),
            "FUNCNAME" => frames
                .map(|f| f.func.clone())
                .chain(script.map(|_| "main".to_string()))
                .collect(),
            "BASH_LINENO" if self.call_stack.is_empty() => Vec::new(),
            "BASH_LINENO" => frames
                .map(|f| f.call_line.to_string())
                .chain(script.map(|_| "0".to_string()))
                .collect(),
            _ => frames
                .map(|f| f.file.clone())
                .chain(script.map(str::to_string))
                .collect(),
        }
    }

    /// `BASH_ARGV` (`argv`) or `BASH_ARGC`. bash keeps a frame of arguments for the
    /// shell itself and each sourced file; for function calls only under `shopt -s
    /// extdebug` (without it, both arrays are empty inside a function).
    fn arg_stack(&self, argv: bool) -> Vec<String> {
        let debug = self.shopts.contains("extdebug");
        if !debug && self.call_stack.iter().any(|f| f.func != "source") {
            return Vec::new();
        }
        let top = match self.call_stack.first() {
            Some(f) => &f.caller_args,
            None => &self.positional,
        };
        let frames = std::iter::once(top).chain(
            self.call_stack
                .iter()
                .filter(|f| debug || f.shown)
                .map(|f| &f.args),
        );
        let frames: Vec<&Vec<String>> = frames.collect();
        if argv {
            frames
                .iter()
                .rev()
                .flat_map(|a| a.iter().rev().cloned())
                .collect()
        } else {
            frames.iter().rev().map(|a| a.len().to_string()).collect()
        }
    }

    /// A call-stack array as a variable, for `declare -p`.
    pub(crate) fn stack_var_as_var(&self, name: &str) -> super::Var {
        let items = self.stack_var(name);
        super::Var {
            // bash lists an empty FUNCNAME as declared only; the argument arrays as `=()`.
            declared: items.is_empty() && !matches!(name, "BASH_ARGV" | "BASH_ARGC"),
            array: Some(super::vars::Array::Indexed((0..).zip(items).collect())),
            ..Default::default()
        }
    }

    /// `caller [N]`: the line, function and file of the Nth enclosing call.
    pub(crate) fn caller_builtin(&self, args: &[String], fds: &Fds) -> i32 {
        if self.call_stack.is_empty() {
            // bash: a script's top level is the `main` frame, called from line 0.
            if matches!(self.source, Source::Script(_)) && args.is_empty() {
                return i32::from(fds.handle(1).write_all(b"0 NULL\n").is_err());
            }
            return 1;
        }
        let lines = self.stack_var("BASH_LINENO");
        let funcs = self.stack_var("FUNCNAME");
        let sources = self.stack_var("BASH_SOURCE");
        let line = match args.first() {
            None => {
                let file = sources.get(1).map_or("NULL", String::as_str);
                format!("{} {file}\n", lines[0])
            }
            Some(n) => {
                let Ok(n) = n.parse::<usize>() else {
                    fds.error(&format!("caller: {n}: invalid number"));
                    return 2;
                };
                match (lines.get(n), funcs.get(n + 1), sources.get(n + 1)) {
                    (Some(l), Some(f), Some(s)) => format!("{l} {f} {s}\n"),
                    _ => return 1,
                }
            }
        };
        i32::from(fds.handle(1).write_all(line.as_bytes()).is_err())
    }

    /// Runs a function: its own positional parameters, locals, frame and traps.
    pub(crate) fn call_function(
        &mut self,
        body: &ast::FunctionBody,
        argv: &[String],
        fds: &Fds,
    ) -> ExecResult {
        let limit = self.funcnest();
        if self.func_depth >= limit {
            // bash: the error abandons the whole complete command, with status 1.
            fds.error(&format!(
                "{}: maximum function nesting level exceeded ({limit})",
                argv[0]
            ));
            return Err(Flow::Abort(1));
        }
        let saved = std::mem::replace(&mut self.positional, argv[1..].to_vec());
        self.func_depth += 1;
        // bash: a function body does not see the caller's loops (break there is an error).
        let saved_loops = std::mem::replace(&mut self.loop_depth, 0);
        let file = self
            .func_sources
            .get(&argv[0])
            .cloned()
            .unwrap_or_else(|| self.source.label().to_string());
        self.call_stack.push(super::callstack::Frame {
            func: argv[0].clone(),
            call_line: self.lineno,
            file,
            args: argv[1..].to_vec(),
            caller_args: saved.clone(),
            shown: false,
        });
        self.locals.push(Vec::new());
        // A body's lines are those of the text it was defined in.
        let base = std::mem::replace(&mut self.line_base, 0);
        let list: Vec<&ast::IoRedirect> = body.1.iter().flat_map(|r| r.0.iter()).collect();
        let r = match self.apply_redirects(&list, fds) {
            Ok(f) => self.function_body(&body.0, &f),
            Err(e) => super::exec::fail(e),
        };
        self.pop_locals();
        self.line_base = base;
        self.loop_depth = saved_loops;
        self.call_stack.pop();
        self.func_depth -= 1;
        self.positional = saved;
        match r {
            Err(Flow::Return(s)) => Ok(s),
            other => other,
        }
    }

    /// A function's body between the traps `set -T` gives functions: DEBUG on entry
    /// (still naming the call) and RETURN when it is done.
    fn function_body(&mut self, body: &ast::CompoundCommand, fds: &Fds) -> ExecResult {
        let traced = self.options.others.contains("functrace") && !self.in_trap;
        if traced && self.debug_trap(fds)? {
            return Ok(self.status);
        }
        let r = self.run_compound(body, fds);
        if traced && let Some(t) = self.traps.get("RETURN").cloned().filter(|t| !t.is_empty()) {
            if let Ok(s) | Err(Flow::Return(s)) = r {
                self.status = s;
            }
            let saved = self.status;
            self.in_trap = true;
            let t = self.run_trap_text(&t, fds);
            self.in_trap = false;
            self.status = saved;
            t?;
        }
        r
    }
}
