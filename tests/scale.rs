//! Scale (issue 18): no fixed cap on live programs (long pipelines, many
//! background jobs), pipes that carry bulk data intact, and container file systems
//! with room for a file larger than the old fixed 1 GiB, stored sparsely on the host.

mod common;

use std::path::Path;

use common::*;

/// Runs `script` through `wsh -c` and through bash; both must succeed silently on
/// stderr with the same output.
fn same_as_bash(script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let ours = wsh(script);
    let theirs = bash_in(dir.path(), script);
    assert!(theirs.status.success(), "bash: {}", text(&theirs.stderr));
    assert!(
        ours.status.success() && ours.stderr.is_empty(),
        "wsh ({:?}): {}",
        ours.status,
        text(&ours.stderr)
    );
    assert_eq!(text(&ours.stdout), text(&theirs.stdout));
}

/// More stages than the pooling allocator has slots (128): the rest run on demand.
#[test]
fn a_300_stage_pipeline_runs() {
    same_as_bash(&format!("seq 10 {}| tr 1 x", "| cat ".repeat(300)));
}

/// 500 programs alive at once, far past the pool, all started and waited for.
#[test]
fn five_hundred_background_jobs_run() {
    same_as_bash(
        "for i in $(seq 500); do sleep 1 & done; wait; echo status $?\n\
         for i in $(seq 200); do echo $i & done | sort -n | tail -1",
    );
}

/// Bulk data through multi-stage pipelines arrives intact (counts and checksums
/// match GNU's on the host).
#[test]
fn bulk_pipes_carry_data_intact() {
    same_as_bash(
        "yes abcdefghij | head -c 30000000 | wc -c\n\
         seq 2000000 | cat | cat | wc -l\n\
         seq 300000 | cat | md5sum",
    );
}

/// Total size in bytes of the host blocks the files under `dir` occupy.
fn disk_usage(dir: &Path) -> u64 {
    let out = std::process::Command::new("du")
        .args(["-s", "-B1", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "du: {}", text(&out.stderr));
    text(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// A 2.2 GB file fits in a default container (the file system used to be 1 GiB),
/// the committed layer stays small on the host (zero blocks are not stored), and the
/// exported file system is clean for e2fsck with the file at its full size.
#[test]
fn a_file_over_two_gib_fits_and_stays_sparse_on_the_host() {
    let home = tempfile::tempdir().unwrap();
    // Share the compiled-module cache; the store (and its base image) is private.
    std::fs::create_dir_all(wsh_home().join("cache")).unwrap();
    std::os::unix::fs::symlink(wsh_home().join("cache"), home.path().join("cache")).unwrap();
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Balenafile"),
        "FROM base\nRUN head -c 2200M /dev/zero > /big && wc -c < /big && echo end >> /big\n",
    )
    .unwrap();
    let out = wsh_cmd(home.path())
        .args(["build", "-t", "big:test"])
        .arg(ctx.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "build: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("2306867200") || text(&out.stdout).contains("2306867200"),
        "wc -c: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let used = disk_usage(&home.path().join("data"));
    assert!(
        used < 256 << 20,
        "the store takes {used} bytes on the host for 2.2 GB of zeros"
    );
    let img = ctx.path().join("big.img");
    let out = wsh_cmd(home.path())
        .args(["export", "big:test", img.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "export: {}", text(&out.stderr));
    assert!(disk_usage(&img) < 256 << 20, "the export is not sparse");
    let fsck = host("e2fsck", &["-fn", img.to_str().unwrap()]);
    assert!(
        fsck.status.success(),
        "e2fsck -fn:\n{}{}",
        text(&fsck.stdout),
        text(&fsck.stderr)
    );
    let stat = host("debugfs", &["-R", "stat /big", img.to_str().unwrap()]);
    assert!(
        text(&stat.stdout).contains("Size: 2306867204"),
        "debugfs stat /big:\n{}",
        text(&stat.stdout)
    );
}
