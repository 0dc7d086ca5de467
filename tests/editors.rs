//! The editors for scripts, judged against the host's: `ed` against GNU ed 1.19
//! and `vi -es` against vim 9's `vim -es`, on stdout, exit status and the files
//! they leave (each case `cat`s them). The interactive vi is in tests/repl.rs.

mod common;

use common::*;

/// Runs each case in wsh (with `vi` the applet) and in bash (with `vi` the host's
/// vim), in fresh scratch directories; the cases that differ, described.
fn differences(cases: &[&str]) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let scratch = tempfile::tempdir().unwrap();
        let ours = wsh(&format!("mkdir -p /tmp/t && cd /tmp/t\n{case}"));
        let theirs = bash_in(scratch.path(), &format!("vi() {{ vim \"$@\"; }}\n{case}"));
        if ours.stdout != theirs.stdout || ours.status.code() != theirs.status.code() {
            failures.push(format!(
                "case: {case}\n  wsh  ({:?}): {:?}\n       stderr: {:?}\n  host ({:?}): {:?}\n       stderr: {:?}",
                ours.status.code(),
                text(&ours.stdout),
                text(&ours.stderr),
                theirs.status.code(),
                text(&theirs.stdout),
                text(&theirs.stderr),
            ));
        }
    }
    failures
}

fn assert_same(cases: &[&str]) {
    let failures = differences(cases);
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from the host's editor:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A five-line file the cases start from.
const FIVE: &str = "printf 'alpha\\nbeta\\ngamma\\ndelta\\nepsilon\\n' > f; ";

#[test]
fn ed_addresses_and_printing_match_gnu_ed() {
    let cases = [
        "'2p' '$p' '.p' '-p' '+p' '1,3n' ',p' ';p' '2;+1p' '/d/p' '?b?p' '$-2,$-1p' '/a/+1p' '=' '.=' '/g/=' '3' '' '-2,-1l' 'Q'",
        "'/a$/p' '//p' '??p' '2,4g/a/p' 'v/e/n' 'g/^[a-c]/s/a/A/gp' ',p' 'Q'",
        "',n' '3kx' \"'x,\\$p\" \"'xd\" ',p' 'q' 'q'",
        "'2 1p' '1+1+1p' '$--p' '^p' 'Q'",
    ];
    let cases: Vec<String> = cases.iter().map(|c| ed_case(c, "-s f")).collect();
    assert_same(&cases.iter().map(String::as_str).collect::<Vec<_>>());
}

/// `printf '%s\n' LINES... | ed ARGS; echo $?; cat f` on the five-line file.
fn ed_case(lines: &str, args: &str) -> String {
    format!("{FIVE}printf '%s\\n' {lines} | ed {args}; echo \"status $?\"; cat f")
}

#[test]
fn ed_editing_commands_match_gnu_ed() {
    let cases = [
        // a i c d, with counts printed (no -s).
        (
            "'2a' 'new1' 'new2' '.' '1i' 'top' '.' '$c' 'last' '.' '3d' 'w' 'q'",
            "f",
        ),
        (
            "'0a' 'first' '.' '$a' 'end' '.' '2,3c' 'mid' '.' ',n' 'w' 'q'",
            "-s f",
        ),
        // s: flags, groups, &, the Nth match, repeat, % and no match.
        (
            "'s/a/X/' ',s/a/&&/' '2s/\\(.\\)\\(.\\)/\\2\\1/p' ',s/[ae]/[&]/gp' ',s/./-/3' 's' 'g/l/s//L/g' '3s/e/%/' 'w' 'q'",
            "-s f",
        ),
        ("',s/alpha/x/' '1s/zz/y/' ',p' 'w' 'q'", "-s f"),
        (
            "',s/l\\|m/\\&/g' ',s/a\\{1,\\}$/<&>/' ',s/^\\(.\\)\\(.*\\)$/\\2\\1/' ',p' 'Q'",
            "-s f",
        ),
        // m t j, u, global moves.
        (
            "'2m$' '1,2t0' ',p' '1,3j' '$-1j' ',p' 'u' ',p' 'g/./m0' ',p' 'w' 'q'",
            "-s f",
        ),
        ("'g/^/t.' ',n' '2,$-2m0' ',p' 'v/a/d' ',p' 'w' 'q'", "-s f"),
        ("'g/a/d' ',p' 'u' ',p' 'g/zz/d' 'w' 'q'", "-s f"),
        // e r f w W.
        (
            "'w g' 'f' '$r g' '1,2W g' 'e g' ',p' 'f' '2,3w h' 'e h' ',n' 'q'",
            "f",
        ),
        ("'r nosuch' 'e nosuch' 'f' 'q'", "-s f"),
        // l: escapes and a long line folded.
        (
            "'a' \"tab\there\\\\back\" 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' '.' '-,.l' 'Q'",
            "-s f",
        ),
    ];
    let cases: Vec<String> = cases.iter().map(|(s, a)| ed_case(s, a)).collect();
    assert_same(&cases.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn ed_errors_and_exit_status_match_gnu_ed() {
    let cases = [
        ed_case("'9p' '1p' 'zz' 'q'", "-s f"),
        ed_case("'1d' 'q' '1p' 'q'", "-s f"),
        ed_case("'1d'", "-s f"),
        ed_case("'1d' 'zz'", "-s f"),
        ed_case("'1d' 'Q'", "-s f"),
        ed_case("'1d' 'q' 'q'", "-s f"),
        ed_case("'2,1p' '0p' '1,$s/x' 'k' 'm' '1x' 'w' 'q'", "-s f"),
        ed_case("'a' 'hello' '.' 'w' 'q'", "-s newfile; cat newfile"),
        // A script in a regular file stops at its first error.
        format!(
            "{FIVE}printf '%s\\n' '1d' '9p' '1p' 'w' > s; ed -s f < s; echo \"status $?\"; cat f"
        ),
        format!(
            "{FIVE}printf 'x' >> f; printf '%s\\n' ',p' 'w' 'q' | ed f; echo \"status $?\"; od -c f"
        ),
        "ed --bogus < /dev/null; echo $?; ed -s a b < /dev/null; echo $?".to_string(),
    ];
    assert_same(&cases.iter().map(String::as_str).collect::<Vec<_>>());
}

/// `vi -es -c ... f; echo $?; cat f` on the five-line file.
fn vi_case(args: &str) -> String {
    format!("{FIVE}vi -es {args} f; echo \"status $?\"; cat f")
}

#[test]
fn vi_batch_mode_matches_vim_es() {
    let cases = [
        vi_case("-c '%s/a/X/g' -c wq"),
        vi_case("-c 's/l/L/' -c '2,3s/a/\\U&/' -c '$s/\\(e\\)\\(p\\)/\\2\\1/' -c x"),
        vi_case("-c '%s/a\\|e/[&]/g' -c '%s/^/> /' -c '%s/\\<./\\u&/g' -c wq"),
        vi_case("-c '%s/A/x/gi' -c '%s/zz/y/e' -c 's/$/\\rnew/' -c '%s/ta/~~/' -c wq"),
        vi_case("-c 'g/a/d' -c wq"),
        vi_case("-c 'v/l/d' -c 'g/p/s/e/E/g' -c 'wq'"),
        vi_case("-c 'g/a/d|p' -c '%p' -c 'q!'"),
        vi_case("-c 3 -c d -c '$' -c 'm0' -c '2t$' -c 'wq'"),
        vi_case("-c '1,2j' -c '%j!' -c wq"),
        vi_case("-c '%norm Ax' -c 'g/b/norm I#' -c '2norm ddp' -c '$norm 2x' -c wq"),
        vi_case("-c 'norm wdwjyyp' -c 'norm Gkk3J' -c 'norm ggcwnew' -c wq"),
        vi_case("-c '%p' -c '2,3nu' -c '/d/p' -c '$-1p' -c 'q'"),
        vi_case("-c '2d 2' -c '$pu' -c '1y' -c '0pu' -c \"\\$put ='added'\" -c wq"),
        vi_case("-c 'sort!' -c w -c 'sort' -c 'x'"),
        vi_case("-c '%s/zz/y/' -c '1d' -c 'wq'"),
        vi_case("-c 'bogus' -c '9d' -c 'q' -c 'q!'"),
        vi_case("-c 'w g' -c '1d' -c 'x' && cat g"),
        vi_case("-c '%d' -c 'wq'"),
        vi_case(
            "-c '1norm x..' -c '2norm dw.' -c '3norm Ax' -c '4norm .' -c '5norm 2x' -c '5norm 3.' -c wq",
        ),
        vi_case(
            "-c '1norm wciwX' -c '2norm 3ifoo' -c '3norm daw' -c '4norm 2ox' -c '%p' -c '1norm d9j' -c '$norm 3dd' -c '1norm 9k' -c 'q!'",
        ),
        vi_case(
            "-c '2norm cbX' -c '1norm wdaw' -c '$norm 0d$' -c '%p' -c '1norm dGx' -c '%p' -c 'q!'",
        ),
    ];
    assert_same(&cases.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn vi_batch_mode_reads_stdin_and_new_files_like_vim_es() {
    let cases = [
        format!("{FIVE}printf '%s\\n' '%s/a/b/' 'zz' '2d' 'wq' | vi -es f; echo \"status $?\"; cat f"),
        format!("{FIVE}printf '%s\\n' '2a' 'added' '.' '1i' 'top' '.' 'wq' | vi -es f; echo \"status $?\"; cat f"),
        "vi -es -c 'wq' new; echo $?; od -c new; vi -es -c '%s/a/b/' -c wq new2; echo $?; ls new2; vi -es -c \"put ='x'\" -c wq new3; echo $?; od -c new3".to_string(),
        "printf 'abc' > g; vi -es -c wq g; od -c g; printf '3\\n1\\n2\\n1\\n' > n; vi -es -c 'sort n u' -c wq n; cat n".to_string(),
        "vi -es -c 'wq' no/such/dir/f; echo $?; vi -es -c '1d' f2 < /dev/null; echo $?; ls f2".to_string(),
    ];
    assert_same(&cases.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn editors_answer_help() {
    for cmd in ["vi --help", "ed --help"] {
        let out = wsh(cmd);
        assert!(out.status.success(), "{cmd}: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).starts_with("Usage: "),
            "{cmd}: {}",
            text(&out.stdout)
        );
    }
    // Off a terminal, vi says what to use instead, and fails.
    let out = wsh("vi f");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("vi -es"),
        "{}",
        text(&out.stderr)
    );
}
