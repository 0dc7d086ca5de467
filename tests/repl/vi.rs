//! vi in the REPL's terminal: typing, modes, search, `:wq`/`:q!`, Ctrl-C, the
//! terminal's size, and a file on a host volume.

use std::time::{Duration, Instant};

use crate::term::{Term, WAIT, ends_at_prompt, has_line, private_home};

/// The screen's last line (vi's message and ruler line).
fn bottom(s: &str) -> String {
    s.lines().last().unwrap_or_default().to_string()
}

/// Waits for the REPL's prompt on the last line after vi has ended.
fn wait_prompt(t: &Term) {
    t.wait_visible("the prompt after vi", ends_at_prompt);
}

#[test]
fn vi_inserts_text_and_writes_a_new_file() {
    let t = Term::start(&private_home("vi-new"));
    t.line("vi /tmp/new.txt");
    t.wait_visible("vi on a new file", |s| {
        bottom(s).contains("\"/tmp/new.txt\" [New]") && has_line(s, "~")
    });
    t.type_text("ihello world");
    t.key("Escape");
    t.type_text("oline two");
    t.key("Escape");
    // 0, w and x: "hello world" loses the w of "world"; A appends, and `.`
    // appends again on the next line.
    t.type_text("k0wxA!");
    t.key("Escape");
    t.type_text("j.");
    t.wait_visible("the edited lines", |s| {
        has_line(s, "hello orld!") && has_line(s, "line two!")
    });
    t.type_text(":wq");
    t.key("Enter");
    wait_prompt(&t);
    t.line("cat /tmp/new.txt; echo status $?");
    t.wait_for("the file vi wrote", |s| {
        has_line(s, "hello orld!") && has_line(s, "line two!") && has_line(s, "status 0")
    });
}

#[test]
fn vi_searches_survives_ctrl_c_and_quits_without_writing() {
    let t = Term::start(&private_home("vi-search"));
    t.line("seq 1 100 > /tmp/s; vi /tmp/s");
    t.wait_visible("the file's first screen", |s| {
        s.lines().next().map(str::trim_end) == Some("1") && bottom(s).contains("100L, 292B")
    });
    // 29 text rows on a 30-row terminal: the last line shown is 29.
    let s = t.visible();
    assert!(has_line(&s, "29") && !has_line(&s, "30"), "{s}");
    t.type_text("/^50$");
    t.key("Enter");
    t.wait_visible("the cursor on line 50", |s| {
        has_line(s, "50") && bottom(s).contains("50,1")
    });
    t.type_text("n");
    t.wait_visible("no other match: back on line 50", |s| {
        bottom(s).contains("search hit BOTTOM") && bottom(s).contains("50,1")
    });
    t.type_text("?7");
    t.key("Enter");
    t.wait_visible("the previous line with a 7", |s| bottom(s).contains("47,2"));
    t.type_text("N");
    t.wait_visible("the next line with a 7", |s| bottom(s).contains("57,2"));
    // Ctrl-C tells how to quit, and vi goes on.
    t.key("C-c");
    t.wait_visible("vim's hint after Ctrl-C", |s| {
        bottom(s).contains("Type  :qa!  and press <Enter>")
    });
    t.type_text("ggdd3G");
    t.wait_visible("line 1 deleted", |s| {
        s.lines().next().map(str::trim_end) == Some("2") && bottom(s).contains("3,1")
    });
    t.type_text(":q");
    t.key("Enter");
    t.wait_visible("the refusal to quit a modified buffer", |s| {
        bottom(s).contains("E37: No write since last change")
    });
    t.type_text(":q!");
    t.key("Enter");
    wait_prompt(&t);
    t.line("wc -l < /tmp/s; head -1 /tmp/s");
    t.wait_for("the file untouched", |s| {
        has_line(s, "100") && has_line(s, "1")
    });
}

#[test]
fn vi_wraps_long_lines_to_the_terminal_width() {
    let t = Term::start(&private_home("vi-wrap"));
    // 250 x's: three rows on a 100-column terminal, then the next line.
    t.line("printf '%250s\\nnext\\n' '' | tr ' ' x > /tmp/long; vi /tmp/long");
    t.wait_visible("the long line wrapped", |s| {
        let rows: Vec<&str> = s.lines().collect();
        rows.len() > 4
            && rows[0].trim_end() == "x".repeat(100)
            && rows[1].trim_end() == "x".repeat(100)
            && rows[2].trim_end() == "x".repeat(50)
            && rows[3].trim_end() == "next"
    });
    // A narrower terminal: the next frame wraps at its width.
    t.tmux(&["resize-window", "-t", "t", "-x", "60", "-y", "20"]);
    t.type_text("$");
    t.wait_visible("the line wrapped at 60 columns", |s| {
        let rows: Vec<&str> = s.lines().collect();
        rows.len() > 5
            && rows[0].trim_end() == "x".repeat(60)
            && rows[4].trim_end() == "x".repeat(10)
            && rows[5].trim_end() == "next"
            && bottom(s).contains("1,250")
    });
    t.type_text("ZZ");
    wait_prompt(&t);
}

#[test]
fn vi_edits_a_file_on_a_host_volume() {
    let home = private_home("vi-volume");
    let host = home.join("vol");
    std::fs::create_dir_all(&host).unwrap();
    let file = host.join("notes.txt");
    std::fs::write(&file, "old value\nkeep me\n").unwrap();
    let vol = format!("{}:/data", host.display());
    let t = Term::start_with(&home, &["run", "-it", "-v", &vol, "base"]);
    t.line("vi /data/notes.txt");
    t.wait_visible("the host file in vi", |s| {
        has_line(s, "old value") && bottom(s).contains("2L, 18B")
    });
    t.type_text(":%s/old/new/");
    t.key("Enter");
    t.type_text("Gowritten in wsh");
    t.key("Escape");
    t.type_text(":wq");
    t.key("Enter");
    wait_prompt(&t);
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(&file).unwrap();
        if text == "new value\nkeep me\nwritten in wsh\n" {
            break;
        }
        assert!(start.elapsed() < WAIT, "the host file is {text:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
