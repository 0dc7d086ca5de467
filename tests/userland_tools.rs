//! The userland's tools from issue 16 beyond the first batch: jq, column and the
//! rest, each judged against the host's real tool (Debian 12: jq 1.6,
//! util-linux 2.38, ...) on stdout and exit status.

mod common;

use common::*;

/// jq on the jaq crates against jq 1.6.
const JQ_CASES: &[&str] = &[
    r#"echo '{"a":[1,2,{"b":"x"}],"c":null,"d":1.5}' > f.json; jq . f.json; jq -c .a f.json; jq -r '.a[2].b' f.json; jq '.a | length' f.json; jq -S . f.json; jq --tab . f.json; jq --indent 1 .a f.json"#,
    r#"jq -n --arg x hi --argjson y '[1,{"z":2}]' '$x, $y, $ARGS.named'; jq -n -c --args '$ARGS' a b; jq -n -c --jsonargs '$ARGS.positional' 1 '{"k":[]}'"#,
    r#"echo '1 2 3' | jq -s -c '., add'; printf 'a\nb\n' | jq -R .; printf 'a\nb\n' | jq -Rs .; printf '[1,2]' | jq -e '.[5]'; echo $?; echo '[]' | jq -e '.[]'; echo $?; echo true | jq -e .; echo $?"#,
    r#"jq -n 'error("x")' 2>/dev/null; echo $?; jq -n '1 +' 2>/dev/null; echo $?; jq -n '$x' 2>/dev/null; echo $?; jq . /nonexist 2>/dev/null; echo $?; jq -n --arg 2>/dev/null; echo $?; jq --bogus . 2>/dev/null; echo $?"#,
    r#"echo '{' | jq . 2>/dev/null; echo $?; echo '1 [' | jq -c . 2>/dev/null; echo $?; echo 3 | jq; echo '[1] 2' | jq '.[0]' 2>/dev/null; echo $?; jq -n '"bye"|halt_error(3)' 2>/dev/null; echo $?"#,
    r#"echo '{"users":[{"name":"a","age":3},{"name":"b","age":7}]}' > u; jq -r '.users[] | select(.age > 5) | .name' u; jq -c '[.users[].age] | map(.*2)' u; jq -c '.users | sort_by(-.age) | map(.name)' u; jq -r '.users[] | "\(.name)=\(.age)"' u; jq -c 'to_entries' u; jq -c 'keys, (.users|length)' u"#,
    r#"printf '.a\n' > prog.jq; echo '{"a":5}' > in; jq -f prog.jq in; jq --from-file prog.jq in; jq -c '{a:1} + {b:2} | with_entries(.value += 1)' -n; jq -rn '[1,"a",null,true] | @csv, @tsv, @json, @base64'; jq -jn '"a", "b"'; echo; jq -n '"x" | ascii_upcase, test("X"; "i")'"#,
    r#"jq -cn '[range(5)] | .[1:3], first, last, (map(select(. % 2 == 0)))'; jq -cn '[3,1,2] | sort, unique, min, max, reverse'; jq -n '"a,b,c" | split(",") | join("-")'; jq -cn '[1,[2,[3]]] | flatten'; jq -n 'null | length'; jq -n '[limit(3; range(10))]' -c; jq -n 'reduce range(5) as $i (0; . + $i)'"#,
    r#"echo '{"a":1,"b":[1,2]}' | jq -c 'del(.a), has("b"), (.b|index(2)), ([paths]), (.b|tostring), ("3"|tonumber), (.a|type)'; jq -n -r '$ENV | type'; echo '[1,2] [3]' | jq -c -n '[inputs]'; echo '5 6' | jq -c -n 'input'"#,
];

#[test]
fn jq_matches_jq() {
    assert_all_match_bash(JQ_CASES);
}

/// column against util-linux's.
const COLUMN_CASES: &[&str] = &[
    "printf 'a::b\\nccc:d:eeee\\n\\nx\\n' | column -t -s:; printf 'a::b\\nccc:d:eeee\\n' | column -t -s: -o '|' -N A,B,C; printf 'a b  c\\nddd e\\n' | column -t -R 1,2",
    "seq 30 | column; seq 30 | column -x -c 40; seq 100 | column -c 50; seq 1000 | column -x; printf 'abcdefghijklmn\\nb\\nc\\n' | column -c 30",
    "printf 'root:x:0:0:root:/root:/bin/bash\\nbob:x:1000:1000::/home/bob:/bin/sh\\n' > p; column -t -s: p; column -ts: -N u,p,uid,gid,g,h,s p; column --table --separator=: --output-separator=' | ' p; column -t /nope 2>/dev/null; echo $?; column --bogus 2>/dev/null; echo $?",
];

#[test]
fn column_matches_util_linux() {
    assert_all_match_bash(COLUMN_CASES);
}

/// Every applet of this batch answers --help with a usage text and status 0.
#[test]
fn every_tool_answers_help() {
    for a in ["jq", "column"] {
        let out = wsh(&format!("{a} --help"));
        assert_eq!(out.status.code(), Some(0), "{a} --help: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("Usage"),
            "{a} --help printed {:?}",
            text(&out.stdout)
        );
    }
}
