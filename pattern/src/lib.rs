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

/// Whether the whole of `s` matches `pat` (fnmatch without flags: `(` is literal).
pub fn matches(pat: &[PatChar], s: &[char]) -> bool {
    simple_match(pat, s)
}

/// [`matches`] with bash's extended forms `@(a|b)`, `?(..)`, `*(..)`, `+(..)` and
/// `!(..)` recognized wherever they are written (the shell's patterns).
pub fn matches_extglob(pat: &[PatChar], s: &[char]) -> bool {
    if has_extglob(pat) {
        return ext_match(pat, s);
    }
    simple_match(pat, s)
}

/// Whether `pat` has an unquoted extended-glob group (`@(`, `!(`, `*(`, `+(`, `?(`).
pub fn has_extglob(pat: &[PatChar]) -> bool {
    (0..pat.len()).any(|i| ext_group(pat, i).is_some())
}

/// The group starting at `pat[i]`: (operator, alternatives, index after `)`).
fn ext_group(pat: &[PatChar], i: usize) -> Option<(char, Vec<&[PatChar]>, usize)> {
    let (op, lit) = *pat.get(i)?;
    if lit || !matches!(op, '@' | '!' | '*' | '+' | '?') || pat.get(i + 1) != Some(&('(', false)) {
        return None;
    }
    let (mut depth, mut j, mut start) = (0usize, i + 2, i + 2);
    let mut alts = Vec::new();
    while j < pat.len() {
        match pat[j] {
            ('\\', false) => j += 1,
            ('(', false) => depth += 1,
            (')', false) if depth == 0 => {
                alts.push(&pat[start..j]);
                return Some((op, alts, j + 1));
            }
            (')', false) => depth -= 1,
            ('|', false) if depth == 0 => {
                alts.push(&pat[start..j]);
                start = j + 1;
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// Backtracking matcher for patterns with extended groups.
fn ext_match(pat: &[PatChar], s: &[char]) -> bool {
    let Some(&(c, lit)) = pat.first() else {
        return s.is_empty();
    };
    if let Some((op, alts, after)) = ext_group(pat, 0) {
        let rest = &pat[after..];
        let any = |t: &[char]| alts.iter().any(|a| ext_match(a, t));
        return match op {
            '@' => (0..=s.len()).any(|k| any(&s[..k]) && ext_match(rest, &s[k..])),
            '?' => {
                ext_match(rest, s)
                    || (0..=s.len()).any(|k| any(&s[..k]) && ext_match(rest, &s[k..]))
            }
            '!' => (0..=s.len()).any(|k| !any(&s[..k]) && ext_match(rest, &s[k..])),
            // `*(..)` and `+(..)`: one occurrence, then the same group again or the rest.
            _ => {
                (op == '*' && ext_match(rest, s))
                    || (1..=s.len()).any(|k| {
                        any(&s[..k])
                            && (ext_match(rest, &s[k..])
                                || ext_match(
                                    &[&[('*', false), ('(', false)][..], &pat[2..]].concat(),
                                    &s[k..],
                                ))
                    })
            }
        };
    }
    match (c, lit) {
        ('*', false) => (0..=s.len()).any(|k| ext_match(&pat[1..], &s[k..])),
        ('?', false) => !s.is_empty() && ext_match(&pat[1..], &s[1..]),
        ('[', false) => match (s.first(), bracket(pat, 0, *s.first().unwrap_or(&'\0'))) {
            (Some(_), Some((true, next))) => ext_match(&pat[next..], &s[1..]),
            (Some(_), Some((false, _))) | (None, _) => false,
            (Some(&f), None) => f == '[' && ext_match(&pat[1..], &s[1..]),
        },
        ('\\', false) if pat.len() > 1 => {
            s.first() == Some(&pat[1].0) && ext_match(&pat[2..], &s[1..])
        }
        (c, _) => s.first() == Some(&c) && ext_match(&pat[1..], &s[1..]),
    }
}

/// The matcher for patterns without extended groups.
fn simple_match(pat: &[PatChar], s: &[char]) -> bool {
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

/// [`has_magic`], counting extended groups as special too.
pub fn has_magic_extglob(pat: &[PatChar]) -> bool {
    has_magic(pat) || has_extglob(pat)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        matches(&unquoted(p), &s.chars().collect::<Vec<_>>())
    }

    fn x(p: &str, s: &str) -> bool {
        matches_extglob(&unquoted(p), &s.chars().collect::<Vec<_>>())
    }

    #[test]
    fn extended_groups() {
        // Plain matching keeps `(` literal, as find -name does.
        assert!(m("*(1)*", "photo (1).jpg"));
        assert!(!m("@(a|b)", "a"));
        assert!(x("@(*.txt|*.md)", "foo.md"));
        assert!(!x("@(*.txt|*.md)", "foo.rs"));
        assert!(x("!(a*)", "def.txt"));
        assert!(!x("!(a*)", "abc"));
        assert!(x("ab?(c).txt", "ab.txt"));
        assert!(x("ab?(c).txt", "abc.txt"));
        assert!(x("*(ab|ad|ac).txt", "abadac.txt"));
        assert!(x("*(ab|ad|ac).txt", ".txt"));
        assert!(x("f+(ab|ad|ac).txt", "fabadac.txt"));
        assert!(!x("f+(ab|ad|ac).txt", "f.txt"));
        assert!(x("@(|abc.txt)", "abc.txt"));
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
