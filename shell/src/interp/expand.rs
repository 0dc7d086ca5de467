//! Word expansion: tilde, parameters, command substitution, quote removal and
//! field splitting, on top of brush-parser's word parser (`brush_parser::word`).
//!
//! A word first becomes a list of [`Item`]s that remember which text was quoted
//! and which came from an unquoted expansion (only that is split on IFS); fields are
//! cut from those, each with its pattern form so that only unquoted `*?[` glob in
//! the image (see `glob.rs`). Brace expansion comes first, on the raw word.
//! Parameter expansion itself lives in `param.rs`.

use brush_parser::word::{self, Parameter, ParameterExpr, SpecialParameter, WordPiece};

use super::pattern::PatChar;
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
pub(super) enum Item {
    /// `quoted`: from quotes (literal, never split). `split`: from an unquoted
    /// expansion (subject to field splitting).
    Text {
        text: String,
        quoted: bool,
        split: bool,
    },
    /// A field boundary that is not an IFS character ("$@"); where fields are not
    /// made (assignments) it becomes the text it holds: a space for `$@`, the first
    /// character of IFS for `$*`.
    Break(String),
}

/// Whether a quoted `expr` makes one field per element (`$@`, `${a[@]}`, with an
/// element-wise operator), so that it makes no field at all when there are none.
fn expands_to_all(expr: &ParameterExpr) -> bool {
    use ParameterExpr as P;
    let param = match expr {
        P::Parameter { parameter, .. }
        | P::Substring { parameter, .. }
        | P::ReplaceSubstring { parameter, .. }
        | P::RemoveSmallestSuffixPattern { parameter, .. }
        | P::RemoveLargestSuffixPattern { parameter, .. }
        | P::RemoveSmallestPrefixPattern { parameter, .. }
        | P::RemoveLargestPrefixPattern { parameter, .. }
        | P::UppercaseFirstChar { parameter, .. }
        | P::UppercasePattern { parameter, .. }
        | P::LowercaseFirstChar { parameter, .. }
        | P::LowercasePattern { parameter, .. }
        | P::Transform { parameter, .. } => parameter,
        // `"${!a[@]}"`, `"${!p@}"`: a word per key or name, none when there are none.
        P::MemberKeys {
            concatenate: false, ..
        }
        | P::VariableNames {
            concatenate: false, ..
        } => return true,
        _ => return false,
    };
    matches!(
        param,
        Parameter::Special(SpecialParameter::AllPositionalParameters { concatenate: false })
            | Parameter::NamedWithAllIndices {
                concatenate: false,
                ..
            }
    )
}

pub(super) fn lit(text: impl Into<String>, quoted: bool) -> Item {
    Item::Text {
        text: text.into(),
        quoted,
        split: false,
    }
}

pub(super) fn bad_subst(fds: &Fds, word: &str) -> Fail {
    fds.error(&format!("{word}: bad substitution"));
    Fail::Status(1)
}

impl Shell {
    /// Expands words into fields (all expansions, field splitting, quote removal).
    pub(crate) fn expand_fields(&mut self, words: &[&str], fds: &Fds) -> ExpResult<Vec<String>> {
        let mut out = Vec::new();
        for w in words {
            for w in super::glob::brace_expand(w) {
                let items = self.expand_raw(&w, false, fds)?;
                for (field, pat) in self.split_fields(items) {
                    if super::glob::has_glob(&pat) && !self.options.others.contains("noglob") {
                        let found = self.glob(&pat);
                        if !found.is_empty() {
                            out.extend(found);
                            continue;
                        }
                        if self.shopt("failglob") {
                            // bash: the error abandons the rest of the complete command.
                            fds.error(&format!("no match: {field}"));
                            return Err(Fail::Flow(Flow::Abort(1)));
                        }
                        if self.shopt("nullglob") {
                            continue;
                        }
                    }
                    out.push(field);
                }
            }
        }
        Ok(out)
    }

    /// [`Shell::expand_fields`], but the words at the indices in `whole` are already
    /// expanded and stay one field each.
    pub(crate) fn expand_fields_except(
        &mut self,
        words: &[&str],
        whole: &std::collections::BTreeSet<usize>,
        fds: &Fds,
    ) -> ExpResult<Vec<String>> {
        let mut out = Vec::new();
        for (i, w) in words.iter().enumerate() {
            if whole.contains(&i) {
                out.push(w.to_string());
            } else {
                out.extend(self.expand_fields(&[w], fds)?);
            }
        }
        Ok(out)
    }

    /// Expands one word to one string, without field splitting (assignments,
    /// redirection targets, `case` words).
    pub(crate) fn expand_string(&mut self, word: &str, fds: &Fds) -> ExpResult<String> {
        let items = self.expand_raw(word, false, fds)?;
        Ok(join_items(&items, " "))
    }

    /// Expands the value of an assignment word: like [`Shell::expand_string`], with
    /// a `~` after each unquoted `:` expanded too (`PATH=~/bin:~/local/bin`).
    pub(crate) fn expand_assigned(&mut self, word: &str, fds: &Fds) -> ExpResult<String> {
        let mut opts = parser_options();
        opts.tilde_expansion_after_colon = true;
        let items = self.expand_raw_with(word, false, &opts, fds)?;
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
        let pieces =
            super::depth::with_parse_stack(body, || word::parse_heredoc(body, &parser_options()))
                .ok()
                .and_then(Result::ok)
                .ok_or_else(|| bad_subst(fds, body))?;
        let mut items = Vec::new();
        for p in pieces {
            self.expand_piece(&p.piece, true, fds, &mut items)?;
        }
        Ok(join_items(&items, ""))
    }

    /// Expands a raw word into items. `quoted`: the word sits inside double quotes.
    pub(super) fn expand_raw(
        &mut self,
        raw: &str,
        quoted: bool,
        fds: &Fds,
    ) -> ExpResult<Vec<Item>> {
        self.expand_raw_with(raw, quoted, &parser_options(), fds)
    }

    /// [`Shell::expand_raw`] with the word parsed under `opts`.
    fn expand_raw_with(
        &mut self,
        raw: &str,
        quoted: bool,
        opts: &brush_parser::ParserOptions,
        fds: &Fds,
    ) -> ExpResult<Vec<Item>> {
        // Words nest (`${x:-${y:-...}}`): parse on a stack sized for them, and expand
        // each level on a stack that grows (see depth.rs).
        let pieces = super::depth::with_parse_stack(raw, || word::parse(raw, opts))
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| bad_subst(fds, raw))?;
        super::depth::nested(|| {
            let mut items = Vec::new();
            for p in pieces {
                self.expand_piece(&p.piece, quoted, fds, &mut items)?;
            }
            Ok(items)
        })
    }

    fn expand_piece(
        &mut self,
        piece: &WordPiece,
        quoted: bool,
        fds: &Fds,
        out: &mut Vec<Item>,
    ) -> ExpResult<()> {
        match piece {
            WordPiece::Text(t) => out.push(lit(t.clone(), quoted)),
            WordPiece::SingleQuotedText(t) => out.push(lit(t.clone(), true)),
            WordPiece::AnsiCQuotedText(t) => out.push(lit(ansi_c(t), true)),
            WordPiece::DoubleQuotedSequence(seq) | WordPiece::GettextDoubleQuotedSequence(seq) => {
                // An empty "" still makes a field, except "$@" or "${a[@]}" (also with
                // an operator, like "${a[@]:1}") when there are no elements.
                let only_at = seq.len() == 1
                    && matches!(&seq[0].piece, WordPiece::ParameterExpansion(e) if expands_to_all(e));
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
                    // Unset PWD/OLDPWD, or no such stack entry: the word stays as written.
                    TildeExpr::WorkingDir => self.get("PWD").map_or("~+".into(), str::to_string),
                    TildeExpr::OldWorkingDir => {
                        self.get("OLDPWD").map_or("~-".into(), str::to_string)
                    }
                    TildeExpr::NthDirFromTopOfDirStack { n, .. } => {
                        match self.dir_entries().get(*n) {
                            Some(d) => d.clone(),
                            None => format!("~{}", tilde_text(t)),
                        }
                    }
                    TildeExpr::NthDirFromBottomOfDirStack { n } => {
                        let all = self.dir_entries();
                        match all.len().checked_sub(1 + *n).and_then(|i| all.get(i)) {
                            Some(d) => d.clone(),
                            None => format!("~{}", tilde_text(t)),
                        }
                    }
                    TildeExpr::UserHome(u) if u == "root" => "/root".into(),
                    TildeExpr::UserHome(u) => format!("~{u}"),
                };
                out.push(lit(v, true));
            }
            WordPiece::ParameterExpansion(expr) => self.expand_param(expr, quoted, fds, out)?,
            WordPiece::CommandSubstitution(cmd) | WordPiece::BackquotedCommandSubstitution(cmd) => {
                let text = self.command_substitution(cmd, fds);
                out.push(Item::Text {
                    text,
                    quoted,
                    split: !quoted,
                });
            }
            WordPiece::ArithmeticExpression(e) => {
                let v = self.arith_text(&e.value, None, fds)?;
                out.push(Item::Text {
                    text: v.to_string(),
                    quoted,
                    split: !quoted,
                });
            }
        }
        Ok(())
    }

    /// Splits items into fields on IFS (only text from unquoted expansions is split);
    /// each field comes with its pattern form (quoted characters marked literal).
    fn split_fields(&self, items: Vec<Item>) -> Vec<(String, Vec<PatChar>)> {
        let ifs = self.get("IFS").unwrap_or(" \t\n").to_string();
        let mut fields = Vec::new();
        let mut cur = String::new();
        let mut pat: Vec<PatChar> = Vec::new();
        // Whether the current field exists even if empty (quotes were seen).
        let mut exists = false;
        let end_field =
            |cur: &mut String, pat: &mut Vec<PatChar>, fields: &mut Vec<(String, Vec<PatChar>)>| {
                fields.push((std::mem::take(cur), std::mem::take(pat)));
            };
        // A field just ended at IFS whitespace: a non-whitespace IFS character next
        // belongs to the same delimiter (`a : b` is two fields).
        let mut ws_ended = false;
        for it in items {
            match it {
                Item::Break(_) => {
                    // An unquoted empty element makes no field.
                    if exists || !cur.is_empty() {
                        end_field(&mut cur, &mut pat, &mut fields);
                    }
                    exists = false;
                    ws_ended = false;
                }
                Item::Text {
                    text,
                    split: false,
                    quoted,
                } => {
                    cur.push_str(&text);
                    pat.extend(text.chars().map(|c| (c, quoted)));
                    exists = true;
                    ws_ended = false;
                }
                Item::Text {
                    text,
                    split: true,
                    quoted,
                } => {
                    for c in text.chars() {
                        if !ifs.contains(c) {
                            cur.push(c);
                            pat.push((c, quoted));
                            exists = true;
                            ws_ended = false;
                        } else if c.is_ascii_whitespace() {
                            if exists || !cur.is_empty() {
                                end_field(&mut cur, &mut pat, &mut fields);
                                exists = false;
                                ws_ended = true;
                            }
                        } else if ws_ended {
                            ws_ended = false;
                        } else {
                            // A non-whitespace IFS char always ends a field, even an empty one.
                            end_field(&mut cur, &mut pat, &mut fields);
                            exists = false;
                        }
                    }
                }
            }
        }
        if exists || !cur.is_empty() {
            end_field(&mut cur, &mut pat, &mut fields);
        }
        fields
    }
}

pub(super) fn join_items(items: &[Item], sep: &str) -> String {
    let mut s = String::new();
    for it in items {
        match it {
            Item::Text { text, .. } => s.push_str(text),
            Item::Break(join) => s.push_str(if sep == " " { join } else { sep }),
        }
    }
    s
}

fn tilde_text(t: &brush_parser::word::TildeExpr) -> String {
    use brush_parser::word::TildeExpr;
    match t {
        TildeExpr::NthDirFromTopOfDirStack { n, plus_used } => {
            format!("{}{n}", if *plus_used { "+" } else { "" })
        }
        TildeExpr::NthDirFromBottomOfDirStack { n } => format!("-{n}"),
        _ => String::new(),
    }
}

/// Decodes the escapes of `$'...'`.
pub(crate) fn ansi_c(s: &str) -> String {
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
                if k == 0 {
                    // `\x` without hex digits stays as written.
                    out.push_str("\\x");
                } else {
                    out.extend(char::from_u32(v));
                }
            }
            Some(u @ ('u' | 'U')) => {
                let max = if u == 'u' { 4 } else { 8 };
                let mut v = 0u32;
                let mut k = 0;
                while k < max && it.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    v = v * 16 + it.next().unwrap().to_digit(16).unwrap();
                    k += 1;
                }
                match char::from_u32(v).filter(|_| k > 0) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push('\\');
                        out.push(u);
                    }
                }
            }
            // \cX: the control character of X.
            Some('c') => match it.next() {
                Some(x) => out.extend(char::from_u32(x.to_ascii_uppercase() as u32 ^ 0x40)),
                None => out.push_str("\\c"),
            },
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('?') => out.push('?'),
            Some('\\') => out.push('\\'),
            Some(d @ '0'..='7') => {
                let mut v = d.to_digit(8).unwrap();
                let mut k = 1;
                while k < 3 && it.peek().is_some_and(|c| ('0'..='7').contains(c)) {
                    v = v * 8 + it.next().unwrap().to_digit(8).unwrap();
                    k += 1;
                }
                out.extend(char::from_u32(v));
            }
            // An unknown escape stays as written.
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}
