//! nano's screen: the title bar, the lines from `top` (the cursor's line
//! scrolled sideways when it is longer than the screen is wide), the status
//! line (a message or a prompt) and the two-row help bar. Each frame is drawn
//! whole (no diffing).

use super::super::term::render;
use super::Nano;

/// Shortcuts of the main help bar, two rows.
const MAIN_BAR: [&[(&str, &str)]; 2] = [
    &[
        ("^G", "Help"),
        ("^O", "Write Out"),
        ("^W", "Where Is"),
        ("^K", "Cut"),
        ("^C", "Location"),
        ("^A", "Home"),
    ],
    &[
        ("^X", "Exit"),
        ("^Y", "Prev Page"),
        ("^V", "Next Page"),
        ("^U", "Paste"),
        ("^D", "Delete"),
        ("^E", "End"),
    ],
];

/// The help bar under a text prompt.
pub(super) const PROMPT_BAR: [&[(&str, &str)]; 2] = [&[("^G", "Help")], &[("^C", "Cancel")]];

/// The help bar under a yes/no question.
pub(super) const YES_NO_BAR: [&[(&str, &str)]; 2] =
    [&[(" Y", "Yes")], &[(" N", "No"), ("^C", "Cancel")]];

/// A prompt on the status line: its label, the text typed, the help bar.
pub(super) struct Prompt<'a> {
    pub(super) label: &'a str,
    pub(super) text: &'a str,
    pub(super) bar: [&'a [(&'a str, &'a str)]; 2],
}

impl Nano {
    /// Scrolls so that the cursor's line is among the `rows` shown.
    fn scroll(&mut self, rows: usize) {
        let cur = self.buf.cur;
        if cur < self.top {
            self.top = cur;
        } else if cur >= self.top + rows {
            self.top = cur + 1 - rows;
        }
    }

    /// One whole frame for a `rows` x `cols` terminal.
    pub(super) fn frame(&mut self, rows: usize, cols: usize, prompt: Option<&Prompt>) -> String {
        let text_rows = rows - 4;
        self.scroll(text_rows);
        let mut out = String::from("\x1b[?25l\x1b[H");
        out.push_str(&title(
            cols,
            if self.name.is_empty() {
                "New Buffer"
            } else {
                &self.name
            },
            if self.view {
                "View"
            } else if self.modified {
                "Modified"
            } else {
                ""
            },
        ));
        let mut cursor = (1, 0);
        for r in 0..text_rows {
            let n = self.top + r;
            out.push_str(&format!("\x1b[{};1H", r + 2));
            if n <= self.buf.last() {
                let (shown, starts) = render(self.buf.line(n));
                let x = if n == self.buf.cur {
                    starts.get(self.col).copied().unwrap_or(shown.len())
                } else {
                    0
                };
                // Past the screen's width the cursor's line shows from a
                // later "page", as nano shows it; `<` and `>` mark what is cut.
                let first = if x + 2 < cols {
                    0
                } else {
                    x - 6 - (x - 6) % (cols - 8)
                };
                let mut piece: String = shown.iter().skip(first).take(cols).collect();
                if first > 0 {
                    piece.replace_range(..1, "<");
                }
                if shown.len() > first + cols {
                    let cut: String = piece.chars().take(cols - 1).collect();
                    piece = cut + ">";
                }
                out.push_str(&piece);
                if n == self.buf.cur {
                    cursor = (r + 2, x - first + 1);
                }
            }
            out.push_str("\x1b[K");
        }
        out.push_str(&format!("\x1b[{};1H\x1b[K", rows - 2));
        let bar = match prompt {
            Some(p) => {
                let line: String = format!("{}{}", p.label, p.text)
                    .chars()
                    .take(cols - 1)
                    .collect();
                cursor = (rows - 2, line.chars().count() + 1);
                out.push_str(&format!("\x1b[7m{line:<cols$}\x1b[0m"));
                p.bar
            }
            None => {
                if let Some(m) = &self.message {
                    let m: String = m.chars().take(cols).collect();
                    let pad = (cols - m.chars().count()) / 2;
                    out.push_str(&format!("\x1b[{};{}H\x1b[7m{m}\x1b[0m", rows - 2, pad + 1));
                }
                MAIN_BAR
            }
        };
        for (i, items) in bar.iter().enumerate() {
            out.push_str(&format!(
                "\x1b[{};1H\x1b[K{}",
                rows - 1 + i,
                shortcuts(items, cols)
            ));
        }
        out.push_str(&format!("\x1b[{};{}H\x1b[?25h", cursor.0, cursor.1));
        out
    }
}

/// The reversed title bar: the program, the file's name centred, the state.
pub(super) fn title(cols: usize, name: &str, state: &str) -> String {
    let left = "  nano (wsh)";
    let mut row: Vec<char> = format!("{left:<cols$}").chars().take(cols).collect();
    let name: Vec<char> = name.chars().take(cols.saturating_sub(24)).collect();
    let at = (cols.saturating_sub(name.len())) / 2;
    row[at..at + name.len()].copy_from_slice(&name);
    if !state.is_empty() && cols > state.len() + 2 {
        let at = cols - state.len() - 2;
        for (i, c) in state.chars().enumerate() {
            row[at + i] = c;
        }
    }
    format!("\x1b[7m{}\x1b[0m", row.into_iter().collect::<String>())
}

/// One row of the help bar: each key reversed, then its label, in columns.
fn shortcuts(items: &[(&str, &str)], cols: usize) -> String {
    // As nano: fewer shortcuts on a narrow terminal, each at least 14 wide.
    let count = (cols / 14).clamp(1, 6);
    let width = cols / count;
    let mut out = String::new();
    for (key, label) in items.iter().take(count) {
        let label: String = label.chars().take(width.saturating_sub(4)).collect();
        let pad = width.saturating_sub(key.len() + 1 + label.chars().count());
        out.push_str(&format!("\x1b[7m{key}\x1b[0m {label}{}", " ".repeat(pad)));
    }
    out
}
