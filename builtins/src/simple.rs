//! Builtins with no state of their own: true, false, `:`, exit.

use crate::{Builtin, ShellState, Stdio};

/// `true`: status 0.
pub struct True;
/// `false`: status 1.
pub struct False;
/// `:`: status 0, arguments ignored (special builtin).
pub struct Colon;
/// `exit [N]`: leaves the shell (or the subshell) with N, default `$?`.
pub struct Exit;

impl Builtin for True {
    fn run(&self, _: &mut dyn ShellState, _: &[String], _: &mut Stdio) -> i32 {
        0
    }
}

impl Builtin for False {
    fn run(&self, _: &mut dyn ShellState, _: &[String], _: &mut Stdio) -> i32 {
        1
    }
}

impl Builtin for Colon {
    fn run(&self, _: &mut dyn ShellState, _: &[String], _: &mut Stdio) -> i32 {
        0
    }
    fn is_special(&self) -> bool {
        true
    }
}

impl Builtin for Exit {
    fn run(&self, sh: &mut dyn ShellState, args: &[String], io: &mut Stdio) -> i32 {
        let args = match args.get(1).map(String::as_str) {
            Some("--") => &args[2..],
            _ => &args[1..],
        };
        let status = match args.first() {
            None => sh.last_status(),
            Some(n) => match n.trim().parse::<i64>() {
                // bash keeps the low 8 bits: `exit 256` is 0, `exit -1` is 255.
                Ok(v) if args.len() == 1 => (v & 0xff) as i32,
                Ok(_) => {
                    io.err("exit: too many arguments");
                    return 1;
                }
                Err(_) => {
                    // bash still exits, with status 2.
                    io.err(&format!("exit: {n}: numeric argument required"));
                    2
                }
            },
        };
        sh.request_exit(status);
        status
    }
    fn is_special(&self) -> bool {
        true
    }
}
