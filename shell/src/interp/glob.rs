//! Brace expansion (`{a,b}`, `{1..5..2}`, `{a..e}`, via brush-parser's brace parser)
//! and pathname expansion against the image (`*`, `?`, `[...]`; names starting with
//! `.` only match a literal `.`; results sorted; no match leaves the word alone).

use brush_parser::word::{self, BraceExpressionMember as M, BraceExpressionOrText as B};

use super::pattern::{self, PatChar};
use super::{Shell, parser_options};

/// Expands the braces of a raw word into raw words (quotes stay as they are).
pub(crate) fn brace_expand(raw: &str) -> Vec<String> {
    if !raw.contains('{') {
        return vec![raw.to_string()];
    }
    match word::parse_brace_expansions(raw, &parser_options()) {
        Ok(Some(pieces)) => expand_pieces(&pieces),
        _ => vec![raw.to_string()],
    }
}

fn expand_pieces(pieces: &[B]) -> Vec<String> {
    let mut out = vec![String::new()];
    for p in pieces {
        let alts: Vec<String> = match p {
            B::Text(t) => vec![t.clone()],
            B::Expr(members) => members.iter().flat_map(expand_member).collect(),
        };
        out = out
            .iter()
            .flat_map(|prefix| alts.iter().map(move |a| format!("{prefix}{a}")))
            .collect();
    }
    out
}

fn expand_member(m: &M) -> Vec<String> {
    match m {
        M::Child(pieces) => expand_pieces(pieces),
        M::NumberSequence {
            start,
            end,
            increment,
        } => {
            let step = increment.unsigned_abs().max(1) as i64;
            let mut v = Vec::new();
            let mut i = *start;
            // Guard against runaway sequences: bash would try to allocate them all.
            while v.len() < 1_000_000 && ((start <= end && i <= *end) || (start > end && i >= *end))
            {
                v.push(i.to_string());
                i = if start <= end { i + step } else { i - step };
            }
            v
        }
        M::CharSequence {
            start,
            end,
            increment,
        } => {
            let step = increment.unsigned_abs().max(1) as u32;
            let (s, e) = (*start as u32, *end as u32);
            let mut v = Vec::new();
            let mut i = s;
            loop {
                if let Some(c) = char::from_u32(i) {
                    v.push(c.to_string());
                }
                if s <= e {
                    i += step;
                    if i > e {
                        break;
                    }
                } else {
                    match i.checked_sub(step) {
                        Some(n) if n >= e => i = n,
                        _ => break,
                    }
                }
            }
            v
        }
    }
}

/// Whether a field's pattern has an unquoted glob character.
pub(crate) fn has_glob(pat: &[PatChar]) -> bool {
    pat.iter()
        .any(|&(c, lit)| !lit && matches!(c, '*' | '?' | '['))
}

impl Shell {
    /// The image paths matching `pat` (relative to the cwd unless absolute), sorted;
    /// empty when nothing matches.
    pub(crate) fn glob(&self, pat: &[PatChar]) -> Vec<String> {
        let absolute = pat.first().is_some_and(|c| c.0 == '/');
        let comps: Vec<&[PatChar]> = pat.split(|c| c.0 == '/').collect();
        let start = if absolute {
            "/".to_string()
        } else {
            String::new()
        };
        let mut results = Vec::new();
        let comps = if absolute { &comps[1..] } else { &comps[..] };
        self.glob_walk(start, comps, &mut results);
        results.sort();
        results
    }

    fn glob_walk(&self, prefix: String, comps: &[&[PatChar]], out: &mut Vec<String>) {
        let Some((first, rest)) = comps.split_first() else {
            out.push(prefix);
            return;
        };
        let join = |name: &str| {
            if prefix.is_empty() || prefix.ends_with('/') {
                format!("{prefix}{name}")
            } else {
                format!("{prefix}/{name}")
            }
        };
        if first.is_empty() {
            // A trailing `/` (or `//`): only directories continue.
            if rest.is_empty() {
                let dir = if prefix.is_empty() {
                    "."
                } else {
                    prefix.as_str()
                };
                if matches!(
                    self.sys.kind(&self.cwd, dir),
                    Ok(super::sys::Kind::Directory)
                ) {
                    out.push(format!("{prefix}/"));
                }
                return;
            }
            self.glob_walk(prefix, rest, out);
            return;
        }
        if !has_glob(first) {
            let name: String = first.iter().map(|c| c.0).collect();
            let path = join(&name);
            if rest.is_empty() {
                if self.sys.kind(&self.cwd, &path).is_ok() {
                    out.push(path);
                }
            } else {
                self.glob_walk(path, rest, out);
            }
            return;
        }
        let dir = if prefix.is_empty() {
            ".".to_string()
        } else {
            prefix.clone()
        };
        let Ok(mut names) = self.sys.read_dir(&self.cwd, &dir) else {
            return;
        };
        names.sort();
        let dot_ok = first.first().is_some_and(|c| c.0 == '.');
        for name in names {
            if name.starts_with('.') && !dot_ok {
                continue;
            }
            let chars: Vec<char> = name.chars().collect();
            if pattern::matches(first, &chars) {
                let path = join(&name);
                if rest.is_empty() {
                    out.push(path);
                } else {
                    self.glob_walk(path, rest, out);
                }
            }
        }
    }
}
