//! less: a pager. On a terminal it shows a screenful and reads single keys from
//! `/dev/tty` (so `cmd | less` works) with the terminal in key-at-a-time mode
//! (the `wsh` host interface's `tty_raw`): Space/f/PgDn, b/PgUp, Enter/j/Down,
//! k/Up, d/u (half pages), g/G, /PATTERN and ?PATTERN with n/N, q. When standard
//! output is not a terminal it copies its input, as less does.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;

use super::{start, strerror};
use crate::wsh;

const HELP: &str = "Usage: less [-FNSRX] [FILE]...
Show FILEs (or standard input) a screenful at a time on a terminal.

  -F, --quit-if-one-screen  exit at once if the text fits on one screen
  -N, --LINE-NUMBERS        show line numbers
  -S, --chop-long-lines     cut long lines instead of wrapping them
  -R, -X                    accepted (colour sequences pass through; no
                            alternate screen is used)
      --help                display this help and exit

Keys: SPACE f PgDn next screen, b PgUp previous, ENTER j e Down one line down,
k y Up one line up, d u half a screen, g < top, G > end, /PATTERN search forward,
?PATTERN backward, n N repeat the search, q Q quit.
";

/// What the command line asked for.
#[derive(Default)]
struct Opts {
    quit_if_one_screen: bool,
    numbers: bool,
    chop: bool,
    files: Vec<String>,
}

fn parse(a: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut only_files = false;
    for arg in a {
        if only_files || !arg.starts_with('-') || arg == "-" {
            o.files.push(arg.clone());
            continue;
        }
        match arg.as_str() {
            "--" => only_files = true,
            "--quit-if-one-screen" => o.quit_if_one_screen = true,
            "--LINE-NUMBERS" => o.numbers = true,
            "--chop-long-lines" => o.chop = true,
            "--RAW-CONTROL-CHARS" | "--no-init" => {}
            s if !s.starts_with("--") => {
                for c in s[1..].chars() {
                    match c {
                        'F' => o.quit_if_one_screen = true,
                        'N' => o.numbers = true,
                        'S' => o.chop = true,
                        'R' | 'r' | 'X' | 'K' | 'i' => {}
                        _ => {
                            return Err(format!(
                                "There is no -{c} option (\"less --help\" for help)"
                            ));
                        }
                    }
                }
            }
            s => return Err(format!("There is no {s} option (\"less --help\" for help)")),
        }
    }
    Ok(o)
}

/// The rows the text takes on a screen `cols` wide: (line index, the row's text).
fn rows(lines: &[String], cols: usize, o: &Opts) -> Vec<(usize, String)> {
    let width = cols.max(1);
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let text = if o.numbers {
            format!("{:>7} {line}", i + 1)
        } else {
            line.clone()
        };
        let chars: Vec<char> = text.chars().collect();
        if chars.is_empty() {
            out.push((i, String::new()));
        } else if o.chop {
            out.push((i, chars.iter().take(width).collect()));
        } else {
            for chunk in chars.chunks(width) {
                out.push((i, chunk.iter().collect()));
            }
        }
    }
    out
}

/// One key as the terminal sends it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    Char(char),
    Enter,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Other,
}

/// Keys from the terminal: a read may bring several (typed ahead, pasted, or an
/// escape sequence), so the bytes are kept and taken one key at a time.
struct Keys {
    tty: std::fs::File,
    pending: Vec<u8>,
}

/// Escape sequences of the keys less knows, and what they are.
const SEQUENCES: [(&[u8], Key); 10] = [
    (b"\x1b[A", Key::Up),
    (b"\x1bOA", Key::Up),
    (b"\x1b[B", Key::Down),
    (b"\x1bOB", Key::Down),
    (b"\x1b[5~", Key::PageUp),
    (b"\x1b[6~", Key::PageDown),
    (b"\x1b[H", Key::Home),
    (b"\x1b[1~", Key::Home),
    (b"\x1b[F", Key::End),
    (b"\x1b[4~", Key::End),
];

impl Keys {
    fn next(&mut self) -> io::Result<Option<Key>> {
        if self.pending.is_empty() {
            let mut b = [0u8; 64];
            let n = self.tty.read(&mut b)?;
            if n == 0 {
                return Ok(None);
            }
            self.pending.extend_from_slice(&b[..n]);
        }
        if let Some((seq, key)) = SEQUENCES.iter().find(|(s, _)| self.pending.starts_with(s)) {
            self.pending.drain(..seq.len());
            return Ok(Some(*key));
        }
        // One character (UTF-8 sequences whole), or an escape nobody knows as itself.
        let len = match self.pending[0] {
            b if b < 0x80 => 1,
            b if b >= 0xf0 => 4,
            b if b >= 0xe0 => 3,
            _ => 2,
        }
        .min(self.pending.len());
        let bytes: Vec<u8> = self.pending.drain(..len).collect();
        Ok(Some(match bytes.as_slice() {
            b"\r" | b"\n" => Key::Enter,
            _ => match std::str::from_utf8(&bytes)
                .ok()
                .and_then(|s| s.chars().next())
            {
                Some(c) => Key::Char(c),
                None => Key::Other,
            },
        }))
    }
}

/// The pager on a terminal of `height` rows (one for the prompt) and `width` columns.
struct Pager<'a> {
    rows: Vec<(usize, String)>,
    lines: &'a [String],
    height: usize,
    top: usize,
    name: Option<String>,
    search: Option<(regex::Regex, bool)>,
    message: Option<String>,
}

impl Pager<'_> {
    fn page(&self) -> usize {
        self.height.saturating_sub(1).max(1)
    }

    fn last_top(&self) -> usize {
        self.rows.len().saturating_sub(self.page())
    }

    fn draw(&mut self, out: &mut impl Write) -> io::Result<()> {
        let mut frame = String::from("\x1b[H\x1b[2J");
        for (_, text) in self.rows.iter().skip(self.top).take(self.page()) {
            frame.push_str(text);
            frame.push_str("\r\n");
        }
        for _ in self.rows.len().saturating_sub(self.top)..self.page() {
            frame.push_str("~\r\n");
        }
        let prompt = match (self.message.take(), &self.name) {
            (Some(m), _) => m,
            _ if self.top >= self.last_top() => "(END)".into(),
            (None, Some(name)) if self.top == 0 => name.clone(),
            _ => ":".into(),
        };
        frame.push_str(&format!("\x1b[7m{prompt}\x1b[0m\x1b[K"));
        out.write_all(frame.as_bytes())?;
        out.flush()
    }

    fn scroll(&mut self, by: isize) {
        let to = (self.top as isize + by).max(0) as usize;
        self.top = to.min(self.last_top());
    }

    /// Moves to the next row (after the top one, or before it) whose line matches.
    fn find(&mut self, forward: bool) {
        let Some((re, _)) = &self.search else {
            self.message = Some("No previous regular expression".into());
            return;
        };
        let line_of = |r: usize| self.rows[r].0;
        let current = self.rows.get(self.top).map(|r| r.0);
        let hit = if forward {
            (self.top + 1..self.rows.len())
                .find(|&r| Some(line_of(r)) != current && re.is_match(&self.lines[line_of(r)]))
        } else {
            (0..self.top)
                .rev()
                .find(|&r| Some(line_of(r)) != current && re.is_match(&self.lines[line_of(r)]))
        };
        match hit {
            // The first row of that line.
            Some(r) => {
                let line = line_of(r);
                let first = self.rows.iter().position(|x| x.0 == line).unwrap_or(r);
                self.top = first.min(self.last_top().max(first));
            }
            None => self.message = Some("Pattern not found".into()),
        }
    }

    /// Reads a search pattern after `/` or `?`, echoing it on the prompt line.
    fn prompt_pattern(
        &mut self,
        keys: &mut Keys,
        out: &mut impl Write,
        lead: char,
    ) -> io::Result<Option<String>> {
        let mut pat = String::new();
        loop {
            write!(out, "\r\x1b[K{lead}{pat}")?;
            out.flush()?;
            match keys.next()? {
                None => return Ok(None),
                Some(Key::Enter) => return Ok(Some(pat)),
                Some(Key::Char('\x1b')) | Some(Key::Char('\x03')) => return Ok(None),
                Some(Key::Char('\x7f')) | Some(Key::Char('\x08')) => {
                    if pat.pop().is_none() {
                        return Ok(None);
                    }
                }
                Some(Key::Char(c)) if !c.is_control() => pat.push(c),
                Some(_) => {}
            }
        }
    }

    fn run(&mut self, keys: &mut Keys, out: &mut impl Write) -> io::Result<()> {
        loop {
            self.draw(out)?;
            let Some(key) = keys.next()? else {
                return Ok(());
            };
            let page = self.page() as isize;
            match key {
                Key::Char('q' | 'Q') => return Ok(()),
                Key::Char(' ' | 'f' | '\x06' | 'z') | Key::PageDown => self.scroll(page),
                Key::Char('b' | '\x02' | 'w') | Key::PageUp => self.scroll(-page),
                Key::Char('j' | 'e' | '\x0e' | '\x05') | Key::Enter | Key::Down => self.scroll(1),
                Key::Char('k' | 'y' | '\x10' | '\x19') | Key::Up => self.scroll(-1),
                Key::Char('d' | '\x04') => self.scroll(page / 2),
                Key::Char('u' | '\x15') => self.scroll(-page / 2),
                Key::Char('g' | '<') | Key::Home => self.top = 0,
                Key::Char('G' | '>') | Key::End => self.top = self.last_top(),
                Key::Char(lead @ ('/' | '?')) => {
                    if let Some(p) = self.prompt_pattern(keys, out, lead)? {
                        if !p.is_empty() {
                            match regex::Regex::new(&p) {
                                Ok(re) => self.search = Some((re, lead == '/')),
                                Err(_) => {
                                    self.message = Some("Invalid pattern".into());
                                    continue;
                                }
                            }
                        }
                        let forward = self.search.as_ref().is_none_or(|s| s.1);
                        self.find(forward);
                    }
                }
                Key::Char('n') => {
                    let forward = self.search.as_ref().is_none_or(|s| s.1);
                    self.find(forward);
                }
                Key::Char('N') => {
                    let forward = self.search.as_ref().is_none_or(|s| s.1);
                    self.find(!forward);
                }
                _ => {}
            }
        }
    }
}

/// Runs less.
pub fn main(argv: Vec<OsString>) -> i32 {
    let o = match start(argv, HELP, parse, 1) {
        Ok(o) => o,
        Err(status) => return status,
    };
    let mut status = 0;
    let mut text = Vec::new();
    if o.files.is_empty() {
        if wsh::isatty(0) {
            eprintln!("Missing filename (\"less --help\" for help)");
            return 1;
        }
        if let Err(e) = io::stdin().read_to_end(&mut text) {
            eprintln!("less: -: {}", strerror(&e));
            return 1;
        }
    }
    for f in &o.files {
        let r = if f == "-" {
            io::stdin().read_to_end(&mut text).map(|_| ())
        } else {
            std::fs::read(f).map(|b| text.extend_from_slice(&b))
        };
        if let Err(e) = r {
            eprintln!("{f}: {}", strerror(&e));
            status = 1;
        }
    }
    let mut out = io::stdout().lock();
    let size = wsh::term_size(1).filter(|_| wsh::isatty(1));
    let Some((height, width)) = size else {
        // Not a terminal: copy, as less does.
        if out.write_all(&text).and_then(|()| out.flush()).is_err() {
            return 1;
        }
        return status;
    };
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let rows = rows(&lines, width as usize, &o);
    let height = (height as usize).max(2);
    if o.quit_if_one_screen && rows.len() < height {
        for (_, r) in &rows {
            let _ = writeln!(out, "{r}");
        }
        return status;
    }
    let tty = match std::fs::OpenOptions::new().read(true).open("/dev/tty") {
        Ok(t) => t,
        Err(e) => {
            eprintln!("less: /dev/tty: {}", strerror(&e));
            return 1;
        }
    };
    if let Err(e) = wsh::tty_raw(tty.as_raw_fd(), true) {
        eprintln!(
            "less: cannot read single keys from the terminal: {}",
            strerror(&e)
        );
        return 1;
    }
    let mut pager = Pager {
        rows,
        lines: &lines,
        height,
        top: 0,
        name: o.files.first().cloned(),
        search: None,
        message: None,
    };
    let fd = tty.as_raw_fd();
    let mut keys = Keys {
        tty,
        pending: Vec::new(),
    };
    let r = pager.run(&mut keys, &mut out);
    let _ = wsh::tty_raw(fd, false);
    let _ = write!(out, "\r\x1b[K");
    let _ = out.flush();
    if let Err(e) = r {
        eprintln!("less: {}", strerror(&e));
        return 1;
    }
    status
}
