//! Runs `sh -c LINE` for guests: the runtime's [`CommandLineRunner`], registered
//! by the CLI, so `find -exec sh -c ...` and `xargs sh -c ...` reach the
//! interpreter (the runtime cannot depend on it; see docs/host-interface.md).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use wsh_runtime::{Child, Command, CommandLineRunner, Runtime, SpawnError};

use crate::interp::{Fds, ImageSystem, Shell};

/// Variables a fresh [`Shell`] exports that the request's environment may lack.
const SHELL_DEFAULTS: &[&str] = &["HOME", "USER", "LOGNAME", "SHELL", "LANG", "TERM"];

/// Starts a fresh shell over the same runtime for each command line.
pub struct ShRunner;

/// `s` as one single-quoted shell word.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Shell text that gives a fresh shell the request's environment and directory.
fn prelude(cmd: &Command) -> String {
    let mut text = String::new();
    for name in SHELL_DEFAULTS {
        if !cmd.env.iter().any(|(k, _)| k == name) {
            text.push_str(&format!("unset {name}\n"));
        }
    }
    for (k, v) in cmd.env.iter().filter(|(k, _)| is_name(k) && k != "PWD") {
        text.push_str(&format!("export {k}={}\n", quote(v)));
    }
    text.push_str(&format!("cd -- {}\n", quote(&cmd.cwd)));
    text
}

impl CommandLineRunner for ShRunner {
    fn start(&self, rt: &Runtime, line: &str, cmd: Command) -> Result<Child, SpawnError> {
        let rt = rt.clone();
        let line = line.to_string();
        let thread = std::thread::Builder::new()
            .name("sh -c".into())
            .spawn(move || {
                let mut sh = Shell::new(ImageSystem::new(rt));
                // `sh -c LINE NAME ARGS...`: NAME is $0, ARGS are $1...
                let arg0 = cmd.argv.get(3).cloned().unwrap_or_else(|| "sh".into());
                sh.set_args(arg0, cmd.argv.iter().skip(4).cloned().collect());
                let fds = Fds::standard(cmd.stdin.clone(), cmd.stdout.clone(), cmd.stderr.clone());
                let status = sh.run_text(&prelude(&cmd), &fds);
                if status != 0 {
                    return status;
                }
                sh.run_text(&line, &fds)
            })
            .map_err(|e| SpawnError::Other(format!("cannot start a thread: {e}")))?;
        // The shell itself cannot be stopped from outside yet; its guests stop on Ctrl-C.
        Ok(Child::new(thread, Arc::new(AtomicBool::new(false))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_the_shell() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert!(is_name("PATH") && is_name("_x1") && !is_name("1x") && !is_name("A-B"));
    }
}
