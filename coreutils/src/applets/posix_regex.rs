//! POSIX regular expressions (grep's -G basic and -E extended syntax) in the
//! `regex` crate's syntax: `\\(` groups and literal `+?|{}` in BREs, `\\<` `\\>` word
//! boundaries, bracket expressions with their classes.

/// A POSIX basic regex in the regex crate's syntax.
pub fn from_basic(p: &str) -> String {
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    // A `*` at the start of the regex or of a group is literal in a BRE.
    let mut star_literal = true;
    while let Some(c) = chars.next() {
        let mut next_star_literal = false;
        match c {
            '\\' => match chars.next() {
                Some('(') => {
                    out.push('(');
                    next_star_literal = true;
                }
                Some(x @ (')' | '{' | '}' | '|' | '+' | '?')) => {
                    out.push(x);
                    next_star_literal = x == '|';
                }
                Some('<' | '>') => out.push_str("\\b"),
                Some(x) => {
                    out.push('\\');
                    out.push(x);
                }
                None => out.push_str("\\\\"),
            },
            '(' | ')' | '{' | '}' | '|' | '+' | '?' => {
                out.push('\\');
                out.push(c);
            }
            '*' if star_literal => out.push_str("\\*"),
            '^' if out.is_empty() => {
                out.push('^');
                next_star_literal = true;
            }
            '[' => bracket(&mut chars, &mut out),
            _ => out.push(c),
        }
        star_literal = next_star_literal;
    }
    out
}

/// Copies a POSIX bracket expression (after its `[`), escaping what the crate treats specially.
fn bracket(chars: &mut std::iter::Peekable<std::str::Chars>, out: &mut String) {
    out.push('[');
    if chars.peek() == Some(&'^') {
        out.push('^');
        chars.next();
    }
    let mut first = true;
    while let Some(x) = chars.next() {
        match x {
            ']' if !first => break,
            '[' if chars.peek() == Some(&':') => {
                // A character class such as [:alpha:], copied up to its ":]".
                out.push('[');
                for y in chars.by_ref() {
                    out.push(y);
                    if y == ']' {
                        break;
                    }
                }
            }
            '\\' | '[' | ']' | '&' | '~' => {
                out.push('\\');
                out.push(x);
            }
            _ => out.push(x),
        }
        first = false;
    }
    out.push(']');
}

/// An extended regex in the regex crate's syntax (`\<` `\>` become `\b`).
pub fn from_extended(p: &str) -> String {
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('<' | '>') => out.push_str("\\b"),
                Some(x) => {
                    out.push('\\');
                    out.push(x);
                }
                None => out.push_str("\\\\"),
            },
            '[' => bracket(&mut chars, &mut out),
            _ => out.push(c),
        }
    }
    out
}
