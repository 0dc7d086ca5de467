//! A detached container's life after `run -d` (issues 14 and 17): `exec` into it, `cp`
//! both ways while it runs and after it stopped, `commit` it, `start`/`restart` it on
//! the files it keeps, `port`, and `builder prune`.

mod common;

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::*;

/// Starts `base` detached as `name` running `script` under sh.
fn detached(name: &str, extra: &[&str], script: &str) {
    let _ = wsh_args(&["rm", "-f", name]);
    let mut args = vec!["run", "-d", "--name", name];
    args.extend(extra);
    args.extend(["base", "sh", "-c", script]);
    ok_stdout(&wsh_args(&args));
}

#[test]
fn exec_runs_programs_in_a_running_container() {
    let name = "dc-exec";
    detached(name, &["-e", "FROM_RUN=yes", "-w", "/tmp"], "sleep 60");
    assert_eq!(
        ok_stdout(&wsh_args(&["exec", name, "sh", "-c", "echo hi > /f"])),
        ""
    );
    assert_eq!(ok_stdout(&wsh_args(&["exec", name, "cat", "/f"])), "hi\n");
    // The exit status comes back; stdout and stderr stay apart.
    let out = wsh_args(&["exec", name, "sh", "-c", "echo out; echo err >&2; exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(
        (text(&out.stdout), text(&out.stderr)),
        ("out\n".into(), "err\n".into())
    );
    // The container's environment and working directory, then -e and -w.
    assert_eq!(
        ok_stdout(&wsh_args(&[
            "exec",
            name,
            "sh",
            "-c",
            "echo $FROM_RUN $PWD"
        ])),
        "yes /tmp\n"
    );
    assert_eq!(
        ok_stdout(&wsh_args(&[
            "exec",
            "-e",
            "A=1",
            "-w",
            "/etc",
            name,
            "sh",
            "-c",
            "echo $A $PWD"
        ])),
        "1 /etc\n"
    );
    assert_eq!(
        ok_stdout(&wsh_args(&["exec", "-u", "1000", name, "id", "-u"])),
        "1000\n"
    );
    assert_eq!(ok_stdout(&wsh_args(&["exec", name, "id", "-u"])), "0\n");
    // -i forwards stdin; without it the program reads nothing.
    let mut child = wsh_cmd(wsh_home())
        .args(["exec", "-i", name, "tr", "a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"piped in\n").unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(ok_stdout(&out), "PIPED IN\n");
    assert_eq!(ok_stdout(&wsh_args(&["exec", name, "cat"])), "");
    let missing = wsh_args(&["exec", name, "no-such-program"]);
    assert_eq!(
        missing.status.code(),
        Some(127),
        "{}",
        text(&missing.stderr)
    );
    // What exec wrote is the container's: its main command sees it.
    ok_stdout(&wsh_args(&["stop", "-t", "2", name]));
    let out = wsh_args(&["exec", name, "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not running"),
        "{}",
        text(&out.stderr)
    );
    let out = wsh_args(&["exec", "dc-no-such-container", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no such container"));
    ok_stdout(&wsh_args(&["rm", name]));
}

/// A host tree: files with modes and times, a subdirectory, a symlink, an empty dir.
fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::write(root.join("a.txt"), "alpha\n").unwrap();
    std::fs::write(root.join("sub/run.sh"), "#!/bin/sh\necho run\n").unwrap();
    std::fs::write(root.join("sub/deeper/big"), vec![7u8; 300_000]).unwrap();
    std::fs::set_permissions(
        root.join("sub/run.sh"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    std::fs::set_permissions(root.join("sub"), std::fs::Permissions::from_mode(0o711)).unwrap();
    std::os::unix::fs::symlink("a.txt", root.join("link")).unwrap();
    let t = std::time::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    std::fs::File::options()
        .write(true)
        .open(root.join("a.txt"))
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// (path, kind, mode, size, mtime of files, content or link target) for every entry.
fn tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let line = if m.file_type().is_symlink() {
                format!("{rel} -> {}", std::fs::read_link(&p).unwrap().display())
            } else if m.is_dir() {
                stack.push(p.clone());
                format!("{rel}/ {:o}", m.mode() & 0o7777)
            } else {
                let data = std::fs::read(&p).unwrap();
                let sum: u64 = data.iter().map(|&b| b as u64).sum();
                format!(
                    "{rel} {:o} {} {} {sum}",
                    m.mode() & 0o7777,
                    m.len(),
                    m.mtime()
                )
            };
            out.push(line);
        }
    }
    out.sort();
    out
}

#[test]
fn cp_copies_both_ways_while_running_and_after_stop() {
    let name = "dc-cp";
    detached(name, &[], "sleep 60");
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    make_tree(&src);
    let want = tree(&src);
    // Into a running container: a directory to a new name, owned by root (Docker's
    // cp), then back out.
    ok_stdout(&wsh_args(&[
        "cp",
        src.to_str().unwrap(),
        &format!("{name}:/data"),
    ]));
    assert_eq!(
        ok_stdout(&wsh_args(&[
            "exec",
            name,
            "sh",
            "-c",
            "cat /data/a.txt; stat -c '%u %a' /data/sub/run.sh"
        ])),
        "alpha\n0 750\n"
    );
    let out1 = dir.path().join("out1");
    ok_stdout(&wsh_args(&[
        "cp",
        &format!("{name}:/data"),
        out1.to_str().unwrap(),
    ]));
    assert_eq!(tree(&out1), want);
    // Into an existing directory: DEST/basename(SRC); a file onto a new name; DIR/. as contents.
    ok_stdout(&wsh_args(&[
        "cp",
        src.join("a.txt").to_str().unwrap(),
        &format!("{name}:/tmp"),
    ]));
    ok_stdout(&wsh_args(&[
        "cp",
        src.join("a.txt").to_str().unwrap(),
        &format!("{name}:/renamed"),
    ]));
    ok_stdout(&wsh_args(&["exec", name, "mkdir", "/contents"]));
    ok_stdout(&wsh_args(&[
        "cp",
        &format!("{}/.", src.display()),
        &format!("{name}:/contents"),
    ]));
    assert_eq!(
        ok_stdout(&wsh_args(&[
            "exec",
            name,
            "sh",
            "-c",
            "cat /tmp/a.txt /renamed /contents/a.txt; ls /contents"
        ])),
        "alpha\nalpha\nalpha\na.txt\nempty\nlink\nsub\n"
    );
    // A missing source, a directory onto a file, a missing parent: clear errors.
    let out = wsh_args(&["cp", &format!("{name}:/nope"), dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no such file or directory: /nope"),
        "{}",
        text(&out.stderr)
    );
    let out = wsh_args(&["cp", src.to_str().unwrap(), &format!("{name}:/renamed")]);
    assert!(
        text(&out.stderr).contains("not a directory"),
        "{}",
        text(&out.stderr)
    );
    let out = wsh_args(&["cp", src.to_str().unwrap(), &format!("{name}:/no/such/dir")]);
    assert!(
        text(&out.stderr).contains("no such directory"),
        "{}",
        text(&out.stderr)
    );

    // Stopped: the files stay, and cp reads and writes them without a supervisor.
    ok_stdout(&wsh_args(&["stop", "-t", "2", name]));
    let out2 = dir.path().join("out2");
    ok_stdout(&wsh_args(&[
        "cp",
        &format!("{name}:/data"),
        out2.to_str().unwrap(),
    ]));
    assert_eq!(tree(&out2), want);
    std::fs::write(dir.path().join("late"), "late\n").unwrap();
    ok_stdout(&wsh_args(&[
        "cp",
        "-a",
        dir.path().join("late").to_str().unwrap(),
        &format!("{name}:/data/"),
    ]));
    let late = dir.path().join("late-back");
    ok_stdout(&wsh_args(&[
        "cp",
        &format!("{name}:/data/late"),
        late.to_str().unwrap(),
    ]));
    assert_eq!(std::fs::read_to_string(&late).unwrap(), "late\n");

    // The container's layer stays a clean ext4 file system: committed and exported,
    // e2fsck finds nothing, and -a kept the host owner.
    let id = ok_stdout(&wsh_args(&["commit", name]));
    let id = id.trim().strip_prefix("sha256:").unwrap().to_string();
    let img = dir.path().join("flat.img");
    ok_stdout(&wsh_args(&["export", &id, img.to_str().unwrap()]));
    let fsck = std::process::Command::new("e2fsck")
        .args(["-fn", img.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(fsck.status.success(), "{}", text(&fsck.stdout));
    let uid = std::fs::metadata(dir.path()).unwrap().uid();
    assert_eq!(
        ok_stdout(&wsh_args(&["run", &id, "stat", "-c", "%u", "/data/late"])),
        format!("{uid}\n")
    );
    ok_stdout(&wsh_args(&["rm", name]));
    ok_stdout(&wsh_args(&["rmi", &id]));
}

#[test]
fn commit_makes_an_image_of_a_container_running_or_stopped() {
    let name = "dc-commit";
    detached(name, &[], "echo made > /made; sleep 60");
    eventually("the command wrote its file", || {
        wsh_args(&["exec", name, "cat", "/made"]).status.success()
    });
    let out = ok_stdout(&wsh_args(&[
        "commit",
        "-m",
        "from a test",
        "-c",
        "CMD [\"cat\", \"/made\"]",
        "-c",
        "ENV GREETING=hello",
        name,
        "dc-commit-img:1",
    ]));
    assert!(
        out.starts_with("sha256:") && out.trim().len() == 71,
        "{out}"
    );
    assert_eq!(ok_stdout(&wsh_args(&["run", "dc-commit-img:1"])), "made\n");
    assert_eq!(
        ok_stdout(&wsh_args(&[
            "run",
            "dc-commit-img:1",
            "sh",
            "-c",
            "echo $GREETING"
        ])),
        "hello\n"
    );
    assert!(ok_stdout(&wsh_args(&["history", "dc-commit-img:1"])).contains("from a test"));
    // The container goes on, and is committed again once stopped.
    ok_stdout(&wsh_args(&["exec", name, "sh", "-c", "echo more >> /made"]));
    ok_stdout(&wsh_args(&["stop", "-t", "2", name]));
    ok_stdout(&wsh_args(&["commit", name, "dc-commit-img:2"]));
    assert_eq!(
        ok_stdout(&wsh_args(&["run", "dc-commit-img:2", "cat", "/made"])),
        "made\nmore\n"
    );
    let bad = wsh_args(&["commit", "-c", "VOLUME /x", name]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("only CMD"),
        "{}",
        text(&bad.stderr)
    );
    ok_stdout(&wsh_args(&["rm", name]));
    ok_stdout(&wsh_args(&["rmi", "dc-commit-img:1"]));
    ok_stdout(&wsh_args(&["rmi", "dc-commit-img:2"]));
}

#[test]
fn start_and_restart_run_again_on_the_kept_files() {
    let name = "dc-start";
    detached(name, &[], "echo run >> /runs; echo logged; sleep 60");
    eventually("the first run wrote", || {
        text(&wsh_args(&["exec", name, "cat", "/runs"]).stdout) == "run\n"
    });
    ok_stdout(&wsh_args(&["stop", "-t", "2", name]));
    assert_eq!(ok_stdout(&wsh_args(&["start", name])), format!("{name}\n"));
    eventually("the second run wrote", || {
        text(&wsh_args(&["exec", name, "cat", "/runs"]).stdout) == "run\nrun\n"
    });
    assert_eq!(
        ok_stdout(&wsh_args(&["restart", "-t", "2", name])),
        format!("{name}\n")
    );
    eventually("the third run wrote", || {
        text(&wsh_args(&["exec", name, "cat", "/runs"]).stdout) == "run\nrun\nrun\n"
    });
    assert_eq!(
        ok_stdout(&wsh_args(&["logs", name])),
        "logged\nlogged\nlogged\n"
    );
    // start of a running container changes nothing.
    assert_eq!(ok_stdout(&wsh_args(&["start", name])), format!("{name}\n"));
    ok_stdout(&wsh_args(&["rm", "-f", name]));
    assert!(!ok_stdout(&wsh_args(&["ps", "-a"])).contains(name));
}

#[test]
fn port_lists_the_published_ports() {
    let name = "dc-port";
    detached(name, &["-p", "80", "-p", "127.0.0.1::81"], "sleep 60");
    eventually("ports are recorded", || {
        text(&wsh_args(&["port", name]).stdout).lines().count() == 2
    });
    let all = ok_stdout(&wsh_args(&["port", name]));
    let lines: Vec<&str> = all.lines().collect();
    assert!(lines[0].starts_with("80/tcp -> 127.0.0.1:"), "{all}");
    assert!(lines[1].starts_with("81/tcp -> 127.0.0.1:"), "{all}");
    let one = ok_stdout(&wsh_args(&["port", name, "80/tcp"]));
    assert_eq!(one.trim(), lines[0].split(" -> ").nth(1).unwrap());
    // The host port is really bound.
    assert!(std::net::TcpStream::connect(one.trim()).is_ok());
    let none = wsh_args(&["port", name, "82"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none.stderr).contains("no public port '82/tcp'"));
    ok_stdout(&wsh_args(&["stop", "-t", "2", name]));
    assert_eq!(ok_stdout(&wsh_args(&["port", name])), "");
    ok_stdout(&wsh_args(&["rm", name]));
}

#[test]
fn builder_prune_drops_the_cache_and_says_what_it_freed() {
    // A store of its own: pruning the shared one would take other tests' cache away.
    let home = tempfile::tempdir().unwrap();
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Balenafile"),
        "FROM base\nRUN head -c 200000 /dev/urandom > /blob\n",
    )
    .unwrap();
    let build = || {
        wsh_cmd(home.path())
            .args(["build", "--progress=plain", ctx.path().to_str().unwrap()])
            .output()
            .unwrap()
    };
    let first = build();
    ok_stdout(&first);
    let again = build();
    assert!(
        text(&again.stderr).contains("CACHED"),
        "{}",
        text(&again.stderr)
    );
    let out = ok_stdout(
        &wsh_cmd(home.path())
            .args(["builder", "prune", "-f"])
            .output()
            .unwrap(),
    );
    let freed = out
        .lines()
        .find_map(|l| l.strip_prefix("Total reclaimed space: "))
        .unwrap_or_else(|| panic!("{out}"));
    assert_ne!(freed, "0 B", "{out}");
    assert!(out.lines().nth(1).is_some_and(|l| l.len() == 64), "{out}");
    let third = build();
    assert!(
        !text(&third.stderr).contains("CACHED"),
        "{}",
        text(&third.stderr)
    );
    // The base image is tagged: it stays.
    ok_stdout(
        &wsh_cmd(home.path())
            .args(["run", "base", "true"])
            .output()
            .unwrap(),
    );
}

/// Commits `name` and checks the flattened image with e2fsck; returns the image id.
fn fsck_of(name: &str) -> String {
    let id = ok_stdout(&wsh_args(&["commit", name]));
    let id = id.trim().strip_prefix("sha256:").unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("flat.img");
    ok_stdout(&wsh_args(&["export", &id, img.to_str().unwrap()]));
    let fsck = std::process::Command::new("e2fsck")
        .args(["-fn", img.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(fsck.status.success(), "{}", text(&fsck.stdout));
    id
}

#[test]
fn files_stay_consistent_when_a_container_stops_during_an_exec() {
    let name = "dc-busy";
    detached(name, &[], "sleep 60");
    // A writer that never ends on its own, cut by stop.
    let mut writer = wsh_cmd(wsh_home())
        .args([
            "exec",
            name,
            "sh",
            "-c",
            "i=0; while :; do echo $i > /w$((i % 50)); i=$((i+1)); done",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually("the writer writes", || {
        wsh_args(&["exec", name, "test", "-e", "/w10"])
            .status
            .success()
    });
    ok_stdout(&wsh_args(&["stop", "-t", "5", name]));
    let _ = writer.wait();
    let id = fsck_of(name);
    ok_stdout(&wsh_args(&["rmi", &id]));
    // The same when the container's own command ends under a writing exec.
    ok_stdout(&wsh_args(&["rm", name]));
    detached(name, &[], "sleep 2");
    let _ = wsh_args(&[
        "exec",
        name,
        "sh",
        "-c",
        "i=0; while :; do echo $i > /v$((i % 50)); i=$((i+1)); done",
    ]);
    assert_eq!(ok_stdout(&wsh_args(&["wait", name])), "0\n");
    let id = fsck_of(name);
    assert!(
        ok_stdout(&wsh_args(&["run", &id, "cat", "/v1"]))
            .trim()
            .parse::<u64>()
            .is_ok()
    );
    ok_stdout(&wsh_args(&["rm", name]));
    ok_stdout(&wsh_args(&["rmi", &id]));
}
