//! Prompt strings (`PS1`, `PS2`): bash's backslash escapes (`\u \h \w \W \$ \n
//! \t ...`), then parameter expansion and command substitution as bash's
//! `promptvars` does.

use wsh_runtime::io::OpenOptions;

use super::{Shell, host_null_fds};

/// What a prompt escape needs to know beyond the shell's variables.
pub struct PromptInfo {
    /// The number the next history line gets (`\!`).
    pub history_number: usize,
    /// The number of commands run in this session, plus one (`\#`).
    pub command_number: usize,
}

impl Shell {
    /// The prompt `template` (a PS1/PS2 value) as bash shows it: escapes decoded,
    /// then `$VAR`, `${...}`, `$(...)` and `$((...))` expanded. `\[` and `\]`
    /// vanish (they only tell bash which bytes do not move the cursor).
    pub fn expand_prompt(&mut self, template: &str, info: &PromptInfo) -> String {
        let decoded = self.decode_prompt_escapes(template, info);
        // Expanded as the inside of double quotes: quote the quotes.
        let word = format!("\"{}\"", decoded.replace('\\', "\\\\").replace('"', "\\\""));
        self.expand_string(&word, &host_null_fds())
            .unwrap_or(decoded)
    }

    fn decode_prompt_escapes(&self, template: &str, info: &PromptInfo) -> String {
        let mut out = String::new();
        let mut chars = template.chars().peekable();
        let now = chrono::Local::now();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = chars.next() else {
                out.push('\\');
                break;
            };
            match e {
                'u' => out.push_str(self.get("USER").unwrap_or("root")),
                'h' => out.push_str(self.host_name().split('.').next().unwrap_or("")),
                'H' => out.push_str(&self.host_name()),
                'w' => out.push_str(&self.tilde_cwd()),
                'W' => {
                    let w = self.tilde_cwd();
                    let base = if w == "/" || w == "~" {
                        w.as_str()
                    } else {
                        w.rsplit('/').next().unwrap_or(&w)
                    };
                    out.push_str(base);
                }
                '$' => out.push(if self.sys.credentials().is_root() {
                    '#'
                } else {
                    '$'
                }),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                'a' => out.push('\x07'),
                'e' => out.push('\x1b'),
                's' => out.push_str(self.arg0.rsplit('/').next().unwrap_or("wsh")),
                'v' => out.push_str(BASH_VERSION_SHORT),
                'V' => out.push_str(BASH_RELEASE),
                't' => out.push_str(&now.format("%H:%M:%S").to_string()),
                'T' => out.push_str(&now.format("%I:%M:%S").to_string()),
                '@' => out.push_str(&now.format("%I:%M %p").to_string()),
                'A' => out.push_str(&now.format("%H:%M").to_string()),
                'd' => out.push_str(&now.format("%a %b %d").to_string()),
                'D' if chars.peek() == Some(&'{') => {
                    chars.next();
                    let fmt: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    let fmt = if fmt.is_empty() { "%X" } else { fmt.as_str() };
                    // chrono refuses some strftime forms: keep the text as typed then.
                    let items: Vec<_> = chrono::format::StrftimeItems::new(fmt).collect();
                    if items.contains(&chrono::format::Item::Error) {
                        out.push_str(fmt);
                    } else {
                        out.push_str(&now.format_with_items(items.into_iter()).to_string());
                    }
                }
                'j' => out.push_str(&self.jobs.lock().map(|t| t.len()).unwrap_or(0).to_string()),
                'l' => out.push_str("tty"),
                '!' => out.push_str(&info.history_number.to_string()),
                '#' => out.push_str(&info.command_number.to_string()),
                '[' | ']' => {}
                '\\' => out.push('\\'),
                '0'..='7' => {
                    let mut n = e.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match chars.peek().and_then(|c| c.to_digit(8)) {
                            Some(d) => {
                                n = n * 8 + d;
                                chars.next();
                            }
                            None => break,
                        }
                    }
                    out.push(char::from_u32(n).unwrap_or('?'));
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
        out
    }

    /// The working directory with `$HOME` shown as `~` (`\w`).
    fn tilde_cwd(&self) -> String {
        let home = self.get("HOME").unwrap_or("").trim_end_matches('/');
        let cwd = self.cwd.as_str();
        if !home.is_empty() && (cwd == home || cwd.starts_with(&format!("{home}/"))) {
            format!("~{}", &cwd[home.len()..])
        } else {
            cwd.to_string()
        }
    }

    /// The container's host name: its /etc/hostname, as the `hostname` applet reads it.
    fn host_name(&self) -> String {
        let opts = OpenOptions {
            read: true,
            ..Default::default()
        };
        self.sys
            .open("/", "/etc/hostname", opts)
            .ok()
            .and_then(|h| h.read_to_end().ok())
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into())
    }
}

/// The bash release wsh follows (`$BASH_VERSION`, `\V`).
pub const BASH_RELEASE: &str = "5.2.0";
/// `\v`: the release's major and minor numbers.
const BASH_VERSION_SHORT: &str = "5.2";

#[cfg(test)]
mod tests {
    use super::PromptInfo;
    use crate::interp::Shell;

    #[test]
    fn escapes_then_expansions() {
        let mut sh = crate::interp::tests::shell();
        sh.cwd = "/root/src".into();
        sh.set("HOME", "/root".into()).unwrap();
        sh.set("X", "ex".into()).unwrap();
        let info = PromptInfo {
            history_number: 7,
            command_number: 3,
        };
        let p = |sh: &mut Shell, t: &str| sh.expand_prompt(t, &info);
        assert_eq!(p(&mut sh, r"\w \W \! \# $X \$ "), "~/src src 7 3 ex # ");
        assert_eq!(p(&mut sh, r"\[\e[1m\]a\n\101\\"), "\x1b[1ma\nA\\");
        assert_eq!(p(&mut sh, r#"say "$((1+2))""#), "say \"3\"");
        sh.cwd = "/".into();
        assert_eq!(p(&mut sh, r"\W|\w"), "/|/");
    }
}
