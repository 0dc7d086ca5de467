//! `${v@OP}` transformations that look at more than the value (`@a`, `@A`, `@K`,
//! `@k` see the variable's attributes and elements) and prompt expansion (`@P`, the
//! decoding bash applies to `PS1`: `\u`, `\w`, `\t`, `\D{fmt}`... then parameter
//! expansion and command substitution as inside double quotes).

use brush_parser::word::{Parameter, ParameterTransformOp as Op};

use super::expand::ExpResult;
use super::vars::Array;
use super::{Fds, Shell, Var};

/// The bash version `\v` and `\V` report.
const VERSION: (&str, &str) = ("5.2", "5.2.0");

/// Single-quotes `s` as `@Q` does.
fn single_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Double-quotes `s` as `declare -p` and `@K` print elements.
fn double_quote(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            o.push('\\');
        }
        o.push(c);
    }
    o.push('"');
    o
}

impl Shell {
    /// bash's variables whose value is computed when read (None for other names).
    pub(crate) fn dynamic_var(&mut self, name: &str) -> Option<String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Some(match name {
            "BASH_SUBSHELL" => self.subshell_depth.to_string(),
            "BASHPID" => std::process::id().to_string(),
            "EPOCHSECONDS" => now.as_secs().to_string(),
            "EPOCHREALTIME" => format!("{}.{:06}", now.as_secs(), now.subsec_micros()),
            "SRANDOM" => {
                let (a, b) = (self.next_random(), self.next_random());
                ((a << 15) | b).to_string()
            }
            "SHELLOPTS" => super::options::set_option_names()
                .filter(|o| self.options.get(o) == Some(true))
                .collect::<Vec<_>>()
                .join(":"),
            "BASHOPTS" => super::options::shopt_names()
                .filter(|o| self.shopt(o))
                .collect::<Vec<_>>()
                .join(":"),
            "UID" | "EUID" => self.sys.credentials().uid.to_string(),
            "BASH_ARGV0" => self.arg0.clone(),
            // The shell's path as PATH finds `bash` (bash's own executable path).
            "BASH" => match self.find_program("bash") {
                super::path::Lookup::Found(p) => p,
                _ => "/bin/bash".to_string(),
            },
            _ => return None,
        })
    }

    /// The variable a parameter names (following namerefs), with whether the whole
    /// array (`[@]`/`[*]`) was asked for and the element subscript if one was.
    fn transform_target(&self, p: &Parameter) -> Option<(String, bool, Option<String>)> {
        match p {
            Parameter::Named(n) => Some((self.ref_target(n), false, None)),
            Parameter::NamedWithIndex { name, index } => {
                Some((self.ref_target(name), false, Some(index.clone())))
            }
            Parameter::NamedWithAllIndices { name, .. } => {
                Some((self.ref_target(name), true, None))
            }
            _ => None,
        }
    }

    /// `@a`, `@A`, `@K` and `@k` of a named parameter (None: the value-only
    /// transformations apply, or the parameter is not a variable).
    pub(crate) fn transform_var(
        &mut self,
        p: &Parameter,
        indirect: bool,
        op: &Op,
    ) -> Option<Option<String>> {
        if !matches!(
            op,
            Op::ToAttributeFlags
                | Op::ToAssignmentLogic
                | Op::PossiblyQuoteWithArraysExpanded { .. }
        ) {
            return None;
        }
        let (mut name, all, index) = self.transform_target(p)?;
        if indirect {
            // `${!ref@a}`: the variable whose name is ref's value.
            name = self.ref_target(self.get(&name)?);
        }
        let var = self.vars.get(&name).cloned();
        let value = match &index {
            Some(i) => {
                let key = if self.is_assoc(&name) {
                    i.clone()
                } else {
                    self.arith_text(i, None, &super::host_null_fds())
                        .ok()?
                        .to_string()
                };
                self.get_element(&name, &key)
            }
            None => self.get(&name).map(str::to_string),
        };
        Some(match op {
            Op::ToAttributeFlags => var.map(|v| attr_letters(&v)),
            Op::ToAssignmentLogic => {
                let v = var?;
                let attrs = attr_letters(&v);
                if all && v.array.is_some() {
                    Some(super::vars::describe(&name, &v))
                } else if v.array.is_some() || !attrs.is_empty() {
                    let decl = if attrs.is_empty() {
                        "--".into()
                    } else {
                        format!("-{attrs}")
                    };
                    Some(match value {
                        Some(val) => format!("declare {decl} {name}={}", single_quote(&val)),
                        None => format!("declare {decl} {name}"),
                    })
                } else {
                    value.map(|val| format!("{name}={}", single_quote(&val)))
                }
            }
            _ => {
                if all {
                    let arr = var.and_then(|v| v.array)?;
                    let pairs: Vec<String> = match &arr {
                        Array::Indexed(m) => m
                            .iter()
                            .map(|(k, v)| format!("{k} {}", double_quote(v)))
                            .collect(),
                        Array::Assoc(m) => m
                            .iter()
                            .map(|(k, v)| format!("{k} {}", double_quote(v)))
                            .collect(),
                    };
                    let mut s = pairs.join(" ");
                    if matches!(arr, Array::Assoc(_)) {
                        s.push(' ');
                    }
                    Some(s)
                } else {
                    value.map(|v| single_quote(&v))
                }
            }
        })
    }

    /// `${v@P}`: `text` decoded as a prompt string.
    pub(crate) fn decode_prompt(&mut self, text: &str, fds: &Fds) -> ExpResult<String> {
        let now = chrono::Local::now();
        let mut out = String::new();
        let mut it = text.chars().peekable();
        while let Some(c) = it.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = it.next() else {
                out.push('\\');
                break;
            };
            match e {
                'a' => out.push('\x07'),
                'e' => out.push('\x1b'),
                'r' => out.push('\r'),
                'n' => out.push('\n'),
                '\\' => out.push('\\'),
                // As root the prompt ends in `#`; otherwise a `$` kept from expansion.
                '$' => out.push_str(if self.sys.credentials().is_root() {
                    "#"
                } else {
                    "\\$"
                }),
                't' => out.push_str(&now.format("%H:%M:%S").to_string()),
                'T' => out.push_str(&now.format("%I:%M:%S").to_string()),
                '@' => out.push_str(&now.format("%I:%M %p").to_string()),
                'A' => out.push_str(&now.format("%H:%M").to_string()),
                'd' => out.push_str(&now.format("%a %b %d").to_string()),
                'D' if it.peek() == Some(&'{') => {
                    it.next();
                    let mut fmt = String::new();
                    for c in it.by_ref() {
                        if c == '}' {
                            break;
                        }
                        fmt.push(c);
                    }
                    let fmt = if fmt.is_empty() {
                        "%X".to_string()
                    } else {
                        fmt
                    };
                    let mut s = String::new();
                    // A format chrono cannot render is shown as written.
                    if std::fmt::Write::write_fmt(&mut s, format_args!("{}", now.format(&fmt)))
                        .is_err()
                    {
                        s = fmt;
                    }
                    out.push_str(&s);
                }
                'h' | 'H' => {
                    let host = self.get("HOSTNAME").unwrap_or("localhost").to_string();
                    let host = if e == 'h' {
                        host.split('.').next().unwrap_or("").to_string()
                    } else {
                        host
                    };
                    out.push_str(&host);
                }
                'u' => out.push_str(self.get("USER").unwrap_or("root")),
                's' => {
                    let a0 = self.arg0.rsplit('/').next().unwrap_or("").to_string();
                    out.push_str(&a0);
                }
                'v' => out.push_str(VERSION.0),
                'V' => out.push_str(VERSION.1),
                'w' | 'W' => {
                    let cwd = self.cwd.clone();
                    let home = self
                        .get("HOME")
                        .unwrap_or("")
                        .trim_end_matches('/')
                        .to_string();
                    let shown = if !home.is_empty() && cwd == home {
                        "~".to_string()
                    } else if e == 'W' {
                        if cwd == "/" {
                            cwd
                        } else {
                            cwd.rsplit('/').next().unwrap_or("").to_string()
                        }
                    } else if !home.is_empty() && cwd.starts_with(&format!("{home}/")) {
                        format!("~{}", &cwd[home.len()..])
                    } else {
                        cwd
                    };
                    // The expansion pass must leave the directory name as it is.
                    for c in shown.chars() {
                        if matches!(c, '$' | '`' | '\\' | '"') && self.shopt("promptvars") {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
                '#' => out.push_str(&(self.history.len() + 1).to_string()),
                '!' => out.push_str(&(self.history.len() + 1).to_string()),
                'j' => {
                    let n = self.jobs.lock().map(|t| t.len()).unwrap_or(0);
                    out.push_str(&n.to_string());
                }
                'l' => out.push_str("tty"),
                // Non-printing sequence markers matter only to line editing.
                '[' | ']' => {}
                '0'..='7' => {
                    let mut v = e.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match it.peek().and_then(|c| c.to_digit(8)) {
                            Some(d) => {
                                v = v * 8 + d;
                                it.next();
                            }
                            None => break,
                        }
                    }
                    let ch = char::from_u32(v & 0xff).unwrap_or('?');
                    // A backslash made this way stays one through the expansion pass.
                    if ch == '\\' && self.shopt("promptvars") {
                        out.push('\\');
                    }
                    out.push(ch);
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
        if !self.shopt("promptvars") {
            return Ok(out);
        }
        self.expand_prompt_text(&out, fds)
    }

    /// The second pass of prompt expansion: parameters, arithmetic and command
    /// substitutions as inside double quotes (no tilde expansion, no splitting).
    fn expand_prompt_text(&mut self, text: &str, fds: &Fds) -> ExpResult<String> {
        let mut quoted = String::from("\"");
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                // A backslash before a character it does not escape inside double
                // quotes stays; a lone `"` must not end the quoted word.
                '"' => quoted.push_str("\\\""),
                '\\' => match chars.peek() {
                    // A line continuation.
                    Some('\n') => {
                        chars.next();
                    }
                    Some('$' | '`' | '\\' | '"') => {
                        quoted.push('\\');
                        quoted.push(chars.next().unwrap_or('\\'));
                    }
                    _ => quoted.push_str("\\\\"),
                },
                c => quoted.push(c),
            }
        }
        quoted.push('"');
        self.expand_string(&quoted, fds)
    }
}

/// A variable's attribute letters in bash's order (`declare -p`, `${v@a}`).
pub(crate) fn attr_letters(v: &Var) -> String {
    let mut attrs = String::new();
    match &v.array {
        Some(Array::Indexed(_)) => attrs.push('a'),
        Some(Array::Assoc(_)) => attrs.push('A'),
        None => {}
    }
    for (on, c) in [
        (v.integer, 'i'),
        (v.nameref, 'n'),
        (v.readonly, 'r'),
        (v.trace, 't'),
        (v.exported, 'x'),
        (v.capcase, 'c'),
        (v.lower, 'l'),
        (v.upper, 'u'),
    ] {
        if on {
            attrs.push(c);
        }
    }
    attrs
}
