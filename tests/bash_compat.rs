//! The brush shell project's bash-compatibility cases (`../shared/bash-compat/cases`,
//! YAML files of `cases:` with a script on stdin, arguments, environment and files to
//! create) run under the host's real bash and under wsh, compared on stdout and exit
//! status (stderr wording may differ). bash is the oracle: a case counts only if bash
//! gives the same answer twice. The test fails if wsh panics or hangs on any case, or
//! if fewer cases pass than [`PASS_FLOOR`] (raise it as wsh improves, so a regression
//! fails); it prints the failing cases grouped by file.
//!
//! How a case runs: its files are written to a fresh directory that is the cwd (and
//! `HOME`); bash runs there as `bash --norc --noprofile ARGS` with the script on stdin;
//! wsh runs `bash --norc --noprofile ARGS` in a throwaway container of the base image,
//! with that directory mapped at the same path (`wsh run -i -v DIR:DIR -w DIR`), so
//! paths a script prints are the same under both. Left out, and counted: `pty` cases
//! (they need a terminal), `skip:` cases, cases needing another bash version than the
//! host's, and cases whose helper files are not in this copy of the suite.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{text, wsh_cmd, wsh_home};
use serde_json::Value;

/// The number of comparable cases wsh must pass at least (measured; raise it with fixes).
const PASS_FLOOR: usize = 2140;

/// How long one run of one case may take before it counts as hung.
const TIMEOUT: Duration = Duration::from_secs(20);

/// One file a case starts with.
struct TestFile {
    path: String,
    contents: String,
    executable: bool,
}

/// One case of the suite.
struct Case {
    /// The YAML file, relative to the cases directory.
    file: String,
    name: String,
    stdin: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    files: Vec<TestFile>,
    ignore_stdout: bool,
    ignore_whitespace: bool,
}

/// Why a case is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Skip {
    Pty,
    Skipped,
    OracleVersion,
    MissingHelper,
}

/// Stdout, stderr and exit status of one run (status `None`: hung and killed).
struct Outcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: Option<i32>,
}

/// What one case gave.
enum Verdict {
    Pass,
    Fail(String),
    /// bash disagreed with itself.
    Unstable,
    /// wsh panicked (status 101 or "panicked" on stderr).
    Panic(String),
    /// wsh did not finish within [`TIMEOUT`].
    Hang,
}

/// Where the suite is: beside the workspace, as CI lays out `shared/` next to the repo.
fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bash-compat/cases")
}

/// The host bash's version as (major, minor, patch).
fn bash_version() -> (u32, u32, u32) {
    let out = Command::new("bash")
        .args([
            "-c",
            "echo ${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}.${BASH_VERSINFO[2]}",
        ])
        .output()
        .expect("bash runs");
    parse_version(text(&out.stdout).trim()).expect("bash prints its version")
}

/// `5`, `5.2`, `5.3.0` as a triple.
fn parse_version(s: &str) -> Option<(u32, u32, u32)> {
    let mut parts = s.split('.').map(|p| p.trim().parse::<u32>());
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    Some((major, minor, patch))
}

/// A YAML scalar as text (versions are written both as `5.2` and `"5.2"`).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The files of a `test_files`/`common_test_files` list; `None` if one refers to a
/// helper file (`source_path`) this copy of the suite lacks.
fn test_files(v: Option<&Value>, yaml_dir: &Path) -> Option<Vec<TestFile>> {
    let mut files = Vec::new();
    for f in v.and_then(Value::as_array).into_iter().flatten() {
        let path = f.get("path").and_then(scalar)?;
        let contents = match (f.get("contents").and_then(scalar), f.get("source_path")) {
            (Some(c), _) => c,
            (None, Some(src)) => std::fs::read_to_string(yaml_dir.join(scalar(src)?)).ok()?,
            (None, None) => String::new(),
        };
        files.push(TestFile {
            path,
            contents,
            executable: flag(f, "executable"),
        });
    }
    Some(files)
}

/// A YAML file as JSON, through the host's PyYAML (the workspace has no YAML crate,
/// and adding one would change the features the runtime's dependencies build with).
fn load_yaml(path: &Path) -> Value {
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
        ])
        .arg(path)
        .output()
        .expect("python3 runs (with PyYAML: Debian's python3-yaml)");
    assert!(
        out.status.success(),
        "{}: {}",
        path.display(),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every case of every YAML file below `dir`, or why it is left out.
fn load_cases(dir: &Path, host: (u32, u32, u32)) -> Vec<Result<Case, Skip>> {
    let mut yamls = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                yamls.push(p);
            }
        }
    }
    yamls.sort();
    let mut cases = Vec::new();
    for yaml in yamls {
        let rel = yaml.strip_prefix(dir).unwrap().display().to_string();
        let doc = load_yaml(&yaml);
        let yaml_dir = yaml.parent().unwrap();
        let common = test_files(doc.get("common_test_files"), yaml_dir);
        for c in doc
            .get("cases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let version = |key: &str| c.get(key).and_then(scalar).and_then(|s| parse_version(&s));
            let own = test_files(c.get("test_files"), yaml_dir);
            let skip = if flag(c, "pty") {
                Some(Skip::Pty)
            } else if flag(c, "skip") {
                Some(Skip::Skipped)
            } else if version("min_oracle_version").is_some_and(|v| v > host)
                || version("max_oracle_version").is_some_and(|v| v < host)
            {
                Some(Skip::OracleVersion)
            } else if common.is_none() || own.is_none() {
                Some(Skip::MissingHelper)
            } else {
                None
            };
            if let Some(s) = skip {
                cases.push(Err(s));
                continue;
            }
            let mut files = own.unwrap();
            for f in common.as_deref().unwrap_or_default() {
                files.push(TestFile {
                    path: f.path.clone(),
                    contents: f.contents.clone(),
                    executable: f.executable,
                });
            }
            let strings = |key: &str| -> Vec<String> {
                c.get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(scalar)
                    .collect()
            };
            let env = c
                .get("env")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), scalar(v)?)))
                .collect();
            cases.push(Ok(Case {
                file: rel.clone(),
                name: c.get("name").and_then(scalar).unwrap_or_default(),
                stdin: c.get("stdin").and_then(scalar).unwrap_or_default(),
                args: strings("args"),
                env,
                files,
                ignore_stdout: flag(c, "ignore_stdout"),
                ignore_whitespace: flag(c, "ignore_whitespace"),
            }));
        }
    }
    cases
}

/// Empties `work` and writes the case's files into it.
fn prepare(case: &Case, work: &Path) {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work).unwrap();
    for f in &case.files {
        let p = work.join(&f.path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, &f.contents).unwrap();
        if f.executable {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
}

/// Runs `cmd` with the script on stdin and output captured in files below `io`, killing
/// its process group at the end or after [`TIMEOUT`].
fn run(mut cmd: Command, script: &str, io: &Path) -> Outcome {
    let (inp, out, err) = (io.join("stdin"), io.join("stdout"), io.join("stderr"));
    std::fs::write(&inp, script).unwrap();
    cmd.stdin(std::fs::File::open(&inp).unwrap())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        // A group of its own, so that what a case leaves running is stopped with it.
        .process_group(0);
    let mut child = cmd.spawn().expect("spawns");
    let kill_group = |pid: u32| {
        // SAFETY: kill(2) on a process group this test created; no memory is involved.
        unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
    };
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            kill_group(child.id());
            break Some(s.code().unwrap_or(-1));
        }
        if start.elapsed() > TIMEOUT {
            kill_group(child.id());
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Outcome {
        stdout: std::fs::read(&out).unwrap(),
        stderr: std::fs::read(&err).unwrap(),
        status,
    }
}

/// The environment both shells get: a fixed PATH, the case's directory as HOME, and
/// the case's own variables.
fn case_env(case: &Case, work: &Path) -> Vec<(String, String)> {
    let mut env = vec![
        ("PATH".to_string(), "/usr/bin:/bin".to_string()),
        ("HOME".to_string(), work.display().to_string()),
    ];
    env.extend(case.env.iter().cloned());
    env
}

fn run_bash(case: &Case, work: &Path, io: &Path) -> Outcome {
    prepare(case, work);
    let mut cmd = Command::new("bash");
    cmd.args(["--norc", "--noprofile"])
        .args(&case.args)
        .current_dir(work)
        .env_clear()
        .env("LC_ALL", "C")
        .envs(case_env(case, work));
    run(cmd, &case.stdin, io)
}

fn run_wsh(case: &Case, work: &Path, io: &Path) -> Outcome {
    prepare(case, work);
    let dir = work.display().to_string();
    let mut cmd = wsh_cmd(wsh_home());
    cmd.args(["run", "-i", "-v", &format!("{dir}:{dir}"), "-w", &dir]);
    for (k, v) in case_env(case, work) {
        cmd.arg("-e").arg(format!("{k}={v}"));
    }
    cmd.args(["base", "bash", "--norc", "--noprofile"])
        .args(&case.args)
        .current_dir(work);
    run(cmd, &case.stdin, io)
}

/// What is compared of an outcome: stdout (whitespace-normalised if the case says so,
/// absent if it is ignored) and the status.
fn judged(case: &Case, o: &Outcome) -> (Option<String>, Option<i32>) {
    let out = text(&o.stdout);
    let out = if case.ignore_stdout {
        None
    } else if case.ignore_whitespace {
        Some(out.split_whitespace().collect::<Vec<_>>().join(" "))
    } else {
        Some(out)
    };
    (out, o.status)
}

fn judge(case: &Case, work: &Path, io: &Path) -> Verdict {
    let want = run_bash(case, work, io);
    let again = run_bash(case, work, io);
    let want_j = judged(case, &want);
    if want.status.is_none() || want_j != judged(case, &again) {
        return Verdict::Unstable;
    }
    let got = run_wsh(case, work, io);
    let stderr = text(&got.stderr);
    if got.status == Some(101) || stderr.contains("panicked") {
        return Verdict::Panic(stderr);
    }
    if got.status.is_none() {
        return Verdict::Hang;
    }
    if judged(case, &got) == want_j {
        Verdict::Pass
    } else {
        Verdict::Fail(format!(
            "    wsh  status {:?} stdout {:?}\n         stderr {:?}\n    bash status {:?} stdout {:?}",
            got.status,
            text(&got.stdout),
            stderr,
            want.status,
            text(&want.stdout)
        ))
    }
}

#[test]
fn brush_compat_cases_against_bash() {
    let dir = cases_dir();
    if !dir.is_dir() {
        // CI lays shared/ beside the repository; without it there is nothing to judge.
        eprintln!("{} is missing: no bash-compat cases to run", dir.display());
        return;
    }
    let all = load_cases(&dir, bash_version());
    let mut skipped: BTreeMap<Skip, usize> = BTreeMap::new();
    let cases: Vec<Case> = all
        .into_iter()
        .filter_map(|c| c.map_err(|s| *skipped.entry(s).or_default() += 1).ok())
        .collect();
    assert!(cases.len() > 1000, "only {} cases loaded", cases.len());

    // Build the base image and compile the userland module once before the threads start.
    let warm = wsh_cmd(wsh_home())
        .args(["run", "base", "/bin/true"])
        .output()
        .unwrap();
    assert!(
        warm.status.success(),
        "wsh run base true: {}",
        text(&warm.stderr)
    );

    let only = std::env::var("BASH_COMPAT_FILTER").ok();
    let queue = Mutex::new(cases.iter().filter(|c| {
        only.as_ref()
            .is_none_or(|f| c.file.contains(f.as_str()) || c.name.contains(f.as_str()))
    }));
    let verdicts = Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                // One directory per thread, the same for every run of a case, so that
                // paths a script prints agree between the runs.
                let base = tempfile::Builder::new()
                    .prefix("wsh-bash-compat-")
                    .tempdir_in("/tmp")
                    .unwrap();
                let work = base.path().join("cwd");
                let io = base.path().join("io");
                std::fs::create_dir(&io).unwrap();
                loop {
                    let Some(case) = queue.lock().unwrap().next() else {
                        break;
                    };
                    let v = judge(case, &work, &io);
                    verdicts.lock().unwrap().push((case, v));
                }
            });
        }
    });
    let verdicts = verdicts.into_inner().unwrap();

    let (mut pass, mut unstable) = (0, 0);
    let mut failing: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut broken = Vec::new();
    for (case, v) in &verdicts {
        match v {
            Verdict::Pass => pass += 1,
            Verdict::Unstable => unstable += 1,
            Verdict::Fail(why) => {
                let detail = if std::env::var_os("BASH_COMPAT_VERBOSE").is_some() {
                    format!("\n{why}")
                } else {
                    String::new()
                };
                failing
                    .entry(&case.file)
                    .or_default()
                    .push(format!("{}{detail}", case.name));
            }
            Verdict::Panic(e) => broken.push(format!("PANIC {}: {}: {e}", case.file, case.name)),
            Verdict::Hang => broken.push(format!("HANG {}: {}", case.file, case.name)),
        }
    }
    let comparable = verdicts.len() - unstable;
    let fails: usize = failing.values().map(Vec::len).sum();
    for (file, names) in &failing {
        println!("{file}: {} failing", names.len());
        for n in names {
            println!("  {n}");
        }
    }
    println!(
        "bash-compat: {pass} of {comparable} comparable cases pass ({fails} fail, {} panic or hang); \
         {unstable} unstable under bash; left out: {skipped:?}; {:.0?}",
        broken.len(),
        start.elapsed()
    );
    assert!(
        broken.is_empty(),
        "wsh panicked or hung:\n{}",
        broken.join("\n")
    );
    if only.is_none() {
        assert!(
            pass >= PASS_FLOOR,
            "{pass} cases pass, fewer than the floor of {PASS_FLOOR}"
        );
    }
}
