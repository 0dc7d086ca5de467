//! Programmable completion's builtins: `complete` (records and prints completion
//! specifications), `compgen` (generates the candidates of one specification for a
//! word, as bash's completion would) and `compopt`. The REPL does not consult the
//! recorded specifications yet; scripts (bash-completion files) can define and query them.

use std::collections::BTreeMap;

use super::getopt::Getopt;
use super::pattern::PatChar;
use super::{Fds, Shell};

/// The `-o` options in the order bash prints them.
const COMP_OPTIONS: &[&str] = &[
    "bashdefault",
    "default",
    "dirnames",
    "filenames",
    "noquote",
    "nosort",
    "nospace",
    "plusdirs",
];

/// Actions with a letter of their own, in bash's printing order (then the `-A` ones).
const LETTER_ACTIONS: &[(char, &str)] = &[
    ('a', "alias"),
    ('b', "builtin"),
    ('c', "command"),
    ('d', "directory"),
    ('e', "export"),
    ('f', "file"),
    ('g', "group"),
    ('j', "job"),
    ('k', "keyword"),
    ('s', "service"),
    ('u', "user"),
    ('v', "variable"),
];

/// Actions only `-A` names, in bash's printing order.
const NAMED_ACTIONS: &[&str] = &[
    "arrayvar",
    "binding",
    "disabled",
    "enabled",
    "function",
    "helptopic",
    "hostname",
    "running",
    "setopt",
    "shopt",
    "signal",
    "stopped",
];

/// bash's builtins; the ones wsh has are listed by `compgen -b`.
pub(crate) const BASH_BUILTINS: &[&str] = &[
    ".",
    ":",
    "[",
    "alias",
    "bg",
    "bind",
    "break",
    "builtin",
    "caller",
    "cd",
    "command",
    "compgen",
    "complete",
    "compopt",
    "continue",
    "declare",
    "dirs",
    "disown",
    "echo",
    "enable",
    "eval",
    "exec",
    "exit",
    "export",
    "false",
    "fc",
    "fg",
    "getopts",
    "hash",
    "help",
    "history",
    "jobs",
    "kill",
    "let",
    "local",
    "logout",
    "mapfile",
    "popd",
    "printf",
    "pushd",
    "pwd",
    "read",
    "readarray",
    "readonly",
    "return",
    "set",
    "shift",
    "shopt",
    "source",
    "suspend",
    "test",
    "times",
    "trap",
    "true",
    "type",
    "typeset",
    "ulimit",
    "umask",
    "unalias",
    "unset",
    "wait",
];

/// One completion specification.
#[derive(Clone, Debug, Default)]
pub(crate) struct CompSpec {
    actions: Vec<&'static str>,
    options: Vec<&'static str>,
    glob: Option<String>,
    words: Option<String>,
    prefix: Option<String>,
    suffix: Option<String>,
    filter: Option<String>,
    command: Option<String>,
    function: Option<String>,
}

/// The specifications by command name (`-D`, `-E` and `-I` under those keys).
pub(crate) type CompSpecs = BTreeMap<String, CompSpec>;

/// What a `complete`/`compgen` command line says.
#[derive(Default)]
struct Parsed {
    spec: CompSpec,
    print: bool,
    remove: bool,
    special: Vec<&'static str>,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl CompSpec {
    /// The `complete ...` line that recreates this specification for `name`.
    fn line(&self, name: &str) -> String {
        let mut out = String::from("complete");
        for o in COMP_OPTIONS.iter().filter(|o| self.options.contains(o)) {
            out.push_str(&format!(" -o {o}"));
        }
        for (c, a) in LETTER_ACTIONS
            .iter()
            .filter(|a| self.actions.contains(&a.1))
        {
            let _ = a;
            out.push_str(&format!(" -{c}"));
        }
        for a in NAMED_ACTIONS.iter().filter(|a| self.actions.contains(a)) {
            out.push_str(&format!(" -A {a}"));
        }
        let quoted = [
            ("-G", &self.glob),
            ("-W", &self.words),
            ("-P", &self.prefix),
            ("-S", &self.suffix),
            ("-X", &self.filter),
            ("-C", &self.command),
        ];
        for (flag, v) in quoted {
            if let Some(v) = v {
                out.push_str(&format!(" {flag} {}", quote(v)));
            }
        }
        if let Some(f) = &self.function {
            out.push_str(&format!(" -F {f}"));
        }
        out.push(' ');
        out.push_str(name);
        out
    }
}

/// The action a name given to `-A` stands for.
fn action_named(name: &str) -> Option<&'static str> {
    LETTER_ACTIONS
        .iter()
        .map(|a| a.1)
        .chain(NAMED_ACTIONS.iter().copied())
        .find(|a| *a == name)
}

impl Shell {
    /// Reads the options `complete` and `compgen` share; `Err` is the status.
    fn parse_comp(&self, cmd: &str, args: &[String], fds: &Fds) -> Result<(Parsed, usize), i32> {
        let mut p = Parsed::default();
        let mut g = Getopt::new(args, "AGWPSXCFo");
        for opt in g.by_ref() {
            let (c, v) = match opt {
                Ok(o) => o,
                Err(c) => {
                    fds.error(&format!("{cmd}: -{c}: option requires an argument"));
                    return Err(2);
                }
            };
            let v = v.unwrap_or_default();
            let s = &mut p.spec;
            match c {
                'p' if cmd == "complete" => p.print = true,
                'r' if cmd == "complete" => p.remove = true,
                'D' if cmd == "complete" => p.special.push("-D"),
                'E' if cmd == "complete" => p.special.push("-E"),
                'I' if cmd == "complete" => p.special.push("-I"),
                'A' => match action_named(&v) {
                    Some(a) => s.actions.push(a),
                    None => {
                        fds.error(&format!("{cmd}: {v}: invalid action name"));
                        return Err(2);
                    }
                },
                'o' => match COMP_OPTIONS.iter().find(|o| **o == v) {
                    Some(o) => s.options.push(o),
                    None => {
                        fds.error(&format!("{cmd}: {v}: invalid option name"));
                        return Err(2);
                    }
                },
                'G' => s.glob = Some(v),
                'W' => s.words = Some(v),
                'P' => s.prefix = Some(v),
                'S' => s.suffix = Some(v),
                'X' => s.filter = Some(v),
                'C' => s.command = Some(v),
                'F' => s.function = Some(v),
                c => match LETTER_ACTIONS.iter().find(|a| a.0 == c) {
                    Some(a) => s.actions.push(a.1),
                    None => {
                        fds.error(&format!("{cmd}: -{c}: invalid option"));
                        fds.error(&format!("{cmd}: usage: {cmd} [-abcdefgjksuv] [-pr] [-DEI] [-o option] [-A action] [-G globpat] [-W wordlist] [-F function] [-C command] [-X filterpat] [-P prefix] [-S suffix] [name ...]"));
                        return Err(2);
                    }
                },
            }
        }
        let used = args.len() - g.operands().len();
        Ok((p, used))
    }

    /// `complete`: define, print (`-p`, or no arguments) or remove (`-r`) specifications.
    pub(crate) fn complete_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (p, used) = match self.parse_comp("complete", args, fds) {
            Ok(p) => p,
            Err(s) => return s,
        };
        let mut names: Vec<String> = p.special.iter().map(|s| s.to_string()).collect();
        names.extend(args[used..].iter().cloned());
        let defines = !p.spec.actions.is_empty()
            || !p.spec.options.is_empty()
            || p.spec.glob.is_some()
            || p.spec.words.is_some()
            || p.spec.prefix.is_some()
            || p.spec.suffix.is_some()
            || p.spec.filter.is_some()
            || p.spec.command.is_some()
            || p.spec.function.is_some();
        if p.remove {
            if names.is_empty() {
                self.completions.clear();
            }
            for n in &names {
                self.completions.remove(n);
            }
            return 0;
        }
        if p.print || (!defines && names.is_empty()) {
            let mut out = String::new();
            let mut status = 0;
            if names.is_empty() {
                for (n, s) in &self.completions {
                    out.push_str(&s.line(n));
                    out.push('\n');
                }
            }
            for n in &names {
                match self.completions.get(n) {
                    Some(s) => {
                        out.push_str(&s.line(n));
                        out.push('\n');
                    }
                    None => {
                        fds.error(&format!("complete: {n}: no completion specification"));
                        status = 1;
                    }
                }
            }
            let _ = fds.handle(1).write_all(out.as_bytes());
            return status;
        }
        for n in names {
            self.completions.insert(n, p.spec.clone());
        }
        0
    }

    /// `compopt`: changes the `-o` options of specifications (no completion is running
    /// in a script, so without names there is nothing to change).
    pub(crate) fn compopt_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let mut on = Vec::new();
        let mut off = Vec::new();
        let mut i = 0;
        let mut special = Vec::new();
        while i < args.len() {
            let a = args[i].as_str();
            match a {
                "-o" | "+o" => {
                    let Some(v) = args.get(i + 1) else {
                        fds.error(&format!("compopt: {a}: option requires an argument"));
                        return 2;
                    };
                    let Some(o) = COMP_OPTIONS.iter().find(|o| *o == v) else {
                        fds.error(&format!("compopt: {v}: invalid option name"));
                        return 2;
                    };
                    if a == "-o" {
                        on.push(*o)
                    } else {
                        off.push(*o)
                    }
                    i += 2;
                }
                "-D" | "-E" | "-I" => {
                    special.push(a.to_string());
                    i += 1;
                }
                _ => break,
            }
        }
        let mut names = special;
        names.extend(args[i..].iter().cloned());
        if names.is_empty() {
            fds.error("compopt: not currently executing completion function");
            return 1;
        }
        let mut status = 0;
        for n in names {
            let Some(s) = self.completions.get_mut(&n) else {
                fds.error(&format!("compopt: {n}: no completion specification"));
                status = 1;
                continue;
            };
            s.options.retain(|o| !off.contains(o));
            for o in &on {
                if !s.options.contains(o) {
                    s.options.push(o);
                }
            }
        }
        status
    }

    /// `compgen [options] [word]`: the candidates the options generate that start with
    /// `word`, one a line; status 1 when there are none.
    pub(crate) fn compgen_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (p, used) = match self.parse_comp("compgen", args, fds) {
            Ok(p) => p,
            Err(s) => return s,
        };
        let word = args.get(used).cloned().unwrap_or_default();
        let found = self.generate(&p.spec, &word, fds);
        if found.is_empty() {
            return 1;
        }
        let mut out = String::new();
        for f in found {
            out.push_str(&f);
            out.push('\n');
        }
        let _ = fds.handle(1).write_all(out.as_bytes());
        0
    }

    /// The candidates of `spec` for `word`.
    fn generate(&mut self, spec: &CompSpec, word: &str, fds: &Fds) -> Vec<String> {
        let mut found = Vec::new();
        for a in &spec.actions {
            found.extend(self.action_candidates(a, word));
        }
        if let Some(g) = &spec.glob {
            let pat = super::pattern::unquoted(g);
            found.extend(self.glob(&pat));
        }
        if let Some(w) = &spec.words {
            // Expanded like a word (parameters, substitutions), then split at $IFS;
            // never globbed.
            let text = self.expand_string(w, fds).unwrap_or_default();
            let ifs = self.get("IFS").unwrap_or(" \t\n").to_string();
            found.extend(
                text.split(|c| ifs.contains(c))
                    .filter(|c| !c.is_empty() && c.starts_with(word))
                    .map(str::to_string),
            );
        }
        if let Some(f) = &spec.function {
            found.extend(self.completion_function(f, word, fds));
        }
        if let Some(c) = &spec.command {
            let out = self.command_substitution(c, fds);
            found.extend(
                out.lines()
                    .filter(|l| l.starts_with(word))
                    .map(str::to_string),
            );
        }
        if let Some(x) = &spec.filter {
            found.retain(|c| !self.filtered_out(x, word, c));
        }
        let pre = spec.prefix.clone().unwrap_or_default();
        let suf = spec.suffix.clone().unwrap_or_default();
        let mut found: Vec<String> = found
            .into_iter()
            .map(|c| format!("{pre}{c}{suf}"))
            .collect();
        if found.is_empty() {
            if spec.options.contains(&"dirnames") {
                found = self.file_candidates(word, true);
            } else if spec.options.contains(&"default") {
                found = self.file_candidates(word, false);
            }
        }
        if spec.options.contains(&"plusdirs") {
            found.extend(self.file_candidates(word, true));
        }
        found
    }

    /// Whether the `-X` filter removes `cand`: it matches the pattern (`&` stands for
    /// the word), or with a leading `!` it does not.
    fn filtered_out(&self, filter: &str, word: &str, cand: &str) -> bool {
        let extglob_not = filter.starts_with("!(") && self.shopt("extglob");
        let (negate, pat) = match filter.strip_prefix('!') {
            Some(rest) if !extglob_not => (true, rest),
            _ => (false, filter),
        };
        let mut p: Vec<PatChar> = Vec::new();
        let mut chars = pat.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'&') => {
                    chars.next();
                    p.push(('&', true));
                }
                '&' => p.extend(word.chars().map(|c| (c, true))),
                c => p.push((c, false)),
            }
        }
        let chars: Vec<char> = cand.chars().collect();
        super::pattern::matches_extglob(&p, &chars) != negate
    }

    /// Names for one action.
    fn action_candidates(&self, action: &str, word: &str) -> Vec<String> {
        let starts = |v: Vec<String>| -> Vec<String> {
            v.into_iter().filter(|c| c.starts_with(word)).collect()
        };
        let mut names: Vec<String> = match action {
            "alias" => self.aliases.keys().cloned().collect(),
            "builtin" | "enabled" => BASH_BUILTINS
                .iter()
                .filter(|b| super::exec::is_builtin_name(b))
                .map(|b| b.to_string())
                .collect(),
            "keyword" => super::commands::KEYWORDS
                .iter()
                .map(|k| k.to_string())
                .collect(),
            "function" => self.functions.keys().cloned().collect(),
            "variable" => self
                .vars
                .iter()
                .filter(|(_, v)| v.value.is_some() || v.array.is_some())
                .map(|(k, _)| k.clone())
                .collect(),
            "export" => self
                .vars
                .iter()
                .filter(|(_, v)| v.exported && v.value.is_some())
                .map(|(k, _)| k.clone())
                .collect(),
            "arrayvar" => self
                .vars
                .iter()
                .filter(|(_, v)| v.array.is_some())
                .map(|(k, _)| k.clone())
                .collect(),
            "setopt" => super::options::set_option_names()
                .map(str::to_string)
                .collect(),
            "shopt" => super::options::shopt_names().map(str::to_string).collect(),
            "signal" => (1..=64)
                .filter_map(super::jobs::signal_name)
                .map(|n| format!("SIG{n}"))
                .collect(),
            "file" => return self.file_candidates(word, false),
            "directory" => return self.file_candidates(word, true),
            "command" => {
                let mut v = Vec::new();
                for a in ["alias", "builtin", "function", "keyword"] {
                    v.extend(self.action_candidates(a, word));
                }
                v.extend(self.path_commands(word));
                return v;
            }
            "user" => vec!["root".into()],
            "group" => vec!["root".into()],
            _ => Vec::new(),
        };
        names.sort();
        starts(names)
    }

    /// Files (or only directories) whose path starts with `word`.
    fn file_candidates(&self, word: &str, dirs_only: bool) -> Vec<String> {
        let (dir, base) = match word.rfind('/') {
            Some(i) => (&word[..=i], &word[i + 1..]),
            None => ("", word),
        };
        let list_dir = if dir.is_empty() { "." } else { dir };
        let Ok(mut names) = self.sys.read_dir(&self.cwd, list_dir) else {
            return Vec::new();
        };
        names.sort();
        names
            .into_iter()
            .filter(|n| n != "." && n != ".." && n.starts_with(base))
            .map(|n| format!("{dir}{n}"))
            .filter(|p| {
                !dirs_only || matches!(self.sys.kind(&self.cwd, p), Ok(super::sys::Kind::Directory))
            })
            .collect()
    }

    /// Executable files in `$PATH` directories whose names start with `word`.
    fn path_commands(&self, word: &str) -> Vec<String> {
        let path = self.get("PATH").unwrap_or_default().to_string();
        let mut out = Vec::new();
        for dir in path.split(':').filter(|d| !d.is_empty()) {
            let Ok(names) = self.sys.read_dir(&self.cwd, dir) else {
                continue;
            };
            for n in names.into_iter().filter(|n| n.starts_with(word)) {
                let p = format!("{}/{n}", dir.trim_end_matches('/'));
                if let Ok(m) = self.sys.stat(&self.cwd, &p)
                    && m.kind == super::sys::Kind::Regular
                    && m.mode & 0o111 != 0
                    && !out.contains(&n)
                {
                    out.push(n);
                }
            }
        }
        out.sort();
        out
    }

    /// Runs a `-F` function as completion would for the command line `word`, and
    /// returns its `COMPREPLY`.
    fn completion_function(&mut self, func: &str, word: &str, fds: &Fds) -> Vec<String> {
        if !self.functions.contains_key(func) {
            return Vec::new();
        }
        for (k, v) in [
            ("COMP_KEY", "0"),
            ("COMP_TYPE", "0"),
            ("COMP_POINT", "0"),
            ("COMP_LINE", ""),
        ] {
            let _ = self.set(k, v.to_string());
        }
        self.vars.remove("COMPREPLY");
        let argv = vec![
            func.to_string(),
            word.to_string(),
            word.to_string(),
            String::new(),
        ];
        let _ = self.dispatch(argv, Vec::new(), fds.clone(), true);
        self.vars
            .get("COMPREPLY")
            .and_then(|v| v.array.as_ref().map(|a| a.values()))
            .unwrap_or_default()
    }
}
