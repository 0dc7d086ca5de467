//! Syntax highlighting of the line being typed: commands that would run in green,
//! unknown ones in red, reserved words, quoted strings, expansions, operators and
//! comments each in their own color. A small lexer of its own, because the line is
//! usually incomplete while it is typed and brush's tokenizer rejects that.

use std::sync::Arc;

use nu_ansi_term::{Color, Style};
use reedline::{Highlighter, StyledText};

use super::context::{Context, KEYWORDS};

/// What a piece of the line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// Blanks between words.
    Space,
    /// `# ...` to the end of the line.
    Comment,
    /// `|`, `&&`, `;`, `>`, `(` ...
    Operator,
    /// A reserved word in command position.
    Keyword,
    /// A command name that resolves.
    Command,
    /// A command name that does not.
    Unknown,
    /// A quoted part of a word.
    Quoted,
    /// `$name`, `${...}`, `$(...)`.
    Expansion,
    /// Anything else in a word.
    Plain,
}

/// Splits `line` into classified pieces; their texts concatenate back to `line`.
/// `is_command` decides known vs unknown command names.
pub fn lex<'a>(line: &'a str, is_command: &dyn Fn(&str) -> bool) -> (Vec<(Piece, &'a str)>, bool) {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Whether the next word is a command name.
    let mut command_pos = true;
    // Whether the next word is a redirection's target.
    let mut redirect_target = false;
    while i < b.len() {
        let c = b[i];
        if c == b' ' || c == b'\t' || c == b'\n' {
            let start = i;
            while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n') {
                if b[i] == b'\n' {
                    command_pos = true;
                }
                i += 1;
            }
            out.push((Piece::Space, &line[start..i]));
            continue;
        }
        if c == b'#' {
            let end = line[i..].find('\n').map_or(b.len(), |n| i + n);
            out.push((Piece::Comment, &line[i..end]));
            i = end;
            continue;
        }
        if is_operator_byte(c) {
            let start = i;
            i += operator_len(&b[i..]);
            let op = &line[start..i];
            if op.contains('<') || op.contains('>') {
                redirect_target = true;
            } else {
                command_pos = true;
            }
            out.push((Piece::Operator, op));
            continue;
        }
        // A word: up to an unquoted blank or operator.
        let start = i;
        let mut pieces = Vec::new();
        let mut plain_from = i;
        while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n') && !is_operator_byte(b[i]) {
            let (kind, end) = match b[i] {
                b'\'' => (
                    Piece::Quoted,
                    line[i + 1..].find('\'').map_or(b.len(), |n| i + n + 2),
                ),
                b'"' => (Piece::Quoted, double_quote_end(b, i)),
                b'$' => (Piece::Expansion, expansion_end(b, i)),
                b'`' => (
                    Piece::Expansion,
                    line[i + 1..].find('`').map_or(b.len(), |n| i + n + 2),
                ),
                b'\\' => {
                    i = (i + 2).min(b.len());
                    continue;
                }
                _ => {
                    i += line[i..].chars().next().map_or(1, char::len_utf8);
                    continue;
                }
            };
            if plain_from < i {
                pieces.push((Piece::Plain, &line[plain_from..i]));
            }
            pieces.push((kind, &line[i..end]));
            i = end;
            plain_from = i;
        }
        if plain_from < i {
            pieces.push((Piece::Plain, &line[plain_from..i]));
        }
        let word = &line[start..i];
        if redirect_target {
            redirect_target = false;
            out.extend(pieces);
        } else if command_pos {
            if KEYWORDS.contains(&word) {
                out.push((Piece::Keyword, word));
                // After most reserved words another command follows (`then ls`); after
                // `for`/`case`/`select`/`function` comes a name, and `in` a list.
                command_pos = !matches!(word, "for" | "case" | "select" | "function" | "in");
            } else if is_assignment(word) {
                out.extend(pieces);
            } else {
                let known = is_command(&unquote(word));
                out.push((
                    if known {
                        Piece::Command
                    } else {
                        Piece::Unknown
                    },
                    word,
                ));
                command_pos = false;
            }
        } else {
            out.extend(pieces);
        }
    }
    (out, command_pos && !redirect_target)
}

fn is_operator_byte(c: u8) -> bool {
    matches!(c, b'|' | b'&' | b';' | b'(' | b')' | b'<' | b'>')
}

/// Length of the operator at the start of `b` (longest match).
fn operator_len(b: &[u8]) -> usize {
    const OPS: &[&[u8]] = &[
        b"<<<", b"<<-", b"&>>", b";;&", b"&&", b"||", b";;", b";&", b"<<", b">>", b"<&", b">&",
        b"<>", b">|", b"&>", b"|&",
    ];
    OPS.iter()
        .find(|op| b.starts_with(op))
        .map_or(1, |op| op.len())
}

/// End (exclusive) of the double-quoted string starting at `i`, or the line's end.
fn double_quote_end(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// End of the expansion starting with `$` at `i`: a name, a special parameter, or a
/// balanced `${...}` / `$(...)` (nesting counted, quotes not: good enough to color).
fn expansion_end(b: &[u8], i: usize) -> usize {
    let j = i + 1;
    match b.get(j) {
        Some(&open @ (b'{' | b'(')) => {
            let close = if open == b'{' { b'}' } else { b')' };
            let mut depth = 0;
            for (k, &c) in b.iter().enumerate().skip(j) {
                if c == open {
                    depth += 1;
                } else if c == close {
                    depth -= 1;
                    if depth == 0 {
                        return k + 1;
                    }
                }
            }
            b.len()
        }
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
            j + b[j..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count()
        }
        Some(c) if c.is_ascii_digit() || b"?#$!@*-".contains(c) => j + 1,
        _ => j,
    }
}

/// `NAME=...` or `NAME+=...`: an assignment, after which a command may still follow.
fn is_assignment(word: &str) -> bool {
    match word.find('=') {
        Some(eq) => {
            let name = word[..eq].strip_suffix('+').unwrap_or(&word[..eq]);
            builtins::is_name(name)
        }
        None => false,
    }
}

/// The word with quotes and backslashes removed (no expansions), to look it up.
pub fn unquote(word: &str) -> String {
    let mut out = String::new();
    let mut chars = word.chars();
    let mut quote = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None | Some('"'), '\\') => out.extend(chars.next()),
            _ => out.push(c),
        }
    }
    out
}

/// The color of each kind of piece.
fn style(p: Piece) -> Style {
    match p {
        Piece::Space | Piece::Plain => Style::new(),
        Piece::Comment => Style::new().fg(Color::DarkGray),
        Piece::Operator => Style::new().fg(Color::Cyan),
        Piece::Keyword => Style::new().fg(Color::Magenta).bold(),
        Piece::Command => Style::new().fg(Color::Green).bold(),
        Piece::Unknown => Style::new().fg(Color::Red),
        Piece::Quoted => Style::new().fg(Color::Yellow),
        Piece::Expansion => Style::new().fg(Color::LightBlue),
    }
}

/// reedline's hook, looking commands up through the shared [`Context`].
pub struct ShellHighlighter {
    /// Where command names are looked up.
    pub ctx: Arc<Context>,
}

impl Highlighter for ShellHighlighter {
    fn highlight(&self, line: &str, _cursor: usize) -> StyledText {
        let mut text = StyledText::new();
        let (pieces, _) = lex(line, &|name| self.ctx.is_command(name));
        for (kind, s) in pieces {
            text.push((style(kind), s.to_string()));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::{Piece::*, lex, unquote};

    fn known(name: &str) -> bool {
        matches!(name, "ls" | "echo" | "grep")
    }

    fn kinds(line: &str) -> Vec<(super::Piece, String)> {
        let (p, _) = lex(line, &known);
        let joined: String = p.iter().map(|(_, s)| *s).collect();
        assert_eq!(joined, line, "pieces must rebuild the line");
        p.into_iter()
            .filter(|(k, _)| *k != Space)
            .map(|(k, s)| (k, s.to_string()))
            .collect()
    }

    #[test]
    fn commands_and_arguments() {
        assert_eq!(
            kinds("ls -l | nosuch 'a b' \"$X\" $Y > out; if echo; then grep x; fi # c"),
            vec![
                (Command, "ls".into()),
                (Plain, "-l".into()),
                (Operator, "|".into()),
                (Unknown, "nosuch".into()),
                (Quoted, "'a b'".into()),
                (Quoted, "\"$X\"".into()),
                (Expansion, "$Y".into()),
                (Operator, ">".into()),
                (Plain, "out".into()),
                (Operator, ";".into()),
                (Keyword, "if".into()),
                (Command, "echo".into()),
                (Operator, ";".into()),
                (Keyword, "then".into()),
                (Command, "grep".into()),
                (Plain, "x".into()),
                (Operator, ";".into()),
                (Keyword, "fi".into()),
                (Comment, "# c".into()),
            ]
        );
    }

    #[test]
    fn assignments_and_unfinished_text() {
        assert_eq!(
            kinds("A=1 ls"),
            vec![(Plain, "A=1".into()), (Command, "ls".into())]
        );
        assert_eq!(
            kinds("echo 'open"),
            vec![(Command, "echo".into()), (Quoted, "'open".into())]
        );
        assert_eq!(
            kinds("echo ${A:-$(x"),
            vec![(Command, "echo".into()), (Expansion, "${A:-$(x".into())]
        );
        assert_eq!(
            kinds("é ü"),
            vec![(Unknown, "é".into()), (Plain, "ü".into())]
        );
    }

    #[test]
    fn command_position_at_end() {
        assert!(lex("", &known).1);
        assert!(lex("ls | ", &known).1);
        assert!(!lex("ls ", &known).1);
        assert!(lex("if ", &known).1);
        assert!(!lex("ls > ", &known).1);
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote("'l's"), "ls");
        assert_eq!(unquote("a\\ b\"c\\\"\""), "a bc\"");
    }
}
