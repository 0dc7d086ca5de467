//! Parameter expansion: `$x`, `${x...}` with bash's operators, special and array
//! parameters, `$RANDOM`/`$LINENO`/`$PIPESTATUS`, and per-element operations on
//! `$@`/`${a[@]}`. Called from the word expander in `expand.rs`.

use brush_parser::word::{self, Parameter, ParameterExpr, ParameterTestType, SpecialParameter};

use super::expand::{ExpResult, Fail, Item, bad_subst, join_items};
use super::pattern::{self, PatChar};
use super::{Fds, Flow, Shell, parser_options};

impl Shell {
    /// The values of a parameter: None when unset; several for `$@`/`$*`.
    fn param_values(&mut self, p: &Parameter) -> Option<Vec<String>> {
        let one = |s: &str| Some(vec![s.to_string()]);
        match p {
            Parameter::Positional(0) => one(&self.arg0),
            Parameter::Positional(n) => self
                .positional
                .get(*n as usize - 1)
                .map(|v| vec![v.clone()]),
            Parameter::Named(orig) => {
                let special = self.special_target(orig);
                let name = &special;
                match name.as_str() {
                    "RANDOM" if !self.vars.contains_key(name) => {
                        one(&self.next_random().to_string())
                    }
                    "LINENO" => one(&self.lineno.to_string()),
                    "BASH_COMMAND" if !self.vars.contains_key(name) => {
                        one(&self.bash_command.clone())
                    }
                    _ if !self.vars.contains_key(name)
                        && let Some(v) = self.dynamic_var(name) =>
                    {
                        Some(vec![v])
                    }
                    "FUNCNAME" | "BASH_LINENO" | "BASH_SOURCE" if !self.vars.contains_key(name) => {
                        self.stack_var(name).into_iter().next().map(|v| vec![v])
                    }
                    "PIPESTATUS" => Some(vec![
                        self.pipestatus.first().copied().unwrap_or(0).to_string(),
                    ]),
                    _ => {
                        // A reference to `a[@]`/`a[*]` stands for all of a's elements.
                        let target = self.ref_target(name);
                        if let Some((n, "@" | "*")) = super::element_ref(&target) {
                            let v = self.vars.get(n)?;
                            return Some(match &v.array {
                                Some(a) => a.values(),
                                None => v.value.iter().cloned().collect(),
                            });
                        }
                        self.get(name).map(|v| vec![v.to_string()])
                    }
                }
            }
            Parameter::NamedWithIndex { name, index } => {
                let name = &self.special_target(name);
                if name == "PIPESTATUS" {
                    let i: usize = self.eval_index(index)?.parse().ok()?;
                    return self.pipestatus.get(i).map(|s| vec![s.to_string()]);
                }
                if super::callstack::is_stack_var(name) && !self.vars.contains_key(name) {
                    let i: usize = self.eval_index(index)?.parse().ok()?;
                    return self.stack_var(name).get(i).map(|s| vec![s.clone()]);
                }
                let key = if self.is_assoc(name) {
                    self.expand_index_text(index)?
                } else {
                    self.eval_index(index)?
                };
                self.get_element(name, &key).map(|v| vec![v])
            }
            Parameter::NamedWithAllIndices { name, .. } => {
                let name = &self.special_target(name);
                if name == "PIPESTATUS" {
                    return Some(self.pipestatus.iter().map(|s| s.to_string()).collect());
                }
                if super::callstack::is_stack_var(name) && !self.vars.contains_key(name) {
                    return Some(self.stack_var(name));
                }
                let v = self.vars.get(self.ref_target(name).as_str())?;
                Some(match &v.array {
                    Some(a) => a.values(),
                    None => v.value.iter().cloned().collect(),
                })
            }
            Parameter::Special(s) => match s {
                SpecialParameter::AllPositionalParameters { .. } => Some(self.positional.clone()),
                SpecialParameter::PositionalParameterCount => {
                    one(&self.positional.len().to_string())
                }
                SpecialParameter::LastExitStatus => one(&self.status.to_string()),
                SpecialParameter::CurrentOptionFlags => {
                    let how = match self.source {
                        super::callstack::Source::Stdin => "s",
                        super::callstack::Source::Command => "c",
                        super::callstack::Source::Script(_) => "",
                    };
                    one(&(self.options.flags() + how))
                }
                SpecialParameter::ProcessId => one(&std::process::id().to_string()),
                SpecialParameter::LastBackgroundProcessId => {
                    self.last_bg.map(|p| vec![p.to_string()])
                }
                SpecialParameter::ShellName => one(&self.arg0),
            },
        }
    }

    /// A parameter as one string (`$*`-joined), None when unset; applies `indirect`.
    fn param_string(&mut self, p: &Parameter, indirect: bool) -> Option<String> {
        if let Some(v) = self.elem_override.take() {
            return Some(v);
        }
        let v = self.param_values(p)?.join(&self.ifs_first());
        if indirect {
            // `${!ref}` of a nameref is the name it refers to.
            if let Parameter::Named(n) = p
                && self.vars.get(n).is_some_and(|v| v.nameref)
            {
                return Some(self.ref_target(n));
            }
            // `${!ref}` where ref may itself name an element (`a[1]`).
            let param = word::parse_parameter(&v, &parser_options()).ok()?;
            self.param_values(&param)
                .map(|vals| vals.join(&self.ifs_first()))
        } else {
            Some(v)
        }
    }

    /// [`Shell::param_string`], but `${a[@]}` of an array without elements is unset
    /// (what `${a[@]-x}` and `${a[@]+x}` test).
    fn param_string_unless_empty_list(&mut self, p: &Parameter, indirect: bool) -> Option<String> {
        if !indirect
            && matches!(p, Parameter::NamedWithAllIndices { .. })
            && self.param_values(p).is_some_and(|v| v.is_empty())
        {
            return None;
        }
        self.param_string(p, indirect)
    }

    /// The name a parameter reads: a reference's target when that is one of the
    /// shell's computed variables (`RANDOM`, `LINENO`, `FUNCNAME`...), else `name`.
    fn special_target(&self, name: &str) -> String {
        if !self.vars.get(name).is_some_and(|v| v.nameref) {
            return name.to_string();
        }
        let t = self.ref_target(name);
        if self.vars.contains_key(&t) || t.contains('[') || t.is_empty() {
            name.to_string()
        } else {
            t
        }
    }

    /// For value-transforming operators on `$@`/`${a[@]}`: the elements to transform
    /// one by one, and whether they are joined (`*`). None otherwise (or when already
    /// transforming one element).
    fn per_element(&mut self, expr: &ParameterExpr) -> Option<(Vec<String>, bool)> {
        use ParameterExpr as P;
        if self.elem_override.is_some() {
            return None;
        }
        let (parameter, indirect) = match expr {
            P::RemoveSmallestSuffixPattern {
                parameter,
                indirect,
                ..
            }
            | P::RemoveLargestSuffixPattern {
                parameter,
                indirect,
                ..
            }
            | P::RemoveSmallestPrefixPattern {
                parameter,
                indirect,
                ..
            }
            | P::RemoveLargestPrefixPattern {
                parameter,
                indirect,
                ..
            }
            | P::Transform {
                parameter,
                indirect,
                ..
            }
            | P::UppercaseFirstChar {
                parameter,
                indirect,
                ..
            }
            | P::UppercasePattern {
                parameter,
                indirect,
                ..
            }
            | P::LowercaseFirstChar {
                parameter,
                indirect,
                ..
            }
            | P::LowercasePattern {
                parameter,
                indirect,
                ..
            }
            | P::ReplaceSubstring {
                parameter,
                indirect,
                ..
            } => (parameter, *indirect),
            _ => return None,
        };
        if indirect {
            return None;
        }
        // `@a`, `@A`, `@K`, `@k` describe the whole array.
        if let P::Transform { op, .. } = expr
            && matches!(
                op,
                brush_parser::word::ParameterTransformOp::ToAttributeFlags
                    | brush_parser::word::ParameterTransformOp::ToAssignmentLogic
                    | brush_parser::word::ParameterTransformOp::PossiblyQuoteWithArraysExpanded { .. }
            )
        {
            return None;
        }
        match parameter {
            Parameter::Special(SpecialParameter::AllPositionalParameters { concatenate }) => {
                Some((self.positional.clone(), *concatenate))
            }
            Parameter::NamedWithAllIndices { concatenate, .. } => Some((
                self.param_values(parameter).unwrap_or_default(),
                *concatenate,
            )),
            _ => None,
        }
    }

    /// The next `$RANDOM` (0..32767), from a small xorshift generator.
    pub(crate) fn next_random(&mut self) -> u32 {
        let mut x = self.random.max(1);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.random = x;
        (x >> 8) % 32768
    }

    /// An indexed array's subscript: arithmetic on the expanded text (None on error).
    fn eval_index(&mut self, index: &str) -> Option<String> {
        let text = self.expand_index_text(index)?;
        let null = super::host_null_fds();
        self.arith_text(&text, None, &null)
            .ok()
            .map(|n| n.to_string())
    }

    /// Expands `$x` inside a subscript.
    fn expand_index_text(&mut self, index: &str) -> Option<String> {
        if !index.contains(['$', '`', '"', '\\', '\'']) {
            return Some(index.to_string());
        }
        let null = super::host_null_fds();
        self.expand_string(index, &null).ok()
    }

    fn ifs_first(&self) -> String {
        match self.get("IFS") {
            None => " ".into(),
            Some(s) => s.chars().next().map(String::from).unwrap_or_default(),
        }
    }

    pub(super) fn expand_param(
        &mut self,
        expr: &ParameterExpr,
        quoted: bool,
        fds: &Fds,
        out: &mut Vec<Item>,
    ) -> ExpResult<()> {
        let push = |out: &mut Vec<Item>, text: String| {
            out.push(Item::Text {
                text,
                quoted,
                split: !quoted,
            })
        };
        let is_set = |v: &Option<String>, t: &ParameterTestType| match t {
            ParameterTestType::Unset => v.is_some(),
            ParameterTestType::UnsetOrNull => v.as_deref().is_some_and(|s| !s.is_empty()),
        };
        if let Some((values, concatenate)) = self.per_element(expr) {
            // `${a[@]/x/y}`, `${@%.c}`...: the operation applies to each element.
            let mut results = Vec::with_capacity(values.len());
            for v in values {
                self.elem_override = Some(v);
                let mut tmp = Vec::new();
                let r = self.expand_param(expr, quoted, fds, &mut tmp);
                self.elem_override = None;
                r?;
                results.push(join_items(&tmp, ""));
            }
            self.push_all(out, results, quoted, concatenate);
            return Ok(());
        }
        match expr {
            ParameterExpr::Parameter {
                parameter,
                indirect,
            } => {
                let all = match (parameter, indirect) {
                    (
                        Parameter::Special(SpecialParameter::AllPositionalParameters {
                            concatenate,
                        }),
                        false,
                    ) => Some((self.positional.clone(), *concatenate)),
                    (Parameter::NamedWithAllIndices { concatenate, .. }, false) => Some((
                        self.param_values(parameter).unwrap_or_default(),
                        *concatenate,
                    )),
                    _ => None,
                };
                if let Some((values, concatenate)) = all {
                    // "$@" keeps the parameters as separate fields; unquoted $@ / $* too.
                    self.push_all(out, values, quoted, concatenate);
                    return Ok(());
                }
                match self.param_string(parameter, *indirect) {
                    Some(v) => push(out, v),
                    None => self.unbound(parameter, fds)?,
                }
            }
            ParameterExpr::UseDefaultValues {
                parameter,
                indirect,
                test_type,
                default_value,
            } => {
                let v = self.param_string_unless_empty_list(parameter, *indirect);
                if is_set(&v, test_type) {
                    push(out, v.unwrap_or_default());
                } else if let Some(d) = default_value {
                    out.extend(splittable(self.expand_raw(d, quoted, fds)?));
                }
            }
            ParameterExpr::AssignDefaultValues {
                parameter,
                indirect,
                test_type,
                default_value,
            } => {
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
            ParameterExpr::IndicateErrorIfNullOrUnset {
                parameter,
                indirect,
                test_type,
                error_message,
            } => {
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
            ParameterExpr::UseAlternativeValue {
                parameter,
                indirect,
                test_type,
                alternative_value,
            } => {
                let v = self.param_string_unless_empty_list(parameter, *indirect);
                if is_set(&v, test_type)
                    && let Some(a) = alternative_value
                {
                    out.extend(splittable(self.expand_raw(a, quoted, fds)?));
                }
            }
            ParameterExpr::ParameterLength {
                parameter,
                indirect,
            } => {
                let n = match parameter {
                    Parameter::Special(SpecialParameter::AllPositionalParameters { .. }) => {
                        self.positional.len()
                    }
                    Parameter::NamedWithAllIndices { .. } => {
                        self.param_values(parameter).map_or(0, |v| v.len())
                    }
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
            ParameterExpr::RemoveSmallestSuffixPattern {
                parameter,
                indirect,
                pattern,
            }
            | ParameterExpr::RemoveLargestSuffixPattern {
                parameter,
                indirect,
                pattern,
            }
            | ParameterExpr::RemoveSmallestPrefixPattern {
                parameter,
                indirect,
                pattern,
            }
            | ParameterExpr::RemoveLargestPrefixPattern {
                parameter,
                indirect,
                pattern,
            } => {
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
            ParameterExpr::Transform {
                parameter,
                indirect,
                op,
            } => {
                use brush_parser::word::ParameterTransformOp as Op;
                if let Some(r) = self.transform_var(parameter, *indirect, op) {
                    push(out, r.unwrap_or_default());
                    return Ok(());
                }
                let Some(v) = self.param_string(parameter, *indirect) else {
                    // An unset parameter transforms to nothing.
                    push(out, String::new());
                    return Ok(());
                };
                let t = match op {
                    Op::PromptExpand => self.decode_prompt(&v, fds)?,
                    Op::ExpandEscapeSequences => super::expand::ansi_c(&v),
                    Op::ToUpperCase => v.to_uppercase(),
                    Op::ToLowerCase => v.to_lowercase(),
                    Op::CapitalizeInitial => capitalize(&v),
                    // Control characters need `$'...'`, as bash quotes them.
                    Op::Quoted if v.chars().any(char::is_control) => super::vars::ansi_c_quote(&v),
                    Op::Quoted => format!("'{}'", v.replace('\'', "'\\''")),
                    _ => return Err(bad_subst(fds, &format!("${{{}}}", param_name(parameter)))),
                };
                push(out, t);
            }
            ParameterExpr::UppercaseFirstChar {
                parameter,
                indirect,
                pattern,
            }
            | ParameterExpr::UppercasePattern {
                parameter,
                indirect,
                pattern,
            }
            | ParameterExpr::LowercaseFirstChar {
                parameter,
                indirect,
                pattern,
            }
            | ParameterExpr::LowercasePattern {
                parameter,
                indirect,
                pattern,
            } => {
                let v = self.param_string(parameter, *indirect).unwrap_or_default();
                // No pattern (brush gives Some("") for `${v^^}`) means every character.
                let pat = match pattern.as_deref() {
                    None | Some("") => vec![('?', false)],
                    Some(p) => self.expand_pattern(p, fds)?,
                };
                let upper = matches!(
                    expr,
                    ParameterExpr::UppercaseFirstChar { .. }
                        | ParameterExpr::UppercasePattern { .. }
                );
                let all = matches!(
                    expr,
                    ParameterExpr::UppercasePattern { .. } | ParameterExpr::LowercasePattern { .. }
                );
                let mut t = String::new();
                for (i, c) in v.chars().enumerate() {
                    if (all || i == 0) && pattern::matches_extglob(&pat, &[c]) {
                        if upper {
                            t.extend(c.to_uppercase())
                        } else {
                            t.extend(c.to_lowercase())
                        }
                    } else {
                        t.push(c);
                    }
                }
                push(out, t);
            }
            ParameterExpr::ReplaceSubstring {
                parameter,
                indirect,
                pattern,
                replacement,
                match_kind,
            } => {
                let v = self.param_string(parameter, *indirect).unwrap_or_default();
                let pat = self.expand_pattern(pattern, fds)?;
                let rep = match replacement {
                    Some(r) => self.expand_string(r, fds)?,
                    None => String::new(),
                };
                let nocase = self.shopt("nocasematch");
                push(out, replace(&v, &pat, &rep, match_kind, nocase));
            }
            ParameterExpr::Substring {
                parameter,
                indirect,
                offset,
                length,
            } => {
                let off = self.arith_text(&offset.value, None, fds)?;
                let count = match length {
                    Some(l) => Some(self.arith_text(&l.value, None, fds)?),
                    None => None,
                };
                let slice = |len: i64| -> Option<(usize, usize)> {
                    let start = if off < 0 { len + off } else { off };
                    if start < 0 || start > len {
                        return None;
                    }
                    let end = match count {
                        None => len,
                        Some(l) if l < 0 => len + l,
                        Some(l) => (start + l).min(len),
                    };
                    (end >= start).then_some((start as usize, end as usize))
                };
                let list = match parameter {
                    Parameter::Special(SpecialParameter::AllPositionalParameters {
                        concatenate,
                    }) => {
                        // `${@:1:2}`: offset 0 is $0.
                        let mut all = vec![self.arg0.clone()];
                        all.extend(self.positional.iter().cloned());
                        let start = if off == 0 { 0 } else { off };
                        Some((all, start, *concatenate))
                    }
                    Parameter::NamedWithAllIndices { concatenate, .. } => Some((
                        self.param_values(parameter).unwrap_or_default(),
                        off,
                        *concatenate,
                    )),
                    _ => None,
                };
                if let Some((all, _, concatenate)) = list {
                    let Some((a, b)) = slice(all.len() as i64) else {
                        return Ok(());
                    };
                    self.push_all(out, all[a..b].to_vec(), quoted, concatenate);
                    return Ok(());
                }
                let v: Vec<char> = self
                    .param_string(parameter, *indirect)
                    .unwrap_or_default()
                    .chars()
                    .collect();
                if let Some((a, b)) = slice(v.len() as i64) {
                    push(out, v[a..b].iter().collect());
                } else if count.is_some_and(|c| c < 0) && off >= 0 {
                    fds.error(&format!("{}: substring expression < 0", count.unwrap_or(0)));
                    return Err(Fail::Flow(Flow::Abort(1)));
                } else {
                    push(out, String::new());
                }
            }
            ParameterExpr::VariableNames {
                prefix,
                concatenate,
            } => {
                let mut names: Vec<&String> = self
                    .vars
                    .keys()
                    .filter(|k| k.starts_with(prefix.as_str()))
                    .collect();
                names.sort();
                let names = names.into_iter().cloned().collect::<Vec<_>>();
                // `"${!p@}"` is one word per name, like `"$@"`.
                self.push_all(out, names, quoted, *concatenate);
            }
            ParameterExpr::MemberKeys {
                variable_name,
                concatenate,
            } => {
                let keys = match self.vars.get(self.ref_target(variable_name).as_str()) {
                    Some(v) => match &v.array {
                        Some(a) => a.keys(),
                        None if v.value.is_some() => vec!["0".to_string()],
                        None => Vec::new(),
                    },
                    None => Vec::new(),
                };
                self.push_all(out, keys, quoted, *concatenate);
            }
        }
        Ok(())
    }

    /// Pushes a list's values (`$@`, `${a[@]}`, `${!a[@]}`...): one field each, or, for a
    /// quoted `$*`-style expansion, one word joined by IFS's first character.
    fn push_all(&self, out: &mut Vec<Item>, values: Vec<String>, quoted: bool, concatenate: bool) {
        let text = |text| Item::Text {
            text,
            quoted,
            split: !quoted,
        };
        if quoted && concatenate {
            out.push(text(values.join(&self.ifs_first())));
            return;
        }
        let join = if concatenate {
            self.ifs_first()
        } else {
            " ".to_string()
        };
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                out.push(Item::Break(join.clone()));
            }
            out.push(text(v));
        }
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
}

fn param_name(p: &Parameter) -> String {
    let s = p.to_string();
    s.trim_start_matches('$')
        .trim_start_matches('{')
        .trim_end_matches('}')
        .to_string()
}

fn capitalize(v: &str) -> String {
    let mut c = v.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
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
        let (part, keep) = if suffix {
            (&chars[n - k..], &chars[..n - k])
        } else {
            (&chars[..k], &chars[k..])
        };
        if pattern::matches_extglob(pat, part) {
            return keep.iter().collect();
        }
    }
    v.to_string()
}

/// `${v/pat/rep}` and friends.
fn replace(
    v: &str,
    pat: &[PatChar],
    rep: &str,
    kind: &brush_parser::word::SubstringMatchKind,
    nocase: bool,
) -> String {
    use brush_parser::word::SubstringMatchKind as K;
    let chars: Vec<char> = v.chars().collect();
    let n = chars.len();
    if pat.is_empty() {
        return v.to_string();
    }
    // Under `shopt -s nocasematch` both sides are matched in lower case.
    let (pat, matched): (Vec<PatChar>, Vec<char>) = if nocase {
        (
            pat.iter()
                .map(|&(c, l)| (c.to_ascii_lowercase(), l))
                .collect(),
            chars.iter().map(char::to_ascii_lowercase).collect(),
        )
    } else {
        (pat.to_vec(), chars.clone())
    };
    // Longest match starting at `i` (and ending at n when `anchored_end`).
    let longest_at = |i: usize, anchored_end: bool| -> Option<usize> {
        (i..=n)
            .rev()
            .find(|&j| (!anchored_end || j == n) && pattern::matches_extglob(&pat, &matched[i..j]))
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
                if !done && let Some(j) = longest_at(i, false).filter(|&j| j > i) {
                    out.push_str(rep);
                    i = j;
                    done = matches!(kind, K::FirstOccurrence);
                    continue;
                }
                out.push(chars[i]);
                i += 1;
            }
            out
        }
    }
}

/// The words of `${x:-word}` and `${x:+word}`: their unquoted text is split on IFS
/// like the rest of an unquoted expansion's result (`IFS=:; set -- ${u:-a:b}`).
fn splittable(items: Vec<super::expand::Item>) -> Vec<super::expand::Item> {
    use super::expand::Item;
    items
        .into_iter()
        .map(|it| match it {
            Item::Text {
                text,
                quoted: false,
                ..
            } => Item::Text {
                text,
                quoted: false,
                split: true,
            },
            other => other,
        })
        .collect()
}
