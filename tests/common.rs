//! Helpers shared by the end-to-end tests: run wsh and the host references.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// One WSH_HOME for the whole test binary, so the base image and the module cache
/// are built once (the first test to need them builds them; wsh writes them atomically).
pub fn wsh_home() -> &'static Path {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wsh-home");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// A `wsh` command with the test store and a clean environment.
pub fn wsh_cmd(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wsh"));
    c.env_clear()
        .env("WSH_HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null());
    c
}

/// Runs `wsh -c CMD`.
pub fn wsh(cmd: &str) -> Output {
    wsh_cmd(wsh_home())
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("wsh runs")
}

/// Runs `bash -c CMD` on the host in `dir`, with GNU coreutils and a C locale.
pub fn bash_in(dir: &Path, cmd: &str) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("bash runs")
}

/// Text of a byte vector, for messages.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs a host tool (e2fsck, debugfs...) and returns its output.
pub fn host(tool: &str, args: &[&str]) -> Output {
    let path = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{tool} is not installed"));
    Command::new(path).args(args).output().unwrap()
}

/// Runs `case` through `wsh -c` in the image's scratch dir /tmp/t and through bash in a
/// fresh host temp dir: (wsh's output, bash's output).
pub fn scratch_run(case: &str) -> (Output, Output) {
    let scratch = tempfile::tempdir().unwrap();
    let ours = wsh(&format!("mkdir -p /tmp/t && cd /tmp/t\n{case}"));
    let theirs = bash_in(scratch.path(), case);
    (ours, theirs)
}

/// The cases whose stdout or exit status under wsh differ from bash's, each described
/// with both outputs (empty when all agree).
pub fn differences_from_bash(cases: &[&str]) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let (ours, theirs) = scratch_run(case);
        if ours.stdout != theirs.stdout || ours.status.code() != theirs.status.code() {
            failures.push(format!(
                "case: {case}\n  wsh  ({:?}): {:?}\n       stderr: {:?}\n  bash ({:?}): {:?}",
                ours.status.code(),
                text(&ours.stdout),
                text(&ours.stderr),
                theirs.status.code(),
                text(&theirs.stdout)
            ));
        }
    }
    failures
}

/// Asserts that every case of `cases` agrees with bash (stdout and exit status).
pub fn assert_all_match_bash(cases: &[&str]) {
    let failures = differences_from_bash(cases);
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from bash:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Makes `img`, a raw ext4 image of `size` (mkfs.ext4's syntax: 64M) holding `src`'s tree.
pub fn mkfs_from_dir(src: &Path, img: &Path, size: &str) -> Output {
    host(
        "mkfs.ext4",
        &[
            "-q",
            "-F",
            "-d",
            src.to_str().unwrap(),
            img.to_str().unwrap(),
            size,
        ],
    )
}

/// The checks both uid-1000 permission tests make (on an image and on a volume), one
/// status line each; each test appends checks of its own.
pub const PERMISSION_PROBES: &str = r#"
s() { echo "$1 $?"; }
mkdir "$T/mine"; s mkdir
echo x > "$T/rootdir/f" 2>/dev/null; s write-rootdir
cat "$T/rootdir/readable" > /dev/null; s read-readable
cat "$T/rootdir/secret" 2>/dev/null; s read-secret
echo y >> "$T/rootdir/readable" 2>/dev/null; s append-readable
echo y >> "$T/sticky/rootf"; s append-world-writable
rm -f "$T/sticky/rootf" 2>/dev/null; s rm-sticky-other
touch "$T/sticky/own" && rm "$T/sticky/own"; s rm-sticky-own
mv "$T/sticky/rootf" "$T/sticky/moved" 2>/dev/null; s mv-sticky-other
cat "$T/closed/f" 2>/dev/null; s traverse-closed
cat "$T/searchonly/f" > /dev/null; s read-through-searchonly
chmod 600 "$T/rootdir/readable" 2>/dev/null; s chmod-other
chmod 600 "$T/mine"; s chmod-own
rmdir "$T/rootdir/sub" 2>/dev/null; s rmdir-in-rootdir
"#;

/// The tree the uid-1000 permission tests start from, made by root below `$T`: a
/// 0755 root directory with a readable and a secret file, a sticky world-writable
/// one, a closed one (0700) and a search-only one (0711).
pub const PERMISSION_SETUP: &str = r#"
mkdir -p "$T/rootdir/sub" "$T/sticky" "$T/closed" "$T/searchonly"
chmod 755 "$T/rootdir" && echo r > "$T/rootdir/readable" && chmod 644 "$T/rootdir/readable"
echo s > "$T/rootdir/secret" && chmod 600 "$T/rootdir/secret"
chmod 1777 "$T/sticky" && echo w > "$T/sticky/rootf" && chmod 666 "$T/sticky/rootf"
echo c > "$T/closed/f" && chmod 700 "$T/closed"
echo o > "$T/searchonly/f" && chmod 711 "$T/searchonly"
chmod 1777 "$T"
"#;

/// A fresh `tmp/t` holding [`PERMISSION_SETUP`]'s tree (`tmp` is opened to others,
/// as tempfile makes it 0700, so that uid 1000 can reach it).
pub fn permission_tree(tmp: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    let t = tmp.join("t");
    std::fs::create_dir(&t).unwrap();
    let ok = Command::new("bash")
        .args(["-c", PERMISSION_SETUP])
        .env("T", &t)
        .status()
        .unwrap();
    assert!(ok.success(), "the permission tree could not be made");
    t
}

/// Stdout of `script` run by bash as uid 1000 (no groups) on the host, with `$T` = `t`:
/// the kernel's answers that wsh must match. `None`, with the reason printed, when
/// the host cannot run it (not root, no setpriv, or `t` out of uid 1000's reach:
/// the script must then print `mkdir 0` first, as the tests' scripts do).
pub fn as_uid_1000_on_host(t: &Path, script: &str) -> Option<String> {
    let root = text(&host("id", &["-u"]).stdout).trim() == "0";
    if !Path::new("/usr/bin/setpriv").exists() || !root {
        eprintln!("skipped: needs root and setpriv on the host");
        return None;
    }
    let out = Command::new("setpriv")
        .args([
            "--reuid=1000",
            "--regid=1000",
            "--clear-groups",
            "bash",
            "-c",
            script,
        ])
        .env("T", t)
        .env("PATH", "/usr/bin:/bin")
        .current_dir("/")
        .output()
        .unwrap();
    let answers = text(&out.stdout);
    if !answers.contains("mkdir 0") {
        eprintln!("skipped: uid 1000 cannot reach {}: {answers}", t.display());
        return None;
    }
    Some(answers)
}

/// Why FUSE cannot be used here, if it cannot.
pub fn fuse_unusable() -> Option<String> {
    if let Err(e) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
    {
        return Some(format!("/dev/fuse: {e}"));
    }
    if !Path::new("/usr/bin/fusermount3").exists() && !Path::new("/bin/fusermount3").exists() {
        return Some("fusermount3 is not installed".into());
    }
    None
}

/// Whether `dir` is a mount point right now (from /proc/self/mountinfo).
pub fn is_mounted(dir: &Path) -> bool {
    let dir = std::fs::canonicalize(dir).unwrap();
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines()
        .any(|l| l.split(' ').nth(4) == Some(dir.to_str().unwrap()))
}

/// Runs `wsh ARGS...` with the shared test store.
pub fn wsh_args(args: &[&str]) -> Output {
    wsh_cmd(wsh_home()).args(args).output().expect("wsh runs")
}

/// The stdout of `out`, which must have succeeded (else the test fails with its output).
pub fn ok_stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Polls `f` every 100 ms until it holds; panics with `what` after 20 s.
pub fn eventually(what: &str, f: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "never: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Polls `cond` until true; panics with `what` after 60 s.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "timed out: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Runs `cmd`, failing the test with its output when it cannot start or fails.
pub fn run_ok(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({:?}): {}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}
