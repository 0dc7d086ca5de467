//! Program files that are not WebAssembly: `#!` scripts and plain shell
//! scripts, run as execve(2) and bash's ENOEXEC fallback would run them.
//!
//! The runtime only runs modules; when it refuses a file (not a module, or not
//! in the image because it lives on a host mount), the interpreter looks at its
//! first line here. `sh`/`bash` interpreters are this interpreter; any other
//! `#!` interpreter is started as a program with the script's path after it.

use wsh_runtime::io::OpenOptions;

use super::{ExecResult, Fds, Shell};

/// How many nested `#!` interpreters are followed (Linux allows 4).
const MAX_DEPTH: usize = 4;

/// What a program file is, judged by its first bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ScriptKind {
    /// `#!INTERP [ARG]`: the kernel's rule — one optional argument, the rest of the line.
    Shebang { interp: String, arg: Option<String> },
    /// Text without `#!`: bash runs it as a shell script.
    Shell,
    /// Neither (bash: "cannot execute binary file").
    Binary,
}

/// Classifies a file from its first bytes.
pub(crate) fn classify(head: &[u8]) -> ScriptKind {
    let first_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    if let Some(rest) = first_line.strip_prefix(b"#!") {
        let line = String::from_utf8_lossy(rest);
        let line = line.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r');
        let (interp, arg) = match line.split_once([' ', '\t']) {
            Some((i, a)) => (i, Some(a.trim().to_string()).filter(|a| !a.is_empty())),
            None => (line, None),
        };
        if interp.is_empty() {
            return ScriptKind::Shell;
        }
        return ScriptKind::Shebang {
            interp: interp.to_string(),
            arg,
        };
    }
    // bash's test: a NUL before the first newline means a binary file.
    if first_line.contains(&0) {
        ScriptKind::Binary
    } else {
        ScriptKind::Shell
    }
}

fn is_shell(name: &str) -> bool {
    matches!(name.rsplit('/').next(), Some("sh" | "bash"))
}

impl Shell {
    /// Runs `path` (the file found for `argv[0]`) as a script if it is one;
    /// `None` when it is not (the caller reports the runtime's error).
    pub(crate) fn run_as_script(
        &mut self,
        path: &str,
        argv: &[String],
        values: Vec<(String, String)>,
        fds: &Fds,
        depth: usize,
    ) -> Option<ExecResult> {
        let opts = OpenOptions {
            read: true,
            ..Default::default()
        };
        let handle = self.sys.open(&self.cwd, path, opts).ok()?;
        let mut head = [0u8; 256];
        let mut got = 0;
        while got < head.len() {
            match handle.read(&mut head[got..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        drop(handle);
        // The script is named as bash found it: as typed, or `PATH-entry/name`
        // (execve passes that path on to the interpreter).
        let name = &argv[0];
        let script = if name.contains('/') {
            name.clone()
        } else {
            let search = self.get("PATH").unwrap_or(super::DEFAULT_PATH).to_string();
            search
                .split(':')
                .filter(|d| !d.is_empty())
                .map(|d| format!("{}/{name}", d.trim_end_matches('/')))
                .find(|c| super::path::absolute(&self.cwd, c) == path)
                .unwrap_or_else(|| path.to_string())
        };
        match classify(&head[..got]) {
            ScriptKind::Binary => None,
            // The image's /bin/sh or /bin/bash (a `#!/bin/sh` text, not a module):
            // this interpreter is the shell they stand for.
            ScriptKind::Shebang { interp, .. } if is_shell(&interp) && is_shell(path) => {
                Some(Ok(self.sh_builtin(argv, values, fds)))
            }
            ScriptKind::Shell => {
                let mut sh = vec!["sh".to_string(), script];
                sh.extend_from_slice(&argv[1..]);
                Some(Ok(self.sh_builtin(&sh, values, fds)))
            }
            ScriptKind::Shebang { interp, arg } => {
                // `#!/usr/bin/env NAME`: NAME over PATH, as env does.
                let (interp, arg) = match (interp.rsplit('/').next(), arg) {
                    (Some("env"), Some(name)) if !name.contains(' ') => (name, None),
                    (_, arg) => (interp, arg),
                };
                let mut words = vec![interp.clone()];
                words.extend(arg);
                words.push(script);
                words.extend_from_slice(&argv[1..]);
                if is_shell(&interp) {
                    return Some(Ok(self.sh_builtin(&words, values, fds)));
                }
                if !matches!(self.find_program(&interp), super::path::Lookup::Found(_)) {
                    fds.error(&format!(
                        "{}: {interp}: bad interpreter: No such file or directory",
                        argv[0]
                    ));
                    return Some(Ok(127));
                }
                if depth >= MAX_DEPTH {
                    fds.error(&format!("{}: too many levels of #! interpreters", argv[0]));
                    return Some(Ok(126));
                }
                Some(self.run_program_file(words, values, fds.clone(), depth + 1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shebang(interp: &str, arg: Option<&str>) -> ScriptKind {
        ScriptKind::Shebang {
            interp: interp.into(),
            arg: arg.map(Into::into),
        }
    }

    #[test]
    fn first_lines_classify_as_the_kernel_and_bash_do() {
        assert_eq!(classify(b"#!/bin/sh\necho"), shebang("/bin/sh", None));
        assert_eq!(
            classify(b"#! /bin/bash -e \n"),
            shebang("/bin/bash", Some("-e"))
        );
        assert_eq!(
            classify(b"#!/usr/bin/awk -f -x\n"),
            shebang("/usr/bin/awk", Some("-f -x"))
        );
        assert_eq!(classify(b"#!/bin/sh\r\n"), shebang("/bin/sh", None));
        assert_eq!(classify(b"echo hi\n"), ScriptKind::Shell);
        assert_eq!(classify(b""), ScriptKind::Shell);
        assert_eq!(classify(b"\x7fELF\x02\x01\x00"), ScriptKind::Binary);
    }
}
