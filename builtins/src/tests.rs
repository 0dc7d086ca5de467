//! Builtins against a fake shell state; output captured through pipes.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use wsh_runtime::io::pipe;

#[derive(Default)]
struct Fake {
    cwd: String,
    dirs: BTreeSet<String>,
    vars: BTreeMap<String, String>,
    exported: BTreeSet<String>,
    exit: Option<i32>,
}

impl ShellState for Fake {
    fn cwd(&self) -> String {
        self.cwd.clone()
    }
    fn check_dir(&self, p: &str) -> Result<(), String> {
        if self.dirs.contains(p) {
            Ok(())
        } else {
            Err("No such file or directory".into())
        }
    }
    fn set_cwd(&mut self, p: &str) {
        self.cwd = p.into();
    }
    fn var(&self, n: &str) -> Option<String> {
        self.vars.get(n).cloned()
    }
    fn set_var(&mut self, n: &str, v: &str) -> Result<(), String> {
        self.vars.insert(n.into(), v.into());
        Ok(())
    }
    fn unset_var(&mut self, n: &str) -> Result<(), String> {
        self.vars.remove(n);
        Ok(())
    }
    fn export_var(&mut self, n: &str) {
        self.exported.insert(n.into());
    }
    fn exported(&self) -> Vec<(String, String)> {
        self.exported
            .iter()
            .filter_map(|k| Some((k.clone(), self.vars.get(k)?.clone())))
            .collect()
    }
    fn last_status(&self) -> i32 {
        5
    }
    fn request_exit(&mut self, s: i32) {
        self.exit = Some(s);
    }
}

/// Runs `args` and returns (status, stdout, stderr).
fn run(sh: &mut Fake, args: &[&str]) -> (i32, String, String) {
    let (or, ow) = pipe();
    let (er, ew) = pipe();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let b = lookup(&args[0]).expect("a builtin");
    let status = b.run(
        sh,
        &args,
        &mut Stdio {
            stdin: Handle::Null,
            stdout: ow,
            stderr: ew,
            name: args[0].clone(),
        },
    );
    let out = String::from_utf8(or.read_to_end().unwrap()).unwrap();
    let err = String::from_utf8(er.read_to_end().unwrap()).unwrap();
    (status, out, err)
}

fn fake() -> Fake {
    let mut f = Fake {
        cwd: "/".into(),
        ..Default::default()
    };
    for d in ["/", "/tmp", "/tmp/a", "/root"] {
        f.dirs.insert(d.into());
    }
    f.vars.insert("HOME".into(), "/root".into());
    f
}

#[test]
fn cd_relative_absolute_home_dash_and_dotdot_at_root() {
    let mut sh = fake();
    assert_eq!(run(&mut sh, &["cd", "tmp"]).0, 0);
    assert_eq!(sh.cwd, "/tmp");
    assert_eq!(run(&mut sh, &["cd", "a/../a/./"]).0, 0);
    assert_eq!(sh.cwd, "/tmp/a");
    assert_eq!(run(&mut sh, &["cd"]).0, 0);
    assert_eq!(sh.cwd, "/root");
    assert_eq!(
        run(&mut sh, &["cd", "-"]),
        (0, "/tmp/a\n".into(), String::new())
    );
    assert_eq!(run(&mut sh, &["cd", "/"]).0, 0);
    assert_eq!(run(&mut sh, &["cd", "../.."]).0, 0);
    assert_eq!(sh.cwd, "/");
    assert_eq!(run(&mut sh, &["pwd"]).1, "/\n");
}

#[test]
fn cd_errors_look_like_bash() {
    let mut sh = fake();
    assert_eq!(
        run(&mut sh, &["cd", "nope"]),
        (
            1,
            String::new(),
            "wsh: cd: nope: No such file or directory\n".into()
        )
    );
    assert_eq!(
        run(&mut sh, &["cd", "a", "b"]).2,
        "wsh: cd: too many arguments\n"
    );
    assert_eq!(run(&mut sh, &["cd", "-"]).2, "wsh: cd: OLDPWD not set\n");
    sh.vars.remove("HOME");
    assert_eq!(run(&mut sh, &["cd"]).2, "wsh: cd: HOME not set\n");
    assert_eq!(sh.cwd, "/");
}

#[test]
fn export_sets_marks_and_lists() {
    let mut sh = fake();
    assert_eq!(run(&mut sh, &["export", "A=1", "HOME"]).0, 0);
    assert_eq!(sh.vars["A"], "1");
    assert_eq!(
        run(&mut sh, &["export"]).1,
        "declare -x A=\"1\"\ndeclare -x HOME=\"/root\"\n"
    );
    let (st, _, err) = run(&mut sh, &["export", "1x=2"]);
    assert_eq!(
        (st, err.as_str()),
        (1, "wsh: export: `1x=2': not a valid identifier\n")
    );
    assert_eq!(run(&mut sh, &["unset", "A"]).0, 0);
    assert!(!sh.vars.contains_key("A"));
}

#[test]
fn exit_statuses() {
    let mut sh = fake();
    assert_eq!(run(&mut sh, &["exit"]).0, 5);
    assert_eq!(sh.exit, Some(5));
    assert_eq!(run(&mut sh, &["exit", "256"]).0, 0);
    assert_eq!(run(&mut sh, &["exit", "-1"]).0, 255);
    let mut sh = fake();
    assert_eq!(run(&mut sh, &["exit", "1", "2"]).0, 1);
    assert_eq!(sh.exit, None);
    assert_eq!(run(&mut sh, &["exit", "x"]).0, 2);
    assert_eq!(sh.exit, Some(2));
    assert_eq!(run(&mut sh, &["true"]).0, 0);
    assert_eq!(run(&mut sh, &["false"]).0, 1);
}

#[test]
fn echo_options_and_escapes() {
    let mut sh = Fake::default();
    assert_eq!(run(&mut sh, &["echo", "a", "b"]).1, "a b\n");
    assert_eq!(run(&mut sh, &["echo", "-n", "x"]).1, "x");
    assert_eq!(run(&mut sh, &["echo", "-e", "a\\tb\\cign"]).1, "a\tb");
    assert_eq!(run(&mut sh, &["echo", "-x", "-n"]).1, "-x -n\n");
}

#[test]
fn printf_formats_and_reuse() {
    let mut sh = Fake::default();
    assert_eq!(
        run(&mut sh, &["printf", "%s=%d\\n", "a", "1", "b", "2"]).1,
        "a=1\nb=2\n"
    );
    assert_eq!(
        run(
            &mut sh,
            &["printf", "[%5s|%-3s|%03d|%x]", "ab", "c", "7", "255"]
        )
        .1,
        "[   ab|c  |007|ff]"
    );
    assert_eq!(
        run(&mut sh, &["printf", "%.2f %c %%", "3.14159", "hello"]).1,
        "3.14 h %"
    );
    assert_eq!(
        run(&mut sh, &["printf", "-v", "out", "%s-%s", "x", "y"]).0,
        0
    );
    assert_eq!(sh.vars.get("out").map(String::as_str), Some("x-y"));
    let (status, _, err) = run(&mut sh, &["printf", "%d", "zz"]);
    assert_eq!(status, 1);
    assert!(err.contains("invalid number"), "{err}");
}

#[test]
fn a_failed_write_is_reported_as_bash_does_but_a_closed_pipe_is_not() {
    let run_to = |stdout: Handle| {
        let (er, ew) = pipe();
        let args = vec!["echo".to_string(), "x".to_string()];
        let mut io = Stdio {
            stdin: Handle::Null,
            stdout,
            stderr: ew,
            name: "echo".into(),
        };
        let status = lookup("echo").unwrap().run(&mut fake(), &args, &mut io);
        drop(io);
        (
            status,
            String::from_utf8(er.read_to_end().unwrap()).unwrap(),
        )
    };
    let full = Handle::Device(wsh_runtime::io::Device::Full);
    assert_eq!(
        run_to(full),
        (
            1,
            "wsh: echo: write error: No space left on device\n".into()
        )
    );
    let (r, w) = pipe();
    drop(r);
    assert_eq!(run_to(w), (1, String::new()));
}
