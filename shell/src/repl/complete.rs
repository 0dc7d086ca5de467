//! Tab completion: command names (builtins, functions, applets, programs on the
//! image's PATH) in command position, paths inside the image everywhere else.

use std::sync::Arc;

use fsimage::FileType;
use reedline::{Completer, CompletionResult, Span, Suggestion};

use super::context::{Context, absolute};
use super::highlight::lex;

/// reedline's hook over the shared [`Context`].
pub struct ShellCompleter {
    /// Where names and files are looked up.
    pub ctx: Arc<Context>,
}

impl Completer for ShellCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> CompletionResult {
        CompletionResult::fresh(suggest(&self.ctx, line, pos))
    }
}

/// Suggestions for the word that ends at byte `pos` of `line`.
pub fn suggest(ctx: &Context, line: &str, pos: usize) -> Vec<Suggestion> {
    let pos = pos.min(line.len());
    let before = &line[..pos];
    let start = before
        .rfind(|c: char| c.is_whitespace() || "|&;()<>`".contains(c))
        .map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
    let word = &before[start..];
    let span = Span::new(start, pos);
    // `$NAME` or `${NAME`: the shell's variables.
    if let Some(i) = word.rfind('$') {
        let (lead, name) = match word[i + 1..].strip_prefix('{') {
            Some(n) => (&word[..i + 2], n),
            None => (&word[..i + 1], &word[i + 1..]),
        };
        if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            let braced = lead.ends_with('{');
            return ctx
                .variables()
                .into_iter()
                .filter(|v| v.starts_with(name))
                .map(|v| Suggestion {
                    value: format!("{lead}{v}{}", if braced { "}" } else { "" }),
                    span,
                    append_whitespace: true,
                    ..Suggestion::default()
                })
                .collect();
        }
    }
    let (_, command_pos) = lex(&before[..start], &|_| true);
    // `-x`, `--name`: the options the command's `--help` lists.
    if word.starts_with('-') && !command_pos {
        let Some(command) = command_word(&before[..start]) else {
            return Vec::new();
        };
        return super::options::options_for(ctx, &command)
            .into_iter()
            .filter(|o| o.starts_with(word))
            .map(|o| Suggestion {
                append_whitespace: !o.ends_with('='),
                value: o,
                span,
                ..Suggestion::default()
            })
            .collect();
    }
    if word.contains(['$', '\'', '"', '\\']) {
        // Expansions and quoting are not completed (yet): suggest nothing rather than wrong text.
        return Vec::new();
    }
    if command_pos && !word.contains('/') {
        return ctx
            .command_names()
            .into_iter()
            .filter(|n| n.starts_with(word))
            .map(|value| Suggestion {
                value,
                span,
                append_whitespace: true,
                ..Suggestion::default()
            })
            .collect();
    }
    paths(ctx, word, span)
}

/// Files in the image whose path starts with `word` (`~/` meaning $HOME).
fn paths(ctx: &Context, word: &str, span: Span) -> Vec<Suggestion> {
    let (dir_part, prefix) = match word.rfind('/') {
        Some(i) => word.split_at(i + 1),
        None => ("", word),
    };
    let dir = match dir_part.strip_prefix("~/") {
        Some(rest) => format!("{}/{rest}", ctx.home()),
        None if dir_part.is_empty() => ".".to_string(),
        None => dir_part.to_string(),
    };
    let mut found: Vec<Suggestion> = ctx
        .list(&absolute(&ctx.cwd(), &dir))
        .into_iter()
        .filter(|(name, _)| {
            name.starts_with(prefix) && (prefix.starts_with('.') || !name.starts_with('.'))
        })
        .map(|(name, kind)| {
            let is_dir = kind == FileType::Directory;
            Suggestion {
                value: format!("{dir_part}{name}{}", if is_dir { "/" } else { "" }),
                span,
                append_whitespace: !is_dir,
                ..Suggestion::default()
            }
        })
        .collect();
    found.sort_by(|a, b| a.value.cmp(&b.value));
    found
}

/// The command word of the simple command `before` ends inside (the first word
/// after the last `|`, `;`, `&`, `(` or newline, past assignments).
fn command_word(before: &str) -> Option<String> {
    let tail = before
        .rfind(['|', ';', '&', '(', '\n', '`'])
        .map_or(before, |i| &before[i + 1..]);
    tail.split_whitespace()
        .find(|w| !w.contains('=') || w.starts_with('='))
        .map(str::to_string)
}
