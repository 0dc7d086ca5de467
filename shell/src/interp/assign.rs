//! Assignment words: `name=value`, `a[k]=v`, `a=(x [k]=y)` and `+=` (integer
//! variables evaluate arithmetically).

use brush_parser::ast;

use super::expand::Fail;
use super::{Fds, Shell};

impl Shell {
    /// Expands array-literal elements `(a [k]=v "b c")` into (subscript, value) pairs.
    pub(crate) fn array_items(
        &mut self,
        elems: &[(Option<ast::Word>, ast::Word)],
        fds: &Fds,
    ) -> Result<Vec<(Option<String>, String)>, Fail> {
        let mut items = Vec::new();
        for (k, v) in elems {
            match k {
                Some(k) => {
                    let key = self.subscript(&k.value, fds)?;
                    items.push((Some(key), self.expand_string(&v.value, fds)?));
                }
                None => items.extend(
                    self.expand_fields(&[v.value.as_str()], fds)?
                        .into_iter()
                        .map(|v| (None, v)),
                ),
            }
        }
        Ok(items)
    }

    /// Evaluates an array subscript: arithmetic for indexed arrays, text for associative ones.
    fn subscript_for(&mut self, name: &str, raw: &str, fds: &Fds) -> Result<String, Fail> {
        if self.is_assoc(name) {
            self.expand_string(raw, fds)
        } else {
            Ok(self.arith_text(raw, None, fds)?.to_string())
        }
    }

    /// A subscript in an array literal (the array's kind decides at assignment).
    fn subscript(&mut self, raw: &str, fds: &Fds) -> Result<String, Fail> {
        self.expand_string(raw, fds)
    }

    /// Performs one assignment word of an assignment-only command.
    pub(crate) fn assign_in_place(&mut self, a: &ast::Assignment, fds: &Fds) -> Result<(), Fail> {
        let report = |e: String| {
            fds.error(&e);
            Fail::Status(1)
        };
        match (&a.name, &a.value) {
            (ast::AssignmentName::VariableName(n), ast::AssignmentValue::Array(elems)) => {
                let mut items = self.array_items(elems, fds)?;
                if !self.is_assoc(n) {
                    for (k, _) in items.iter_mut() {
                        if let Some(key) = k {
                            *key = self.arith_text(key, None, fds)?.to_string();
                        }
                    }
                }
                self.assign_array(n, items, a.append).map_err(report)
            }
            (ast::AssignmentName::ArrayElementName(n, idx), ast::AssignmentValue::Scalar(w)) => {
                let key = self.subscript_for(n, idx, fds)?;
                let mut value = self.expand_assigned(&w.value, fds)?;
                if self
                    .vars
                    .get(self.ref_target(n).as_str())
                    .is_some_and(|v| v.integer)
                {
                    let old = if a.append {
                        self.get_element(n, &key)
                    } else {
                        None
                    };
                    let expr = match old {
                        Some(o) => format!("{o}+({value})"),
                        None => value,
                    };
                    value = self.arith_text(&expr, None, fds)?.to_string();
                } else if a.append {
                    value = format!("{}{value}", self.get_element(n, &key).unwrap_or_default());
                }
                self.set_element(n, &key, value).map_err(report)
            }
            (ast::AssignmentName::ArrayElementName(n, _), ast::AssignmentValue::Array(_)) => {
                Err(report(format!("{n}: cannot assign list to array member")))
            }
            (ast::AssignmentName::VariableName(_), ast::AssignmentValue::Scalar(_)) => {
                let (name, value) = self.assignment_value(a, fds)?;
                if self.options.xtrace {
                    let _ = self.trace_handle(fds).write_all(
                        format!("+ {name}={}\n", super::xtrace::quote(&value)).as_bytes(),
                    );
                }
                self.set(&name, value).map_err(report)
            }
        }
    }

    /// The (name, value) an assignment word sets.
    pub(crate) fn assignment_value(
        &mut self,
        a: &ast::Assignment,
        fds: &Fds,
    ) -> Result<(String, String), Fail> {
        let name = match &a.name {
            ast::AssignmentName::VariableName(n) => n.clone(),
            ast::AssignmentName::ArrayElementName(n, _) => {
                fds.error(&format!("{n}: arrays are not supported yet"));
                return Err(Fail::Status(1));
            }
        };
        let value = match &a.value {
            ast::AssignmentValue::Scalar(w) => self.expand_assigned(&w.value, fds)?,
            ast::AssignmentValue::Array(_) => {
                fds.error(&format!("{name}: arrays are not supported yet"));
                return Err(Fail::Status(1));
            }
        };
        if self
            .vars
            .get(self.ref_target(&name).as_str())
            .is_some_and(|v| v.integer)
        {
            let expr = if a.append {
                format!("{}+({value})", self.get(&name).unwrap_or("0"))
            } else {
                value
            };
            return Ok((name, self.arith_text(&expr, None, fds)?.to_string()));
        }
        let value = if a.append {
            format!("{}{value}", self.get(&name).unwrap_or(""))
        } else {
            value
        };
        Ok((name, value))
    }
}
