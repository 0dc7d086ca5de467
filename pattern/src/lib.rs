//! Shell pattern matching (`*`, `?`, `[...]`, `[:class:]`, `\\x`), as bash's `case`,
//! `[[ == ]]`, `${v#pat}` and globs use it and as `find -name` does (fnmatch without
//! flags). Characters that came from quotes match only themselves, so a pattern is a
//! sequence of (char, literal) pairs rather than a string.

/// One pattern character and whether it was quoted (hence literal).
pub type PatChar = (char, bool);

/// Builds a pattern from unquoted text (every char may be special).
pub fn unquoted(s: &str) -> Vec<PatChar> {
    s.chars().map(|c| (c, false)).collect()
}

/// Whether the whole of `s` matches `pat`.
pub fn matches(pat: &[PatChar], s: &[char]) -> bool {
    // Iterative matcher with single-star backtracking (linear for the common cases).
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() {
            match pat[p] {
                ('*', false) => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                ('?', false) => {
                    p += 1;
                    i += 1;
                    continue;
                }
                ('[', false) => {
                    if let Some((ok, next)) = bracket(pat, p, s[i]) {
                        if ok {
                            p = next;
                            i += 1;
                            continue;
                        }
                    } else if s[i] == '[' {
                        // An unterminated bracket is a literal '['.
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
                ('\\', false) if p + 1 < pat.len() => {
                    if pat[p + 1].0 == s[i] {
                        p += 2;
                        i += 1;
                        continue;
                    }
                }
                (c, _) => {
                    if c == s[i] {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, si)) => {
                p = sp + 1;
                i = si + 1;
                star = Some((sp, si + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|&pc| pc == ('*', false))
}

/// Matches `c` against the bracket expression starting at `pat[start]` (`[`).
/// Returns (matched, index after `]`), or None when there is no closing `]`.
fn bracket(pat: &[PatChar], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(pat.get(i), Some(('!' | '^', false)));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < pat.len() {
        let (pc, lit) = pat[i];
        if pc == ']' && !lit && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        // [:class:]
        if pc == '[' && !lit && matches!(pat.get(i + 1), Some((':', false))) {
            let rest: String = pat[i + 2..].iter().map(|p| p.0).collect();
            if let Some(end) = rest.find(":]") {
                let class = &rest[..end];
                matched |= match class {
                    "alpha" => c.is_alphabetic(),
                    "digit" => c.is_ascii_digit(),
                    "alnum" => c.is_alphanumeric(),
                    "upper" => c.is_uppercase(),
                    "lower" => c.is_lowercase(),
                    "space" => c.is_whitespace(),
                    "punct" => c.is_ascii_punctuation(),
                    "xdigit" => c.is_ascii_hexdigit(),
                    _ => false,
                };
                i += 2 + end + 2;
                continue;
            }
        }
        if matches!(pat.get(i + 1), Some(('-', false)))
            && pat.get(i + 2).is_some_and(|p| p.0 != ']')
        {
            let hi = pat[i + 2].0;
            matched |= pc <= c && c <= hi;
            i += 3;
        } else {
            matched |= pc == c;
            i += 1;
        }
    }
    None
}

/// Whether the pattern has any unquoted special character (otherwise it is plain text).
pub fn has_magic(pat: &[PatChar]) -> bool {
    pat.iter()
        .any(|&(c, lit)| !lit && matches!(c, '*' | '?' | '['))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        matches(&unquoted(p), &s.chars().collect::<Vec<_>>())
    }

    #[test]
    fn globs() {
        assert!(m("*", ""));
        assert!(m("a*c", "abbbc"));
        assert!(!m("a*c", "abbb"));
        assert!(m("?b", "ab"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[!a-c]x", "bx"));
        assert!(m("[[:digit:]]*", "7up"));
        assert!(m("*.txt", "f.txt"));
        assert!(!m("*.txt", "f.txt.bak"));
        assert!(m("a\\*", "a*"));
        assert!(!matches(&[('*', true)], &['x']));
    }
}
