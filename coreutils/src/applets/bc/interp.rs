//! bc's run time: variables and arrays with bc's dynamic scoping (a function's
//! parameters and autos shadow the globals until it returns), statements and
//! the built-in functions.

use std::collections::HashMap;
use std::io::Write;

use super::num::Num;
use super::{Arg, Expr, Flow, Func, Place, Rule, Stmt, math};

/// The interpreter's state.
pub struct Interp {
    pub scale: u32,
    ibase: u32,
    obase: u32,
    last: Num,
    pub mathlib: bool,
    vars: HashMap<String, Vec<Num>>,
    arrays: HashMap<String, Vec<HashMap<u64, Num>>>,
    pub funcs: HashMap<String, Func>,
    depth: usize,
    pub out: Vec<u8>,
}

type R<T> = Result<T, String>;

/// bc's array index limit (BC_DIM_MAX).
const DIM_MAX: u64 = 16_777_215;

impl Interp {
    pub fn new(mathlib: bool) -> Interp {
        Interp {
            scale: if mathlib { 20 } else { 0 },
            ibase: 10,
            obase: 10,
            last: Num::int(0),
            mathlib,
            vars: HashMap::new(),
            arrays: HashMap::new(),
            funcs: HashMap::new(),
            depth: 0,
            out: Vec::new(),
        }
    }

    fn index(&mut self, e: &Expr) -> R<u64> {
        let v = self.eval(e)?;
        match v.to_i64() {
            Some(i) if (0..=DIM_MAX as i64).contains(&i) => Ok(i as u64),
            _ => Err("Array index out of bounds".into()),
        }
    }

    fn get(&mut self, p: &Place) -> R<Num> {
        Ok(match p {
            Place::Var(n) => match n.as_str() {
                "scale" => Num::int(i64::from(self.scale)),
                "ibase" => Num::int(i64::from(self.ibase)),
                "obase" => Num::int(i64::from(self.obase)),
                "last" => self.last.clone(),
                _ => self
                    .vars
                    .get(n)
                    .and_then(|s| s.last())
                    .cloned()
                    .unwrap_or_default(),
            },
            Place::Elem(n, i) => {
                let i = self.index(i)?;
                self.arrays
                    .get(n)
                    .and_then(|s| s.last())
                    .and_then(|a| a.get(&i))
                    .cloned()
                    .unwrap_or_default()
            }
        })
    }

    fn set(&mut self, p: &Place, v: Num) -> R<()> {
        match p {
            Place::Var(n) => {
                let small =
                    |v: &Num, lo: i64, hi: i64| v.to_i64().unwrap_or(hi).clamp(lo, hi) as u32;
                match n.as_str() {
                    "scale" => self.scale = small(&v, 0, i64::from(u32::MAX / 4)),
                    "ibase" => self.ibase = small(&v, 2, 16),
                    "obase" => self.obase = small(&v, 2, 999),
                    "last" => self.last = v,
                    _ => {
                        let stack = self.vars.entry(n.clone()).or_default();
                        match stack.last_mut() {
                            Some(slot) => *slot = v,
                            None => stack.push(v),
                        }
                    }
                }
            }
            Place::Elem(n, i) => {
                let i = self.index(i)?;
                let stack = self.arrays.entry(n.clone()).or_default();
                if stack.is_empty() {
                    stack.push(HashMap::new());
                }
                if let Some(a) = stack.last_mut() {
                    a.insert(i, v);
                }
            }
        }
        Ok(())
    }

    fn binary(&mut self, op: Rule, a: &Num, b: &Num) -> R<Num> {
        let s = self.scale;
        let zero = || "Divide by zero".to_string();
        Ok(match op {
            Rule::add => a.add(b),
            Rule::sub => a.sub(b),
            Rule::mul => a.mul(b, s),
            Rule::div => a.div(b, s).ok_or_else(zero)?,
            Rule::rem => a.rem(b, s).ok_or_else(zero)?,
            Rule::pow => {
                let n = b.to_i64().ok_or("exponent too large")?;
                a.pow(n, s).ok_or("exponent too large or divide by zero")?
            }
            Rule::eq => Num::truth(a.cmp(b).is_eq()),
            Rule::ne => Num::truth(a.cmp(b).is_ne()),
            Rule::lt => Num::truth(a.cmp(b).is_lt()),
            Rule::le => Num::truth(a.cmp(b).is_le()),
            Rule::gt => Num::truth(a.cmp(b).is_gt()),
            Rule::ge => Num::truth(a.cmp(b).is_ge()),
            r => return Err(format!("bad operator {r:?}")),
        })
    }

    pub fn eval(&mut self, e: &Expr) -> R<Num> {
        match e {
            Expr::Num(t) => Ok(Num::parse(t, self.ibase)),
            Expr::Get(p) => self.get(p),
            Expr::Neg(x) => Ok(self.eval(x)?.neg()),
            Expr::Not(x) => Ok(Num::truth(self.eval(x)?.is_zero())),
            Expr::Bin(Rule::and, a, b) => {
                let v = !self.eval(a)?.is_zero() && !self.eval(b)?.is_zero();
                Ok(Num::truth(v))
            }
            Expr::Bin(Rule::or, a, b) => {
                let v = !self.eval(a)?.is_zero() || !self.eval(b)?.is_zero();
                Ok(Num::truth(v))
            }
            Expr::Bin(op, a, b) => {
                let (a, b) = (self.eval(a)?, self.eval(b)?);
                self.binary(*op, &a, &b)
            }
            Expr::Assign(op, p, x) => {
                let v = self.eval(x)?;
                let v = match op {
                    None => v,
                    Some(op) => {
                        let old = self.get(p)?;
                        self.binary(*op, &old, &v)?
                    }
                };
                self.set(p, v.clone())?;
                Ok(v)
            }
            Expr::Step(p, d, pre) => {
                let old = self.get(p)?;
                let new = old.add(&Num::int(*d));
                self.set(p, new.clone())?;
                Ok(if *pre { new } else { old })
            }
            Expr::Call(name, args) => self.call(name, args),
        }
    }

    fn builtin(&mut self, name: &str, args: &[Arg]) -> Option<R<Num>> {
        let one = |me: &mut Interp| -> R<Num> {
            match args {
                [Arg::Val(e)] => me.eval(e),
                _ => Err(format!("{name}() takes one argument")),
            }
        };
        let s = self.scale;
        let lib = self.mathlib;
        let r = match name {
            "length" => one(self).map(|v| Num::int(i64::from(v.length()))),
            "scale" => one(self).map(|v| Num::int(i64::from(v.s))),
            "sqrt" => one(self).and_then(|v| {
                v.sqrt(s)
                    .ok_or_else(|| "Square root of a negative number".into())
            }),
            "s" if lib => {
                one(self).and_then(|v| math::sin(&v, s).ok_or_else(|| "sin failed".into()))
            }
            "c" if lib => {
                one(self).and_then(|v| math::cos(&v, s).ok_or_else(|| "cos failed".into()))
            }
            "a" if lib => {
                one(self).and_then(|v| math::atan(&v, s).ok_or_else(|| "atan failed".into()))
            }
            "l" if lib => one(self).and_then(|v| math::ln(&v, s).ok_or_else(|| "ln failed".into())),
            "e" if lib => {
                one(self).and_then(|v| math::exp(&v, s).ok_or_else(|| "exp failed".into()))
            }
            "j" if lib => match args {
                [Arg::Val(n), Arg::Val(x)] => {
                    let (n, x) = match (self.eval(n), self.eval(x)) {
                        (Ok(n), Ok(x)) => (n, x),
                        (Err(e), _) | (_, Err(e)) => return Some(Err(e)),
                    };
                    math::bessel(&n, &x, s).ok_or_else(|| "j failed".into())
                }
                _ => Err("j() takes two arguments".into()),
            },
            _ => return None,
        };
        Some(r)
    }

    fn call(&mut self, name: &str, args: &[Arg]) -> R<Num> {
        if !self.funcs.contains_key(name) {
            if let Some(r) = self.builtin(name, args) {
                return r;
            }
            return Err(format!("Function {name} not defined."));
        }
        let f = self.funcs[name].clone();
        if f.params.len() != args.len() {
            return Err(format!("Parameter number mismatch in {name}"));
        }
        if self.depth > 2000 {
            return Err("function calls nested too deeply".into());
        }
        // Arguments are evaluated before any name is shadowed.
        let mut values = Vec::new();
        for ((pname, is_array), a) in f.params.iter().zip(args) {
            match (a, is_array) {
                (Arg::Val(e), false) => values.push((pname.clone(), Ok(self.eval(e)?))),
                (Arg::Array(n), true) => {
                    let copy = self
                        .arrays
                        .get(n)
                        .and_then(|s| s.last())
                        .cloned()
                        .unwrap_or_default();
                    values.push((pname.clone(), Err(copy)));
                }
                _ => return Err(format!("Parameter type mismatch in {name}")),
            }
        }
        for (n, v) in values {
            match v {
                Ok(v) => self.vars.entry(n).or_default().push(v),
                Err(a) => self.arrays.entry(n).or_default().push(a),
            }
        }
        for (n, is_array) in &f.autos {
            if *is_array {
                self.arrays
                    .entry(n.clone())
                    .or_default()
                    .push(HashMap::new());
            } else {
                self.vars.entry(n.clone()).or_default().push(Num::int(0));
            }
        }
        self.depth += 1;
        let result = self.block(&f.body);
        self.depth -= 1;
        for (n, is_array) in f.params.iter().chain(&f.autos) {
            if *is_array {
                self.arrays.get_mut(n).and_then(Vec::pop);
            } else {
                self.vars.get_mut(n).and_then(Vec::pop);
            }
        }
        match result? {
            Flow::Return(v) => Ok(v),
            Flow::Quit => Err("quit".into()),
            _ => Ok(Num::int(0)),
        }
    }

    fn block(&mut self, body: &[Stmt]) -> R<Flow> {
        for s in body {
            match self.exec(s)? {
                Flow::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    }

    /// Writes a value and a newline, as an expression statement does.
    fn show(&mut self, v: &Num, newline: bool) {
        let text = v.format(self.obase);
        self.out.extend_from_slice(text.as_bytes());
        if newline {
            self.out.push(b'\n');
        }
    }

    /// A `print` string with its escapes (\n \t \\ \" \a \b \f \r \q).
    fn print_str(&mut self, s: &str) {
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                let mut b = [0; 4];
                self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                continue;
            }
            let e = match chars.next() {
                Some('n') => "\n",
                Some('t') => "\t",
                Some('a') => "\x07",
                Some('b') => "\x08",
                Some('f') => "\x0c",
                Some('r') => "\r",
                Some('q') => "\"",
                Some('\\') => "\\",
                Some(_) | None => "",
            };
            self.out.extend_from_slice(e.as_bytes());
        }
    }

    pub fn exec(&mut self, s: &Stmt) -> R<Flow> {
        Ok(match s {
            Stmt::Expr(e) => {
                let v = self.eval(e)?;
                if !matches!(e, Expr::Assign(..)) {
                    self.show(&v, true);
                    self.last = v;
                }
                Flow::Next
            }
            Stmt::Str(t) => {
                self.out.extend_from_slice(t.as_bytes());
                Flow::Next
            }
            Stmt::Print(items) => {
                for i in items {
                    match i {
                        Stmt::Str(t) => self.print_str(t),
                        Stmt::Expr(e) => {
                            let v = self.eval(e)?;
                            self.show(&v, false);
                            self.last = v;
                        }
                        _ => {}
                    }
                }
                Flow::Next
            }
            Stmt::If(c, then, other) => {
                if !self.eval(c)?.is_zero() {
                    self.exec(then)?
                } else if let Some(o) = other {
                    self.exec(o)?
                } else {
                    Flow::Next
                }
            }
            Stmt::While(c, body) => {
                while !self.eval(c)?.is_zero() {
                    match self.exec(body)? {
                        Flow::Break => break,
                        Flow::Next | Flow::Continue => {}
                        other => return Ok(other),
                    }
                }
                Flow::Next
            }
            Stmt::For(init, cond, step, body) => {
                if let Some(i) = init {
                    self.eval(i)?;
                }
                loop {
                    if let Some(c) = cond
                        && self.eval(c)?.is_zero()
                    {
                        break;
                    }
                    match self.exec(body)? {
                        Flow::Break => break,
                        Flow::Next | Flow::Continue => {}
                        other => return Ok(other),
                    }
                    if let Some(st) = step {
                        self.eval(st)?;
                    }
                }
                Flow::Next
            }
            Stmt::Block(b) => self.block(b)?,
            Stmt::Break => Flow::Break,
            Stmt::Continue => Flow::Continue,
            Stmt::Quit => Flow::Quit,
            Stmt::Return(e) => Flow::Return(match e {
                Some(e) => self.eval(e)?,
                None => Num::int(0),
            }),
        })
    }

    /// Sends what was written so far to `w`.
    pub fn flush(&mut self, w: &mut impl Write) -> std::io::Result<()> {
        w.write_all(&self.out)?;
        self.out.clear();
        w.flush()
    }
}
