//! `wsh build`: each test is named after the Docker behaviour it checks. Most check
//! the built file system with RUN steps (`test`, `stat`, `cat`) inside the build
//! itself, so a wrong behaviour fails the build; the end-to-end test exports the
//! image and judges it with `e2fsck -fn` and `debugfs`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use common::*;

#[path = "build/shell_onbuild.rs"]
mod shell_onbuild;
#[path = "build/user.rs"]
mod user;

#[path = "build/run_mount.rs"]
mod run_mount;

/// A build context with `files` (path, content) and a Balenafile.
fn context(files: &[(&str, &str)], balenafile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    std::fs::write(dir.path().join("Balenafile"), balenafile).unwrap();
    dir
}

/// `wsh build ARGS... DIR`.
fn build(dir: &Path, args: &[&str]) -> Output {
    wsh_cmd(wsh_home())
        .arg("build")
        .args(args)
        .arg(dir)
        .output()
        .expect("wsh runs")
}

/// Builds and returns the image id, failing the test with wsh's output otherwise.
fn built(dir: &Path, args: &[&str]) -> String {
    let out = build(dir, args);
    assert!(out.status.success(), "build failed:\n{}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

fn inspect(image: &str) -> serde_json::Value {
    let out = wsh_cmd(wsh_home())
        .args(["inspect", image])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The one stderr line that names the Balenafile, asserting there is exactly one.
fn error_line(out: &Output, file: &str) -> String {
    assert!(
        !out.status.success(),
        "expected a failure:\n{}",
        text(&out.stderr)
    );
    let err = text(&out.stderr);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with(&format!("{file}:")))
        .collect();
    assert_eq!(lines.len(), 1, "one FILE:LINE: error line expected:\n{err}");
    lines[0].to_string()
}

/// The store's layer and image files (a failed build must not change them).
fn store_files(home: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for d in ["layers", "images", "containers"] {
        if let Ok(rd) = std::fs::read_dir(home.join("data").join(d)) {
            out.extend(rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()));
        }
    }
    out
}

/// A store of its own (tests run in parallel) sharing the compiled-module cache.
fn private_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(wsh_home().join("cache")).unwrap();
    std::os::unix::fs::symlink(wsh_home().join("cache"), home.path().join("cache")).unwrap();
    home
}

#[test]
fn malformed_file_names_file_and_line() {
    let dir = context(&[], "");
    std::fs::write(
        dir.path().join("custom.bf"),
        "FROM base\nRUN echo ok\nRUN <<EOF\necho never ends\n",
    )
    .unwrap();
    let f = dir.path().join("custom.bf");
    let out = build(dir.path(), &["-f", f.to_str().unwrap()]);
    let line = error_line(&out, f.to_str().unwrap());
    assert!(
        line.contains(":3: ") && line.contains("here-document"),
        "{line}"
    );
}

#[test]
fn unknown_instruction_is_an_error_at_its_line() {
    let dir = context(&[], "FROM base\n# comment\nFROBNICATE now\n");
    let f = dir.path().join("Balenafile");
    let line = error_line(&build(dir.path(), &[]), f.to_str().unwrap());
    assert!(
        line.contains(":3: unknown instruction") && line.contains("FROBNICATE now"),
        "{line}"
    );
}

#[test]
fn failed_builds_leave_the_store_unchanged() {
    let home = private_home();
    let run = |dir: &Path, args: &[&str]| {
        wsh_cmd(home.path())
            .arg("build")
            .args(args)
            .arg(dir)
            .output()
            .unwrap()
    };
    // Make the base image first so that only the failing builds are compared.
    assert!(
        run(context(&[], "FROM base\n").path(), &[])
            .status
            .success()
    );
    let before = store_files(home.path());
    let cases = [
        (
            "FROM base\nRUN echo about to fail; exit 3\nRUN echo never\n",
            ":2: RUN failed with exit status 3",
        ),
        (
            "FROM base\nCOPY missing.txt /x\n",
            ":2: missing.txt: not found in the build context",
        ),
        (
            "FROM base\nCOPY ../outside /x\n",
            ":2: ../outside: forbidden path outside the build context",
        ),
        (
            "FROM base\nRUN true\nFROBNICATE\n",
            ":3: unknown instruction 'FROBNICATE'",
        ),
        (
            "FROM base\nRUN true\nCOPY <<EOF /x\nno end\n",
            ":3: expected end of here-document",
        ),
    ];
    for (balenafile, want) in cases {
        let dir = context(&[("a.txt", "a")], balenafile);
        let out = run(dir.path(), &["-t", "never-made"]);
        let line = error_line(&out, dir.path().join("Balenafile").to_str().unwrap());
        assert!(line.contains(want), "{line}");
        assert!(!text(&out.stderr).contains("never\n"));
        assert_eq!(store_files(home.path()), before, "after {balenafile:?}");
    }
    let images = wsh_cmd(home.path()).arg("images").output().unwrap();
    assert!(!text(&images.stdout).contains("never-made"));
}

#[test]
fn copy_dir_copies_contents_not_dir() {
    let dir = context(
        &[("sub/inner.txt", "inner\n"), ("sub/deep/d.txt", "d\n")],
        "FROM base\nCOPY sub /dst/\nRUN test -f /dst/inner.txt && test -f /dst/deep/d.txt && test ! -e /dst/sub\n",
    );
    built(dir.path(), &[]);
}

#[test]
fn copy_file_keeps_name_in_dir_dest_and_renames_otherwise() {
    let dir = context(
        &[("a.txt", "hello\n")],
        "FROM base\nCOPY a.txt /d/\nCOPY a.txt /e/renamed\nRUN [ \"$(cat /d/a.txt)\" = hello ] && [ \"$(cat /e/renamed)\" = hello ]\n",
    );
    built(dir.path(), &[]);
}

#[test]
fn copy_glob_copies_every_match_and_needs_dir_dest() {
    let files = [("x1.txt", "1"), ("x2.txt", "2"), ("y.md", "y")];
    let dir = context(
        &files,
        "FROM base\nCOPY x*.txt /g/\nRUN test -f /g/x1.txt && test -f /g/x2.txt && test ! -e /g/y.md\n",
    );
    built(dir.path(), &[]);
    let dir = context(&files, "FROM base\nCOPY x*.txt /g\n");
    let line = error_line(
        &build(dir.path(), &[]),
        dir.path().join("Balenafile").to_str().unwrap(),
    );
    assert!(line.contains("ending in /"), "{line}");
}

#[test]
fn copy_chmod_and_chown_set_mode_and_owner() {
    let dir = context(
        &[("s.sh", "echo hi\n")],
        "FROM base\nCOPY --chmod=750 --chown=12:34 s.sh /bin/s.sh\n\
         RUN [ \"$(stat -c '%a %u %g' /bin/s.sh)\" = '750 12 34' ]\n",
    );
    built(dir.path(), &[]);
}

#[test]
fn balenaignore_hides_files_from_copy() {
    let dir = context(
        &[
            (".balenaignore", "*.log\nsecret/\n!keep.log\n"),
            ("a.log", "x"),
            ("keep.log", "k"),
            ("secret/k", "s"),
            ("ok.txt", "o"),
        ],
        "FROM base\nCOPY . /ctx/\nRUN test -f /ctx/ok.txt && test -f /ctx/keep.log && test ! -e /ctx/a.log && test ! -e /ctx/secret\n",
    );
    built(dir.path(), &[]);
}

#[test]
fn add_extracts_local_tar_archives_and_refuses_urls() {
    let dir = context(
        &[("t/one.txt", "one\n"), ("t/sub/two.txt", "two\n")],
        "FROM base\nADD files.tar.gz /opt/\nRUN [ \"$(cat /opt/t/sub/two.txt)\" = two ] && test -f /opt/t/one.txt && test ! -e /opt/files.tar.gz\n",
    );
    let tar = bash_in(dir.path(), "tar czf files.tar.gz t && rm -r t");
    assert!(tar.status.success(), "{}", text(&tar.stderr));
    built(dir.path(), &[]);
    let dir = context(&[], "FROM base\nADD https://example.com/x.tar.gz /opt/\n");
    let line = error_line(
        &build(dir.path(), &[]),
        dir.path().join("Balenafile").to_str().unwrap(),
    );
    assert!(line.contains("URLs are not supported"), "{line}");
}

#[test]
fn copy_heredoc_creates_the_file_and_substitutes_unquoted() {
    let dir = context(
        &[],
        "FROM base\nENV WHO=world\nCOPY <<EOF /etc/greeting\nhello $WHO\nEOF\nCOPY <<'EOF' /etc/raw\nhello $WHO\nEOF\n\
         RUN [ \"$(cat /etc/greeting)\" = 'hello world' ] && [ \"$(cat /etc/raw)\" = 'hello $WHO' ]\n",
    );
    built(dir.path(), &[]);
}

#[test]
fn run_heredoc_runs_the_body_as_a_script() {
    let dir = context(
        &[],
        "FROM base\nRUN <<EOF\nmkdir -p /h\nseq 3 > /h/n\nEOF\nRUN [ \"$(wc -l < /h/n)\" = 3 ]\n",
    );
    built(dir.path(), &[]);
}

#[test]
fn run_exec_form_does_not_substitute_variables() {
    let dir = context(
        &[],
        "FROM base\nENV X=subst\nRUN [\"touch\", \"/$X\"]\nRUN test -e '/$X' && test ! -e /subst\n",
    );
    built(dir.path(), &[]);
}

#[test]
fn arg_before_from_is_visible_in_from_only() {
    let dir = context(
        &[],
        "ARG IMG=base\nARG V=global\nFROM $IMG\nRUN test -z \"$IMG\"\nARG V\nRUN [ \"$V\" = global ]\n",
    );
    built(dir.path(), &[]);
}

#[test]
fn build_arg_overrides_arg_default_and_reaches_run() {
    let dir = context(
        &[],
        "FROM base\nARG MODE=debug\nRUN echo \"$MODE\" > /mode\nRUN [ \"$(cat /mode)\" = release ]\n",
    );
    built(dir.path(), &["--build-arg", "MODE=release"]);
}

#[test]
fn env_same_line_sees_previous_values_and_run_sees_env() {
    let dir = context(
        &[],
        "FROM base\nENV A=1\nENV A=2 B=$A\nRUN [ \"$A$B\" = 21 ]\n",
    );
    built(dir.path(), &[]);
}

#[test]
fn workdir_is_created_and_relative_paths_follow_it() {
    let dir = context(
        &[("f", "f\n")],
        "FROM base\nWORKDIR /srv\nWORKDIR app\nCOPY f rel\nRUN [ \"$(pwd)\" = /srv/app ] && test -f /srv/app/rel\n",
    );
    let id = built(dir.path(), &[]);
    assert_eq!(inspect(&id)["workdir"], "/srv/app");
}

#[test]
fn multi_stage_copy_from_takes_files_of_an_earlier_stage() {
    let dir = context(
        &[],
        "FROM base AS builder\nRUN mkdir -p /out && seq 5 | sort -r > /out/list\n\
         FROM base\nCOPY --from=builder /out/list /list\nRUN [ \"$(head -1 /list)\" = 5 ]\nCOPY --from=0 /out /o2/\nRUN test -f /o2/list\n",
    );
    built(dir.path(), &[]);
}

#[test]
fn cmd_exec_form_with_entrypoint_appends() {
    let dir = context(
        &[],
        "FROM base\nENTRYPOINT [\"echo\", \"hello\"]\nCMD [\"world\"]\n",
    );
    let id = built(dir.path(), &[]);
    let c = inspect(&id);
    assert_eq!(c["entrypoint"], serde_json::json!(["echo", "hello"]));
    assert_eq!(c["cmd"], serde_json::json!(["world"]));
}

#[test]
fn shell_form_cmd_is_wrapped_in_sh_c_and_entrypoint_resets_inherited_cmd() {
    let dir = context(
        &[],
        "FROM base AS one\nCMD echo $HOME\nFROM one\nENTRYPOINT [\"ls\"]\n",
    );
    let id = built(dir.path(), &[]);
    let c = inspect(&id);
    assert_eq!(c["entrypoint"], serde_json::json!(["ls"]));
    assert_eq!(c["cmd"], serde_json::json!([]));
    let dir = context(&[], "FROM base\nCMD echo $HOME\n");
    assert_eq!(
        inspect(&built(dir.path(), &[]))["cmd"],
        serde_json::json!(["/bin/sh", "-c", "echo $HOME"])
    );
}

#[test]
fn label_and_expose_are_recorded_in_the_config() {
    let dir = context(
        &[],
        "FROM base\nARG VER=2.1\nLABEL version=$VER \"org.title\"=\"My app\"\nEXPOSE 80 53/udp\n",
    );
    let c = inspect(&built(dir.path(), &["-t", "labelled:v1"]));
    assert_eq!(c["labels"]["version"], "2.1");
    assert_eq!(c["labels"]["org.title"], "My app");
    assert_eq!(c["exposed_ports"], serde_json::json!(["80/tcp", "53/udp"]));
    assert!(
        c["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "labelled:v1")
    );
}

#[test]
fn user_volume_stopsignal_and_healthcheck_are_recorded_in_the_config() {
    let dir = context(
        &[],
        "FROM base\nUSER 1000:1000\nVOLUME /data /cache\nVOLUME [\"/json\"]\nSTOPSIGNAL SIGTERM\nHEALTHCHECK --interval=5s CMD [\"test\", \"-e\", \"/tmp\"]\n",
    );
    let c = inspect(&built(dir.path(), &[]));
    assert_eq!(c["user"], "1000:1000");
    assert_eq!(
        c["volumes"],
        serde_json::json!(["/data", "/cache", "/json"])
    );
    assert_eq!(c["stop_signal"], "SIGTERM");
    // Docker's Config.Healthcheck.Test: "CMD" + exec form, "CMD-SHELL" + shell text.
    assert_eq!(
        c["healthcheck"]["test"],
        serde_json::json!(["CMD", "test", "-e", "/tmp"])
    );
    assert_eq!(c["healthcheck"]["options"]["interval"], "5s");
    let dir = context(
        &[],
        "FROM base AS hc\nHEALTHCHECK CMD test -e /tmp || exit 1\nFROM hc\nHEALTHCHECK NONE\n",
    );
    let c = inspect(&built(dir.path(), &[]));
    assert_eq!(c["healthcheck"]["test"], serde_json::json!(["NONE"]));
    let dir = context(&[], "FROM base\nHEALTHCHECK CMD test -e /tmp || exit 1\n");
    let c = inspect(&built(dir.path(), &[]));
    assert_eq!(
        c["healthcheck"]["test"],
        serde_json::json!(["CMD-SHELL", "test -e /tmp || exit 1"])
    );
    // Docker parses the options: a bad duration or count is an error at its line.
    for (opt, want) in [
        ("--interval=5x", "a duration"),
        ("--retries=many", "a number"),
    ] {
        let dir = context(&[], &format!("FROM base\nHEALTHCHECK {opt} CMD true\n"));
        let line = error_line(
            &build(dir.path(), &[]),
            dir.path().join("Balenafile").to_str().unwrap(),
        );
        assert!(
            line.contains(&format!(":2: HEALTHCHECK {opt}: expected {want}")),
            "{line}"
        );
    }
}

#[test]
fn unchanged_rebuild_is_all_cached_and_a_changed_file_rebuilds_from_its_copy() {
    let dir = context(
        &[("data.txt", "v1\n")],
        "FROM base\nRUN echo early > /early\nCOPY data.txt /data.txt\nRUN cat /data.txt > /copy\n",
    );
    let first = built(dir.path(), &[]);
    let again = build(dir.path(), &[]);
    assert!(again.status.success());
    assert_eq!(
        text(&again.stdout).trim(),
        first,
        "an unchanged rebuild gives the same image"
    );
    let log = text(&again.stderr);
    assert_eq!(
        log.lines().filter(|l| l.contains(" CACHED ")).count(),
        3,
        "{log}"
    );
    // Content no earlier run of this test had (the cache is keyed by content).
    let nonce = format!("{:?}", std::time::SystemTime::now());
    std::fs::write(dir.path().join("data.txt"), format!("v2 {nonce}\n")).unwrap();
    let changed = build(dir.path(), &[]);
    let log = text(&changed.stderr);
    assert!(log.contains("[2/4] CACHED RUN echo early"), "{log}");
    assert!(
        !log.contains("CACHED COPY") && !log.contains("CACHED RUN cat"),
        "{log}"
    );
    assert_ne!(text(&changed.stdout).trim(), first);
    let fresh = build(dir.path(), &["--no-cache"]);
    assert!(
        !text(&fresh.stderr).contains("CACHED"),
        "{}",
        text(&fresh.stderr)
    );
}

#[test]
fn scratch_stage_starts_from_an_empty_file_system() {
    let dir = context(&[("only.txt", "only\n")], "FROM scratch\nCOPY only.txt /\n");
    let id = built(dir.path(), &[]);
    let img = dir.path().join("out.img");
    let out = wsh_cmd(wsh_home())
        .args(["export", &id])
        .arg(&img)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ls = text(&host("debugfs", &["-R", "ls -p /", img.to_str().unwrap()]).stdout);
    let names: BTreeSet<&str> = ls
        .lines()
        .filter_map(|l| l.split('/').nth(5))
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .collect();
    assert_eq!(names, BTreeSet::from(["lost+found", "only.txt"]), "{ls}");
}

#[test]
fn built_image_exports_to_clean_ext4_with_the_built_files() {
    let dir = context(
        &[("app/main.txt", "main\n")],
        "FROM base\nWORKDIR /app\nCOPY app/ ./\nRUN seq 10 | tail -3 > tail.txt\n",
    );
    let id = built(dir.path(), &["-t", "exported:test"]);
    let img = dir.path().join("out.img");
    let out = wsh_cmd(wsh_home())
        .args(["export", "exported:test"])
        .arg(&img)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let fsck = host("e2fsck", &["-fn", img.to_str().unwrap()]);
    assert!(
        fsck.status.success(),
        "e2fsck:\n{}{}",
        text(&fsck.stdout),
        text(&fsck.stderr)
    );
    let cat = |p: &str| {
        text(
            &host(
                "debugfs",
                &["-R", &format!("cat {p}"), img.to_str().unwrap()],
            )
            .stdout,
        )
    };
    assert_eq!(cat("/app/main.txt"), "main\n");
    assert_eq!(cat("/app/tail.txt"), "8\n9\n10\n");
    assert!(!id.is_empty());
}

#[test]
fn example_balenafile_builds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let f = root.join("Balenafile.example");
    let out = build(root, &["-f", f.to_str().unwrap(), "-t", "example:test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `wsh run ARGS...` in the shared store.
fn run(args: &[&str]) -> Output {
    wsh_cmd(wsh_home())
        .arg("run")
        .args(args)
        .output()
        .expect("wsh runs")
}

#[test]
fn run_appends_cmd_or_run_args_to_entrypoint() {
    let dir = context(
        &[],
        "FROM base\nENTRYPOINT [\"echo\", \"hello\"]\nCMD [\"world\"]\n",
    );
    let id = built(dir.path(), &[]);
    assert_eq!(text(&run(&[&id]).stdout), "hello world\n");
    assert_eq!(
        text(&run(&[&id, "there", "$HOME"]).stdout),
        "hello there $HOME\n"
    );
}

/// `wsh run IMAGE CMD` hands the command Docker's environment: the image's ENV and
/// `-e`, PATH, HOME and HOSTNAME, nothing of the interpreter's own login defaults.
#[test]
fn run_gives_programs_the_image_env_and_docker_defaults_only() {
    let dir = context(&[], "FROM base\nENV A=1 LANG=C\n");
    let id = built(dir.path(), &[]);
    let out = run(&["-e", "B=2", &id, "env"]);
    let mut names: Vec<String> = text(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_string()))
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["A", "B", "HOME", "HOSTNAME", "LANG", "PATH"],
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("HOSTNAME=wsh\n"));
}

#[test]
fn run_shell_form_cmd_sees_env_and_workdir_and_exits_with_its_status() {
    let dir = context(
        &[],
        "FROM base\nENV WHO=image\nWORKDIR /w\nCMD echo $WHO $(pwd); exit 4\n",
    );
    let id = built(dir.path(), &[]);
    let out = run(&[&id]);
    assert_eq!(text(&out.stdout), "image /w\n");
    assert_eq!(out.status.code(), Some(4));
    let out = run(&["-e", "WHO=cli", "-w", "/tmp", &id]);
    assert_eq!(text(&out.stdout), "cli /tmp\n");
}

#[test]
fn run_heredoc_after_a_command_is_its_stdin() {
    let dir = context(
        &[],
        "FROM base\nRUN cat <<EOF > /f\nline one\nEOF\nRUN [ \"$(cat /f)\" = 'line one' ]\n",
    );
    built(dir.path(), &[]);
}

#[test]
fn unused_build_arg_is_warned_about_and_bad_stopsignal_is_an_error() {
    let dir = context(&[], "FROM base\nARG USED=1\nSTOPSIGNAL SIGTERM\n");
    let out = build(
        dir.path(),
        &["--build-arg", "USED=2", "--build-arg", "NOBODY=3"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("build args not used by any ARG: NOBODY"),
        "{}",
        text(&out.stderr)
    );
    let dir = context(&[], "FROM base\nSTOPSIGNAL SIGNOPE\n");
    let line = error_line(
        &build(dir.path(), &[]),
        dir.path().join("Balenafile").to_str().unwrap(),
    );
    assert!(
        line.contains(":2: STOPSIGNAL SIGNOPE: not a signal"),
        "{line}"
    );
}

#[test]
fn run_tty_with_a_command_runs_it_on_the_terminal_instead_of_the_repl() {
    use std::io::Write as _;
    let mut child = wsh_cmd(wsh_home())
        .args(["run", "-t", "base", "tr", "a-z", "A-Z"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wsh runs");
    // With -t the command reads wsh's stdin, as `docker run -it IMAGE CMD` does.
    child.stdin.take().unwrap().write_all(b"typed\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "TYPED\n");
}

/// `wsh ARGS...` against the store in `home`, which must succeed.
fn wsh_ok(home: &Path, args: &[&str]) -> Output {
    let out = wsh_cmd(home).args(args).output().expect("wsh runs");
    assert!(
        out.status.success(),
        "wsh {args:?} failed:\n{}",
        text(&out.stderr)
    );
    out
}

/// Builds `dir` with the store in `home`.
fn build_in(home: &Path, dir: &Path, args: &[&str]) -> Output {
    wsh_cmd(home)
        .arg("build")
        .args(args)
        .arg(dir)
        .output()
        .expect("wsh runs")
}

fn cached_steps(out: &Output) -> usize {
    text(&out.stderr)
        .lines()
        .filter(|l| l.contains(" CACHED "))
        .count()
}

#[test]
fn rmi_of_a_tag_keeps_the_build_cache_so_a_rebuild_is_all_cached() {
    // Docker's build cache outlives `docker rmi`: only the tag goes.
    let home = private_home();
    let dir = context(
        &[],
        "FROM base\nRUN echo one > /one\nENV X=1\nRUN cat /one > /two\n",
    );
    let first = build_in(home.path(), dir.path(), &["-t", "cached:v1"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    wsh_ok(home.path(), &["rmi", "cached:v1"]);
    let images = wsh_ok(home.path(), &["images"]);
    assert!(!text(&images.stdout).contains("cached"));
    let again = build_in(home.path(), dir.path(), &["-t", "cached:v1"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(cached_steps(&again), 3, "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), text(&first.stdout));
}

#[test]
fn rmi_during_a_build_keeps_the_images_the_build_made() {
    use std::io::BufRead as _;
    let home = private_home();
    assert!(
        build_in(home.path(), context(&[], "FROM base\n").path(), &[])
            .status
            .success()
    );
    wsh_ok(home.path(), &["tag", "base", "victim"]);
    // The first RUN's image is referenced by nothing but the running build while the
    // second RUN sleeps: a prune then must not take it.
    let dir = context(
        &[],
        "FROM base\nRUN echo one > /one\nENV X=1\nRUN sleep 2 && cat /one\n",
    );
    let mut child = wsh_cmd(home.path())
        .arg("build")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wsh runs");
    // Read the progress lines as they come (all of them: a closed pipe would fail the build).
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            log.push_str(&line);
            log.push('\n');
        }
        log
    });
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(120)) {
        if line.contains("RUN sleep") {
            wsh_ok(home.path(), &["rmi", "victim"]);
            break;
        }
    }
    let status = child.wait().unwrap();
    let log = reader.join().unwrap();
    assert!(status.success() && log.contains("RUN sleep"), "{log}");
    assert!(!text(&wsh_ok(home.path(), &["images"]).stdout).contains("victim"));
    let again = build_in(home.path(), dir.path(), &[]);
    assert_eq!(cached_steps(&again), 3, "{}", text(&again.stderr));
}

#[test]
fn balenaignore_exception_re_includes_a_file_in_an_excluded_dir() {
    let dir = context(
        &[
            (".balenaignore", "docs\n!docs/keep.md\n"),
            ("docs/keep.md", "kept\n"),
            ("docs/drop.md", "dropped\n"),
            ("docs/sub/deep.md", "dropped\n"),
            ("top.txt", "top\n"),
        ],
        "FROM base\nCOPY . /ctx/\nRUN [ \"$(cat /ctx/docs/keep.md)\" = kept ] && [ ! -e /ctx/docs/drop.md ] && [ ! -e /ctx/docs/sub ] && [ -f /ctx/top.txt ]\nCOPY docs /d\nRUN [ -f /d/keep.md ] && [ \"$(ls /d)\" = keep.md ]\n",
    );
    built(dir.path(), &[]);
}
