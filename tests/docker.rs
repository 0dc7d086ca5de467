//! What a Docker user tries first (issue 17): unknown words, exit statuses, closed
//! pipes, `build DIR` with a Dockerfile and `.dockerignore`, BuildKit's continuations,
//! `--format` templates, `run --name/--entrypoint/--env-file`, `build --target -q
//! --label`, and detached containers (`run -d`, `ps`, `logs`, `stop`, `rm`, `wait`,
//! recovery after `kill -9` of a supervisor).

mod common;

use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A context directory with `files` (path, content).
fn context(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

fn build(dir: &Path, args: &[&str]) -> Output {
    wsh_cmd(wsh_home())
        .arg("build")
        .args(args)
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn an_unknown_word_is_not_a_command_but_an_existing_script_runs() {
    let out = wsh_args(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "wsh: 'frobnicate' is not a wsh command. See 'wsh --help'\n"
    );
    // A file of that kind of name in the current directory is still a script.
    let dir = context(&[("hello", "echo from the script\n")]);
    let out = wsh_cmd(wsh_home())
        .arg("hello")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(ok_stdout(&out), "from the script\n");
    // A path is a missing script, as bash says.
    let out = wsh_args(&["./missing.sh"]);
    assert_eq!(out.status.code(), Some(127));
    let out = wsh_args(&["pull"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not a wsh command: wsh has no registry"));
}

#[test]
fn run_and_build_fail_with_docker_statuses() {
    let out = wsh_args(&["run", "no-such-image-here"]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    let out = wsh_args(&["run", "--no-such-flag", "base", "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    let out = wsh_args(&["build", "--no-such-flag", "."]);
    assert_eq!(out.status.code(), Some(125));
    // The command's own failures: not found (127), not executable (126), as bash.
    let out = wsh_args(&["run", "base", "no-such-command"]);
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    let theirs = bash_in(Path::new("/"), "/etc");
    let out = wsh_args(&["run", "base", "/etc"]);
    assert_eq!(out.status.code(), theirs.status.code());
    assert_eq!(out.status.code(), Some(126));
    let out = wsh_args(&["run", "base", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
}

#[test]
fn listing_commands_end_quietly_on_a_closed_pipe() {
    ok_stdout(&wsh_args(&["images"]));
    for args in [
        &["inspect", "base"][..],
        &["images"],
        &["history", "base"],
        &["inspect", "--format", "{{json .Config}}", "base"],
        &["version"],
        &["ps", "-a"],
    ] {
        // The reader is gone before wsh writes: every write fails with EPIPE.
        let mut child = wsh_cmd(wsh_home())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(text(&out.stderr), "", "{args:?}");
        // As `seq 100000 | head -1`: killed by SIGPIPE (or done before noticing).
        assert!(
            out.status.signal() == Some(libc_sigpipe()) || out.status.success(),
            "{args:?}: {:?}",
            out.status
        );
    }
    // And as a user meets it, against GNU head.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{} inspect base | head -1; {} history base | head -1",
            env!("CARGO_BIN_EXE_wsh"),
            env!("CARGO_BIN_EXE_wsh")
        ))
        .env("WSH_HOME", wsh_home())
        .output()
        .unwrap();
    assert_eq!(text(&out.stderr), "");
    assert!(text(&out.stdout).starts_with("{\n"));
}

fn libc_sigpipe() -> i32 {
    13
}

#[test]
fn build_dir_reads_a_dockerfile_and_honours_dockerignore() {
    let dir = context(&[
        (
            "Dockerfile",
            "FROM base\nCOPY . /app\nCMD [\"ls\", \"-a\", \"/app\", \"/app/logs\"]\n",
        ),
        (".env", "SECRET=hunter2\n"),
        (
            ".dockerignore",
            "# secrets and logs\n.env\n**/*.log\n!logs/keep.log\n",
        ),
        ("app.txt", "x\n"),
        ("logs/a.log", "a\n"),
        ("logs/keep.log", "k\n"),
        ("deep/er/b.log", "b\n"),
    ]);
    let id = ok_stdout(&build(dir.path(), &["-t", "docker-ignore-test"]));
    assert_eq!(id.trim().len(), 64);
    let ls = ok_stdout(&wsh_args(&["run", "docker-ignore-test"]));
    assert_eq!(
        ls,
        "/app:\n.\n..\n.dockerignore\nDockerfile\napp.txt\ndeep\nlogs\n\n/app/logs:\n.\n..\nkeep.log\n"
    );
    let out = ok_stdout(&wsh_args(&[
        "run",
        "docker-ignore-test",
        "find",
        "/app/deep",
    ]));
    assert_eq!(out, "/app/deep\n/app/deep/er\n");

    // `-f -`: the Dockerfile from stdin, the context from DIR.
    let mut child = wsh_cmd(wsh_home())
        .args(["build", "-q", "-t", "docker-stdin-test", "-f", "-"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM base\nCOPY app.txt /from-stdin\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    ok_stdout(&out);
    assert_eq!(
        ok_stdout(&wsh_args(&[
            "run",
            "docker-stdin-test",
            "cat",
            "/from-stdin"
        ])),
        "x\n"
    );
    // Neither file: the error names the Balenafile and says a Dockerfile was looked for.
    let empty = tempfile::tempdir().unwrap();
    let out = build(empty.path(), &[]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("Dockerfile"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn buildkit_continuations_and_json_arrays() {
    // An escape followed by spaces still continues; an escape at the end of the file
    // ends the instruction.
    let dir = context(&[(
        "Balenafile",
        "FROM base\nRUN echo hello  \\   \n    world > /joined\nRUN echo last > /last \\",
    )]);
    ok_stdout(&build(dir.path(), &["-t", "docker-continuations"]));
    assert_eq!(
        ok_stdout(&wsh_args(&[
            "run",
            "docker-continuations",
            "cat",
            "/joined",
            "/last"
        ])),
        "hello world\nlast\n"
    );
    let dir = context(&[("Balenafile", "FROM base\nCMD [ \"a\", [ \"b\" ] ]\n")]);
    let out = build(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("Balenafile:2:") && err.contains("strings only"),
        "{err}"
    );
}

#[test]
fn from_a_missing_image_says_there_is_no_registry() {
    let dir = context(&[("Balenafile", "FROM alpine:3.19\n")]);
    let out = build(dir.path(), &[]);
    let err = text(&out.stderr);
    assert!(
        err.contains("Balenafile:1:") && err.contains("no registry") && err.contains("wsh load"),
        "{err}"
    );
    let out = wsh_args(&["run", "alpine:3.19"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("wsh import"));
}

#[test]
fn history_keeps_one_row_per_step_and_templates_read_the_config() {
    let dir = context(&[(
        "Balenafile",
        "FROM base\nENV A=1 \\\n    B=\"two words\"\nLABEL k=v other=\"x y\"\nUSER 1000\n",
    )]);
    let id = ok_stdout(&build(dir.path(), &["-t", "docker-history-test"]));
    let id = id.trim();
    let hist = ok_stdout(&wsh_args(&["history", "docker-history-test"]));
    assert!(hist.contains("ENV A=1 \\\\n    B="), "{hist}");
    for line in hist.lines().skip(1) {
        assert!(!line.starts_with(' '), "a broken row: {line:?}\n{hist}");
    }
    let f = |t: &str| {
        ok_stdout(&wsh_args(&[
            "inspect",
            "--format",
            t,
            "docker-history-test",
        ]))
    };
    assert_eq!(f("{{.Id}}"), format!("sha256:{id}\n"));
    assert_eq!(f("{{.Config.User}}"), "1000\n");
    assert_eq!(f("{{index .Config.Labels \"k\"}}"), "v\n");
    assert_eq!(f("{{index .Config.Labels \"other\"}}"), "x y\n");
    let env: Vec<String> = serde_json::from_str(f("{{json .Config.Env}}").trim()).unwrap();
    assert!(env.contains(&"A=1".to_string()) && env.contains(&"B=two words".to_string()));
    let out = wsh_args(&["inspect", "--format", "{{.Id", "docker-history-test"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("template"));

    let q = ok_stdout(&wsh_args(&["images", "-q"]));
    assert!(q.lines().any(|l| l == &id[..12]), "{q}");
    let rows = ok_stdout(&wsh_args(&[
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}} {{.ID}}",
    ]));
    assert!(
        rows.lines()
            .any(|l| l == format!("docker-history-test:latest {}", &id[..12])),
        "{rows}"
    );
}

#[test]
fn run_name_entrypoint_and_env_file() {
    let dir = context(&[
        (
            "Balenafile",
            "FROM base\nENTRYPOINT [\"echo\", \"from-entrypoint\"]\nCMD [\"from-cmd\"]\n",
        ),
        ("env", "# a comment\nA=1\n\nB=two words\nFROM_HOST\n"),
    ]);
    ok_stdout(&build(dir.path(), &["-t", "docker-entrypoint-test"]));
    assert_eq!(
        ok_stdout(&wsh_args(&["run", "docker-entrypoint-test"])),
        "from-entrypoint from-cmd\n"
    );
    // --entrypoint replaces ENTRYPOINT and drops CMD.
    assert_eq!(
        ok_stdout(&wsh_args(&[
            "run",
            "--entrypoint",
            "echo",
            "docker-entrypoint-test"
        ])),
        "\n"
    );
    assert_eq!(
        ok_stdout(&wsh_args(&[
            "run",
            "--entrypoint",
            "echo",
            "docker-entrypoint-test",
            "x"
        ])),
        "x\n"
    );
    let env = dir.path().join("env");
    let out = wsh_cmd(wsh_home())
        .args(["run", "--env-file"])
        .arg(&env)
        .args([
            "-e",
            "B=overridden",
            "base",
            "sh",
            "-c",
            "echo $A/$B/$FROM_HOST",
        ])
        .env("FROM_HOST", "host-value")
        .output()
        .unwrap();
    assert_eq!(ok_stdout(&out), "1/overridden/host-value\n");
}

#[test]
fn build_target_quiet_and_labels() {
    let dir = context(&[(
        "Balenafile",
        "FROM base AS one\nRUN echo one > /stage\nFROM base AS two\nRUN echo two > /stage\n",
    )]);
    let out = build(
        dir.path(),
        &[
            "-q",
            "--target",
            "one",
            "--label",
            "a=b",
            "--progress=plain",
            "-t",
            "docker-target",
        ],
    );
    let id = ok_stdout(&out);
    assert_eq!(id.trim().len(), 64, "{id}");
    assert_eq!(text(&out.stderr), "", "-q prints nothing else");
    assert_eq!(
        ok_stdout(&wsh_args(&["run", "docker-target", "cat", "/stage"])),
        "one\n"
    );
    assert_eq!(
        ok_stdout(&wsh_args(&[
            "inspect",
            "--format",
            "{{index .Config.Labels \"a\"}}",
            "docker-target"
        ])),
        "b\n"
    );
    let out = build(dir.path(), &["--target", "nope"]);
    assert!(text(&out.stderr).contains("no stage named nope"));
}

#[test]
fn version_info_and_disk_use() {
    assert!(ok_stdout(&wsh_args(&["version"])).starts_with("wsh version "));
    let info = ok_stdout(&wsh_args(&["info"]));
    assert!(
        info.contains("Data Root: ") && info.contains("Images: "),
        "{info}"
    );
    let df = ok_stdout(&wsh_args(&["system", "df"]));
    let lines: Vec<&str> = df.lines().collect();
    assert!(
        lines[0].starts_with("TYPE") && lines[1].starts_with("Images"),
        "{df}"
    );
    assert!(lines[2].starts_with("Containers"), "{df}");
}

// ---- detached containers ----

/// Polls `f` until it holds (10 s at most).
fn ps_line(name: &str) -> Option<String> {
    text(&wsh_args(&["ps", "-a"]).stdout)
        .lines()
        .find(|l| l.ends_with(&format!(" {name}")))
        .map(str::to_string)
}

#[test]
fn detached_container_lifecycle() {
    let out = wsh_args(&[
        "run",
        "-d",
        "--name",
        "docker-life",
        "base",
        "sh",
        "-c",
        "echo started; echo to-stderr >&2; sleep 60",
    ]);
    let id = ok_stdout(&out).trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    eventually("logs show the output", || {
        text(&wsh_args(&["logs", "docker-life"]).stdout) == "started\nto-stderr\n"
    });
    let line = ps_line("docker-life").expect("listed");
    assert!(
        line.starts_with(&id[..12]) && line.contains("Up "),
        "{line}"
    );
    assert!(
        text(&wsh_args(&["ps", "-q"]).stdout)
            .lines()
            .any(|l| l == &id[..12])
    );
    // The name is taken.
    let again = wsh_args(&["run", "-d", "--name", "docker-life", "base", "true"]);
    assert_eq!(again.status.code(), Some(125));
    assert!(text(&again.stderr).contains("already in use"));
    // rm refuses a running container.
    let out = wsh_args(&["rm", "docker-life"]);
    assert_eq!(out.status.code(), Some(1));
    let start = Instant::now();
    assert_eq!(
        ok_stdout(&wsh_args(&["stop", "-t", "5", "docker-life"])),
        "docker-life\n"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "SIGTERM stopped it at once"
    );
    assert_eq!(ok_stdout(&wsh_args(&["wait", "docker-life"])), "143\n");
    let line = ps_line("docker-life").unwrap();
    assert!(line.contains("Exited (143)"), "{line}");
    assert!(!text(&wsh_args(&["ps", "-q"]).stdout).contains(&id[..12]));
    assert_eq!(
        ok_stdout(&wsh_args(&["rm", &id[..8]])),
        format!("{}\n", &id[..8])
    );
    assert!(ps_line("docker-life").is_none());
    assert!(wsh_args(&["logs", "docker-life"]).status.code() == Some(1));
}

#[test]
fn detached_command_exit_status_logs_follow_and_prune() {
    let id = ok_stdout(&wsh_args(&[
        "run",
        "-d",
        "base",
        "sh",
        "-c",
        "echo one; sleep 1; echo two; exit 3",
    ]));
    let id = id.trim();
    // -f returns when the container ends, with everything it wrote.
    let out = wsh_args(&["logs", "-f", &id[..12]]);
    assert_eq!(ok_stdout(&out), "one\ntwo\n");
    assert_eq!(ok_stdout(&wsh_args(&["wait", id])), "3\n");
    let pruned = ok_stdout(&wsh_args(&["container", "prune", "-f"]));
    assert!(pruned.contains(id), "{pruned}");
    assert!(wsh_args(&["wait", id]).status.code() == Some(1));
}

#[test]
fn a_supervisor_killed_with_sigkill_is_cleaned_up() {
    let id = ok_stdout(&wsh_args(&[
        "run",
        "-d",
        "--name",
        "docker-kill9",
        "base",
        "sleep",
        "60",
    ]));
    let id = id.trim().to_string();
    let state_path = wsh_home().join("data/run").join(&id).join("state.json");
    let pid = || -> u32 {
        let s: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
        s["pid"].as_u64().unwrap() as u32
    };
    eventually("the supervisor runs", || pid() != 0);
    let pid = pid();
    // The container's files are its own overlay (its record names the container),
    // kept after the supervisor is gone, until `rm`.
    let overlays = || -> Vec<String> {
        let recs = std::fs::read_dir(wsh_home().join("data/containers")).unwrap();
        recs.flatten()
            .filter(|e| {
                std::fs::read_to_string(e.path())
                    .is_ok_and(|t| t.contains(&format!("\"run\": \"{id}\"")))
            })
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(overlays().len(), 1);
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    eventually("the supervisor is gone", || {
        !Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z "))
    });
    let line = ps_line("docker-kill9").unwrap();
    assert!(
        line.contains("Exited (137)") && line.contains("supervisor killed"),
        "{line}"
    );
    assert_eq!(overlays().len(), 1, "the files stay until rm");
    assert_eq!(
        ok_stdout(&wsh_args(&["rm", "docker-kill9"])),
        "docker-kill9\n"
    );
    assert!(overlays().is_empty(), "rm removed the files");
    // rm -f of a running one kills it.
    ok_stdout(&wsh_args(&[
        "run",
        "-d",
        "--name",
        "docker-rmf",
        "base",
        "sleep",
        "60",
    ]));
    assert_eq!(
        ok_stdout(&wsh_args(&["rm", "-f", "docker-rmf"])),
        "docker-rmf\n"
    );
    assert!(ps_line("docker-rmf").is_none());
}
