//! vi's normal mode (motions, operators, counts), insert mode, and the `:`,
//! `/` and `?` command lines.

use super::motion::{Kind, motion};
use super::{Editor, Input, Mode, Register, ex};
use crate::applets::edit::{self, Dialect};
use crate::applets::term::Key;

const ESC: char = '\x1b';

/// Runs one normal-mode command; false when the keys have run out.
pub fn command(ed: &mut Editor, input: &mut dyn Input) -> bool {
    let mut rec = Recorder {
        inner: input,
        keys: Vec::new(),
    };
    let more = one(ed, &mut rec);
    // A command that changed the text is what `.` repeats (not `:`, not `.` itself).
    let first = rec.keys.iter().find(|k| !matches!(k, Key::Char('0'..='9')));
    if ed.unit_open && !matches!(first, Some(Key::Char(':' | '.' | 'u' | '\x12'))) {
        ed.last_change = rec.keys;
    }
    more
}

/// The keys a command reads, kept for `.`.
struct Recorder<'a> {
    inner: &'a mut dyn Input,
    keys: Vec<Key>,
}

impl Input for Recorder<'_> {
    fn key(&mut self) -> Option<Key> {
        let k = self.inner.key()?;
        self.keys.push(k);
        Some(k)
    }

    fn redraw(&mut self, ed: &mut Editor, cmdline: Option<&str>) {
        self.inner.redraw(ed, cmdline);
    }
}

/// Keys replayed by `.`.
struct Replay {
    keys: Vec<Key>,
    at: usize,
}

impl Input for Replay {
    fn key(&mut self) -> Option<Key> {
        let k = *self.keys.get(self.at)?;
        self.at += 1;
        Some(k)
    }
}

/// Runs one normal-mode command; false when the keys have run out.
fn one(ed: &mut Editor, input: &mut dyn Input) -> bool {
    ed.unit_open = false;
    ed.mode = Mode::Normal;
    ed.beeped = false;
    let Some(mut key) = input.key() else {
        return false;
    };
    ed.message = None;
    let mut count: Option<usize> = None;
    while let Key::Char(d @ '0'..='9') = key {
        if d == '0' && count.is_none() {
            break;
        }
        count = Some(
            count
                .unwrap_or(0)
                .saturating_mul(10)
                .saturating_add(d as usize - '0' as usize),
        );
        match input.key() {
            Some(k) => key = k,
            None => return false,
        }
    }
    let n = count.unwrap_or(1).min(1_000_000);
    let counted = count.is_some();
    let (l, c) = (ed.buf.cur, ed.col);
    match key {
        Key::Char(':') => {
            if let Some(line) = read_line(ed, input, ':') {
                let range = if counted {
                    format!(".,.+{}", n - 1)
                } else {
                    String::new()
                };
                ex::run(ed, &format!("{range}{line}"), None);
            }
        }
        Key::Char(lead @ ('/' | '?')) => {
            if let Some(pat) = read_line(ed, input, lead) {
                ed.search_forward = lead == '/';
                if !pat.is_empty() {
                    match edit::compile(&pat, Dialect::Vim, false) {
                        Ok(re) => ed.mem.last_re = Some(re),
                        Err(_) => {
                            ed.error(&format!("E486: Pattern not found: {pat}"));
                            return true;
                        }
                    }
                }
                search(ed, ed.search_forward, n);
            }
        }
        Key::Char('n') => search(ed, ed.search_forward, n),
        Key::Char('N') => search(ed, !ed.search_forward, n),
        Key::Char('i') | Key::Char('a') | Key::Char('A') | Key::Char('I') => {
            let len = ed.len_of(l);
            ed.col = match key {
                Key::Char('a') => (c + 1).min(len),
                Key::Char('A') => len,
                Key::Char('I') => ed.first_nonblank(l),
                _ => c,
            };
            insert(ed, input, n, false);
        }
        Key::Char(o @ ('o' | 'O')) => {
            ed.change();
            let at = if o == 'o' { l } else { l - 1 };
            ed.buf.splice(at, at, vec![String::new()]);
            ed.buf.cur = at + 1;
            ed.col = 0;
            insert(ed, input, n, true);
        }
        Key::Char('x') | Key::Delete => {
            if ed.len_of(l) > 0 {
                let end = (c + n).min(ed.len_of(l));
                cut_chars(ed, (l, c), (l, end), true);
            }
        }
        Key::Char('X') => {
            if c > 0 {
                cut_chars(ed, (l, c.saturating_sub(n)), (l, c), true);
            }
        }
        Key::Char('D') => operate(ed, input, 'd', Key::Char('$'), n, counted),
        Key::Char('C') => operate(ed, input, 'c', Key::Char('$'), n, counted),
        Key::Char('s') => operate(ed, input, 'c', Key::Char('l'), n, counted),
        Key::Char('S') => operate(ed, input, 'c', Key::Char('c'), n, counted),
        Key::Char('Y') => operate(ed, input, 'y', Key::Char('y'), n, counted),
        Key::Char(op @ ('d' | 'c' | 'y')) => {
            let Some(mut k) = input.key() else {
                return false;
            };
            let mut m: Option<usize> = None;
            while let Key::Char(d @ '0'..='9') = k {
                if d == '0' && m.is_none() {
                    break;
                }
                m = Some(
                    m.unwrap_or(0)
                        .saturating_mul(10)
                        .saturating_add(d as usize - '0' as usize),
                );
                match input.key() {
                    Some(x) => k = x,
                    None => return false,
                }
            }
            let total = n.saturating_mul(m.unwrap_or(1)).min(1_000_000);
            operate(ed, input, op, k, total, counted || m.is_some());
        }
        Key::Char(p @ ('p' | 'P')) => put(ed, p == 'p', n),
        Key::Char('u') => {
            for _ in 0..n {
                ed.undo(false);
            }
        }
        Key::Char('\x12') => {
            for _ in 0..n {
                ed.undo(true);
            }
        }
        Key::Char('J') => {
            let b = (l + n.max(2) - 1).min(ed.buf.last());
            if l < b {
                ex::join(ed, l, b, true, false);
            }
        }
        Key::Char('r') => {
            if let Some(Key::Char(ch)) = input.key() {
                let chars: Vec<char> = ed.line().chars().collect();
                if ch != ESC && ch != '\x03' && c + n <= chars.len() {
                    ed.change();
                    let new: String = chars[..c]
                        .iter()
                        .copied()
                        .chain(std::iter::repeat_n(ch, n))
                        .chain(chars[c + n..].iter().copied())
                        .collect();
                    ed.buf.lines[l - 1] = new;
                    ed.col = c + n - 1;
                }
            }
        }
        Key::Char('~') => {
            let chars: Vec<char> = ed.line().chars().collect();
            if !chars.is_empty() {
                ed.change();
                let end = (c + n).min(chars.len());
                let new: String = chars
                    .iter()
                    .enumerate()
                    .map(|(i, &ch)| {
                        if i >= c && i < end {
                            if ch.is_lowercase() {
                                ch.to_uppercase().next().unwrap_or(ch)
                            } else {
                                ch.to_lowercase().next().unwrap_or(ch)
                            }
                        } else {
                            ch
                        }
                    })
                    .collect();
                ed.buf.lines[l - 1] = new;
                ed.col = end;
            }
        }
        Key::Char('.') => {
            let mut keys = ed.last_change.clone();
            if counted {
                // A count given to `.` replaces the command's own.
                let digits = keys
                    .iter()
                    .take_while(|k| matches!(k, Key::Char('0'..='9')))
                    .count();
                keys.splice(..digits, n.to_string().chars().map(Key::Char));
            }
            if !keys.is_empty() {
                let mut replay = Replay { keys, at: 0 };
                one(ed, &mut replay);
                // Insert mode ends with the replayed keys.
                ed.mode = Mode::Normal;
            }
        }
        Key::Char('Z') => match input.key() {
            Some(Key::Char('Z')) => ex::run(ed, "x", None),
            Some(Key::Char('Q')) => ex::run(ed, "q!", None),
            _ => {}
        },
        Key::Char('\x03') => {
            ed.message =
                Some("Type  :qa!  and press <Enter> to abandon all changes and exit Vim".into());
        }
        Key::Char(ch @ ('\x06' | '\x02' | '\x04' | '\x15')) | Key::Char(ch @ ('\x0c' | ESC)) => {
            let page = 20usize;
            let by = match ch {
                '\x06' | '\x02' => page * n,
                '\x04' | '\x15' => page / 2,
                _ => 0,
            };
            let last = ed.buf.last();
            ed.buf.cur = if ch == '\x06' || ch == '\x04' {
                l.saturating_add(by).min(last)
            } else {
                l.saturating_sub(by).max(1)
            };
        }
        Key::PageDown | Key::PageUp => {
            let last = ed.buf.last();
            ed.buf.cur = if key == Key::PageDown {
                (l + 20 * n).min(last)
            } else {
                l.saturating_sub(20 * n).max(1)
            };
        }
        k => match motion(ed, input, k, n, counted, None) {
            Some((tl, tc, _)) => {
                ed.buf.cur = tl;
                ed.col = tc;
            }
            None => ed.beeped = true,
        },
    }
    if ed.mode == Mode::Normal {
        ed.clamp();
    }
    true
}

/// An operator (`d`, `c`, `y`) over a motion, or over whole lines when the
/// motion is the operator again (`dd`).
fn operate(ed: &mut Editor, input: &mut dyn Input, op: char, key: Key, n: usize, counted: bool) {
    let (l, c) = (ed.buf.cur, ed.col);
    let (tl, tc, kind) = if key == Key::Char(op) {
        let end = l.saturating_add(n - 1);
        if end > ed.buf.last() {
            ed.beeped = true;
            return;
        }
        (end, 0, Kind::Linewise)
    } else if let Key::Char(around @ ('i' | 'a')) = key {
        // The text objects iw aw iW aW: the word under the cursor.
        let Some(Key::Char(w @ ('w' | 'W'))) = input.key() else {
            ed.beeped = true;
            return;
        };
        let (start, end) = word_object(ed.line(), c, w == 'W', around == 'a');
        ed.col = start;
        (l, end, Kind::Exclusive)
    } else {
        match motion(ed, input, key, n, counted, Some(op)) {
            Some(m) => m,
            None => {
                ed.beeped = true;
                return;
            }
        }
    };
    let c = ed.col;
    let mut kind = kind;
    let (mut from, mut to) = ((l, c), (tl, tc));
    if to < from {
        std::mem::swap(&mut from, &mut to);
    }
    if kind == Kind::Exclusive && to.1 == 0 && to.0 > from.0 {
        // vim's exclusive rules: an end in column 0 moves to the end of the line
        // before; from at or before the first non-blank, the lines go whole.
        to = (to.0 - 1, ed.len_of(to.0 - 1));
        if from.1 <= ed.first_nonblank(from.0) {
            kind = Kind::Linewise;
        }
    }
    if kind == Kind::Linewise {
        let (a, b) = (from.0, to.0);
        ed.reg = Register {
            text: ed.buf.lines[a - 1..b].to_vec(),
            linewise: true,
        };
        match op {
            'd' => {
                ed.delete_lines(a, b);
                ed.col = ed.first_nonblank(ed.buf.cur);
            }
            'c' => {
                ed.change();
                ed.buf.splice(a - 1, b, vec![String::new()]);
                ed.buf.cur = a;
                ed.col = 0;
                insert(ed, input, 1, false);
            }
            _ => {
                ed.buf.cur = a;
                if tl < l {
                    ed.col = tc;
                }
            }
        }
        return;
    }
    if kind == Kind::Inclusive {
        to.1 = (to.1 + 1).min(ed.len_of(to.0));
    }
    match op {
        'y' => {
            ed.reg = Register {
                text: text_between(ed, from, to),
                linewise: false,
            };
            ed.buf.cur = from.0;
            ed.col = from.1;
        }
        _ => {
            cut_chars(ed, from, to, op == 'd');
            if op == 'c' {
                ed.col = from.1;
                insert(ed, input, 1, false);
            }
        }
    }
}

/// The chars `iw` (or, with `around`, `aw`) covers at `col`: the run of chars of
/// the cursor's class, and for `aw` the blanks after it (or else before it).
fn word_object(line: &str, col: usize, big: bool, around: bool) -> (usize, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.is_empty() {
        return (0, 0);
    }
    let class = |c: char| {
        if c == ' ' || c == '\t' {
            0
        } else if big || c.is_alphanumeric() || c == '_' {
            2
        } else {
            1
        }
    };
    let col = col.min(chars.len() - 1);
    let k = class(chars[col]);
    let mut start = col;
    while start > 0 && class(chars[start - 1]) == k {
        start -= 1;
    }
    let mut end = col + 1;
    while end < chars.len() && class(chars[end]) == k {
        end += 1;
    }
    if around && k != 0 {
        let after = end;
        while end < chars.len() && class(chars[end]) == 0 {
            end += 1;
        }
        if end == after {
            while start > 0 && class(chars[start - 1]) == 0 {
                start -= 1;
            }
        }
    }
    (start, end)
}

/// The text from `from` to `to` (exclusive), one string per line piece.
fn text_between(ed: &Editor, from: (usize, usize), to: (usize, usize)) -> Vec<String> {
    let mut out = Vec::new();
    for line in from.0..=to.0 {
        let chars: Vec<char> = ed.buf.line(line).chars().collect();
        let a = if line == from.0 { from.1 } else { 0 };
        let b = if line == to.0 { to.1 } else { chars.len() };
        out.push(
            chars[a.min(chars.len())..b.min(chars.len())]
                .iter()
                .collect(),
        );
    }
    out
}

/// Deletes the chars from `from` to `to` (exclusive) into the register.
fn cut_chars(ed: &mut Editor, from: (usize, usize), to: (usize, usize), fix_col: bool) {
    if from == to {
        return;
    }
    ed.reg = Register {
        text: text_between(ed, from, to),
        linewise: false,
    };
    ed.change();
    let head: String = ed.buf.line(from.0).chars().take(from.1).collect();
    let tail: String = ed.buf.line(to.0).chars().skip(to.1).collect();
    ed.buf.splice(from.0 - 1, to.0, vec![head + &tail]);
    ed.buf.cur = from.0;
    ed.col = from.1;
    if fix_col {
        ed.clamp();
    }
}

/// `p`/`P`: the register after (or before) the cursor, `n` times.
fn put(ed: &mut Editor, after: bool, n: usize) {
    if ed.reg.text.is_empty() {
        ed.error("E353: Nothing in register \"");
        return;
    }
    let reg = ed.reg.clone();
    ed.change();
    let l = ed.buf.cur;
    if reg.linewise {
        let mut lines = Vec::new();
        for _ in 0..n {
            lines.extend(reg.text.iter().cloned());
        }
        let replace_empty = ed.no_lines;
        let at = if after { l } else { l - 1 };
        ed.buf.splice(at, at, lines);
        ed.buf.cur = at + 1;
        let _ = replace_empty;
        ed.col = ed.first_nonblank(ed.buf.cur);
        return;
    }
    let chars: Vec<char> = ed.line().chars().collect();
    let at = if after && !chars.is_empty() {
        ed.col + 1
    } else {
        ed.col
    }
    .min(chars.len());
    let head: String = chars[..at].iter().collect();
    let tail: String = chars[at..].iter().collect();
    let mut text = reg.text.join("\n");
    text = text.repeat(n);
    let mut pieces: Vec<String> = (head + &text).split('\n').map(str::to_string).collect();
    let last_len = pieces.last().map_or(0, |p| p.chars().count());
    let k = pieces.len();
    if let Some(p) = pieces.last_mut() {
        p.push_str(&tail);
    }
    ed.buf.splice(l - 1, l, pieces);
    if k == 1 {
        ed.col = last_len.saturating_sub(1);
    } else {
        ed.col = at;
    }
}

/// Insert mode until Esc (or Ctrl-C, or the end of the keys).
/// With a count `n`, the text typed goes in `n` times (on new lines for `o`/`O`).
fn insert(ed: &mut Editor, input: &mut dyn Input, n: usize, lines: bool) {
    ed.change();
    ed.mode = Mode::Insert;
    let mut typed = String::new();
    loop {
        input.redraw(ed, None);
        let Some(key) = input.key() else { break };
        let l = ed.buf.cur;
        let chars: Vec<char> = ed.line().chars().collect();
        let c = ed.col.min(chars.len());
        match key {
            Key::Char(ESC) | Key::Char('\x03') => break,
            Key::Enter => {
                let head: String = chars[..c].iter().collect();
                let tail: String = chars[c..].iter().collect();
                ed.buf.splice(l - 1, l, vec![head, tail]);
                ed.buf.cur = l + 1;
                ed.col = 0;
                typed.push('\n');
            }
            Key::Char('\x7f') | Key::Char('\x08') => {
                typed.pop();
                if c > 0 {
                    let new: String = chars[..c - 1].iter().chain(&chars[c..]).collect();
                    ed.buf.lines[l - 1] = new;
                    ed.col = c - 1;
                } else if l > 1 {
                    let prev_len = ed.len_of(l - 1);
                    let joined = ed.buf.line(l - 1).to_string() + ed.line();
                    ed.buf.splice(l - 2, l, vec![joined]);
                    ed.buf.cur = l - 1;
                    ed.col = prev_len;
                }
            }
            Key::Delete if c < chars.len() => {
                let new: String = chars[..c].iter().chain(&chars[c + 1..]).collect();
                ed.buf.lines[l - 1] = new;
            }
            Key::Left => ed.col = c.saturating_sub(1),
            Key::Right => ed.col = (c + 1).min(chars.len()),
            Key::Up => ed.buf.cur = l.saturating_sub(1).max(1),
            Key::Down => ed.buf.cur = (l + 1).min(ed.buf.last()),
            Key::Home => ed.col = 0,
            Key::End => ed.col = chars.len(),
            Key::Char(ch) if ch == '\t' || !ch.is_control() => {
                let new: String = chars[..c]
                    .iter()
                    .chain(std::iter::once(&ch))
                    .chain(&chars[c..])
                    .collect();
                ed.buf.lines[l - 1] = new;
                ed.col = c + 1;
                typed.push(ch);
            }
            // Moving about starts the text over (what a count repeats).
            _ => typed.clear(),
        }
        ed.clamp();
    }
    if n > 1 && !typed.is_empty() {
        let once = if lines { format!("\n{typed}") } else { typed };
        let l = ed.buf.cur;
        let chars: Vec<char> = ed.line().chars().collect();
        let c = ed.col.min(chars.len());
        let head: String = chars[..c].iter().collect();
        let tail: String = chars[c..].iter().collect();
        let text = head + &once.repeat(n - 1);
        let mut pieces: Vec<String> = text.split('\n').map(str::to_string).collect();
        let k = pieces.len();
        let col = pieces.last().map_or(0, |p| p.chars().count());
        if let Some(p) = pieces.last_mut() {
            p.push_str(&tail);
        }
        ed.buf.splice(l - 1, l, pieces);
        ed.buf.cur = l + k - 1;
        ed.col = col;
    }
    ed.mode = Mode::Normal;
    ed.col = ed.col.saturating_sub(1);
    ed.clamp();
}

/// Reads a command line after `lead` (`:`, `/`, `?`); None when abandoned.
fn read_line(ed: &mut Editor, input: &mut dyn Input, lead: char) -> Option<String> {
    let mut text = String::new();
    loop {
        input.redraw(ed, Some(&format!("{lead}{text}")));
        match input.key()? {
            Key::Enter => return Some(text),
            Key::Char(ESC) | Key::Char('\x03') => return None,
            Key::Char('\x7f') | Key::Char('\x08') => {
                text.pop()?;
            }
            Key::Char('\x15') => text.clear(),
            Key::Char(ch) if ch == '\t' || !ch.is_control() => text.push(ch),
            _ => {}
        }
    }
}

/// Moves to the `n`th match of the last pattern after (or before) the cursor, wrapping.
fn search(ed: &mut Editor, forward: bool, n: usize) {
    let Some(re) = ed.mem.last_re.clone() else {
        ed.error("E35: No previous regular expression");
        return;
    };
    let last = ed.buf.last();
    for _ in 0..n {
        let (l, c) = (ed.buf.cur, ed.col);
        let byte_of =
            |line: &str, col: usize| line.char_indices().nth(col).map_or(line.len(), |(b, _)| b);
        let col_of = |line: &str, b: usize| line[..b].chars().count();
        let mut found = None;
        let mut wrapped = false;
        for i in 0..=last {
            let line_no = if forward {
                (l - 1 + i) % last + 1
            } else {
                (l as isize - 1 - i as isize).rem_euclid(last as isize) as usize + 1
            };
            if i > 0 && ((forward && line_no <= l) || (!forward && line_no >= l)) {
                wrapped = true;
            }
            let line = ed.buf.line(line_no);
            let starts: Vec<usize> = re.find_iter(line).map(|m| m.start()).collect();
            let here = byte_of(line, c);
            let hit = if i == 0 {
                if forward {
                    starts.into_iter().find(|&s| s > here)
                } else {
                    starts.into_iter().rev().find(|&s| s < here)
                }
            } else if i == last {
                // Back on the cursor's line after going all the way round.
                if forward {
                    starts.into_iter().find(|&s| s <= here)
                } else {
                    starts.into_iter().rev().find(|&s| s >= here)
                }
            } else if forward {
                starts.first().copied()
            } else {
                starts.last().copied()
            };
            if let Some(b) = hit {
                found = Some((line_no, col_of(line, b)));
                break;
            }
        }
        match found {
            Some((fl, fc)) => {
                ed.buf.cur = fl;
                ed.col = fc;
                if wrapped {
                    ed.message = Some(if forward {
                        "search hit BOTTOM, continuing at TOP".into()
                    } else {
                        "search hit TOP, continuing at BOTTOM".into()
                    });
                }
            }
            None => {
                ed.error(&format!("E486: Pattern not found: {}", re.as_str()));
                return;
            }
        }
    }
}
