//! The variables an interactive bash keeps up to date: `COLUMNS`/`LINES` (the
//! terminal's size), `HISTSIZE`, `HISTFILESIZE`, `HISTFILE` (read at the start,
//! appended to after each line), `PS2`.

use wsh_runtime::io::OpenOptions;

use crate::interp::Shell;

/// Sets what an interactive shell starts with, unless the environment did.
pub fn init_variables(shell: &mut Shell, history_size: usize) {
    for (name, value) in [
        ("HISTSIZE", history_size.to_string()),
        ("HISTFILESIZE", history_size.to_string()),
        ("PS2", "> ".to_string()),
    ] {
        if shell.get(name).is_none() {
            let _ = shell.set(name, value);
        }
    }
    set_terminal_size(shell);
    load_history_file(shell, history_size);
}

/// With `$HISTFILE` set from the start (`wsh run -it -e HISTFILE=...`): its lines
/// begin the `history` list, as bash reads the file when it starts.
fn load_history_file(shell: &mut Shell, default: usize) {
    let Some(file) = shell.get("HISTFILE").filter(|f| !f.is_empty()) else {
        return;
    };
    let opts = OpenOptions {
        read: true,
        ..Default::default()
    };
    let Ok(text) = shell
        .sys
        .open(shell.cwd(), file, opts)
        .map_err(|_| ())
        .and_then(|h| h.read_to_end().map_err(|_| ()))
    else {
        return;
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    let size = history_size(shell, default);
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let keep = lines.len().saturating_sub(size);
    for line in &lines[keep..] {
        shell.add_history(line);
    }
}

/// `COLUMNS` and `LINES` from the terminal (bash's `checkwinsize`, on by default).
pub fn set_terminal_size(shell: &mut Shell) {
    if let Some((cols, rows)) = terminal_size() {
        let _ = shell.set("COLUMNS", cols.to_string());
        let _ = shell.set("LINES", rows.to_string());
    }
}

/// The size of the terminal on stdin, stdout or stderr.
fn terminal_size() -> Option<(u16, u16)> {
    [1, 0, 2].into_iter().find_map(|fd| {
        let mut ws = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ fills one valid winsize.
        let r = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) };
        (r == 0 && ws.ws_col > 0).then_some((ws.ws_col, ws.ws_row))
    })
}

/// How many lines the history keeps: `$HISTSIZE` (unset or negative: `default`).
pub fn history_size(shell: &Shell, default: usize) -> usize {
    match shell.get("HISTSIZE").map(|v| v.trim().parse::<i64>()) {
        Some(Ok(n)) if n >= 0 => n as usize,
        _ => default,
    }
}

/// After a line went into `history`: keeps the last `size` lines, and appends
/// the line to `$HISTFILE` (a file in the container) when it names one.
pub fn after_history_add(shell: &mut Shell, size: usize) {
    let len = shell.history.len();
    if len > size {
        shell.history.drain(..len - size);
    }
    let Some(file) = shell.get("HISTFILE").filter(|f| !f.is_empty()) else {
        return;
    };
    let Some(line) = shell.history.last() else {
        return;
    };
    let opts = OpenOptions {
        write: true,
        create: true,
        append: true,
        ..Default::default()
    };
    match shell.sys.open(shell.cwd(), file, opts) {
        Ok(h) => {
            let _ = h.write_all(format!("{line}\n").as_bytes());
        }
        Err(e) => eprintln!("wsh: {file}: {}", e.0),
    }
}
