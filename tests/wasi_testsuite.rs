//! The official WASI test suite (wasm32-wasip1 part, `../shared/wasi-testsuite`) run
//! through `wsh run`, each test judged by its `.json` spec (exit code, stdout) as the
//! suite's own runner judges a runtime. Every test must pass except those in
//! [`KNOWN_DEVIATIONS`], and every test there must still fail: a fix makes the
//! list shorter, never stale.
//!
//! How a spec maps onto wsh: the test modules of one suite, with the spec's `root`
//! fixture directory (the guest's `/`, as `wasmtime run --dir fs-tests.dir::/`),
//! are imported as one image; each test runs in a fresh `--rm` container of it,
//! so what a test writes lands in its own overlay (the copy) and is thrown away.
//! A `dirs` fixture (none in this copy of the suite) is copied to a temp dir and
//! mapped with `-v COPY:/NAME`; `env` becomes `-e K=V`, `args` follow the module.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{text, wsh_cmd, wsh_home};

/// Tests wsh fails on purpose or for a reason outside the broker, each with why.
/// Must be exactly the failing set (the adapter fails if one of them passes).
const KNOWN_DEVIATIONS: &[(&str, &str)] = &[
    // `wsh run` gives a program Docker's environment: the image's ENV and -e plus
    // PATH, HOME and HOSTNAME (as `docker run` does); the suite wants exactly the spec's.
    (
        "assemblyscript/environ_get-multiple-variables",
        "wsh run adds PATH, HOME and HOSTNAME, as docker run does",
    ),
    (
        "assemblyscript/environ_sizes_get-multiple-variables",
        "wsh run adds PATH, HOME and HOSTNAME, as docker run does",
    ),
    (
        "assemblyscript/environ_sizes_get-no-variables",
        "wsh run adds PATH, HOME and HOSTNAME, as docker run does",
    ),
    // Descriptor 3 is always the image root preopened as `/` in wsh, so
    // shutdown(3) is ENOTSOCK (not a socket), not EBADF (no such descriptor).
    (
        "c/sock_shutdown-invalid_fd",
        "fd 3 is always wsh's root preopen",
    ),
    // wsh keeps Linux semantics inside the image: `ln -s /abs/path` makes a symlink
    // that resolves from the image root, which the userland relies on; WASI
    // sandboxing refuses absolute symlink targets.
    (
        "rust/symlink_create",
        "absolute symlink targets are allowed (resolved inside the image)",
    ),
    // The sandbox of a guest is the image, not each directory descriptor: `..`
    // resolves as openat(2) does (and stays at `/` at the root), so that
    // `cat ../etc/passwd` works from `/` as in bash. WASI wants a path climbing
    // above its directory descriptor refused (EPERM / ENOTCAPABLE).
    (
        "rust/interesting_paths",
        "`..` may climb above a directory descriptor (Linux semantics in the image)",
    ),
];

/// One test: its module and what its spec expects.
struct Case {
    /// `suite/name`, as in [`KNOWN_DEVIATIONS`].
    id: String,
    /// The module's file name (it sits at the image root).
    module: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Fixture directories to map with `-v`, by name below the suite dir.
    dirs: Vec<String>,
    /// The fixture directory that is the guest's `/`, if any.
    root: Option<String>,
    exit_code: i32,
    stdout: Option<String>,
}

/// Where the suite is: beside the workspace, as CI clones it (`shared/` next to the repo).
fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/wasi-testsuite/tests")
}

/// The cases of one suite directory (`tests/{lang}/testsuite/wasm32-wasip1`).
fn cases(lang: &str, dir: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    let mut modules: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    modules.sort();
    for wasm in modules {
        let name = wasm.file_stem().unwrap().to_string_lossy().into_owned();
        let spec_path = wasm.with_extension("json");
        let spec: serde_json::Value = match std::fs::read(&spec_path) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_else(|e| panic!("{spec_path:?}: {e}")),
            Err(_) => serde_json::json!({}),
        };
        let strings = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default()
        };
        let env = spec["env"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        out.push(Case {
            id: format!("{lang}/{name}"),
            module: format!("{name}.wasm"),
            args: strings(&spec["args"]),
            env,
            dirs: strings(&spec["dirs"]),
            root: spec["root"].as_str().map(str::to_owned),
            exit_code: spec["exit_code"].as_i64().unwrap_or(0) as i32,
            stdout: spec["stdout"].as_str().map(str::to_owned),
        });
    }
    out
}

/// Copies the tree `from` into `to` (made writable: the fixtures are read-only).
fn copy_tree(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        let kind = e.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&e.path(), &dest);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
            let mode = std::fs::metadata(&dest).unwrap().permissions().mode() | 0o200;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
    let mode = std::fs::metadata(to).unwrap().permissions().mode() | 0o700;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Imports `dir`'s modules (runnable) plus the `root` fixture as image `name`.
fn make_image(dir: &Path, root: Option<&str>, name: &str, scratch: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let tree = scratch.join(name);
    match root {
        Some(r) => copy_tree(&dir.join(r), &tree),
        None => std::fs::create_dir_all(&tree).unwrap(),
    }
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "wasm") {
            let dest = tree.join(p.file_name().unwrap());
            std::fs::copy(&p, &dest).unwrap();
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let out = wsh_cmd(wsh_home())
        .args(["import", tree.to_str().unwrap(), name])
        .output()
        .unwrap();
    assert!(out.status.success(), "import {name}: {}", text(&out.stderr));
}

/// Runs one case in a fresh container of `image`: Err(why) when it fails its spec.
fn run_case(case: &Case, dir: &Path, image: &str, scratch: &Path) -> Result<(), String> {
    let mut cmd = wsh_cmd(wsh_home());
    cmd.args(["run", "--rm"]);
    for (k, v) in &case.env {
        cmd.arg("-e").arg(format!("{k}={v}"));
    }
    for d in &case.dirs {
        let copy = scratch.join(format!("{}-{d}", case.id.replace('/', "-")));
        copy_tree(&dir.join(d), &copy);
        cmd.arg("-v").arg(format!("{}:/{d}", copy.display()));
    }
    cmd.arg(image)
        .arg(format!("/{}", case.module))
        .args(&case.args);
    // Output goes to files, so a test that hangs can be stopped without a reader thread.
    let out_path = scratch.join("stdout");
    let err_path = scratch.join("stderr");
    cmd.stdout(Stdio::from(std::fs::File::create(&out_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err_path).unwrap()));
    let status = wait_at_most(cmd, Duration::from_secs(60))?;
    let stdout = std::fs::read(&out_path).unwrap();
    let stderr = text(&std::fs::read(&err_path).unwrap());
    let mut why = Vec::new();
    if status != Some(case.exit_code) {
        why.push(format!("exit {status:?}, want {}", case.exit_code));
    }
    if let Some(want) = &case.stdout
        && stdout != want.as_bytes()
    {
        why.push(format!("stdout {:?}, want {want:?}", text(&stdout)));
    }
    match why.is_empty() {
        true => Ok(()),
        false => Err(format!("{}; stderr: {}", why.join("; "), stderr.trim())),
    }
}

/// Runs `cmd`, killing it after `limit`; its exit code (None if killed by a signal).
fn wait_at_most(mut cmd: Command, limit: Duration) -> Result<Option<i32>, String> {
    let mut child = cmd.stdin(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return Ok(st.code());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn wasi_testsuite_matches_its_specs_but_for_known_deviations() {
    let root = suite_dir();
    if !root.is_dir() {
        eprintln!("skipped: the WASI test suite is not at {}", root.display());
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let mut failed: BTreeMap<String, String> = BTreeMap::new();
    let mut total = 0;
    for lang in ["assemblyscript", "c", "rust"] {
        let dir = root.join(lang).join("testsuite/wasm32-wasip1");
        if !dir.is_dir() {
            continue;
        }
        let cases = cases(lang, &dir);
        // One image per fixture root the suite's specs name.
        let roots: BTreeSet<Option<String>> = cases.iter().map(|c| c.root.clone()).collect();
        let mut images = BTreeMap::new();
        for r in roots {
            let image =
                format!("wasi-suite-{lang}-{}", r.as_deref().unwrap_or("none")).replace('.', "-");
            make_image(&dir, r.as_deref(), &image, scratch.path());
            images.insert(r, image);
        }
        for case in &cases {
            total += 1;
            if let Err(why) = run_case(case, &dir, &images[&case.root], scratch.path()) {
                failed.insert(case.id.clone(), why);
            }
        }
    }
    let known: BTreeSet<&str> = KNOWN_DEVIATIONS.iter().map(|(id, _)| *id).collect();
    let unexpected: Vec<String> = failed
        .iter()
        .filter(|(id, _)| !known.contains(id.as_str()))
        .map(|(id, why)| format!("  {id}: {why}"))
        .collect();
    let now_passing: Vec<&str> = known
        .iter()
        .filter(|id| !failed.contains_key(**id))
        .copied()
        .collect();
    eprintln!(
        "wasi-testsuite: {} passed, {} failed ({} known deviations) of {total}",
        total - failed.len(),
        failed.len(),
        KNOWN_DEVIATIONS.len()
    );
    assert!(total > 0, "no tests found below {}", root.display());
    assert!(
        unexpected.is_empty(),
        "tests failing outside the known deviations:\n{}",
        unexpected.join("\n")
    );
    assert!(
        now_passing.is_empty(),
        "known deviations that now pass (take them off the list): {now_passing:?}"
    );
}
