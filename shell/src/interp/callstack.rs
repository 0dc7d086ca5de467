//! The function call stack as bash shows it: `FUNCNAME`, `BASH_LINENO`,
//! `BASH_SOURCE` and the `caller` builtin.

use super::{Fds, Shell};

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
    matches!(name, "FUNCNAME" | "BASH_LINENO" | "BASH_SOURCE")
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
}
