//! What `ed`, `vi -es` and vi's `:` commands share: the buffer of lines, line
//! addresses (`.`, `$`, N, `/RE/`, `?RE?`, offsets, ranges), regular expressions
//! (POSIX basic for ed, vim's "magic" for vi, both through the regex crate) and
//! `s`'s replacement text.

use regex::Regex;

use super::posix_regex;

/// Which editor's rules apply where ed and vim differ.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dialect {
    Ed,
    Vim,
}

/// The text being edited: lines without their newlines. Line numbers are
/// 1-based; 0 is "before the first line" (a valid place to append).
/// Lines may be edited in place through `lines`; adding or removing lines goes
/// through [`Buffer::splice`], which keeps the marks of `g` in step.
#[derive(Clone, Default)]
pub struct Buffer {
    pub lines: Vec<String>,
    /// The current line (0 only when the buffer is empty).
    pub cur: usize,
    /// Lines marked by a global command still to visit (one flag per line).
    pub marked: Vec<bool>,
}

impl Buffer {
    /// A buffer holding `lines`, the current line the last.
    pub fn new(lines: Vec<String>) -> Buffer {
        let n = lines.len();
        Buffer {
            marked: vec![false; n],
            lines,
            cur: n,
        }
    }

    /// Replaces lines `start..end` (0-based, end exclusive) by `new`.
    pub fn splice(&mut self, start: usize, end: usize, new: Vec<String>) {
        let n = new.len();
        self.lines.splice(start..end, new);
        self.marked
            .splice(start..end, std::iter::repeat_n(false, n));
    }

    /// Puts `text` in place of line `n` (1-based), as a substitution leaves it: a
    /// newline in it splits the line. The current line becomes the last of the
    /// new ones; returns how many there are.
    pub fn replace_line(&mut self, n: usize, text: &str) -> usize {
        let parts: Vec<String> = text.split('\n').map(str::to_string).collect();
        let k = parts.len();
        self.splice(n - 1, n, parts);
        self.cur = n + k - 1;
        k
    }

    /// Takes the mark of the first marked line at or after `from` (0-based), or
    /// before it if none follows: its number (1-based).
    pub fn take_mark(&mut self, from: usize) -> Option<usize> {
        let from = from.min(self.marked.len());
        let i = self.marked[from..]
            .iter()
            .position(|&m| m)
            .map(|i| i + from)
            .or_else(|| self.marked[..from].iter().position(|&m| m))?;
        self.marked[i] = false;
        Some(i + 1)
    }

    /// The last line's number (0 when empty).
    pub fn last(&self) -> usize {
        self.lines.len()
    }

    /// Line `n` (1-based).
    pub fn line(&self, n: usize) -> &str {
        &self.lines[n - 1]
    }
}

/// A file's text as lines, and whether its last line lacked a newline. Bytes
/// that are not UTF-8 become U+FFFD.
pub fn split_lines(bytes: &[u8]) -> (Vec<String>, bool) {
    let text = String::from_utf8_lossy(bytes);
    let missing_newline = !text.is_empty() && !text.ends_with('\n');
    let lines = text.lines().map(str::to_string).collect();
    // `lines()` drops a trailing "\r" too: keep it, as both editors do.
    let lines = if text.contains('\r') {
        let mut v: Vec<String> = text.split('\n').map(str::to_string).collect();
        if text.ends_with('\n') {
            v.pop();
        }
        v
    } else {
        lines
    };
    (lines, missing_newline)
}

/// Text lines for `a`, `i` and `c` (ed's and ex's): read up to a lone `.` or the
/// end of input.
pub fn text_lines(input: &mut dyn std::io::BufRead) -> Vec<String> {
    let mut lines = Vec::new();
    let mut l = String::new();
    loop {
        l.clear();
        if input.read_line(&mut l).unwrap_or(0) == 0 {
            break;
        }
        let t = l.strip_suffix('\n').unwrap_or(&l);
        if t == "." {
            break;
        }
        lines.push(t.to_string());
    }
    lines
}

/// The bytes a file gets for `lines`, each ended by a newline.
pub fn join_lines(lines: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in lines {
        out.extend_from_slice(l.as_bytes());
        out.push(b'\n');
    }
    out
}

/// An editing error; `msg` is what ed's `h` or vim would say.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(pub String);

/// Shorthand for an [`Error`] result.
pub fn err<T>(msg: &str) -> Result<T, Error> {
    Err(Error(msg.to_string()))
}

/// Compiles a pattern of `dialect`'s syntax for the regex crate.
pub fn compile(pat: &str, dialect: Dialect, ignore_case: bool) -> Result<Regex, Error> {
    let mut p = pat.to_string();
    let mut icase = ignore_case;
    if dialect == Dialect::Vim {
        // vim's `\c` anywhere makes the pattern ignore case; `\=` is `\?`.
        if p.contains("\\c") {
            icase = true;
            p = p.replace("\\c", "");
        }
        p = p.replace("\\=", "\\?");
    }
    let translated = posix_regex::from_basic(&p);
    let src = if icase {
        format!("(?i){translated}")
    } else {
        translated
    };
    Regex::new(&src).map_err(|_| Error("Invalid regular expression".into()))
}

/// The state searches and substitutions keep between commands.
#[derive(Default)]
pub struct Memory {
    /// The last regular expression used (an empty `//` means it).
    pub last_re: Option<Regex>,
    /// The last replacement (ed's `%`, vim's `~`).
    pub last_repl: Option<String>,
    /// The last `s` command's pattern, replacement and flags (ed's bare `s`, vim's `&`).
    pub last_sub: Option<(Regex, String, String)>,
}

impl Memory {
    /// The regex for `pat`, or the last one when `pat` is empty.
    pub fn regex(&mut self, pat: &str, dialect: Dialect) -> Result<Regex, Error> {
        if pat.is_empty() {
            return self
                .last_re
                .clone()
                .ok_or_else(|| Error("No previous pattern".into()));
        }
        let re = compile(pat, dialect, false)?;
        self.last_re = Some(re.clone());
        Ok(re)
    }
}

/// Characters of a command line, read from the front.
pub struct Cursor<'a> {
    pub s: &'a str,
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `s`.
    pub fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    /// The next character, not taken.
    pub fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    /// Takes the next character.
    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Takes `c` if it is next.
    pub fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            return true;
        }
        false
    }

    /// What is left.
    pub fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    /// Skips blanks.
    pub fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
    }

    /// A decimal number, if one is next.
    pub fn number(&mut self) -> Option<usize> {
        let digits: String = self
            .rest()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if digits.is_empty() {
            return None;
        }
        self.pos += digits.len();
        // An absurdly long number is an address past the end, not a crash.
        Some(digits.parse().unwrap_or(usize::MAX))
    }

    /// Text up to an unescaped `delim` (not counting one inside a bracket
    /// expression), which is taken; `\delim` becomes `delim`. Returns the text and
    /// whether the delimiter was found (it may be left off at the end of the line).
    pub fn delimited(&mut self, delim: char) -> (String, bool) {
        let mut out = String::new();
        let mut in_bracket = false;
        while let Some(c) = self.bump() {
            match c {
                '\\' => match self.bump() {
                    Some(d) if d == delim && !in_bracket => out.push(d),
                    Some(d) => {
                        out.push('\\');
                        out.push(d);
                    }
                    None => out.push('\\'),
                },
                '[' if !in_bracket => {
                    in_bracket = true;
                    out.push(c);
                    // A `]` first (or after `^`) is a member, not the end.
                    if self.eat('^') {
                        out.push('^');
                    }
                    if self.eat(']') {
                        out.push(']');
                    }
                }
                ']' if in_bracket => {
                    in_bracket = false;
                    out.push(c);
                }
                c if c == delim && !in_bracket => return (out, true),
                c => out.push(c),
            }
        }
        (out, false)
    }
}

/// The lines a command applies to: how many addresses were given (0, 1 or 2)
/// and the first and last line.
#[derive(Clone, Copy, Debug)]
pub struct Range {
    pub given: usize,
    pub first: usize,
    pub last: usize,
}

/// Parses the addresses at the cursor (`.`, `$`, N, `/RE/`, `?RE?`, `'x` marks,
/// `+N`/`-N` offsets, `,` `;` and, for vim, `%`). Values are checked against the
/// buffer: out of range is an error.
pub fn parse_range(
    c: &mut Cursor,
    buf: &Buffer,
    mem: &mut Memory,
    marks: &dyn Fn(char) -> Option<usize>,
    dialect: Dialect,
) -> Result<Range, Error> {
    let mut cur = buf.cur;
    let last = buf.last();
    let mut given = 0;
    let (mut first, mut second) = (cur, cur);
    c.skip_blanks();
    if dialect == Dialect::Vim && c.eat('%') {
        given = 2;
        first = 1.min(last);
        second = last;
    } else if let Some(a) = address(c, cur, buf, mem, marks, dialect)? {
        given = 1;
        first = a;
        second = a;
    }
    loop {
        c.skip_blanks();
        let sep = match c.peek() {
            Some(s @ (',' | ';')) => s,
            _ => break,
        };
        c.bump();
        if given == 0 {
            // A leading `,` is `1,` in ed (so `,` alone is the whole file), `.,` in vim.
            first = if sep == ',' && dialect == Dialect::Ed {
                1.min(last)
            } else {
                cur
            };
        } else {
            first = second;
        }
        if sep == ';' {
            cur = first;
        }
        c.skip_blanks();
        second = match address(c, cur, buf, mem, marks, dialect)? {
            Some(b) => b,
            None if given == 0 && dialect == Dialect::Ed => last,
            None => first,
        };
        given = 2;
    }
    if first > last || second > last {
        return err("Invalid address");
    }
    Ok(Range {
        given,
        first,
        last: second,
    })
}

/// One address with its offsets, or None when there is none at the cursor.
pub fn address(
    c: &mut Cursor,
    cur: usize,
    buf: &Buffer,
    mem: &mut Memory,
    marks: &dyn Fn(char) -> Option<usize>,
    dialect: Dialect,
) -> Result<Option<usize>, Error> {
    let last = buf.last();
    let base: Option<isize> = match c.peek() {
        Some('.') => {
            c.bump();
            Some(cur as isize)
        }
        Some('$') => {
            c.bump();
            Some(last as isize)
        }
        Some(d) if d.is_ascii_digit() => c.number().map(|n| n.min(isize::MAX as usize) as isize),
        Some(delim @ ('/' | '?')) => {
            c.bump();
            let (pat, _) = c.delimited(delim);
            let re = mem.regex(&pat, dialect)?;
            Some(search(buf, cur, &re, delim == '/')? as isize)
        }
        Some('\'') => {
            c.bump();
            let m = c
                .bump()
                .ok_or_else(|| Error("Invalid mark character".into()))?;
            Some(marks(m).ok_or_else(|| Error("Invalid address".into()))? as isize)
        }
        _ => None,
    };
    let mut value = base;
    loop {
        let sign: isize = match c.peek() {
            Some('+') => 1,
            Some('-') => -1,
            // ed reads `2 3` and `.5` as sums: a number after an address adds.
            Some(d) if d.is_ascii_digit() && value.is_some() && dialect == Dialect::Ed => {
                let n = c.number().unwrap_or(0) as isize;
                value = value.map(|v| v.saturating_add(n));
                continue;
            }
            Some(' ' | '\t') if value.is_some() && dialect == Dialect::Ed => {
                // Blanks between an address and an offset.
                let save = c.pos;
                c.skip_blanks();
                if matches!(c.peek(), Some('+' | '-' | '^' | '0'..='9')) {
                    continue;
                }
                c.pos = save;
                break;
            }
            _ => break,
        };
        c.bump();
        let n = c
            .number()
            .map_or(1, |n| n.min(isize::MAX as usize) as isize);
        value = Some(
            value
                .unwrap_or(cur as isize)
                .saturating_add(sign.saturating_mul(n)),
        );
    }
    match value {
        None => Ok(None),
        Some(v) if v < 0 || v as usize > last => err("Invalid address"),
        Some(v) => Ok(Some(v as usize)),
    }
}

/// The next line after `cur` (wrapping) matching `re`, or before it when not
/// `forward`; `cur` itself comes last.
pub fn search(buf: &Buffer, cur: usize, re: &Regex, forward: bool) -> Result<usize, Error> {
    let n = buf.last();
    for i in 1..=n {
        let line = if forward {
            (cur + i - 1) % n + 1
        } else {
            (cur as isize - i as isize - 1).rem_euclid(n as isize) as usize + 1
        };
        if re.is_match(buf.line(line)) {
            return Ok(line);
        }
    }
    err(if n == 0 {
        "Invalid address"
    } else {
        "No match"
    })
}

/// Expands the replacement `repl` for one match: `&` (and vim's `\0`) is the
/// match, `\1`-`\9` the groups, `\&` a `&`; `\n` stands for a line break in the
/// result (ed's escaped newline, vim's `\r`); vim's `\u \l \U \L \E \e` change case.
pub fn expand(repl: &str, caps: &regex::Captures, dialect: Dialect, out: &mut String) {
    #[derive(PartialEq)]
    enum Case {
        Keep,
        Upper,
        Lower,
    }
    let mut case = Case::Keep;
    let mut one: Option<bool> = None;
    let push = |s: &str, case: &Case, one: &mut Option<bool>, out: &mut String| {
        for ch in s.chars() {
            let ch: String = match (one.take(), case) {
                (Some(true), _) => ch.to_uppercase().collect(),
                (Some(false), _) => ch.to_lowercase().collect(),
                (None, Case::Upper) => ch.to_uppercase().collect(),
                (None, Case::Lower) => ch.to_lowercase().collect(),
                (None, Case::Keep) => ch.to_string(),
            };
            out.push_str(&ch);
        }
    };
    let mut chars = repl.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '&' => push(&caps[0], &case, &mut one, out),
            '\\' => match chars.next() {
                Some(d @ '0'..='9') => {
                    let g = d as usize - '0' as usize;
                    if let Some(m) = caps.get(g) {
                        push(m.as_str(), &case, &mut one, out);
                    }
                }
                Some('\n') => out.push('\n'),
                Some('r') if dialect == Dialect::Vim => out.push('\n'),
                Some('n') if dialect == Dialect::Vim => out.push('\0'),
                Some('t') if dialect == Dialect::Vim => out.push('\t'),
                Some('u') if dialect == Dialect::Vim => one = Some(true),
                Some('l') if dialect == Dialect::Vim => one = Some(false),
                Some('U') if dialect == Dialect::Vim => case = Case::Upper,
                Some('L') if dialect == Dialect::Vim => case = Case::Lower,
                Some('E' | 'e') if dialect == Dialect::Vim => case = Case::Keep,
                Some(x) => push(&x.to_string(), &case, &mut one, out),
                None => out.push('\\'),
            },
            _ => push(&ch.to_string(), &case, &mut one, out),
        }
    }
}

/// `line` with the `nth` match of `re` (every one from the nth on with
/// `global`) replaced by `repl`; None when nothing was replaced.
pub fn substitute(
    line: &str,
    re: &Regex,
    repl: &str,
    global: bool,
    nth: usize,
    dialect: Dialect,
) -> Option<String> {
    let mut out = String::new();
    let mut at = 0;
    let mut count = 0;
    let mut done = false;
    for caps in re.captures_iter(line) {
        let m = caps.get(0).expect("group 0 is the match");
        count += 1;
        if count < nth {
            continue;
        }
        out.push_str(&line[at..m.start()]);
        expand(repl, &caps, dialect, &mut out);
        at = m.end();
        done = true;
        if !global {
            break;
        }
    }
    if !done {
        return None;
    }
    out.push_str(&line[at..]);
    Some(out)
}

/// Text of a replacement with ed's `%` (alone: the previous one) or vim's `~`
/// (the previous one, anywhere) resolved.
pub fn resolve_repl(repl: &str, mem: &Memory, dialect: Dialect) -> Result<String, Error> {
    match dialect {
        Dialect::Ed if repl == "%" => mem
            .last_repl
            .clone()
            .ok_or_else(|| Error("No previous substitution".into())),
        Dialect::Ed => Ok(repl.to_string()),
        Dialect::Vim => {
            let prev = mem.last_repl.clone().unwrap_or_default();
            let mut out = String::new();
            let mut chars = repl.chars();
            while let Some(ch) = chars.next() {
                match ch {
                    '~' => out.push_str(&prev),
                    '\\' => {
                        out.push('\\');
                        if let Some(n) = chars.next() {
                            out.push(n);
                        }
                    }
                    _ => out.push(ch),
                }
            }
            Ok(out)
        }
    }
}

/// Moves lines `first..=last` to after line `dest` (0: to the top); returns the
/// new number of the last moved line. `dest` must lie outside the range.
pub fn move_lines(
    buf: &mut Buffer,
    first: usize,
    last: usize,
    dest: usize,
) -> Result<usize, Error> {
    if dest >= first && dest < last {
        return err("Invalid destination");
    }
    if dest >= first && dest <= last {
        // After itself: nothing moves.
        return Ok(last);
    }
    let moved: Vec<String> = buf.lines[first - 1..last].to_vec();
    let marks: Vec<bool> = buf.marked[first - 1..last].to_vec();
    let n = moved.len();
    buf.splice(first - 1, last, Vec::new());
    let at = if dest > last { dest - n } else { dest };
    buf.splice(at, at, moved);
    // Moved lines keep their global marks.
    buf.marked.splice(at..at + n, marks);
    Ok(at + n)
}

/// Copies lines `first..=last` to after line `dest`; returns the last copy's number.
pub fn copy_lines(buf: &mut Buffer, first: usize, last: usize, dest: usize) -> usize {
    let copied: Vec<String> = buf.lines[first - 1..last].to_vec();
    let n = copied.len();
    buf.splice(dest, dest, copied);
    dest + n
}

/// ed's `l` form of a line: escapes for control bytes and `\`, octal for the
/// rest unprintable, `$` at the end, folded with `\` before `width` columns.
pub fn escaped(line: &str, width: usize) -> String {
    let mut pieces: Vec<String> = Vec::new();
    for b in line.bytes() {
        pieces.push(match b {
            b'\\' => "\\\\".into(),
            0x07 => "\\a".into(),
            0x08 => "\\b".into(),
            0x0c => "\\f".into(),
            b'\r' => "\\r".into(),
            b'\t' => "\\t".into(),
            0x0b => "\\v".into(),
            b' '..=b'~' => (b as char).to_string(),
            _ => format!("\\{b:03o}"),
        });
    }
    let mut out = String::new();
    let mut col = 0;
    for p in pieces {
        if col + p.len() > width {
            out.push_str("\\\n");
            col = 0;
        }
        col += p.len();
        out.push_str(&p);
    }
    out.push('$');
    out
}
