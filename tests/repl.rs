//! The REPL driven in a real terminal: tmux runs `wsh` in a pane, the test types
//! with send-keys and reads the screen with capture-pane, polling (never fixed
//! sleeps) with a bounded wait for each expected screen.

mod common;
#[path = "repl/jobs.rs"]
mod jobs;
#[path = "repl/nano.rs"]
mod nano;
#[path = "repl/term.rs"]
mod term;
#[path = "repl/vi.rs"]
mod vi;

use std::process::Command;
use std::time::{Duration, Instant};

use term::{Term, WAIT, has_line, is_prompt, private_home, prompt_lines};

#[test]
fn command_and_its_output() {
    let t = Term::start(&private_home("command"));
    t.line("echo hello from the repl | tr a-z A-Z");
    t.wait_for("the pipeline's output", |s| {
        has_line(s, "HELLO FROM THE REPL")
    });
    // The shell state persists from line to line.
    t.line("cd /etc; X=kept");
    t.wait_for("the prompt in /etc", |s| {
        s.lines().any(|l| l.trim_end() == "base /etc $")
    });
    t.line("echo $X; pwd");
    t.wait_for("the variable and the cwd", |s| {
        has_line(s, "kept") && has_line(s, "/etc")
    });
}

#[test]
fn run_it_opens_the_repl_inside_the_container_with_its_env_and_workdir() {
    let t = Term::start_with(
        &private_home("run-it"),
        &["run", "-it", "-e", "WHO=cli", "-w", "/etc", "base"],
    );
    // The prompt names the image and starts in the -w directory.
    t.wait_for("the prompt in /etc", |s| has_line(s, "base /etc $"));
    t.line("echo $WHO; pwd");
    t.wait_for("the -e variable and the -w cwd", |s| {
        has_line(s, "cli") && has_line(s, "/etc")
    });
    t.line("exit 3");
    let status_file = t.home.join("exit-status");
    let status = || std::fs::read_to_string(&status_file).unwrap_or_default();
    t.wait_for("wsh run to end", |_| status().ends_with('\n'));
    assert_eq!(
        status().trim(),
        "3",
        "the container's status is its last command's"
    );
}

#[test]
fn multi_line_if() {
    let t = Term::start(&private_home("multiline"));
    t.line("if true; then");
    t.wait_for("a continuation line", |s| {
        s.lines().any(|l| l.trim_end() == ">")
    });
    t.line("echo inside the if");
    t.line("fi");
    let s = t.wait_for("the if's output", |s| has_line(s, "inside the if"));
    assert!(!s.contains("syntax error"), "{s}");
}

#[test]
fn syntax_error_then_a_command() {
    let t = Term::start(&private_home("syntax"));
    t.line("echo a; fi");
    let s = t.wait_for("a syntax error", |s| {
        s.contains("syntax error") && prompt_lines(s) >= 1
    });
    assert!(s.contains("line 1"), "the message names the line: {s}");
    t.wait_for("a prompt with status 2", |s| {
        s.lines().any(|l| l.trim_end() == "base / [2] $")
    });
    assert!(!has_line(&s, "a"), "nothing of the line ran: {s}");
    t.line("echo still running");
    t.wait_for("the next command's output", |s| {
        has_line(s, "still running")
    });
}

/// Runs `cmd` after printing `started`, presses Ctrl-C once, and expects the prompt
/// back with status 130 and a working shell. One press must do even when it lands
/// before the guest has started.
fn interrupt(t: &Term, cmd: &str) {
    t.line(&format!("echo started; {cmd}"));
    t.wait_for("the command to start", |s| has_line(s, "started"));
    let pressed = Instant::now();
    t.key("C-c");
    t.wait_for("the prompt after Ctrl-C", |s| {
        s.lines().any(|l| l.trim_end() == "base / [130] $")
    });
    eprintln!("`{cmd}`: prompt back {:?} after Ctrl-C", pressed.elapsed());
    t.line("echo after ctrl-c");
    let s = t.wait_for("a command after Ctrl-C", |s| has_line(s, "after ctrl-c"));
    assert!(
        !s.contains("panicked") && !s.contains("aborted"),
        "the guest must stop cleanly:\n{s}"
    );
}

#[test]
fn ctrl_c_stops_sleep() {
    let t = Term::start(&private_home("sleep"));
    interrupt(&t, "sleep 100");
}

#[test]
fn ctrl_c_stops_a_spinning_guest() {
    let t = Term::start(&private_home("yes"));
    interrupt(&t, "yes > /dev/null");
}

#[test]
fn ctrl_c_stops_a_loop_of_builtins_and_the_rest_of_the_line() {
    let t = Term::start(&private_home("loop"));
    interrupt(&t, "while :; do :; done; echo rest-of-line");
    assert!(
        !has_line(&t.screen(), "rest-of-line"),
        "Ctrl-C abandons the rest of the line:\n{}",
        t.screen()
    );
}

/// Ctrl-Z stops the foreground program; the loop running it is left with status
/// 148 (128 + SIGTSTP), as bash leaves it, and what follows the loop runs.
#[test]
fn ctrl_z_in_a_loop_leaves_it_with_status_148() {
    let t = Term::start(&private_home("ctrl-z-loop"));
    t.line("echo started; for i in 1 2; do sleep 100; done; echo \"loop status $?\"");
    t.wait_for("the command to start", |s| has_line(s, "started"));
    // Let the guest start: the stop is for a running program.
    std::thread::sleep(Duration::from_millis(500));
    t.key("C-z");
    let s = t.wait_for("the loop's status", |s| has_line(s, "loop status 148"));
    assert!(s.contains("Stopped"), "the stopped job is announced:\n{s}");
    t.line("kill %1");
}

/// Waits until the visible screen's first line is `first` and some line is `also`.
fn wait_for_page(t: &Term, first: &str, also: &str) {
    t.wait_visible(&format!("a page starting {first:?} with {also:?}"), |s| {
        s.lines().next().map(str::trim_end) == Some(first) && has_line(s, also)
    });
}

#[test]
fn less_pages_a_pipe_with_single_keys() {
    let t = Term::start(&private_home("less"));
    // stdin is the pipe: keys come from /dev/tty, one at a time (no Enter).
    t.line("seq 200 | less");
    wait_for_page(&t, "1", "29");
    t.key("Space");
    wait_for_page(&t, "30", "58");
    t.key("b");
    wait_for_page(&t, "1", "2");
    t.key("j");
    wait_for_page(&t, "2", "30");
    t.type_text("/^150$");
    t.key("Enter");
    wait_for_page(&t, "150", "178");
    t.key("G");
    wait_for_page(&t, "172", "(END)");
    t.key("g");
    wait_for_page(&t, "1", "29");
    t.key("q");
    t.wait_for("the prompt after less", |s| {
        s.lines().last().is_some_and(|l| is_prompt(l.trim_end()))
    });
    // The terminal is back as the REPL wants it: typed text shows, commands run.
    t.line("echo after less");
    t.wait_for("the next command", |s| has_line(s, "after less"));
    // -F: text that fits is printed and less returns at once.
    t.line("seq 3 | less -F; echo done");
    t.wait_for("less -F", |s| has_line(s, "3") && has_line(s, "done"));
}

#[test]
fn ctrl_c_stops_a_guest_reading_the_terminal() {
    let t = Term::start(&private_home("cat"));
    interrupt(&t, "cat");
}

#[test]
fn ctrl_d_exits() {
    let t = Term::start(&private_home("ctrl-d"));
    t.key("C-d");
    t.wait_for_within(WAIT, "wsh to exit", |_| t.dead())
        .unwrap_or_else(|s| panic!("wsh still runs:\n{s}"));
}

#[test]
fn history_survives_a_restart() {
    let home = private_home("history");
    {
        let t = Term::start(&home);
        t.line("echo remembered line");
        t.wait_for("the output", |s| has_line(s, "remembered line"));
        t.line("exit");
        t.wait_for_within(WAIT, "wsh to exit", |_| t.dead())
            .unwrap_or_else(|s| panic!("no exit:\n{s}"));
    }
    assert!(
        home.join("data/history.txt").exists(),
        "the history lives in the data dir"
    );
    let t = Term::start(&home);
    t.key("Up");
    t.wait_for("the recalled line", |s| {
        s.lines().any(|l| l.trim_end() == "base / $ exit")
    });
    t.key("Up");
    t.wait_for("the line before", |s| {
        s.lines()
            .any(|l| l.trim_end() == "base / $ echo remembered line")
    });
    t.key("Enter");
    t.wait_for("its output again", |s| has_line(s, "remembered line"));
}

#[test]
fn history_builtin_lists_the_lines_typed() {
    let t = Term::start(&private_home("history-builtin"));
    t.line("echo one");
    t.wait_for("the output", |s| has_line(s, "one"));
    t.line("echo two");
    t.wait_for("the output", |s| has_line(s, "two"));
    t.line("history");
    t.wait_for("the numbered list", |s| {
        has_line(s, "    1  echo one")
            && has_line(s, "    2  echo two")
            && has_line(s, "    3  history")
    });
}

#[test]
fn tab_completes_commands_and_image_paths() {
    let t = Term::start(&private_home("tab"));
    // An applet on the image's PATH.
    t.type_text("unam");
    t.key("Tab");
    t.wait_for("the completed command", |s| {
        s.lines().any(|l| l.trim_end() == "base / $ uname")
    });
    t.key("C-u");
    // A path inside the image (the host has no /etc/hostname of this content).
    t.type_text("cat /etc/hostn");
    t.key("Tab");
    t.wait_for("the completed path", |s| {
        s.lines()
            .any(|l| l.trim_end() == "base / $ cat /etc/hostname")
    });
    t.key("Enter");
    t.wait_for("the image's file", |s| has_line(s, "wsh"));
    // A directory completes with its slash.
    t.type_text("ls /usr/loc");
    t.key("Tab");
    t.wait_for("the completed directory", |s| {
        s.lines().any(|l| l.trim_end() == "base / $ ls /usr/local/")
    });
}

#[test]
fn tab_completes_paths_in_a_host_volume() {
    let home = private_home("tab-volume");
    let host = home.join("vol");
    std::fs::create_dir_all(host.join("subdir")).unwrap();
    std::fs::write(host.join("only-on-host.txt"), "from the host\n").unwrap();
    let vol = format!("{}:/data", host.display());
    let t = Term::start_with(&home, &["run", "-it", "-v", &vol, "base"]);
    t.wait_for("the prompt", |s| has_line(s, "base / $"));
    t.type_text("cat /data/only");
    t.key("Tab");
    t.wait_for("the completed host file", |s| {
        s.lines()
            .any(|l| l.trim_end() == "base / $ cat /data/only-on-host.txt")
    });
    t.key("Enter");
    t.wait_for("the host file's content", |s| has_line(s, "from the host"));
    t.type_text("cd /data/sub");
    t.key("Tab");
    t.wait_for("the completed host directory", |s| {
        s.lines()
            .any(|l| l.trim_end() == "base / $ cd /data/subdir/")
    });
}

/// Runs `input` as the stdin of wsh and of bash; both must print the same and exit alike.
fn same_as_bash_on_stdin(input: &str) {
    use std::io::Write;
    let run = |mut cmd: Command| {
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("starts");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let mut wsh = common::wsh_cmd(common::wsh_home());
    wsh.env("LC_ALL", "C");
    let ours = run(wsh);
    let mut bash = Command::new("bash");
    bash.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C");
    let theirs = run(bash);
    assert_eq!(
        (common::text(&ours.stdout), ours.status.code()),
        (common::text(&theirs.stdout), theirs.status.code()),
        "stdin {input:?}; wsh stderr: {}",
        common::text(&ours.stderr)
    );
}

#[test]
fn piped_stdin_runs_line_by_line_as_bash_does() {
    // Each complete command runs when its last line arrives; `read` gets the next line.
    same_as_bash_on_stdin("echo one\nread x\nthis line is data\necho \"got $x\"\n");
    // Multi-line commands, quotes and continuations wait for their end.
    same_as_bash_on_stdin("if true; then\n  echo in\nfi\necho 'a\nb'\necho c \\\n d\n");
    // A syntax error stops the input with status 2, after what ran before it.
    same_as_bash_on_stdin("echo before\nfi\necho after\n");
    // `exit` stops reading; a last line without its newline still runs.
    same_as_bash_on_stdin("echo x\nexit 3\necho never\n");
    same_as_bash_on_stdin("echo no newline");
}

/// A compile that takes over a second shows a spinner line naming the module on the
/// terminal, and clears it when done (a cold module cache: the userland compiles).
#[test]
fn a_long_compile_shows_progress_on_the_terminal() {
    let home = private_home("compile-progress");
    // Its own, empty, module cache: the first command compiles the userland.
    std::fs::remove_file(home.join("cache")).unwrap();
    std::fs::create_dir_all(home.join("cache")).unwrap();
    let t = Term::start(&home);
    t.line("echo ran-$(expr 6 \\* 7)");
    t.wait_for_within(Duration::from_secs(120), "the progress line", |s| {
        s.contains("compiling /usr/bin/expr") || has_line(s, "ran-42")
    })
    .map(|s| {
        assert!(
            s.contains("compiling /usr/bin/expr") && s.contains("MB"),
            "{s}"
        )
    })
    .unwrap_or_else(|s| panic!("no progress line; screen:\n{s}"));
    let s = t.wait_for_within(Duration::from_secs(300), "the command", |s| {
        has_line(s, "ran-42")
    });
    let s = s.unwrap_or_else(|s| panic!("the command never ran; screen:\n{s}"));
    assert!(!s.contains("compiling"), "the progress line stayed:\n{s}");
}
