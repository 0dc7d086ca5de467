//! nano in the REPL's terminal: typing and ^O/^X, ^K/^U, refusing to save,
//! ^W with ^C's position report, view mode, a file on a host volume, `--help`.

use crate::term::{Term, ends_at_prompt, has_line, private_home};

/// The status line (third from the bottom on a 30-row terminal).
fn status(s: &str) -> String {
    s.lines().nth(27).unwrap_or_default().trim().to_string()
}

/// Waits for the REPL's prompt on the last line after nano has ended.
fn wait_prompt(t: &Term) {
    t.wait_visible("the prompt after nano", ends_at_prompt);
}

/// Starts nano with `args` and waits for its first screen (title and help bar).
fn open(t: &Term, args: &str, first_status: &str) {
    t.line(&format!("nano {args}"));
    t.wait_visible("nano's first screen", |s| {
        s.lines().next().is_some_and(|l| l.contains("nano"))
            && s.contains("^G Help")
            && s.contains("^X Exit")
            && status(s) == first_status
    });
}

#[test]
fn nano_types_a_new_file_and_writes_it() {
    let t = Term::start(&private_home("nano-new"));
    open(&t, "/tmp/new.txt", "[ New File ]");
    assert!(t.visible().lines().next().unwrap().contains("/tmp/new.txt"));
    t.type_text("hello world");
    t.key("Enter");
    t.type_text("line twoo");
    t.key("BSpace");
    t.wait_visible("the typed lines", |s| {
        has_line(s, "hello world") && has_line(s, "line two") && s.contains("Modified")
    });
    t.key("C-o");
    t.wait_visible("the write prompt", |s| {
        status(s) == "File Name to Write: /tmp/new.txt"
    });
    t.key("Enter");
    t.wait_visible("the written file", |s| {
        status(s) == "[ Wrote 2 lines ]" && !s.contains("Modified")
    });
    t.key("C-x");
    wait_prompt(&t);
    t.line("cat /tmp/new.txt; echo status $?");
    t.wait_for("the file nano wrote", |s| {
        has_line(s, "hello world") && has_line(s, "line two") && has_line(s, "status 0")
    });
}

#[test]
fn nano_cuts_and_pastes_a_line_and_saves_on_exit() {
    let t = Term::start(&private_home("nano-cut"));
    t.line("printf 'one\\ntwo\\nthree\\n' > /tmp/k");
    open(&t, "/tmp/k", "[ Read 3 lines ]");
    t.key("C-k");
    t.key("Down");
    t.key("C-u");
    t.wait_visible("the line moved", |s| {
        let rows: Vec<&str> = s.lines().skip(1).take(3).map(str::trim_end).collect();
        rows == ["two", "one", "three"]
    });
    t.key("C-x");
    t.wait_visible("the question", |s| {
        status(s) == "Save modified buffer?" && s.contains("Y Yes") && s.contains("^C Cancel")
    });
    t.type_text("y");
    t.wait_visible("the write prompt", |s| {
        status(s) == "File Name to Write: /tmp/k"
    });
    t.key("Enter");
    wait_prompt(&t);
    t.line("cat /tmp/k | tr '\\n' ,; echo");
    t.wait_for("the file with the line moved", |s| {
        has_line(s, "two,one,three,")
    });
}

#[test]
fn nano_exit_without_saving_leaves_the_file() {
    let t = Term::start(&private_home("nano-discard"));
    t.line("echo keep > /tmp/d");
    open(&t, "/tmp/d", "[ Read 1 line ]");
    t.type_text("junk ");
    t.key("C-x");
    t.wait_visible("the question", |s| status(s) == "Save modified buffer?");
    // ^C cancels: nano goes on.
    t.key("C-c");
    t.wait_visible("the cancel", |s| {
        status(s) == "[ Cancelled ]" && has_line(s, "junk keep")
    });
    t.key("C-x");
    t.wait_visible("the question again", |s| {
        status(s) == "Save modified buffer?"
    });
    t.type_text("n");
    wait_prompt(&t);
    t.line("cat /tmp/d");
    t.wait_for("the file untouched", |s| has_line(s, "keep"));
}

#[test]
fn nano_searches_and_shows_the_cursor_position() {
    let t = Term::start(&private_home("nano-search"));
    t.line("seq 1 100 > /tmp/s");
    open(&t, "/tmp/s +10", "[ Read 100 lines ]");
    t.key("C-c");
    t.wait_visible("the position of +10", |s| {
        status(s) == "[ line  10/101 ( 9%), col  1/ 3 ( 33%), char  18/292 (  6%) ]"
    });
    t.key("C-w");
    t.wait_visible("the search prompt", |s| status(s) == "Search:");
    t.type_text("50");
    t.key("Enter");
    t.key("C-c");
    t.wait_visible("the cursor on line 50", |s| {
        status(s) == "[ line  50/101 (49%), col  1/ 3 ( 33%), char 138/292 ( 47%) ]"
            && has_line(s, "50")
    });
    // The last search is offered again; it wraps around to the top.
    t.key("C-w");
    t.wait_visible("the search prompt with the last one", |s| {
        status(s) == "Search [50]:"
    });
    t.type_text("7");
    t.key("Enter");
    t.key("C-c");
    t.wait_visible("the next 7 on line 57", |s| {
        status(s).starts_with("[ line  57/101 (56%), col  2/ 3 ( 66%)")
    });
    t.key("C-w");
    t.type_text("nowhere");
    t.key("Enter");
    t.wait_visible("the failed search", |s| {
        status(s) == "[ \"nowhere\" not found ]"
    });
    t.key("C-x");
    wait_prompt(&t);
}

#[test]
fn nano_view_mode_refuses_changes() {
    let t = Term::start(&private_home("nano-view"));
    t.line("echo text > /tmp/v");
    open(&t, "-v /tmp/v", "[ Read 1 line ]");
    assert!(t.visible().lines().next().unwrap().contains("View"));
    t.type_text("x");
    t.wait_visible("the refusal", |s| {
        status(s) == "[ Key is invalid in view mode ]" && has_line(s, "text")
    });
    t.key("C-x");
    wait_prompt(&t);
    t.line("nano --help | head -1; nano --bogus; echo status $?");
    t.wait_for("the help and the usage error", |s| {
        has_line(s, "Usage: nano [OPTIONS] [[+LINE[,COLUMN]] FILE]")
            && has_line(s, "nano: unrecognized option '--bogus'")
            && has_line(s, "status 1")
    });
}

#[test]
fn nano_edits_a_file_on_a_host_volume() {
    let home = private_home("nano-volume");
    let host = home.join("vol");
    std::fs::create_dir_all(&host).unwrap();
    let file = host.join("notes.txt");
    std::fs::write(&file, "first\nsecond").unwrap();
    let vol = format!("{}:/data", host.display());
    let t = Term::start_with(&home, &["run", "-it", "-v", &vol, "base"]);
    open(&t, "/data/notes.txt", "[ Read 2 lines ]");
    t.key("End");
    t.type_text(" line");
    t.key("C-o");
    t.key("Enter");
    t.wait_visible("the write", |s| status(s) == "[ Wrote 2 lines ]");
    t.key("C-x");
    wait_prompt(&t);
    // nano ends the last line with a newline.
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "first line\nsecond\n"
    );
}
