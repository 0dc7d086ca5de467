//! Command substitution: `$(list)` and `` `list` `` run in a subshell whose output
//! becomes text; `$(< file)` reads the file without running anything.

use brush_parser::ast;
use wsh_runtime::io::pipe;

use super::{Fds, Shell};

/// The redirection of a `$(< file)` body: one simple command that is nothing but an
/// input redirection.
fn only_input_redirect(prog: &ast::Program) -> Option<&ast::IoRedirect> {
    let [list] = prog.complete_commands.as_slice() else {
        return None;
    };
    let [ast::CompoundListItem(ao, _)] = list.0.as_slice() else {
        return None;
    };
    if !ao.additional.is_empty() || ao.first.bang || ao.first.seq.len() != 1 {
        return None;
    }
    let ast::Command::Simple(cmd) = &ao.first.seq[0] else {
        return None;
    };
    if cmd.word_or_name.is_some() || cmd.suffix.is_some() {
        return None;
    }
    let items = &cmd.prefix.as_ref()?.0;
    match items.as_slice() {
        [
            ast::CommandPrefixOrSuffixItem::IoRedirect(
                r @ ast::IoRedirect::File(None | Some(0), ast::IoFileRedirectKind::Read, _),
            ),
        ] => Some(r),
        _ => None,
    }
}

impl Shell {
    /// Runs `cmd` in a subshell and returns its output without trailing newlines.
    pub(crate) fn command_substitution(&mut self, cmd: &str, fds: &Fds) -> String {
        let prog = match Shell::parse(cmd) {
            Ok(p) => p,
            Err(e) => {
                fds.error(&e.to_string());
                self.status = 2;
                self.last_subst = Some(2);
                return String::new();
            }
        };
        if let Some(redir) = only_input_redirect(&prog) {
            return self.read_redirect_target(redir, fds);
        }
        let (r, w) = pipe();
        let mut f = fds.clone();
        f.set(1, w);
        let mut sub = self.subshell();
        // bash: a substitution does not inherit `set -e` unless `inherit_errexit`.
        sub.options.errexit &= self.shopt("inherit_errexit");
        // Its lines count from the line the substitution is on.
        sub.line_base = self.lineno.saturating_sub(1);
        let sys = self.sys.clone();
        let ran = std::thread::scope(|scope| -> Result<_, wsh_runtime::ForkError> {
            let t = sys.pid_slot().and_then(|slot| {
                slot.spawn_scoped(scope, "wsh $()", move || {
                    sub.run_program(&prog, &f);
                    let s = sub.run_exit_trap(&f);
                    drop(f);
                    s
                })
            })?;
            let out = r.read_to_end().unwrap_or_default();
            Ok((out, t.join().unwrap_or(1)))
        });
        // bash's status for a fork that failed; the substitution expands to nothing.
        let (out, status) = ran.unwrap_or_else(|e| {
            fds.error(&e.to_string());
            (Vec::new(), 126)
        });
        self.status = status;
        self.last_subst = Some(status);
        // bash drops NUL bytes from a substitution's output.
        let out: Vec<u8> = out.into_iter().filter(|b| *b != 0).collect();
        let mut s = String::from_utf8_lossy(&out).into_owned();
        while s.ends_with('\n') {
            s.pop();
        }
        s
    }

    /// `$(< file)`: the file's contents (trailing newlines and NUL bytes dropped).
    fn read_redirect_target(&mut self, redir: &ast::IoRedirect, fds: &Fds) -> String {
        let (out, status) = match self.apply_redirects(&[redir], fds) {
            Ok(f) => (f.handle(0).read_to_end().unwrap_or_default(), 0),
            Err(_) => (Vec::new(), 1),
        };
        self.status = status;
        self.last_subst = Some(status);
        let out: Vec<u8> = out.into_iter().filter(|b| *b != 0).collect();
        let mut s = String::from_utf8_lossy(&out).into_owned();
        while s.ends_with('\n') {
            s.pop();
        }
        s
    }
}
