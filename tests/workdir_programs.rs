//! Programs built with the stock toolchains see the working directory (issue 13): a
//! C program (clang and Debian's wasi-libc) and a Rust program (std, wasm32-wasip1)
//! open relative paths after `WORKDIR` and under `run -w`, in the image and in a
//! `-v` mount. The oracle is the same source built natively (gcc, rustc) and run in
//! a host copy of the same tree: same stdout, same files left behind.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{run_ok, text, wsh_cmd, wsh_home};

const IMAGE: &str = "workdir-programs-test";

fn source(name: &str) -> String {
    format!("{}/../tests/foreign/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The tree the programs run in: `app/` (the working directory) and `abs.txt`.
fn make_tree(dir: &Path) {
    fs::create_dir_all(dir.join("app/sub")).unwrap();
    fs::write(dir.join("app/data.txt"), "first line\nsecond line\n").unwrap();
    fs::write(dir.join("app/sub/nested.txt"), "nested\n").unwrap();
    fs::write(dir.join("abs.txt"), "reached by an absolute path\n").unwrap();
}

/// Everything made once: the test dir, with `c.wasm`, `rs.wasm`, the native builds'
/// stdout (absolute path replaced by `/data/abs.txt`) and the image built from it.
struct Setup {
    dir: std::path::PathBuf,
    native_c: String,
    native_rs: String,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("workdir-programs");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        run_ok(
            Command::new("clang")
                .args(["--target=wasm32-wasi", "-O2", "-o"])
                .arg(dir.join("c.wasm"))
                .arg(source("workdir.c")),
            "clang --target=wasm32-wasi (Debian's clang, lld and wasi-libc)",
        );
        run_ok(
            Command::new("rustc")
                .args(["--target", "wasm32-wasip1", "-O", "-o"])
                .arg(dir.join("rs.wasm"))
                .arg(source("workdir.rs")),
            "rustc --target wasm32-wasip1",
        );
        run_ok(
            Command::new("gcc")
                .args(["-O2", "-o"])
                .arg(dir.join("native-c"))
                .arg(source("workdir.c")),
            "gcc",
        );
        run_ok(
            Command::new("rustc")
                .args(["-O", "-o"])
                .arg(dir.join("native-rs"))
                .arg(source("workdir.rs")),
            "rustc (native)",
        );
        // The oracle: the native builds in a host copy of the tree.
        let native = dir.join("native");
        make_tree(&native);
        let abs = native.join("abs.txt");
        let mut stdout = Vec::new();
        for prog in ["native-c", "native-rs"] {
            let out = run_ok(
                Command::new(dir.join(prog))
                    .arg(&abs)
                    .current_dir(native.join("app")),
                prog,
            );
            stdout.push(text(&out.stdout).replace(abs.to_str().unwrap(), "/data/abs.txt"));
        }
        // The image: the programs brought by COPY, run by RUN after WORKDIR.
        let ctx = dir.join("ctx");
        make_tree(&ctx);
        fs::copy(dir.join("c.wasm"), ctx.join("c.wasm")).unwrap();
        fs::copy(dir.join("rs.wasm"), ctx.join("rs.wasm")).unwrap();
        fs::write(
            ctx.join("Balenafile"),
            "FROM base\n\
             COPY --chmod=755 c.wasm /usr/local/bin/workdir-c\n\
             COPY --chmod=755 rs.wasm /usr/local/bin/workdir-rs\n\
             COPY abs.txt /data/abs.txt\n\
             COPY app /app\n\
             WORKDIR /app\n\
             RUN workdir-c /data/abs.txt > c.stdout\n\
             RUN workdir-rs /data/abs.txt > rs.stdout\n",
        )
        .unwrap();
        run_ok(
            wsh_cmd(wsh_home()).args(["build", "-t", IMAGE]).arg(&ctx),
            "wsh build",
        );
        let native_rs = stdout.pop().unwrap();
        let native_c = stdout.pop().unwrap();
        Setup {
            dir,
            native_c,
            native_rs,
        }
    })
}

fn in_image(argv: &[&str]) -> Output {
    setup();
    run_ok(
        wsh_cmd(wsh_home()).args(["run", "--rm", IMAGE]).args(argv),
        &format!("wsh run {argv:?}"),
    )
}

#[test]
fn run_steps_after_workdir_see_it() {
    let s = setup();
    assert!(
        s.native_c.contains("data.txt: first line") && s.native_c.contains("nested"),
        "the native oracle itself: {}",
        s.native_c
    );
    let c = in_image(&["cat", "/app/c.stdout"]);
    assert_eq!(text(&c.stdout), s.native_c, "C program after WORKDIR");
    let rs = in_image(&["cat", "/app/rs.stdout"]);
    assert_eq!(text(&rs.stdout), s.native_rs, "Rust program after WORKDIR");
    // What they wrote is in the working directory, not at the root.
    let made = in_image(&[
        "sh",
        "-c",
        "cd /app && cat out-c.txt out-rs.txt && ls made-c made-rs && ls / | grep -c -e out- -e made- || true",
    ]);
    assert_eq!(
        text(&made.stdout),
        "written by C\nwritten by Rust\nmade-c:\ninside\n\nmade-rs:\ndeeper\nmoved\n0\n"
    );
}

#[test]
fn run_workdir_flag_in_the_image() {
    let s = setup();
    let out = run_ok(
        wsh_cmd(wsh_home()).args([
            "run",
            "--rm",
            "-w",
            "/tmp",
            IMAGE,
            "sh",
            "-c",
            "cp -r /app/. . && rm -r made-rs out-rs.txt && workdir-rs /data/abs.txt",
        ]),
        "wsh run -w",
    );
    assert_eq!(text(&out.stdout), s.native_rs);
}

#[test]
fn programs_in_a_mount_with_workdir_in_the_mount() {
    let s = setup();
    let host = s.dir.join("mounted");
    let _ = fs::remove_dir_all(&host);
    make_tree(&host);
    // The program itself comes from the mount too.
    let prog = host.join("app/workdir.wasm");
    fs::copy(s.dir.join("c.wasm"), &prog).unwrap();
    fs::set_permissions(&prog, fs::Permissions::from_mode(0o755)).unwrap();
    let out = run_ok(
        wsh_cmd(wsh_home())
            .args(["run", "--rm", "-v"])
            .arg(format!("{}:/w", host.display()))
            .args(["-w", "/w/app", IMAGE, "/w/app/workdir.wasm", "/w/abs.txt"]),
        "wsh run -v -w with a program from the mount",
    );
    assert_eq!(
        text(&out.stdout),
        s.native_c.replace("/data/abs.txt", "/w/abs.txt")
    );
    // The files landed in the host directory.
    assert_eq!(
        fs::read_to_string(host.join("app/out-c.txt")).unwrap(),
        "written by C\n"
    );
    assert!(host.join("app/made-c/inside").exists());
    // A mounted file without an execute bit is refused as the kernel would (126).
    fs::set_permissions(&prog, fs::Permissions::from_mode(0o644)).unwrap();
    let out = wsh_cmd(wsh_home())
        .args(["run", "--rm", "-v"])
        .arg(format!("{}:/w", host.display()))
        .args([IMAGE, "/w/app/workdir.wasm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Permission denied"),
        "{}",
        text(&out.stderr)
    );
}
