//! Container-wide limits through the runtime API: the `pids` limit (EAGAIN), the
//! descriptor cap (EMFILE), the container's memory cap, and the cache of modules
//! that fail to compile.

use std::sync::Arc;

use fsimage::{FileDevice, Vfs};
use wsh_runtime::{Command, Handle, Limits, Runtime, SpawnError, io};

struct Fixture {
    dir: tempfile::TempDir,
    runtime: Runtime,
}

/// A runtime over a fresh image holding `modules` (wasm bytes) at /bin/NAME.
fn fixture_bytes(modules: &[(&str, Vec<u8>)]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let dev = FileDevice::create(&dir.path().join("img"), 64 << 20).unwrap();
    let vfs = Vfs::mkfs(Box::new(dev), "test").unwrap();
    let bin = vfs.mkdir(vfs.root(), b"bin", 0o755).unwrap();
    for (name, bytes) in modules {
        let ino = vfs.create(bin, name.as_bytes(), 0o755).unwrap();
        vfs.write(ino, 0, bytes).unwrap();
    }
    let runtime = Runtime::new(Arc::new(vfs), &dir.path().join("cache")).unwrap();
    Fixture { dir, runtime }
}

/// A runtime over a fresh image holding `wat` modules at /bin/NAME.
fn fixture(modules: &[(&str, &str)]) -> Fixture {
    let bytes: Vec<(&str, Vec<u8>)> = modules
        .iter()
        .map(|(n, src)| (*n, wat::parse_str(src).unwrap()))
        .collect();
    fixture_bytes(&bytes)
}

fn cmd(program: &str, stdin: Handle, stdout: Handle, stderr: Handle) -> Command {
    Command {
        program: program.into(),
        argv: vec![program.into()],
        env: vec![],
        cwd: "/".into(),
        stdin,
        stdout,
        stderr,
        extra_fds: Vec::new(),
        open_files: None,
        pid: None,
        ppid: 0,
    }
}

/// Runs `program` with no input; returns its status and stderr.
fn run(f: &Fixture, program: &str) -> (i32, String) {
    let (err_r, err_w) = io::pipe();
    let child = f
        .runtime
        .spawn(cmd(program, Handle::Null, Handle::Null, err_w))
        .unwrap();
    let status = child.wait();
    (
        status,
        String::from_utf8(err_r.read_to_end().unwrap()).unwrap(),
    )
}

/// Reads stdin until EOF, then exits 0.
const DRAIN: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 64))
    (loop $l
      (br_if $l (i32.and
        (i32.eqz (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (i32.ne (i32.load (i32.const 8)) (i32.const 0)))))))"#;

/// Grows its memory by `pages` (exit 1 if refused), says "grown" on stdout, then
/// reads stdin until EOF and exits 0.
fn grow_then_drain(pages: u32) -> String {
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "grown\n")
  (func (export "_start")
    (if (i32.eq (memory.grow (i32.const {pages})) (i32.const -1))
      (then (call $exit (i32.const 1))))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 6))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 64))
    (loop $l
      (br_if $l (i32.and
        (i32.eqz (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (i32.ne (i32.load (i32.const 8)) (i32.const 0)))))))"#
    )
}

/// Spawns /bin/drain through the `wsh` host interface (stdin /dev/null); exits
/// with spawn's errno when it fails, else with the child's status.
const SPAWNER: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wsh" "spawn" (func $spawn (param i32 i32) (result i32)))
  (import "wsh" "wait" (func $wait (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 200) "/bin/drain\00")
  (data (i32.const 220) "/")
  (func (export "_start") (local $e i32)
    (i32.store (i32.const 128) (i32.const 200))
    (i32.store (i32.const 132) (i32.const 11))
    (i32.store (i32.const 136) (i32.const 0))
    (i32.store (i32.const 140) (i32.const 0))
    (i32.store (i32.const 144) (i32.const 220))
    (i32.store (i32.const 148) (i32.const 1))
    (i32.store (i32.const 152) (i32.const -1))
    (i32.store (i32.const 156) (i32.const -1))
    (i32.store (i32.const 160) (i32.const -1))
    (i32.store (i32.const 164) (i32.const 0))
    (local.set $e (call $spawn (i32.const 128) (i32.const 300)))
    (if (local.get $e) (then (call $exit (local.get $e))))
    (if (call $wait (i32.load (i32.const 300)) (i32.const 0) (i32.const 304))
      (then (call $exit (i32.const 101))))
    (call $exit (i32.load (i32.const 304)))))"#;

/// Opens /f with path_open until it fails: exits with how many opened if the
/// failure was EMFILE (33), else 255.
const OPEN_MANY: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "f")
  (func (export "_start") (local $n i32) (local $e i32)
    (block $done
      (loop $l
        (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 1)
          (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 32)))
        (br_if $done (local.get $e))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $n) (i32.const 100000)))))
    (if (i32.ne (local.get $e) (i32.const 33)) (then (call $exit (i32.const 255))))
    (call $exit (local.get $n))))"#;

/// Makes pipes with the `wsh` host interface until it fails: exits with how many
/// it made if the failure was EMFILE (33), else 255.
const PIPE_MANY: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wsh" "pipe" (func $pipe (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $n i32) (local $e i32)
    (block $done
      (loop $l
        (local.set $e (call $pipe (i32.const 0)))
        (br_if $done (local.get $e))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $n) (i32.const 100000)))))
    (if (i32.ne (local.get $e) (i32.const 33)) (then (call $exit (i32.const 255))))
    (call $exit (local.get $n))))"#;

fn limits(edit: impl FnOnce(&mut Limits)) -> Limits {
    let mut l = Limits::default();
    edit(&mut l);
    l
}

#[test]
fn the_pids_limit_refuses_programs_with_eagain_until_one_ends() {
    let f = fixture(&[("drain", DRAIN)]);
    f.runtime.set_limits(limits(|l| l.pids = Some(1)));
    let (r, w) = io::pipe();
    let first = f
        .runtime
        .spawn(cmd("/bin/drain", r, Handle::Null, Handle::Null))
        .unwrap();
    assert_eq!(f.runtime.live_pids(), 1);
    let refused = f
        .runtime
        .spawn(cmd("/bin/drain", Handle::Null, Handle::Null, Handle::Null));
    assert!(matches!(refused, Err(SpawnError::Fork(_))));
    drop(w);
    assert_eq!(first.wait(), 0);
    assert_eq!(f.runtime.live_pids(), 0);
    assert_eq!(run(&f, "/bin/drain").0, 0);
}

#[test]
fn a_guest_spawning_past_the_pids_limit_gets_eagain() {
    let f = fixture(&[("drain", DRAIN), ("spawner", SPAWNER)]);
    f.runtime.set_limits(limits(|l| l.pids = Some(1)));
    // The spawner holds the one slot: its child cannot start (WASI's EAGAIN is 6).
    assert_eq!(run(&f, "/bin/spawner").0, 6);
    f.runtime.set_limits(limits(|l| l.pids = Some(2)));
    assert_eq!(run(&f, "/bin/spawner").0, 0);
}

#[test]
fn opening_past_the_descriptor_cap_is_emfile() {
    let f = fixture(&[("open", OPEN_MANY), ("pipes", PIPE_MANY)]);
    let vfs = f.runtime.vfs();
    vfs.create(vfs.root(), b"f", 0o644).unwrap();
    // stdin, stdout, stderr and the root are open from the start.
    f.runtime.set_limits(limits(|l| l.open_files = 64));
    assert_eq!(run(&f, "/bin/open"), (60, String::new()));
    // A pipe needs two: 30 fit in 60.
    assert_eq!(run(&f, "/bin/pipes"), (30, String::new()));
    f.runtime.set_limits(limits(|l| l.open_files = 9));
    assert_eq!(run(&f, "/bin/pipes").0, 2);
}

#[test]
fn the_container_memory_cap_holds_across_concurrent_guests() {
    // 640 pages of 64 KiB: 40 MiB each, more than half of the 64 MiB cap.
    let src = grow_then_drain(640);
    let f = fixture(&[("grow", &src)]);
    f.runtime
        .set_limits(limits(|l| l.container_memory = Some(64 << 20)));
    let (in_r, in_w) = io::pipe();
    let (out_r, out_w) = io::pipe();
    let first = f
        .runtime
        .spawn(cmd("/bin/grow", in_r, out_w, Handle::Null))
        .unwrap();
    // Wait until the first guest holds its memory.
    let mut said = [0u8; 6];
    let mut got = 0;
    while got < said.len() {
        let n = out_r.read(&mut said[got..]).unwrap();
        assert!(n > 0, "the first guest ended early");
        got += n;
    }
    assert_eq!(&said, b"grown\n");
    assert!(f.runtime.memory_in_use() > 40 << 20);
    let (status, err) = run(&f, "/bin/grow");
    assert_eq!(status, 137, "{err}");
    assert!(err.contains("memory limit exceeded"), "{err}");
    assert!(err.contains("the container's limit is 64 MiB"), "{err}");
    // The first one is unharmed; once it ends its memory is the container's again.
    drop(in_w);
    assert_eq!(first.wait(), 0);
    assert_eq!(f.runtime.memory_in_use(), 0);
    assert_eq!(run(&f, "/bin/grow"), (0, String::new()));
}

#[test]
fn a_module_that_fails_to_compile_fails_the_same_way_from_the_cache() {
    // The magic and version of a module, then garbage: compiling is attempted and fails.
    let mut bad = b"\0asm\x01\0\0\0".to_vec();
    bad.extend_from_slice(b"\x01\xffthis is not a type section of any module");
    let f = fixture_bytes(&[("bad", bad)]);
    let spawn_err =
        || match f
            .runtime
            .spawn(cmd("/bin/bad", Handle::Null, Handle::Null, Handle::Null))
        {
            Err(SpawnError::NotExecutable(p, why)) => format!("{p}: {why}"),
            Err(e) => panic!("unexpected error: {e}"),
            Ok(_) => panic!("a garbage module started"),
        };
    let first = spawn_err();
    assert!(first.starts_with("/bin/bad: invalid module: "), "{first}");
    // The failure is on disk, next to where the compiled form would be.
    let modules = f.dir.path().join("cache").join("modules");
    let marks: Vec<_> = std::fs::read_dir(&modules)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "failed"))
        .collect();
    assert_eq!(marks.len(), 1, "{marks:?}");
    let recorded = std::fs::read_to_string(&marks[0]).unwrap();
    assert_eq!(format!("/bin/bad: invalid module: {recorded}"), first);
    assert_eq!(spawn_err(), first);
}
