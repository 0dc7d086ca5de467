//! Job control, history search, completion, prompts and `help` in the REPL. The
//! job-control and prompt scenarios run against real bash in tmux too: the same
//! keys must give the same lines (bash prints `bash:` where wsh prints `wsh:`).

use std::time::{Duration, Instant};

use super::term::{Term, WAIT, has_line, private_home};

/// How many screen lines are exactly `text`.
fn count(screen: &str, text: &str) -> usize {
    screen.lines().filter(|l| l.trim_end() == text).count()
}

/// Presses Enter (a fresh prompt, where notices appear) until `text` is a line.
fn enter_until(t: &Term, text: &str) -> String {
    let start = Instant::now();
    loop {
        t.key("Enter");
        if let Ok(s) = t.wait_for_within(Duration::from_secs(1), text, |s| has_line(s, text)) {
            return s;
        }
        assert!(
            start.elapsed() < WAIT,
            "no line {text:?}; screen:\n{}",
            t.screen()
        );
    }
}

/// The pid `jobs -l` shows for job 1 in the last such line (`[1]+ PID Running ...`).
fn long_listing_pid(screen: &str) -> Option<String> {
    screen.lines().rev().find_map(|l| {
        let rest = l.strip_prefix("[1]+ ")?;
        let mut words = rest.split_whitespace();
        let pid = words.next()?;
        (words.next() == Some("Running") && pid.chars().all(|c| c.is_ascii_digit()))
            .then(|| pid.to_string())
    })
}

/// The job-control session both shells must agree on.
fn job_control_scenario(t: &Term, shell: &str) {
    // `&` gives the prompt back at once with `[N] PID`.
    t.line("sleep 1 &");
    t.wait_for("the job's number and pid", |s| {
        s.lines().any(|l| {
            l.trim_end()
                .strip_prefix("[1] ")
                .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        })
    });
    let s = enter_until(t, "[1]+  Done                    sleep 1");
    assert_eq!(count(&s, "[1]+  Done                    sleep 1"), 1, "{s}");

    // Ctrl-Z stops the foreground program; the next command still runs.
    t.line("echo started; sleep 30");
    t.wait_for("the command to start", |s| has_line(s, "started"));
    let stopped = "[1]+  Stopped                 sleep 30";
    t.key("C-z");
    t.wait_for("the Stopped notice", |s| has_line(s, stopped));
    t.line("jobs");
    t.wait_for("jobs listing it", |s| count(s, stopped) == 2);
    t.line("bg");
    t.wait_for("bg's line", |s| has_line(s, "[1]+ sleep 30 &"));
    t.line("jobs -l");
    let s = t.wait_for("the long listing", |s| long_listing_pid(s).is_some());
    let pid = long_listing_pid(&s).unwrap();
    t.line("jobs -p");
    t.wait_for("the pid alone", |s| count(s, &pid) == 1);
    // fg brings it back (its text is echoed), Ctrl-Z stops it again.
    t.line("fg");
    t.wait_for("fg's echo", |s| has_line(s, "sleep 30"));
    t.key("C-z");
    t.wait_for("stopped again", |s| count(s, stopped) >= 3);
    // SIGKILL, not SIGTERM: for a stopped job bash sends SIGTERM then SIGCONT, and
    // bash 5.2 at times misses the child's end after the CONTINUED event: it prints
    // "Stopped" again and never reaps it (a zombie; 1 run in 10, more under load).
    t.line("kill -9 %1");
    enter_until(t, "[1]+  Killed                  sleep 30");

    // disown forgets a job; then there is no current job.
    t.line("sleep 30 &");
    t.line("disown");
    t.line("fg");
    t.wait_for("fg without a job", |s| {
        has_line(s, &format!("{shell}: fg: current: no such job"))
    });
    t.line("wait %3; echo status $?");
    t.wait_for("wait on no job", |s| {
        has_line(s, &format!("{shell}: wait: %3: no such job")) && has_line(s, "status 127")
    });

    // Stopping a program leaves the loops around it; the line goes on after them.
    t.line("for i in 1 2; do echo it$i; sleep 30; done; echo after-the-loop");
    t.wait_for("the loop to start", |s| has_line(s, "it1"));
    t.key("C-z");
    let s = t.wait_for("the line to go on", |s| has_line(s, "after-the-loop"));
    assert!(!has_line(&s, "it2"), "the loop must end:\n{s}");
    t.line("kill -9 %1");
    enter_until(t, "[1]+  Killed                  sleep 30");
}

#[test]
fn job_control_as_in_bash() {
    let t = Term::start(&private_home("jobs"));
    job_control_scenario(&t, "wsh");
    let b = Term::start_bash(&private_home("jobs-bash"));
    job_control_scenario(&b, "bash");
}

#[test]
fn a_stopped_program_is_held_and_ctrl_c_spares_background_jobs() {
    let t = Term::start(&private_home("stopped"));
    t.line("sleep 100 &");
    // A stopped `cat` does not read the terminal: the next line goes to the shell.
    t.line("cat");
    t.wait_for("the cat line", |s| has_line(s, "base / $ cat"));
    t.key("C-z");
    t.wait_for("cat stopped", |s| {
        has_line(s, "[2]+  Stopped                 cat")
    });
    t.line("echo typed-to-the-shell");
    t.wait_for("the shell's output", |s| has_line(s, "typed-to-the-shell"));
    // A spinning guest stops using the CPU once stopped.
    t.line("echo started; yes > /dev/null");
    t.wait_for("yes to start", |s| has_line(s, "started"));
    t.key("C-z");
    t.wait_for("yes stopped", |s| {
        has_line(s, "[3]+  Stopped                 yes > /dev/null")
    });
    let pid = t.wsh_pid();
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let ticks = cpu_ticks(pid) - before;
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    eprintln!("CPU while `yes` is stopped: {ticks} ticks in 2 s ({hz} per s)");
    assert!(
        ticks < hz / 2,
        "a stopped guest must not spin: {ticks} ticks"
    );
    // Resumed, it runs until Ctrl-C, which stops it but not the background sleep.
    t.line("fg %3");
    t.wait_for("fg's echo", |s| has_line(s, "yes > /dev/null"));
    t.key("C-c");
    t.wait_for("the prompt after Ctrl-C", |s| has_line(s, "base / [130] $"));
    t.line("jobs");
    t.wait_for("the jobs left", |s| {
        has_line(s, "[1]-  Running                 sleep 100 &")
            && s.lines()
                .any(|l| l.trim_end() == "[2]+  Stopped                 cat")
    });
    // Leaving with a stopped job takes a second `exit`, as in bash.
    t.line("exit");
    t.wait_for("the warning", |s| has_line(s, "There are stopped jobs."));
    assert!(!t.dead(), "the first exit must be refused");
    t.line("exit");
    t.wait_for_within(WAIT, "wsh to exit", |_| t.dead())
        .unwrap_or_else(|s| panic!("wsh still runs:\n{s}"));
}

#[test]
fn ctrl_r_then_enter_runs_the_line_found() {
    let t = Term::start(&private_home("ctrl-r"));
    t.line("echo found-by-search");
    t.wait_for("the output", |s| has_line(s, "found-by-search"));
    t.line("echo something else");
    t.key("C-r");
    t.type_text("found-by");
    t.wait_for("the search prompt", |s| s.contains("reverse-i-search"));
    t.key("Enter");
    t.wait_for("the line run again", |s| count(s, "found-by-search") == 2);
    t.line("history");
    t.wait_for("it is in the history", |s| {
        has_line(s, "    3  echo found-by-search")
    });
}

#[test]
fn tab_completes_options_and_variables_and_never_says_no_records() {
    let t = Term::start(&private_home("tab-options"));
    t.type_text("ls --col");
    t.key("Tab");
    t.wait_for("the option from ls --help", |s| {
        s.lines().any(|l| l.trim_end() == "base / $ ls --color")
    });
    t.key("C-u");
    // (`$HO` alone is ambiguous: HOSTTYPE is set too, as in bash.)
    t.type_text("echo $HOM");
    t.key("Tab");
    t.wait_for("the variable", |s| {
        s.lines().any(|l| l.trim_end() == "base / $ echo $HOME")
    });
    t.key("Enter");
    t.wait_for("its value", |s| has_line(s, "/root"));
    t.type_text("echo ${PW");
    t.key("Tab");
    t.wait_for("the braced variable", |s| {
        s.lines().any(|l| l.trim_end() == "base / $ echo ${PWD}")
    });
    t.key("C-u");
    t.type_text("echo $NO_SUCH_VARIABLE_AT_ALL");
    t.key("Tab");
    t.type_text(" --nosuchoption");
    t.key("Tab");
    t.type_text(" done-typing");
    let s = t.wait_for("the line", |s| s.contains("done-typing"));
    assert!(!s.contains("NO RECORDS FOUND"), "{s}");
}

/// `read -p`, the terminal's size and `$BASH_VERSION`, as bash shows them.
fn read_prompt_scenario(t: &Term) {
    t.line("read -p 'name? ' n");
    t.wait_for("read's prompt", |s| {
        s.lines().any(|l| l.trim_end() == "name?")
    });
    t.line("bob");
    t.line("echo \"hi $n\" $COLUMNS $LINES ${BASH_VERSION%%.*}");
    t.wait_for("the answer and the size", |s| {
        has_line(s, "hi bob 100 30 5")
    });
}

#[test]
fn read_prompt_terminal_size_and_version_as_in_bash() {
    read_prompt_scenario(&Term::start(&private_home("read-p")));
    read_prompt_scenario(&Term::start_bash(&private_home("read-p-bash")));
}

#[test]
fn ps1_ps2_prompt_command_and_history_variables() {
    let t = Term::start(&private_home("ps1"));
    t.line(r"PS1='\u@\h:\w \W\$ '; PS2='more> '");
    t.wait_for("the new prompt", |s| has_line(s, "root@wsh:/ /#"));
    t.line("cd /usr/local");
    t.wait_for("the new directory", |s| {
        has_line(s, "root@wsh:/usr/local local#")
    });
    t.line("if true; then");
    t.wait_for("PS2", |s| has_line(s, "more>"));
    t.line("echo in-the-if; fi");
    t.wait_for("the if ran", |s| has_line(s, "in-the-if"));
    t.line("PROMPT_COMMAND='echo prompt-command-ran'");
    t.wait_for("PROMPT_COMMAND before the prompt", |s| {
        has_line(s, "prompt-command-ran")
    });
    // HISTFILE names a file in the container; HISTSIZE bounds `history`.
    t.line("HISTFILE=/tmp/hist; HISTSIZE=2; echo one");
    t.line("cat /tmp/hist");
    t.wait_for("the history file", |s| has_line(s, "cat /tmp/hist"));
    t.line("history");
    t.wait_for("two history lines", |s| {
        has_line(s, "    1  cat /tmp/hist") && has_line(s, "    2  history")
    });
}

#[test]
fn help_lists_builtins_and_shows_one() {
    let t = Term::start(&private_home("help"));
    t.line("help fg");
    t.wait_for("fg's usage", |s| has_line(s, "fg: fg [JOB_SPEC]"));
    t.line("help | grep -c 'defined internally'");
    t.wait_for("the list's header", |s| has_line(s, "1"));
    t.line("help nosuch; echo status $?");
    t.wait_for("no topic", |s| has_line(s, "status 1"));
}

/// CPU ticks (utime + stime) of process `pid` so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields 14 and 15, after the parenthesized name.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    after
        .split(' ')
        .skip(11)
        .take(2)
        .map(|v| v.parse::<u64>().unwrap())
        .sum()
}

#[test]
fn ctrl_z_stops_a_whole_pipeline_and_kill_stops_background_jobs() {
    let t = Term::start(&private_home("pipeline-stop"));
    // A pipeline typed at the prompt runs as one job; its statuses still come back.
    t.line("false | true; echo ${PIPESTATUS[@]}");
    t.wait_for("PIPESTATUS", |s| has_line(s, "1 0"));
    t.line("echo started; yes | tr y n > /dev/null");
    t.wait_for("the pipeline to start", |s| has_line(s, "started"));
    t.key("C-z");
    t.wait_for("the pipeline stopped", |s| {
        has_line(s, "[1]+  Stopped                 yes | tr y n > /dev/null")
    });
    let pid = t.wsh_pid();
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let ticks = cpu_ticks(pid) - before;
    eprintln!("CPU while the pipeline is stopped: {ticks} ticks in 2 s");
    assert!(ticks < 50, "a stopped pipeline must not run: {ticks} ticks");
    t.line("fg");
    t.wait_for("fg's echo", |s| has_line(s, "yes | tr y n > /dev/null"));
    t.key("C-c");
    t.wait_for("the prompt after Ctrl-C", |s| has_line(s, "base / [130] $"));
    // A background job stops and continues with kill -STOP / -CONT.
    t.line("sleep 100 &");
    t.line("kill -STOP %1; jobs");
    t.wait_for("the job stopped", |s| {
        has_line(s, "[1]+  Stopped                 sleep 100")
    });
    t.line("kill -CONT %1; jobs");
    t.wait_for("the job running", |s| {
        has_line(s, "[1]+  Running                 sleep 100 &")
    });
    // SIGTERM ends a stopped job too (the shared scenario uses SIGKILL, see there).
    t.line("kill -STOP %1");
    t.line("kill %1");
    enter_until(&t, "[1]+  Terminated              sleep 100");
}

#[test]
fn histfile_is_read_at_the_start_and_appended_to() {
    let home = private_home("histfile");
    let host = home.join("vol");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("hist"), "echo from-the-file\n").unwrap();
    let vol = format!("{}:/data", host.display());
    let t = Term::start_with(
        &home,
        &[
            "run",
            "-it",
            "-v",
            &vol,
            "-e",
            "HISTFILE=/data/hist",
            "base",
        ],
    );
    t.line("history");
    t.wait_for("the file's line first", |s| {
        has_line(s, "    1  echo from-the-file") && has_line(s, "    2  history")
    });
    let text = std::fs::read_to_string(host.join("hist")).unwrap();
    assert_eq!(text, "echo from-the-file\nhistory\n");
}

/// `top` on the terminal redraws the container's programs until `q` (read as one
/// key, no Enter), and the prompt comes back usable.
#[test]
fn top_shows_the_jobs_and_q_quits() {
    let t = Term::start(&private_home("top"));
    t.line("sleep 60 &");
    t.line("top -d 0.3");
    t.wait_for("top's screen with the sleep", |s| {
        s.contains("PID USER") && s.lines().any(|l| l.trim_end().ends_with("sleep"))
    });
    t.key("q");
    // Typed-ahead keys would reach top (which reads what is there), so wait for the prompt.
    t.wait_for("the prompt after q", super::term::ends_at_prompt);
    t.line("echo after top");
    t.wait_for("the prompt after top", |s| has_line(s, "after top"));
    t.line("kill %1");
}
