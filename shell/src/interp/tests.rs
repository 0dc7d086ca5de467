//! Interpreter tests over a fake system: "programs" are Rust closures, the image is
//! a set of directory names. No guest, runtime or Vfs needed.

use std::collections::BTreeSet;
use std::sync::Arc;

use wsh_runtime::io::{OpenOptions, pipe};
use wsh_runtime::{Command, Handle, SpawnError};

use super::sys::{Job, Kind, SysError, System};
use super::*;

struct Fake {
    dirs: BTreeSet<&'static str>,
}

struct Done(i32);
impl Job for Done {
    fn wait(self: Box<Self>) -> i32 {
        self.0
    }
}

struct Running(std::thread::JoinHandle<i32>);
impl Job for Running {
    fn wait(self: Box<Self>) -> i32 {
        self.0.join().unwrap_or(134)
    }
}

const PROGRAMS: &[&str] = &[
    "echo", "cat", "printenv", "upper", "status", "args", "yes", "head1",
];

fn normalize(cwd: &str, path: &str) -> String {
    builtins_normalize(cwd, path)
}

fn builtins_normalize(cwd: &str, path: &str) -> String {
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{cwd}/{path}")
    };
    let mut parts = Vec::new();
    for c in full.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

impl System for Fake {
    fn spawn(&self, cmd: Command) -> Result<Box<dyn Job>, SpawnError> {
        let name = cmd.program.rsplit('/').next().unwrap().to_string();
        let out = cmd.stdout.clone();
        let t = std::thread::spawn(move || {
            let w = |s: String| out.write_all(s.as_bytes()).is_ok();
            match name.as_str() {
                "echo" => i32::from(!w(format!("{}\n", cmd.argv[1..].join(" ")))),
                // One line per argument, bracketed, to see field splitting.
                "args" => i32::from(!w(cmd.argv[1..]
                    .iter()
                    .map(|a| format!("[{a}]"))
                    .collect::<String>()
                    + "\n")),
                "cat" => {
                    let data = cmd.stdin.read_to_end().unwrap();
                    i32::from(out.write_all(&data).is_err())
                }
                "upper" => {
                    let data = cmd.stdin.read_to_end().unwrap();
                    i32::from(!w(String::from_utf8(data).unwrap().to_uppercase()))
                }
                "printenv" => match cmd.env.iter().find(|(k, _)| *k == cmd.argv[1]) {
                    Some((_, v)) => i32::from(!w(format!("{v}\n"))),
                    None => 1,
                },
                "status" => cmd.argv[1].parse().unwrap(),
                "yes" => loop {
                    if !w("y\n".into()) {
                        return 141;
                    }
                },
                "head1" => {
                    let mut b = [0u8; 2];
                    let _ = cmd.stdin.read(&mut b);
                    i32::from(!w(String::from_utf8_lossy(&b).into_owned()))
                }
                _ => 127,
            }
        });
        Ok(Box::new(Running(t)))
    }

    fn kind(&self, cwd: &str, path: &str) -> Result<Kind, SysError> {
        let p = normalize(cwd, path);
        if self.dirs.contains(p.as_str()) {
            return Ok(Kind::Directory);
        }
        match p.strip_prefix("/bin/") {
            Some(n) if PROGRAMS.contains(&n) => Ok(Kind::Regular),
            _ => Err(SysError("No such file or directory".into())),
        }
    }

    fn open(&self, _cwd: &str, path: &str, _opts: OpenOptions) -> Result<Handle, SysError> {
        if path == "/dev/null" {
            Ok(Handle::Null)
        } else {
            Err(SysError("No such file or directory".into()))
        }
    }
}

pub(crate) fn shell() -> Shell {
    let _ = Done(0);
    let fake = Fake {
        dirs: ["/", "/bin", "/tmp", "/tmp/d", "/root"]
            .into_iter()
            .collect(),
    };
    Shell::new(Arc::new(fake))
}

/// Runs `text` in `sh`; returns (status, stdout, stderr).
fn run_in(sh: &mut Shell, text: &str) -> (i32, String, String) {
    let (or, ow) = pipe();
    let (er, ew) = pipe();
    let status = sh.run_text(text, &Fds::standard(Handle::Null, ow, ew));
    let s = |h: Handle| String::from_utf8(h.read_to_end().unwrap()).unwrap();
    (status, s(or), s(er))
}

fn run(text: &str) -> (i32, String, String) {
    run_in(&mut shell(), text)
}

fn out(text: &str) -> String {
    run(text).1
}

#[test]
fn quoting_and_variables() {
    assert_eq!(out("A=1; echo $A"), "1\n");
    assert_eq!(out("X=5; echo \"x=$X\" 'x=$X' \\$X"), "x=5 x=$X $X\n");
    assert_eq!(out("args 'a  b'   \"c  d\" e\\ f"), "[a  b][c  d][e f]\n");
    assert_eq!(
        out("B=one; B=\"$B two\"; args $B \"$B\""),
        "[one][two][one two]\n"
    );
    assert_eq!(out("args $UNSET_X end \"\" ''"), "[end][][]\n");
    assert_eq!(
        out("A=x; echo ${A}y ${#A} ${B:-def} ${A:+alt}"),
        "xy 1 def alt\n"
    );
    assert_eq!(
        out("F=dir/file.tar.gz; echo ${F##*/} ${F%%.*} ${F#*.} ${F%.gz}"),
        "file.tar.gz dir/file tar.gz dir/file.tar\n"
    );
    assert_eq!(
        out("V=a-b-c; echo ${V//-/+} ${V/-/+} ${V^^}"),
        "a+b+c a+b-c A-B-C\n"
    );
    assert_eq!(out("echo $'a\\tb'"), "a\tb\n");
    assert_eq!(out("echo ~ ~/x"), "/root /root/x\n");
    assert_eq!(out("A=1 B=2; A+=3; echo $A$B"), "132\n");
    assert_eq!(out("IFS=:; V=a:b::c; args $V"), "[a][b][][c]\n");
}

#[test]
fn positional_parameters() {
    let mut sh = shell();
    sh.set_args("prog".into(), vec!["a b".into(), "c".into()]);
    assert_eq!(
        run_in(&mut sh, "args \"$@\"; args $@; args \"$*\"; echo $# $0 $1").1,
        "[a b][c]\n[a][b][c]\n[a b c]\n2 prog a b\n"
    );
    assert_eq!(run_in(&mut sh, "set -- x; args \"$@\" $#").1, "[x][1]\n");
    assert_eq!(run_in(&mut sh, "set --; args \"$@\" end").1, "[end]\n");
}

#[test]
fn statuses_and_lists() {
    assert_eq!(out("true && echo yes || echo no"), "yes\n");
    assert_eq!(out("false && echo yes || echo no"), "no\n");
    assert_eq!(out("false || false || echo third"), "third\n");
    assert_eq!(out("! true; echo $?; ! false; echo $?"), "1\n0\n");
    assert_eq!(out("status 3; echo $?"), "3\n");
    assert_eq!(run("status 4"), (4, String::new(), String::new()));
    assert_eq!(
        run("echo before; exit 4; echo after"),
        (4, "before\n".into(), String::new())
    );
    assert_eq!(run("exit 3").0, 3);
    assert_eq!(run("(exit 5); echo $?").1, "5\n");
}

#[test]
fn command_not_found() {
    assert_eq!(
        run("no-such-command; echo $?"),
        (
            0,
            "127\n".into(),
            "wsh: no-such-command: command not found\n".into()
        )
    );
    assert_eq!(run("./nope").2, "wsh: ./nope: No such file or directory\n");
    assert_eq!(run("/tmp").0, 126);
    assert_eq!(
        out("sh-missing 2>/dev/null || echo recovered"),
        "recovered\n"
    );
}

#[test]
fn pipelines_run_concurrently() {
    assert_eq!(out("echo hello world | upper | cat"), "HELLO WORLD\n");
    // `yes` only ends because its reader went away: the stages really run together.
    assert_eq!(out("yes | head1"), "y\n");
    assert_eq!(run("echo x | status 7").0, 7);
    assert_eq!(out("echo a | { cat; echo b; } | upper"), "A\nB\n");
    assert_eq!(out("A=1; echo x | A=2; echo $A"), "1\n");
}

#[test]
fn environment_and_temporary_assignments() {
    assert_eq!(
        run("FOO=bar printenv FOO; printenv FOO; echo $?"),
        (0, "bar\n1\n".into(), String::new())
    );
    assert_eq!(out("export Y=2; printenv Y"), "2\n");
    assert_eq!(out("Z=3; printenv Z; export Z; printenv Z"), "3\n");
    assert_eq!(
        out("printenv PATH; printenv HOME; cd /tmp; printenv PWD"),
        "/usr/local/bin:/usr/bin:/bin\n/root\n/tmp\n"
    );
    // The host environment is not imported.
    assert_eq!(run("printenv CARGO").0, 1);
}

#[test]
fn cd_and_pwd() {
    assert_eq!(
        out("cd /tmp; pwd; cd d; pwd; cd ..; pwd; cd; pwd; cd -"),
        "/tmp\n/tmp/d\n/tmp\n/root\n/tmp\n"
    );
    assert_eq!(out("cd /; cd ..; cd ../..; pwd"), "/\n");
    assert_eq!(
        run("cd /nope; echo $?"),
        (
            0,
            "1\n".into(),
            "wsh: cd: /nope: No such file or directory\n".into()
        )
    );
    assert_eq!(
        run("cd /bin/echo").2,
        "wsh: cd: /bin/echo: Not a directory\n"
    );
}

#[test]
fn redirections_of_fds() {
    assert_eq!(
        run("echo out 2>/dev/null"),
        (0, "out\n".into(), String::new())
    );
    assert_eq!(run("echo x >/dev/null"), (0, String::new(), String::new()));
    assert_eq!(
        run("nope 2>&1"),
        (127, "wsh: nope: command not found\n".into(), String::new())
    );
    assert_eq!(
        run("nope 2>&1 >/dev/null").1,
        "wsh: nope: command not found\n"
    );
    assert_eq!(run("echo a >&2"), (0, String::new(), "a\n".into()));
    assert_eq!(
        run("echo a 3>&1 1>&2 2>&3"),
        (0, String::new(), "a\n".into())
    );
    assert_eq!(
        run("echo a > /no/such; echo $?"),
        (
            0,
            "1\n".into(),
            "wsh: /no/such: No such file or directory\n".into()
        )
    );
    assert_eq!(
        out("cat <<EOF\nhi $HOME\nEOF\ncat <<'E'\n$HOME\nE\n"),
        "hi /root\n$HOME\n"
    );
    assert_eq!(out("cat <<< \"a b\""), "a b\n");
}

#[test]
fn command_substitution() {
    assert_eq!(out("echo \"[$(echo a; echo b)]\""), "[a\nb]\n");
    assert_eq!(out("args $(echo a b) `echo c`"), "[a][b][c]\n");
    assert_eq!(out("A=$(status 3); echo $?"), "3\n");
    assert_eq!(out("A=$(cd /tmp; pwd); pwd; echo $A"), "/\n/tmp\n");
}

#[test]
fn compound_commands_and_functions() {
    assert_eq!(
        out("if false; then echo a; elif true; then echo b; else echo c; fi"),
        "b\n"
    );
    assert_eq!(out("for i in 1 2 3; do echo $i; done"), "1\n2\n3\n");
    assert_eq!(
        out("for i in 1 2 3; do if [ x ]; then :; fi; break; done; echo $i"),
        "1\n"
    );
    assert_eq!(
        out("n=; while [ -z \"$n\" ]; do n=x; done 2>/dev/null; echo ${n:-none}"),
        "x\n"
    );
    assert_eq!(
        out("case abc in a) echo 1;; a*) echo 2;; *) echo 3;; esac"),
        "2\n"
    );
    assert_eq!(
        out("f() { echo \"f:$1\"; return 3; }; f x; echo $?"),
        "f:x\n3\n"
    );
    assert_eq!(out("{ echo a; echo b; } | upper"), "A\nB\n");
    assert_eq!(out("(cd /tmp; pwd); pwd"), "/tmp\n/\n");
    assert_eq!(
        out("for i in a b c; do case $i in b) continue;; esac; echo $i; done"),
        "a\nc\n"
    );
}

#[test]
fn errexit_and_nounset() {
    assert_eq!(
        run("set -e; echo a; false; echo b"),
        (1, "a\n".into(), String::new())
    );
    assert_eq!(
        run("set -e; false || true; if false; then :; fi; echo ok").1,
        "ok\n"
    );
    assert_eq!(
        run("set -u; echo $NOPE; echo after"),
        (1, String::new(), "wsh: NOPE: unbound variable\n".into())
    );
}

#[test]
fn syntax_errors_are_status_2_and_never_panic() {
    let (st, _, err) = run("echo (");
    assert_eq!(st, 2);
    assert!(err.starts_with("wsh: syntax error"), "{err}");
    for bad in [
        "echo \"a",
        "if true; then",
        "case x in",
        "echo ${",
        "a=(1 2",
        "f() {",
        ")",
        "echo $((1+",
        "`",
        "&&",
    ] {
        let (st, _, _) = run(bad);
        assert_ne!(st, 0, "{bad}");
    }
}

#[test]
fn arithmetic_arrays_and_conditions() {
    assert_eq!(
        out("echo $((2 + 3 * 4)) $((0x10)) $((2#101)) $((7 % 3))"),
        "14 16 5 1\n"
    );
    assert_eq!(
        out("i=0; while ((i < 3)); do ((i++)); done; echo $i"),
        "3\n"
    );
    // An arithmetic error abandons the rest of the line (as bash), not the script.
    assert_eq!(
        out("echo $((1 / 0)); echo same-line\necho next $?"),
        "next 1\n"
    );
    assert_eq!(
        out("a=(x 'y z'); a+=(w); echo ${#a[@]} \"${a[1]}\" ${!a[@]}"),
        "3 y z 0 1 2\n"
    );
    assert_eq!(out("declare -A m=([k]=v); echo ${m[k]}"), "v\n");
    assert_eq!(out("[[ abc == a* && 3 -gt 2 ]] && echo yes"), "yes\n");
    assert_eq!(
        out("[[ v12 =~ ([0-9]+) ]] && echo ${BASH_REMATCH[1]}"),
        "12\n"
    );
    assert_eq!(out("f() { local x=1; }; x=0; f; echo $x"), "0\n");
    assert_eq!(out("echo {a,b}{1..2}"), "a1 a2 b1 b2\n");
}

#[test]
fn loops_that_used_to_spin_or_panic_end() {
    // `break` in a while condition ends that loop (it used to be a no-op: endless loop).
    assert_eq!(out("while break; do :; done; echo done $?"), "done 0\n");
    // A non-numeric count is fatal in a script (status 128), not a loop that never breaks.
    assert_eq!(run("while :; do break x; done; echo no").0, 128);
    // `!` alone (an empty negated pipeline) fails, without a panic.
    assert_eq!(out("!; echo $?"), "1\n");
    assert_eq!(out("! ; echo $?; ! true; echo $?"), "1\n1\n");
}

#[test]
fn set_and_shopt_parse_as_bash() {
    assert_eq!(
        out("set -euxo pipefail 2>/dev/null; echo $-; [[ -o pipefail ]] && echo pf"),
        "ehuxBs\npf\n"
    );
    assert_eq!(out("set -o nounset -o errexit; set +eu; echo $-"), "hBs\n");
    assert_eq!(run("set -Z").0, 2);
    assert_eq!(
        out("shopt -p extglob; shopt -s extglob; shopt -q extglob && echo on"),
        "shopt -u extglob\non\n"
    );
    assert_eq!(out("shopt -po errexit"), "set +o errexit\n");
}
