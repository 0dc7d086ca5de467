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
        Ok(Some(pieces)) => {
            // The parser keeps numbers, not their text: the zero-padding widths come
            // from the raw word, used only when they pair one for one with the parse.
            let mut widths = sequence_widths(raw);
            if widths.len() != count_sequences(&pieces) {
                widths = vec![0; count_sequences(&pieces)];
            }
            widths.reverse();
            expand_pieces(&pieces, &mut widths)
        }
        _ => vec![raw.to_string()],
    }
}

/// For each `{X..Y[..Z]}` in `raw`, in order: the width bash pads its numbers to
/// (when X or Y has a leading zero: the longer of the two, sign included), else 0.
fn sequence_widths(raw: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, _) in raw.match_indices('{') {
        let Some(end) = raw[i..].find('}') else {
            continue;
        };
        let parts: Vec<&str> = raw[i + 1..i + end].split("..").collect();
        let number = |p: &str| {
            let digits = p.strip_prefix('-').unwrap_or(p);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        };
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(|p| number(p)) {
            continue;
        }
        let padded = |p: &str| {
            let digits = p.strip_prefix('-').unwrap_or(p);
            digits.len() > 1 && digits.starts_with('0')
        };
        out.push(if padded(parts[0]) || padded(parts[1]) {
            parts[0].len().max(parts[1].len())
        } else {
            0
        });
    }
    out
}

fn count_sequences(pieces: &[B]) -> usize {
    pieces
        .iter()
        .map(|p| match p {
            B::Text(_) => 0,
            B::Expr(members) => members
                .iter()
                .map(|m| match m {
                    M::Child(c) => count_sequences(c),
                    M::NumberSequence { .. } => 1,
                    M::CharSequence { .. } => 0,
                })
                .sum(),
        })
        .sum()
}

/// `n` zero-padded to `width` characters, a minus sign counted in the width.
fn pad(n: i64, width: usize) -> String {
    if n < 0 {
        format!("-{:0w$}", n.unsigned_abs(), w = width.saturating_sub(1))
    } else {
        format!("{n:0width$}")
    }
}

fn expand_pieces(pieces: &[B], widths: &mut Vec<usize>) -> Vec<String> {
    let mut out = vec![String::new()];
    for p in pieces {
        let alts: Vec<String> = match p {
            B::Text(t) => vec![t.clone()],
            B::Expr(members) => members
                .iter()
                .flat_map(|m| expand_member(m, widths))
                .collect(),
        };
        out = out
            .iter()
            .flat_map(|prefix| alts.iter().map(move |a| format!("{prefix}{a}")))
            .collect();
    }
    out
}

fn expand_member(m: &M, widths: &mut Vec<usize>) -> Vec<String> {
    match m {
        M::Child(pieces) => expand_pieces(pieces, widths),
        M::NumberSequence {
            start,
            end,
            increment,
        } => {
            let step = increment.unsigned_abs().max(1) as i64;
            let width = widths.pop().unwrap_or(0);
            let mut v = Vec::new();
            let mut i = *start;
            // Guard against runaway sequences: bash would try to allocate them all.
            while v.len() < 1_000_000 && ((start <= end && i <= *end) || (start > end && i >= *end))
            {
                v.push(pad(i, width));
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
    super::pattern::has_magic_extglob(pat)
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
        self.globignore(results)
    }

    /// The patterns of a non-empty `GLOBIGNORE` (colon-separated).
    fn globignore_patterns(&self) -> Option<Vec<Vec<PatChar>>> {
        let v = self.get("GLOBIGNORE").filter(|v| !v.is_empty())?;
        Some(
            v.split(':')
                .filter(|p| !p.is_empty())
                .map(|p| p.chars().map(|c| (c, false)).collect())
                .collect(),
        )
    }

    /// Drops the matches `GLOBIGNORE` names, and then always `.` and `..`, as bash does.
    fn globignore(&self, found: Vec<String>) -> Vec<String> {
        let Some(pats) = self.globignore_patterns() else {
            return found;
        };
        found
            .into_iter()
            .filter(|f| {
                let base = f.rsplit('/').next().unwrap_or(f);
                let chars: Vec<char> = f.chars().collect();
                base != "."
                    && base != ".."
                    && !pats
                        .iter()
                        .any(|p| super::pattern::matches_extglob(p, &chars))
            })
            .collect()
    }

    fn glob_walk(&self, prefix: String, comps: &[&[PatChar]], out: &mut Vec<String>) {
        self.glob_walk_at(prefix, comps, out, false);
    }

    /// `below_globstar`: `prefix` is a directory a `**` component recursed into.
    fn glob_walk_at(
        &self,
        prefix: String,
        comps: &[&[PatChar]],
        out: &mut Vec<String>,
        below_globstar: bool,
    ) {
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
        // A non-empty GLOBIGNORE turns dotglob on (its filter drops `.` and `..`).
        let dotglob = self.shopt("dotglob") || self.globignore_patterns().is_some();
        if first.len() == 2 && first.iter().all(|&c| c == ('*', false)) && self.shopt("globstar") {
            // `**`: every entry below (alone), or this directory and every one below
            // it, never through dot directories unless dotglob.
            if !rest.is_empty() {
                self.glob_walk(prefix.clone(), rest, out);
            } else if !prefix.is_empty() && !prefix.ends_with('/') && !below_globstar {
                // `dir/**` lists `dir/` itself first, as bash does.
                out.push(format!("{prefix}/"));
            }
            for name in names {
                if name == "." || name == ".." || (name.starts_with('.') && !dotglob) {
                    continue;
                }
                let path = join(&name);
                if rest.is_empty() {
                    out.push(path.clone());
                }
                // A depth bound, so that a symlink loop cannot recurse forever.
                if path.matches('/').count() < 64
                    && matches!(
                        self.sys.kind(&self.cwd, &path),
                        Ok(super::sys::Kind::Directory)
                    )
                {
                    self.glob_walk_at(path, comps, out, true);
                }
            }
            return;
        }
        let nocase = self.shopt("nocaseglob");
        let fold = |p: &[PatChar]| -> Vec<PatChar> {
            p.iter()
                .map(|&(c, l)| (c.to_ascii_lowercase(), l))
                .collect()
        };
        let first_folded;
        let first = if nocase {
            first_folded = fold(first);
            &first_folded[..]
        } else {
            first
        };
        for name in names {
            if name.starts_with('.') && !dot_ok && (!dotglob || name == "." || name == "..") {
                continue;
            }
            let chars: Vec<char> = if nocase {
                name.chars().map(|c| c.to_ascii_lowercase()).collect()
            } else {
                name.chars().collect()
            };
            if pattern::matches_extglob(first, &chars) {
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
