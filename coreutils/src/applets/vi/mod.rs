//! vi: a modal editor for the terminal (normal, insert and command-line modes,
//! as vim behaves for the common keys), and `vi -es` for scripts: ex commands
//! from `-c` and standard input, as `vim -es` runs them. Keys come from
//! `/dev/tty` with Ctrl-C delivered as a key; the screen size comes from the
//! broker before every redraw.

mod ex;
mod motion;
mod normal;
mod screen;

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, BufRead, Write};

use super::edit::{self, Buffer, Memory};
use super::term::{Key, Keys};
use super::{start, strerror};
use crate::wsh;

const HELP: &str = "Usage: vi [-es] [-c COMMAND]... [+COMMAND] [FILE]
Edit FILE on the terminal; with -es, run ex commands on it without a screen.

  -e -s, -es    batch (silent ex) mode: run the -c commands, then the ex
                commands on standard input, as `vim -es` does
  -c COMMAND    an ex command to run after loading FILE (up to 10)
  +COMMAND      the same; `+N` goes to line N, `+` to the last line
  -n -N -u NONE -i NONE --clean   accepted (no swap files, no vimrc here)
      --help    display this help and exit

Normal mode: h j k l w b e W B E 0 ^ $ gg G f t F T (with counts), x X D C s S
J r ~ dd cc yy and d c y with a motion (or iw aw), p P, i a A I o O, u Ctrl-R, ., / ? n N,
Ctrl-F Ctrl-B Ctrl-D Ctrl-U, ZZ ZQ, : for a command line. Insert mode ends with
Esc (or Ctrl-C). Ctrl-C never ends vi.
Ex commands: :w [FILE] :w! :wq :x :q :q! :qa :e[!] [FILE] :N (go to line N)
:[range]s/RE/REP/[gie] :& :d :y :pu :p :nu :m :t :co :j :g/RE/CMD :v/RE/CMD
:norm KEYS :r FILE :sort [n u i] :u :red :f :ma X; ranges . $ N % 'x /RE/ ?RE? +-N.
Patterns are vim's magic ones (\\( \\) \\| \\+ \\? \\= \\< \\> \\{n,m}).
Exit status (-es): 0, or 1 when a command failed.
";

/// The unnamed register: text yanked or deleted, whole lines or not.
#[derive(Clone, Default)]
pub struct Register {
    pub text: Vec<String>,
    pub linewise: bool,
}

/// The editor's mode, for the screen's last line.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Insert,
}

/// One state the buffer was in, for undo.
#[derive(Clone)]
pub struct Snapshot {
    buf: Buffer,
    col: usize,
    modified: bool,
    no_lines: bool,
}

/// Everything vi knows: the buffer, the cursor, registers, undo.
pub struct Editor {
    pub buf: Buffer,
    /// The cursor's column (a char index in the current line).
    pub col: usize,
    pub mem: Memory,
    pub name: Option<String>,
    pub modified: bool,
    /// The buffer holds no lines (vim keeps one empty line on screen).
    pub no_lines: bool,
    pub undo: Vec<Snapshot>,
    pub redo: Vec<Snapshot>,
    /// Whether the current command has saved its undo state already.
    pub unit_open: bool,
    pub reg: Register,
    pub marks: HashMap<char, usize>,
    pub message: Option<String>,
    pub search_forward: bool,
    pub quit: bool,
    /// Batch mode (`-es`): output goes to stdout, errors to stderr.
    pub batch: bool,
    pub failed: bool,
    /// The last normal command failed (a motion that could not move).
    pub beeped: bool,
    /// The keys of the last command that changed the text (for `.`).
    pub last_change: Vec<Key>,
    pub mode: Mode,
    /// The first line shown on the screen.
    pub top: usize,
}

impl Editor {
    fn new(batch: bool) -> Editor {
        Editor {
            buf: Buffer::new(vec![String::new()]),
            col: 0,
            mem: Memory::default(),
            name: None,
            modified: false,
            no_lines: true,
            undo: Vec::new(),
            redo: Vec::new(),
            unit_open: false,
            reg: Register::default(),
            marks: HashMap::new(),
            message: None,
            search_forward: true,
            quit: false,
            batch,
            failed: false,
            beeped: false,
            last_change: Vec::new(),
            mode: Mode::Normal,
            top: 1,
        }
    }

    /// Loads `name` (a missing file is a new, empty one); the screen's message.
    pub fn load(&mut self, name: &str) -> Result<String, String> {
        self.name = Some(name.to_string());
        self.modified = false;
        self.undo.clear();
        self.redo.clear();
        self.col = 0;
        match std::fs::read(name) {
            Ok(bytes) => {
                let (lines, missing) = edit::split_lines(&bytes);
                self.no_lines = lines.is_empty();
                let n = lines.len();
                self.buf = Buffer::new(if lines.is_empty() {
                    vec![String::new()]
                } else {
                    lines
                });
                self.buf.cur = 1;
                let noeol = if missing { "[noeol] " } else { "" };
                Ok(format!("\"{name}\" {noeol}{n}L, {}B", bytes.len()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.buf = Buffer::new(vec![String::new()]);
                self.buf.cur = 1;
                self.no_lines = true;
                Ok(format!("\"{name}\" [New]"))
            }
            Err(e) => {
                self.buf = Buffer::new(vec![String::new()]);
                self.buf.cur = 1;
                self.no_lines = true;
                Err(format!("\"{name}\" {}", strerror(&e)))
            }
        }
    }

    /// Call before changing the buffer: saves the undo state once per command
    /// and marks the buffer modified.
    pub fn change(&mut self) {
        if !self.unit_open {
            // vim's default 'undolevels': the oldest state goes past 1000.
            if self.undo.len() >= 1000 {
                self.undo.remove(0);
            }
            self.undo.push(self.snapshot());
            self.redo.clear();
            self.unit_open = true;
        }
        self.modified = true;
        self.no_lines = false;
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            buf: self.buf.clone(),
            col: self.col,
            modified: self.modified,
            no_lines: self.no_lines,
        }
    }

    /// Undoes (or, from `redo`, redoes) the last change.
    pub fn undo(&mut self, redo: bool) {
        let (from, msg) = if redo {
            (self.redo.pop(), "Already at newest change")
        } else {
            (self.undo.pop(), "Already at oldest change")
        };
        let Some(s) = from else {
            self.message = Some(msg.into());
            return;
        };
        let now = self.snapshot();
        if redo {
            self.undo.push(now);
        } else {
            self.redo.push(now);
        }
        self.buf = s.buf;
        self.col = s.col;
        self.modified = s.modified;
        self.no_lines = s.no_lines;
        self.clamp();
    }

    /// Deletes lines `first..=last`, keeping one empty line when all go.
    pub fn delete_lines(&mut self, first: usize, last: usize) {
        self.change();
        self.buf.splice(first - 1, last, Vec::new());
        if self.buf.lines.is_empty() {
            self.buf.splice(0, 0, vec![String::new()]);
            self.no_lines = true;
        }
        self.buf.cur = first.min(self.buf.last());
    }

    /// The current line.
    pub fn line(&self) -> &str {
        self.buf.line(self.buf.cur)
    }

    /// Number of chars in line `n`.
    pub fn len_of(&self, n: usize) -> usize {
        self.buf.line(n).chars().count()
    }

    /// Keeps the cursor on the text (in normal mode, on a char, not past the end).
    pub fn clamp(&mut self) {
        self.buf.cur = self.buf.cur.clamp(1, self.buf.last().max(1));
        let len = self.len_of(self.buf.cur);
        let max = if self.mode == Mode::Insert {
            len
        } else {
            len.saturating_sub(1)
        };
        self.col = self.col.min(max);
    }

    /// The column of line `n`'s first non-blank char.
    pub fn first_nonblank(&self, n: usize) -> usize {
        self.buf
            .line(n)
            .chars()
            .position(|c| c != ' ' && c != '\t')
            .unwrap_or(0)
    }

    /// Shows a printed line: on stdout in batch mode, in the message line on screen.
    pub fn emit(&mut self, text: String) {
        if self.batch {
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "{text}");
        } else {
            self.message = Some(match self.message.take() {
                Some(m) => format!("{m}\n{text}"),
                None => text,
            });
        }
    }

    /// Reports a failed command.
    pub fn error(&mut self, msg: &str) {
        self.failed = true;
        if self.batch {
            eprintln!("{msg}");
        } else {
            self.message = Some(msg.to_string());
        }
    }

    /// The bytes the file gets (none when the buffer holds no lines).
    pub fn bytes(&self, first: usize, last: usize) -> Vec<u8> {
        if self.no_lines {
            return Vec::new();
        }
        edit::join_lines(&self.buf.lines[first - 1..last])
    }
}

/// Where keys come from (the terminal, or `:normal`'s text), and the screen
/// they are shown on, if any.
pub trait Input {
    /// The next key; None when there are no more.
    fn key(&mut self) -> Option<Key>;
    /// Shows the editor (and the command line being typed, if any).
    fn redraw(&mut self, _ed: &mut Editor, _cmdline: Option<&str>) {}
}

/// The keys of a `:normal` command.
pub struct TextKeys {
    keys: Vec<char>,
    at: usize,
}

impl TextKeys {
    /// Keys typed as `text` says.
    pub fn new(text: &str) -> TextKeys {
        TextKeys {
            keys: text.chars().collect(),
            at: 0,
        }
    }
}

impl Input for TextKeys {
    fn key(&mut self) -> Option<Key> {
        let c = *self.keys.get(self.at)?;
        self.at += 1;
        Some(match c {
            '\r' | '\n' => Key::Enter,
            c => Key::Char(c),
        })
    }
}

/// The terminal: keys from /dev/tty, frames to stdout.
struct Terminal {
    keys: Keys,
    out: io::Stdout,
}

impl Input for Terminal {
    fn key(&mut self) -> Option<Key> {
        self.keys.next().ok().flatten()
    }

    fn redraw(&mut self, ed: &mut Editor, cmdline: Option<&str>) {
        let (rows, cols) = wsh::term_size(1).unwrap_or((24, 80));
        let frame = screen::frame(ed, rows.max(2) as usize, cols.max(10) as usize, cmdline);
        let mut o = self.out.lock();
        let _ = o.write_all(frame.as_bytes());
        let _ = o.flush();
    }
}

/// What the command line asked for.
#[derive(Default)]
struct Opts {
    ex: bool,
    silent: bool,
    commands: Vec<String>,
    file: Option<String>,
}

fn parse(a: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut it = a.iter();
    let mut only_files = false;
    while let Some(arg) = it.next() {
        let s = arg.as_str();
        if only_files || s == "-" || !(s.starts_with('-') || s.starts_with('+')) {
            if o.file.replace(s.to_string()).is_some() {
                return Err("vi: only one file can be edited at a time".into());
            }
            continue;
        }
        match s {
            "--" => only_files = true,
            "-c" => o.commands.push(
                it.next()
                    .ok_or("vi: argument missing after \"-c\"")?
                    .clone(),
            ),
            "-u" | "-i" => {
                it.next()
                    .ok_or(format!("vi: argument missing after \"{s}\""))?;
            }
            "--clean" | "--noplugin" => {}
            s if s.starts_with('+') => o.commands.push(match &s[1..] {
                "" => "$".to_string(),
                rest => rest.to_string(),
            }),
            s if s.starts_with("--") => return Err(format!("vi: unknown option \"{s}\"")),
            s => {
                for c in s[1..].chars() {
                    match c {
                        'e' => o.ex = true,
                        's' => o.silent = true,
                        'n' | 'N' | 'X' => {}
                        _ => return Err(format!("vi: unknown option \"-{c}\"")),
                    }
                }
            }
        }
    }
    if o.silent && !o.ex {
        return Err("vi: -s without -e (a script of keys) is not supported".into());
    }
    Ok(o)
}

/// `vi -es`: the -c commands, then ex commands from standard input.
fn batch(o: &Opts) -> i32 {
    let mut ed = Editor::new(true);
    if let Some(Err(e)) = o.file.as_ref().map(|f| ed.load(f)) {
        ed.error(&e);
    }
    // Ex mode starts on the last line.
    ed.buf.cur = ed.buf.last();
    for c in &o.commands {
        ex::run(&mut ed, c, None);
        if ed.quit {
            return i32::from(ed.failed);
        }
    }
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut line = String::new();
    while !ed.quit {
        line.clear();
        if input.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let cmd = line.strip_suffix('\n').unwrap_or(&line).to_string();
        ex::run(&mut ed, &cmd, Some(&mut input));
    }
    i32::from(ed.failed)
}

/// Runs vi.
pub fn main(argv: Vec<OsString>) -> i32 {
    let o = match start(argv, HELP, parse, 1) {
        Ok(o) => o,
        Err(status) => return status,
    };
    if o.ex {
        return batch(&o);
    }
    if !(wsh::isatty(1) && wsh::term_size(1).is_some()) {
        eprintln!("vi: standard output is not a terminal (vi -es runs ex commands without one)");
        return 1;
    }
    let keys = match Keys::open(true) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("vi: {e}");
            return 1;
        }
    };
    let mut term = Terminal {
        keys,
        out: io::stdout(),
    };
    let mut ed = Editor::new(false);
    if let Some(f) = &o.file {
        ed.message = Some(match ed.load(f) {
            Ok(m) | Err(m) => m,
        });
    }
    for c in &o.commands {
        ex::run(&mut ed, c, None);
    }
    // The alternate screen, as vim uses: the shell's screen comes back after.
    {
        let mut out = term.out.lock();
        let _ = out.write_all(b"\x1b[?1049h");
    }
    while !ed.quit {
        term.redraw(&mut ed, None);
        if !normal::command(&mut ed, &mut term) {
            break;
        }
    }
    let mut out = term.out.lock();
    let _ = out.write_all(b"\x1b[?1049l");
    let _ = out.flush();
    0
}
