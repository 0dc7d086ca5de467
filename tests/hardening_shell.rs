//! The interpreter and the command line under hostile or absurd input: deep nesting,
//! runaway recursion and loops, silly option values. Each must end with a clear error
//! or a clean result, never an abort (134) or a panic (101).

mod common;

use std::process::{Output, Stdio};
use std::time::Duration;

use common::{bash_in, text, wsh, wsh_cmd, wsh_home};

/// Runs wsh with `args`, killing it if it runs past `limit` (then the test fails: a
/// hang is a defect too).
fn wsh_within(args: &[&str], limit: Duration) -> Output {
    let mut child = wsh_cmd(wsh_home())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wsh runs");
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("wsh {args:?} still ran after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Never an abort or a panic, and no Rust panic message.
fn no_crash(out: &Output, what: &str) {
    let code = out.status.code();
    assert!(
        code.is_some() && code != Some(134) && code != Some(101),
        "{what}: ended with {:?}\n{}",
        out.status,
        text(&out.stderr)
    );
    let err = text(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("overflowed its stack"),
        "{what}: {err}"
    );
}

/// Runs `body` as a script file under wsh (within two minutes), checking it did not crash.
fn run_script(what: &str, body: &str) -> Output {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), body).unwrap();
    let out = wsh_within(&[f.path().to_str().unwrap()], Duration::from_secs(120));
    no_crash(&out, what);
    out
}

#[test]
fn runaway_recursion_is_an_error_not_an_abort() {
    let out = wsh("f(){ f; }; f");
    no_crash(&out, "f(){ f; }; f");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("maximum function nesting level exceeded"),
        "{}",
        text(&out.stderr)
    );
    // With FUNCNEST set, bash's behaviour: the error abandons the complete command
    // (status 1) and the script goes on.
    let case = "FUNCNEST=100\nf(){ f; }\nf\necho \"after $?\"\ng(){ f; echo never; }\ng; echo $?\n";
    let ours = wsh(case);
    let theirs = bash_in(std::env::temp_dir().as_path(), case);
    assert_eq!(
        (text(&ours.stdout), ours.status.code()),
        (text(&theirs.stdout), theirs.status.code()),
        "{}",
        text(&ours.stderr)
    );
    // Deep but finite recursion works, in pipelines (threads with small stacks) too.
    let out = wsh("n=0; f(){ n=$((n+1)); [ $n -lt 3000 ] && f; }; f; echo $n; f | cat; echo ok");
    no_crash(&out, "3000-deep recursion");
    assert_eq!(text(&out.stdout), "3000\nok\n", "{}", text(&out.stderr));
}

#[test]
fn deep_nesting_parses_or_is_a_syntax_error() {
    let nest = |open: &str, mid: &str, close: &str, n: usize| {
        format!("{}{mid}{}\n", open.repeat(n), close.repeat(n))
    };
    // As deep as bash runs them: the same output.
    for (what, text_) in [
        ("3000 braces", nest("{ ", "echo hi", "; }", 3000)),
        ("2000 ifs", nest("if true; then ", "echo hi", "; fi", 2000)),
        (
            "1000 while",
            nest("while true; do ", "echo hi; break 1000", "; done", 1000),
        ),
        (
            "300 $(",
            format!("echo {}", nest("$(", "echo hi", ")", 300)),
        ),
        (
            "1000 ${:-}",
            format!("echo {}", nest("${x:-", "hi", "}", 1000)),
        ),
    ] {
        let out = run_script(what, &text_);
        let theirs = bash_in(std::env::temp_dir().as_path(), &text_);
        assert_eq!(
            (text(&out.stdout), out.status.code()),
            (text(&theirs.stdout), theirs.status.code()),
            "{what}: {}",
            text(&out.stderr)
        );
    }
    // Past that: a syntax error (status 2) or a result, never an abort.
    for (what, text_) in [
        ("10000 braces", nest("{ ", "echo hi", "; }", 10000)),
        (
            "10000 ifs",
            nest("if true; then ", "echo hi", "; fi", 10000),
        ),
        (
            "10000 [[ ( ]]",
            format!("[[ {} ]] && echo yes", nest("( ", "a", " )", 10000)),
        ),
        (
            "2000 ${:-}",
            format!("echo {}", nest("${x:-", "hi", "}", 2000)),
        ),
        (
            "20000 $((",
            format!("echo $(({}))", nest("(", "1", ")", 20000)),
        ),
        ("200000 (", "(".repeat(200_000)),
    ] {
        let out = run_script(what, &text_);
        assert!(
            matches!(out.status.code(), Some(0..=2)),
            "{what}: {:?} {}",
            out.status,
            text(&out.stderr)
        );
    }
}

#[test]
fn timeout_stops_loops_of_builtins() {
    for body in [
        "while :; do :; done",
        "for ((i = 0; 1; i++)); do :; done",
        "f(){ while :; do x=1; done; }; f",
    ] {
        let out = wsh_within(&["--timeout", "1", "-c", body], Duration::from_secs(60));
        no_crash(&out, body);
        // As a process killed by SIGXCPU: 128 + 24.
        assert_eq!(
            out.status.code(),
            Some(152),
            "{body}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("CPU time limit exceeded"));
    }
}

#[test]
fn absurd_timeouts_are_no_limit_or_an_error() {
    let out = wsh_cmd(wsh_home())
        .args(["--timeout", "1e100", "-c", "echo hi"])
        .output()
        .unwrap();
    no_crash(&out, "--timeout 1e100");
    assert_eq!(text(&out.stdout), "hi\n");
    for bad in ["-1", "NaN", "inf", "x"] {
        let out = wsh_cmd(wsh_home())
            .args(["--timeout", bad, "-c", "echo hi"])
            .output()
            .unwrap();
        no_crash(&out, bad);
        assert_ne!(out.status.code(), Some(0), "--timeout {bad} accepted");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn global_options_may_stand_before_a_subcommand() {
    for args in [
        &["--timeout", "5", "run", "base", "echo", "hi"][..],
        &[
            "--timeout=5",
            "--memory",
            "64M",
            "run",
            "base",
            "echo",
            "hi",
        ][..],
    ] {
        let out = wsh_cmd(wsh_home()).args(args).output().unwrap();
        assert_eq!(text(&out.stdout), "hi\n", "{args:?}: {}", text(&out.stderr));
    }
    let out = wsh_cmd(wsh_home())
        .args(["--memory", "64M", "images"])
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).starts_with("REPOSITORY"),
        "{}",
        text(&out.stderr)
    );
    // -c's arguments stay $0 and $1 even when they are subcommand names.
    let out = wsh_cmd(wsh_home())
        .args(["--timeout", "5", "-c", "echo $0 $1", "run", "build"])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "run build\n");
}

#[test]
fn volume_options_cannot_turn_a_read_only_mount_writable() {
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("f"), "keep\n").unwrap();
    let h = host.path().to_str().unwrap();
    // The repro: options after ro were taken as part of the container path.
    let out = wsh_cmd(wsh_home())
        .args(["run", "-v", &format!("{h}:/x:ro,z"), "base", "sh", "-c"])
        .arg("echo pwn > /x/w; echo pwn > /x/f; ls /")
        .output()
        .unwrap();
    assert!(
        text(&out.stderr).contains("Read-only file system"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains("x:ro"), "{}", text(&out.stdout));
    for bad in ["ro,bogus", "RO", "r0", "bogus", "ro,rw"] {
        let out = wsh_cmd(wsh_home())
            .args(["run", "-v", &format!("{h}:/x:{bad}"), "base", "sh", "-c"])
            .arg("echo pwn > /x/w")
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(0), ":{bad} was accepted");
        assert!(
            text(&out.stderr).contains("invalid mode"),
            "{}",
            text(&out.stderr)
        );
    }
    let names: Vec<_> = std::fs::read_dir(host.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["f"], "the host directory changed");
    assert_eq!(
        std::fs::read_to_string(host.path().join("f")).unwrap(),
        "keep\n"
    );
    // --mount: Docker's bind syntax, read-only honoured.
    let out = wsh_cmd(wsh_home())
        .args([
            "run",
            "--mount",
            &format!("type=bind,source={h},target=/m,readonly"),
            "base",
            "sh",
            "-c",
            "cat /m/f; echo x > /m/f",
        ])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "keep\n");
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(host.path().join("f")).unwrap(),
        "keep\n"
    );
}
