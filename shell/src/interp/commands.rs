//! Builtins that need the interpreter's own state (arrays, functions, options, the
//! conditional evaluator): let, declare/typeset/local/readonly, unset, test/[, read,
//! type, command, getopts, shopt.

use super::expand::{ExpResult, Fail};
use super::getopt::Getopt;
use super::{ExecResult, Fds, Shell};

/// Names `type` reports as shell keywords.
pub(crate) const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do",
    "done", "in", "function", "time", "{", "}", "!", "[[", "]]", "coproc",
];

/// Names handled in the interpreter (reported by `type` as builtins).
pub(crate) const INTERP_BUILTINS: &[&str] = &[
    "break",
    "continue",
    "return",
    "shift",
    "set",
    "eval",
    ".",
    "source",
    "let",
    "declare",
    "typeset",
    "local",
    "readonly",
    "unset",
    "test",
    "[",
    "read",
    "type",
    "getopts",
    "shopt",
    "wait",
    "jobs",
    "fg",
    "bg",
    "disown",
    "help",
    "trap",
    "alias",
    "unalias",
    "umask",
    "hash",
    "times",
    "kill",
    "history",
    "caller",
    "mapfile",
    "readarray",
    "compgen",
    "complete",
    "compopt",
    "export",
    "fc",
    "pushd",
    "popd",
    "dirs",
    "ulimit",
    "enable",
];

/// Waits until `pipe` has a byte or its writers are gone; false when `deadline`
/// passes first.
fn wait_readable(pipe: &wsh_runtime::io::Pipe, deadline: std::time::Instant) -> bool {
    loop {
        let (ready, closed) = pipe.readiness();
        if ready > 0 || closed {
            return true;
        }
        let now = std::time::Instant::now();
        if now >= deadline {
            return false;
        }
        pipe.wait_change(deadline - now);
    }
}

fn status(r: ExpResult<i32>) -> ExecResult {
    match r {
        Ok(s) => Ok(s),
        Err(Fail::Status(s)) => Ok(s),
        Err(Fail::Flow(f)) => Err(f),
    }
}

impl Shell {
    /// Runs `argv` if it is one of this file's builtins.
    pub(crate) fn state_builtin(&mut self, argv: &[String], fds: &Fds) -> Option<ExecResult> {
        let args = &argv[1..];
        Some(match argv[0].as_str() {
            "let" => status(self.let_builtin(args, fds)),
            "declare" | "typeset" | "local" | "readonly" => {
                status(self.declare_builtin(&argv[0], args, fds))
            }
            "unset" => Ok(self.unset_builtin(args, fds)),
            "test" | "[" => Ok(self.test_builtin(argv, fds)),
            "read" => Ok(self.read_builtin(args, fds)),
            "type" => Ok(self.type_builtin(args, fds)),
            "getopts" => Ok(self.getopts_builtin(args, fds)),
            "shopt" => Ok(self.shopt_builtin(args, fds)),
            "wait" => Ok(self.wait_builtin(args, fds)),
            "trap" => Ok(self.trap_builtin(args, fds)),
            "alias" => Ok(self.alias_builtin(args, fds)),
            "unalias" => Ok(self.unalias_builtin(args, fds)),
            "umask" => Ok(self.umask_builtin(args, fds)),
            "hash" => Ok(self.hash_builtin(args, fds)),
            "times" => Ok(self.times_builtin(fds)),
            "caller" => Ok(self.caller_builtin(args, fds)),
            "mapfile" | "readarray" => Ok(self.mapfile_builtin(&argv[0], args, fds)),
            "history" => Ok(self.history_builtin(args, fds)),
            "kill" => {
                // A signal the shell sent itself may end it.
                let s = self.kill_builtin(args, fds);
                match self.exit_request.take() {
                    Some(x) => Err(super::Flow::Exit(x)),
                    None => Ok(s),
                }
            }
            "compgen" => Ok(self.compgen_builtin(args, fds)),
            "export" => status(self.export_builtin(args, fds)),
            "fc" => self.fc_builtin(args, fds),
            "pushd" => self.pushd_builtin(args, fds),
            "popd" => self.popd_builtin(args, fds),
            "dirs" => Ok(self.dirs_builtin(args, fds)),
            "complete" => Ok(self.complete_builtin(args, fds)),
            "compopt" => Ok(self.compopt_builtin(args, fds)),
            "ulimit" => Ok(self.ulimit_builtin(args, fds)),
            "enable" => Ok(self.enable_builtin(args, fds)),
            _ => return self.jobctl_builtin(argv, fds),
        })
    }

    /// Expands an alias in command position (when `shopt -s expand_aliases` is on,
    /// as bash requires in scripts): the command is re-read with the alias text.
    pub(crate) fn try_alias(
        &mut self,
        cmd: &brush_parser::ast::SimpleCommand,
        fds: &Fds,
    ) -> Option<ExecResult> {
        if self.aliases.is_empty() || !self.shopts.contains("expand_aliases") {
            return None;
        }
        let name = &cmd.word_or_name.as_ref()?.value;
        let value = self.aliases.get(name)?.clone();
        if self.alias_active.contains(name) {
            return None;
        }
        let mut text = String::new();
        if let Some(p) = &cmd.prefix {
            text.push_str(&format!("{p} "));
        }
        text.push_str(&value);
        if let Some(s) = &cmd.suffix {
            text.push_str(&format!(" {s}"));
        }
        let prog = match Shell::parse(&text) {
            Ok(p) => p,
            Err(e) => {
                fds.error(&e.to_string());
                return Some(Ok(2));
            }
        };
        self.alias_active.push(name.clone());
        let mut r = Ok(0);
        for c in &prog.complete_commands {
            r = self.run_list(c, fds);
            if r.is_err() {
                break;
            }
        }
        self.alias_active.pop();
        Some(r)
    }

    /// `alias [NAME[=VALUE]...]`.
    fn alias_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let args: Vec<&String> = args.iter().filter(|a| *a != "-p").collect();
        let quote = |v: &str| format!("'{}'", v.replace('\'', "'\\''"));
        let mut out = String::new();
        let mut st = 0;
        if args.is_empty() {
            for (k, v) in &self.aliases {
                out.push_str(&format!("alias {k}={}\n", quote(v)));
            }
        }
        for a in args {
            match a.split_once('=') {
                Some((k, v)) => {
                    self.aliases.insert(k.to_string(), v.to_string());
                }
                None => match self.aliases.get(a.as_str()) {
                    Some(v) => out.push_str(&format!("alias {a}={}\n", quote(v))),
                    None => {
                        fds.error(&format!("alias: {a}: not found"));
                        st = 1;
                    }
                },
            }
        }
        if fds.handle(1).write_all(out.as_bytes()).is_err() {
            return 1;
        }
        st
    }

    /// `unalias [-a] NAME...`.
    fn unalias_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let mut st = 0;
        for a in args {
            if a == "-a" {
                self.aliases.clear();
            } else if self.aliases.remove(a).is_none() {
                fds.error(&format!("unalias: {a}: not found"));
                st = 1;
            }
        }
        st
    }

    /// `unset [-f|-v] NAME...` (also `unset 'a[i]'`).
    fn unset_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (funcs, names) = match args.first().map(String::as_str) {
            Some("-f") => (true, &args[1..]),
            Some("-v") => (false, &args[1..]),
            _ => (false, args),
        };
        // `unset -n REF` removes the reference itself; otherwise a nameref's target goes.
        let (noderef, names) = match names.first().map(String::as_str) {
            Some("-n") => (true, &names[1..]),
            _ => (false, names),
        };
        let mut st = 0;
        for n in names {
            if funcs {
                if self.readonly_funcs.contains(n) {
                    fds.error(&format!("unset: {n}: cannot unset: readonly function"));
                    st = 1;
                } else {
                    self.functions.remove(n);
                }
                continue;
            }
            // bash: `unset -n` of a variable that is no reference leaves it alone.
            if noderef && self.vars.get(n.as_str()).is_some_and(|v| !v.nameref) {
                continue;
            }
            let target;
            let n = if noderef {
                n
            } else {
                target = self.ref_target(n);
                &target
            };
            if let Some((name, rest)) = n.split_once('[')
                && builtins::is_name(name)
                && rest.ends_with(']')
            {
                let key = &rest[..rest.len() - 1];
                // `unset 'ref[k]'`: the element of the array the reference names.
                let resolved = self.ref_target(name);
                let name = resolved.as_str();
                let assoc = self.is_assoc(name);
                let key = if assoc {
                    key.to_string()
                } else {
                    self.arith_text(key, None, fds)
                        .map(|k| k.to_string())
                        .unwrap_or_default()
                };
                if let Some(arr) = self.vars.get_mut(name).and_then(|v| v.array.as_mut()) {
                    match arr {
                        super::vars::Array::Indexed(m) => {
                            if let Ok(i) = key.parse::<i64>() {
                                // A negative index counts back from the end.
                                let i = if i < 0 {
                                    m.keys().next_back().map_or(i, |last| last + 1 + i)
                                } else {
                                    i
                                };
                                m.remove(&i);
                            }
                        }
                        super::vars::Array::Assoc(m) => {
                            m.remove(&key);
                        }
                    }
                }
                continue;
            }
            if self.vars.get(n).is_some_and(|v| v.readonly) {
                fds.error(&format!("unset: {n}: cannot unset: readonly variable"));
                st = 1;
                continue;
            }
            if self.vars.remove(n).is_some() {
                continue;
            }
            if !builtins::is_name(n) && self.functions.remove(n).is_none() {
                fds.error(&format!("unset: `{n}': not a valid identifier"));
                st = 1;
            } else {
                // bash: with no variable of that name, `unset NAME` removes a function.
                self.functions.remove(n);
            }
        }
        st
    }

    /// `read [-r] [-p PROMPT] [-a ARRAY] [-d DELIM] [-t SECS] [NAME...]`.
    fn read_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let mut raw = false;
        let mut array: Option<String> = None;
        let mut delim = Some(b'\n');
        let mut deadline = None;
        // -n N: at most N characters; -N N: exactly N, the delimiter is an ordinary one.
        let mut max_chars: Option<usize> = None;
        let mut input = fds.handle(0);
        let mut prompt = None;
        let mut opts = Getopt::new(args, "adptnNui");
        for opt in opts.by_ref() {
            let (c, v) = match opt {
                Ok(o) => o,
                Err(c) => {
                    fds.error(&format!("read: -{c}: option requires an argument"));
                    return 2;
                }
            };
            match (c, v) {
                ('r', _) => raw = true,
                ('s' | 'e', _) => {}
                (c, Some(v)) => {
                    match c {
                        // The prompt goes to stderr, and only when reading from a terminal.
                        'p' => prompt = Some(v),
                        'i' => {}
                        'a' => array = Some(v),
                        'd' => delim = Some(v.bytes().next().unwrap_or(0)),
                        'n' | 'N' => match v.parse::<usize>() {
                            Ok(n) => {
                                max_chars = Some(n);
                                if c == 'N' {
                                    delim = None;
                                }
                            }
                            Err(_) => {
                                fds.error(&format!("read: {v}: invalid number"));
                                return 1;
                            }
                        },
                        'u' => match v.parse::<i32>().ok().and_then(|n| fds.get(n)) {
                            Some(h) => input = h.clone(),
                            None => {
                                fds.error(&format!(
                                    "read: {v}: invalid file descriptor specification"
                                ));
                                return 1;
                            }
                        },
                        // Only a pipe can keep a reader waiting: files are complete.
                        _ => match v.parse::<f64>() {
                            Ok(t) if t >= 0.0 && t.is_finite() => {
                                deadline = Some(
                                    std::time::Instant::now()
                                        + std::time::Duration::from_secs_f64(t),
                                );
                            }
                            _ => {
                                fds.error(&format!("read: {v}: invalid timeout specification"));
                                return 1;
                            }
                        },
                    }
                }
                _ => {
                    fds.error(&format!(
                        "read: -{c}: invalid option\nread: usage: read [-ers] [-a array] [-d delim] [-i text] [-n nchars] [-N nchars] [-p prompt] [-t timeout] [-u fd] [name ...]"
                    ));
                    return 2;
                }
            }
        }
        let names = opts.operands();
        if let Some(p) = prompt
            && matches!(input, wsh_runtime::Handle::HostStdin)
            && std::io::IsTerminal::is_terminal(&std::io::stdin())
        {
            let _ = fds.handle(2).write_all(p.as_bytes());
        }
        // One byte at a time, so what follows the line stays for the next reader.
        let mut line = Vec::new();
        let mut got_delim = false;
        let mut b = [0u8; 1];
        let mut timed_out = false;
        let mut count = 0;
        loop {
            if max_chars.is_some_and(|m| count >= m) {
                got_delim = true;
                break;
            }
            if let (Some(d), wsh_runtime::Handle::PipeRead(end)) = (deadline, &input) {
                timed_out = !wait_readable(end.pipe(), d);
                if timed_out {
                    break;
                }
            }
            if !matches!(input.read(&mut b), Ok(1)) {
                break;
            }
            // A multi-byte character counts once (its continuation bytes do not).
            if b[0] & 0xc0 != 0x80 {
                count += 1;
            }
            if b[0] == b'\\' && !raw {
                match input.read(&mut b) {
                    // A line continuation counts as no character.
                    Ok(1) if b[0] == b'\n' => {
                        count -= 1;
                        continue;
                    }
                    Ok(1) => {
                        // Keep the escaped byte marked as literal for splitting.
                        line.push(0);
                        line.push(b[0]);
                        continue;
                    }
                    _ => break,
                }
            }
            if Some(b[0]) == delim {
                got_delim = true;
                break;
            }
            line.push(b[0]);
        }
        let eof_empty = !got_delim && line.is_empty();
        let text = String::from_utf8_lossy(&line).into_owned();
        let ifs = self.get("IFS").unwrap_or(" \t\n").to_string();
        let mut fields = split_read(
            &text,
            &ifs,
            if array.is_some() {
                usize::MAX
            } else {
                names.len().max(1)
            },
        );
        if array.is_some() {
            if delim.is_none() {
                // -N: what was read is one element, unsplit.
                fields = vec![text.replace('\0', "")];
            } else if fields.last().is_some_and(String::is_empty) {
                // As in word splitting, a delimiter at the end starts no field.
                fields.pop();
            }
        }
        let r = if let Some(a) = array {
            self.assign_array(&a, fields.into_iter().map(|f| (None, f)).collect(), false)
        } else if names.is_empty() {
            // REPLY gets the line as read, without IFS trimming.
            self.set("REPLY", text.replace('\0', ""))
        } else {
            let mut res = Ok(());
            for (k, n) in names.iter().enumerate() {
                res = res.and(self.set(n, fields.get(k).cloned().unwrap_or_default()));
            }
            res
        };
        if let Err(e) = r {
            fds.error(&format!("read: {e}"));
            return 1;
        }
        if timed_out {
            // 128 + SIGALRM, as bash reports a timeout.
            return 142;
        }
        i32::from(eof_empty || !got_delim)
    }

    /// `command -v NAME...` (the word to run) and `command -V` (like `type`).
    pub(crate) fn command_v(&mut self, names: &[String], verbose: bool, fds: &Fds) -> i32 {
        if verbose {
            return self.type_builtin(names, fds);
        }
        let mut out = String::new();
        let mut st = 0;
        for n in names {
            if self.functions.contains_key(n)
                || KEYWORDS.contains(&n.as_str())
                || self.builtin_enabled(n)
            {
                out.push_str(&format!("{n}\n"));
            } else if let super::path::Lookup::Found(p) = self.find_program(n) {
                out.push_str(&format!("{p}\n"));
            } else {
                st = 1;
            }
        }
        if fds.handle(1).write_all(out.as_bytes()).is_err() {
            return 1;
        }
        st
    }

    /// `type [-t] NAME...`.
    fn type_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (mut terse, mut all, mut path_only, mut force_path, mut no_funcs) =
            (false, false, false, false, false);
        let mut opts = Getopt::new(args, "");
        for (c, _) in opts.by_ref().flatten() {
            match c {
                't' => terse = true,
                'a' => all = true,
                'p' => path_only = true,
                'P' => force_path = true,
                'f' => no_funcs = true,
                _ => {
                    fds.error(&format!(
                        "type: -{c}: invalid option\ntype: usage: type [-afptP] name [name ...]"
                    ));
                    return 2;
                }
            }
        }
        let names = opts.operands();
        let mut out = String::new();
        let mut st = 0;
        for n in names {
            // Every way the name resolves, in bash's order: (kind, description).
            let mut found: Vec<(&str, String)> = Vec::new();
            if !force_path {
                if let Some(v) = self.aliases.get(n).filter(|_| self.shopt("expand_aliases")) {
                    found.push(("alias", format!("{n} is aliased to `{v}'")));
                }
                if KEYWORDS.contains(&n.as_str()) {
                    found.push(("keyword", format!("{n} is a shell keyword")));
                }
                if let Some(f) = self.functions.get(n).filter(|_| !no_funcs) {
                    found.push(("function", format!("{n} is a function\n{n} () \n{}", f.0)));
                }
                if self.builtin_enabled(n) {
                    found.push(("builtin", format!("{n} is a shell builtin")));
                }
            }
            // A remembered (`hash`) path answers for the name, except under -a.
            let hashed = self.hashed.get(n).map(|h| h.1.clone()).filter(|_| !all);
            let files = if all {
                self.find_all_programs(n)
            } else if let Some(h) = hashed.clone() {
                vec![h]
            } else {
                match self.find_program(n) {
                    super::path::Lookup::Found(p) => vec![p],
                    _ => Vec::new(),
                }
            };
            let first_is_file = found.is_empty();
            for p in files {
                found.push(("file", p));
            }
            if found.is_empty() {
                if !terse && !path_only && !force_path {
                    fds.error(&format!("type: {n}: not found"));
                }
                st = 1;
                continue;
            }
            if !all {
                found.truncate(1);
            }
            for (kind, text) in found {
                if terse {
                    out.push_str(kind);
                } else if path_only || force_path {
                    // -p/-P name only files (-p: when the name resolves to one).
                    if kind != "file" || (path_only && !force_path && !first_is_file && !all) {
                        continue;
                    }
                    out.push_str(&text);
                } else if kind == "file" && hashed.is_some() {
                    out.push_str(&format!("{n} is hashed ({text})"));
                } else if kind == "file" {
                    out.push_str(&format!("{n} is {text}"));
                } else {
                    out.push_str(&text);
                }
                out.push('\n');
            }
        }
        if fds.handle(1).write_all(out.as_bytes()).is_err() {
            return 1;
        }
        st
    }

    /// `getopts OPTSTRING NAME [ARGS...]`.
    fn getopts_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (Some(spec), Some(name)) = (args.first(), args.get(1)) else {
            fds.error("getopts: usage: getopts optstring name [arg ...]");
            return 2;
        };
        let params: Vec<String> = if args.len() > 2 {
            args[2..].to_vec()
        } else {
            self.positional.clone()
        };
        let silent = spec.starts_with(':');
        let spec = spec.trim_start_matches(':');
        let raw_optind: usize = self.get("OPTIND").and_then(|v| v.parse().ok()).unwrap_or(1);
        let mut optind = raw_optind.max(1);
        // Position inside a group of flags (`-abc`), kept across calls while OPTIND
        // stays where this function left it (a reset OPTIND, to 1 or 0, starts over).
        let (seen_optind, seen_pos) = self.getopts_pos;
        let mut pos: usize = if seen_optind == optind && raw_optind > 0 {
            seen_pos.max(1)
        } else {
            1
        };
        let finish = |sh: &mut Shell, optind: usize, pos: usize| {
            let _ = sh.set("OPTIND", optind.to_string());
            sh.getopts_pos = (optind, pos);
        };
        if !builtins::is_name(name) {
            fds.error(&format!("getopts: `{name}': not a valid identifier"));
            return 1;
        }
        // At the end of the options OPTARG is unset and OPTIND is past the last one
        // (never further than the arguments go).
        let Some(arg) = params.get(optind - 1) else {
            let _ = self.set(name, "?".into());
            self.vars.remove("OPTARG");
            finish(self, optind.min(params.len() + 1), 1);
            return 1;
        };
        if pos == 1 && (arg == "--" || !arg.starts_with('-') || arg == "-") {
            if arg == "--" {
                optind += 1;
            }
            let _ = self.set(name, "?".into());
            self.vars.remove("OPTARG");
            finish(self, optind, 1);
            return 1;
        }
        let chars: Vec<char> = arg.chars().collect();
        let Some(&c) = chars.get(pos) else {
            let _ = self.set(name, "?".into());
            finish(self, optind + 1, 1);
            return 1;
        };
        pos += 1;
        let at_end = pos >= chars.len();
        let idx = spec.find(c).filter(|_| c != ':');
        let next = |optind: &mut usize, pos: &mut usize| {
            *optind += 1;
            *pos = 1;
        };
        match idx {
            None => {
                if silent {
                    let _ = self.set("OPTARG", c.to_string());
                } else {
                    fds.error(&format!("illegal option -- {c}"));
                    self.vars.remove("OPTARG");
                }
                let _ = self.set(name, "?".into());
                if at_end {
                    next(&mut optind, &mut pos);
                }
            }
            Some(k) if spec[k + 1..].starts_with(':') => {
                if !at_end {
                    let _ = self.set("OPTARG", chars[pos..].iter().collect());
                    next(&mut optind, &mut pos);
                    let _ = self.set(name, c.to_string());
                } else if let Some(v) = params.get(optind) {
                    let _ = self.set("OPTARG", v.clone());
                    optind += 1;
                    next(&mut optind, &mut pos);
                    let _ = self.set(name, c.to_string());
                } else {
                    next(&mut optind, &mut pos);
                    if silent {
                        let _ = self.set(name, ":".into());
                        let _ = self.set("OPTARG", c.to_string());
                    } else {
                        fds.error(&format!("option requires an argument -- {c}"));
                        let _ = self.set(name, "?".into());
                    }
                }
            }
            Some(_) => {
                let _ = self.set(name, c.to_string());
                self.vars.remove("OPTARG");
                if at_end {
                    next(&mut optind, &mut pos);
                }
            }
        }
        finish(self, optind, pos);
        0
    }
}

/// Splits a `read` line into at most `n` fields (the last keeps the rest of the line,
/// minus trailing IFS whitespace). Bytes after a NUL marker are escaped literals.
fn split_read(text: &str, ifs: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let is_ws = |c: char| ifs.contains(c) && c.is_ascii_whitespace();
    let is_sep = |c: char| ifs.contains(c);
    let mut fields = Vec::new();
    let mut i = 0;
    while i < chars.len() && is_ws(chars[i]) {
        i += 1;
    }
    let mut cur = String::new();
    while i < chars.len() {
        let c = chars[i];
        if c == '\0' {
            if let Some(&e) = chars.get(i + 1) {
                cur.push(e);
            }
            i += 2;
            continue;
        }
        if is_sep(c) && fields.len() + 1 < n {
            fields.push(std::mem::take(&mut cur));
            // One separator: surrounding IFS whitespace plus at most one non-space IFS char.
            while i < chars.len() && is_ws(chars[i]) {
                i += 1;
            }
            let non_ws_next = i < chars.len() && is_sep(chars[i]) && !is_ws(chars[i]);
            if !c.is_ascii_whitespace() || non_ws_next {
                i += 1;
                while i < chars.len() && is_ws(chars[i]) {
                    i += 1;
                }
            }
            continue;
        }
        cur.push(c);
        i += 1;
    }
    // The last field loses trailing IFS whitespace.
    while cur.ends_with(is_ws) {
        cur.pop();
    }
    if !cur.is_empty() || !fields.is_empty() {
        fields.push(cur);
    }
    fields
}
