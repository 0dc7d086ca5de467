//! Telling a finished command from one that needs more lines, with brush-parser's
//! own error kinds: an open quote, an unfinished `if`, a pending heredoc or a
//! trailing `\` ask for another line; a stray `fi` is a syntax error.

use brush_parser::ParseError;
use reedline::{ValidationResult, Validator};

/// What a piece of input amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// It parses: run it.
    Complete,
    /// It could become valid with more lines.
    Incomplete,
    /// No continuation can fix it: run it so the syntax error is reported.
    Error,
}

/// Classifies `text` as bash would when reading commands interactively.
pub fn completeness(text: &str) -> Completeness {
    // A trailing unescaped backslash joins the next line (the tokenizer sees no newline
    // after it here, because the newline was not typed into the buffer yet).
    if ends_with_line_continuation(text) {
        return Completeness::Incomplete;
    }
    // Parsed as a finished line: without the newline, a stray `fi` at the very end
    // reads as "end of input" to brush, like an unfinished `if` does.
    let line = format!("{text}\n");
    let opts = brush_parser::ParserOptions::default();
    let mut parser = brush_parser::Parser::new(std::io::Cursor::new(line.as_bytes()), &opts);
    match parser.parse_program() {
        Ok(_) => Completeness::Complete,
        Err(ParseError::ParsingAtEndOfInput) => Completeness::Incomplete,
        Err(ParseError::Tokenizing { inner, .. }) if inner.is_incomplete() => {
            Completeness::Incomplete
        }
        Err(_) => Completeness::Error,
    }
}

/// Whether `text` ends in an odd run of backslashes outside single quotes.
fn ends_with_line_continuation(text: &str) -> bool {
    let trailing = text.bytes().rev().take_while(|&b| b == b'\\').count();
    if trailing % 2 == 0 {
        return false;
    }
    // Inside single quotes a backslash is literal; let the tokenizer judge those.
    let mut in_single = false;
    let mut escaped = false;
    let mut in_double = false;
    for b in text.bytes() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if !in_single => escaped = true,
            b'\'' if !in_double => in_single = !in_single,
            b'"' if !in_single => in_double = !in_double,
            _ => {}
        }
    }
    !in_single
}

/// reedline's hook: keep reading lines while the input is incomplete.
pub struct ShellValidator;

impl Validator for ShellValidator {
    fn validate(&self, line: &str) -> ValidationResult {
        match completeness(line) {
            Completeness::Incomplete => ValidationResult::Incomplete,
            Completeness::Complete | Completeness::Error => ValidationResult::Complete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Completeness::*, completeness};

    #[test]
    fn complete_commands() {
        for t in [
            "echo hi",
            "if true; then echo a; fi",
            "",
            "a | b && c",
            "cat <<EOF\nx\nEOF",
            "echo 'a\nb'",
        ] {
            assert_eq!(completeness(t), Complete, "{t:?}");
        }
    }

    #[test]
    fn incomplete_commands() {
        for t in [
            "echo 'abc",
            "echo \"abc",
            "if true; then",
            "if true; then\n  echo a",
            "for i in 1 2; do",
            "while true",
            "f() {",
            "cat <<EOF",
            "cat <<EOF\nline",
            "echo a \\",
            "echo $(ls",
            "a |",
            "a &&",
            "case x in",
            "case x in\n a) echo;;",
            "if true; then echo; else",
            "{ echo; }}",
        ] {
            assert_eq!(completeness(t), Incomplete, "{t:?}");
        }
    }

    #[test]
    fn syntax_errors() {
        for t in [
            "fi",
            "echo a; fi",
            "then",
            "done",
            ")",
            "if true; then echo; fi fi",
            "| a",
            "echo a\nfi",
            "esac",
        ] {
            assert_eq!(completeness(t), Error, "{t:?}");
        }
    }

    #[test]
    fn backslash_inside_single_quotes_is_literal() {
        assert_eq!(completeness("echo 'a\\'"), Complete);
        assert_eq!(completeness("echo a\\\\"), Complete);
    }
}
