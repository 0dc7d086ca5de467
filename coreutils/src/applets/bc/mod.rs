//! bc (GNU's): arbitrary-precision arithmetic (num.rs), a pest grammar
//! (bc.pest) with a Pratt parser for bc's precedence, and `-l`'s math library
//! (math.rs). Input runs a top-level unit (a line, or lines up to a balanced
//! brace) at a time, so that a syntax or run-time error loses that unit only.

mod interp;
mod math;
mod num;

use std::ffi::OsString;
use std::io::{self, BufRead};

use pest::Parser;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use self::num::Num;
use super::{args, help, strerror};

const HELP: &str = "Usage: bc [options] [file ...]
An arbitrary precision calculator language.

  -l, --mathlib     use the predefined math routines (s c a l e j), scale=20
  -q, --quiet       don't print initial banner
  -s, --standard    accepted
  -w, --warn        accepted
      --help        print this usage and exit

Files are read first, then standard input (unless one of them quits).
";

#[derive(pest_derive::Parser)]
#[grammar = "applets/bc/bc.pest"]
struct BcParser;

/// Something assignable.
#[derive(Clone, Debug)]
enum Place {
    Var(String),
    Elem(String, Box<Expr>),
}

#[derive(Clone, Debug)]
enum Expr {
    Num(String),
    Get(Place),
    Call(String, Vec<Arg>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(Rule, Box<Expr>, Box<Expr>),
    /// `=` (None) or an operator-assignment like `+=`.
    Assign(Option<Rule>, Place, Box<Expr>),
    /// ++/-- before (true) or after the place.
    Step(Place, i64, bool),
}

#[derive(Clone, Debug)]
enum Arg {
    Val(Expr),
    Array(String),
}

#[derive(Clone, Debug)]
enum Stmt {
    Expr(Expr),
    Str(String),
    Print(Vec<Stmt>),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    While(Expr, Box<Stmt>),
    For(Option<Expr>, Option<Expr>, Option<Expr>, Box<Stmt>),
    Block(Vec<Stmt>),
    Break,
    Continue,
    Quit,
    Return(Option<Expr>),
}

/// A defined function: its parameters and autos (name, is an array), its body.
#[derive(Clone, Debug)]
struct Func {
    params: Vec<(String, bool)>,
    autos: Vec<(String, bool)>,
    body: Vec<Stmt>,
}

/// How a statement ended.
enum Flow {
    Next,
    Break,
    Continue,
    Return(Num),
    Quit,
}

fn pratt() -> PrattParser<Rule> {
    PrattParser::new()
        .op(Op::infix(Rule::or, Assoc::Left))
        .op(Op::infix(Rule::and, Assoc::Left))
        .op(Op::prefix(Rule::not))
        .op(Op::infix(Rule::eq, Assoc::Left)
            | Op::infix(Rule::ne, Assoc::Left)
            | Op::infix(Rule::le, Assoc::Left)
            | Op::infix(Rule::ge, Assoc::Left)
            | Op::infix(Rule::lt, Assoc::Left)
            | Op::infix(Rule::gt, Assoc::Left))
        .op(Op::infix(Rule::assign, Assoc::Right))
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left)
            | Op::infix(Rule::div, Assoc::Left)
            | Op::infix(Rule::rem, Assoc::Left))
        .op(Op::infix(Rule::pow, Assoc::Right))
        .op(Op::prefix(Rule::neg))
        .op(Op::prefix(Rule::preinc)
            | Op::prefix(Rule::predec)
            | Op::postfix(Rule::postinc)
            | Op::postfix(Rule::postdec))
}

fn place(e: Expr) -> Result<Place, String> {
    match e {
        Expr::Get(p) => Ok(p),
        _ => Err("assignment to something that is not a variable".into()),
    }
}

fn expr(p: Pair<Rule>, pr: &PrattParser<Rule>) -> Result<Expr, String> {
    pr.map_primary(|p| primary(p, pr))
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            Ok(match op.as_rule() {
                Rule::neg => Expr::Neg(Box::new(rhs)),
                Rule::not => Expr::Not(Box::new(rhs)),
                Rule::preinc => Expr::Step(place(rhs)?, 1, true),
                _ => Expr::Step(place(rhs)?, -1, true),
            })
        })
        .map_postfix(|lhs, op| {
            let step = if op.as_rule() == Rule::postinc { 1 } else { -1 };
            Ok(Expr::Step(place(lhs?)?, step, false))
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, Box::new(rhs?));
            if op.as_rule() != Rule::assign {
                return Ok(Expr::Bin(op.as_rule(), Box::new(lhs), rhs));
            }
            let kind = match op.as_str() {
                "=" => None,
                "+=" => Some(Rule::add),
                "-=" => Some(Rule::sub),
                "*=" => Some(Rule::mul),
                "/=" => Some(Rule::div),
                "%=" => Some(Rule::rem),
                _ => Some(Rule::pow),
            };
            Ok(Expr::Assign(kind, place(lhs)?, rhs))
        })
        .parse(p.into_inner())
}

fn primary(p: Pair<Rule>, pr: &PrattParser<Rule>) -> Result<Expr, String> {
    let rule = p.as_rule();
    let text = p.as_str().to_string();
    let mut inner = p.into_inner();
    Ok(match rule {
        Rule::number => Expr::Num(text),
        Rule::var => Expr::Get(Place::Var(text)),
        Rule::last_dot => Expr::Get(Place::Var("last".into())),
        Rule::paren => expr(inner.next().ok_or("empty parentheses")?, pr)?,
        Rule::element => {
            let name = inner.next().ok_or("no name")?.as_str().to_string();
            let index = expr(inner.next().ok_or("no index")?, pr)?;
            Expr::Get(Place::Elem(name, Box::new(index)))
        }
        Rule::call => {
            let name = inner.next().ok_or("no name")?.as_str().to_string();
            let mut args = Vec::new();
            if let Some(list) = inner.next() {
                for a in list.into_inner() {
                    args.push(match a.as_rule() {
                        Rule::whole_array => Arg::Array(a.into_inner().as_str().to_string()),
                        _ => Arg::Val(expr(a, pr)?),
                    });
                }
            }
            Expr::Call(name, args)
        }
        r => return Err(format!("unexpected {r:?}")),
    })
}

fn stmt(p: Pair<Rule>, pr: &PrattParser<Rule>) -> Result<Stmt, String> {
    let p = if p.as_rule() == Rule::stmt {
        p.into_inner().next().ok_or("empty statement")?
    } else {
        p
    };
    let rule = p.as_rule();
    if rule == Rule::expr {
        return Ok(Stmt::Expr(expr(p, pr)?));
    }
    let text = p.as_str().to_string();
    let mut inner = p.into_inner().filter(|q| {
        !matches!(
            q.as_rule(),
            Rule::kw_if
                | Rule::kw_else
                | Rule::kw_while
                | Rule::kw_for
                | Rule::kw_return
                | Rule::kw_print
        )
    });
    let mut next = || {
        inner
            .next()
            .ok_or_else(|| "incomplete statement".to_string())
    };
    Ok(match rule {
        Rule::string => Stmt::Str(text[1..text.len() - 1].to_string()),
        Rule::brk => Stmt::Break,
        Rule::cont => Stmt::Continue,
        Rule::quit | Rule::halt => Stmt::Quit,
        Rule::block => Stmt::Block(list(next()?, pr)?),
        Rule::if_stmt => {
            let c = expr(next()?, pr)?;
            let then = stmt(next()?, pr)?;
            let other = match inner.next() {
                Some(s) => Some(Box::new(stmt(s, pr)?)),
                None => None,
            };
            Stmt::If(c, Box::new(then), other)
        }
        Rule::while_stmt => {
            let c = expr(next()?, pr)?;
            Stmt::While(c, Box::new(stmt(next()?, pr)?))
        }
        Rule::for_stmt => {
            let opt = |q: Pair<Rule>| -> Result<Option<Expr>, String> {
                q.into_inner().next().map(|e| expr(e, pr)).transpose()
            };
            let (a, b, c) = (opt(next()?)?, opt(next()?)?, opt(next()?)?);
            Stmt::For(a, b, c, Box::new(stmt(next()?, pr)?))
        }
        Rule::ret => Stmt::Return(inner.next().map(|e| expr(e, pr)).transpose()?),
        Rule::print_stmt => {
            let mut items = Vec::new();
            for q in inner {
                items.push(stmt(q, pr)?);
            }
            Stmt::Print(items)
        }
        r => return Err(format!("unexpected {r:?}")),
    })
}

fn list(p: Pair<Rule>, pr: &PrattParser<Rule>) -> Result<Vec<Stmt>, String> {
    p.into_inner().map(|s| stmt(s, pr)).collect()
}

fn params(p: Pair<Rule>) -> Vec<(String, bool)> {
    p.into_inner()
        .filter(|q| q.as_rule() == Rule::param)
        .map(|q| {
            let mut i = q.into_inner();
            let name = i
                .next()
                .map_or_else(String::new, |n| n.as_str().to_string());
            (name, i.next().is_some())
        })
        .collect()
}

/// A top-level item: a function's definition (Ok) or a statement (Err).
type Item = Result<(String, Func), Stmt>;

/// A top-level unit: definitions and statements, or the syntax error.
fn parse_unit(text: &str, pr: &PrattParser<Rule>) -> Result<Vec<Item>, String> {
    let program = BcParser::parse(Rule::program, text)
        .map_err(|_| "syntax error".to_string())?
        .next()
        .ok_or("syntax error")?;
    let mut items = Vec::new();
    for p in program.into_inner() {
        match p.as_rule() {
            Rule::define => {
                let mut name = String::new();
                let mut f = Func {
                    params: Vec::new(),
                    autos: Vec::new(),
                    body: Vec::new(),
                };
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::name => name = q.as_str().to_string(),
                        Rule::params => f.params = params(q),
                        Rule::auto_list => f.autos = params(q),
                        Rule::stmt_list => f.body = list(q, pr)?,
                        _ => {}
                    }
                }
                items.push(Ok((name, f)));
            }
            Rule::stmt => items.push(Err(stmt(p, pr)?)),
            _ => {}
        }
    }
    Ok(items)
}

/// Whether `text` is a complete unit: braces and parentheses closed, no open
/// string or comment, no trailing backslash.
fn complete(text: &str) -> bool {
    let (mut depth, mut in_str, mut in_comment) = (0i64, false, false);
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_comment {
            if c == b'*' && b.get(i + 1) == Some(&b'/') {
                in_comment = false;
                i += 1;
            }
        } else if in_str {
            in_str = c != b'"';
        } else {
            match c {
                b'"' => in_str = true,
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    in_comment = true;
                    i += 1;
                }
                b'#' => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                b'{' | b'(' | b'[' => depth += 1,
                b'}' | b')' | b']' => depth -= 1,
                _ => {}
            }
        }
        i += 1;
    }
    depth <= 0 && !in_str && !in_comment && !text.trim_end_matches('\n').ends_with('\\')
}

/// Runs one unit; false when it quits.
fn run_unit(it: &mut interp::Interp, text: &str, line: usize, pr: &PrattParser<Rule>) -> bool {
    let items = match parse_unit(text, pr) {
        Ok(items) => items,
        Err(e) => {
            let _ = it.flush(&mut io::stdout().lock());
            eprintln!("(standard_in) {line}: {e}");
            return true;
        }
    };
    for item in items {
        match item {
            Ok((name, f)) => {
                it.funcs.insert(name, f);
            }
            Err(s) => match it.exec(&s) {
                Ok(Flow::Quit) => return false,
                Ok(_) => {}
                Err(e) if e == "quit" => return false,
                Err(e) => {
                    let _ = it.flush(&mut io::stdout().lock());
                    eprintln!("Runtime error (func=(main), adr=0): {e}");
                    // The rest of the unit is lost, as in GNU bc.
                    break;
                }
            },
        }
    }
    true
}

/// Runs bc.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    let mut mathlib = false;
    let mut files = Vec::new();
    for w in a {
        match w.as_str() {
            "-l" | "--mathlib" => mathlib = true,
            "-q" | "--quiet" | "-s" | "--standard" | "-w" | "--warn" => {}
            s if s.starts_with('-')
                && s.len() > 1
                && s[1..].chars().all(|c| "lqsw".contains(c)) =>
            {
                mathlib |= s.contains('l');
            }
            s if s.starts_with('-') && s != "-" => {
                eprintln!(
                    "bc: unrecognized option '{s}'\n{}",
                    HELP.lines().next().unwrap_or("")
                );
                return 1;
            }
            _ => files.push(w),
        }
    }
    let pr = pratt();
    let mut it = interp::Interp::new(mathlib);
    let mut out = io::stdout().lock();
    // Each file in turn (one that cannot be opened ends bc there), then stdin.
    let mut names: Vec<Option<&String>> = files.iter().map(Some).collect();
    names.push(None);
    for name in names {
        let src: Box<dyn BufRead> = match name {
            None => Box::new(io::stdin().lock()),
            Some(f) => match std::fs::File::open(f) {
                Ok(h) => Box::new(io::BufReader::new(h)),
                Err(e) => {
                    eprintln!("bc: File {f} is unavailable: {}", strerror(&e));
                    return 1;
                }
            },
        };
        let mut unit = String::new();
        let mut start = 1;
        for (n, line) in src.lines().enumerate() {
            let Ok(line) = line else { break };
            if unit.is_empty() {
                start = n + 1;
            }
            unit.push_str(&line);
            unit.push('\n');
            if !complete(&unit) {
                continue;
            }
            let go_on = run_unit(&mut it, &unit, start, &pr);
            unit.clear();
            if it.flush(&mut out).is_err() {
                return 1;
            }
            if !go_on {
                return 0;
            }
        }
        if !unit.trim().is_empty() {
            let go_on = run_unit(&mut it, &unit, start, &pr);
            let _ = it.flush(&mut out);
            if !go_on {
                return 0;
            }
        }
    }
    0
}
