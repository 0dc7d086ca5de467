//! `RUN --mount` (BuildKit's build mounts), each test named after the Docker
//! behaviour it checks (part of the `build` test crate: its helpers are the parent
//! module's). Most checks run inside the build, so a wrong behaviour fails it.

use super::*;

/// Something no earlier run of the tests wrote (cache ids, file contents).
fn nonce() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// `sh -c SCRIPT` in a container of `image`; its status and stdout.
fn sh_in(image: &str, script: &str) -> (Option<i32>, String) {
    let out = run(&[image, "sh", "-c", script]);
    (out.status.code(), text(&out.stdout))
}

/// Exports `image` and checks it with `e2fsck -fn`; returns the image file's path.
fn exported_clean(image: &str, dir: &Path) -> std::path::PathBuf {
    let img = dir.join("out.img");
    let out = wsh_cmd(wsh_home())
        .args(["export", image])
        .arg(&img)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let fsck = host("e2fsck", &["-fn", img.to_str().unwrap()]);
    assert!(
        fsck.status.success(),
        "e2fsck:\n{}{}",
        text(&fsck.stdout),
        text(&fsck.stderr)
    );
    img
}

#[test]
fn run_mount_cache_persists_between_builds_and_is_not_in_the_image() {
    let id = nonce();
    let first = context(
        &[],
        &format!(
            "FROM base\nRUN --mount=type=cache,target=/var/cache/app,id={id} [ ! -e /var/cache/app/log ] && echo one >> /var/cache/app/log\n"
        ),
    );
    let img1 = built(first.path(), &[]);
    // Another build, another step: the same cache id sees what the first one left.
    let second = context(
        &[],
        &format!(
            "FROM base\nWORKDIR /w\nRUN --mount=type=cache,target=/var/cache/app,id={id} [ \"$(cat /var/cache/app/log)\" = one ] && echo two >> /var/cache/app/log && cp /var/cache/app/log /w/seen\n"
        ),
    );
    let img2 = built(second.path(), &[]);
    // The cache's content is no part of the step's key: the first build, rerun now
    // that the cache holds more, is all CACHED.
    let again = build(first.path(), &[]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(cached_steps(&again), 1, "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout).trim(), img1);
    // The mount point stays, empty, in the layer (as BuildKit leaves it); nothing
    // written below it does.
    assert_eq!(
        sh_in(
            &img2,
            "test -d /var/cache/app && test -z \"$(ls -A /var/cache/app)\" && cat /w/seen"
        ),
        (Some(0), "one\ntwo\n".to_string())
    );
    let img = exported_clean(&img2, second.path());
    let ls = text(
        &host(
            "debugfs",
            &["-R", "ls -p /var/cache/app", img.to_str().unwrap()],
        )
        .stdout,
    );
    let names: Vec<&str> = ls
        .lines()
        .filter_map(|l| l.split('/').nth(5))
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .collect();
    assert!(names.is_empty(), "{ls}");
}

#[test]
fn run_mount_cache_ids_default_to_the_target_and_ro_refuses_writes() {
    let target = format!("/cache-{}", nonce());
    let dir = context(
        &[],
        &format!(
            "FROM base\nRUN --mount=type=cache,target={target} echo kept > {target}/f\nRUN --mount=type=cache,target={target},ro [ \"$(cat {target}/f)\" = kept ] && if echo x > {target}/g; then exit 9; fi\nRUN --mount=type=cache,target={target},id=other [ ! -e {target}/f ]\n"
        ),
    );
    built(dir.path(), &[]);
}

#[test]
fn run_mount_cache_mode_uid_gid_set_a_new_cache_directory() {
    let dir = context(
        &[],
        &format!(
            "FROM base\nRUN --mount=type=cache,target=/c,id={},mode=0710,uid=123,gid=456 [ \"$(stat -c '%a %u %g' /c)\" = '710 123 456' ]\n",
            nonce()
        ),
    );
    built(dir.path(), &[]);
}

#[test]
fn run_mount_bind_sees_the_context_read_only() {
    // Without .balenaignore (the context is mounted as it is) and with one (a
    // filtered copy is): the same view, and neither can be written.
    for ignore in [None, Some("secret.txt\nsrc/*.tmp\n")] {
        let mut files = vec![
            ("src/a.txt", "hello\n"),
            ("src/b.tmp", "scratch\n"),
            ("secret.txt", "s3cr3t\n"),
        ];
        if let Some(rules) = ignore {
            files.push((".balenaignore", rules));
        }
        let hidden = if ignore.is_some() { "! -e" } else { "-e" };
        let dir = context(
            &files,
            &format!(
                "FROM base\nRUN --mount=target=/ctx [ \"$(cat /ctx/src/a.txt)\" = hello ] && [ {hidden} /ctx/secret.txt ] && [ {hidden} /ctx/src/b.tmp ] && if echo x > /ctx/new; then exit 9; fi && if rm /ctx/src/a.txt; then exit 8; fi\nWORKDIR /app\nRUN --mount=type=bind,source=src,target=s cat s/a.txt > /app/copied\n"
            ),
        );
        let id = built(dir.path(), &[]);
        assert_eq!(
            sh_in(
                &id,
                "cat /app/copied && test -d /app/s && test -z \"$(ls -A /app/s)\" && test -z \"$(ls -A /ctx)\""
            ),
            (Some(0), "hello\n".to_string()),
            "{ignore:?}"
        );
        assert!(!dir.path().join("new").exists());
        assert!(dir.path().join("src/a.txt").exists());
    }
}

#[test]
fn run_mount_bind_rw_writes_are_discarded() {
    let dir = context(
        &[("data/a.txt", "original\n")],
        "FROM base\nRUN --mount=source=data,target=/d,rw echo changed > /d/a.txt && echo new > /d/new && [ \"$(cat /d/a.txt)\" = changed ]\nRUN --mount=source=data,target=/d [ \"$(cat /d/a.txt)\" = original ] && [ ! -e /d/new ]\n",
    );
    let id = built(dir.path(), &[]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("data/a.txt")).unwrap(),
        "original\n"
    );
    assert!(!dir.path().join("data/new").exists());
    assert_eq!(
        sh_in(&id, "test -z \"$(ls -A /d)\""),
        (Some(0), String::new())
    );
}

#[test]
fn run_mount_bind_change_reruns_the_step() {
    let home = private_home();
    let dir = context(
        &[
            ("src/in.txt", &format!("v1 {}\n", nonce())),
            ("other.txt", "x\n"),
        ],
        "FROM base\nRUN --mount=source=src,target=/src cat /src/in.txt > /out\n",
    );
    let first = build_in(home.path(), dir.path(), &[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(cached_steps(&first), 0, "{}", text(&first.stderr));
    let same = build_in(home.path(), dir.path(), &[]);
    assert_eq!(cached_steps(&same), 1, "{}", text(&same.stderr));
    // A file outside the bound source is not read by the step.
    std::fs::write(dir.path().join("other.txt"), "y\n").unwrap();
    let outside = build_in(home.path(), dir.path(), &[]);
    assert_eq!(cached_steps(&outside), 1, "{}", text(&outside.stderr));
    // A changed bound file reruns it.
    std::fs::write(dir.path().join("src/in.txt"), "v2\n").unwrap();
    let changed = build_in(home.path(), dir.path(), &[]);
    assert!(changed.status.success(), "{}", text(&changed.stderr));
    assert_eq!(cached_steps(&changed), 0, "{}", text(&changed.stderr));
    assert_ne!(text(&changed.stdout), text(&first.stdout));
    // So does a changed mount spec.
    std::fs::write(
        dir.path().join("Balenafile"),
        "FROM base\nRUN --mount=source=src,target=/src,rw cat /src/in.txt > /out\n",
    )
    .unwrap();
    let respec = build_in(home.path(), dir.path(), &[]);
    assert_eq!(cached_steps(&respec), 0, "{}", text(&respec.stderr));
}

#[test]
fn run_mount_tmpfs_is_empty_and_discarded() {
    let dir = context(
        &[],
        "FROM base\nRUN mkdir -p /app/tmp && echo image > /app/tmp/old\nWORKDIR /app\nRUN --mount=type=tmpfs,target=tmp [ -z \"$(ls -A /app/tmp)\" ] && echo x > tmp/f && [ -f /app/tmp/f ]\nRUN --mount=type=tmpfs,target=/t [ ! -e /t/f ]\n",
    );
    let id = built(dir.path(), &[]);
    // The image's own files under the mount point were hidden, not replaced.
    assert_eq!(
        sh_in(
            &id,
            "cat /app/tmp/old && test ! -e /app/tmp/f && test -d /t"
        ),
        (Some(0), "image\n".to_string())
    );
}

#[test]
fn run_mount_tmpfs_size_is_a_limit() {
    let dir = context(
        &[],
        "FROM base\nRUN --mount=type=tmpfs,target=/t,size=1k seq 2000 > /t/big\n",
    );
    let line = error_line(
        &build(dir.path(), &[]),
        dir.path().join("Balenafile").to_str().unwrap(),
    );
    assert!(
        line.contains(":2: ") && line.contains("over size=1024"),
        "{line}"
    );
}

#[test]
fn run_mount_from_a_stage_sees_its_files() {
    let dir = context(
        &[],
        "FROM base AS build\nRUN mkdir -p /out/sub && echo built > /out/sub/f && chmod 750 /out/sub\nFROM base\nRUN --mount=from=build,source=/out,target=/o [ \"$(cat /o/sub/f)\" = built ] && cp /o/sub/f /got && if echo x > /o/new; then exit 9; fi\n",
    );
    let id = built(dir.path(), &[]);
    assert_eq!(
        sh_in(&id, "cat /got && test -z \"$(ls -A /o)\""),
        (Some(0), "built\n".to_string())
    );
}

#[test]
fn run_mount_secret_is_refused_with_file_and_line() {
    for (flag, says) in [
        (
            "--mount=type=secret,id=token",
            "RUN --mount=type=secret is not supported",
        ),
        ("--mount=type=ssh", "RUN --mount=type=ssh is not supported"),
        ("--network=none", "RUN --network is not supported"),
        ("--security=insecure", "RUN --security is not supported"),
        ("--mount=type=volume,target=/v", "unsupported mount type"),
        ("--mount=target=/x,bogus=1", "unexpected key 'bogus'"),
    ] {
        let dir = context(&[], &format!("FROM base\n# note\nRUN {flag} true\n"));
        let line = error_line(
            &build(dir.path(), &[]),
            dir.path().join("Balenafile").to_str().unwrap(),
        );
        assert!(
            line.contains(":3: ") && line.contains(says),
            "{flag}: {line}"
        );
    }
}

#[test]
fn run_mount_bind_of_a_file_or_outside_path_is_an_error() {
    for (src, says) in [
        ("a.txt", "not a directory"),
        ("../", "outside the build context"),
        ("missing", "not found in the build context"),
    ] {
        let dir = context(
            &[("a.txt", "a\n")],
            &format!("FROM base\nRUN --mount=source={src},target=/m true\n"),
        );
        let line = error_line(
            &build(dir.path(), &[]),
            dir.path().join("Balenafile").to_str().unwrap(),
        );
        assert!(
            line.contains(":2: ") && line.contains(says),
            "{src}: {line}"
        );
    }
}

#[test]
fn run_mount_values_take_args_and_env() {
    let dir = context(
        &[("data/x", "x\n")],
        "FROM base\nARG DIR=data\nENV MNT=/mnt/data\nRUN --mount=source=$DIR,target=${MNT} [ \"$(cat /mnt/data/x)\" = x ]\n",
    );
    built(dir.path(), &[]);
}

#[test]
fn run_mount_cache_sharing_locked_runs_one_step_at_a_time() {
    let id = nonce();
    let step = |who: &str| {
        format!(
            "FROM base\nRUN --mount=type=cache,target=/c,id={id},sharing=locked echo start {who} >> /c/log && sleep 2 && echo end {who} >> /c/log\n"
        )
    };
    let dirs = [context(&[], &step("a")), context(&[], &step("b"))];
    let builds: Vec<_> = dirs
        .iter()
        .map(|d| {
            wsh_cmd(wsh_home())
                .arg("build")
                .arg(d.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for b in builds {
        let out = b.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let show = context(
        &[],
        &format!("FROM base\nRUN --mount=type=cache,target=/c,id={id} cat /c/log\n"),
    );
    let out = build(show.path(), &[]);
    let log: Vec<String> = text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("start ") || l.starts_with("end "))
        .map(str::to_string)
        .collect();
    assert_eq!(log.len(), 4, "{}", text(&out.stderr));
    for pair in log.chunks(2) {
        assert_eq!(
            pair[0].replace("start", "end"),
            pair[1],
            "the steps overlapped: {log:?}"
        );
    }
}

#[test]
fn run_mount_cache_from_a_stage_starts_as_its_copy() {
    let id = nonce();
    let dir = context(
        &[],
        &format!(
            "FROM base AS seed\nRUN mkdir -p /seed && echo seeded > /seed/f\nFROM base\nRUN --mount=type=cache,target=/c,id={id},from=seed,source=/seed [ \"$(cat /c/f)\" = seeded ] && echo more > /c/g\nRUN --mount=type=cache,target=/c,id={id},from=seed,source=/seed [ -f /c/g ] && [ -f /c/f ]\n"
        ),
    );
    built(dir.path(), &[]);
}

#[test]
fn run_mount_cache_sharing_private_gets_a_fresh_cache_while_it_is_held() {
    use std::io::BufRead as _;
    let id = nonce();
    let seed = context(
        &[],
        &format!("FROM base\nRUN --mount=type=cache,target=/c,id={id} echo old > /c/marker\n"),
    );
    built(seed.path(), &[]);
    // A locked step holds the cache (and says so once it does) ...
    let holder = context(
        &[],
        &format!(
            "FROM base\nRUN --mount=type=cache,target=/c,id={id},sharing=locked [ -f /c/marker ] && echo holding-{id} && sleep 4\n"
        ),
    );
    let mut child = wsh_cmd(wsh_home())
        .arg("build")
        .arg(holder.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Its stderr is read to the end (a closed pipe would fail the build).
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        for line in stderr.lines().map_while(Result::ok) {
            log.push_str(&line);
            log.push('\n');
            let _ = tx.send(line);
        }
        log
    });
    let holding = format!("holding-{id}");
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(120)) {
        if line == holding {
            break;
        }
    }
    // ... so a private step meanwhile gets an empty cache of its own, and does not wait.
    let private = context(
        &[],
        &format!(
            "FROM base\nRUN --mount=type=cache,target=/c,id={id},sharing=private [ ! -e /c/marker ] && echo mine > /c/marker\n"
        ),
    );
    let started = std::time::Instant::now();
    let out = build(private.path(), &[]);
    let waited = started.elapsed();
    let held = child.wait().unwrap();
    let log = reader.join().unwrap();
    assert!(
        out.status.success(),
        "{}\nholder:\n{log}",
        text(&out.stderr)
    );
    assert!(log.contains(&holding) && held.success(), "{log}");
    assert!(waited < std::time::Duration::from_secs(4), "{waited:?}");
    // The private cache was dropped: the shared one still holds the old marker.
    let check = context(
        &[],
        &format!(
            "FROM base\nRUN --mount=type=cache,target=/c,id={id} [ \"$(cat /c/marker)\" = old ]\n"
        ),
    );
    built(check.path(), &[]);
}
