//! The runtime against small hand-written guests: exit codes, traps, limits, interruption,
//! and the broker's file calls checked by e2fsck.

use std::sync::Arc;
use std::time::Duration;

use fsimage::{FileDevice, Vfs};
use wsh_runtime::{Command, Handle, Runtime, io};

struct Fixture {
    _dir: tempfile::TempDir,
    runtime: Runtime,
}

/// A runtime over a fresh image holding `wat` modules at /bin/NAME.
fn fixture(modules: &[(&str, &str)]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let dev = FileDevice::create(&dir.path().join("img"), 64 << 20).unwrap();
    let vfs = Vfs::mkfs(Box::new(dev), "test").unwrap();
    let bin = vfs.mkdir(vfs.root(), b"bin", 0o755).unwrap();
    for (name, src) in modules {
        let bytes = wat::parse_str(src).unwrap();
        let ino = vfs.create(bin, name.as_bytes(), 0o755).unwrap();
        vfs.write(ino, 0, &bytes).unwrap();
    }
    let runtime = Runtime::new(Arc::new(vfs), &dir.path().join("cache")).unwrap();
    Fixture { _dir: dir, runtime }
}

fn cmd(program: &str, stdout: Handle, stderr: Handle) -> Command {
    Command {
        program: program.into(),
        argv: vec![program.into()],
        env: vec![],
        cwd: "/".into(),
        stdin: Handle::Null,
        stdout,
        stderr,
        extra_fds: Vec::new(),
        open_files: None,
        pid: None,
        ppid: 0,
    }
}

const EXIT7: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 7))))"#;

const LOOP: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (br $l))))"#;

const GROW: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $l
      (br_if $l (i32.ne (memory.grow (i32.const 256)) (i32.const -1))))
    unreachable))"#;

const HELLO: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 6))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

fn capture(f: &Fixture, program: &str) -> (i32, String, String) {
    let (out_r, out_w) = io::pipe();
    let (err_r, err_w) = io::pipe();
    let child = f.runtime.spawn(cmd(program, out_w, err_w)).unwrap();
    let status = child.wait();
    let out = String::from_utf8(out_r.read_to_end().unwrap()).unwrap();
    let err = String::from_utf8(err_r.read_to_end().unwrap()).unwrap();
    (status, out, err)
}

#[test]
fn exit_code_and_stdout_come_through() {
    let f = fixture(&[("exit7", EXIT7), ("hello", HELLO)]);
    assert_eq!(capture(&f, "/bin/exit7").0, 7);
    assert_eq!(
        capture(&f, "/bin/hello"),
        (0, "hello\n".into(), String::new())
    );
}

#[test]
fn a_guest_eating_memory_stops_at_the_limit() {
    let f = fixture(&[("grow", GROW)]);
    f.runtime.set_limits(wsh_runtime::Limits {
        memory: 64 << 20,
        ..Default::default()
    });
    let (status, _, err) = capture(&f, "/bin/grow");
    // Stopped as the OOM killer would (SIGKILL), with one line saying why.
    assert_eq!(status, 137, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("grow: memory limit exceeded"), "{err}");
    assert!(err.contains("the limit is 64 MiB"), "{err}");
}

#[test]
fn a_guest_looping_forever_stops_at_its_cpu_time() {
    let f = fixture(&[("spin", LOOP)]);
    f.runtime.set_limits(wsh_runtime::Limits {
        cpu_time: Some(Duration::from_millis(300)),
        ..Default::default()
    });
    let started = std::time::Instant::now();
    let (status, _, err) = capture(&f, "/bin/spin");
    assert_eq!(status, 128 + 24, "{err}");
    assert_eq!(err.trim(), "wsh: /bin/spin: CPU time limit exceeded (0.3s)");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_interrupted_guest_stops_with_130() {
    let f = fixture(&[("spin", LOOP)]);
    let child = f
        .runtime
        .spawn(cmd("/bin/spin", Handle::Null, Handle::Null))
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    f.runtime.interrupt_all();
    assert_eq!(child.wait(), 130);
}

#[test]
fn missing_and_non_module_programs_are_refused() {
    let f = fixture(&[("hello", HELLO)]);
    let vfs = f.runtime.vfs();
    let ino = vfs.create(vfs.root(), b"script", 0o755).unwrap();
    vfs.write(ino, 0, b"#!/bin/sh\necho hi\n").unwrap();
    assert!(matches!(
        f.runtime
            .spawn(cmd("/bin/nope", Handle::Null, Handle::Null)),
        Err(wsh_runtime::SpawnError::NotFound(_))
    ));
    assert!(matches!(
        f.runtime.spawn(cmd("/script", Handle::Null, Handle::Null)),
        Err(wsh_runtime::SpawnError::NotExecutable(..))
    ));
    assert!(matches!(
        f.runtime.spawn(cmd("/bin", Handle::Null, Handle::Null)),
        Err(wsh_runtime::SpawnError::NotExecutable(..))
    ));
    // A component (WASI preview 2) is named as one, not "Exec format error".
    let ino = vfs.create(vfs.root(), b"component", 0o755).unwrap();
    vfs.write(ino, 0, b"\0asm\x0d\x00\x01\x00").unwrap();
    match f
        .runtime
        .spawn(cmd("/component", Handle::Null, Handle::Null))
    {
        Err(wsh_runtime::SpawnError::NotExecutable(_, why)) => {
            assert!(
                why.contains("component") && why.contains("wasm32-wasip1"),
                "{why}"
            )
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a component was started"),
    }
}

/// chmod then stat through the `wsh` host interface: exits 0 if the mode reads back.
const CHMOD_STAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wsh" "chmod" (func $chmod (param i32 i32 i32 i32 i32) (result i32)))
  (import "wsh" "stat" (func $stat (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "/f")
  (func (export "_start")
    (if (call $chmod (i32.const 3) (i32.const 16) (i32.const 2) (i32.const 1) (i32.const 416))
      (then (call $exit (i32.const 10))))
    (if (call $stat (i32.const 3) (i32.const 16) (i32.const 2) (i32.const 1) (i32.const 64))
      (then (call $exit (i32.const 11))))
    ;; st_mode at offset 16: S_IFREG | 0640 (416 is 0640)
    (call $exit (i32.ne (i32.load (i32.const 80)) (i32.const 0x81a0)))))"#;

/// Spawns /bin/exit7 through the `wsh` host interface and exits with its status.
const SPAWNER: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wsh" "spawn" (func $spawn (param i32 i32) (result i32)))
  (import "wsh" "wait" (func $wait (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 200) "/bin/exit7\00")
  (data (i32.const 220) "/")
  (func (export "_start")
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
    (if (call $spawn (i32.const 128) (i32.const 300)) (then (call $exit (i32.const 100))))
    (if (call $wait (i32.load (i32.const 300)) (i32.const 0) (i32.const 304))
      (then (call $exit (i32.const 101))))
    (call $exit (i32.load (i32.const 304)))))"#;

#[test]
fn host_interface_chmod_is_seen_by_stat_and_the_image() {
    let f = fixture(&[("chmodstat", CHMOD_STAT)]);
    let vfs = f.runtime.vfs();
    let ino = vfs.create(vfs.root(), b"f", 0o600).unwrap();
    assert_eq!(capture(&f, "/bin/chmodstat").0, 0);
    assert_eq!(vfs.stat(ino).unwrap().mode, 0o640);
}

#[test]
fn host_interface_spawns_and_waits_for_a_program() {
    let f = fixture(&[("exit7", EXIT7), ("spawner", SPAWNER)]);
    assert_eq!(capture(&f, "/bin/spawner").0, 7);
}

/// Exits with the uid the `wsh` host interface's `identity` reports, plus 100 × the gid.
const IDENTITY: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wsh" "identity" (func $id (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (if (call $id (i32.const 0)) (then (call $exit (i32.const 255))))
    (call $exit (i32.add (i32.load (i32.const 0))
                         (i32.mul (i32.load (i32.const 4)) (i32.const 100))))))"#;

#[test]
fn identity_reports_the_runtimes_credentials() {
    let f = fixture(&[("identity", IDENTITY)]);
    assert_eq!(capture(&f, "/bin/identity").0, 0);
    f.runtime.set_credentials(wsh_runtime::Credentials {
        uid: 7,
        gid: 2,
        groups: vec![],
    });
    assert_eq!(capture(&f, "/bin/identity").0, 207);
}

#[test]
fn programs_need_an_execute_bit_for_their_user() {
    let f = fixture(&[("hello", HELLO)]);
    let vfs = f.runtime.vfs();
    let bin = vfs.lookup(vfs.root(), b"bin").unwrap();
    let hello = vfs.lookup(bin, b"hello").unwrap();
    let denied = |f: &Fixture| {
        matches!(
            f.runtime.spawn(cmd("/bin/hello", Handle::Null, Handle::Null)),
            Err(wsh_runtime::SpawnError::NotExecutable(_, why)) if why == "Permission denied"
        )
    };
    // Root needs one execute bit, for anyone.
    vfs.set_mode(hello, 0o644).unwrap();
    assert!(denied(&f));
    vfs.set_mode(hello, 0o744).unwrap();
    assert_eq!(capture(&f, "/bin/hello").0, 0);
    // A user needs the bit of their own class.
    f.runtime.set_credentials(wsh_runtime::Credentials {
        uid: 1000,
        gid: 1000,
        groups: vec![],
    });
    assert!(denied(&f));
    vfs.set_mode(hello, 0o755).unwrap();
    assert_eq!(capture(&f, "/bin/hello").1, "hello\n");
    // ... and search permission on the directories on the way.
    vfs.set_mode(bin, 0o700).unwrap();
    assert!(denied(&f));
}

/// A program using the exception-handling proposal (what clang emits for setjmp/longjmp
/// and C++ exceptions): it throws, catches, and exits with the caught value.
const THROWS: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (tag $e (param i32))
  (memory (export "memory") 1)
  (func (export "_start")
    (block $caught (result i32)
      (try_table (catch $e $caught)
        (throw $e (i32.const 42)))
      (unreachable))
    (call $exit)))"#;

#[test]
fn programs_using_exceptions_run() {
    let f = fixture(&[("throws", THROWS)]);
    let (status, _, err) = capture(&f, "/bin/throws");
    assert_eq!(status, 42, "{err}");
}

/// Imports from a module wsh does not provide: the program runs until it calls one,
/// and the trap names it.
const FOREIGN_IMPORT: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "env" "host_only" (func $h))
  (memory (export "memory") 1)
  (data (i32.const 16) "before\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 7))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $h)))"#;

#[test]
fn unknown_imports_trap_when_called_naming_the_import() {
    let f = fixture(&[("foreign", FOREIGN_IMPORT)]);
    let (status, out, err) = capture(&f, "/bin/foreign");
    assert_eq!(out, "before\n");
    assert_ne!(status, 0);
    assert!(err.contains("env") && err.contains("host_only"), "{err}");
}

/// Opens the devices the ways a guest may name them and exits with the number of
/// the first step that misbehaved (0: all as on Linux).
const DEVICES: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $stat (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "dev")
  (data (i32.const 16) "zero")
  (data (i32.const 32) "dev/./full")
  (data (i32.const 48) "dev/urandom")
  (data (i32.const 200) "\2c\01\00\00\10\00\00\00") ;; iovec: 16 bytes at 300
  (func $ok (param $errno i32) (param $step i32)
    (if (local.get $errno) (then (call $exit (local.get $step)))))
  (func $fail_if (param $bad i32) (param $step i32)
    (if (local.get $bad) (then (call $exit (local.get $step)))))
  (func $open_at (param $dir i32) (param $path i32) (param $len i32) (param $oflags i32) (param $step i32) (result i32)
    (call $ok (call $open (local.get $dir) (i32.const 0) (local.get $path) (local.get $len)
      ;; A directory opens without write rights (EISDIR), a device with read and write.
      (local.get $oflags) (select (i64.const 0) (i64.const 0x42) (i32.eq (local.get $oflags) (i32.const 2)))
      (i64.const 0) (i32.const 0) (i32.const 100)) (local.get $step))
    (i32.load (i32.const 100)))
  (func (export "_start") (local $dir i32) (local $fd i32)
    ;; "zero" from a descriptor of /dev reads zeros and is a character device.
    (local.set $dir (call $open_at (i32.const 3) (i32.const 0) (i32.const 3) (i32.const 2) (i32.const 1)))
    (local.set $fd (call $open_at (local.get $dir) (i32.const 16) (i32.const 4) (i32.const 0) (i32.const 2)))
    (memory.fill (i32.const 300) (i32.const 0xff) (i32.const 16))
    (call $ok (call $read (local.get $fd) (i32.const 200) (i32.const 1) (i32.const 104)) (i32.const 3))
    (call $fail_if (i32.ne (i32.load (i32.const 104)) (i32.const 16)) (i32.const 4))
    (call $fail_if (i64.ne (i64.or (i64.load (i32.const 300)) (i64.load (i32.const 308))) (i64.const 0)) (i32.const 5))
    (call $ok (call $fstat (local.get $fd) (i32.const 400)) (i32.const 6))
    (call $fail_if (i32.ne (i32.load8_u (i32.const 416)) (i32.const 2)) (i32.const 7))
    ;; "dev/./full" from the root refuses writes with ENOSPC (51).
    (local.set $fd (call $open_at (i32.const 3) (i32.const 32) (i32.const 10) (i32.const 0) (i32.const 8)))
    (call $fail_if (i32.ne (call $write (local.get $fd) (i32.const 200) (i32.const 1) (i32.const 104)) (i32.const 51)) (i32.const 9))
    ;; urandom reads random bytes (all 16 zero: one chance in 2^128).
    (local.set $fd (call $open_at (i32.const 3) (i32.const 48) (i32.const 11) (i32.const 0) (i32.const 10)))
    (memory.fill (i32.const 300) (i32.const 0) (i32.const 16))
    (call $ok (call $read (local.get $fd) (i32.const 200) (i32.const 1) (i32.const 104)) (i32.const 11))
    (call $fail_if (i64.eq (i64.or (i64.load (i32.const 300)) (i64.load (i32.const 308))) (i64.const 0)) (i32.const 12))
    ;; path_filestat_get of "zero" from /dev: a character device too.
    (call $ok (call $stat (local.get $dir) (i32.const 0) (i32.const 16) (i32.const 4) (i32.const 400)) (i32.const 13))
    (call $fail_if (i32.ne (i32.load8_u (i32.const 416)) (i32.const 2)) (i32.const 14))))"#;

#[test]
fn devices_are_the_brokers_however_named() {
    let f = fixture(&[("devices", DEVICES)]);
    // An empty /dev: the devices are the broker's, not entries of the image.
    let vfs = f.runtime.vfs();
    vfs.mkdir(vfs.root(), b"dev", 0o755).unwrap();
    let (status, _, err) = capture(&f, "/bin/devices");
    assert_eq!(status, 0, "step {status} misbehaved: {err}");
}

/// A wasi-threads module (wasm32-wasip1-threads: a shared memory, `wasi::thread-spawn`).
const THREADED: &str = r#"(module
  (import "env" "memory" (memory 1 1 shared))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (func (export "_start") (drop (call $spawn (i32.const 0))))
  (func (export "wasi_thread_start") (param i32 i32)))"#;

/// Only `wasi::thread-spawn`, with a plain memory: it links (as a trap) and runs.
const SPAWNS_A_THREAD: &str = r#"(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $spawn (i32.const 0)))))"#;

#[test]
fn threaded_programs_are_refused_with_a_reason() {
    let f = fixture(&[("threaded", THREADED), ("spawns", SPAWNS_A_THREAD)]);
    match f
        .runtime
        .spawn(cmd("/bin/threaded", Handle::Null, Handle::Null))
    {
        Err(wsh_runtime::SpawnError::NotExecutable(_, why)) => {
            assert!(
                why.contains("threads") && why.contains("wasm32-wasip1"),
                "{why}"
            )
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a threaded module was started"),
    }
    let (status, _, err) = capture(&f, "/bin/spawns");
    assert_eq!(status, 134, "{err}");
    assert!(
        err.contains("wasi::thread-spawn") && err.contains("wasi-threads"),
        "{err}"
    );
}

/// One module using the proposals current toolchains emit (issue 13): tail calls,
/// multi-memory, SIMD and relaxed SIMD, extended constant expressions, bulk memory,
/// multi-value, reference types and exception handling. Exits 42 when every part
/// computed what it should.
const FEATURES: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (memory $second 1)
  (table $t 1 funcref)
  (table $refs 2 externref)
  (tag $oops (param i32))
  (global $g i32 (i32.add (i32.const 40) (i32.const 2)))
  ;; Tail-recursive countdown: a million frames would overflow without return_call.
  (func $down (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call $down (i32.sub (local.get 0) (i32.const 1))))))
  (func $pair (result i32 i32) (i32.const 1) (i32.const 2))
  (func $throws (result i32)
    (block $caught (result i32)
      (try_table (catch $oops $caught) (throw $oops (i32.const 5)))
      (i32.const 0)))
  (func (export "_start")
    (local $ok i32)
    (local.set $ok (i32.const 1))
    (if (i32.ne (call $down (i32.const 1000000)) (i32.const 0)) (then (local.set $ok (i32.const 0))))
    ;; multi-memory + bulk memory: fill the second memory, copy within it, read it back.
    (memory.fill $second (i32.const 0) (i32.const 7) (i32.const 16))
    (memory.copy $second $second (i32.const 100) (i32.const 0) (i32.const 16))
    (if (i32.ne (i32.load8_u $second (i32.const 115)) (i32.const 7)) (then (local.set $ok (i32.const 0))))
    ;; SIMD and relaxed SIMD.
    (if (i32.ne (i32x4.extract_lane 3 (i32x4.add (i32x4.splat (i32.const 20)) (i32x4.splat (i32.const 22)))) (i32.const 42))
      (then (local.set $ok (i32.const 0))))
    (if (i32.ne (i32x4.extract_lane 0 (i32x4.relaxed_trunc_f32x4_s (f32x4.splat (f32.const 3.5)))) (i32.const 3))
      (then (local.set $ok (i32.const 0))))
    ;; multi-value, reference types, exceptions.
    (if (i32.ne (i32.add (call $pair)) (i32.const 3)) (then (local.set $ok (i32.const 0))))
    (if (i32.eqz (ref.is_null (table.get $t (i32.const 0)))) (then (local.set $ok (i32.const 0))))
    (if (i32.ne (table.size $refs) (i32.const 2)) (then (local.set $ok (i32.const 0))))
    (if (i32.ne (call $throws) (i32.const 5)) (then (local.set $ok (i32.const 0))))
    (call $exit (select (global.get $g) (i32.const 1) (local.get $ok)))))"#;

#[test]
fn the_proposals_toolchains_emit_are_enabled() {
    let f = fixture(&[("features", FEATURES)]);
    let (status, _, err) = capture(&f, "/bin/features");
    assert_eq!(status, 42, "{err}");
}
