//! Variable storage beyond plain scalars: indexed and associative arrays, the
//! integer attribute, and function-local scopes (`local`), plus the `declare`
//! family of builtins that manipulate them.

use std::collections::BTreeMap;

use super::{Shell, Var};

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
    ///
    /// A chain that loops (or is longer than bash's limit of 8) names no variable:
    /// the empty name, which reads as unset and cannot be assigned.
    pub(crate) fn ref_target(&self, name: &str) -> String {
        let mut n = name;
        for _ in 0..=8 {
            match self.vars.get(n) {
                Some(v) if v.nameref => match v.value.as_deref() {
                    Some(t) if t == name || t == n => return String::new(),
                    Some(t) if !t.is_empty() => n = t,
                    _ => return n.to_string(),
                },
                _ => return n.to_string(),
            }
        }
        String::new()
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
        if name.is_empty() {
            return Err("circular name reference".into());
        }
        let v = self.vars.entry(name.to_string()).or_default();
        if v.readonly {
            return Err(format!("{name}: readonly variable"));
        }
        v.declared = false;
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
        if name.is_empty() {
            return Err("circular name reference".into());
        }
        let assoc = self.is_assoc(name);
        // `declare -i`: each element is evaluated arithmetically.
        let items = if self.vars.get(name.as_str()).is_some_and(|v| v.integer) {
            let null = super::host_null_fds();
            items
                .into_iter()
                .map(|(k, v)| {
                    let n = self.arith_text(&v, None, &null).unwrap_or(0);
                    (k, n.to_string())
                })
                .collect()
        } else {
            items
        };
        let v = self.vars.entry(name.to_string()).or_default();
        if v.readonly {
            return Err(format!("{name}: readonly variable"));
        }
        v.declared = false;
        let old_scalar = v.value.take();
        let caser = Var {
            upper: v.upper,
            lower: v.lower,
            capcase: v.capcase,
            ..Var::default()
        };
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
                    m.insert(next, caser.cased(val));
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
                    m.insert(k, caser.cased(val));
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
        // Declared an array but never assigned: no value to show.
        (Some(a), _) if v.declared && a.len() == 0 => format!("declare -{attrs} {name}"),
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
                .map(|(k, val)| format!("[{}]={} ", assoc_key(k), q(val)))
                .collect();
            format!("declare -{attrs} {name}=({items})")
        }
        (None, Some(val)) => format!("declare -{attrs} {name}={}", q(val)),
        (None, None) => format!("declare -{attrs} {name}"),
    }
}

/// An associative array's key as `declare -p` prints it: double-quoted when it has
/// characters special to the shell.
fn assoc_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:,=+@%^".contains(c))
    {
        return k.to_string();
    }
    let mut o = String::from("\"");
    for c in k.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            o.push('\\');
        }
        o.push(c);
    }
    o.push('"');
    o
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
