//! Hardening of the runtime, end to end through the wsh binary: a fork bomb meets
//! the container's `pids` limit instead of aborting wsh, and a module that fails
//! to compile is remembered as failing instead of being compiled on every run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// Runs `wsh -c CMD` with stdout and stderr going to files (a fork bomb's stream of
/// errors must not fill a pipe nobody reads); kills it after `limit`. Returns its
/// exit code (`None` when killed by a signal), stdout and stderr, or `Err` with the
/// stderr so far if it ran too long.
fn wsh_bounded(cmd: &str, limit: Duration) -> Result<(Option<i32>, String, String), String> {
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = wsh_cmd(wsh_home())
        .arg("-c")
        .arg(cmd)
        .stdout(Stdio::from(std::fs::File::create(&out_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err_path).unwrap()))
        .spawn()
        .expect("wsh runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    let (out, err) = (read(&out_path), read(&err_path));
    match status {
        Some(s) => Ok((s.code(), out, err)),
        None => Err(format!(
            "still running after {limit:?}; stderr starts: {}",
            err.chars().take(2000).collect::<String>()
        )),
    }
}

#[test]
fn a_fork_bomb_meets_the_pids_limit_and_wsh_survives() {
    let (code, _, err) = wsh_bounded("f(){ f|f& }; f; sleep 20", Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("the fork bomb did not end: {e}"));
    let head: String = err.chars().take(2000).collect();
    // Any status, as long as wsh itself ended it: not an abort (134) nor a signal.
    assert!(code.is_some(), "wsh was killed by a signal; stderr: {head}");
    assert_ne!(code, Some(134), "wsh aborted; stderr: {head}");
    assert!(!err.contains("panicked"), "wsh panicked; stderr: {head}");
    assert!(!err.contains("failed to spawn thread"), "{head}");
    // The bomb was stopped by the limit, in bash's words.
    assert!(
        err.contains("wsh: fork: Resource temporarily unavailable"),
        "{head}"
    );
}

/// The cache files of modules that failed to compile.
fn failure_marks(home: &Path) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(home.join("cache").join("modules")) else {
        return Vec::new();
    };
    dir.map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "failed"))
        .collect()
}

#[test]
fn a_module_that_fails_to_compile_is_not_compiled_again() {
    let home = wsh_home();
    // Bytes no earlier run has seen (the cache outlives test runs): a module's magic
    // and version, then a type section longer than the file.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let script = format!(
        "printf '\\000asm\\001\\000\\000\\000\\001\\177not a module {nonce}' > /bin/bad \
         && chmod +x /bin/bad && /bin/bad"
    );
    let run = || {
        let out = wsh_cmd(home)
            .arg("-c")
            .arg(&script)
            .output()
            .expect("wsh runs");
        (out.status.code(), text(&out.stderr))
    };
    let before = failure_marks(home);
    let (code, err) = run();
    assert_eq!(code, Some(126), "{err}");
    assert!(err.starts_with("wsh: /bin/bad: invalid module: "), "{err}");
    let new: Vec<PathBuf> = failure_marks(home)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    // The second run fails the same way, at once.
    assert_eq!(run(), (Some(126), err.clone()));
    // ... and from the cache: a verdict written there is what it reports.
    std::fs::write(&new[0], "the verdict in the cache").unwrap();
    let (code, again) = run();
    assert_eq!(code, Some(126), "{again}");
    assert_eq!(
        again.trim_end(),
        "wsh: /bin/bad: invalid module: the verdict in the cache"
    );
}
