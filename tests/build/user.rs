//! USER and `wsh run -u`, each test named after the Docker behaviour it checks
//! (part of the `build` test crate: its helpers are the parent module's). The base
//! image has only root, so each build adds `app` (1000:1000) as Docker users do
//! with adduser; what a non-root user may do is also judged against the host
//! kernel (`setpriv` as uid 1000) when it can run.

use super::*;

/// A Balenafile prefix that adds user `app` (uid 1000, group `app` 1000, home
/// /home/app owned by it) and a world-writable root file in the sticky /tmp.
const ADD_APP: &str = "FROM base\nRUN echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group && echo 'staff:x:50:app' >> /etc/group && mkdir /home/app && chown app:app /home/app && touch /tmp/rootf && chmod 666 /tmp/rootf\n";

/// Builds `ADD_APP` + `rest` and tags it `tag`.
fn app_image(rest: &str, tag: &str) -> String {
    let dir = context(&[], &format!("{ADD_APP}{rest}"));
    built(dir.path(), &["-t", tag])
}

#[test]
fn user_instruction_runs_later_steps_as_that_user() {
    let dir = context(
        &[],
        &format!(
            "{ADD_APP}USER app\nRUN id > /home/app/id && whoami >> /home/app/id && id -u >> /home/app/id && touch /home/app/made && mkdir /home/app/dir && ln -s made /home/app/link\nWORKDIR /srv/app\nRUN touch here\n"
        ),
    );
    let img = dir.path().join("out.img");
    built(dir.path(), &["-t", "user-steps:test"]);
    let out = run(&["user-steps:test", "cat", "/home/app/id"]);
    assert_eq!(
        text(&out.stdout),
        "uid=1000(app) gid=1000(app) groups=1000(app),50(staff)\napp\n1000\n",
        "{}",
        text(&out.stderr)
    );
    // Files made by the guest (touch, mkdir, ln -s), by the interpreter's own
    // redirection (`> id`) and by WORKDIR (as BuildKit does) belong to the user.
    let out = run(&[
        "user-steps:test",
        "stat",
        "-c",
        "%U:%G %u:%g %n",
        "/home/app/id",
        "/home/app/made",
        "/home/app/dir",
        "/home/app/link",
        "/srv",
        "/srv/app/here",
    ]);
    assert_eq!(
        text(&out.stdout),
        "app:app 1000:1000 /home/app/id\napp:app 1000:1000 /home/app/made\napp:app 1000:1000 /home/app/dir\napp:app 1000:1000 /home/app/link\napp:app 1000:1000 /srv\napp:app 1000:1000 /srv/app/here\n",
        "{}",
        text(&out.stderr)
    );
    // ... on disk, as the kernel's ext4 (debugfs) reads the exported image.
    let out = wsh_cmd(wsh_home())
        .args(["export", "user-steps:test"])
        .arg(&img)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stat = host(
        "debugfs",
        &["-R", "stat /home/app/made", img.to_str().unwrap()],
    );
    let stat = text(&stat.stdout);
    assert!(
        stat.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()[..]
                .starts_with(&["User:", "1000", "Group:", "1000"])),
        "{stat}"
    );
}

#[test]
fn user_cannot_write_root_owned_dirs() {
    let id = app_image("USER app\n", "user-denied:test");
    let file = |dir: &tempfile::TempDir| dir.path().join("Balenafile");
    for (step, message) in [
        ("RUN touch /root/x", "Permission denied"),
        (
            "RUN echo hi > /etc/passwd",
            "/etc/passwd: Permission denied",
        ),
        ("RUN mkdir /etc/x", "Permission denied"),
        ("RUN cat /root/.profile", "Permission denied"),
    ] {
        let dir = context(&[], &format!("FROM {id}\n{step}\n"));
        let out = build(dir.path(), &[]);
        let line = error_line(&out, file(&dir).to_str().unwrap());
        assert!(line.contains(":2: RUN failed with exit status 1"), "{line}");
        assert!(
            text(&out.stderr).contains(message),
            "{step}:\n{}",
            text(&out.stderr)
        );
    }
    // Where the user may write, it can; the sticky /tmp keeps root's file from it.
    let dir = context(
        &[],
        &format!(
            "FROM {id}\nRUN touch /tmp/mine && echo x >> /tmp/rootf && rm /tmp/mine\nRUN if rm -f /tmp/rootf; then exit 1; fi; test -f /tmp/rootf\nRUN if chmod 600 /tmp/rootf; then exit 1; fi; if chown app /tmp/rootf; then exit 1; fi\nRUN touch /tmp/g && chgrp staff /tmp/g && test \"$(stat -c %G /tmp/g)\" = staff && if chgrp root /tmp/g; then exit 1; fi\nRUN test -r /etc/passwd && ! test -w /etc/passwd && test -w /tmp/rootf && test -x /bin/ls && ! test -O /tmp && test -O /home/app\nRUN if cd /root; then exit 1; fi; cd /home/app && test \"$(pwd)\" = /home/app\n"
        ),
    );
    built(dir.path(), &[]);
}

#[test]
fn user_cannot_run_programs_without_an_execute_bit() {
    let id = app_image(
        "RUN cp /bin/coreutils /home/app/echo && chmod 700 /home/app/echo && cp /bin/coreutils /home/app/true && chmod 644 /home/app/true && chmod 755 /home/app\nUSER app\n",
        "user-exec:test",
    );
    // Root's 0700 copy: bash's "Permission denied", status 126.
    let out = run(&[&id, "/home/app/echo", "hi"]);
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("/home/app/echo: Permission denied"));
    let out = run(&["-u", "0", &id, "/home/app/echo", "root runs it"]);
    assert_eq!(text(&out.stdout), "root runs it\n", "{}", text(&out.stderr));
    // Root too needs an execute bit for someone.
    let out = run(&["-u", "0", &id, "/home/app/true"]);
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("/home/app/true: Permission denied"));
}

#[test]
fn run_user_option_overrides_image_user() {
    let id = app_image("USER app\nCMD [\"id\"]\n", "user-run:test");
    let stdout = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    // Supplementary groups come from /etc/group (app is a member of staff).
    assert_eq!(
        stdout(&[&id]),
        "uid=1000(app) gid=1000(app) groups=1000(app),50(staff)\n"
    );
    assert_eq!(stdout(&[&id, "id", "-Gn"]), "app staff\n");
    assert_eq!(
        stdout(&["-u", "root", &id]),
        "uid=0(root) gid=0(root) groups=0(root)\n"
    );
    assert_eq!(stdout(&["--user", "0", &id, "id", "-u"]), "0\n");
    // A numeric uid need not be in /etc/passwd (its gid is then 0); a group can be named.
    assert_eq!(stdout(&["-u", "4242", &id, "id", "-g"]), "0\n");
    assert_eq!(stdout(&["-u", "4242:77", &id, "id", "-u"]), "4242\n");
    // An explicit group replaces the primary one and drops the supplementary ones.
    assert_eq!(
        stdout(&["-u", "app:staff", &id]),
        "uid=1000(app) gid=50(staff) groups=50(staff)\n"
    );
    // A shell-form CMD and a script of the interpreter run as the user too.
    assert_eq!(
        stdout(&[&id, "sh", "-c", "touch /tmp/f; stat -c %u /tmp/f"]),
        "1000\n"
    );
}

#[test]
fn user_unknown_name_is_an_error() {
    let dir = context(&[], "FROM base\nUSER ghost\nRUN true\n");
    let out = build(dir.path(), &[]);
    let line = error_line(&out, dir.path().join("Balenafile").to_str().unwrap());
    assert!(
        line.contains(":3: unable to find user ghost: no matching entries in passwd file"),
        "{line}"
    );
    // USER alone is only recorded; running the image names the missing user.
    let dir = context(&[], "FROM base\nUSER ghost\nCMD [\"true\"]\n");
    let id = built(dir.path(), &[]);
    let out = run(&[&id]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unable to find user ghost: no matching entries in passwd file"),
        "{}",
        text(&out.stderr)
    );
    let id = app_image("", "user-group:test");
    let out = run(&["-u", "app:nogroup", &id, "true"]);
    assert!(
        text(&out.stderr)
            .contains("unable to find group nogroup: no matching entries in group file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn user_home_comes_from_passwd() {
    let id = app_image("USER app\n", "user-home:test");
    let out = run(&[&id, "sh", "-c", "echo $HOME; cd; pwd"]);
    assert_eq!(
        text(&out.stdout),
        "/home/app\n/home/app\n",
        "{}",
        text(&out.stderr)
    );
    // Root's is /root; a uid without an entry gets /; ENV HOME wins over passwd.
    let out = run(&["-u", "0", &id, "sh", "-c", "echo $HOME"]);
    assert_eq!(text(&out.stdout), "/root\n");
    let out = run(&["-u", "4242", &id, "sh", "-c", "echo $HOME"]);
    assert_eq!(text(&out.stdout), "/\n");
    let dir = context(
        &[],
        &format!("FROM {id}\nENV HOME=/srv\nRUN test \"$HOME\" = /srv\n"),
    );
    let child = built(dir.path(), &[]);
    let out = run(&[&child, "sh", "-c", "echo $HOME"]);
    assert_eq!(text(&out.stdout), "/srv\n");
}

/// The same script as uid 1000 on the host (setpriv, in a temp dir) and as `app`
/// in an image with the same layout: every command's status must agree.
#[test]
fn user_permissions_match_the_host_kernel() {
    // Paths below $T: the host runs it in a temp dir, wsh at /t.
    let script = &format!(
        "{PERMISSION_PROBES}{}",
        r#"ls "$T/searchonly" > /dev/null 2>&1; s list-searchonly
( cd "$T/closed" 2>/dev/null ); s cd-closed
test -r "$T/rootdir/secret"; s test-r
test -w "$T/sticky/rootf"; s test-w
test -x "$T/rootdir/readable"; s test-x
"$T/rootdir/readable" 2>/dev/null; s exec-no-x
"#
    );
    let tmp = tempfile::tempdir().unwrap();
    let t = permission_tree(tmp.path());
    let Some(host_text) = as_uid_1000_on_host(&t, script) else {
        return;
    };
    let dir = context(
        &[("setup.sh", PERMISSION_SETUP), ("script.sh", script)],
        &format!(
            "{ADD_APP}COPY setup.sh script.sh /\nRUN mkdir /t && T=/t sh /setup.sh\nUSER app\nRUN T=/t sh /script.sh > /tmp/out\n"
        ),
    );
    let id = built(dir.path(), &[]);
    let out = run(&[&id, "cat", "/tmp/out"]);
    assert_eq!(text(&out.stdout), host_text, "{}", text(&out.stderr));
}
