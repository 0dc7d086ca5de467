//! The userland beyond WASI (issue 7): applets that need real modes, owners and
//! spawning, through the `wsh` host interface, judged against GNU's tools on the
//! host; the per-guest limits; and modes as debugfs sees them in a saved image.

mod common;

use common::*;

/// Command lines whose stdout and exit status must equal bash's with GNU tools.
/// Each runs in a scratch directory: /tmp/t in the image, a host temp dir for bash.
/// Listings whose order is the directory's (find, du) are sorted on both sides.
const CASES: &[&str] = &[
    // wc -l of standard input (wsh's own fast path), beside uutils' wc for the rest
    // wc -c of a regular file on standard input: its size less the offset (fast path)
    "seq 1000 > f; wc -c < f; (read x; wc -c) < f; wc --bytes < f; printf '' > e; wc -c < e; seq 3 | wc -c; wc -c < /dev/null",
    // seq: plain counting (wsh's fast path) and uutils' seq for the rest
    "seq 5; seq 3 7; seq 1 3 20; seq 0; seq 5 1; seq 0 0; seq 007 9; seq 2 -1 0; seq -s, 3; seq -w 8 10",
    "seq 999999999999999 1000000000000001; seq 1 0 3; echo $?; seq 1.5 3; seq 200000 | tail -2; seq 1 7 100000 | tail -1",
    "printf 'a\\nb' | wc -l; printf '' | wc -l; seq 100000 | wc -l; seq 3 | wc --lines; wc -l < / 2>/dev/null; echo $?; seq 5 | wc -l -c",
    // true / false (wsh's own): a sole --help or --version prints, other arguments are ignored
    "/bin/true --help | head -1; /bin/true --help x; echo $?; /bin/false --help | head -1; echo ${PIPESTATUS[0]}",
    "/bin/true --version | head -1 | cut -d' ' -f1; /bin/false --version > /dev/null; echo $?; /bin/false -x; echo $?; /bin/true --help >/dev/full 2>/dev/null; echo $?",
    // chmod / stat
    "echo hi > f; chmod 640 f; stat -c '%a %s' f",
    "echo hi > f; chmod 640 f; stat -c '%a %A %s %n %F %h %u %g %U %G' f",
    "touch e; mkdir d; stat -c '%a %F %s' e; stat -c '%a %F' d",
    "echo hi > f; chmod u=rwx,g=rx,o= f; stat -c %a f",
    "echo hi > f; chmod 600 f; chmod g+w,o+r f; stat -c %A f",
    "echo hi > f; chmod a-r,u+s f; stat -c '%a %A' f",
    "echo hi > f; chmod 755 f; chmod go=u-w f; stat -c %a f",
    "mkdir -p d/e; touch d/e/f; chmod -R go-rwx d; stat -c '%a %n' d d/e d/e/f",
    "mkdir -p d/e; touch d/f; chmod -R 700 d; chmod -R a+rX d; stat -c '%a %n' d d/e d/f",
    "touch f; chmod 999 f; echo $?",
    "chmod 644 missing; echo $?",
    "ln -s target l; stat -c '%F %s' l",
    "echo hi > f; stat --printf '%s:%a\\n' f",
    "chown 12:34 missing 2>/dev/null; echo $?",
    "touch f; chgrp 0 f; stat -c %g f; chgrp root f; stat -c %G f",
    "touch f; chgrp no-such-group f 2>/dev/null; echo $?; chgrp 0 missing 2>/dev/null; echo $?",
    "mkdir -p d/e; touch d/e/f; chgrp -R 0 d; stat -c '%g %n' d d/e d/e/f",
    // install
    "echo hi > f; install f g; stat -c '%a %s' g; cat g",
    "echo hi > f; install -m 640 f g; stat -c %a g; install -m u=rw,go=r f h; stat -c %a h",
    "install -d a/b/c; stat -c '%a %n' a a/b a/b/c; install -d -m 700 d; stat -c %a d",
    "echo x > f; install -D -m 600 f p/q/r; stat -c '%a %n' p p/q p/q/r",
    "mkdir d; echo 1 > a; echo 2 > b; install -m 644 a b d; ls d; stat -c %a d/a; install -t d a; cat d/a",
    "echo 1 > a; install -v a b; install -d -v x/y",
    "echo 1 > a; install -o 0 -g 0 a b; stat -c '%u %g' b",
    "echo 1 > a; install -m 999 a b 2>/dev/null; echo $?; install a 2>/dev/null; echo $?; install 2>/dev/null; echo $?",
    "echo 1 > a; touch -d '2001-01-01 00:00:00' a; install -p a b; stat -c %Y b",
    "echo 1 > a; install -C -m 600 a b; install -C -m 600 a b; stat -c %a b; cat b",
    "echo 1 > a; mkdir d; install a d; ls d; install -T a e; cat e",
    // du on the same block size (the host's /tmp is ext4 as the image is)
    "seq 1000 > f; du -k f; du -s f",
    "mkdir -p d/e; seq 5000 > d/e/big; echo x > d/small; du -a d | sort -k2",
    "mkdir -p d; seq 5000 > d/big; du -sh d",
    // id, whoami (both sides run as root)
    "id; id -u; id -g; id -un; whoami",
    // env: running programs
    "env FOO=1 printenv FOO",
    "env -i FOO=1 BAR=2 printenv BAR",
    "FOO=x env -u FOO printenv FOO; echo $?",
    "env no-such-program 2>/dev/null; echo $?",
    "env A=1 B=2 env | grep '^[AB]=' | sort",
    "env -i A=1 env; mkdir d; cd d; env -i ls ..; env -i A=2 printenv",
    // programs started by programs may be scripts (`#!` or plain text)
    "printf '#!/bin/sh\\necho \"got [$*]\"\\n' > r.sh; printf 'echo plain $1\\n' > p; chmod +x r.sh p; touch a b; find . -name '[ab]' -exec ./r.sh {} \\; | sort; ls a b | xargs ./r.sh; env ./p x; timeout 5 ./r.sh t",
    // xargs
    "printf 'a\\nb\\nc\\n' > l; seq 3 > m; ls | xargs wc -l",
    "seq 10 | xargs -n 3 echo",
    "seq 3 | xargs -I {} echo item {} end",
    "printf 'a\\0b c\\0' | xargs -0 -n 1 echo",
    "seq 6 | xargs -P 3 -n 1 echo | sort",
    "echo 'one \"two three\" four' | xargs -n 1 echo",
    "true | xargs echo x",
    "true | xargs -r echo nothing; echo $?",
    "seq 3 | xargs false; echo $?",
    "echo a | xargs no-such-program 2>/dev/null; echo $?",
    "printf '1 2\\n3\\n4 5 6\\n' | xargs -L 2 echo",
    // find, with -exec through spawn
    "mkdir -p a/b; echo 1 > a/x.txt; echo 2 > a/b/y.txt; echo 3 > a/z.dat; find . -name '*.txt' -exec cat {} \\; | sort",
    "mkdir -p a/b; touch a/x.txt a/b/y.txt a/z.dat; find . -type f | sort; find . -type d | sort",
    "mkdir -p a/b; touch a/x.txt a/b/y.txt a/z.dat; find a -maxdepth 1 | sort; find a -mindepth 2 | sort",
    "mkdir -p a/b; touch a/x.txt a/b/y.txt a/z.dat; find a ! -name '*.txt' | sort",
    "mkdir -p a/b; touch a/x.txt a/b/y.txt a/z.dat; find a -name '*.txt' -o -name '*.dat' | sort",
    "mkdir -p a/b; touch a/x.txt a/b/y.txt a/z.dat; find a -name '*.dat' -delete; find a | sort",
    "mkdir -p a/b; touch a/x.txt a/b/y.txt; find a -type f -exec echo found {} + | tr ' ' '\\n' | sort",
    "mkdir -p a/e; touch a/f; seq 100 > a/g; find a -empty | sort; find a -size +1 | sort",
    "mkdir -p a/b; touch a/x; chmod 600 a/x; find a -perm 600; find a -path '*b*'",
    "find no-such-dir 2>/dev/null; echo $?",
    "mkdir -p a/b/c; find a -name b -prune -o -print | sort",
    // `sh -c` from a guest reaches wsh's interpreter
    "mkdir a; touch a/x.txt a/y.txt; find a -name '*.txt' -exec sh -c 'echo got $1' sh {} \\; | sort",
    "seq 3 | xargs -I X sh -c 'echo line X; exit 0'; echo $?",
    "export V=5; echo | xargs sh -c 'echo V=$V; exit 4'; echo $?",
    // grep
    "printf 'foo bar\\nBaz qux\\nfoo(1)\\nabc+\\nfoofoo\\n' > g; grep foo g; grep -i baz g; grep -v foo g",
    "printf 'foo bar\\nBaz qux\\nfoo(1)\\nabc+\\nfoofoo\\n' > g; grep -n foo g; grep -c foo g; grep -o 'o\\+' g",
    "printf 'foo bar\\nBaz qux\\nfoo(1)\\nabc+\\nfoofoo\\n' > g; grep -E 'o+|q' g; grep 'foo(1)' g; grep -F 'c+' g",
    "printf 'foo bar\\nBaz qux\\nfoo(1)\\nabc+\\nfoofoo\\n' > g; grep -w foo g; grep -x 'abc+' g; grep -e Baz -e abc g",
    "printf 'foo bar\\nfoofoo\\n' > g; grep -q nothing g; echo $?; grep -q foo g; echo $?; grep foo missing; echo $?",
    "printf 'x\\n' > a; printf 'y\\n' > b; grep -l x a b; grep -L x a b; grep -H x a; grep -h x a b",
    "mkdir -p d/e; echo needle > d/e/f; echo hay > d/g; grep -r needle d; grep -rl needle .",
    "printf 'ab\\naab\\nb\\n' > g; grep '^a*b$' g; grep 'a\\{2\\}' g; grep -E '^(a|b)b?$' g; grep '[[:digit:]]' g; echo $?",
    "printf 'Hello\\nhello\\n' | grep -i -c HELLO",
    // Whole-buffer search: anchors at every line, matches that would span lines, -n, -m.
    "printf 'a\\nb x\\nab\\nx\\n\\nb\\n' > g; grep -n '^b' g; grep -c 'x$' g; grep -c '^$' g; grep -n -E 'a[^z]*x' g; grep -c 'a\\sb' g; grep -n -m2 b g; grep -c '' g; printf 'no newline at end' | grep -c end",
    "seq 1000 > n; grep -n '^1.*0$' n | tail -3; grep -c -E '(^|[^0-9])7' n; grep -l 999 n; grep -L 1001 n; printf '' | grep -c x; echo $?",
    "seq 30 > n; grep -A1 -B2 '^1[05]$' n; grep -C1 -n '^2[0-9]$' n | head -5; grep -A2 5 n; grep -B1 -m2 7 n",
    "seq 20 > n; grep -m1 -A3 1 n; grep -c -m3 1 n; grep -m 2 -o 1 n; grep -vm2 1 n; grep -C0 '^[35]$' n; grep --context=1 -e 4 -e 9 n",
    "mkdir -p s/x s/skip; echo hit > s/a.txt; echo hit > s/b.md; echo hit > s/x/c.txt; echo hit > s/skip/d.txt; grep -r --include='*.txt' hit s | sort; grep -r --exclude='*.txt' hit s; grep -r --exclude-dir=skip -l hit s | sort",
    "printf 'a1\\nb22\\nc\\n' > p; grep -P '\\d+' p; grep -oP '[a-z]\\d{2}' p; printf 'b2\\nc\\n' > pats; grep -f pats p; grep -f /dev/null p; echo $?",
    "printf 'x\\0y\\nxx\\n' > bin; grep x bin; grep -c x bin; grep -a -c x bin; grep -I x bin; echo $?; echo hi | grep --label=IN -H hi",
    "printf 'foo bar foo\\nbaz\\n' > c; grep --color=always foo c; grep --color=always -n -H o c; grep --colour=always -o ba c; grep --color=never foo c; grep --color=always -c foo c",
    "grep -A x y /dev/null 2>&1; echo $?; grep --bogus a 2>&1; echo $?; grep -E -F 'a+' <<< 'a+'; grep -F -E 'a+' <<< 'aa'; grep -iy A <<< a; grep -q -s x /nope; echo $?",
    // gzip, tar
    "echo x | gzip | gunzip",
    "seq 1000 | gzip -9 | zcat | tail -1",
    "seq 100 > f; gzip f; ls; gunzip f.gz; ls; wc -l f",
    "echo hi > f; gzip -k f; ls; zcat f.gz",
    "echo notgzip | gunzip 2>/dev/null; echo $?",
    "mkdir d; echo 1 > d/a; echo 2 > d/b; tar -czf d.tgz d; rm -r d; tar -xzf d.tgz; cat d/a d/b",
    "mkdir -p d/e; touch d/a d/e/b; tar -czf d.tgz d; tar -tzf d.tgz | sort",
    "mkdir d; echo 1 > d/a; chmod 600 d/a; tar cf x.tar d; rm -r d; tar xf x.tar; stat -c '%a %s' d/a",
    "mkdir d out; echo 1 > d/a; tar -cf - d | tar -xf - -C out; cat out/d/a",
    // sed (uutils), diff and cmp (diffutils), awk (awk-rs)
    "printf 'a\\nb\\nc\\n' > x; sed s/b/X/ x; sed -n 2p x; seq 5 | sed '1d;3q'; sed -e 's/a/1/' -e 's/c/3/' x",
    "seq 10 | sed -n '/3/,/5/p'; echo hello | sed 's/\\(l*\\)o/[\\1]/'",
    "printf 'a\\nb\\nc\\n' > x; printf 'a\\nB\\nc\\n' > y; diff x y; echo $?; diff x x; echo $?; diff -u x y | tail -n +3",
    // (cmp's "differ" line says "char" in older GNU releases, "byte" in newer ones: status only.)
    "printf 'a\\nb\\n' > x; printf 'a\\nc\\n' > y; cmp x y >/dev/null; echo $?; cmp -s x y; echo $?; cmp x x; echo $?",
    "seq 5 | awk '{s+=$1} END {print s}'; echo a:b:c | awk -F: '{print $2}'; awk -v n=3 'BEGIN{print n*2}'",
    "printf 'x 1\\ny 2\\nx 3\\n' | awk '$1==\"x\" {t+=$2} END {print t, NR}'",
    // the rest
    "seq 3 > a; seq 2 > b; more a b; seq 2 | more",
    "timeout 0.3 sleep 5; echo $?",
    "timeout 5 true; echo $?; timeout 5 false; echo $?",
    "timeout 1 no-such-program 2>/dev/null; echo $?",
    "which no-such-program; echo $?",
];

/// GNU `ls -l` lines with the owner, group and time columns dropped and the
/// directory "total" line removed: the image's owners are the container's and
/// its times are the moment wsh ran, which no host run can reproduce.
fn long_listing_core(out: &[u8]) -> String {
    text(out)
        .lines()
        .filter(|l| !l.starts_with("total "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 9 {
                return l.to_string();
            }
            // mode, links, size, name (and "-> target").
            let mut keep = vec![f[0], f[1], f[4]];
            keep.extend(&f[8..]);
            keep.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `ls -l` cases, compared through [`long_listing_core`].
const LS_CASES: &[&str] = &[
    "echo hi > f; chmod 640 f; ls -l f",
    "echo hi > f; chmod 4755 f; ls -l f",
    "mkdir d; echo abc > d/one; seq 100 > d/two; chmod 600 d/two; ln -s one d/link; ls -l d",
    "touch a b; chmod 751 b; ls -ln",
    "seq 1000 > f; touch g; ls -lS; ls -lr",
    "touch .hidden v; ls -lA",
];

#[test]
fn applets_match_gnu() {
    assert_all_match_bash(CASES);
}

#[test]
fn long_listings_match_gnu_in_mode_links_size_and_name() {
    let mut failures = Vec::new();
    for case in LS_CASES {
        let (ours, theirs) = scratch_run(case);
        let (a, b) = (
            long_listing_core(&ours.stdout),
            long_listing_core(&theirs.stdout),
        );
        if a != b || ours.status.code() != theirs.status.code() {
            failures.push(format!(
                "case: {case}\n  wsh: {a:?}\n       stderr: {:?}\n  bash: {b:?}",
                text(&ours.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ls_long_columns_line_up_as_gnu_does() {
    // Same widths as GNU: compare the whole line once owner/group/time are fixed by -n and
    // a known mtime (touch -d).
    let case = "mkdir d; seq 100 > d/a; touch d/b; chmod 600 d/a; touch -d '2020-01-02 03:04:05' d/a d/b; ls -ln d";
    let (ours, theirs) = scratch_run(case);
    assert_eq!(
        text(&ours.stdout),
        text(&theirs.stdout),
        "{}",
        text(&ours.stderr)
    );
}

#[test]
fn every_new_applet_answers_help() {
    let applets = [
        "chmod", "chown", "stat", "du", "df", "id", "whoami", "env", "xargs", "timeout", "which",
        "hostname", "find", "grep", "gzip", "gunzip", "zcat", "tar", "clear", "ls", "sed", "diff",
        "cmp", "awk", "more", "install", "chgrp", "cat", "egrep", "fgrep", "rev", "envsubst",
        "useradd", "groupadd", "adduser", "getent", "xz", "unxz", "xzcat", "bzip2", "bunzip2",
        "bzcat",
    ];
    for a in applets {
        let out = wsh(&format!("{a} --help"));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{a} --help: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains("Usage"),
            "{a} --help printed {:?}",
            text(&out.stdout)
        );
    }
}

#[test]
fn chmod_reaches_the_saved_image() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("out.img");
    let out = wsh_cmd(wsh_home())
        .arg("--save-image")
        .arg(&img)
        .arg("-c")
        .arg("echo hi > /root/f; chmod 640 /root/f; chown 12:34 /root/f; mkdir /root/d; chmod 1750 /root/d")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let img = img.to_str().unwrap();
    let f = text(&host("debugfs", &["-R", "stat /root/f", img]).stdout);
    assert!(f.contains("Mode:  0640"), "{f}");
    assert!(f.contains("User:    12   Group:    34"), "{f}");
    let d = text(&host("debugfs", &["-R", "stat /root/d", img]).stdout);
    assert!(d.contains("Mode:  01750"), "{d}");
    let fsck = host("e2fsck", &["-fn", img]);
    assert!(fsck.status.success(), "{}", text(&fsck.stdout));
}

#[test]
fn df_reports_the_image() {
    let out = wsh("df; df -h");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.starts_with("Filesystem     1K-blocks"), "{s}");
    assert!(s.lines().nth(1).is_some_and(|l| l.ends_with(" /")), "{s}");
}

#[test]
fn a_guest_eating_memory_is_stopped_and_the_shell_goes_on() {
    let out = wsh_cmd(wsh_home())
        .args([
            "--memory",
            "64M",
            "-c",
            "yes | shuf > /dev/null; echo status $?; echo next",
        ])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "status 137\nnext\n");
    let err = text(&out.stderr);
    assert!(
        err.contains("wsh: shuf: memory limit exceeded") && err.contains("the limit is 64 MiB"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line, no backtrace: {err}");
}

#[test]
fn a_guest_looping_forever_is_stopped_and_the_shell_goes_on() {
    let out = wsh_cmd(wsh_home())
        .args([
            "--timeout",
            "1",
            "-c",
            "yes > /dev/null; echo status $?; echo next",
        ])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "status 152\nnext\n");
    assert_eq!(
        text(&out.stderr),
        "wsh: yes: CPU time limit exceeded (1s)\n"
    );
}

#[test]
fn bad_limit_options_are_refused() {
    let out = wsh_cmd(wsh_home())
        .args(["--memory", "lots", "-c", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("invalid size"));
}

/// mkdir (our applet) against GNU mkdir: options, modes, messages (stderr folded into
/// stdout), quoting of names, `-p` through `.`, `..`, symlinks and files.
const MKDIR_CASES: &[&str] = &[
    "mkdir -m 700 x; mkdir -m 751 -pv y/z/w; mkdir -v q; stat -c '%a %n' x y y/z y/z/w q",
    "mkdir x; mkdir x 2>&1; echo $?; mkdir a/b 2>&1; echo $?; mkdir -p x; echo $?",
    "for m in u=rwx,g=rx,o= +x g+w a-w 1777 2755 o-x u+s 0 go= a=rX 00755 g=u; do \
     mkdir -m $m \"d$m\" 2>&1 || echo fail; stat -c %a \"d$m\"; done",
    "mkdir -m bad t 2>&1; echo $?; mkdir -m 8 t 2>&1; echo $?; mkdir -m u+q t 2>&1; \
     echo $?; test -e t || echo none",
    "touch f; mkdir -p f/g 2>&1; echo $?; mkdir -p f 2>&1; echo $?; mkdir -p f/g/h 2>&1; \
     mkdir f/x 2>&1; echo $?",
    "mkdir 2>&1; echo $?; mkdir -k a 2>&1; echo $?; mkdir --bogus 2>&1; echo $?; \
     mkdir -m 2>&1; echo $?; mkdir --mode 2>&1; echo $?; mkdir --parents=x y 2>&1; echo $?",
    "mkdir -v \"a'b\" 'c d' \"$(printf 'e\\tf')\" 'g\"h$' \"i'\\$j\" 2>&1; ls | wc -l",
    "mkdir -pv i/../j/./k/ 2>&1; mkdir -v l/ 2>&1; mkdir x -p -v n 2>&1; \
     mkdir -pv a//b///c 2>&1; mkdir -p x/y/../z; ls x",
    "ln -s nowhere dl; mkdir -p dl 2>&1; echo $?; mkdir -p dl/x 2>&1; echo $?; \
     mkdir x; ln -s x sl; mkdir -p sl/in; echo $?; ls x",
    "umask 277; mkdir -p u1/u2; stat -c '%a %n' u1 u1/u2; umask 022; mkdir -m 755 -p v1/v2; \
     umask 077; mkdir w; mkdir -m 777 w2; mkdir -p w3/w4; stat -c '%a %n' v1 v1/v2 w w2 w3 w3/w4",
    "mkdir --par --verb pp/qq 2>&1; mkdir --mode=710 mm; mkdir --mode 705 m2; \
     stat -c '%a %n' mm m2; mkdir -- -dash; ls -d -- -dash; mkdir -Z zz; ls -d zz",
    "mkdir -p /; echo $?; mkdir / 2>&1; echo $?; mkdir . 2>&1; echo $?; mkdir -p . ..; \
     echo $?; mkdir -p '' 2>&1; echo $?",
    "mkdir -pv \"$PWD/abs/b\" | sed \"s|$PWD|PWD|\"; mkdir -p a b/c a; echo $?; ls -d a b/c",
];

/// Linux's character devices (issue 13), which wsh synthesizes for guests and the
/// shell's redirections alike, against the host's.
const DEVICE_CASES: &[&str] = &[
    "head -c 16 /dev/zero | od -An -tx1",
    "od -An -N4 -tx1 /dev/zero",
    "head -c 5 /dev/full | od -An -tx1",
    "echo x > /dev/null; echo $?",
    "echo x > /dev/zero; echo $?",
    "echo x > /dev/full; echo $?",
    "echo x | tee /dev/full; echo $?",
    "echo x | tee /dev/null /dev/zero /dev/urandom; echo $?",
    "head -c 32 /dev/urandom | wc -c",
    "head -c 32 /dev/random | wc -c",
    "a=$(head -c 16 /dev/urandom | od -An -tx1); b=$(head -c 16 /dev/urandom | od -An -tx1); [ \"$a\" != \"$b\" ] && echo differ",
    "wc -c < /dev/null; wc -c /dev/null; grep x /dev/null; echo $?",
    "cd /dev && head -c 3 ./zero | wc -c; head -c 3 /dev/./urandom | wc -c; head -c 2 ../dev/zero | od -An -tx1",
    "ls /dev/null /dev/zero /dev/full /dev/random /dev/urandom",
    "ls /dev | grep -xE 'null|zero|full|random|urandom'",
    "stat -c '%F %a' /dev/null /dev/zero /dev/full /dev/urandom",
    "[ -c /dev/null ] && echo char; [ -f /dev/zero ] || echo not-regular; test -e /dev/full && echo exists",
    ": > /dev/null/; echo $?",
    // Reached through symlinks, the devices are still devices (never the image's placeholders).
    "ln -s /dev/null n; echo data > n; echo $?; echo data | tee n; wc -c < n; wc -c < /dev/null",
    "ln -s /dev/zero z; head -c 4 z | od -An -tx1; [ -c z ] && echo char; stat -L -c %F z",
    "ln -s /dev/full f; echo x > f; echo $?; echo x | tee f; echo $?",
    "ln -s /dev d; head -c 2 d/zero | od -An -tx1; echo x > d/null; echo $?",
];

/// cat (wsh's own applet) against GNU cat: options, numbering and squeezing across
/// files, nonprinting notation, devices and the guest's own descriptors, errors.
const CAT_CASES: &[&str] = &[
    "printf 'a\\n\\n\\n\\nb\\tc\\n' > f; cat f; cat -n f; cat -b f; cat -s f; cat -E f; cat -T f; cat -A f",
    "printf 'x\\n\\n' > f; printf 'no-newline' > g; printf '\\n\\ny\\n' > h; cat -n f g h; cat -bs f g h; cat -sE f h",
    "env printf '\\001\\033[1m\\177\\200\\237\\240\\377\\t\\n' > b; cat -v b; cat -e b; cat -t b; cat --show-all b",
    "cat /dev/null; echo $?; echo hi | cat /dev/stdin; echo in | cat - /dev/null; echo fd | cat /dev/fd/0",
    "head -c 100000 /dev/zero | cat | wc -c; cat /dev/zero | head -c 5 | od -An -tx1",
    "echo a > f; cat f nope f 2>&1; echo $?; mkdir d; cat d 2>&1; echo $?",
    "cat -z 2>&1; echo $?; cat --nope 2>&1; echo $?; cat --number-non f 2>&1; echo $?; echo s | cat -- -; cat -u -n -- f",
    "seq 1000000 | cat -n | tail -1; printf '%s\\n' a b | cat -n - /dev/null -",
];

/// `/bin/sh` and `/bin/bash` exist (issue 13) and run the interpreter, whoever
/// starts them: the shell, a `#!` line, or a guest (env, xargs, find -exec).
const SHELL_ENTRY_CASES: &[&str] = &[
    "[ -x /bin/sh ] && echo sh; [ -x /bin/bash ] && echo bash; [ -f /bin/sh ] && echo file",
    "/bin/sh -c 'echo $0 $1' a b; /bin/bash -c 'echo $# $2' a b c; echo $?",
    "printf '#!/bin/sh\\necho s $1\\n' > s; chmod +x s; ./s q; /bin/sh s r; sh ./s t",
    "printf '#!/bin/bash\\nexit 3\\n' > b; chmod +x b; ./b; echo $?",
    "env /bin/sh -c 'echo from env'; env sh -c 'exit 4'; echo $?",
    "echo 'echo in $0 $1' > t; echo q | xargs /bin/sh t; echo w | xargs bash t",
    "touch f1; find . -name f1 -exec /bin/sh -c 'echo found $1' _ {} \\;",
];

/// useradd and groupadd against Debian's (shadow), run on the host with `--prefix`
/// over the same starting files and Debian's login.defs: the account files, their
/// exit statuses and messages, and the home directory must come out the same.
#[test]
fn useradd_and_groupadd_match_debians() {
    let script = "useradd -m bob; useradd -r -s /bin/false svc; groupadd devs; groupadd -r sysg; \
        useradd -u 2000 -G devs,sysg -c 'Ann A' -d /opt/ann ann; useradd -N -M carl; useradd -g devs dan; \
        useradd bob 2>&1; echo $?; useradd -g nope x 2>&1; echo $?; useradd -u 2000 y 2>&1; echo $?; \
        groupadd devs 2>&1; echo $?; groupadd -f devs; echo $?; groupadd -g 1001 other 2>&1; echo $?; \
        cat $R/etc/passwd $R/etc/group $R/etc/shadow $R/etc/gshadow; \
        stat -c '%a %u %g' $R/home/bob; test -e $R/home/svc || echo no-home";
    let ours = wsh(&format!("R=; {script}"));
    let pre = tempfile::tempdir().unwrap();
    let etc = pre.path().join("etc");
    std::fs::create_dir_all(etc.join("default")).unwrap();
    // The base image's account files (images/src/base.rs).
    for (name, body) in [
        ("passwd", "root:x:0:0:root:/root:/bin/sh\n"),
        ("group", "root:x:0:\n"),
        ("shadow", "root:*:20000:0:99999:7:::\n"),
        ("gshadow", "root:*::\n"),
    ] {
        std::fs::write(etc.join(name), body).unwrap();
    }
    std::fs::copy("/etc/login.defs", etc.join("login.defs")).unwrap();
    std::fs::copy("/etc/default/useradd", etc.join("default/useradd")).unwrap();
    let r = pre.path().display();
    let theirs = bash_in(
        pre.path(),
        &format!(
            "R={r}; useradd() {{ /usr/sbin/useradd -P \"$R\" \"$@\"; }}; \
             groupadd() {{ /usr/sbin/groupadd -P \"$R\" \"$@\"; }}; {script}"
        ),
    );
    assert_eq!(
        text(&ours.stdout),
        text(&theirs.stdout),
        "stderr: {}",
        text(&ours.stderr)
    );
    assert!(text(&ours.stdout).contains("ann:x:2000:2000:Ann A:/opt/ann:/bin/sh"));
}

/// adduser with Debian's and busybox's options, and getent over the result.
#[test]
fn adduser_and_getent_edit_and_read_the_accounts() {
    let out = wsh(
        "adduser --disabled-password --gecos '' alice; adduser -D -s /bin/false -G users -h /srv/b bo 2>&1; \
         groupadd users; adduser -D -s /bin/false -G users -h /srv/b bo; adduser alice users; \
         getent passwd alice bo; getent group users; getent passwd nobody; echo $?; \
         stat -c '%a %U' /home/alice /srv/b",
    );
    assert_eq!(
        text(&out.stdout),
        "adduser: group 'users' does not exist\n\
         alice:x:1000:1000::/home/alice:/bin/sh\nbo:x:1001:1002::/srv/b:/bin/false\n\
         users:x:1001:bo,alice\n2\n755 alice\n755 bo\n",
        "{}",
        text(&out.stderr)
    );
}

/// egrep, fgrep, rev and envsubst against the host's (grep 3.8, util-linux, gettext).
const TEXT_CASES: &[&str] = &[
    "printf 'ab\\na+b\\naab\\n' > f; egrep 'a+b' f; echo $?; fgrep 'a+b' f; echo $?; egrep -c 'x|aa' f; fgrep -x nope f; echo $?",
    "printf 'hello\\nworld\\n\\nabc' | rev; echo; printf 'a b\\tc\\n' | rev; rev /nope 2>/dev/null; echo $?; printf 'x\\n' > g; rev g g",
    "export A=1 B=two; echo 'a=$A b=${B} c=$C d=${A}x e=$$ f=${A:-z} g=$ h=${A' | envsubst",
    "export A=1 B=two; echo '$A ${B} $C' | envsubst '$A'; echo '$A ${B}' | envsubst '${B} $C'; envsubst -v 'x $A ${B} $A'",
    "printf '$HOME_X\\n$_u ${_v} $9 ${1}\\n' | _u=U _v=V envsubst",
];

#[test]
fn text_filters_match_the_hosts() {
    assert_all_match_bash(TEXT_CASES);
}

/// xz, bzip2 and gzip: what one side compresses the other side decompresses (host
/// xz/bzip2/gzip against the image's), tar -J/-j/-z and tar's own format recognition.
#[test]
fn compressors_interoperate_with_the_hosts() {
    let data: String = (0..3000)
        .map(|i| format!("line {i} of some text\n"))
        .collect();
    let scratch = tempfile::tempdir().unwrap();
    std::fs::write(scratch.path().join("data"), &data).unwrap();
    for (tool, unpack) in [
        ("xz", "xz -dc"),
        ("bzip2", "bzip2 -dc"),
        ("gzip", "gzip -dc"),
    ] {
        // Host compresses, wsh decompresses (the blob travels as base64 text).
        let blob = bash_in(scratch.path(), &format!("{tool} -c data | base64 -w0"));
        let ours = wsh(&format!(
            "echo {} | base64 -d | {unpack}",
            text(&blob.stdout)
        ));
        assert!(
            ours.stdout == data.as_bytes(),
            "{tool}: {}",
            text(&ours.stderr)
        );
        // wsh compresses (as a file, in place), the host decompresses.
        let ours = wsh(&format!(
            "cd /tmp && printf '%s' \"$(seq 3000 | sed 's/.*/line & of some text/')\" > d && echo >> d && \
             {tool} d && ls d* && base64 -w0 d.*"
        ));
        let listing = text(&ours.stdout);
        let (names, b64) = listing.split_once('\n').unwrap_or_default();
        assert!(
            names.starts_with("d."),
            "{tool}: {listing} {}",
            text(&ours.stderr)
        );
        std::fs::write(scratch.path().join("b64"), b64).unwrap();
        let theirs = bash_in(
            scratch.path(),
            &format!("base64 -d b64 | {unpack} | head -2"),
        );
        assert_eq!(
            text(&theirs.stdout),
            "line 1 of some text\nline 2 of some text\n",
            "{tool}"
        );
    }
}

/// unzip against Info-ZIP's, on an archive the host's zip made: files, directories,
/// modes, a symlink, listing totals, -p, member patterns, -n/-o, a hostile name.
#[test]
fn unzip_matches_info_zip() {
    let scratch = tempfile::tempdir().unwrap();
    let made = bash_in(
        scratch.path(),
        "mkdir -p t/s t/e && seq 20 > t/a && echo hi > t/s/b && chmod 751 t/s/b && ln -s a t/l && \
         zip -qry t.zip t && base64 -w0 t.zip",
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    let blob = text(&made.stdout);
    let case = format!(
        "echo {blob} | base64 -d > t.zip; unzip -q t.zip -d out; find out | sort; \
         stat -c '%a %n' out/t/s/b out/t/a; readlink out/t/l; tail -1 out/t/a; \
         unzip -l t.zip | tail -1; unzip -p t.zip t/s/b; unzip -q t.zip 't/s/*' -d o2; find o2 | sort; \
         echo new > out/t/a; unzip -qn t.zip -d out; cat out/t/a; unzip -qo t.zip -d out; wc -l < out/t/a; \
         unzip -q nope.zip 2>/dev/null; echo $?; unzip -q t.zip missing 2>/dev/null; echo $?"
    );
    let failures = differences_from_bash(&[case.as_str()]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// xxd and hexdump -C against the host's (vim's xxd, util-linux's hexdump).
const HEX_CASES: &[&str] = &[
    "env printf 'hello world, a line of text\\n\\001\\377' > f; xxd f; xxd -g1 f; xxd -c 8 -u f; xxd -p f; xxd -l 5 -s 6 f",
    "seq 50 > f; xxd f | xxd -r | cmp - f && echo same; xxd -p f | xxd -r -p | cmp - f && echo same2; echo -n | xxd; echo $?",
    "printf 'abc' | xxd; head -c 40 /dev/zero > z; hexdump -C z; seq 30 > f; hexdump -C f; hexdump -C -n 10 -s 3 f; hexdump -Cv z | wc -l",
    "printf '0123456789abcdef01234567' | hexdump -C; printf 'x' | hexdump -C; : | hexdump -C; echo $?",
];

#[test]
fn hex_dumps_match_the_hosts() {
    assert_all_match_bash(HEX_CASES);
}

const COMPRESS_CASES: &[&str] = &[
    // libbz2-rs is the reference bzip2, byte for byte.
    "seq 5000 > f; bzip2 -c f | od -An -tx1 | head -3; bzip2 -1 -c f | wc -c; bzip2 -c f | bzcat | tail -1",
    "seq 100 > f; xz -k f; ls f f.xz; xz -dc f.xz | tail -1; rm f; unxz f.xz; ls f*; xz -c f | xz -t 2>/dev/null; echo 'bad' > g.xz; xz -d g.xz 2>/dev/null; echo $?",
    "seq 100 > f; gzip f; ls f*; gzip -d f.gz; bzip2 f; ls f*; bunzip2 f.bz2; wc -l f; printf x | xz | xzcat",
    "mkdir -p t/s; seq 10 > t/a; echo b > t/s/b; for z in z J j; do tar c${z}f t.$z t; mkdir -p o$z; tar xf t.$z -C o$z; cat o$z/t/a | wc -l; tar t${z}f t.$z | sort | tr '\\n' ' '; echo; done",
];

#[test]
fn compressors_match_the_hosts() {
    assert_all_match_bash(COMPRESS_CASES);
}

#[test]
fn cat_matches_gnu() {
    assert_all_match_bash(CAT_CASES);
}

#[test]
fn shell_entries_match_bash() {
    assert_all_match_bash(SHELL_ENTRY_CASES);
    // Where PATH finds them: /usr/bin, as on a merged-/usr Debian (/bin links there).
    let out = wsh("command -v sh bash; which sh; type bash; sed -n 1p /bin/sh");
    assert_eq!(
        text(&out.stdout),
        "/usr/bin/sh\n/usr/bin/bash\n/usr/bin/sh\nbash is /usr/bin/bash\n#!/bin/sh\n",
        "{out:?}"
    );
}

/// The synthesized /proc (issue 13): the container's CPUs, memory cap and uptime,
/// readable by guests and by the interpreter's redirections, read-only. (`/proc` also
/// lists the running programs' pids: tests/processes.rs.)
#[test]
fn proc_files_describe_the_container() {
    let cpus = std::thread::available_parallelism().unwrap().get();
    let out = wsh(
        "ls /proc | grep -v '^[0-9]*$'; grep -c ^processor /proc/cpuinfo; sed -n 1p /proc/meminfo; \
         read up idle < /proc/uptime; echo \"$up\" > /tmp/u1; cat /proc/loadavg | wc -w; \
         echo x > /proc/uptime; echo $?; echo x | tee /proc/meminfo >/dev/null; echo $?; \
         sleep 1; read up2 idle < /proc/uptime; awk -v a=\"$up\" -v b=\"$up2\" 'BEGIN { print (b - a >= 0.9) }'",
    );
    assert_eq!(
        text(&out.stdout),
        format!(
            "cpuinfo\nloadavg\nmeminfo\nuptime\n{cpus}\nMemTotal:        4194304 kB\n5\n1\n1\n1\n"
        ),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("/proc/uptime: Permission denied"));
    // The memory cap is the container's (`--memory`).
    let out = wsh_cmd(wsh_home())
        .args([
            "run",
            "--memory",
            "64m",
            "base",
            "grep",
            "MemTotal",
            "/proc/meminfo",
        ])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "MemTotal:          65536 kB\n");
}

#[test]
fn devices_match_linux() {
    assert_all_match_bash(DEVICE_CASES);
}

#[test]
fn mkdir_matches_gnu() {
    assert_all_match_bash(MKDIR_CASES);
}

/// `mkdir -p` of 1500 levels (2999 bytes): it used to take O(depth²) lookups (each
/// prefix resolved from the root, 9.7 s here); made level by level from the parent's
/// descriptor it is linear.
#[test]
fn deep_mkdir_p_completes() {
    let path = vec!["a"; 1500].join("/");
    let start = std::time::Instant::now();
    let out = wsh(&format!(
        "mkdir -p /tmp/deep && cd /tmp/deep && mkdir -p {path} && cd {path} && \
         pwd | tr -cd / | wc -c"
    ));
    eprintln!("mkdir -p of 1500 levels: {:?}", start.elapsed());
    assert!(out.status.success(), "{}", text(&out.stderr));
    // "/tmp/deep" and one slash a level.
    assert_eq!(text(&out.stdout).trim(), "1502");
}
