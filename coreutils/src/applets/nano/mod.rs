//! nano: GNU nano's modeless basics on the terminal. Typing inserts; the
//! control keys of nano's help bar write, exit, cut, paste, search and show the
//! cursor's position. The text is kept as nano does: the lines of the file plus
//! a last empty line, so a saved file always ends with a newline. Keys come
//! from `/dev/tty` with Ctrl-C delivered as a key (`tty_raw` mode 2); the size
//! comes from the broker before every frame.

mod screen;

use std::ffi::OsString;
use std::io::{self, Write};

use super::edit::{self, Buffer};
use super::term::{Key, Keys, render};
use super::{start, strerror};
use crate::wsh;
use screen::{PROMPT_BAR, Prompt, YES_NO_BAR, title};

const HELP: &str = "Usage: nano [OPTIONS] [[+LINE[,COLUMN]] FILE]
Edit FILE (or a new buffer) on the terminal, as GNU nano does: typing inserts.

  +LINE[,COLUMN]  start at this line (and column)
  -v, --view      view mode: read-only
  -h, --help      display this help and exit

Keys: ^G help, ^O write out, ^X exit (asks to save a modified buffer),
^K cut the line (repeated: more lines), ^U paste, ^W search (ignoring case),
^C show the cursor's position, arrows, Home/End (^A/^E), PageUp/PageDown
(^Y/^V), Backspace, Delete (^D), Enter, Tab.
Not available: replace, justify, undo, multiple buffers, soft wrapping, syntax
colours, nanorc files.
";

const SCREEN_HELP: &str = "Main nano help text

 A small modeless editor: what you type goes into the buffer.
 Commands are control keys; ^ stands for Ctrl.

 ^G          Display this help text
 ^X          Close the buffer, exit from nano
 ^O          Write the current buffer to disk
 ^W          Search forward for a string (ignoring case)
 ^K          Cut the current line into the cutbuffer
 ^U          Paste the contents of the cutbuffer
 ^C          Display the position of the cursor
 ^A  Home    Go to the beginning of the current line
 ^E  End     Go to the end of the current line
 ^Y  PgUp    Go one screenful up
 ^V  PgDn    Go one screenful down
 ^P ^N ^B ^F and the arrows move the cursor
 ^D  Del     Delete the character under the cursor
 ^H  Bksp    Delete the character to the left of the cursor

 Press any key to return to the buffer.";

/// The terminal: keys from /dev/tty, frames to stdout.
struct Term {
    keys: Keys,
    out: io::Stdout,
}

impl Term {
    fn key(&mut self) -> Option<Key> {
        self.keys.next().ok().flatten()
    }

    fn draw(&mut self, frame: &str) {
        let mut o = self.out.lock();
        let _ = o.write_all(frame.as_bytes());
        let _ = o.flush();
    }

    /// The screen's size (rows, cols), at least 6 x 20.
    fn size() -> (usize, usize) {
        let (rows, cols) = wsh::term_size(1).unwrap_or((24, 80));
        ((rows as usize).max(6), (cols as usize).max(20))
    }
}

/// Everything nano knows: the text, the cursor, the cutbuffer, the message.
struct Nano {
    /// The lines, the last one empty unless typed on (nano's "magic line").
    buf: Buffer,
    /// The cursor's column, a char index in the current line.
    col: usize,
    /// The column up and down try to keep.
    want: usize,
    /// The first line shown.
    top: usize,
    name: String,
    modified: bool,
    view: bool,
    cut: Vec<String>,
    /// The last key cut a line (another ^K adds to the cutbuffer).
    cutting: bool,
    message: Option<String>,
    /// Keys since the message was shown (it goes after 20, as in nano).
    message_age: u32,
    last_search: String,
    quit: bool,
}

impl Nano {
    fn new(view: bool) -> Nano {
        Nano {
            buf: Buffer {
                cur: 1,
                ..Buffer::new(vec![String::new()])
            },
            col: 0,
            want: 0,
            top: 1,
            name: String::new(),
            modified: false,
            view,
            cut: Vec::new(),
            cutting: false,
            message: None,
            message_age: 0,
            last_search: String::new(),
            quit: false,
        }
    }

    fn say(&mut self, msg: String) {
        self.message = Some(msg);
        self.message_age = 0;
    }

    /// Reads `name` (a missing one is a new file) and says how it went.
    fn load(&mut self, name: &str) {
        self.name = name.to_string();
        let msg = match std::fs::read(name) {
            Ok(bytes) => {
                let (mut lines, _) = edit::split_lines(&bytes);
                let n = lines.len();
                lines.push(String::new());
                self.buf = Buffer {
                    cur: 1,
                    ..Buffer::new(lines)
                };
                format!("[ Read {n} line{} ]", if n == 1 { "" } else { "s" })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if self.view {
                    format!("[ File '{name}' not found ]")
                } else {
                    "[ New File ]".into()
                }
            }
            Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
                format!("[ \"{name}\" is a directory ]")
            }
            Err(e) => format!("[ Error reading {name}: {} ]", strerror(&e)),
        };
        self.say(msg);
    }

    /// Writes the buffer to `name`; whether it worked.
    fn write(&mut self, name: &str) -> bool {
        let lines = &self.buf.lines;
        // The empty last line is where the final newline goes, not a line.
        let body = match lines.last() {
            Some(l) if l.is_empty() => &lines[..lines.len() - 1],
            _ => &lines[..],
        };
        let n = body.len();
        match std::fs::write(name, edit::join_lines(body)) {
            Ok(()) => {
                self.name = name.to_string();
                self.modified = false;
                self.say(format!(
                    "[ Wrote {n} line{} ]",
                    if n == 1 { "" } else { "s" }
                ));
                true
            }
            Err(e) => {
                self.say(format!("[ Error writing {name}: {} ]", strerror(&e)));
                false
            }
        }
    }

    fn line(&self) -> &str {
        self.buf.line(self.buf.cur)
    }

    fn len(&self) -> usize {
        self.line().chars().count()
    }

    /// The byte offset of char `col` in the current line.
    fn byte_at(&self, col: usize) -> usize {
        let l = self.line();
        l.char_indices().nth(col).map_or(l.len(), |(i, _)| i)
    }

    /// Moves to line `n` (clamped), keeping the wanted column.
    fn go_line(&mut self, n: usize) {
        self.buf.cur = n.clamp(1, self.buf.last());
        self.col = self.want.min(self.len());
    }

    fn changed(&mut self) {
        self.modified = true;
        // Typing on the last line makes a new empty last line, as nano does.
        if self.buf.lines.last().is_some_and(|l| !l.is_empty()) {
            let n = self.buf.last();
            self.buf.splice(n, n, vec![String::new()]);
        }
    }

    fn insert(&mut self, c: char) {
        let at = self.byte_at(self.col);
        let cur = self.buf.cur;
        self.buf.lines[cur - 1].insert(at, c);
        self.col += 1;
        self.want = self.col;
        self.changed();
    }

    fn enter(&mut self) {
        let at = self.byte_at(self.col);
        let cur = self.buf.cur;
        let rest = self.buf.lines[cur - 1].split_off(at);
        self.buf.splice(cur, cur, vec![rest]);
        self.buf.cur += 1;
        self.col = 0;
        self.want = 0;
        self.changed();
    }

    /// Deletes the char under the cursor, or joins the next line.
    fn delete(&mut self) {
        let cur = self.buf.cur;
        if self.col < self.len() {
            let at = self.byte_at(self.col);
            self.buf.lines[cur - 1].remove(at);
        } else if cur < self.buf.last() {
            let next = self.buf.lines[cur].clone();
            self.buf.lines[cur - 1].push_str(&next);
            self.buf.splice(cur, cur + 1, Vec::new());
        } else {
            return;
        }
        self.want = self.col;
        self.changed();
    }

    fn backspace(&mut self) {
        if self.col > 0 {
            self.col -= 1;
        } else if self.buf.cur > 1 {
            self.buf.cur -= 1;
            self.col = self.len();
        } else {
            return;
        }
        self.delete();
    }

    /// ^K: the current line into the cutbuffer (added to it after another ^K).
    fn cut_line(&mut self) {
        let cur = self.buf.cur;
        if cur == self.buf.last() && self.line().is_empty() {
            return;
        }
        if !self.cutting {
            self.cut.clear();
        }
        self.cut.push(self.buf.lines[cur - 1].clone());
        self.buf.splice(cur - 1, cur, Vec::new());
        if self.buf.lines.is_empty() {
            self.buf.splice(0, 0, vec![String::new()]);
        }
        self.buf.cur = cur.min(self.buf.last());
        self.col = 0;
        self.want = 0;
        self.changed();
    }

    /// ^U: the cutbuffer's lines before the current line.
    fn paste(&mut self) {
        if self.cut.is_empty() {
            return;
        }
        let cur = self.buf.cur;
        // In the middle of a line, the pasted lines go at the cursor.
        let at = self.byte_at(self.col);
        let rest = self.buf.lines[cur - 1].split_off(at);
        let mut new = self.cut.clone();
        let first = self.buf.lines[cur - 1].clone() + &new[0];
        new[0] = first;
        new.push(rest);
        let n = new.len();
        self.buf.splice(cur - 1, cur, new);
        self.buf.cur = cur + n - 1;
        self.col = 0;
        self.want = 0;
        self.changed();
    }

    /// ^W's search, from after the cursor, ignoring case, wrapping around.
    fn search(&mut self, what: &str) {
        // Char by char, so that indices stay those of the line.
        let fold = |s: &str| -> Vec<char> {
            s.chars()
                .map(|c| c.to_lowercase().next().unwrap_or(c))
                .collect()
        };
        let needle = fold(what);
        let n = self.buf.last();
        let find = |line: &str, from: usize| -> Option<usize> {
            let hay = fold(line);
            (from..hay.len().saturating_sub(needle.len() - 1))
                .find(|&i| hay[i..].starts_with(&needle))
        };
        let (cur, col) = (self.buf.cur, self.col);
        // Lines from the cursor's to the end, then from the first, ending on
        // the cursor's line again (its part before the cursor).
        for k in 0..=n {
            let ln = (cur - 1 + k) % n + 1;
            let from = if k == 0 { col + 1 } else { 0 };
            let Some(i) = find(self.buf.line(ln), from) else {
                continue;
            };
            let wrapped = k > 0 && ln <= cur;
            if k == n && i >= col {
                // Only the match at the cursor itself.
                if i == col {
                    self.say("[ This is the only occurrence ]".into());
                    return;
                }
                break;
            }
            self.buf.cur = ln;
            self.col = i;
            self.want = i;
            if wrapped {
                self.say("[ Search Wrapped ]".into());
            }
            return;
        }
        if find(self.buf.line(cur), col).is_some_and(|i| i == col) {
            self.say("[ This is the only occurrence ]".into());
        } else {
            self.say(format!("[ \"{what}\" not found ]"));
        }
    }

    /// ^C's report, as nano words it.
    fn position(&mut self) {
        let lines = &self.buf.lines;
        let n = lines.len();
        let cur = self.buf.cur;
        let x = render(&self.line().chars().take(self.col).collect::<String>())
            .0
            .len()
            + 1;
        let width = render(self.line()).0.len() + 1;
        let total: usize = lines.iter().map(|l| l.chars().count()).sum::<usize>() + n - 1;
        let before: usize = lines[..cur - 1]
            .iter()
            .map(|l| l.chars().count() + 1)
            .sum::<usize>()
            + self.col;
        let pct = |a: usize, b: usize| (100 * a).checked_div(b).unwrap_or(0);
        let lw = n.to_string().len();
        let cw = total.to_string().len();
        self.say(format!(
            "[ line {cur:>lw$}/{n} ({:>2}%), col {x:>2}/{width:>2} ({:>3}%), char {before:>cw$}/{total} ({:>3}%) ]",
            pct(cur, n),
            pct(x, width),
            pct(before, total),
        ));
    }

    fn redraw(&mut self, t: &mut Term, prompt: Option<&Prompt>) {
        let (rows, cols) = Term::size();
        let f = self.frame(rows, cols, prompt);
        t.draw(&f);
    }

    /// Asks for a line of text on the status line: None when cancelled (^C).
    fn ask(&mut self, t: &mut Term, label: &str, initial: &str) -> Option<String> {
        let mut text = initial.to_string();
        loop {
            let p = Prompt {
                label,
                text: &text,
                bar: PROMPT_BAR,
            };
            self.redraw(t, Some(&p));
            match t.key() {
                None | Some(Key::Char('\x03')) => return None,
                Some(Key::Enter) => return Some(text),
                Some(Key::Char('\x7f' | '\x08')) => {
                    text.pop();
                }
                Some(Key::Char('\x07')) => self.show_help(t),
                Some(Key::Char(c)) if c == '\t' || !c.is_control() => text.push(c),
                Some(_) => {}
            }
        }
    }

    /// Asks a yes/no question: None when cancelled (^C).
    fn yes_no(&mut self, t: &mut Term, label: &str) -> Option<bool> {
        loop {
            let p = Prompt {
                label,
                text: "",
                bar: YES_NO_BAR,
            };
            self.redraw(t, Some(&p));
            match t.key() {
                None | Some(Key::Char('\x03')) => return None,
                Some(Key::Char('y' | 'Y')) => return Some(true),
                Some(Key::Char('n' | 'N')) => return Some(false),
                Some(_) => {}
            }
        }
    }

    /// ^G: the help text until a key is pressed.
    fn show_help(&mut self, t: &mut Term) {
        let (rows, cols) = Term::size();
        let mut out = String::from("\x1b[H\x1b[2J");
        out.push_str(&title(cols, "Help", ""));
        for (i, l) in SCREEN_HELP.lines().take(rows - 2).enumerate() {
            let l: String = l.chars().take(cols).collect();
            out.push_str(&format!("\x1b[{};1H{l}", i + 2));
        }
        t.draw(&out);
        let _ = t.key();
    }

    /// ^O: asks for the name and writes; whether it wrote.
    fn write_out(&mut self, t: &mut Term) -> bool {
        let name = self.name.clone();
        match self.ask(t, "File Name to Write: ", &name) {
            Some(n) if !n.is_empty() => self.write(&n),
            _ => {
                self.say("[ Cancelled ]".into());
                false
            }
        }
    }

    /// ^X: asks about a modified buffer, then ends.
    fn exit(&mut self, t: &mut Term) {
        if !self.modified || self.view {
            self.quit = true;
            return;
        }
        match self.yes_no(t, "Save modified buffer? ") {
            Some(true) => self.quit = self.write_out(t),
            Some(false) => self.quit = true,
            None => self.say("[ Cancelled ]".into()),
        }
    }

    /// Handles one key of the main screen.
    fn key(&mut self, t: &mut Term, k: Key, page: usize) {
        let was_cutting = std::mem::take(&mut self.cutting);
        let edits = matches!(
            k,
            Key::Enter | Key::Delete | Key::Char('\x0b' | '\x15' | '\x04' | '\x08' | '\x7f' | '\t')
        ) || matches!(k, Key::Char(c) if !c.is_control());
        if edits && self.view {
            self.say("[ Key is invalid in view mode ]".into());
            return;
        }
        match k {
            Key::Up | Key::Char('\x10') => self.go_line(self.buf.cur.saturating_sub(1)),
            Key::Down | Key::Char('\x0e') => self.go_line(self.buf.cur + 1),
            Key::Left | Key::Char('\x02') => {
                if self.col > 0 {
                    self.col -= 1;
                } else if self.buf.cur > 1 {
                    self.buf.cur -= 1;
                    self.col = self.len();
                }
                self.want = self.col;
            }
            Key::Right | Key::Char('\x06') => {
                if self.col < self.len() {
                    self.col += 1;
                } else if self.buf.cur < self.buf.last() {
                    self.buf.cur += 1;
                    self.col = 0;
                }
                self.want = self.col;
            }
            Key::Home | Key::Char('\x01') => {
                self.col = 0;
                self.want = 0;
            }
            Key::End | Key::Char('\x05') => {
                self.col = self.len();
                self.want = self.col;
            }
            Key::PageUp | Key::Char('\x19') => {
                let step = page.saturating_sub(2).max(1);
                self.top = self.top.saturating_sub(step).max(1);
                self.go_line(self.buf.cur.saturating_sub(step));
            }
            Key::PageDown | Key::Char('\x16') => {
                let step = page.saturating_sub(2).max(1);
                self.top = (self.top + step).min(self.buf.last());
                self.go_line(self.buf.cur + step);
            }
            Key::Enter => self.enter(),
            Key::Delete | Key::Char('\x04') => self.delete(),
            Key::Char('\x08' | '\x7f') => self.backspace(),
            Key::Char('\x0b') => {
                self.cutting = was_cutting;
                self.cut_line();
                self.cutting = true;
            }
            Key::Char('\x15') => self.paste(),
            Key::Char('\x0f') if self.view => {
                self.say("[ Key is invalid in view mode ]".into());
            }
            Key::Char('\x0f') => {
                self.write_out(t);
            }
            Key::Char('\x18') => self.exit(t),
            Key::Char('\x17') => {
                let label = if self.last_search.is_empty() {
                    "Search: ".to_string()
                } else {
                    format!("Search [{}]: ", self.last_search)
                };
                match self.ask(t, &label, "") {
                    Some(s) if !s.is_empty() => {
                        self.last_search = s.clone();
                        self.search(&s);
                    }
                    Some(_) if !self.last_search.is_empty() => {
                        let s = self.last_search.clone();
                        self.search(&s);
                    }
                    _ => self.say("[ Cancelled ]".into()),
                }
            }
            Key::Char('\x03') => self.position(),
            Key::Char('\x07') => self.show_help(t),
            // Esc starts a Meta key: none is bound, so the next key goes too.
            Key::Char('\x1b') => {
                let _ = t.key();
            }
            Key::Char(c) if c == '\t' || !c.is_control() => self.insert(c),
            Key::Char(_) | Key::Other => {}
        }
    }
}

/// What the command line asked for.
#[derive(Default)]
struct Opts {
    view: bool,
    file: Option<String>,
    line: Option<(usize, usize)>,
}

fn parse(a: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut only_files = false;
    let bad =
        |what: String| format!("nano: {what}\nType 'nano -h' for a list of available options.");
    for arg in a {
        let s = arg.as_str();
        if only_files || s == "-" || !s.starts_with('-') {
            if let (Some(pos), false) = (s.strip_prefix('+'), only_files) {
                let mut it = pos.splitn(2, ',');
                let num = |v: Option<&str>| -> Result<usize, String> {
                    match v {
                        None | Some("") => Ok(1),
                        Some(v) => v
                            .parse::<usize>()
                            .map_err(|_| format!("nano: invalid line or column number: {pos}")),
                    }
                };
                o.line = Some((num(it.next())?, num(it.next())?));
                continue;
            }
            if o.file.replace(s.to_string()).is_some() {
                return Err("nano: only one file can be edited at a time".into());
            }
            continue;
        }
        match s {
            "--" => only_files = true,
            "--view" => o.view = true,
            s if s.starts_with("--") => return Err(bad(format!("unrecognized option '{s}'"))),
            s => {
                for c in s[1..].chars() {
                    match c {
                        'v' => o.view = true,
                        _ => return Err(bad(format!("invalid option -- '{c}'"))),
                    }
                }
            }
        }
    }
    Ok(o)
}

/// Runs nano.
pub fn main(argv: Vec<OsString>) -> i32 {
    // nano's -h is --help too.
    let argv: Vec<OsString> = argv
        .into_iter()
        .map(|a| if a == "-h" { "--help".into() } else { a })
        .collect();
    let o = match start(argv, HELP, parse, 1) {
        Ok(o) => o,
        Err(status) => return status,
    };
    if !(wsh::isatty(1) && wsh::term_size(1).is_some()) {
        eprintln!("nano: standard output is not a terminal");
        return 1;
    }
    let keys = match Keys::open(true) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("nano: {e}");
            return 1;
        }
    };
    let mut t = Term {
        keys,
        out: io::stdout(),
    };
    let mut ed = Nano::new(o.view);
    if let Some(f) = &o.file {
        ed.load(f);
    }
    if let Some((line, col)) = o.line {
        ed.buf.cur = line.clamp(1, ed.buf.last());
        ed.col = col.saturating_sub(1).min(ed.len());
        ed.want = ed.col;
    }
    t.draw("\x1b[?1049h");
    while !ed.quit {
        ed.redraw(&mut t, None);
        let Some(k) = t.key() else { break };
        ed.message_age += 1;
        if ed.message_age > 20 {
            ed.message = None;
        }
        let (rows, _) = Term::size();
        ed.key(&mut t, k, rows - 4);
    }
    t.draw("\x1b[?1049l");
    0
}
