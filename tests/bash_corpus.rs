//! The bash corpus: every `tests/scripts/NNN-name.sh` runs through `wsh SCRIPT` and
//! through the host's `bash SCRIPT`; stdout and exit status must be equal. The test
//! fails listing every case that differs (with both outputs), not just the first.

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{text, wsh_cmd, wsh_home};

/// How long one script may run before it counts as hung.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Stdout and exit status of one run (status -1: killed by the timeout or a signal).
#[derive(PartialEq, Eq)]
struct Outcome {
    stdout: Vec<u8>,
    status: i32,
}

/// Runs `cmd` with stdout/stderr captured in files (so no pipe can fill up), with a timeout.
fn run(mut cmd: Command, scratch: &Path) -> Outcome {
    let out_path = scratch.join("stdout");
    let err_path = scratch.join("stderr");
    cmd.stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .stdin(Stdio::null())
        // A group of its own, so that what a script leaves running is stopped with it.
        .process_group(0);
    let mut child = cmd.spawn().expect("spawns");
    let kill_group = |pid: u32| {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
    };
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            kill_group(child.id());
            break s.code().unwrap_or(-1);
        }
        if start.elapsed() > TIMEOUT {
            kill_group(child.id());
            let _ = child.wait();
            break -1;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Outcome {
        stdout: std::fs::read(&out_path).unwrap(),
        status,
    }
}

/// Runs one script through both shells; `Some(report)` when they differ.
fn compare(script: &Path) -> Option<String> {
    let name = script.file_name().unwrap().to_string_lossy().into_owned();
    let scratch = tempfile::tempdir().unwrap();
    let bash_dir = scratch.path().join("cwd");
    std::fs::create_dir(&bash_dir).unwrap();

    let mut bash = Command::new("bash");
    bash.arg(script)
        .current_dir(&bash_dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C");
    let want = run(bash, scratch.path());

    let mut wsh = wsh_cmd(wsh_home());
    wsh.arg(script).current_dir(&bash_dir);
    let got = run(wsh, scratch.path());

    (got != want).then(|| {
        format!(
            "--- {name}: wsh status {} / bash status {}\nwsh stdout:\n{}\nbash stdout:\n{}",
            got.status,
            want.status,
            text(&got.stdout),
            text(&want.stdout)
        )
    })
}

#[test]
fn corpus_matches_bash() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scripts");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/scripts exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    scripts.sort();
    assert!(
        scripts.len() >= 100,
        "the corpus has only {} scripts",
        scripts.len()
    );

    // Build the base image and compile the userland module once before running in
    // parallel (an external program, since `true` is a builtin and would not compile it).
    let warm = wsh_cmd(wsh_home())
        .arg("-c")
        .arg("/bin/true")
        .output()
        .unwrap();
    assert!(warm.status.success(), "wsh -c true: {}", text(&warm.stderr));

    let queue = Mutex::new(scripts.iter());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let Some(script) = queue.lock().unwrap().next() else {
                        break;
                    };
                    if let Some(report) = compare(script) {
                        failures.lock().unwrap().push(report);
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} scripts differ from bash:\n{}",
        failures.len(),
        scripts.len(),
        failures.join("\n")
    );
}
