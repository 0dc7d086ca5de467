//! Fuzz targets over the two languages wsh reads (bounded, fixed seed, part of `cargo
//! test`): shell scripts through the interpreter in-process, over a fake system whose
//! programs do nothing, and Balenafiles through the parser and the word processing the
//! builder applies to each instruction. Any status or error is fine; a panic is not,
//! and a Balenafile error must name `FILE:LINE` with a line of the file.
//! More cases: `FUZZ_CASES=5000 cargo test --workspace --test fuzz_inputs`.
//!
//! Script generation is grammar-ish (words, quotes, expansions, arithmetic, redirections,
//! lists, compound commands, heredocs) with unbalanced pieces and random bytes mixed in.
//! Two things are kept out on purpose, since they exhaust the machine rather than find
//! bugs: self-growing assignments (`x=$x$x` in a loop) and functions that can call
//! themselves (unbounded recursion; the interpreter's depth limit is tested elsewhere).
//! Loops the generator makes are bounded; loops formed by chance stop at the watchdog.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wsh::build::{parse, vars};
use wsh::interp::sys::{Job, Kind, SysError};
use wsh::interp::{Fds, Shell, System};
use wsh_runtime::io::OpenOptions;
use wsh_runtime::{Command, Handle, SpawnError};

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600)
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        max_shrink_iters: 300,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x5753_4846_555a),
        ..Config::default()
    })
}

// ---------------------------------------------------------------- scripts

/// A finished fake program.
struct Done(i32);

impl Job for Done {
    fn wait(self: Box<Self>) -> i32 {
        self.0
    }
}

/// Programs exist (in /bin) but do nothing; only /dev/null opens.
struct Fake;

const PROGRAMS: &[&str] = &["cat", "ls", "grep", "sort", "true", "false", "sleep", "seq"];

impl System for Fake {
    fn spawn(&self, cmd: Command) -> Result<Box<dyn Job>, SpawnError> {
        Ok(Box::new(Done(i32::from(cmd.program.ends_with("false")))))
    }

    fn kind(&self, _cwd: &str, path: &str) -> Result<Kind, SysError> {
        match path {
            "/" | "/tmp" | "/bin" | "/root" => Ok(Kind::Directory),
            p if p
                .strip_prefix("/bin/")
                .is_some_and(|n| PROGRAMS.contains(&n)) =>
            {
                Ok(Kind::Regular)
            }
            _ => Err(SysError("No such file or directory".into())),
        }
    }

    fn open(&self, _cwd: &str, path: &str, _opts: OpenOptions) -> Result<Handle, SysError> {
        match path {
            "/dev/null" => Ok(Handle::Null),
            _ => Err(SysError("Permission denied".into())),
        }
    }
}

/// Words a command line is made of (no self-growing assignment among them).
#[rustfmt::skip]
const WORDS: &[&str] = &[
    "echo", "printf", "cat", "true", "false", ":", "test", "[", "]", "read", "set", "shift",
    "local", "export", "unset", "cd", "pwd", "eval", "exec", "trap", "return", "break",
    "continue", "exit", "wait", "kill", "jobs", "getopts", "declare", "alias", "type",
    "command", "let", "source", "umask", "hash", "times", "shopt", "x", "y", "-n", "-e",
    "-z", "-eq", "-lt", "=", "==", "!=", "1", "0", "-1", "42", "9223372036854775807",
    "-9223372036854775808", "99999999999999999999", "a b", "*", "?", "[a-z]*", "/*", "~",
    "~root/x", "x=1", "y=abc", "x=$y", "IFS=:", "a=(1 2 3)", "a[5]=z", "%s\\n", "%d", "%q",
    "%-5.2f", "--", "-", "{1..5}", "{a,b}c", "\\", "\\$x", "#c", "$", "$x", "${x}", "$1",
    "$@", "$*", "$#", "$?", "$$", "$!", "$-", "$0", "$10", "${#a[@]}", "${a[@]}",
    "${a[-1]}", "${!a[@]}", "${!x}", "$RANDOM", "$LINENO", "$'\\x41\\n'", "$\"s\"",
];

/// `${x...}` operators.
#[rustfmt::skip]
const PARAM_OPS: &[&str] = &[
    "", ":-", "-", ":=", "=", ":?", ":+", "+", "#", "##", "%", "%%", "/", "//", "/#", "/%",
    "^", "^^", ",", ",,", ":1", ":1:2", ": -1", ":-1:-2", ":99999999999999999999", ":0:-9",
    "@Q", "@U", "@E", "@A", "[0]", "[@]", "[-9]",
];

/// Arithmetic atoms and operators, including the overflowing ones.
#[rustfmt::skip]
const ARITH: &[&str] = &[
    "1", "0", "x", "y", "-9223372036854775808", "9223372036854775807", "0x1f", "08",
    "2#101", "64#z", "1e3", "+", "-", "*", "/", "%", "**", "<<", ">>", "&", "|", "^", "&&",
    "||", "!", "~", "?", ":", ",", "=", "+=", "/=", "%=", "<<=", "++", "--", "(", ")", "<",
    ">=", "==", "!=", "a[1]", "-1",
];

/// Operators and keywords, often out of place.
#[rustfmt::skip]
const PUNCT: &[&str] = &[
    ";", "&&", "||", "|", "|&", "&", "\n", ">", ">>", "<", "2>&1", ">&2", "<&-", "<>", "&>",
    "<<<", "<(", ">(", "{", "}", "(", ")", "((", "))", "if", "then", "elif", "else", "fi",
    "while", "until", "do", "done", "for", "in", "case", "esac", ";;", ";&", "!", "[[",
    "]]", "function", "select", "time", "\"", "'", "`", "$(", "${", "$((", "<<", "<<-",
];

fn pick(list: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(list).prop_map(str::to_string)
}

fn random_bytes() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 1..8).prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn arith() -> impl Strategy<Value = String> {
    prop::collection::vec(pick(ARITH), 1..8).prop_map(|v| v.join(" "))
}

/// A leaf: a word, a punctuation token, a parameter or arithmetic expansion, bytes.
fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => pick(WORDS),
        2 => pick(PUNCT),
        2 => (pick(&["x", "y", "a", "#x", "!x", "1", "@", "#"]), pick(PARAM_OPS), pick(WORDS))
            .prop_map(|(v, op, w)| format!("${{{v}{op}{w}}}")),
        2 => arith().prop_map(|a| format!("$(({a}))")),
        1 => arith().prop_map(|a| format!("(({a}))")),
        1 => random_bytes(),
    ]
}

/// A function body that cannot call a function (or anything that could).
fn fn_body() -> impl Strategy<Value = String> {
    prop::collection::vec(
        pick(&[
            "echo", "true", "false", "return", "local", "x=1", "1", "-n", "$1", "$#", ";",
        ]),
        1..6,
    )
    .prop_map(|v| v.join(" "))
}

/// Grammar-ish shell text, nested a few levels.
fn script() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 48, 4, |inner| {
        let two = (inner.clone(), inner.clone());
        prop_oneof![
            3 => prop::collection::vec(inner.clone(), 1..5).prop_map(|v| v.join(" ")),
            1 => inner.clone().prop_map(|s| format!("$({s})")),
            1 => inner.clone().prop_map(|s| format!("`{s}`")),
            1 => inner.clone().prop_map(|s| format!("\"{s}\"")),
            1 => inner.clone().prop_map(|s| format!("'{s}'")),
            1 => inner.clone().prop_map(|s| format!("{{ {s}; }}")),
            1 => inner.clone().prop_map(|s| format!("( {s} )")),
            2 => (inner.clone(), pick(&[";", "&&", "||", "|", "\n", "&"]), inner.clone())
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            1 => two.clone().prop_map(|(c, b)| format!("if {c}; then {b}; else :; fi")),
            // Bounded by a counter the other words never touch.
            1 => two.clone().prop_map(|(c, b)| {
                format!("_n=0; while [ $((_n+=1)) -lt 4 ] && {c}; do {b}; done")
            }),
            1 => (pick(&["x", "i"]), inner.clone())
                .prop_map(|(v, b)| format!("for {v} in 1 a '' \"b c\"; do {b}; done")),
            1 => (pick(WORDS), inner.clone(), inner.clone())
                .prop_map(|(w, a, b)| format!("case {w} in a|*b*) {a};; [0-9]) ;& *) {b};; esac")),
            1 => (pick(&["EOF", "'EOF'", "\"E\"", "-EOF"]), inner.clone()).prop_map(|(d, b)| {
                let end = d.trim_matches(|c| c == '\'' || c == '"' || c == '-');
                format!("cat <<{d}\n{b}\n$x ${{y}} $(echo)\n{end}\necho after")
            }),
            1 => (inner.clone(), pick(&[">", ">>", "<", "2>", "&>", "<<<", ">&"]), pick(WORDS))
                .prop_map(|(c, r, w)| format!("{c} {r} {w}")),
            1 => (pick(&["f", "g"]), fn_body(), inner.clone())
                .prop_map(|(n, b, c)| format!("{n}() {{ {b}; }}; {c}; {n} a b")),
            1 => inner.clone().prop_map(|s| format!("[[ {s} ]]")),
            1 => inner.prop_map(|s| format!("eval '{s}'")),
        ]
    })
}

/// The last panic's message and location (set by the hook `quiet_panics` installs).
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// The tests share LAST_PANIC: they take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Records panics in LAST_PANIC; those of the cases' threads (named `fuzz-case`, or
/// unnamed: pipeline stages) are not printed, as they are reported together.
/// Installed once for the whole binary: the tests run in parallel.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // The test threads' own failures print as usual.
            if let Some(name) = std::thread::current().name()
                && name != "fuzz-case"
            {
                default(info);
            }
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{msg} at {at}"));
        }))
    });
}

/// Runs `text` in a fresh shell on a thread with a big stack; a watchdog interrupts it
/// after `limit`. Returns the panic (message and location) if it panicked.
fn run_script(text: &str, limit: Duration) -> Option<String> {
    let text = text.to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            flag.store(true, Ordering::Relaxed);
        }
    });
    *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = None;
    let worker = std::thread::Builder::new()
        .name("fuzz-case".into())
        .stack_size(256 << 20)
        .spawn(move || {
            let mut sh = Shell::new(Arc::new(Fake));
            sh.set_interrupt_flag(stop);
            sh.set_args("fuzz".into(), vec!["a".into(), "b c".into()]);
            let fds = Fds::standard(Handle::Null, Handle::Null, Handle::Null);
            sh.run_text(&text, &fds)
        })
        .expect("a thread");
    let result = worker.join();
    let _ = done_tx.send(());
    let _ = watchdog.join();
    // A panic in a pipeline stage's thread may have been caught inside the shell: it
    // is still a panic.
    let seen = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take();
    match result {
        Err(_) => Some(seen.unwrap_or_else(|| "a panic".into())),
        Ok(_) => seen,
    }
}

#[test]
fn scripts_never_panic() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    quiet_panics();
    // Every distinct panic (by message and location) with the shortest script that
    // caused it, so one run reports them all.
    let found = std::sync::Mutex::new(std::collections::BTreeMap::<String, String>::new());
    let result = runner(cases()).run(&prop::collection::vec(script(), 1..4), |parts| {
        let text = parts.join("\n");
        if let Some(what) = run_script(&text, Duration::from_secs(2)) {
            let mut f = found.lock().unwrap();
            let e = f.entry(what).or_insert_with(|| text.clone());
            if text.len() < e.len() {
                *e = text;
            }
        }
        Ok(())
    });
    result.expect("the runner itself");
    let found = found.into_inner().unwrap();
    let report: Vec<String> = found
        .iter()
        .map(|(what, text)| format!("{what}\n  script: {text:?}"))
        .collect();
    assert!(
        report.is_empty(),
        "{} distinct panics:\n{}",
        report.len(),
        report.join("\n")
    );
}

// ---------------------------------------------------------------- Balenafiles

#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "WORKDIR", "USER", "LABEL", "EXPOSE", "CMD",
    "ENTRYPOINT", "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "MAINTAINER", "SHELL", "ONBUILD",
    "from", "Run", "BOGUS", "#", "# escape=`", "# syntax=x",
];

#[rustfmt::skip]
const FLAGS: &[&str] = &[
    "", "--from=build", "--from=", "--chown=1:2", "--chown=", "--chmod=755", "--chmod=9",
    "--link", "--mount=type=cache,target=/c", "--mount=type=bind,source=x,target=/y",
    "--mount=type=tmpfs,target=/t,size=1k", "--mount=type=secret,id=a",
    "--mount=type=bogus", "--mount=", "--mount=target", "--network=none", "--platform=x",
    "--interval=5s", "--retries=x", "--bogus", "AS", "as b",
];

#[rustfmt::skip]
const ARGS: &[&str] = &[
    "base", "scratch", "build", "x", "a=b", "a=\"b c\"", "'q'", "\"\"", "$x", "${x}",
    "${x:-d}", "${x:+y}", "${x", "$", "\\$x", "\\", "`", "/tmp", ".", "..", "*", "a b c",
    "[\"echo\", \"hi\"]", "[\"a\",", "[]", "[1, 2]", "{\"k\": 1}", "NONE", "CMD echo",
    "<<EOF", "<<-EOF", "<<'EOF'", "<<EOF cat", "EOF", "80/tcp", "SIGKILL", "9",
    "\\\n  continued", "FROM base", "ONBUILD RUN x",
];

/// One instruction line (sometimes with a heredoc body after it).
fn instruction() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (pick(KEYWORDS), pick(FLAGS), prop::collection::vec(pick(ARGS), 0..4))
            .prop_map(|(k, f, a)| format!("{k} {f} {}", a.join(" "))),
        1 => (pick(&["RUN", "COPY"]), pick(WORDS)).prop_map(|(k, w)| {
            format!("{k} <<EOF {}\n{w} $x\nEOF", if k == "COPY" { "/f" } else { "" })
        }),
        1 => random_bytes(),
        1 => prop::collection::vec(pick(PUNCT), 1..4).prop_map(|v| format!("RUN {}", v.join(" "))),
    ]
}

/// Instructions that mostly build, some failing at run time (missing file, false,
/// unknown user), for the builds that go past the parser.
#[rustfmt::skip]
const BUILDABLE: &[&str] = &[
    "RUN true", "RUN echo $x > /f && cat /f", "ENV x=1 y=\"a b\"", "ARG x=2", "ARG z",
    "WORKDIR /w/$x", "COPY x /d/", "COPY --chmod=600 x /e", "COPY --chown=1:2 x x /d2/",
    "ADD x /a", "LABEL a=b c=\"d e\"", "USER 0", "USER nobody", "CMD [\"echo\", \"hi\"]",
    "EXPOSE 80 443/udp", "ENTRYPOINT echo", "VOLUME /v", "STOPSIGNAL 9", "ONBUILD RUN true",
    "FROM base AS two", "COPY --from=two /etc /h", "COPY --from=nosuch / /n",
    "RUN --mount=type=tmpfs,target=/t touch /t/x", "RUN --mount=type=cache,target=/c ls /c",
    "SHELL [\"/bin/sh\", \"-c\"]", "HEALTHCHECK NONE", "COPY missing /m", "RUN false",
    "RUN exit 3", "WORKDIR ${undefined:-/u}", "RUN <<EOF\necho heredoc > /hd\nEOF",
    "COPY <<EOF /hd2\nbody $x\nEOF", "MAINTAINER me",
];

/// A Balenafile that mostly gets past the parser.
fn buildable_balenafile() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![9 => pick(BUILDABLE), 1 => instruction()], 0..6)
        .prop_map(|lines| format!("FROM base\n{}\n", lines.join("\n")))
}

fn balenafile() -> impl Strategy<Value = String> {
    (
        prop::bool::weighted(0.8),
        prop::collection::vec(instruction(), 0..10),
    )
        .prop_map(|(from, lines)| {
            let mut text = if from {
                "FROM base\n".to_string()
            } else {
                String::new()
            };
            text.push_str(&lines.join("\n"));
            text
        })
}

/// What the builder does to each parsed step short of running it: Docker's word
/// processing of its arguments, RUN's --mount specs, ONBUILD's trigger.
fn plan(bf: &parse::Balenafile) {
    let env = |name: &str| (name == "x").then(|| "value with space".to_string());
    let esc = bf.escape;
    let steps = bf
        .global_args
        .iter()
        .chain(bf.stages.iter().flat_map(|s| s.steps.iter()));
    for stage in &bf.stages {
        let _ = vars::word(&stage.image, esc, &env);
    }
    for step in steps {
        for m in &step.mounts {
            if let Ok(w) = vars::word(m, esc, &env) {
                let _ = wsh::build::mount_spec::parse_run_mount(&w);
            }
        }
        match &step.instr {
            parse::Instr::Env(t) | parse::Instr::Label(t) => {
                let _ = vars::pairs(t, esc, &env);
            }
            parse::Instr::Arg(t) => {
                let _ = vars::words(t, esc, &env);
            }
            parse::Instr::Workdir(t) | parse::Instr::User(t) | parse::Instr::Stopsignal(t) => {
                let _ = vars::word(t, esc, &env);
            }
            parse::Instr::Expose(v) | parse::Instr::Volume(v) => {
                for w in v {
                    let _ = vars::word(w, esc, &env);
                }
            }
            parse::Instr::Copy(c) => {
                let _ = vars::word(&c.dest, esc, &env);
                for s in &c.srcs {
                    if let parse::Source::Path(p) = s {
                        let _ = vars::word(p, esc, &env);
                    }
                }
            }
            parse::Instr::Onbuild(t) => {
                if let Ok(trigger) = parse::parse_trigger("Balenafile", step.line, t) {
                    let _ = trigger.instr.keyword();
                }
            }
            _ => {}
        }
    }
}

#[test]
fn balenafiles_parse_and_plan_without_panic() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    quiet_panics();
    let (ok, errs) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    let result = runner(cases() * 2).run(&balenafile(), |text| {
        let run = std::panic::catch_unwind(|| {
            let r = parse::parse("Balenafile", &text);
            if let Ok(bf) = &r {
                plan(bf);
            }
            r.map(|_| ()).map_err(|e| (e.line, e.to_string()))
        });
        match run {
            Err(_) => {
                let what = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take();
                Err(TestCaseError::fail(format!("panicked: {what:?}")))
            }
            Ok(Ok(())) => {
                ok.set(ok.get() + 1);
                Ok(())
            }
            Ok(Err((line, shown))) => {
                errs.set(errs.get() + 1);
                let lines = text.lines().count().max(1);
                prop_assert!(
                    (1..=lines).contains(&line),
                    "error at line {line} of a {lines}-line file: {shown}"
                );
                prop_assert!(
                    shown.starts_with(&format!("Balenafile:{line}: ")),
                    "not FILE:LINE: {shown}"
                );
                Ok(())
            }
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (ok, errs) = (ok.get(), errs.get());
    eprintln!("{ok} Balenafiles parsed, {errs} refused with FILE:LINE");
    // Both paths must be exercised.
    assert!(ok > 0 && errs > 0, "{ok} parsed, {errs} refused");
}

/// Generated Balenafiles through a real `wsh build` (a few: each one starts guests).
/// It must succeed, or fail with status 1 and a `Balenafile:LINE:` message; never
/// panic (101), abort (134) or hang.
#[test]
fn generated_builds_succeed_or_name_the_line() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("x"), "context file\n").unwrap();
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wsh-home");
    let outcomes = std::sync::Mutex::new(Vec::new());
    let result = runner(40).run(&buildable_balenafile(), |text| {
        std::fs::write(ctx.path().join("Balenafile"), &text).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wsh"))
            .args(["build", "-f", "Balenafile", "."])
            .current_dir(ctx.path())
            .env_clear()
            .env("WSH_HOME", &home)
            .env("PATH", "/usr/bin:/bin")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TestCaseError::fail("wsh build hung"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = out.status.code();
        outcomes.lock().unwrap().push(code);
        prop_assert!(!err.contains("panicked"), "panic: {err}");
        match code {
            Some(0) => Ok(()),
            Some(1) => {
                prop_assert!(
                    err.lines().any(|l| l.starts_with("Balenafile:")),
                    "failed without FILE:LINE: {err}"
                );
                Ok(())
            }
            other => Err(TestCaseError::fail(format!("status {other:?}: {err}"))),
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!("build statuses: {:?}", outcomes.into_inner().unwrap());
}
