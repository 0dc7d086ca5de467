//! `set -x`: how a traced word is quoted and where the trace goes (`BASH_XTRACEFD`).

use super::{Fds, Shell};

/// A word as `set -x` shows it: single-quoted when it holds a character the
/// shell would read specially (bash's `sh_contains_shell_metas`), `$'...'` when it
/// holds a control character.
pub(crate) fn quote(w: &str) -> String {
    if w.chars().any(|c| c.is_control()) {
        return super::vars::ansi_c_quote(w);
    }
    let mut prev = None;
    let special = w.is_empty()
        || w.chars().any(|c| {
            let meta = match c {
                ' ' | '\t' | '\n' | '\'' | '"' | '\\' | '|' | '&' | ';' | '(' | ')' | '<' | '>'
                | '!' | '{' | '}' | '*' | '[' | '?' | ']' | '^' | '$' | '`' => true,
                '~' => matches!(prev, None | Some('=' | ':')),
                '#' => prev.is_none(),
                _ => false,
            };
            prev = Some(c);
            meta
        });
    if special {
        format!("'{}'", w.replace('\'', "'\\''"))
    } else {
        w.to_string()
    }
}

impl Shell {
    /// Where `set -x` writes: the descriptor `BASH_XTRACEFD` names, if open, else stderr.
    pub(crate) fn trace_handle(&self, fds: &Fds) -> wsh_runtime::Handle {
        self.get("BASH_XTRACEFD")
            .and_then(|v| v.trim().parse::<i32>().ok())
            .and_then(|n| fds.get(n).cloned())
            .unwrap_or_else(|| fds.handle(2))
    }
}
