//! Word expansion: tilde, parameters, command substitution, quote removal and
//! field splitting, on top of brush-parser's word parser (`brush_parser::word`).
//!
//! A word first becomes a list of [`Item`]s that remember which text was quoted
//! and which came from an unquoted expansion (only that is split on IFS); fields are
//! cut from those. Pathname expansion (globbing in the image) is not done yet: the
//! quoting information it needs is kept until field splitting.

use brush_parser::word::{self, Parameter, ParameterExpr, ParameterTestType, SpecialParameter, WordPiece};

use super::pattern::{self, PatChar};
use super::{Fds, Flow, Shell, parser_options};

/// Why an expansion stopped: a failed command (status) or unwinding (`${x:?}` exits).
#[derive(Debug)]
pub enum Fail {
    Status(i32),
    Flow(Flow),
}

/// Result of an expansion.
pub type ExpResult<T> = Result<T, Fail>;

/// A piece of expanded text.
#[derive(Debug, Clone)]
enum Item {
    /// `quoted`: from quotes (literal, never split). `split`: from an unquoted
    /// expansion (subject to field splitting).
    Text { text: String, quoted: bool, split: bool },
    /// A field boundary that is not an IFS character ("$@").
    Break,
}

fn lit(text: impl Into<String>, quoted: bool) -> Item {
    Item::Text { text: text.into(), quoted, split: false }
}

fn bad_subst(fds: &Fds, word: &str) -> Fail {
    fds.error(&format!("{word}: bad substitution"));
    Fail::Status(1)
}

impl Shell {
    /// Expands words into fields (all expansions, field splitting, quote removal).
    pub(crate) fn expand_fields(&mut self, words: &[&str], fds: &Fds) -> ExpResult<Vec<String>> {
        let mut out = Vec::new();
        for w in words {
            let items = self.expand_raw(w, false, fds)?;
            out.extend(self.split_fields(items));
        }
        Ok(out)
    }

    /// Expands one word to one string, without field splitting (assignments,
    /// redirection targets, `case` words).
    pub(crate) fn expand_string(&mut self, word: &str, fds: &Fds) -> ExpResult<String> {
        let items = self.expand_raw(word, false, fds)?;
        Ok(join_items(&items, " "))
    }

    /// Expands a word used as a pattern: quoted characters become literal.
    pub(crate) fn expand_pattern(&mut self, word: &str, fds: &Fds) -> ExpResult<Vec<PatChar>> {
        let items = self.expand_raw(word, false, fds)?;
        let mut pat = Vec::new();
        for it in items {
            if let Item::Text { text, quoted, .. } = it {
                pat.extend(text.chars().map(|c| (c, quoted)));
            }
        }
        Ok(pat)
    }

    /// Expands a here-document body (parameters and substitutions; quotes are literal).
    pub(crate) fn expand_heredoc(&mut self, body: &str, fds: &Fds) -> ExpResult<String> {
        let pieces = word::parse_heredoc(body, &parser_options())
            .map_err(|_| bad_subst(fds, body))?;
        let mut items = Vec::new();
        for p in pieces {
            self.expand_piece(&p.piece, true, fds, &mut items)?;
        }
        Ok(join_items(&items, ""))
    }

    /// Expands a raw word into items. `quoted`: the word sits inside double quotes.
    fn expand_raw(&mut self, raw: &str, quoted: bool, fds: &Fds) -> ExpResult<Vec<Item>> {
        let pieces = word::parse(raw, &parser_options()).map_err(|_| bad_subst(fds, raw))?;
        let mut items = Vec::new();
        for p in pieces {
            self.expand_piece(&p.piece, quoted, fds, &mut items)?;
        }
        Ok(items)
    }

    fn expand_piece(&mut self, piece: &WordPiece, quoted: bool, fds: &Fds, out: &mut Vec<Item>) -> ExpResult<()> {
        match piece {
            WordPiece::Text(t) => out.push(lit(t.clone(), quoted)),
            WordPiece::SingleQuotedText(t) => out.push(lit(t.clone(), true)),
            WordPiece::AnsiCQuotedText(t) => out.push(lit(ansi_c(t), true)),
            WordPiece::DoubleQuotedSequence(seq) | WordPiece::GettextDoubleQuotedSequence(seq) => {
                // An empty "" still makes a field, except "$@" with no parameters.
                let only_at = seq.len() == 1
                    && matches!(&seq[0].piece, WordPiece::ParameterExpansion(ParameterExpr::Parameter {
                        parameter: Parameter::Special(SpecialParameter::AllPositionalParameters { concatenate: false }), ..
                    }));
                if !only_at {
                    out.push(lit("", true));
                }
                for p in seq {
                    self.expand_piece(&p.piece, true, fds, out)?;
                }
            }
            WordPiece::EscapeSequence(s) => {
                // "\x" → "x". Inside double quotes the parser only makes escapes of \$ \` \" \\.
                let c: String = s.chars().skip(1).collect();
                out.push(lit(c, true));
            }
            WordPiece::TildeExpansion(t) => {
                use brush_parser::word::TildeExpr;
                let v = match t {
                    TildeExpr::Home => self.get("HOME").unwrap_or("").to_string(),
                    TildeExpr::WorkingDir => self.get("PWD").unwrap_or("").to_string(),
                    TildeExpr::OldWorkingDir => self.get("OLDPWD").unwrap_or("").to_string(),
                    TildeExpr::UserHome(u) if u == "root" => "/root".into(),
                    TildeExpr::UserHome(u) => format!("~{u}"),
                    other => format!("~{}", tilde_text(other)),
                };
                out.push(lit(v, true));
            }
            WordPiece::ParameterExpansion(expr) => self.expand_param(expr, quoted, fds, out)?,
            WordPiece::CommandSubstitution(cmd) | WordPiece::BackquotedCommandSubstitution(cmd) => {
                let text = self.command_substitution(cmd, fds);
                out.push(Item::Text { text, quoted, split: !quoted });
            }
            WordPiece::ArithmeticExpression(e) => {
                fds.error(&format!("$(({})): arithmetic expansion is not supported yet", e.value));
                return Err(Fail::Status(1));
            }
        }
        Ok(())
    }

    /// The values of a parameter: None when unset; several for `$@`/`$*`.
    fn param_values(&self, p: &Parameter) -> Option<Vec<String>> {
        let one = |s: &str| Some(vec![s.to_string()]);
        match p {
            Parameter::Positional(n) => self.positional.get(*n as usize - 1).map(|v| vec![v.clone()]),
            Parameter::Named(name) => self.get(name).map(|v| vec![v.to_string()]),
            // Arrays are not there yet: a scalar is element 0.
            Parameter::NamedWithIndex { name, index } => {
                if index.trim() == "0" { self.get(name).map(|v| vec![v.to_string()]) } else { None }
            }
            Parameter::NamedWithAllIndices { name, .. } => Some(self.get(name).map(|v| vec![v.to_string()]).unwrap_or_default()),
            Parameter::Special(s) => match s {
                SpecialParameter::AllPositionalParameters { .. } => Some(self.positional.clone()),
                SpecialParameter::PositionalParameterCount => one(&self.positional.len().to_string()),
                SpecialParameter::LastExitStatus => one(&self.status.to_string()),
                SpecialParameter::CurrentOptionFlags => {
                    let o = &self.options;
                    let flags: String = [(o.errexit, 'e'), (o.nounset, 'u'), (o.xtrace, 'x')]
                        .iter()
                        .filter(|f| f.0)
                        .map(|f| f.1)
                        .chain("hB".chars())
                        .collect();
                    one(&flags)
                }
                SpecialParameter::ProcessId => one(&std::process::id().to_string()),
                SpecialParameter::LastBackgroundProcessId => None,
                SpecialParameter::ShellName => one(&self.arg0),
            },
        }
    }

    /// A parameter as one string (`$*`-joined), None when unset; applies `indirect`.
    fn param_string(&self, p: &Parameter, indirect: bool) -> Option<String> {
        let v = self.param_values(p)?.join(&self.ifs_first());
        if indirect { self.get(&v).map(str::to_string) } else { Some(v) }
    }

    fn ifs_first(&self) -> String {
        match self.get("IFS") {
            None => " ".into(),
            Some(s) => s.chars().next().map(String::from).unwrap_or_default(),
        }
    }

    fn expand_param(&mut self, expr: &ParameterExpr, quoted: bool, fds: &Fds, out: &mut Vec<Item>) -> ExpResult<()> {
        let push = |out: &mut Vec<Item>, text: String| out.push(Item::Text { text, quoted, split: !quoted });
        let is_set = |v: &Option<String>, t: &ParameterTestType| match t {
            ParameterTestType::Unset => v.is_some(),
            ParameterTestType::UnsetOrNull => v.as_deref().is_some_and(|s| !s.is_empty()),
        };
        match expr {
            ParameterExpr::Parameter { parameter, indirect } => {
                if let (Parameter::Special(SpecialParameter::AllPositionalParameters { concatenate }), false) =
                    (parameter, indirect)
                {
                    // "$@" keeps the parameters as separate fields; unquoted $@ / $* too.
                    if quoted && *concatenate {
                        push(out, self.positional.join(&self.ifs_first()));
                    } else {
                        for (i, v) in self.positional.iter().enumerate() {
                            if i > 0 {
                                out.push(Item::Break);
                            }
                            push(out, v.clone());
                        }
                    }
                    return Ok(());
                }
                match self.param_string(parameter, *indirect) {
                    Some(v) => push(out, v),
                    None => self.unbound(parameter, fds)?,
                }
            }
            ParameterExpr::UseDefaultValues { parameter, indirect, test_type, default_value } => {
                let v = self.param_string(parameter, *indirect);
                if is_set(&v, test_type) {
                    push(out, v.unwrap_or_default());
                } else if let Some(d) = default_value {
                    out.extend(self.expand_raw(d, quoted, fds)?);
                }
            }
            ParameterExpr::AssignDefaultValues { parameter, indirect, test_type, default_value } => {
                let v = self.param_string(parameter, *indirect);
                if is_set(&v, test_type) {
                    push(out, v.unwrap_or_default());
                } else {
                    let d = match default_value {
                        Some(d) => join_items(&self.expand_raw(d, quoted, fds)?, " "),
                        None => String::new(),
                    };
                    let Parameter::Named(name) = parameter else {
                        fds.error(&format!("${parameter}: cannot assign in this way"));
                        return Err(Fail::Status(1));
                    };
                    if let Err(e) = self.set(name, d.clone()) {
                        fds.error(&e);
                        return Err(Fail::Status(1));
                    }
                    push(out, d);
                }
            }
            ParameterExpr::IndicateErrorIfNullOrUnset { parameter, indirect, test_type, error_message } => {
                let v = self.param_string(parameter, *indirect);
                if is_set(&v, test_type) {
                    push(out, v.unwrap_or_default());
                } else {
                    let msg = match error_message {
                        Some(m) => join_items(&self.expand_raw(m, quoted, fds)?, " "),
                        None => "parameter null or not set".into(),
                    };
                    fds.error(&format!("{}: {msg}", param_name(parameter)));
                    // A non-interactive shell exits here.
                    return Err(Fail::Flow(Flow::Exit(1)));
                }
            }
            ParameterExpr::UseAlternativeValue { parameter, indirect, test_type, alternative_value } => {
                let v = self.param_string(parameter, *indirect);
                if is_set(&v, test_type) {
                    if let Some(a) = alternative_value {
                        out.extend(self.expand_raw(a, quoted, fds)?);
                    }
                }
            }
            ParameterExpr::ParameterLength { parameter, indirect } => {
                let n = match parameter {
                    Parameter::Special(SpecialParameter::AllPositionalParameters { .. }) => self.positional.len(),
                    _ => match self.param_string(parameter, *indirect) {
                        Some(v) => v.chars().count(),
                        None => {
                            self.unbound(parameter, fds)?;
                            0
                        }
                    },
                };
                push(out, n.to_string());
            }
            ParameterExpr::RemoveSmallestSuffixPattern { parameter, indirect, pattern }
            | ParameterExpr::RemoveLargestSuffixPattern { parameter, indirect, pattern }
            | ParameterExpr::RemoveSmallestPrefixPattern { parameter, indirect, pattern }
            | ParameterExpr::RemoveLargestPrefixPattern { parameter, indirect, pattern } => {
                let v = self.param_string(parameter, *indirect).unwrap_or_default();
                let pat = match pattern {
                    Some(p) => self.expand_pattern(p, fds)?,
                    None => Vec::new(),
                };
                let (suffix, largest) = match expr {
                    ParameterExpr::RemoveSmallestSuffixPattern { .. } => (true, false),
                    ParameterExpr::RemoveLargestSuffixPattern { .. } => (true, true),
                    ParameterExpr::RemoveSmallestPrefixPattern { .. } => (false, false),
                    _ => (false, true),
                };
                push(out, remove_affix(&v, &pat, suffix, largest));
            }
            ParameterExpr::Transform { parameter, indirect, op } => {
                use brush_parser::word::ParameterTransformOp as Op;
                let v = self.param_string(parameter, *indirect).unwrap_or_default();
                let t = match op {
                    Op::ToUpperCase => v.to_uppercase(),
                    Op::ToLowerCase => v.to_lowercase(),
                    Op::CapitalizeInitial => capitalize(&v),
                    Op::Quoted => format!("'{}'", v.replace('\'', "'\\''")),
                    _ => return Err(bad_subst(fds, &format!("${{{}}}", param_name(parameter)))),
                };
                push(out, t);
            }
            ParameterExpr::UppercaseFirstChar { parameter, indirect, pattern }
            | ParameterExpr::UppercasePattern { parameter, indirect, pattern }
            | ParameterExpr::LowercaseFirstChar { parameter, indirect, pattern }
            | ParameterExpr::LowercasePattern { parameter, indirect, pattern } => {
                let v = self.param_string(parameter, *indirect).unwrap_or_default();
                // No pattern (brush gives Some("") for `${v^^}`) means every character.
                let pat = match pattern.as_deref() {
                    None | Some("") => vec![('?', false)],
                    Some(p) => self.expand_pattern(p, fds)?,
                };
                let upper = matches!(expr, ParameterExpr::UppercaseFirstChar { .. } | ParameterExpr::UppercasePattern { .. });
                let all = matches!(expr, ParameterExpr::UppercasePattern { .. } | ParameterExpr::LowercasePattern { .. });
                let mut t = String::new();
                for (i, c) in v.chars().enumerate() {
                    if (all || i == 0) && pattern::matches(&pat, &[c]) {
                        if upper { t.extend(c.to_uppercase()) } else { t.extend(c.to_lowercase()) }
                    } else {
                        t.push(c);
                    }
                }
                push(out, t);
            }
            ParameterExpr::ReplaceSubstring { parameter, indirect, pattern, replacement, match_kind } => {
                let v = self.param_string(parameter, *indirect).unwrap_or_default();
                let pat = self.expand_pattern(pattern, fds)?;
                let rep = match replacement {
                    Some(r) => self.expand_string(r, fds)?,
                    None => String::new(),
                };
                push(out, replace(&v, &pat, &rep, match_kind));
            }
            ParameterExpr::Substring { parameter, indirect, offset, length } => {
                let v: Vec<char> = self.param_string(parameter, *indirect).unwrap_or_default().chars().collect();
                // Only literal numbers until arithmetic lands.
                let num = |s: &str| s.trim().parse::<i64>().ok();
                let Some(off) = num(&offset.value) else {
                    return Err(bad_subst(fds, &format!("${{{}:{}}}", param_name(parameter), offset.value)));
                };
                let len = v.len() as i64;
                let start = if off < 0 { (len + off).max(0) } else { off.min(len) };
                let end = match length.as_ref().map(|l| num(&l.value)) {
                    None => len,
                    Some(Some(l)) if l < 0 => (len + l).max(start),
                    Some(Some(l)) => (start + l).min(len),
                    Some(None) => return Err(bad_subst(fds, &format!("${{{}}}", param_name(parameter)))),
                };
                push(out, v[start as usize..end as usize].iter().collect());
            }
            ParameterExpr::VariableNames { prefix, .. } => {
                let mut names: Vec<&String> = self.vars.keys().filter(|k| k.starts_with(prefix.as_str())).collect();
                names.sort();
                let joined = names.into_iter().cloned().collect::<Vec<_>>().join(" ");
                push(out, joined);
            }
            ParameterExpr::MemberKeys { variable_name, .. } => {
                if self.get(variable_name).is_some() {
                    push(out, "0".into());
                }
            }
        }
        Ok(())
    }

    /// `set -u`: an unset parameter is an error that ends a non-interactive shell.
    fn unbound(&self, p: &Parameter, fds: &Fds) -> ExpResult<()> {
        let special = matches!(p, Parameter::Special(_));
        if self.options.nounset && !special {
            fds.error(&format!("{}: unbound variable", param_name(p)));
            return Err(Fail::Flow(Flow::Exit(1)));
        }
        Ok(())
    }

    /// Splits items into fields on IFS (only text from unquoted expansions is split).
    fn split_fields(&self, items: Vec<Item>) -> Vec<String> {
        let ifs = self.get("IFS").unwrap_or(" \t\n").to_string();
        let mut fields = Vec::new();
        let mut cur = String::new();
        // Whether the current field exists even if empty (quotes were seen).
        let mut exists = false;
        for it in items {
            match it {
                Item::Break => {
                    fields.push(std::mem::take(&mut cur));
                    exists = false;
                }
                Item::Text { text, split: false, .. } => {
                    cur.push_str(&text);
                    exists = true;
                }
                Item::Text { text, split: true, .. } => {
                    for c in text.chars() {
                        if !ifs.contains(c) {
                            cur.push(c);
                            exists = true;
                        } else if c.is_ascii_whitespace() {
                            if exists || !cur.is_empty() {
                                fields.push(std::mem::take(&mut cur));
                                exists = false;
                            }
                        } else {
                            // A non-whitespace IFS char always ends a field, even an empty one.
                            fields.push(std::mem::take(&mut cur));
                            exists = false;
                        }
                    }
                }
            }
        }
        if exists || !cur.is_empty() {
            fields.push(cur);
        }
        fields
    }
}

fn join_items(items: &[Item], sep: &str) -> String {
    let mut s = String::new();
    for it in items {
        match it {
            Item::Text { text, .. } => s.push_str(text),
            Item::Break => s.push_str(sep),
        }
    }
    s
}

fn param_name(p: &Parameter) -> String {
    let s = p.to_string();
    s.trim_start_matches('$').trim_start_matches('{').trim_end_matches('}').to_string()
}

fn tilde_text(t: &brush_parser::word::TildeExpr) -> String {
    use brush_parser::word::TildeExpr;
    match t {
        TildeExpr::NthDirFromTopOfDirStack { n, plus_used } => format!("{}{n}", if *plus_used { "+" } else { "" }),
        TildeExpr::NthDirFromBottomOfDirStack { n } => format!("-{n}"),
        _ => String::new(),
    }
}

fn capitalize(v: &str) -> String {
    let mut c = v.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// `${v%pat}` and friends.
fn remove_affix(v: &str, pat: &[PatChar], suffix: bool, largest: bool) -> String {
    let chars: Vec<char> = v.chars().collect();
    let n = chars.len();
    // Candidate cut points, tried from the smallest removal to the largest (or back).
    let mut cuts: Vec<usize> = (0..=n).collect();
    if largest {
        cuts.reverse();
    }
    for k in cuts {
        let (part, keep) = if suffix { (&chars[n - k..], &chars[..n - k]) } else { (&chars[..k], &chars[k..]) };
        if pattern::matches(pat, part) {
            return keep.iter().collect();
        }
    }
    v.to_string()
}

/// `${v/pat/rep}` and friends.
fn replace(v: &str, pat: &[PatChar], rep: &str, kind: &brush_parser::word::SubstringMatchKind) -> String {
    use brush_parser::word::SubstringMatchKind as K;
    let chars: Vec<char> = v.chars().collect();
    let n = chars.len();
    if pat.is_empty() {
        return v.to_string();
    }
    // Longest match starting at `i` (and ending at n when `anchored_end`).
    let longest_at = |i: usize, anchored_end: bool| -> Option<usize> {
        (i..=n).rev().find(|&j| (!anchored_end || j == n) && pattern::matches(pat, &chars[i..j]))
    };
    match kind {
        K::Prefix => match longest_at(0, false) {
            Some(j) => format!("{rep}{}", chars[j..].iter().collect::<String>()),
            None => v.to_string(),
        },
        K::Suffix => match (0..=n).find(|&i| longest_at(i, true).is_some()) {
            Some(i) => format!("{}{rep}", chars[..i].iter().collect::<String>()),
            None => v.to_string(),
        },
        K::FirstOccurrence | K::Anywhere => {
            let mut out = String::new();
            let mut i = 0;
            let mut done = false;
            while i < n {
                if !done {
                    if let Some(j) = longest_at(i, false).filter(|&j| j > i) {
                        out.push_str(rep);
                        i = j;
                        done = matches!(kind, K::FirstOccurrence);
                        continue;
                    }
                }
                out.push(chars[i]);
                i += 1;
            }
            out
        }
    }
}

/// Decodes the escapes of `$'...'`.
fn ansi_c(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\x07'),
            Some('b') => out.push('\x08'),
            Some('e') | Some('E') => out.push('\x1b'),
            Some('f') => out.push('\x0c'),
            Some('v') => out.push('\x0b'),
            Some('x') => {
                let mut v = 0u32;
                let mut k = 0;
                while k < 2 && it.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    v = v * 16 + it.next().unwrap().to_digit(16).unwrap();
                    k += 1;
                }
                out.extend(char::from_u32(v));
            }
            Some(d @ '0'..='7') => {
                let mut v = d.to_digit(8).unwrap();
                let mut k = 1;
                while k < 3 && it.peek().is_some_and(|c| ('0'..='7').contains(c)) {
                    v = v * 8 + it.next().unwrap().to_digit(8).unwrap();
                    k += 1;
                }
                out.extend(char::from_u32(v));
            }
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}
