//! `declare`/`typeset`/`local`/`readonly`: attributes, `NAME=VALUE` and
//! `NAME[SUB]=VALUE` operands, and the listings (`-p`, filtered by attributes, `-f`/`-F`
//! for functions, the bare `declare` in `set`'s format).

use super::expand::ExpResult;
use super::vars::{Array, describe};
use super::{Fds, Shell, Var};

/// The attribute letters a listing can be filtered by.
const FILTERS: &str = "aAinrtxlu";

/// Whether `v` has the attribute `c`.
fn has_attr(v: &Var, c: char) -> bool {
    match c {
        'a' => matches!(v.array, Some(Array::Indexed(_))),
        'A' => matches!(v.array, Some(Array::Assoc(_))),
        'i' => v.integer,
        'n' => v.nameref,
        'r' => v.readonly,
        't' => v.trace,
        'x' => v.exported,
        'l' => v.lower,
        'u' => v.upper,
        'c' => v.capcase,
        _ => false,
    }
}

/// `NAME[SUB]` as (NAME, SUB).
fn subscripted(name: &str) -> Option<(&str, &str)> {
    let (n, rest) = name.split_once('[')?;
    Some((n, rest.strip_suffix(']')?))
}

/// A value as `set` and the bare `declare` print it.
pub(crate) fn set_quote(v: &str) -> String {
    if v.chars().any(|c| c.is_control()) {
        return super::vars::ansi_c_quote(v);
    }
    if v == "'" {
        return "\\'".into();
    }
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:,=+@%^".contains(c) || !c.is_ascii());
    if plain {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

impl Shell {
    /// `declare`/`typeset`/`local`/`readonly` [-aAcilnrtuxpgfF] [NAME[=VALUE]...].
    pub(crate) fn declare_builtin(
        &mut self,
        cmd: &str,
        args: &[String],
        fds: &Fds,
    ) -> ExpResult<i32> {
        if cmd == "local" && self.locals.is_empty() {
            fds.error("local: can only be used in a function");
            return Ok(1);
        }
        let mut flags = String::new();
        let mut unflags = String::new();
        let mut i = 0;
        while let Some(a) = args.get(i) {
            if let Some(f) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
                if f == "-" {
                    i += 1;
                    break;
                }
                flags.push_str(f);
            } else if let Some(f) = a.strip_prefix('+').filter(|f| !f.is_empty()) {
                unflags.push_str(f);
            } else {
                break;
            }
            i += 1;
        }
        if cmd == "readonly" {
            flags.push('r');
        }
        if let Some(bad) = flags
            .chars()
            .chain(unflags.chars())
            .find(|c| !"aAirxpgfFnlutcI".contains(*c))
        {
            fds.error(&format!("{cmd}: -{bad}: invalid option"));
            return Ok(2);
        }
        let names = &args[i..];
        // `readonly -f NAME`: the function can no longer be redefined or unset.
        if cmd == "readonly" && flags.contains('f') && !names.is_empty() {
            let mut status = 0;
            for n in names {
                if self.functions.contains_key(n) {
                    self.readonly_funcs.insert(n.clone());
                } else {
                    fds.error(&format!("readonly: {n}: not a function"));
                    status = 1;
                }
            }
            return Ok(status);
        }
        if flags.contains('f') || flags.contains('F') {
            return Ok(self.declare_functions(names, flags.contains('F'), fds));
        }
        if flags.contains('p') || names.is_empty() {
            return Ok(self.declare_print(cmd, names, &flags, !unflags.is_empty(), fds));
        }
        let mut status = 0;
        for a in names {
            match self.declare_one(cmd, a, &flags, &unflags, fds)? {
                0 => {}
                s => status = s,
            }
        }
        Ok(status)
    }

    /// `export [-fnp] [NAME[=VALUE]...]`: `declare -x` (or `+x` with `-n`) at global
    /// scope, and the `declare -x` listing.
    pub(crate) fn export_builtin(&mut self, args: &[String], fds: &Fds) -> ExpResult<i32> {
        let (mut unexport, mut print, mut funcs) = (false, false, false);
        let mut i = 0;
        while let Some(a) = args.get(i) {
            if a == "--" {
                i += 1;
                break;
            }
            let Some(letters) = a.strip_prefix('-').filter(|l| !l.is_empty()) else {
                break;
            };
            for c in letters.chars() {
                match c {
                    'n' => unexport = true,
                    'p' => print = true,
                    'f' => funcs = true,
                    c => {
                        fds.error(&format!("export: -{c}: invalid option"));
                        fds.error("export: usage: export [-fn] [name[=value] ...] or export -p");
                        return Ok(2);
                    }
                }
            }
            i += 1;
        }
        let names = &args[i..];
        if funcs {
            // Functions are not handed to programs; naming an unknown one is an error.
            let mut status = 0;
            for n in names {
                if !self.functions.contains_key(n) {
                    fds.error(&format!("export: {n}: not a function"));
                    status = 1;
                }
            }
            return Ok(status);
        }
        if print || names.is_empty() {
            let mut all: Vec<(&String, &Var)> =
                self.vars.iter().filter(|(_, v)| v.exported).collect();
            all.sort_by(|a, b| a.0.cmp(b.0));
            let out: String = all
                .into_iter()
                .map(|(k, v)| format!("{}\n", describe(k, v)))
                .collect();
            return Ok(i32::from(fds.handle(1).write_all(out.as_bytes()).is_err()));
        }
        let (on, off) = if unexport { ("", "x") } else { ("x", "") };
        let mut status = 0;
        for a in names {
            match self.declare_one("export", a, on, off, fds)? {
                0 => {}
                s => status = s,
            }
        }
        Ok(status)
    }

    /// One `NAME[=VALUE]` operand; its status.
    fn declare_one(
        &mut self,
        cmd: &str,
        a: &str,
        flags: &str,
        unflags: &str,
        fds: &Fds,
    ) -> ExpResult<i32> {
        let (name, value) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (a, None),
        };
        let (name, append) = match name.strip_suffix('+') {
            Some(n) => (n, true),
            None => (name, false),
        };
        let element = subscripted(name);
        let base = element.map_or(name, |e| e.0);
        if !builtins::is_name(base) || element.is_some_and(|e| e.1.is_empty()) {
            fds.error(&format!("{cmd}: `{a}': not a valid identifier"));
            return Ok(1);
        }
        let name = base;
        if self.vars.get(name).is_some_and(|v| v.readonly)
            && (value.is_some() || !flags.is_empty() || !unflags.is_empty())
        {
            fds.error(&format!("{cmd}: {name}: readonly variable"));
            return Ok(1);
        }
        let local = cmd == "local"
            || (!flags.contains('g')
                && !self.locals.is_empty()
                && cmd != "readonly"
                && cmd != "export");
        if local {
            self.make_local(name);
        }
        if flags.contains('n') && !flags.contains('a') && !flags.contains('A') {
            // The reference itself: its value is the name it points at.
            if let Some(t) = value
                && (t == name || !valid_ref(t))
            {
                fds.error(&format!(
                    "{cmd}: `{t}': invalid variable name for name reference"
                ));
                return Ok(1);
            }
            let var = self.vars.entry(name.to_string()).or_default();
            var.nameref = true;
            if let Some(v) = value {
                var.value = Some(v.to_string());
                var.array = None;
            }
            var.readonly |= flags.contains('r');
            var.exported |= flags.contains('x');
            return Ok(0);
        }
        let target;
        let name = if self.vars.get(name).is_some_and(|v| v.nameref) {
            if unflags.contains('n') {
                if let Some(v) = self.vars.get_mut(name) {
                    v.nameref = false;
                }
                name
            } else {
                target = self.ref_target(name);
                target.as_str()
            }
        } else {
            name
        };
        if let Some(v) = self.vars.get(name)
            && ((unflags.contains('a') && matches!(v.array, Some(Array::Indexed(_))))
                || (unflags.contains('A') && matches!(v.array, Some(Array::Assoc(_)))))
        {
            fds.error(&format!(
                "{cmd}: {name}: cannot destroy array variables in this way"
            ));
            return Ok(1);
        }
        if let Some(v) = self.vars.get(name)
            && ((flags.contains('a') && matches!(v.array, Some(Array::Assoc(_))))
                || (flags.contains('A') && matches!(v.array, Some(Array::Indexed(_)))))
        {
            let kind = if flags.contains('a') {
                "associative"
            } else {
                "indexed"
            };
            fds.error(&format!(
                "{cmd}: {name}: cannot convert {kind} to {} array",
                if kind == "indexed" {
                    "associative"
                } else {
                    "indexed"
                }
            ));
            return Ok(1);
        }
        let var = self.vars.entry(name.to_string()).or_default();
        for (c, on) in flags
            .chars()
            .map(|c| (c, true))
            .chain(unflags.chars().map(|c| (c, false)))
        {
            match c {
                'l' => (var.lower, var.upper, var.capcase) = (on, false, false),
                'u' => (var.lower, var.upper, var.capcase) = (false, on, false),
                'c' => (var.lower, var.upper, var.capcase) = (false, false, on),
                'i' => var.integer = on,
                'x' => var.exported = on,
                't' => var.trace = on,
                _ => {}
            }
        }
        if (flags.contains('a') || element.is_some()) && var.array.is_none() && !flags.contains('A')
        {
            var.declared = var.value.is_none() && value.is_none();
            let old = var.value.take();
            var.array = Some(Array::Indexed(old.into_iter().map(|v| (0, v)).collect()));
        }
        if flags.contains('A') && !matches!(var.array, Some(Array::Assoc(_))) {
            var.declared = var.value.is_none() && value.is_none();
            let old = var.value.take();
            var.array = Some(Array::Assoc(
                old.into_iter().map(|v| ("0".to_string(), v)).collect(),
            ));
        }
        if let Some(v) = value {
            let r = match element {
                // `declare 'a[1+1]=v'`: the subscript is expanded (again) by the builtin;
                // a compound value assigns the whole array.
                Some(_) if v.starts_with('(') && v.ends_with(')') => {
                    self.declare_compound(name, v, append, fds)
                }
                Some((_, sub)) => self.declare_element(name, sub, v, append, fds)?,
                None => self.declare_value(name, v, flags, append, fds)?,
            };
            if let Err(e) = r {
                fds.error(&format!("{cmd}: {e}"));
                return Ok(1);
            }
        }
        if flags.contains('r') {
            self.vars.entry(name.to_string()).or_default().readonly = true;
        }
        Ok(0)
    }

    /// `NAME=(...)` given as one word: parsed and run as the assignment it spells.
    fn declare_compound(
        &mut self,
        name: &str,
        v: &str,
        append: bool,
        fds: &Fds,
    ) -> Result<(), String> {
        let op = if append { "+=" } else { "=" };
        match Shell::parse(&format!("{name}{op}{v}")) {
            Ok(prog) => {
                self.run_program(&prog, fds);
                Ok(())
            }
            Err(_) => self.set(name, v.to_string()),
        }
    }

    /// `NAME[SUB]=VALUE`: the subscript is expanded, and evaluated for an indexed array.
    fn declare_element(
        &mut self,
        name: &str,
        sub: &str,
        v: &str,
        append: bool,
        fds: &Fds,
    ) -> ExpResult<Result<(), String>> {
        let sub = self.expand_string(sub, fds)?;
        let key = if self.is_assoc(name) {
            sub
        } else {
            self.arith_text(&sub, None, fds)?.to_string()
        };
        let v = if self.vars.get(name).is_some_and(|x| x.integer) {
            let old = if append {
                self.get_element(name, &key)
                    .and_then(|o| o.parse::<i64>().ok())
                    .unwrap_or(0)
            } else {
                0
            };
            (old + self.arith_text(v, None, fds)?).to_string()
        } else if append {
            format!("{}{v}", self.get_element(name, &key).unwrap_or_default())
        } else {
            v.to_string()
        };
        Ok(self.set_element(name, &key, v))
    }

    /// `NAME=VALUE` (or `NAME=(...)` for an array).
    fn declare_value(
        &mut self,
        name: &str,
        v: &str,
        flags: &str,
        append: bool,
        fds: &Fds,
    ) -> ExpResult<Result<(), String>> {
        let pending = self.pending_arrays.iter().position(|(n, _)| n == name);
        if let (Some(p), true) = (pending, v.starts_with('(')) {
            // `declare a=(x y)`: the elements were expanded with the command's words.
            let (_, items) = self.pending_arrays.remove(p);
            let items = if self.vars.get(name).is_some_and(|x| x.integer) {
                let mut out = Vec::with_capacity(items.len());
                for (k, val) in items {
                    out.push((k, self.arith_text(&val, None, fds)?.to_string()));
                }
                out
            } else {
                items
            };
            return Ok(self.assign_array(name, items, append));
        }
        if v.starts_with('(')
            && v.ends_with(')')
            && (flags.contains('a')
                || flags.contains('A')
                || self.vars.get(name).is_some_and(|x| x.array.is_some()))
        {
            // `declare -a 'a=(1 2)'`: a quoted array literal is still one, as in bash.
            return Ok(self.declare_compound(name, v, append, fds));
        }
        let v = if self.vars.get(name).is_some_and(|v| v.integer) {
            let old = if append {
                self.get(name)
                    .and_then(|o| o.parse::<i64>().ok())
                    .unwrap_or(0)
            } else {
                0
            };
            (old + self.arith_text(v, None, fds)?).to_string()
        } else if append {
            format!("{}{v}", self.get(name).unwrap_or(""))
        } else {
            v.to_string()
        };
        Ok(match self.vars.get(name).and_then(|v| v.array.as_ref()) {
            Some(_) => self.set_element(name, "0", v),
            None => self.set(name, v),
        })
    }

    /// `declare -f`/`-F` [NAME...]: function definitions, or only their names.
    fn declare_functions(&self, names: &[String], names_only: bool, fds: &Fds) -> i32 {
        let mut out = String::new();
        let mut status = 0;
        let list: Vec<String> = if names.is_empty() {
            let mut all: Vec<String> = self.functions.keys().cloned().collect();
            all.sort();
            all
        } else {
            names.to_vec()
        };
        for n in &list {
            let Some(f) = self.functions.get(n) else {
                status = 1;
                continue;
            };
            if names_only {
                if names.is_empty() {
                    out.push_str(&format!("declare -f {n}\n"));
                } else {
                    out.push_str(&format!("{n}\n"));
                }
            } else {
                out.push_str(&format!("{n} () \n{}\n", f.0));
            }
        }
        if fds.handle(1).write_all(out.as_bytes()).is_err() {
            return 1;
        }
        status
    }

    /// `declare -p [NAME...]`, the listings filtered by attributes (`declare -r`), and
    /// the bare `declare` (every variable as `set` prints them).
    fn declare_print(
        &self,
        cmd: &str,
        names: &[String],
        flags: &str,
        plus: bool,
        fds: &Fds,
    ) -> i32 {
        let mut out = String::new();
        let mut status = 0;
        let filter: Vec<char> = flags.chars().filter(|c| FILTERS.contains(*c)).collect();
        if names.is_empty() {
            let in_frame = |k: &str| {
                self.locals
                    .last()
                    .is_some_and(|f| f.iter().any(|(n, _)| n == k))
            };
            let mut all: Vec<(&String, &Var)> = self
                .vars
                .iter()
                .filter(|(k, v)| {
                    (filter.is_empty() || filter.iter().any(|c| has_attr(v, *c)))
                        && (cmd != "local" || in_frame(k))
                })
                .collect();
            all.sort_by(|a, b| a.0.cmp(b.0));
            let set_style = (!flags.contains('p') && filter.is_empty()) || plus;
            for (k, v) in all {
                if set_style {
                    match (&v.array, &v.value) {
                        (Some(_), _) => {
                            let d = describe(k, v);
                            if let Some((_, rest)) = d.split_once(' ')
                                && let Some((_, assign)) = rest.split_once(' ')
                            {
                                out.push_str(assign);
                                out.push('\n');
                            }
                        }
                        (None, Some(val)) => {
                            out.push_str(&format!("{k}={}\n", set_quote(val)));
                        }
                        (None, None) => {}
                    }
                } else {
                    out.push_str(&describe(k, v));
                    out.push('\n');
                }
            }
            if set_style && !plus && cmd != "local" {
                let mut funcs: Vec<_> = self.functions.iter().collect();
                funcs.sort_by(|a, b| a.0.cmp(b.0));
                for (n, f) in funcs {
                    out.push_str(&format!("{n} () \n{}\n", f.0));
                }
            }
        }
        for name in names {
            if super::callstack::is_stack_var(name) && !self.vars.contains_key(name) {
                out.push_str(&describe(name, &self.stack_var_as_var(name)));
                out.push('\n');
                continue;
            }
            let Some(v) = self.vars.get(name) else {
                fds.error(&format!("{cmd}: {name}: not found"));
                status = 1;
                continue;
            };
            out.push_str(&describe(name, v));
            out.push('\n');
        }
        if fds.handle(1).write_all(out.as_bytes()).is_err() {
            return 1;
        }
        status
    }
}

/// Whether `t` can be a nameref's target: a variable name, maybe with a subscript.
fn valid_ref(t: &str) -> bool {
    let base = subscripted(t).map_or(t, |e| e.0);
    builtins::is_name(base)
}
