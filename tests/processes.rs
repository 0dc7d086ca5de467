//! The container's processes (issue 16): the broker's process table as `ps`,
//! `top`, `pgrep`, `pkill`, `kill` and `/proc/PID/*` show it, signals reaching
//! programs, and `flock`'s locks. Formats and exit statuses are judged against
//! the host's procps and util-linux; signals are only ever sent inside wsh (a
//! host `pkill` would reach other people's programs).

mod common;

use common::*;

/// Shell functions scripts may call: `settle PID` waits (up to 10 s) until the program
/// sleeps in its wait, as right after `sleep 30 &` it may still be starting (state R);
/// `settle_named NAME` waits for the one program of that name to exist and sleep.
const SETTLE: &str = "settle() { for i in $(seq 200); do \
     grep -q '^State:.S' /proc/$1/status 2>/dev/null && return; sleep 0.05; done; }
     settle_named() { for i in $(seq 200); do p=$(pgrep -x $1) && \
     grep -q '^State:.S' /proc/$p/status 2>/dev/null && return; sleep 0.05; done; }\n";

/// Runs `script` in a fresh `wsh -c` (with `settle` defined), requiring exit
/// status 0; its stdout.
fn run(script: &str) -> String {
    let out = wsh(&format!("{SETTLE}{script}"));
    assert!(
        out.status.success(),
        "{script}\nstatus {:?}\nstdout {}\nstderr {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The first line of a host command's output.
fn host_first_line(cmd: &str) -> String {
    let out = bash_in(std::path::Path::new("/"), cmd);
    text(&out.stdout).lines().next().unwrap_or("").to_string()
}

/// Headers equal procps' (exactly while pids fit procps' five columns).
fn assert_same_header(ours: &str, theirs: &str, pids_fit: bool) {
    if pids_fit {
        assert_eq!(ours, theirs);
    } else {
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words(ours), words(theirs));
    }
}

#[test]
fn ps_shows_background_programs_under_the_pids_the_shell_gave_them() {
    let out = run("sleep 30 & a=$!; sleep 31 & b=$!; echo $a $b; \
         ps -o pid=,args=; echo ---; pgrep -x sleep; echo ---; pgrep -l sleep; \
         echo ---; pgrep -a -n sleep; echo ---; pgrep -c sleep; kill $a $b; wait");
    let mut parts = out.split("---\n");
    let head = parts.next().unwrap();
    let (ids, listing) = head.split_once('\n').unwrap();
    let ids: Vec<&str> = ids.split_whitespace().collect();
    let rows: Vec<(String, String)> = listing
        .lines()
        .map(|l| {
            let (pid, args) = l.trim_start().split_once(' ').unwrap();
            (pid.to_string(), args.to_string())
        })
        .collect();
    assert!(rows.contains(&(ids[0].into(), "sleep 30".into())), "{out}");
    assert!(rows.contains(&(ids[1].into(), "sleep 31".into())), "{out}");
    assert!(rows.iter().any(|(_, a)| a == "ps -o pid=,args="), "{out}");
    assert_eq!(parts.next().unwrap(), format!("{}\n{}\n", ids[0], ids[1]));
    assert_eq!(
        parts.next().unwrap(),
        format!("{} sleep\n{} sleep\n", ids[0], ids[1])
    );
    assert_eq!(parts.next().unwrap(), format!("{} sleep 31\n", ids[1]));
    assert_eq!(parts.next().unwrap(), "2\n");
}

#[test]
fn ps_formats_match_procps() {
    let out = run(
        "sleep 30 & settle $!; ps | head -1; ps -ef | head -1; ps aux | head -1; \
         ps -o pid,ppid,user,stat,etime,time,rss,args -p $! | head -1; \
         ps -f -p $! | tail -1; ps -o pid,ppid,user,stat,args -p $! | tail -1; \
         echo $$ $!; kill $!",
    );
    let lines: Vec<&str> = out.lines().collect();
    let ids: Vec<u32> = lines[6]
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    let fit = ids.iter().all(|p| *p < 100_000);
    for (i, cmd) in [
        "ps",
        "ps -ef",
        "ps aux",
        "ps -o pid,ppid,user,stat,etime,time,rss,args",
    ]
    .iter()
    .enumerate()
    {
        assert_same_header(lines[i], &host_first_line(cmd), fit);
    }
    // UID PID PPID C STIME TTY TIME CMD
    let f: Vec<&str> = lines[4].split_whitespace().collect();
    assert_eq!(f[0], "root");
    assert_eq!(f[1], ids[1].to_string());
    assert_eq!(f[2], ids[0].to_string(), "the shell is the parent: {out}");
    assert_eq!(&f[5..], ["?", "00:00:00", "sleep", "30"]);
    let o: Vec<&str> = lines[5].split_whitespace().collect();
    assert_eq!(o[2..], ["root", "S", "sleep", "30"]);
}

#[test]
fn pgrep_pkill_and_ps_exit_statuses_match_procps() {
    assert_all_match_bash(&[
        "pgrep -x wsh_no_such_program; echo $?",
        "pgrep -c wsh_no_such_program; echo $?",
        "pgrep 2>/dev/null; echo $?",
        "pgrep -Z x 2>/dev/null; echo $?",
        "pgrep a b 2>/dev/null; echo $?",
        "pkill -x wsh_no_such_program; echo $?",
        "pkill -c -x wsh_no_such_program; echo $?",
        "ps -o wsh_no_such_key >/dev/null 2>&1; echo $?",
        "ps -p 2147483647 >/dev/null; echo $?",
        "ps -o pid= -p 2147483647; echo $?",
        "kill -l | tail -2",
        "kill -l 15 TERM 143",
        "/bin/kill -l; /bin/kill -L; /bin/kill -l 9; /bin/kill -l KILL",
        "/bin/kill 2147483647 2>/dev/null; echo $?",
    ]);
}

#[test]
fn signals_reach_programs_with_their_default_actions() {
    let out = run("sleep 30 & pkill -x sleep; wait $!; echo term=$?; \
         sleep 30 & pkill -KILL sleep; wait $!; echo kill=$?; \
         sleep 30 & pkill --signal INT -f 'sleep 30'; wait $!; echo int=$?; \
         sleep 30 & p=$!; settle $p; /bin/kill -STOP $p; ps -o stat= -p $p; /bin/kill -CONT $p; \
         settle $p; ps -o stat= -p $p; /bin/kill -WINCH $p; ps -o stat= -p $p; \
         env kill -9 $p; wait $p; echo env_kill=$?; /bin/kill -0 $p; echo gone=$?");
    assert_eq!(
        out,
        "term=143\nkill=137\nint=130\nT\nS\nS\nenv_kill=137\ngone=1\n"
    );
}

#[test]
fn the_kill_builtin_reaches_programs_that_are_not_its_jobs() {
    // The inner shell's sleep is no job of the outer shell: `kill PID` goes to the runtime.
    let started = std::time::Instant::now();
    let out = run("sh -c 'sleep 30; echo inner=$?' & settle_named sleep; \
         p=$(pgrep -x sleep); kill $p; wait; kill $p; echo again=$?");
    assert_eq!(out, "inner=143\nagain=1\n");
    assert!(started.elapsed().as_secs() < 20);
}

#[test]
fn proc_pid_files_describe_the_program() {
    let out = run(
        "sleep 30 & p=$!; settle $p; tr '\\0' ' ' < /proc/$p/cmdline; echo; \
         cat /proc/$p/stat; cat /proc/$p/comm; grep -E '^(Name|State|Pid|Uid):' /proc/$p/status; \
         grep ^Name: /proc/self/status; kill $p",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "sleep 30 ");
    let stat: Vec<&str> = lines[1].split_whitespace().collect();
    // proc(5): 52 fields; pid, (comm), state, ppid; vsize and rss agree.
    assert_eq!(stat.len(), 52, "{}", lines[1]);
    assert_eq!(&stat[1..3], ["(sleep)", "S"]);
    let vsize: u64 = stat[22].parse().unwrap();
    let rss: u64 = stat[23].parse().unwrap();
    assert_eq!(rss, vsize.div_ceil(4096));
    assert_eq!(lines[2], "sleep");
    assert_eq!(lines[3], "Name:\tsleep");
    assert_eq!(lines[4], "State:\tS (sleeping)");
    assert_eq!(lines[5], format!("Pid:\t{}", stat[0]));
    assert_eq!(lines[6], "Uid:\t0\t0\t0\t0");
    assert_eq!(lines[7], "Name:\tgrep");
}

#[test]
fn top_batch_mode_prints_procps_summary_and_table() {
    let out = run("sleep 30 & settle $!; top -b -n 2 -d 0.2; kill $!");
    let host = text(&bash_in(std::path::Path::new("/"), "top -b -n 1").stdout);
    let host_header = host
        .lines()
        .find(|l| l.trim_start().starts_with("PID"))
        .unwrap()
        .to_string();
    let screens: Vec<&str> = out.split("\ntop - ").collect();
    assert_eq!(screens.len(), 2, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("top - "), "{out}");
    assert!(lines[0].contains(" up ") && lines[0].contains("load average:"));
    assert!(lines[1].starts_with("Tasks: ") && lines[1].contains("sleeping"));
    assert!(lines[2].starts_with("MiB Mem :"));
    assert!(lines[3].starts_with("MiB Swap:"));
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(lines[5]), words(&host_header));
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(" sleep") && l.split_whitespace().nth(7) == Some("S")),
        "{out}"
    );
    assert!(lines.iter().any(|l| l.ends_with(" top")), "{out}");
}

#[test]
fn every_new_applet_answers_help() {
    for name in ["ps", "top", "pgrep", "pkill", "kill", "flock"] {
        let out = run(&format!("/bin/{name} --help"));
        assert!(out.contains("Usage"), "{name}: {out}");
    }
}

#[test]
fn flock_serializes_critical_sections() {
    // Three writers, each appending five lines slowly under the lock: never interleaved.
    let out = run("mkdir -p /tmp/t && cd /tmp/t; for i in 1 2 3; do \
         flock lk sh -c \"for j in 1 2 3 4 5; do echo $i >> out; sleep 0.1; done\" & done; \
         for i in $(seq 500); do test -s out && break; sleep 0.01; done; flock -n lk true; echo nonblock=$?; flock -w 0.05 lk true; echo timeout=$?; \
         flock -n -E 7 lk true; echo conflict=$?; wait; uniq -c out | wc -l; wc -l < out");
    assert_eq!(out, "nonblock=1\ntimeout=1\nconflict=7\n3\n15\n");
}

#[test]
fn flock_locks_are_shared_or_exclusive_and_end_with_their_holder() {
    let out = run("mkdir -p /tmp/t && cd /tmp/t; \
         flock -s lk flock -s -n lk echo shared; \
         flock -s lk flock -x -n lk true; echo ex_vs_shared=$?; \
         flock lk sleep 30 & settle_named sleep; flock -n lk true; echo held=$?; \
         pkill -x sleep; wait; flock -n lk true; echo released=$?; \
         { flock 0; flock -n lk true; echo fd_lock=$?; } < lk; flock -n lk true; echo after_group=$?");
    assert_eq!(
        out,
        "shared\nex_vs_shared=1\nheld=1\nreleased=0\nfd_lock=1\nafter_group=0\n"
    );
}

#[test]
fn flock_usage_and_statuses_match_util_linux() {
    assert_all_match_bash(&[
        "flock 2>/dev/null; echo $?",
        "flock -n lk true; echo $?",
        "flock -x -n lk -c 'exit 3'; echo $?",
        "flock lk sh -c 'flock -n lk true; echo inner=$?'; echo $?",
        "flock -s lk sh -c 'flock -s -n lk echo shared'",
        "flock /nonexistent/dir/lk true 2>/dev/null; echo $?",
        "flock 9 2>/dev/null; echo $?",
        "flock -w x lk true 2>/dev/null; echo $?",
        "flock lk wsh_no_such_program 2>/dev/null; echo $?",
    ]);
}

#[test]
fn mkfifo_makes_named_pipes_that_meet_like_linux_ones() {
    assert_all_match_bash(&[
        "mkfifo p; stat -c '%a %F %s' p; ls -l p | cut -c1",
        "mkfifo -m 600 q; stat -c '%a %F' q; mkfifo -m a=rw,u+x r; stat -c %a r",
        "mkfifo p; mkfifo p 2>/dev/null; echo $?; mkfifo 2>/dev/null; echo $?",
        "mkfifo -m 999 p 2>/dev/null; echo $?; test -e p || echo none",
        "mkfifo p; cat p & echo hi > p; wait",
        "mkfifo p; (seq 3; echo x) > p & wc -l < p; wait",
        "mkfifo p; cat p > out & seq 100000 > p; wait; wc -l < out; cksum < out",
        "mkfifo p; { echo a; echo b; } > p & while read l; do echo got $l; done < p; wait",
        "mkfifo p; cat < p & cat /etc/hostname > /dev/null; echo from-shell > p; wait",
        // (cat, not sort: uutils' sort opens its input twice, and a FIFO's writers
        // meet the first open.)
        "mkfifo p; echo first > p & echo second > p & sleep 0.2; cat p | sort; wait",
        "mkfifo p; test -p p && echo fifo; rm p; test -e p || echo gone",
    ]);
}

#[test]
fn a_fifo_in_a_saved_image_is_a_fifo_inode_and_the_image_is_clean() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("proc-fifo-build");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("Balenafile"),
        "FROM base\nRUN mkfifo /pipe && mkfifo -m 600 /private-pipe && \
         (echo through > /pipe & cat /pipe)\n",
    )
    .unwrap();
    let mut build = wsh_cmd(wsh_home());
    build.args(["build", "-t", "proc-fifo-test"]).arg(&dir);
    run_ok(&mut build, "wsh build");
    let img = dir.join("fifo.img");
    let mut export = wsh_cmd(wsh_home());
    export.args(["export", "proc-fifo-test"]).arg(&img);
    run_ok(&mut export, "wsh export");
    let img_s = img.to_str().unwrap();
    let stat = text(&host("debugfs", &["-R", "stat /pipe", img_s]).stdout);
    assert!(stat.contains("Type: FIFO"), "{stat}");
    assert!(stat.contains("Mode:  0644"), "{stat}");
    let stat = text(&host("debugfs", &["-R", "stat /private-pipe", img_s]).stdout);
    assert!(
        stat.contains("Type: FIFO") && stat.contains("Mode:  0600"),
        "{stat}"
    );
    let fsck = host("e2fsck", &["-fn", img_s]);
    assert!(
        fsck.status.success(),
        "{}{}",
        text(&fsck.stdout),
        text(&fsck.stderr)
    );
    let mut rmi = wsh_cmd(wsh_home());
    rmi.args(["rmi", "proc-fifo-test"]);
    let _ = rmi.output();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn exec_sees_and_signals_a_detached_containers_programs() {
    let name = format!("proc-exec-{}", std::process::id());
    let wsh_out = |args: &[&str]| {
        let mut c = wsh_cmd(wsh_home());
        c.args(args);
        run_ok(&mut c, &args.join(" "))
    };
    wsh_out(&["run", "-d", "--name", &name, "base", "sleep", "60"]);
    // The container's program, seen from a command `exec` runs in it.
    let mut listing = String::new();
    for _ in 0..100 {
        listing = text(&wsh_out(&["exec", &name, "ps", "-o", "args="]).stdout);
        if listing.contains("sleep 60") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(listing, "sleep 60\nps -o args=\n");
    let killed = text(&wsh_out(&["exec", &name, "pkill", "-e", "-x", "sleep"]).stdout);
    assert!(killed.starts_with("sleep killed (pid "), "{killed}");
    // Its main program ended by the signal: Docker's status 143.
    let status = text(&wsh_out(&["wait", &name]).stdout);
    let _ = wsh_cmd(wsh_home()).args(["rm", "-f", &name]).output();
    assert_eq!(status, "143\n");
}

/// `/proc` lists a directory per live program, which stats as one and lists its files,
/// from guests (`ls`, `find`, `stat`) and from the shell (globs, `[ -d ]`, `cd`), and
/// is gone once the program ends: the same lines as bash on the host's Linux `/proc`.
#[test]
fn proc_lists_a_directory_per_program_as_linux_does() {
    assert_all_match_bash(&[
        "sleep 30 & p=$!; [ -d /proc/$p ] && echo dir; ls /proc/$p | grep -cxE 'cmdline|comm|stat|status'; \
         case \" $(ls /proc | tr '\\n' ' ') \" in *\" $p \"*) echo listed;; esac; \
         for d in /proc/[0-9]*; do [ \"$d\" = /proc/$p ] && echo globbed; done; \
         find /proc -maxdepth 1 -name $p | grep -c .; stat -c %F /proc/$p; (cd /proc/$p && cat comm); \
         ls -d /proc/self/ > /dev/null && echo self; [ -f /proc/$p/stat ] && echo file; \
         kill $p; wait; [ -e /proc/$p ] || echo gone",
    ]);
}
