//! Variable storage beyond plain scalars: indexed and associative arrays, the
//! integer attribute, and function-local scopes (`local`), plus the `declare`
//! family of builtins that manipulate them.

use std::collections::BTreeMap;

use super::expand::ExpResult;
use super::{Fds, Shell, Var};

/// Elements to assign to an array: (subscript, value); no subscript means "next".
pub(crate) type ArrayItems = Vec<(Option<String>, String)>;

/// The elements of an array variable.
#[derive(Clone, Debug)]
pub enum Array {
    /// `a=(x y)`, `a[3]=z`: sparse, ordered by index.
    Indexed(BTreeMap<i64, String>),
    /// `declare -A m; m[k]=v` (listed in key order; bash's order is its hash order).
    Assoc(BTreeMap<String, String>),
}

impl Array {
    /// The element values in order.
    pub fn values(&self) -> Vec<String> {
        match self {
            Array::Indexed(m) => m.values().cloned().collect(),
            Array::Assoc(m) => m.values().cloned().collect(),
        }
    }

    /// The subscripts in order.
    pub fn keys(&self) -> Vec<String> {
        match self {
            Array::Indexed(m) => m.keys().map(|k| k.to_string()).collect(),
            Array::Assoc(m) => m.keys().cloned().collect(),
        }
    }

    /// How many elements are set.
    pub fn len(&self) -> usize {
        match self {
            Array::Indexed(m) => m.len(),
            Array::Assoc(m) => m.len(),
        }
    }

    /// One element by subscript text (an indexed array's key is already evaluated).
    pub fn get(&self, key: &str) -> Option<&String> {
        match self {
            Array::Indexed(m) => {
                let i: i64 = key.parse().ok()?;
                let i = if i < 0 {
                    m.keys().next_back().map_or(i, |last| last + 1 + i)
                } else {
                    i
                };
                m.get(&i)
            }
            Array::Assoc(m) => m.get(key),
        }
    }
}

impl Shell {
    /// The variable `name` stands for: itself, or what its nameref chain ends at
    /// (bash gives up after a few levels, as on a loop).
    pub(crate) fn ref_target(&self, name: &str) -> String {
        let mut n = name;
        for _ in 0..8 {
            match self.vars.get(n) {
                Some(v) if v.nameref => match v.value.as_deref() {
                    Some(t) if !t.is_empty() && t != n => n = t,
                    _ => break,
                },
                _ => break,
            }
        }
        n.to_string()
    }

    /// Whether `name` is an associative array.
    pub(crate) fn is_assoc(&self, name: &str) -> bool {
        let name = &self.ref_target(name);
        matches!(
            self.vars.get(name.as_str()).and_then(|v| v.array.as_ref()),
            Some(Array::Assoc(_))
        )
    }

    /// `${name[key]}` (a scalar is element 0).
    pub(crate) fn get_element(&self, name: &str, key: &str) -> Option<String> {
        let name = self.ref_target(name);
        let v = self.vars.get(name.as_str())?;
        match &v.array {
            Some(a) => a.get(key).cloned(),
            None if key == "0" => v.value.clone(),
            None => None,
        }
    }

    /// `name[key]=value`; a scalar becomes an indexed array keeping its value at 0.
    pub(crate) fn set_element(
        &mut self,
        name: &str,
        key: &str,
        value: String,
    ) -> Result<(), String> {
        let name = &self.ref_target(name);
        let v = self.vars.entry(name.to_string()).or_default();
        if v.readonly {
            return Err(format!("{name}: readonly variable"));
        }
        let value = v.cased(value);
        let arr = v.array.get_or_insert_with(|| {
            let mut m = BTreeMap::new();
            if let Some(old) = v.value.take() {
                m.insert(0, old);
            }
            Array::Indexed(m)
        });
        match arr {
            Array::Assoc(m) => {
                m.insert(key.to_string(), value);
            }
            Array::Indexed(m) => {
                let i: i64 = key
                    .parse()
                    .map_err(|_| format!("{name}[{key}]: bad array subscript"))?;
                let i = if i < 0 {
                    m.keys().next_back().map_or(i, |last| last + 1 + i)
                } else {
                    i
                };
                if i < 0 {
                    return Err(format!("{name}[{key}]: bad array subscript"));
                }
                m.insert(i, value);
            }
        }
        Ok(())
    }

    /// Replaces (or, with `append`, extends) an array's elements from `(k, v)` pairs;
    /// `k` is None for positional elements.
    pub(crate) fn assign_array(
        &mut self,
        name: &str,
        items: Vec<(Option<String>, String)>,
        append: bool,
    ) -> Result<(), String> {
        let name = &self.ref_target(name);
        let assoc = self.is_assoc(name);
        let v = self.vars.entry(name.to_string()).or_default();
        if v.readonly {
            return Err(format!("{name}: readonly variable"));
        }
        let old_scalar = v.value.take();
        let mut arr = match (append, v.array.take()) {
            (true, Some(a)) => a,
            (true, None) => Array::Indexed(old_scalar.into_iter().map(|s| (0, s)).collect()),
            _ if assoc => Array::Assoc(BTreeMap::new()),
            _ => Array::Indexed(BTreeMap::new()),
        };
        match &mut arr {
            Array::Indexed(m) => {
                let mut next = m.keys().next_back().map_or(0, |k| k + 1);
                for (k, val) in items {
                    if let Some(k) = k {
                        next = k
                            .parse()
                            .map_err(|_| format!("{name}[{k}]: bad array subscript"))?;
                    }
                    m.insert(next, val);
                    next += 1;
                }
            }
            Array::Assoc(m) => {
                for (k, val) in items {
                    let Some(k) = k else {
                        return Err(format!(
                            "{name}: {val}: must use subscript when assigning associative array"
                        ));
                    };
                    m.insert(k, val);
                }
            }
        }
        self.vars.get_mut(name).expect("inserted above").array = Some(arr);
        Ok(())
    }

    /// Makes `name` local to the running function (saving the caller's variable).
    pub(crate) fn make_local(&mut self, name: &str) {
        let Some(frame) = self.locals.last_mut() else {
            return;
        };
        if frame.iter().any(|(n, _)| n == name) {
            return;
        }
        let old = self.vars.remove(name);
        // A local inherits nothing but the exported attribute's absence: a fresh variable.
        frame.push((name.to_string(), old));
        self.vars.insert(name.to_string(), Var::default());
    }

    /// Restores the variables a function's `local`s shadowed.
    pub(crate) fn pop_locals(&mut self) {
        if let Some(frame) = self.locals.pop() {
            for (name, old) in frame.into_iter().rev() {
                match old {
                    Some(v) => self.vars.insert(name, v),
                    None => self.vars.remove(&name),
                };
            }
        }
    }

    /// `declare`/`typeset`/`local`/`readonly` [-aAirxpg] [NAME[=VALUE]...].
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
            .find(|c| !"aAirxpgfFnlut".contains(*c))
        {
            fds.error(&format!("{cmd}: -{bad}: invalid option"));
            return Ok(2);
        }
        let names = &args[i..];
        if flags.contains('p') || names.is_empty() {
            return Ok(self.declare_print(cmd, names, &flags, fds));
        }
        let mut status = 0;
        for a in names {
            let (name, value) = match a.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (a.as_str(), None),
            };
            let (name, append) = match name.strip_suffix('+') {
                Some(n) => (n, true),
                None => (name, false),
            };
            if !builtins::is_name(name) {
                fds.error(&format!("{cmd}: `{a}': not a valid identifier"));
                status = 1;
                continue;
            }
            if self.vars.get(name).is_some_and(|v| v.readonly)
                && (value.is_some() || !flags.is_empty())
            {
                fds.error(&format!("{cmd}: {name}: readonly variable"));
                status = 1;
                continue;
            }
            let local = cmd == "local"
                || (!flags.contains('g')
                    && !self.locals.is_empty()
                    && cmd != "readonly"
                    && cmd != "export");
            if local {
                self.make_local(name);
            }
            if flags.contains('n') {
                // The reference itself: its value is the name it points at.
                let var = self.vars.entry(name.to_string()).or_default();
                var.nameref = true;
                if let Some(v) = value {
                    var.value = Some(v.to_string());
                    var.array = None;
                }
                if flags.contains('r') {
                    var.readonly = true;
                }
                continue;
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
            let var = self.vars.entry(name.to_string()).or_default();
            if flags.contains('l') {
                (var.lower, var.upper) = (true, false);
            }
            if flags.contains('u') {
                (var.lower, var.upper) = (false, true);
            }
            if unflags.contains('l') {
                var.lower = false;
            }
            if unflags.contains('u') {
                var.upper = false;
            }
            if flags.contains('a') && var.array.is_none() {
                let old = var.value.take();
                var.array = Some(Array::Indexed(old.into_iter().map(|v| (0, v)).collect()));
            }
            if flags.contains('A') && !matches!(var.array, Some(Array::Assoc(_))) {
                var.value = None;
                var.array = Some(Array::Assoc(BTreeMap::new()));
            }
            if flags.contains('i') {
                var.integer = true;
            }
            if unflags.contains('i') {
                var.integer = false;
            }
            if flags.contains('x') {
                var.exported = true;
            }
            if unflags.contains('x') {
                var.exported = false;
            }
            if let Some(v) = value {
                let pending = self.pending_arrays.iter().position(|(n, _)| n == name);
                let r = if let (Some(p), true) = (pending, v.starts_with('(')) {
                    // `declare a=(x y)`: the elements were expanded with the command's words.
                    let (_, items) = self.pending_arrays.remove(p);
                    self.assign_array(name, items, append)
                } else if v.starts_with('(')
                    && v.ends_with(')')
                    && (flags.contains('a')
                        || flags.contains('A')
                        || self.vars.get(name).is_some_and(|x| x.array.is_some()))
                {
                    // `declare -a 'a=(1 2)'`: a quoted array literal is still one, as in bash.
                    let op = if append { "+=" } else { "=" };
                    match Shell::parse(&format!("{name}{op}{v}")) {
                        Ok(prog) => {
                            self.run_program(&prog, fds);
                            Ok(())
                        }
                        Err(_) => self.set(name, v.to_string()),
                    }
                } else {
                    let v = if self.vars.get(name).is_some_and(|v| v.integer) {
                        self.arith_text(v, None, fds)?.to_string()
                    } else {
                        v.to_string()
                    };
                    let v = if append {
                        format!("{}{v}", self.get(name).unwrap_or(""))
                    } else {
                        v
                    };
                    match self.vars.get(name).and_then(|v| v.array.as_ref()) {
                        Some(_) => self.set_element(name, "0", v),
                        None => self.set(name, v),
                    }
                };
                if let Err(e) = r {
                    fds.error(&format!("{cmd}: {e}"));
                    status = 1;
                    continue;
                }
            }
            if flags.contains('r') {
                self.vars.entry(name.to_string()).or_default().readonly = true;
            }
        }
        Ok(status)
    }

    /// `declare -p [NAME...]`, or the listing of `declare` without names.
    fn declare_print(&self, cmd: &str, names: &[String], flags: &str, fds: &Fds) -> i32 {
        let mut out = String::new();
        let mut status = 0;
        let list: Vec<String> = if names.is_empty() {
            let mut all: Vec<String> = self
                .vars
                .iter()
                .filter(|(_, v)| {
                    (cmd != "readonly" || v.readonly) && (!flags.contains('x') || v.exported)
                })
                .map(|(k, _)| k.clone())
                .collect();
            all.sort();
            all
        } else {
            names.to_vec()
        };
        for name in &list {
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

/// One `declare -p` line.
pub(crate) fn describe(name: &str, v: &Var) -> String {
    let mut attrs = super::transform::attr_letters(v);
    if attrs.is_empty() {
        attrs.push('-');
    }
    let q = |s: &str| {
        if s.chars().any(|c| c.is_control()) {
            return ansi_c_quote(s);
        }
        let mut o = String::from("\"");
        for c in s.chars() {
            if matches!(c, '"' | '\\' | '$' | '`') {
                o.push('\\');
            }
            o.push(c);
        }
        o.push('"');
        o
    };
    match (&v.array, &v.value) {
        (Some(Array::Indexed(m)), _) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, val)| format!("[{k}]={}", q(val)))
                .collect();
            format!("declare -{attrs} {name}=({})", items.join(" "))
        }
        (Some(Array::Assoc(m)), _) => {
            let items: String = m
                .iter()
                .map(|(k, val)| format!("[{k}]={} ", q(val)))
                .collect();
            format!("declare -{attrs} {name}=({items})")
        }
        (None, Some(val)) => format!("declare -{attrs} {name}={}", q(val)),
        (None, None) => format!("declare -{attrs} {name}"),
    }
}

/// `$'...'` quoting, as bash's `declare -p` prints values with control characters.
pub(crate) fn ansi_c_quote(s: &str) -> String {
    let mut o = String::from("$'");
    for c in s.chars() {
        match c {
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            '\x07' => o.push_str("\\a"),
            '\x08' => o.push_str("\\b"),
            '\x0b' => o.push_str("\\v"),
            '\x0c' => o.push_str("\\f"),
            '\x1b' => o.push_str("\\E"),
            '\'' => o.push_str("\\'"),
            '\\' => o.push_str("\\\\"),
            c if c.is_control() => o.push_str(&format!("\\{:03o}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('\'');
    o
}
