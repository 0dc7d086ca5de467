//! vi's motions: where h j k l w b e 0 ^ $ G gg f t (and the rest) take the
//! cursor, and how much text an operator gets from them.

use super::{Editor, Input};
use crate::applets::term::Key;

/// How a motion covers text: up to its target, through it, or whole lines.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Exclusive,
    Inclusive,
    Linewise,
}

/// A char's class for word motions: blank, punctuation, word (or any non-blank for W).
fn class(c: Option<char>, big: bool) -> u8 {
    match c {
        None => 0,
        Some(c) if c.is_whitespace() => 0,
        Some(c) if big || c.is_alphanumeric() || c == '_' => 2,
        Some(_) => 1,
    }
}

/// The text as the word motions walk it: positions (line, col), col == len
/// being the end of the line (a blank).
struct Walk<'a> {
    ed: &'a Editor,
}

impl Walk<'_> {
    fn at(&self, (l, c): (usize, usize)) -> Option<char> {
        self.ed.buf.line(l).chars().nth(c)
    }
    fn len(&self, l: usize) -> usize {
        self.ed.len_of(l)
    }
    fn next(&self, (l, c): (usize, usize)) -> Option<(usize, usize)> {
        if c < self.len(l) {
            Some((l, c + 1))
        } else if l < self.ed.buf.last() {
            Some((l + 1, 0))
        } else {
            None
        }
    }
    fn prev(&self, (l, c): (usize, usize)) -> Option<(usize, usize)> {
        if c > 0 {
            Some((l, c - 1))
        } else if l > 1 {
            Some((l - 1, self.len(l - 1)))
        } else {
            None
        }
    }
    fn empty_line(&self, (l, c): (usize, usize)) -> bool {
        c == 0 && self.len(l) == 0
    }

    /// `w`: the start of the next word (an empty line counts as one).
    fn word_forward(&self, mut p: (usize, usize), big: bool) -> (usize, usize) {
        let start = class(self.at(p), big);
        if start != 0 {
            while let Some(q) = self.next(p) {
                p = q;
                if class(self.at(p), big) != start || p.1 == 0 {
                    break;
                }
            }
            if class(self.at(p), big) == start {
                return (p.0, self.len(p.0));
            }
        } else if self.empty_line(p) {
            // From an empty line: on to the next word (or empty line).
            match self.next(p) {
                Some(q) => p = q,
                None => return p,
            }
            if self.empty_line(p) {
                return p;
            }
        }
        while class(self.at(p), big) == 0 && !self.empty_line(p) {
            match self.next(p) {
                Some(q) => p = q,
                // The end of the text: past its last char.
                None => return p,
            }
            if self.empty_line(p) {
                break;
            }
        }
        p
    }

    /// `e`: the end of this word or the next.
    fn word_end(&self, mut p: (usize, usize), big: bool) -> (usize, usize) {
        if let Some(q) = self.next(p) {
            p = q;
        }
        while class(self.at(p), big) == 0 {
            match self.next(p) {
                Some(q) => p = q,
                None => return p,
            }
        }
        let cls = class(self.at(p), big);
        while let Some(q) = self.next(p) {
            if q.0 != p.0 || class(self.at(q), big) != cls {
                break;
            }
            p = q;
        }
        p
    }

    /// `b`: the start of this word or the previous one.
    fn word_back(&self, mut p: (usize, usize), big: bool) -> (usize, usize) {
        match self.prev(p) {
            Some(q) => p = q,
            None => return p,
        }
        while class(self.at(p), big) == 0 && !self.empty_line(p) {
            match self.prev(p) {
                Some(q) => p = q,
                None => return p,
            }
        }
        let cls = class(self.at(p), big);
        while let Some(q) = self.prev(p) {
            if q.0 != p.0 || class(self.at(q), big) != cls {
                break;
            }
            p = q;
        }
        p
    }
}

/// Where a motion key (with its count) takes the cursor, or None if it is not one
/// or cannot move. `op` is the operator waiting for it, if any.
pub fn motion(
    ed: &mut Editor,
    input: &mut dyn Input,
    key: Key,
    n: usize,
    counted: bool,
    op: Option<char>,
) -> Option<(usize, usize, Kind)> {
    let (l, c) = (ed.buf.cur, ed.col);
    let last = ed.buf.last();
    let len = ed.len_of(l);
    let walk = Walk { ed };
    Some(match key {
        // A motion that cannot move fails (and ends a `:normal`), as in vim.
        Key::Char('h') | Key::Left | Key::Char('\x08') | Key::Char('\x7f') if c > 0 => {
            (l, c.saturating_sub(n), Kind::Exclusive)
        }
        Key::Char('l') | Key::Right | Key::Char(' ') => {
            let max = if op.is_some() {
                len
            } else {
                len.saturating_sub(1)
            };
            if c >= max {
                return None;
            }
            (l, (c + n).min(max), Kind::Exclusive)
        }
        // With an operator, a count past the end fails rather than stopping there.
        Key::Char('j') | Key::Down | Key::Char('\x0e') if op.is_some() && n > last - l => {
            return None;
        }
        Key::Char('k') | Key::Up | Key::Char('\x10') if op.is_some() && n >= l => return None,
        Key::Char('j') | Key::Down | Key::Char('\x0e') if l < last => {
            (l.saturating_add(n).min(last), c, Kind::Linewise)
        }
        Key::Char('k') | Key::Up | Key::Char('\x10') if l > 1 => {
            (l.saturating_sub(n).max(1), c, Kind::Linewise)
        }
        Key::Char('+') | Key::Enter => {
            let t = l.saturating_add(n).min(last);
            (t, ed.first_nonblank(t), Kind::Linewise)
        }
        Key::Char('-') => {
            let t = l.saturating_sub(n).max(1);
            (t, ed.first_nonblank(t), Kind::Linewise)
        }
        Key::Char('0') | Key::Home => (l, 0, Kind::Exclusive),
        Key::Char('^') => (l, ed.first_nonblank(l), Kind::Exclusive),
        Key::Char('$') | Key::End => {
            let t = l.saturating_add(n - 1).min(last);
            (t, ed.len_of(t).saturating_sub(1), Kind::Inclusive)
        }
        Key::Char(w @ ('w' | 'W')) => {
            let big = w == 'W';
            // `cw` changes to the end of the word, as `ce`.
            if op == Some('c') && class(walk.at((l, c)), big) != 0 {
                let mut p = (l, c);
                for i in 0..n {
                    let at_end = walk.next(p).is_none_or(|q| {
                        q.0 != p.0 || class(walk.at(q), big) != class(walk.at(p), big)
                    });
                    if !(i == 0 && at_end) {
                        p = walk.word_end(p, big);
                    }
                }
                return Some((p.0, p.1, Kind::Inclusive));
            }
            let mut p = (l, c);
            for _ in 0..n {
                p = walk.word_forward(p, big);
            }
            if p == (l, c) || (op.is_none() && p == (l, len) && c + 1 >= len) {
                return None;
            }
            if op.is_some() && p.0 > l && len > 0 {
                // vim: with an operator, a word at the end of a line ends the text
                // operated on there, not at the next line's first word.
                let line = p.0 - 1;
                return Some((line, walk.len(line), Kind::Exclusive));
            }
            (p.0, p.1, Kind::Exclusive)
        }
        Key::Char(b @ ('b' | 'B')) => {
            let mut p = (l, c);
            for _ in 0..n {
                p = walk.word_back(p, b == 'B');
            }
            (p.0, p.1, Kind::Exclusive)
        }
        Key::Char(e @ ('e' | 'E')) => {
            let mut p = (l, c);
            for _ in 0..n {
                p = walk.word_end(p, e == 'E');
            }
            (
                p.0,
                p.1.min(walk.len(p.0).saturating_sub(1)),
                Kind::Inclusive,
            )
        }
        Key::Char('G') => {
            let t = if counted { n.min(last) } else { last };
            (t, ed.first_nonblank(t), Kind::Linewise)
        }
        Key::Char('g') => match input.key()? {
            Key::Char('g') => {
                let t = if counted { n.min(last) } else { 1 };
                (t, ed.first_nonblank(t), Kind::Linewise)
            }
            _ => return None,
        },
        Key::Char(f @ ('f' | 'F' | 't' | 'T')) => {
            let Key::Char(target) = input.key()? else {
                return None;
            };
            let chars: Vec<char> = ed.line().chars().collect();
            let mut pos = c;
            for _ in 0..n {
                let found = if f == 'f' || f == 't' {
                    let from = if f == 't' { pos + 2 } else { pos + 1 };
                    (from..chars.len()).find(|&i| chars[i] == target)
                } else {
                    let to = if f == 'T' { pos.saturating_sub(1) } else { pos };
                    (0..to).rev().find(|&i| chars[i] == target)
                };
                pos = found?;
            }
            match f {
                'f' => (l, pos, Kind::Inclusive),
                't' => (l, pos - 1, Kind::Inclusive),
                'F' => (l, pos, Kind::Exclusive),
                _ => (l, pos + 1, Kind::Exclusive),
            }
        }
        _ => return None,
    })
}
