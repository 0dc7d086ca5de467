//! SHELL and ONBUILD, each test named after the Docker behaviour it checks (part of
//! the `build` test crate: its helpers are the parent module's).

use super::*;

#[test]
fn shell_instruction_changes_run_shell() {
    // Default: `/bin/sh -c`, so `false; ...` goes on.
    let dir = context(
        &[],
        "FROM base\nRUN false; echo default > /d\nSHELL [\"/bin/bash\", \"-c\"]\nRUN echo $0 > /zero\nRUN [ \"$(cat /zero)\" = /bin/bash ] && [ -f /d ]\n",
    );
    let c = inspect(&built(dir.path(), &[]));
    assert_eq!(c["shell"], serde_json::json!(["/bin/bash", "-c"]));
    // SHELL ["/bin/sh", "-e", "-c"]: the shell form now stops at the first failure.
    let dir = context(
        &[],
        "FROM base\nSHELL [\"/bin/sh\", \"-e\", \"-c\"]\nRUN false; echo survived\n",
    );
    let out = build(dir.path(), &[]);
    let line = error_line(&out, dir.path().join("Balenafile").to_str().unwrap());
    assert!(line.contains(":3: RUN failed with exit status 1"), "{line}");
    assert!(!text(&out.stderr).lines().any(|l| l == "survived"));
}

#[test]
fn shell_instruction_changes_cmd_and_entrypoint_and_is_inherited() {
    let parent = context(&[], "FROM base\nSHELL [\"/bin/bash\", \"-c\"]\n");
    built(parent.path(), &["-t", "shell-parent-test"]);
    let child = context(
        &[],
        "FROM shell-parent-test\nCMD echo $0 $((6 * 7))\nRUN echo $0 > /zero\nRUN [ \"$(cat /zero)\" = /bin/bash ]\n",
    );
    let id = built(child.path(), &[]);
    let c = inspect(&id);
    assert_eq!(c["shell"], serde_json::json!(["/bin/bash", "-c"]));
    assert_eq!(
        c["cmd"],
        serde_json::json!(["/bin/bash", "-c", "echo $0 $((6 * 7))"])
    );
    let out = run(&[&id]);
    assert_eq!(text(&out.stdout), "/bin/bash 42\n", "{}", text(&out.stderr));
    let ep = context(
        &[],
        "FROM base\nSHELL [\"/bin/sh\", \"-e\", \"-c\"]\nENTRYPOINT false; echo not reached\n",
    );
    let id = built(ep.path(), &[]);
    assert_eq!(
        inspect(&id)["entrypoint"],
        serde_json::json!(["/bin/sh", "-e", "-c", "false; echo not reached"])
    );
    let out = run(&[&id]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn shell_instruction_needs_the_json_form() {
    let dir = context(&[], "FROM base\nSHELL /bin/bash -c\n");
    let line = error_line(
        &build(dir.path(), &[]),
        dir.path().join("Balenafile").to_str().unwrap(),
    );
    assert!(line.contains(":2: ") && line.contains("JSON"), "{line}");
}

#[test]
fn onbuild_triggers_run_in_child_build() {
    let parent = context(
        &[("app.txt", "parent-app\n")],
        "FROM base\nWORKDIR /srv\nONBUILD COPY app.txt ./app.txt\nONBUILD RUN cat app.txt > /ran\nRUN [ ! -e /ran ]\n",
    );
    let pid = built(parent.path(), &["-t", "onbuild-parent-test"]);
    assert_eq!(
        inspect(&pid)["on_build"],
        serde_json::json!(["COPY app.txt ./app.txt", "RUN cat app.txt > /ran"])
    );
    // The triggers run right after FROM, in the child's context and in order.
    let child = context(
        &[("app.txt", "child-app\n")],
        "FROM onbuild-parent-test\nRUN [ \"$(cat /ran)\" = child-app ]\nONBUILD RUN touch /grand\n",
    );
    let out = build(child.path(), &["-t", "onbuild-child-test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("ONBUILD COPY app.txt"),
        "{}",
        text(&out.stderr)
    );
    let c = inspect("onbuild-child-test");
    assert_eq!(c["on_build"], serde_json::json!(["RUN touch /grand"]));
    // Grandchildren run only their parent's triggers: no app.txt here, so the
    // grandparent's COPY trigger would fail.
    let grand = context(
        &[],
        "FROM onbuild-child-test\nRUN [ -e /grand ] && [ \"$(cat /ran)\" = child-app ]\n",
    );
    let out = build(grand.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(inspect(text(&out.stdout).trim())["on_build"].is_null());
}

#[test]
fn onbuild_trigger_errors_name_the_from_line() {
    let parent = context(&[], "FROM base\nONBUILD RUN exit 3\n");
    built(parent.path(), &["-t", "onbuild-failing-test"]);
    let child = context(&[], "# the child\nFROM onbuild-failing-test\nRUN true\n");
    let line = error_line(
        &build(child.path(), &[]),
        child.path().join("Balenafile").to_str().unwrap(),
    );
    assert!(
        line.contains(":2: RUN failed with exit status 3") && line.contains("ONBUILD RUN exit 3"),
        "{line}"
    );
}

#[test]
fn onbuild_onbuild_from_and_maintainer_are_errors() {
    for (bad, want) in [
        ("ONBUILD ONBUILD RUN true", "ONBUILD"),
        (
            "ONBUILD FROM base",
            "FROM isn't allowed as an ONBUILD trigger",
        ),
        (
            "ONBUILD MAINTAINER me",
            "MAINTAINER isn't allowed as an ONBUILD trigger",
        ),
    ] {
        let dir = context(&[], &format!("FROM base\n{bad}\n"));
        let line = error_line(
            &build(dir.path(), &[]),
            dir.path().join("Balenafile").to_str().unwrap(),
        );
        assert!(
            line.contains(":2: ") && line.contains(want),
            "{bad}: {line}"
        );
    }
}

#[test]
fn onbuild_triggers_run_for_every_stage_from_a_stage_with_them() {
    // As if the stage were built into an image first (moby/buildkit#5490): each
    // `FROM tpl` runs the triggers once; the stage itself never does.
    let dir = context(
        &[],
        "FROM base AS tpl\nONBUILD RUN echo x >> /count\nRUN [ ! -e /count ]\nFROM tpl AS one\nRUN [ \"$(cat /count)\" = x ]\nFROM tpl\nCOPY --from=one /count /one\nRUN [ \"$(cat /count)\" = x ] && [ \"$(cat /one)\" = x ]\n",
    );
    let id = built(dir.path(), &[]);
    assert!(inspect(&id)["on_build"].is_null());
}
