//! Docker's word processing for Balenafile arguments: quote removal, the escape
//! character and `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR:+word}` substitution.
//!
//! Docker applies it to ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER,
//! VOLUME and WORKDIR (and ARG defaults); RUN, CMD and ENTRYPOINT text is left to
//! the shell. `$` inside single quotes and an escaped `$` stay literal.

/// Looks up a variable's value (None: unset).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Processes one word: removes quotes and escapes, substitutes variables.
pub fn word(text: &str, escape: char, env: Lookup) -> Result<String, String> {
    let mut out = String::new();
    Lexer {
        chars: text.chars().collect(),
        pos: 0,
        escape,
        env,
    }
    .run(&mut out, None)?;
    Ok(out)
}

/// Splits `text` at unquoted whitespace and processes each word (ENV, LABEL, ARG).
pub fn words(text: &str, escape: char, env: Lookup) -> Result<Vec<String>, String> {
    let mut lx = Lexer {
        chars: text.chars().collect(),
        pos: 0,
        escape,
        env,
    };
    let mut out = Vec::new();
    loop {
        while lx.peek().is_some_and(char::is_whitespace) {
            lx.pos += 1;
        }
        if lx.peek().is_none() {
            return Ok(out);
        }
        let mut w = String::new();
        lx.run(&mut w, Some(|c: &char| c.is_whitespace()))?;
        out.push(w);
    }
}

/// `K=V` pairs of ENV or LABEL. The legacy `ENV K V...` form (no `=` in the first
/// word) sets K to the rest of the line.
pub fn pairs(text: &str, escape: char, env: Lookup) -> Result<Vec<(String, String)>, String> {
    let ws = words(text, escape, env)?;
    let Some(first) = ws.first() else {
        return Err("requires at least one argument".into());
    };
    if !first.contains('=') {
        let key = first.clone();
        let rest = text.trim_start();
        let rest = rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..].trim();
        if rest.is_empty() {
            return Err(format!("{key} must have a value (K=V or K V)"));
        }
        return Ok(vec![(key, word(rest, escape, env)?)]);
    }
    ws.into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(format!("{w:?}: expected KEY=VALUE")),
        })
        .collect()
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    escape: char,
    env: Lookup<'a>,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// Appends processed text to `out` until the end or an unquoted `stop` char
    /// (left unconsumed).
    fn run(&mut self, out: &mut String, stop: Option<fn(&char) -> bool>) -> Result<(), String> {
        while let Some(c) = self.peek() {
            if stop.is_some_and(|s| s(&c)) {
                return Ok(());
            }
            self.pos += 1;
            match c {
                '\'' => loop {
                    match self.peek() {
                        None => return Err("unterminated single quote".into()),
                        Some('\'') => {
                            self.pos += 1;
                            break;
                        }
                        Some(c) => {
                            out.push(c);
                            self.pos += 1;
                        }
                    }
                },
                '"' => loop {
                    match self.peek() {
                        None => return Err("unterminated double quote".into()),
                        Some('"') => {
                            self.pos += 1;
                            break;
                        }
                        Some(c) if c == self.escape => {
                            self.pos += 1;
                            // Inside double quotes the escape only protects `"`, `$` and itself.
                            match self.peek() {
                                Some(n) if n == '"' || n == '$' || n == self.escape => {
                                    out.push(n);
                                    self.pos += 1;
                                }
                                _ => out.push(c),
                            }
                        }
                        Some('$') => {
                            self.pos += 1;
                            self.dollar(out)?;
                        }
                        Some(c) => {
                            out.push(c);
                            self.pos += 1;
                        }
                    }
                },
                c if c == self.escape => match self.peek() {
                    Some(n) => {
                        out.push(n);
                        self.pos += 1;
                    }
                    None => out.push(c),
                },
                '$' => self.dollar(out)?,
                c => out.push(c),
            }
        }
        Ok(())
    }

    /// After a `$`: a variable reference, or a literal `$`.
    fn dollar(&mut self, out: &mut String) -> Result<(), String> {
        let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
        match self.peek() {
            Some('{') => {
                self.pos += 1;
                let start = self.pos;
                while self.peek().is_some_and(name_char) {
                    self.pos += 1;
                }
                let name: String = self.chars[start..self.pos].iter().collect();
                if name.is_empty() {
                    return Err("bad substitution: empty variable name in ${}".into());
                }
                let value = (self.env)(&name);
                match self.peek() {
                    Some('}') => {
                        self.pos += 1;
                        out.push_str(value.as_deref().unwrap_or(""));
                    }
                    Some(':') => {
                        self.pos += 1;
                        let op = self.peek();
                        self.pos += 1;
                        let mut alt = String::new();
                        self.run(&mut alt, Some(|c| *c == '}'))?;
                        if self.peek() != Some('}') {
                            return Err(format!("bad substitution: missing '}}' after ${{{name}"));
                        }
                        self.pos += 1;
                        let set = value.as_deref().is_some_and(|v| !v.is_empty());
                        match op {
                            Some('-') => out.push_str(if set {
                                value.as_deref().unwrap_or("")
                            } else {
                                &alt
                            }),
                            Some('+') => out.push_str(if set { &alt } else { "" }),
                            _ => {
                                return Err(format!(
                                    "bad substitution: unsupported modifier in ${{{name}:...}}"
                                ));
                            }
                        }
                    }
                    _ => return Err(format!("bad substitution: missing '}}' after ${{{name}")),
                }
            }
            Some(c) if name_char(c) && !c.is_ascii_digit() => {
                let start = self.pos;
                while self.peek().is_some_and(name_char) {
                    self.pos += 1;
                }
                let name: String = self.chars[start..self.pos].iter().collect();
                out.push_str(&(self.env)(&name).unwrap_or_default());
            }
            _ => out.push('$'),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("apple".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn substitution_forms_follow_docker() {
        let w = |t| word(t, '\\', &env).unwrap();
        assert_eq!(w("$A/${A}x"), "apple/applex");
        assert_eq!(w("${B:-dflt} ${A:-dflt} ${EMPTY:-e}"), "dflt apple e");
        assert_eq!(w("${A:+set}|${B:+set}"), "set|");
        assert_eq!(w(r#"\$A '$A' "$A""#), "$A $A apple");
        assert_eq!(w("cost $5"), "cost $5");
    }

    #[test]
    fn env_pairs_keep_quoted_spaces() {
        let p = pairs(r#"K="a b" L=${A}s M=x\ y"#, '\\', &env).unwrap();
        assert_eq!(
            p,
            vec![
                ("K".into(), "a b".into()),
                ("L".into(), "apples".into()),
                ("M".into(), "x y".into())
            ]
        );
        let legacy = pairs("K some words $A", '\\', &env).unwrap();
        assert_eq!(legacy, vec![("K".into(), "some words apple".into())]);
    }

    #[test]
    fn bad_substitution_is_an_error() {
        assert!(word("${A", '\\', &env).is_err());
        assert!(word("${A:?x}", '\\', &env).is_err());
    }
}
