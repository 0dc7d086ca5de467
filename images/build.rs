//! Building the image store builds the base image's userland: the `coreutils`
//! multi-call program in `<workspace>/coreutils` (its own cargo workspace), compiled
//! for `wasm32-wasip1` into `<workspace>/target/wasm`.
//!
//! Emits, for the `images` crate (`base.rs`):
//! - `WSH_COREUTILS_WASM`: absolute path of the built `coreutils.wasm` (a copy
//!   in OUT_DIR, so it outlives a removed `target/wasm`);
//! - `WSH_APPLETS`: the applet names, comma-separated, from
//!   `coreutils/applets.txt` (the single list of applets);
//! - `WSH_COREUTILS_SHA256`: the module's hash (it names the base image).

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

const WASM_TARGET: &str = "wasm32-wasip1";

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .expect("the images crate lives one level below the workspace root")
        .to_path_buf();
    let coreutils = workspace.join("coreutils");
    let target_dir = workspace.join("target").join("wasm");

    for p in [
        "src",
        "build.rs",
        "Cargo.toml",
        "Cargo.lock",
        "applets.txt",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", coreutils.join(p).display());
    }
    // A path dependency of the userland.
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("pattern/src").display()
    );

    let applets = read_applets(&coreutils.join("applets.txt"));

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    ensure_wasm_target(&rustc);

    let mut cmd = Command::new(&cargo);
    cmd.arg("build")
        .arg("--release")
        .arg("--locked")
        .arg("--target")
        .arg(WASM_TARGET)
        .arg("--manifest-path")
        .arg(coreutils.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(&coreutils);
    scrub_env(&mut cmd);
    // Our stdout is read by cargo for `cargo:` lines: send the inner build's
    // stdout to stderr, which cargo shows when this script fails (or with -vv).
    cmd.stdout(stderr_as_stdio()).stderr(Stdio::inherit());

    eprintln!("images build.rs: running {cmd:?}");
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("could not run {cargo:?} to build the userland: {e}"));
    if !status.success() {
        panic!(
            "building the userland (coreutils for {WASM_TARGET}) failed with {status}; \
             its output is above. Command: {cmd:?}"
        );
    }

    let built = target_dir
        .join(WASM_TARGET)
        .join("release")
        .join("coreutils.wasm");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let wasm = out_dir.join("coreutils.wasm");
    fs::copy(&built, &wasm)
        .unwrap_or_else(|e| panic!("copying {} to {}: {e}", built.display(), wasm.display()));
    let wasm = wasm.canonicalize().unwrap_or(wasm);

    println!("cargo:rustc-env=WSH_COREUTILS_WASM={}", wasm.display());
    println!("cargo:rustc-env=WSH_APPLETS={}", applets.join(","));
    // Names the base image, so a wsh with a new userland builds a new one.
    let bytes = fs::read(&wasm).unwrap_or_else(|e| panic!("reading {}: {e}", wasm.display()));
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!("cargo:rustc-env=WSH_COREUTILS_SHA256={digest}");
}

/// The applet names of applets.txt: the first word of each line that is
/// neither blank nor a `#` comment.
fn read_applets(path: &Path) -> Vec<String> {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    names.sort();
    assert!(!names.is_empty(), "{} lists no applet", path.display());
    assert!(
        names.iter().all(|n| !n.contains(',')),
        "an applet name in {} contains a comma",
        path.display()
    );
    names
}

/// A fresh machine may have the toolchain without the wasm target: add it.
fn ensure_wasm_target(rustc: &OsString) {
    let out = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .unwrap_or_else(|e| panic!("could not run {rustc:?} --print sysroot: {e}"));
    assert!(
        out.status.success(),
        "{rustc:?} --print sysroot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir() {
        return;
    }

    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", WASM_TARGET]);
    // Name the toolchain this rustc belongs to (`.../toolchains/<name>`), so
    // the target lands where this build looks for it.
    if sysroot
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == "toolchains")
        && let Some(name) = sysroot.file_name()
    {
        cmd.arg("--toolchain").arg(name);
    }
    cmd.stdout(stderr_as_stdio()).stderr(Stdio::inherit());
    eprintln!(
        "images build.rs: {WASM_TARGET} is missing from {}: running {cmd:?}",
        sysroot.display()
    );
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`rustup target add {WASM_TARGET}` failed ({s}); install the target by hand \
             (the toolchain at {} lacks it)",
            sysroot.display()
        ),
        Err(e) => panic!(
            "the {WASM_TARGET} target is not installed (no {}) and rustup could not be run ({e}): \
             install the target for this toolchain",
            sysroot.join("lib/rustlib").join(WASM_TARGET).display()
        ),
    }
}

/// Drop what the outer build sets for itself, which would otherwise change
/// (or break) the inner one: its target dir, flags meant for host code,
/// profile overrides, the jobserver, clippy's wrapper, and the variables cargo
/// sets for this build script. `RUSTC` stays: it is the same toolchain.
fn scrub_env(cmd: &mut Command) {
    const EXACT: &[&str] = &[
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_RUSTDOCFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_ENCODED_RUSTDOCFLAGS",
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
        "TARGET",
        "HOST",
        "NUM_JOBS",
        "OPT_LEVEL",
        "DEBUG",
        "PROFILE",
        "RUSTC_LINKER",
        // uucore embeds the translations of $LANG besides en-US: keep the
        // module the same whoever builds it.
        "LANG",
        "UUCORE_TARGET_UTIL",
    ];
    const PREFIXES: &[&str] = &[
        "CARGO_PROFILE_",
        "CARGO_CFG_",
        "CARGO_FEATURE_",
        "CARGO_PKG_",
        "CARGO_TARGET_WASM32_",
        "__CARGO",
    ];
    for (key, _) in env::vars_os() {
        let Some(k) = key.to_str() else { continue };
        if EXACT.contains(&k) || PREFIXES.iter().any(|p| k.starts_with(p)) {
            cmd.env_remove(&key);
        }
    }
}

#[cfg(unix)]
fn stderr_as_stdio() -> Stdio {
    use std::os::fd::AsFd;
    std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_or_else(|_| Stdio::inherit(), Stdio::from)
}

#[cfg(not(unix))]
fn stderr_as_stdio() -> Stdio {
    Stdio::inherit()
}
