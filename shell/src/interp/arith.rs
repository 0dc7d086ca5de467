//! Shell arithmetic: `$((...))`, `((...))`, the arithmetic `for`, `let`.
//!
//! The text is first expanded (parameters, command substitutions), then parsed by
//! brush-parser's arithmetic grammar and evaluated here on i64 with bash's wrapping
//! semantics. A variable whose value is not a number is itself evaluated as an
//! expression (bash does this recursively).

use brush_parser::ast::{
    ArithmeticExpr as E, ArithmeticTarget, BinaryOperator as B, UnaryAssignmentOperator as UA,
    UnaryOperator as U,
};

use super::expand::{ExpResult, Fail};
use super::{Fds, Flow, Shell};

/// An arithmetic error: the message bash prints after the expression text.
#[derive(Debug)]
pub struct ArithError(pub String);

/// How deep variable values may refer to further expressions.
const MAX_DEPTH: u32 = 64;

impl Shell {
    /// Expands and evaluates `text`; errors are reported on stderr as
    /// `TEXT: MESSAGE` (prefixed with `what: ` when given, like `((: ` and `let: `).
    pub(crate) fn arith_text(
        &mut self,
        text: &str,
        what: Option<&str>,
        fds: &Fds,
    ) -> ExpResult<i64> {
        let expanded = self.expand_arith_text(text, fds)?;
        self.eval_str(&expanded, 0).map_err(|e| {
            let prefix = what.map(|w| format!("{w}: ")).unwrap_or_default();
            fds.error(&format!("{prefix}{}: {}", expanded.trim(), e.0));
            // bash abandons the whole command line on an arithmetic error.
            Fail::Flow(Flow::Abort(1))
        })
    }

    /// Evaluates an arithmetic expression given as (already expanded) text.
    fn eval_str(&mut self, text: &str, depth: u32) -> Result<i64, ArithError> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(0);
        }
        // Fast path for plain decimals (a leading 0 means octal: leave it to the parser).
        if !(t.len() > 1 && t.starts_with('0'))
            && let Ok(n) = t.parse::<i64>()
        {
            return Ok(n);
        }
        if depth > MAX_DEPTH {
            return Err(ArithError("expression recursion level exceeded".into()));
        }
        let expr = super::depth::with_parse_stack(t, || brush_parser::arithmetic::parse(t))
            .map_err(ArithError)?
            .map_err(|_| ArithError(syntax_error(t)))?;
        // Parenthesised expressions nest as deep as the text: evaluate (and drop) them on
        // a stack that grows.
        super::depth::nested(|| {
            let v = self.eval(&expr, depth);
            drop(expr);
            v
        })
    }

    fn eval(&mut self, e: &E, depth: u32) -> Result<i64, ArithError> {
        super::depth::nested(|| self.eval_here(e, depth))
    }

    fn eval_here(&mut self, e: &E, depth: u32) -> Result<i64, ArithError> {
        Ok(match e {
            E::Literal(n) => *n,
            E::Reference(t) => self.target_value(t, depth)?,
            E::UnaryOp(op, x) => {
                let v = self.eval(x, depth)?;
                match op {
                    U::UnaryPlus => v,
                    U::UnaryMinus => v.wrapping_neg(),
                    U::BitwiseNot => !v,
                    U::LogicalNot => i64::from(v == 0),
                }
            }
            E::BinaryOp(B::LogicalAnd, x, y) => {
                i64::from(self.eval(x, depth)? != 0 && self.eval(y, depth)? != 0)
            }
            E::BinaryOp(B::LogicalOr, x, y) => {
                i64::from(self.eval(x, depth)? != 0 || self.eval(y, depth)? != 0)
            }
            E::BinaryOp(op, x, y) => {
                let a = self.eval(x, depth)?;
                let b = self.eval(y, depth)?;
                binary(*op, a, b)?
            }
            E::Conditional(c, t, f) => {
                if self.eval(c, depth)? != 0 {
                    self.eval(t, depth)?
                } else {
                    self.eval(f, depth)?
                }
            }
            E::Assignment(t, v) => {
                let v = self.eval(v, depth)?;
                self.assign_target(t, v, depth)?;
                v
            }
            E::BinaryAssignment(op, t, v) => {
                let old = self.target_value(t, depth)?;
                let rhs = self.eval(v, depth)?;
                let new = binary(*op, old, rhs)?;
                self.assign_target(t, new, depth)?;
                new
            }
            E::UnaryAssignment(op, t) => {
                let old = self.target_value(t, depth)?;
                let new = match op {
                    UA::PrefixIncrement | UA::PostfixIncrement => old.wrapping_add(1),
                    UA::PrefixDecrement | UA::PostfixDecrement => old.wrapping_sub(1),
                };
                self.assign_target(t, new, depth)?;
                match op {
                    UA::PrefixIncrement | UA::PrefixDecrement => new,
                    UA::PostfixIncrement | UA::PostfixDecrement => old,
                }
            }
        })
    }

    /// The numeric value of a variable or array element (unset or empty: 0).
    fn target_value(&mut self, t: &ArithmeticTarget, depth: u32) -> Result<i64, ArithError> {
        let raw = match t {
            ArithmeticTarget::Variable(name) => self.get(name).map(str::to_string),
            ArithmeticTarget::ArrayElement(name, idx) => {
                let key = self.element_key(name, idx, depth)?;
                self.get_element(name, &key)
            }
        };
        match raw {
            None => {
                if self.options.nounset {
                    return Err(ArithError(format!("{}: unbound variable", target_name(t))));
                }
                Ok(0)
            }
            Some(v) => self.eval_str(&v, depth + 1),
        }
    }

    fn assign_target(
        &mut self,
        t: &ArithmeticTarget,
        v: i64,
        depth: u32,
    ) -> Result<(), ArithError> {
        let r = match t {
            ArithmeticTarget::Variable(name) => self.set(name, v.to_string()),
            ArithmeticTarget::ArrayElement(name, idx) => {
                let key = self.element_key(name, idx, depth)?;
                self.set_element(name, &key, v.to_string())
            }
        };
        r.map_err(ArithError)
    }

    /// The subscript of `name[idx]`: an associative array's key is the index's text.
    fn element_key(&mut self, name: &str, idx: &E, depth: u32) -> Result<String, ArithError> {
        if self.is_assoc(name) {
            return Ok(idx.to_string());
        }
        Ok(self.eval(idx, depth)?.to_string())
    }

    /// `((...))`: status 0 when the value is non-zero.
    pub(crate) fn arith_command(&mut self, text: &str, fds: &Fds) -> ExpResult<i32> {
        // An error in the expression fails the command (status 1, so `set -e` and
        // `||` see it); unlike `$((...))`, bash does not abandon the command line.
        let expanded = self.expand_arith_text(text, fds)?;
        match self.eval_str(&expanded, 0) {
            Ok(v) => Ok(i32::from(v == 0)),
            Err(e) => {
                fds.error(&format!("((: {}: {}", expanded.trim(), e.0));
                Ok(1)
            }
        }
    }

    /// `let EXPR...`: status 0 when the last value is non-zero.
    pub(crate) fn let_builtin(&mut self, args: &[String], fds: &Fds) -> ExpResult<i32> {
        if args.is_empty() {
            fds.error("let: expression expected");
            return Ok(1);
        }
        let mut last = 0;
        for a in args {
            last = self.eval_str(a, 0).map_err(|e| {
                fds.error(&format!("let: {a}: {}", e.0));
                Fail::Status(1)
            })?;
        }
        Ok(i32::from(last == 0))
    }

    /// Expands `$x`, `${..}`, `$(..)` inside arithmetic text (quotes are removed).
    fn expand_arith_text(&mut self, text: &str, fds: &Fds) -> ExpResult<String> {
        if !text.contains(['$', '`', '"', '\'', '\\']) {
            return Ok(text.to_string());
        }
        self.expand_string(text, fds)
    }
}

fn target_name(t: &ArithmeticTarget) -> String {
    match t {
        ArithmeticTarget::Variable(n) => n.clone(),
        ArithmeticTarget::ArrayElement(n, i) => format!("{n}[{i}]"),
    }
}

/// bash's message for an unparsable expression (the error token is the remaining text
/// after the longest valid prefix in bash; we name the whole expression).
fn syntax_error(t: &str) -> String {
    format!("syntax error in expression (error token is \"{t}\")")
}

fn binary(op: B, a: i64, b: i64) -> Result<i64, ArithError> {
    Ok(match op {
        B::Power => {
            if b < 0 {
                return Err(ArithError(
                    "exponent less than 0 (error token is \"0\")".into(),
                ));
            }
            a.wrapping_pow(b.min(i64::from(u32::MAX)) as u32)
        }
        B::Multiply => a.wrapping_mul(b),
        B::Divide | B::Modulo => {
            if b == 0 {
                return Err(ArithError(format!(
                    "division by 0 (error token is \"{b}\")"
                )));
            }
            if matches!(op, B::Divide) {
                a.wrapping_div(b)
            } else {
                a.wrapping_rem(b)
            }
        }
        B::Comma => b,
        B::Add => a.wrapping_add(b),
        B::Subtract => a.wrapping_sub(b),
        B::ShiftLeft => a.wrapping_shl((b & 63) as u32),
        B::ShiftRight => a.wrapping_shr((b & 63) as u32),
        B::LessThan => i64::from(a < b),
        B::LessThanOrEqualTo => i64::from(a <= b),
        B::GreaterThan => i64::from(a > b),
        B::GreaterThanOrEqualTo => i64::from(a >= b),
        B::Equals => i64::from(a == b),
        B::NotEquals => i64::from(a != b),
        B::BitwiseAnd => a & b,
        B::BitwiseXor => a ^ b,
        B::BitwiseOr => a | b,
        B::LogicalAnd => i64::from(a != 0 && b != 0),
        B::LogicalOr => i64::from(a != 0 || b != 0),
    })
}
