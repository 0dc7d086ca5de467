//! Works around a brush-parser 0.4.0 tokenizer bug: on a line with a pending
//! here-document, a later `${...}`, `$(...)` or `$((...))` is split into wrong words
//! (`cat <<EOF | grep "${X:-d}"`).
//!
//! Before parsing, such lines are rewritten: each `N<<[-]WORD` on the line becomes a
//! plain input redirection from a marker name (`N<'\u{E000}K'`), its body and
//! terminator lines become empty lines (so line numbers stay right), and the body
//! is kept in a process-wide table. The redirection code recognises the marker and
//! feeds the body (expanded unless the delimiter was quoted), exactly as a here-doc.
//! Lines without the problem are left untouched.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

/// The character that starts a marker name (private use; never typed by users).
pub(crate) const MARKER: char = '\u{E000}';

/// A here-document lifted out of the source.
#[derive(Debug)]
pub(crate) struct HereDoc {
    /// The body, with its final newline, tabs not yet stripped.
    pub body: String,
    /// Unquoted delimiter: the body is expanded.
    pub expand: bool,
    /// `<<-`: leading tabs are stripped.
    pub strip_tabs: bool,
}

static TABLE: Mutex<Vec<Arc<HereDoc>>> = Mutex::new(Vec::new());

/// The here-document a marker name refers to.
pub(crate) fn lookup(name: &str) -> Option<Arc<HereDoc>> {
    let idx: usize = name.strip_prefix(MARKER)?.parse().ok()?;
    TABLE.lock().ok()?.get(idx).cloned()
}

/// A here-doc operator found on a line.
struct Op {
    /// Byte range of `<<[-]WORD` in the line.
    start: usize,
    end: usize,
    delim: String,
    quoted: bool,
    strip: bool,
}

/// Rewrites `text` if any line triggers the tokenizer bug; otherwise borrows it.
pub(crate) fn rewrite(text: &str) -> Cow<'_, str> {
    if !text.contains("<<") {
        return Cow::Borrowed(text);
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut state = Quote::None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let (ops, next_state) = scan(line, state);
        state = next_state;
        i += 1;
        if ops.is_empty() {
            out.push_str(line);
            continue;
        }
        let rest = &line[ops[0].end..];
        let buggy = rest.contains("${") || rest.contains("$(");
        // Collect each body in order; the bodies follow this line.
        let mut bodies = Vec::new();
        for op in &ops {
            let mut body = String::new();
            let mut n = 0;
            while i < lines.len() {
                let l = lines[i];
                i += 1;
                n += 1;
                let bare = l.strip_suffix('\n').unwrap_or(l);
                let cmp = if op.strip {
                    bare.trim_start_matches('\t')
                } else {
                    bare
                };
                if cmp == op.delim {
                    break;
                }
                body.push_str(l);
            }
            bodies.push((body, n));
        }
        if !buggy {
            out.push_str(line);
            let consumed: usize = bodies.iter().map(|b| b.1).sum();
            for l in &lines[i - consumed..i] {
                out.push_str(l);
            }
            continue;
        }
        changed = true;
        let mut new_line = String::new();
        let mut last = 0;
        let Ok(mut table) = TABLE.lock() else {
            return Cow::Borrowed(text);
        };
        for (op, (body, _)) in ops.iter().zip(&bodies) {
            new_line.push_str(&line[last..op.start]);
            table.push(Arc::new(HereDoc {
                body: body.clone(),
                expand: !op.quoted,
                strip_tabs: op.strip,
            }));
            new_line.push_str(&format!("<'{MARKER}{}'", table.len() - 1));
            last = op.end;
        }
        new_line.push_str(&line[last..]);
        out.push_str(&new_line);
        let consumed: usize = bodies.iter().map(|b| b.1).sum();
        out.push_str(&"\n".repeat(consumed));
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// Quoting that continues across lines.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

/// Finds here-doc operators outside quotes and comments on one line.
fn scan(line: &str, mut q: Quote) -> (Vec<Op>, Quote) {
    let b = line.as_bytes();
    let mut ops = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match q {
            Quote::Single => {
                if c == b'\'' {
                    q = Quote::None;
                }
                i += 1;
                continue;
            }
            Quote::Double => {
                if c == b'\\' {
                    i += 2;
                    continue;
                }
                if c == b'"' {
                    q = Quote::None;
                }
                i += 1;
                continue;
            }
            Quote::None => {}
        }
        match c {
            b'\\' => i += 2,
            b'\'' => {
                q = Quote::Single;
                i += 1;
            }
            b'"' => {
                q = Quote::Double;
                i += 1;
            }
            // `((...))` and `$((...))`: `<<` there is a shift, not a here-doc.
            b'(' if b.get(i + 1) == Some(&b'(') => {
                let mut depth = 0i32;
                while i < b.len() {
                    match b[i] {
                        b'(' => depth += 1,
                        b')' => depth -= 1,
                        _ => {}
                    }
                    i += 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            b'#' if i == 0 || b[i - 1].is_ascii_whitespace() || b"(;|&".contains(&b[i - 1]) => {
                break;
            }
            b'<' if b.get(i + 1) == Some(&b'<')
                && b.get(i + 2) != Some(&b'<')
                && (i == 0 || b[i - 1] != b'<') =>
            {
                let start = i;
                let mut j = i + 2;
                let strip = b.get(j) == Some(&b'-');
                if strip {
                    j += 1;
                }
                while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                    j += 1;
                }
                let mut delim = String::new();
                let mut quoted = false;
                while j < b.len() && !b[j].is_ascii_whitespace() && !b";|&<>()".contains(&b[j]) {
                    match b[j] {
                        q @ (b'\'' | b'"') => {
                            quoted = true;
                            j += 1;
                            while j < b.len() && b[j] != q {
                                delim.push(b[j] as char);
                                j += 1;
                            }
                            j += 1;
                        }
                        b'\\' => {
                            quoted = true;
                            if let Some(&n) = b.get(j + 1) {
                                delim.push(n as char);
                            }
                            j += 2;
                        }
                        other => {
                            delim.push(other as char);
                            j += 1;
                        }
                    }
                }
                if delim.is_empty() {
                    i = j.max(i + 2);
                    continue;
                }
                ops.push(Op {
                    start,
                    end: j.min(b.len()),
                    delim,
                    quoted,
                    strip,
                });
                i = j;
            }
            _ => i += 1,
        }
    }
    (ops, q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_are_not_heredocs() {
        let t = "echo $((1 << 2)) \"${x}\"\n((y <<= 1)); echo \"$(echo z)\"\n";
        assert!(matches!(rewrite(t), Cow::Borrowed(_)));
    }

    #[test]
    fn untouched_without_the_bug() {
        let t = "cat <<EOF | tr a b\nx ${y}\nEOF\n";
        assert!(matches!(rewrite(t), Cow::Borrowed(_)));
    }

    #[test]
    fn rewrites_and_keeps_lines() {
        let t = "cat <<'EOF' | grep \"${X:-d}\"\nbody $x\nEOF\necho after\n";
        let r = rewrite(t);
        assert_eq!(r.lines().count(), t.lines().count());
        let line = r.lines().next().unwrap();
        assert!(line.starts_with("cat <'\u{E000}"), "{line}");
        assert!(line.ends_with("| grep \"${X:-d}\""), "{line}");
        let name = line.split('\'').nth(1).unwrap();
        let doc = lookup(name).unwrap();
        assert_eq!(doc.body, "body $x\n");
        assert!(!doc.expand);
    }
}
