//! Conditional expressions: the `test`/`[` builtin (parsed by brush-parser's
//! test-command parser) and `[[ ... ]]` (with pattern `==`, regex `=~`, `&&`, `||`).
//! File tests look at the image through [`super::sys::System::stat`].

use brush_parser::ast::{
    BinaryPredicate as BP, ExtendedTestExpr as X, TestExpr as T, UnaryPredicate as UP,
};

use super::expand::{ExpResult, Fail};
use super::sys::{Kind, Meta};
use super::{Fds, Shell};
use wsh_runtime::Handle;

impl Shell {
    /// `test ARGS` / `[ ARGS ]`: 0 true, 1 false, 2 on a usage error.
    pub(crate) fn test_builtin(&mut self, argv: &[String], fds: &Fds) -> i32 {
        let mut args = &argv[1..];
        if argv[0] == "[" {
            if args.last().map(String::as_str) != Some("]") {
                fds.error("[: missing `]'");
                return 2;
            }
            args = &args[..args.len() - 1];
        }
        // The POSIX rules by argument count; brush's parser covers the general case.
        let r = match args.len() {
            0 => Ok(false),
            1 => Ok(!args[0].is_empty()),
            _ => {
                // `test \( \( ... \)` nests as deep as it has arguments.
                let joined = args.join(" ");
                match super::depth::with_parse_stack(&joined, || {
                    brush_parser::test_command::parse(args)
                }) {
                    Ok(Ok(expr)) => self.eval_test(&expr, fds),
                    Ok(Err(_)) => Err(format!("{joined}: syntax error")),
                    Err(e) => Err(e),
                }
            }
        };
        match r {
            Ok(b) => i32::from(!b),
            Err(e) => {
                fds.error(&format!("{}: {e}", argv[0]));
                2
            }
        }
    }

    fn eval_test(&mut self, e: &T, fds: &Fds) -> Result<bool, String> {
        super::depth::nested(|| self.eval_test_here(e, fds))
    }

    fn eval_test_here(&mut self, e: &T, fds: &Fds) -> Result<bool, String> {
        Ok(match e {
            T::False => false,
            T::Literal(s) => !s.is_empty(),
            T::And(a, b) => self.eval_test(a, fds)? && self.eval_test(b, fds)?,
            T::Or(a, b) => self.eval_test(a, fds)? || self.eval_test(b, fds)?,
            T::Not(a) => !self.eval_test(a, fds)?,
            T::Parenthesized(a) => self.eval_test(a, fds)?,
            T::UnaryTest(p, s) => self.unary(p, s, fds)?,
            T::BinaryTest(p, a, b) => match p {
                // `test` compares strings literally: patterns are for [[ ]].
                BP::StringExactlyMatchesPattern | BP::StringExactlyMatchesString => a == b,
                BP::StringDoesNotExactlyMatchPattern | BP::StringDoesNotExactlyMatchString => {
                    a != b
                }
                BP::ArithmeticEqualTo
                | BP::ArithmeticNotEqualTo
                | BP::ArithmeticLessThan
                | BP::ArithmeticLessThanOrEqualTo
                | BP::ArithmeticGreaterThan
                | BP::ArithmeticGreaterThanOrEqualTo => {
                    let int = |s: &str| {
                        s.trim()
                            .parse::<i64>()
                            .map_err(|_| format!("{s}: integer expression expected"))
                    };
                    let (x, y) = (int(a)?, int(b)?);
                    match p {
                        BP::ArithmeticEqualTo => x == y,
                        BP::ArithmeticNotEqualTo => x != y,
                        BP::ArithmeticLessThan => x < y,
                        BP::ArithmeticLessThanOrEqualTo => x <= y,
                        BP::ArithmeticGreaterThan => x > y,
                        _ => x >= y,
                    }
                }
                _ => self
                    .binary(p, a, b, fds)
                    .map_err(|_| "expression error".to_string())?,
            },
        })
    }

    /// Evaluates `[[ expr ]]`; words are expanded without splitting or globbing.
    pub(crate) fn extended_test(&mut self, e: &X, fds: &Fds) -> ExpResult<bool> {
        super::depth::nested(|| self.extended_test_here(e, fds))
    }

    fn extended_test_here(&mut self, e: &X, fds: &Fds) -> ExpResult<bool> {
        Ok(match e {
            X::And(a, b) => self.extended_test(a, fds)? && self.extended_test(b, fds)?,
            X::Or(a, b) => self.extended_test(a, fds)? || self.extended_test(b, fds)?,
            X::Not(a) => !self.extended_test(a, fds)?,
            X::Parenthesized(a) => self.extended_test(a, fds)?,
            X::UnaryTest(p, w) => {
                let s = self.expand_string(&w.value, fds)?;
                self.unary(p, &s, fds).map_err(|e| {
                    fds.error(&e);
                    Fail::Status(2)
                })?
            }
            X::BinaryTest(p, l, r) => {
                let left = self.expand_string(&l.value, fds)?;
                match p {
                    BP::StringExactlyMatchesPattern
                    | BP::StringDoesNotExactlyMatchPattern
                    | BP::StringExactlyMatchesString
                    | BP::StringDoesNotExactlyMatchString => {
                        let pat = self.expand_pattern(&r.value, fds)?;
                        let chars: Vec<char> = left.chars().collect();
                        let m = self.pattern_matches(&pat, &chars);
                        if matches!(
                            p,
                            BP::StringExactlyMatchesPattern | BP::StringExactlyMatchesString
                        ) {
                            m
                        } else {
                            !m
                        }
                    }
                    BP::StringMatchesRegex | BP::StringContainsSubstring => {
                        self.regex_match(&left, &r.value, fds)?
                    }
                    _ => {
                        let right = self.expand_string(&r.value, fds)?;
                        self.binary(p, &left, &right, fds)?
                    }
                }
            }
        })
    }

    /// `[[ s =~ re ]]`: quoted parts of `re` match literally; sets BASH_REMATCH.
    fn regex_match(&mut self, s: &str, raw: &str, fds: &Fds) -> ExpResult<bool> {
        let pat = self.expand_pattern(raw, fds)?;
        let mut re = String::new();
        for (c, quoted) in pat {
            if quoted {
                re.push_str(&regex::escape(&c.to_string()));
            } else {
                re.push(c);
            }
        }
        let Ok(rx) = regex::Regex::new(&re) else {
            // bash: an invalid regex is status 2.
            return Err(Fail::Status(2));
        };
        match rx.captures(s) {
            Some(caps) => {
                let items = caps
                    .iter()
                    .map(|m| (None, m.map(|m| m.as_str().to_string()).unwrap_or_default()))
                    .collect();
                let _ = self.assign_array("BASH_REMATCH", items, false);
                Ok(true)
            }
            None => {
                let _ = self.assign_array("BASH_REMATCH", Vec::new(), false);
                Ok(false)
            }
        }
    }

    /// `test -r/-w/-x`: whether the file `meta` (None: missing) grants `want`
    /// (4 read, 2 write, 1 execute) to the user the container runs as.
    fn may(&self, meta: Option<Meta>, want: u32) -> bool {
        meta.is_some_and(|m| {
            let dir = m.kind == Kind::Directory;
            self.sys
                .credentials()
                .permits(m.mode, m.uid, m.gid, dir, want)
        })
    }

    fn unary(&self, p: &UP, s: &str, fds: &Fds) -> Result<bool, String> {
        let stat = || self.sys.stat(&self.cwd, s).ok();
        Ok(match p {
            UP::StringHasZeroLength => s.is_empty(),
            UP::StringHasNonZeroLength => !s.is_empty(),
            UP::FileExists => !s.is_empty() && stat().is_some(),
            UP::FileExistsAndIsDir => stat().is_some_and(|m| m.kind == Kind::Directory),
            UP::FileExistsAndIsRegularFile => stat().is_some_and(|m| m.kind == Kind::Regular),
            UP::FileExistsAndIsSymlink => stat().is_some_and(|m| m.symlink),
            UP::FileExistsAndIsNotZeroLength => stat().is_some_and(|m| m.size > 0),
            // access(2) for the container's user: root reads and writes anything and
            // executes what has an execute bit for someone (or is a directory).
            UP::FileExistsAndIsReadable => self.may(stat(), 4),
            UP::FileExistsAndIsWritable => self.may(stat(), 2),
            UP::FileExistsAndIsExecutable => self.may(stat(), 1),
            UP::FileExistsAndIsSetuid => stat().is_some_and(|m| m.mode & 0o4000 != 0),
            UP::FileExistsAndIsSetgid => stat().is_some_and(|m| m.mode & 0o2000 != 0),
            UP::FileExistsAndHasStickyBit => stat().is_some_and(|m| m.mode & 0o1000 != 0),
            UP::FileExistsAndOwnedByEffectiveUserId => {
                stat().is_some_and(|m| m.uid == self.sys.credentials().uid)
            }
            UP::FileExistsAndOwnedByEffectiveGroupId => {
                stat().is_some_and(|m| m.gid == self.sys.credentials().gid)
            }
            UP::FileExistsAndIsBlockSpecialFile
            | UP::FileExistsAndIsCharSpecialFile
            | UP::FileExistsAndIsFifo
            | UP::FileExistsAndIsSocket => {
                // Like -f and -d, these follow a symlink (`[ -c link-to-/dev/null ]`).
                stat().is_some_and(|m| m.kind == Kind::Other)
            }
            UP::FileExistsAndModifiedSinceLastRead => false,
            // Only the host's own streams can be terminals (pipes and image files never are).
            UP::FdIsOpenTerminal => {
                use std::io::IsTerminal;
                match s.trim().parse::<i32>().ok().and_then(|n| fds.get(n)) {
                    Some(Handle::HostStdin) => std::io::stdin().is_terminal(),
                    Some(Handle::HostStdout) => std::io::stdout().is_terminal(),
                    Some(Handle::HostStderr) => std::io::stderr().is_terminal(),
                    _ => false,
                }
            }
            UP::ShellOptionEnabled => self.options.get(s) == Some(true),
            UP::ShellVariableIsSetAndAssigned => self.var_is_set(s),
            UP::ShellVariableIsSetAndNameRef => self
                .vars
                .get(s)
                .is_some_and(|v| v.nameref && v.value.is_some()),
        })
    }

    /// `-v NAME` / `-v NAME[i]`.
    fn var_is_set(&self, s: &str) -> bool {
        if let Some((name, rest)) = s.split_once('[') {
            let key = rest.trim_end_matches(']');
            return self.get_element(name, key).is_some();
        }
        // Through a reference, its (final) target: bash looks the resolved name up
        // as a plain variable, so a target like `arr[2]` is never set.
        let target;
        let s = if self.vars.get(s).is_some_and(|v| v.nameref) {
            target = self.ref_target(s);
            if target.is_empty() || target.contains('[') {
                return false;
            }
            target.as_str()
        } else {
            s
        };
        self.vars
            .get(s)
            .is_some_and(|v| v.value.is_some() || v.array.as_ref().is_some_and(|a| a.len() > 0))
    }

    fn binary(&mut self, p: &BP, a: &str, b: &str, fds: &Fds) -> ExpResult<bool> {
        let num = |sh: &mut Shell, s: &str| -> ExpResult<i64> {
            match s.trim().parse::<i64>() {
                Ok(n) => Ok(n),
                Err(_) => sh.arith_text(s, None, fds),
            }
        };
        let mtime = |s: &str| self.sys.stat(&self.cwd, s).ok().map(|m| m.mtime);
        Ok(match p {
            BP::ArithmeticEqualTo => num(self, a)? == num(self, b)?,
            BP::ArithmeticNotEqualTo => num(self, a)? != num(self, b)?,
            BP::ArithmeticLessThan => num(self, a)? < num(self, b)?,
            BP::ArithmeticLessThanOrEqualTo => num(self, a)? <= num(self, b)?,
            BP::ArithmeticGreaterThan => num(self, a)? > num(self, b)?,
            BP::ArithmeticGreaterThanOrEqualTo => num(self, a)? >= num(self, b)?,
            BP::LeftSortsBeforeRight => a < b,
            BP::LeftSortsAfterRight => a > b,
            BP::StringExactlyMatchesPattern | BP::StringExactlyMatchesString => a == b,
            BP::StringDoesNotExactlyMatchPattern | BP::StringDoesNotExactlyMatchString => a != b,
            BP::StringMatchesRegex | BP::StringContainsSubstring => a.contains(b),
            BP::LeftFileIsNewerOrExistsWhenRightDoesNot => match (mtime(a), mtime(b)) {
                (Some(x), Some(y)) => x > y,
                (Some(_), None) => true,
                _ => false,
            },
            BP::LeftFileIsOlderOrDoesNotExistWhenRightDoes => match (mtime(a), mtime(b)) {
                (Some(x), Some(y)) => x < y,
                (None, Some(_)) => true,
                _ => false,
            },
            BP::FilesReferToSameDeviceAndInodeNumbers => {
                match (self.sys.stat(&self.cwd, a), self.sys.stat(&self.cwd, b)) {
                    (Ok(x), Ok(y)) => x.ino == y.ino && x.ino != 0,
                    _ => false,
                }
            }
        })
    }
}
