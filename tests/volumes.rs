//! `wsh run -v HOST:GUEST[:ro]`: a host directory in the container's tree, judged
//! against bash + GNU coreutils working on a copy of the same directory, and
//! confined to that directory (nothing else of the host is reachable or changed).

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Output;

use common::{bash_in, text, wsh_cmd, wsh_home};

/// The files a case starts with.
fn seed(dir: &Path) {
    std::fs::write(dir.join("a.txt"), "alpha\nbeta\ngamma\n").unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/inner"), "in\n").unwrap();
    let big: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(dir.join("big"), big).unwrap();
    std::os::unix::fs::symlink("a.txt", dir.join("link")).unwrap();
}

/// Every entry below `dir`: kind, permission bits, and content or link target.
/// With `times`, modification times too.
fn tree(dir: &Path, times: bool) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, times: bool, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let m = std::fs::symlink_metadata(&path).unwrap();
            let mode = m.permissions().mode() & 0o7777;
            let mut desc = if m.is_symlink() {
                format!("link -> {}", std::fs::read_link(&path).unwrap().display())
            } else if m.is_dir() {
                walk(root, &path, times, out);
                format!("dir {mode:o}")
            } else {
                let data = std::fs::read(&path).unwrap();
                format!(
                    "file {mode:o} {:?}",
                    String::from_utf8_lossy(&data[..data.len().min(64)])
                ) + &format!(" ({} bytes)", data.len())
            };
            if times && !m.is_symlink() {
                desc += &format!(" mtime {}.{}", m.mtime(), m.mtime_nsec());
            }
            out.insert(rel, desc);
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, times, &mut out);
    out
}

/// `wsh run [-v ...] base sh -c SCRIPT` with extra arguments before the image.
fn run(args: &[&str], script: &str) -> Output {
    wsh_cmd(wsh_home())
        .arg("run")
        .args(args)
        .args(["base", "sh", "-c", script])
        .output()
        .expect("wsh runs")
}

#[test]
fn volume_is_read_and_written_as_bash_on_the_host_would() {
    let cases = [
        "ls; cat a.txt; wc -l a.txt",
        "echo new > out.txt; cat out.txt; ls",
        "mkdir -p d/e && touch d/e/f && ls -R d",
        "cp a.txt b.txt && rm a.txt && ls && cat b.txt",
        "ln -s sub/inner l2 && cat l2 && readlink l2 && cat link",
        "mv a.txt sub/ && ls sub && mv sub moved && ls",
        "chmod 600 a.txt && stat -c '%a %s %F' a.txt sub link",
        "for f in *; do echo \"[$f]\"; done; echo s*/*",
        "cat < a.txt; echo more >> a.txt; tail -n 2 a.txt",
        "test -d sub && test -f a.txt && test -L link && test ! -e nope && echo ok",
        "cd sub && pwd -P >/dev/null && ls .. && cat ../a.txt",
        "find . | sort; find . -type f -name '*.txt'",
        "rm -r sub && ls; rmdir nope; echo $?",
        "printf 'x\\ny\\n' | sort -r > s.txt; cat s.txt; wc -c < big",
        "head -c 5 big; echo; tail -c 3 big; echo; cmp big big && echo same",
        "touch -d '2001-02-03 04:05:06' a.txt && stat -c %Y a.txt",
        "cat nope; echo $?; mkdir a.txt; echo $?; rm sub; echo $?",
        "du -s sub >/dev/null && ls -l a.txt | cut -d' ' -f1,5",
        "seq 1000 | gzip > n.gz && zcat n.gz | tail -n 1 && rm n.gz && tar cf - sub | tar tf -",
        // A link name with a trailing slash promises a directory: refused, unless it is one.
        "ln -s a t/ 2>/dev/null; echo $?; ln -s a a.txt/ 2>/dev/null; echo $?; \
         ln a.txt l/ 2>/dev/null; echo $?; ln -s a sub/; echo $?; ls",
    ];
    let mut failures = Vec::new();
    for case in cases {
        let ours_dir = tempfile::tempdir().unwrap();
        let theirs_dir = tempfile::tempdir().unwrap();
        seed(ours_dir.path());
        seed(theirs_dir.path());
        let vol = format!("{}:/work", ours_dir.path().display());
        let ours = run(&["-v", &vol, "-w", "/work"], case);
        let theirs = bash_in(theirs_dir.path(), case);
        let (t_ours, t_theirs) = (tree(ours_dir.path(), false), tree(theirs_dir.path(), false));
        if ours.stdout != theirs.stdout
            || ours.status.code() != theirs.status.code()
            || t_ours != t_theirs
        {
            failures.push(format!(
                "case: {case}\n  wsh  ({:?}): {:?}\n       stderr: {:?}\n  bash ({:?}): {:?}\n  \
                 wsh tree:  {t_ours:?}\n  bash tree: {t_theirs:?}",
                ours.status.code(),
                text(&ours.stdout),
                text(&ours.stderr),
                theirs.status.code(),
                text(&theirs.stdout),
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn readonly_volume_refuses_every_change_and_the_host_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    let before = tree(dir.path(), true);
    let vol = format!("{}:/ro:ro", dir.path().display());
    for change in [
        "echo x > /ro/a.txt",
        "echo x >> /ro/new",
        "rm /ro/a.txt",
        "mkdir /ro/d",
        "touch /ro/a.txt",
        "chmod 600 /ro/a.txt",
        "mv /ro/a.txt /ro/b",
        "ln -s a.txt /ro/l",
        "rm -r /ro/sub",
        "cp /ro/a.txt /ro/sub/copy",
    ] {
        let out = run(&["-v", &vol], change);
        assert_ne!(out.status.code(), Some(0), "{change} succeeded");
        assert!(
            text(&out.stderr).contains("Read-only file system"),
            "{change}: {}",
            text(&out.stderr)
        );
    }
    // Reading still works.
    let out = run(&["-v", &vol], "cat /ro/link && ls /ro");
    assert_eq!(
        text(&out.stdout),
        "alpha\nbeta\ngamma\na.txt\nbig\nlink\nsub\n"
    );
    assert_eq!(tree(dir.path(), true), before);
}

#[test]
fn volume_does_not_reach_outside_its_host_directory() {
    let outer = tempfile::tempdir().unwrap();
    let m = outer.path().join("m");
    std::fs::create_dir(&m).unwrap();
    std::fs::write(outer.path().join("secret"), "host secret\n").unwrap();
    std::os::unix::fs::symlink("../secret", m.join("up")).unwrap();
    std::os::unix::fs::symlink(outer.path().join("secret"), m.join("abs")).unwrap();
    std::os::unix::fs::symlink("/", m.join("root")).unwrap();
    let before = tree(outer.path(), true);
    let vol = format!("{}:/data", m.display());
    let escapes = [
        "cat /data/up",
        "cat /data/abs",
        "ls /data/root/",
        "cat /data/root/etc/passwd",
        "echo pwned > /data/up",
        "echo pwned > /data/root/tmp/pwned",
        "cd /data/root",
    ];
    for cmd in escapes {
        let out = run(&["-v", &vol], cmd);
        assert_ne!(out.status.code(), Some(0), "{cmd}: {}", text(&out.stdout));
        assert!(!text(&out.stdout).contains("host secret"), "{cmd}");
    }
    // `..` above the mount point leads back into the image, not the host.
    let image_root = run(&[], "ls /");
    let out = run(&["-v", &vol], "ls /data/../; cat /data/../../secret");
    let mut expect = text(&image_root.stdout)
        .lines()
        .map(String::from)
        .collect::<Vec<_>>();
    expect.push("data".into());
    expect.sort();
    assert_eq!(
        text(&out.stdout)
            .lines()
            .map(String::from)
            .collect::<Vec<_>>(),
        expect
    );
    assert!(text(&out.stderr).contains("/secret: No such file or directory"));
    assert_eq!(tree(outer.path(), true), before, "the host changed");
    assert!(!Path::new("/tmp/pwned").exists());
}

#[test]
fn mount_point_is_made_in_the_container_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), "x\n").unwrap();
    let vol = format!("{}:/deep/er/mnt", dir.path().display());
    let out = run(&["-v", &vol], "cat /deep/er/mnt/f && ls -d /deep/er");
    assert_eq!(text(&out.stdout), "x\n/deep/er\n", "{}", text(&out.stderr));
    let out = run(&[], "test -e /deep");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the mount point stayed in the image"
    );
}

#[test]
fn bad_volumes_are_refused_with_a_clear_message() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let cases = [
        (
            "/nonexistent-wsh-dir:/data".to_string(),
            "/nonexistent-wsh-dir",
        ),
        (
            format!("{}:/data", file.path().display()),
            "not a directory",
        ),
        ("/tmp:data".to_string(), "must be absolute"),
        ("/tmp:/".to_string(), "root"),
        ("/tmp".to_string(), "HOST:GUEST"),
    ];
    for (spec, says) in cases {
        let out = run(&["-v", &spec], "true");
        assert_ne!(out.status.code(), Some(0), "-v {spec}");
        assert!(
            text(&out.stderr).contains(says),
            "-v {spec}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn scripts_run_by_their_first_line_as_execve_and_bash_would() {
    let ours_dir = tempfile::tempdir().unwrap();
    let theirs_dir = tempfile::tempdir().unwrap();
    for dir in [ours_dir.path(), theirs_dir.path()] {
        let script = |name: &str, body: &str| {
            std::fs::write(dir.join(name), body).unwrap();
            std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        };
        script("s.sh", "#!/bin/sh\necho \"sh: $0 ${0##*/} $*\"\n");
        script(
            "e.sh",
            "#!/usr/bin/env bash\necho \"env bash: $#\"\nexit 7\n",
        );
        script("plain", "echo \"no #! line: $1\"\n");
        script("opt.sh", "#!/bin/sh -e\nfalse\necho not reached\n");
        script("bad", "#!/nonexistent/interp\n");
    }
    let case = "./s.sh a b; ./e.sh 1 2; echo \"status $?\"; ./plain x; ./opt.sh; echo \"status $?\"; \
                ./bad 2>/dev/null; echo \"status $?\"; PATH=$PATH:.; s.sh via path; \
                printf '#!/bin/sh\\necho made here\\n' > made; chmod +x made; ./made";
    let vol = format!("{}:/w", ours_dir.path().display());
    let ours = run(&["-v", &vol, "-w", "/w"], case);
    let theirs = bash_in(theirs_dir.path(), case);
    assert_eq!(
        text(&ours.stdout),
        text(&theirs.stdout),
        "{}",
        text(&ours.stderr)
    );
    assert_eq!(ours.status.code(), theirs.status.code());
    // The same in the image itself.
    let out = run(
        &[],
        "printf '#!/bin/sh\\necho in image \"$1\"\\n' > /tmp/x; chmod +x /tmp/x; /tmp/x 1; cd /tmp && ./x 2",
    );
    assert_eq!(
        text(&out.stdout),
        "in image 1\nin image 2\n",
        "{}",
        text(&out.stderr)
    );
}

/// The permission checks a non-root container user meets on a volume are the host
/// kernel's (Docker runs the user's uid on bind mounts): the same script, run by
/// uid 1000 on the host through `setpriv` and by `wsh run -u 1000:1000 -v`.
#[test]
fn non_root_user_on_a_volume_gets_the_host_kernels_answers() {
    let script = &format!(
        "{}{}",
        common::PERMISSION_PROBES,
        r#"ln "$T/rootdir/secret" "$T/mine/hard" 2>/dev/null; s hardlink-other
ln -s x "$T/rootdir/l" 2>/dev/null; s symlink-in-rootdir
touch -d 2001-01-01 "$T/sticky/rootf" 2>/dev/null; s touch-explicit-other
"#
    );
    let host_tmp = tempfile::tempdir().unwrap();
    let Some(host_text) =
        common::as_uid_1000_on_host(&common::permission_tree(host_tmp.path()), script)
    else {
        return;
    };
    let ours_tmp = tempfile::tempdir().unwrap();
    let ours_t = common::permission_tree(ours_tmp.path());
    let vol = format!("{}:/t", ours_t.display());
    let ours = run(&["-u", "1000:1000", "-e", "T=/t", "-v", &vol], script);
    assert_eq!(text(&ours.stdout), host_text, "{}", text(&ours.stderr));
    // What the container user made belongs to it on the host, as under Docker.
    let meta = std::fs::metadata(ours_t.join("mine")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
}

/// A WebAssembly module that writes `word` and a newline to stdout.
fn printer(word: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{word}\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const {len}))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
        len = word.len() + 1
    ))
    .unwrap()
}

/// A program on a volume is compiled once per process, and a changed file (even
/// one of the same size) is read again: the cache goes by inode, size and times.
#[test]
fn a_program_on_a_volume_that_changes_runs_as_changed() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("p"), printer("one")).unwrap();
    std::fs::write(t.path().join("two"), printer("two")).unwrap();
    std::fs::set_permissions(t.path().join("p"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run(
        &["-v", &format!("{}:/m", t.path().display())],
        "/m/p; /m/p; cat /m/two > /m/p; /m/p",
    );
    assert_eq!(
        text(&out.stdout),
        "one\none\ntwo\n",
        "{}",
        text(&out.stderr)
    );
}

/// With the working directory on a volume (which the image does not have), absolute
/// paths still reach the image: a program run by its path, `[ -x ]`, a redirection.
#[test]
fn absolute_paths_reach_the_image_from_a_working_directory_on_a_volume() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let vol = format!("{}:/vol", dir.path().display());
    let out = run(
        &["-v", &vol, "-w", "/vol"],
        "cd sub && /bin/echo by-path && [ -x /bin/ls ] && echo exec && \
         echo kept > /tmp/in-image && cat < /tmp/in-image && ls -d /usr/bin",
    );
    assert_eq!(
        text(&out.stdout),
        "by-path\nexec\nkept\n/usr/bin\n",
        "{}",
        text(&out.stderr)
    );
}
