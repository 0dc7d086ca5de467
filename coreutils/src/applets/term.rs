//! The terminal: `stty size` and `tput` (ncurses'), with the size from the
//! broker's `term_size`. The image has no terminfo database: tput knows the
//! common terminals' capabilities from the table below (as ncurses 6.4's
//! terminfo has them).

use std::ffi::OsString;
use std::io::{self, Write};

use super::{args, help};
use crate::wsh;

const STTY_HELP: &str = "Usage: stty [-F DEVICE | --file=DEVICE] [SETTING]...
Print or change terminal characteristics.

  size     print the number of rows and columns of the terminal on standard input
      --help  display this help and exit

Only `size` is available: a wsh guest cannot change terminal modes (the shell
owns the terminal).
";

/// Runs stty.
pub fn stty(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, STTY_HELP) {
        return 0;
    }
    match a.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["size"] => match wsh::term_size(0) {
            Some((rows, cols)) => {
                println!("{rows} {cols}");
                0
            }
            None => {
                eprintln!("stty: 'standard input': Inappropriate ioctl for device");
                1
            }
        },
        _ => {
            eprintln!(
                "stty: only 'stty size' is supported: a wsh guest cannot show or change terminal modes"
            );
            1
        }
    }
}

const TPUT_HELP: &str = "Usage: tput [-T TERM] CAPNAME [PARAMETER]...
Print a terminal capability of $TERM (or -T's).

Capabilities: clear bold dim blink rev smul rmul smso rmso sgr0 el ed civis
cnorm sc rc home smcup rmcup cup ROW COL setaf N setab N colors cols lines

Terminals: xterm, xterm-256color, screen, screen-256color, tmux, tmux-256color,
linux, vt100, dumb. On a terminal, cols and lines come from $COLUMNS/$LINES,
else the terminal's size; otherwise they are 80 and 24.
      --help  display this help and exit

Exit status: 0, 1 when the terminal lacks the capability, 2 for usage errors,
3 for an unknown terminal, 4 for an unknown capability.
";

/// A terminal family's strings; None where the terminal lacks the capability.
struct Term {
    clear: &'static str,
    sgr0: Option<&'static str>,
    rmul: &'static str,
    smso: &'static str,
    rmso: &'static str,
    dim: bool,
    civis: Option<&'static str>,
    cnorm: Option<&'static str>,
    smcup: Option<&'static str>,
    rmcup: Option<&'static str>,
    colors: i32,
}

const XTERM: Term = Term {
    clear: "\x1b[H\x1b[2J\x1b[3J",
    sgr0: Some("\x1b(B\x1b[m"),
    rmul: "\x1b[24m",
    smso: "\x1b[7m",
    rmso: "\x1b[27m",
    dim: true,
    civis: Some("\x1b[?25l"),
    cnorm: Some("\x1b[?12l\x1b[?25h"),
    smcup: Some("\x1b[?1049h\x1b[22;0;0t"),
    rmcup: Some("\x1b[?1049l\x1b[23;0;0t"),
    colors: 8,
};

const SCREEN: Term = Term {
    clear: "\x1b[H\x1b[J",
    sgr0: Some("\x1b[m\x0f"),
    smso: "\x1b[3m",
    rmso: "\x1b[23m",
    cnorm: Some("\x1b[34h\x1b[?25h"),
    smcup: Some("\x1b[?1049h"),
    rmcup: Some("\x1b[?1049l"),
    ..XTERM
};

const TMUX: Term = Term {
    clear: "\x1b[H\x1b[J\x1b[3J",
    smso: "\x1b[7m",
    rmso: "\x1b[27m",
    ..SCREEN
};

const LINUX: Term = Term {
    civis: Some("\x1b[?25l\x1b[?1c"),
    cnorm: Some("\x1b[?25h\x1b[?0c"),
    smcup: None,
    rmcup: None,
    ..TMUX
};

const VT100: Term = Term {
    clear: "\x1b[H\x1b[J",
    rmul: "\x1b[m",
    rmso: "\x1b[m",
    dim: false,
    civis: None,
    cnorm: None,
    colors: -1,
    ..LINUX
};

/// The terminal named `name`, its colour count fixed for the -256color ones.
fn term(name: &str) -> Option<Option<Term>> {
    let with = |t: Term, colors: i32| Some(Some(Term { colors, ..t }));
    match name {
        "xterm" => with(XTERM, 8),
        "xterm-256color" => with(XTERM, 256),
        "screen" => with(SCREEN, 8),
        "screen-256color" => with(SCREEN, 256),
        "tmux" => with(TMUX, 8),
        "tmux-256color" => with(TMUX, 256),
        "linux" => with(LINUX, 8),
        "vt100" => with(VT100, -1),
        // A known terminal with no capabilities but its size.
        "dumb" => Some(None),
        _ => None,
    }
}

/// The terminal's size (cols, lines). As ncurses' tput: only when stdout or
/// stderr is a terminal, $COLUMNS/$LINES first, then the terminal's size;
/// otherwise (and for a size of 0) the terminfo entry's 80x24.
fn size() -> (u32, u32) {
    let Some(fd) = [1, 2].into_iter().find(|&fd| wsh::isatty(fd)) else {
        return (80, 24);
    };
    let env = |n: &str| {
        std::env::var(n)
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|&v| v > 0)
    };
    let (rows, cols) = wsh::term_size(fd).unwrap_or((0, 0));
    let nonzero = |v: u16, dflt: u32| if v == 0 { dflt } else { u32::from(v) };
    (
        env("COLUMNS").unwrap_or(nonzero(cols, 80)),
        env("LINES").unwrap_or(nonzero(rows, 24)),
    )
}

/// setaf/setab: 8-colour terminals send `ESC[3Nm`, 256-colour ones the bright
/// and indexed forms.
fn color(t: &Term, base: u32, n: u32) -> String {
    if t.colors < 256 || n < 8 {
        format!("\x1b[{base}{n}m")
    } else if n < 16 {
        format!("\x1b[{}{}m", base + 6, n - 8)
    } else {
        format!("\x1b[{base}8;5;{n}m")
    }
}

/// Runs tput.
pub fn tput(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, TPUT_HELP) {
        return 0;
    }
    let mut words = a.as_slice();
    let mut name = std::env::var("TERM").ok();
    if let Some(t) = words.first().and_then(|w| w.strip_prefix("-T")) {
        if t.is_empty() {
            name = words.get(1).cloned();
            words = words.get(2..).unwrap_or_default();
        } else {
            name = Some(t.to_string());
            words = &words[1..];
        }
    }
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        eprintln!("tput: No value for $TERM and no -T specified");
        return 2;
    };
    let Some(t) = term(&name) else {
        eprintln!("tput: unknown terminal \"{name}\"");
        return 3;
    };
    let Some((cap, params)) = words.split_first() else {
        eprintln!("usage: tput [-T TERM] CAPNAME [PARAMETER]...");
        return 2;
    };
    let num = |i: usize| {
        params
            .get(i)
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let (cols, lines) = size();
    let out: Option<String> = match (cap.as_str(), &t) {
        ("cols", _) => Some(format!("{cols}\n")),
        ("lines", _) => Some(format!("{lines}\n")),
        ("colors", None) => Some("-1\n".into()),
        ("colors", Some(t)) => Some(format!("{}\n", t.colors)),
        (
            "clear" | "bold" | "dim" | "blink" | "rev" | "smul" | "rmul" | "smso" | "rmso" | "sgr0"
            | "el" | "ed" | "civis" | "cnorm" | "sc" | "rc" | "home" | "smcup" | "rmcup" | "cup"
            | "setaf" | "setab",
            None,
        ) => None,
        (c, Some(t)) => match c {
            "clear" => Some(t.clear.into()),
            "bold" => Some("\x1b[1m".into()),
            "dim" => t.dim.then(|| "\x1b[2m".into()),
            "blink" => Some("\x1b[5m".into()),
            "rev" => Some("\x1b[7m".into()),
            "smul" => Some("\x1b[4m".into()),
            "rmul" => Some(t.rmul.into()),
            "smso" => Some(t.smso.into()),
            "rmso" => Some(t.rmso.into()),
            "sgr0" => t.sgr0.map(Into::into),
            "el" => Some("\x1b[K".into()),
            "ed" => Some("\x1b[J".into()),
            "civis" => t.civis.map(Into::into),
            "cnorm" => t.cnorm.map(Into::into),
            "sc" => Some("\x1b7".into()),
            "rc" => Some("\x1b8".into()),
            "home" => Some("\x1b[H".into()),
            "smcup" => t.smcup.map(Into::into),
            "rmcup" => t.rmcup.map(Into::into),
            "cup" => Some(format!("\x1b[{};{}H", num(0) + 1, num(1) + 1)),
            "setaf" if t.colors > 0 => Some(color(t, 3, num(0))),
            "setab" if t.colors > 0 => Some(color(t, 4, num(0))),
            "setaf" | "setab" => None,
            other => {
                eprintln!("tput: unknown terminfo capability '{other}'");
                return 4;
            }
        },
        (other, None) => {
            eprintln!("tput: unknown terminfo capability '{other}'");
            return 4;
        }
    };
    match out {
        Some(s) => {
            let mut o = io::stdout().lock();
            if o.write_all(s.as_bytes()).and_then(|()| o.flush()).is_err() {
                return 1;
            }
            0
        }
        None => 1,
    }
}

/// How a char shows on the screen (vi, nano): tabs to the next multiple of 8, control chars as `^X`.
pub fn cells(c: char, col: usize) -> String {
    match c {
        '\t' => " ".repeat(8 - col % 8),
        c if (c as u32) < 0x20 => format!("^{}", (c as u8 + b'@') as char),
        '\x7f' => "^?".into(),
        c => c.to_string(),
    }
}

/// A line as shown, and the screen column each of its chars starts at.
pub fn render(line: &str) -> (Vec<char>, Vec<usize>) {
    let mut shown = Vec::new();
    let mut starts = Vec::new();
    for c in line.chars() {
        starts.push(shown.len());
        shown.extend(cells(c, shown.len()).chars());
    }
    (shown, starts)
}

/// One key as the terminal sends it (less and vi read them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Key {
    Char(char),
    Enter,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Delete,
    Other,
}

/// Keys from the terminal (`/dev/tty`, so a program reading a pipe still gets
/// them) in key-at-a-time mode, put back as it was when dropped. A read may
/// bring several (typed ahead, pasted, or an escape sequence), so the bytes are
/// kept and taken one key at a time.
pub struct Keys {
    tty: std::fs::File,
    pending: Vec<u8>,
}

/// Escape sequences of the keys known, and what they are.
const SEQUENCES: [(&[u8], Key); 15] = [
    (b"\x1b[A", Key::Up),
    (b"\x1bOA", Key::Up),
    (b"\x1b[B", Key::Down),
    (b"\x1bOB", Key::Down),
    (b"\x1b[C", Key::Right),
    (b"\x1bOC", Key::Right),
    (b"\x1b[D", Key::Left),
    (b"\x1bOD", Key::Left),
    (b"\x1b[5~", Key::PageUp),
    (b"\x1b[6~", Key::PageDown),
    (b"\x1b[H", Key::Home),
    (b"\x1b[1~", Key::Home),
    (b"\x1b[F", Key::End),
    (b"\x1b[4~", Key::End),
    (b"\x1b[3~", Key::Delete),
];

impl Keys {
    /// Opens the terminal in key-at-a-time mode; with `signal_keys`, Ctrl-C and
    /// Ctrl-Z come as keys instead of stopping the program. The error is a message.
    pub fn open(signal_keys: bool) -> Result<Keys, String> {
        use std::os::fd::AsRawFd;
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .open("/dev/tty")
            .map_err(|e| format!("/dev/tty: {}", super::strerror(&e)))?;
        let fd = tty.as_raw_fd();
        let r = if signal_keys {
            wsh::tty_raw_keys(fd)
        } else {
            wsh::tty_raw(fd, true)
        };
        r.map_err(|e| {
            format!(
                "cannot read single keys from the terminal: {}",
                super::strerror(&e)
            )
        })?;
        Ok(Keys {
            tty,
            pending: Vec::new(),
        })
    }

    /// The next key if one comes within `timeout`; None if none does (or the
    /// input has ended, after waiting out `timeout`). For programs that redraw
    /// while they wait (`top`).
    pub fn within(&mut self, timeout: std::time::Duration) -> io::Result<Option<Key>> {
        use std::os::fd::AsRawFd;
        if self.pending.is_empty() {
            let mut p = libc::pollfd {
                fd: self.tty.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut p, 1, ms) } <= 0 {
                return Ok(None);
            }
        }
        let started = std::time::Instant::now();
        match self.next()? {
            Some(k) => Ok(Some(k)),
            None => {
                std::thread::sleep(timeout.saturating_sub(started.elapsed()));
                Ok(None)
            }
        }
    }

    /// The next key; None at the end of input.
    pub fn next(&mut self) -> io::Result<Option<Key>> {
        use std::io::Read;
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

impl Drop for Keys {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        let _ = wsh::tty_raw(self.tty.as_raw_fd(), false);
    }
}
