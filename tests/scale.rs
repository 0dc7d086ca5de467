//! Scale (issue 18): no fixed cap on live programs (long pipelines, many
//! background jobs), and pipes that carry bulk data intact.

mod common;

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
