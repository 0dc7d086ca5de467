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
    if word.contains(['$', '\'', '"', '\\']) {
        // Expansions and quoting are not completed (yet): suggest nothing rather than wrong text.
        return Vec::new();
    }
    let (_, command_pos) = lex(&before[..start], &|_| true);
    let span = Span::new(start, pos);
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
