//! `set` and `shopt`: the tables of bash's options (names, letters, defaults), their
//! parsing (`set -euxo pipefail`, `set -o`, `set +o`, `shopt -s/-u/-q/-p/-o`) and
//! their listings in bash's formats.

use std::collections::BTreeSet;

use super::getopt::Getopt;
use super::{ExecResult, Fds, Options, Shell};

/// `set -o` options in bash's listing order, with their letter (if any).
const SET_OPTIONS: &[(&str, Option<char>)] = &[
    ("allexport", Some('a')),
    ("braceexpand", Some('B')),
    ("emacs", None),
    ("errexit", Some('e')),
    ("errtrace", Some('E')),
    ("functrace", Some('T')),
    ("hashall", Some('h')),
    ("histexpand", Some('H')),
    ("history", None),
    ("ignoreeof", None),
    ("interactive-comments", None),
    ("keyword", Some('k')),
    ("monitor", Some('m')),
    ("noclobber", Some('C')),
    ("noexec", Some('n')),
    ("noglob", Some('f')),
    ("nolog", None),
    ("notify", Some('b')),
    ("nounset", Some('u')),
    ("onecmd", Some('t')),
    ("physical", Some('P')),
    ("pipefail", None),
    ("posix", None),
    ("privileged", Some('p')),
    ("verbose", Some('v')),
    ("vi", None),
    ("xtrace", Some('x')),
];

/// The order bash lists the letters of `$-` in.
const FLAG_ORDER: &str = "abefhkmnptuvxBCEHPT";

/// `set -o` options on in a fresh non-interactive shell (besides the typed ones).
pub(crate) const SET_DEFAULTS: &[&str] = &["braceexpand", "hashall", "interactive-comments"];

/// Every `shopt` option of bash 5.2, in its listing order, with its default.
const SHOPT_OPTIONS: &[(&str, bool)] = &[
    ("autocd", false),
    ("assoc_expand_once", false),
    ("cdable_vars", false),
    ("cdspell", false),
    ("checkhash", false),
    ("checkjobs", false),
    ("checkwinsize", true),
    ("cmdhist", true),
    ("compat31", false),
    ("compat32", false),
    ("compat40", false),
    ("compat41", false),
    ("compat42", false),
    ("compat43", false),
    ("compat44", false),
    ("complete_fullquote", true),
    ("direxpand", false),
    ("dirspell", false),
    ("dotglob", false),
    ("execfail", false),
    ("expand_aliases", false),
    ("extdebug", false),
    ("extglob", false),
    ("extquote", true),
    ("failglob", false),
    ("force_fignore", true),
    ("globasciiranges", true),
    ("globskipdots", true),
    ("globstar", false),
    ("gnu_errfmt", false),
    ("histappend", false),
    ("histreedit", false),
    ("histverify", false),
    ("hostcomplete", true),
    ("huponexit", false),
    ("inherit_errexit", false),
    ("interactive_comments", true),
    ("lastpipe", false),
    ("lithist", false),
    ("localvar_inherit", false),
    ("localvar_unset", false),
    ("login_shell", false),
    ("mailwarn", false),
    ("no_empty_cmd_completion", false),
    ("nocaseglob", false),
    ("nocasematch", false),
    ("noexpand_translation", false),
    ("nullglob", false),
    ("patsub_replacement", true),
    ("progcomp", true),
    ("progcomp_alias", false),
    ("promptvars", true),
    ("restricted_shell", false),
    ("shift_verbose", false),
    ("sourcepath", true),
    ("varredir_close", false),
    ("xpg_echo", false),
];

/// The `set -o` option names, in bash's order.
pub(crate) fn set_option_names() -> impl Iterator<Item = &'static str> {
    SET_OPTIONS.iter().map(|o| o.0)
}

/// The `shopt` option names, in bash's order.
pub(crate) fn shopt_names() -> impl Iterator<Item = &'static str> {
    SHOPT_OPTIONS.iter().map(|o| o.0)
}

/// The `shopt` options on in a fresh shell.
pub(crate) fn shopt_defaults() -> BTreeSet<String> {
    SHOPT_OPTIONS
        .iter()
        .filter(|o| o.1)
        .map(|o| o.0.to_string())
        .collect()
}

impl Options {
    /// Whether the `set -o` option `name` is on; `None` for an unknown name.
    pub(crate) fn get(&self, name: &str) -> Option<bool> {
        Some(match name {
            "errexit" => self.errexit,
            "nounset" => self.nounset,
            "xtrace" => self.xtrace,
            "pipefail" => self.pipefail,
            _ => {
                let (n, _) = SET_OPTIONS.iter().find(|o| o.0 == name)?;
                self.others.contains(n)
            }
        })
    }

    /// Turns the `set -o` option `name` on or off; false for an unknown name.
    pub(crate) fn set(&mut self, name: &str, on: bool) -> bool {
        match name {
            "errexit" => self.errexit = on,
            "nounset" => self.nounset = on,
            "xtrace" => self.xtrace = on,
            "pipefail" => self.pipefail = on,
            _ => {
                let Some((n, _)) = SET_OPTIONS.iter().find(|o| o.0 == name) else {
                    return false;
                };
                if on {
                    self.others.insert(n);
                } else {
                    self.others.remove(n);
                }
            }
        }
        true
    }

    /// The option a `set` letter stands for.
    fn by_letter(c: char) -> Option<&'static str> {
        SET_OPTIONS.iter().find(|o| o.1 == Some(c)).map(|o| o.0)
    }

    /// `$-` without the invocation letters (`s`, `c`, `i`).
    pub(crate) fn flags(&self) -> String {
        FLAG_ORDER
            .chars()
            .filter(|&c| Self::by_letter(c).and_then(|n| self.get(n)) == Some(true))
            .collect()
    }
}

/// `set -o` (`listing`) or `set +o` (commands) output.
fn set_listing(o: &Options, commands: bool) -> String {
    SET_OPTIONS
        .iter()
        .map(|(n, _)| {
            let on = o.get(n) == Some(true);
            if commands {
                format!("set {}o {n}\n", if on { '-' } else { '+' })
            } else {
                format!("{n:<15}\t{}\n", if on { "on" } else { "off" })
            }
        })
        .collect()
}

impl Shell {
    /// `set [-+abefhkmnptuvxBCEHPT] [-+o NAME] [--] [ARGS...]`.
    pub(crate) fn set_builtin(&mut self, args: &[String], fds: &Fds) -> ExecResult {
        if args.is_empty() {
            return Ok(self.print_variables(fds));
        }
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "--" {
                self.positional = args[i + 1..].to_vec();
                return Ok(0);
            }
            if a == "-" {
                // `set -`: turn off -x and -v, and the rest are arguments.
                self.options.set("xtrace", false);
                self.options.set("verbose", false);
                i += 1;
                if i < args.len() {
                    self.positional = args[i..].to_vec();
                }
                return Ok(0);
            }
            let (on, letters) = match a.strip_prefix('-') {
                Some(f) => (true, f),
                None => match a.strip_prefix('+') {
                    Some(f) if !f.is_empty() => (false, f),
                    _ => break,
                },
            };
            i += 1;
            for c in letters.chars() {
                if c == 'o' {
                    // Each `o` of a group takes the next argument: `set -euxo pipefail`.
                    let Some(name) = args.get(i) else {
                        let text = set_listing(&self.options, !on);
                        let _ = fds.handle(1).write_all(text.as_bytes());
                        continue;
                    };
                    i += 1;
                    if !self.options.set(name, on) {
                        fds.error(&format!("set: {name}: invalid option name"));
                        return Ok(2);
                    }
                    continue;
                }
                match Options::by_letter(c) {
                    Some(n) => {
                        self.options.set(n, on);
                    }
                    None => {
                        fds.error(&format!(
                            "set: {}{c}: invalid option\nset: usage: set [-abefhkmnptuvxBCEHPT] [-o option-name] [--] [-] [arg ...]",
                            if on { '-' } else { '+' }
                        ));
                        return Ok(2);
                    }
                }
            }
        }
        if i < args.len() {
            self.positional = args[i..].to_vec();
        }
        Ok(0)
    }

    /// `shopt [-pqsuo] [NAME...]`.
    pub(crate) fn shopt_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (mut set, mut unset, mut quiet, mut print, mut seto) =
            (false, false, false, false, false);
        let mut opts = Getopt::new(args, "");
        for (c, _) in opts.by_ref().flatten() {
            match c {
                's' => set = true,
                'u' => unset = true,
                'q' => quiet = true,
                'p' => print = true,
                'o' => seto = true,
                _ => {
                    fds.error(&format!(
                        "shopt: -{c}: invalid option\nshopt: usage: shopt [-pqsu] [-o] [optname ...]"
                    ));
                    return 2;
                }
            }
        }
        let names = opts.operands();
        if set && unset {
            fds.error("shopt: cannot set and unset shell options simultaneously");
            return 1;
        }
        let all: Vec<&str> = if seto {
            SET_OPTIONS.iter().map(|o| o.0).collect()
        } else {
            SHOPT_OPTIONS.iter().map(|o| o.0).collect()
        };
        let is_on = |sh: &Shell, n: &str| {
            if seto {
                sh.options.get(n) == Some(true)
            } else {
                sh.shopts.contains(n)
            }
        };
        let line = |n: &str, on: bool| {
            if print {
                if seto {
                    format!("set {}o {n}\n", if on { '-' } else { '+' })
                } else {
                    format!("shopt {} {n}\n", if on { "-s" } else { "-u" })
                }
            } else {
                format!("{n:<15}\t{}\n", if on { "on" } else { "off" })
            }
        };
        let mut out = String::new();
        let mut status = 0;
        if names.is_empty() {
            // A listing: every option, or only those on (-s) or off (-u).
            for n in all {
                let on = is_on(self, n);
                if (set && !on) || (unset && on) {
                    continue;
                }
                if quiet {
                    status |= i32::from(!on);
                } else {
                    out += &line(n, on);
                }
            }
        } else {
            for n in names {
                if !all.contains(&n.as_str()) {
                    fds.error(&format!("shopt: {n}: invalid shell option name"));
                    status = 1;
                    continue;
                }
                if set || unset {
                    if seto {
                        self.options.set(n, set);
                    } else if set {
                        self.shopts.insert(n.clone());
                    } else {
                        self.shopts.remove(n);
                    }
                    continue;
                }
                let on = is_on(self, n);
                if !on {
                    status = 1;
                }
                if !quiet {
                    out += &line(n, on);
                }
            }
        }
        if fds.handle(1).write_all(out.as_bytes()).is_err() {
            return 1;
        }
        status
    }

    /// `case` and `[[ == ]]` matching, case-insensitive under `shopt -s nocasematch`.
    pub(crate) fn pattern_matches(&self, pat: &[super::pattern::PatChar], s: &[char]) -> bool {
        if !self.shopt("nocasematch") {
            return super::pattern::matches_extglob(pat, s);
        }
        let pat: Vec<_> = pat
            .iter()
            .map(|&(c, l)| (c.to_ascii_lowercase(), l))
            .collect();
        let s: Vec<char> = s.iter().map(char::to_ascii_lowercase).collect();
        super::pattern::matches_extglob(&pat, &s)
    }

    /// Whether the `shopt` option `name` is on.
    pub(crate) fn shopt(&self, name: &str) -> bool {
        self.shopts.contains(name)
    }
}
