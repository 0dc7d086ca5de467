//! vi's screen: the lines from `top` wrapped to the terminal's width, `~` past
//! the end, and the last line for messages, the mode, the command line being
//! typed and the cursor's position. Each frame is drawn whole (no diffing).

use super::super::term::render;
use super::{Editor, Mode};

/// Rows a line takes on a screen `cols` wide.
fn height(line: &str, cols: usize) -> usize {
    render(line).0.len().div_ceil(cols).max(1)
}

/// The escape sequences of one whole frame for a `rows` x `cols` terminal.
pub fn frame(ed: &mut Editor, rows: usize, cols: usize, cmdline: Option<&str>) -> String {
    let text_rows = rows - 1;
    let cur = ed.buf.cur.max(1);
    // Scroll so that the cursor's line shows whole (when it fits at all).
    if ed.top > cur {
        ed.top = cur;
    }
    ed.top = ed.top.max(1);
    loop {
        let used: usize = (ed.top..=cur).map(|n| height(ed.buf.line(n), cols)).sum();
        if used <= text_rows || ed.top == cur {
            break;
        }
        ed.top += 1;
    }
    let mut out = String::from("\x1b[?25l\x1b[H");
    let mut row = 0;
    let mut cursor = (0, 0);
    let mut n = ed.top;
    while row < text_rows && n <= ed.buf.last() {
        let (shown, starts) = render(ed.buf.line(n));
        if n == cur {
            let x = if ed.mode == Mode::Insert && ed.col >= starts.len() {
                shown.len()
            } else {
                starts.get(ed.col).copied().unwrap_or(0)
            };
            cursor = ((row + x / cols).min(text_rows - 1), x % cols);
        }
        let h = height(ed.buf.line(n), cols);
        if n != ed.top && row + h > text_rows {
            // A line that does not fit shows as `@` rows, as vim does.
            while row < text_rows {
                out.push_str("@\x1b[K\r\n");
                row += 1;
            }
            break;
        }
        for chunk in 0..h {
            if row >= text_rows {
                break;
            }
            let piece: String = shown.iter().skip(chunk * cols).take(cols).collect();
            out.push_str(&piece);
            out.push_str("\x1b[K\r\n");
            row += 1;
        }
        n += 1;
    }
    while row < text_rows {
        out.push_str("~\x1b[K\r\n");
        row += 1;
    }
    let status = match (cmdline, &ed.message) {
        (Some(c), _) => c.to_string(),
        (None, Some(m)) => m.lines().last().unwrap_or_default().to_string(),
        (None, None) if ed.mode == Mode::Insert => "-- INSERT --".into(),
        _ => String::new(),
    };
    let status: String = status.chars().take(cols.saturating_sub(1)).collect();
    let ruler = format!("{},{}", cur, ed.col + 1);
    out.push_str(&status);
    out.push_str("\x1b[K");
    if cmdline.is_none() && status.chars().count() + ruler.len() + 2 < cols.saturating_sub(18) {
        out.push_str(&format!("\x1b[{};{}H{ruler}", rows, cols - 17));
    }
    match cmdline {
        Some(c) => out.push_str(&format!(
            "\x1b[{};{}H",
            rows,
            c.chars().count().min(cols - 1) + 1
        )),
        None => out.push_str(&format!("\x1b[{};{}H", cursor.0 + 1, cursor.1 + 1)),
    }
    out.push_str("\x1b[?25h");
    out
}
