//! ed: the POSIX line editor, as GNU ed 1.19 behaves for scripts. Commands come
//! from standard input; an error prints `?` (on standard output, as GNU ed) and,
//! when the script is a regular file, ends ed with status 1.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, BufRead, Write};

use super::edit::{
    self, Buffer, Cursor, Dialect, Error, Memory, Range, copy_lines, err, move_lines, parse_range,
};
use super::{start, strerror};

const HELP: &str = "Usage: ed [-s] [-p PROMPT] [FILE]
Edit FILE (or an empty buffer) with commands read from standard input.

  -s, --quiet, --silent  no byte counts, no `!` prompts
  -p, --prompt=PROMPT    show PROMPT before each command
      --help             display this help and exit

Commands (addresses as in POSIX ed: . $ N 'x /RE/ ?RE? +N -N , ;):
  (.)a (.)i (.,.)c  text follows, ended by a line holding `.`
  (.,.)d (.,.)p (.,.)n (.,.)l  delete, print, print numbered, print unambiguously
  (.,.)s/RE/REPLACEMENT/[g N p l n]   substitute (`s` alone repeats it)
  (1,$)g/RE/CMD  (1,$)v/RE/CMD  run CMD on the lines that match (don't match)
  (.,.)m(.) (.,.)t(.) (.,.+1)j ($)=  move, copy, join, print line number
  e FILE  E FILE  f FILE  ($)r FILE  (1,$)w FILE  (1,$)W FILE  wq
  (.)k x  mark    u  undo    q  Q  quit    h H  explain the last error   P  prompt
Regular expressions are POSIX basic ones.
Exit status: 0, 1 after an error, 2 when the buffer was left modified at the end.
";

/// What the command line asked for.
struct Opts {
    silent: bool,
    prompt: Option<String>,
    file: Option<String>,
}

fn parse(a: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        silent: false,
        prompt: None,
        file: None,
    };
    let mut it = a.iter();
    let mut only_files = false;
    while let Some(arg) = it.next() {
        match arg.as_str() {
            s if only_files || !s.starts_with('-') || s == "-" => {
                // GNU ed edits the first file named and ignores the rest.
                if o.file.is_none() {
                    o.file = Some(s.to_string());
                }
            }
            "--" => only_files = true,
            "-s" | "--quiet" | "--silent" => o.silent = true,
            "-p" => {
                o.prompt = Some(
                    it.next()
                        .ok_or("ed: option requires an argument -- 'p'")?
                        .clone(),
                )
            }
            s if s.starts_with("--prompt=") => o.prompt = Some(s[9..].to_string()),
            s if s.starts_with("-p") => o.prompt = Some(s[2..].to_string()),
            s => {
                return Err(format!(
                    "ed: invalid option -- '{}'\nTry 'ed --help' for more information.",
                    s.trim_start_matches('-')
                ));
            }
        }
    }
    Ok(o)
}

/// What a command tells the loop.
enum Flow {
    Go,
    Quit,
}

/// The editor's whole state.
struct Ed {
    buf: Buffer,
    mem: Memory,
    name: Option<String>,
    modified: bool,
    /// A `q`/`e` was refused for unsaved changes (the next one goes ahead).
    warned: bool,
    silent: bool,
    marks: HashMap<char, usize>,
    undo: Option<(Buffer, bool)>,
    last_error: Option<String>,
    verbose: bool,
    /// A global command is running its command list.
    in_global: bool,
    prompt: Option<String>,
    prompt_on: bool,
    out: io::StdoutLock<'static>,
}

/// Text up to the end of a command, the file name of e/r/w (blanks skipped).
fn file_arg(c: &mut Cursor) -> Option<String> {
    c.skip_blanks();
    let rest = c.rest();
    c.pos = c.s.len();
    (!rest.is_empty()).then(|| rest.to_string())
}

/// The print flags after a command (`p`, `l`, `n`); anything else is an error.
fn suffix(c: &mut Cursor) -> Result<Option<char>, Error> {
    let mut mode = None;
    while let Some(ch) = c.bump() {
        match ch {
            'p' | 'l' | 'n' => mode = Some(ch),
            _ => return err("Invalid command suffix"),
        }
    }
    Ok(mode)
}

impl Ed {
    fn lines_of_file(&mut self, name: &str) -> Result<(Vec<String>, usize), Error> {
        match std::fs::read(name) {
            Ok(bytes) => {
                let (lines, missing) = edit::split_lines(&bytes);
                if missing {
                    // GNU ed says so on standard output, -s or not.
                    let _ = writeln!(self.out, "Newline appended");
                }
                Ok((lines, bytes.len() + usize::from(missing)))
            }
            Err(e) => {
                eprintln!("{name}: {}", strerror(&e));
                err("Cannot open input file")
            }
        }
    }

    fn count(&mut self, n: usize) {
        if !self.silent {
            let _ = writeln!(self.out, "{n}");
        }
    }

    fn print(&mut self, first: usize, last: usize, mode: char) -> Result<(), Error> {
        if first == 0 || last < first {
            return err("Invalid address");
        }
        for n in first..=last {
            let line = self.buf.line(n);
            let text = match mode {
                'n' => format!("{n}\t{line}"),
                'l' => edit::escaped(line, 72),
                _ => line.to_string(),
            };
            let _ = writeln!(self.out, "{text}");
        }
        self.buf.cur = last;
        Ok(())
    }

    fn save_undo(&mut self) {
        // A global command is undone whole: its snapshot is taken before it.
        if !self.in_global {
            self.undo = Some((self.buf.clone(), self.modified));
        }
    }

    fn write(&mut self, r: Range, c: &mut Cursor, append: bool) -> Result<Flow, Error> {
        let quit = c.eat('q');
        let name = match file_arg(c).or_else(|| self.name.clone()) {
            Some(n) => n,
            None => return err("No current filename"),
        };
        if name.starts_with('!') {
            return err("Shell commands are not available");
        }
        if self.name.is_none() {
            self.name = Some(name.clone());
        }
        let (first, last) = if r.given == 0 {
            (1, self.buf.last())
        } else {
            (r.first, r.last)
        };
        if r.given > 0 && first == 0 {
            return err("Invalid address");
        }
        let bytes = if self.buf.last() == 0 {
            Vec::new()
        } else {
            edit::join_lines(&self.buf.lines[first - 1..last])
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true);
        if append {
            opts.append(true);
        } else {
            opts.write(true).truncate(true);
        }
        let r2 = opts.open(&name).and_then(|mut f| f.write_all(&bytes));
        if let Err(e) = r2 {
            eprintln!("{name}: {}", strerror(&e));
            return err("Cannot open output file");
        }
        if first <= 1 && last == self.buf.last() {
            self.modified = false;
        }
        self.count(bytes.len());
        Ok(if quit { Flow::Quit } else { Flow::Go })
    }

    fn substitute(
        &mut self,
        r: Range,
        c: &mut Cursor,
        in_global: bool,
    ) -> Result<Option<char>, Error> {
        let (re, repl, flags) = match c.peek() {
            Some(d) if d != ' ' && d != '\n' && !"gpnlr0123456789".contains(d) => {
                c.bump();
                let (pat, _) = c.delimited(d);
                let re = self.mem.regex(&pat, Dialect::Ed)?;
                let (repl, closed) = c.delimited(d);
                let repl = edit::resolve_repl(&repl, &self.mem, Dialect::Ed)?;
                // Without its closing delimiter, the replacement prints (POSIX).
                let flags = if closed {
                    c.rest().to_string()
                } else {
                    "p".into()
                };
                c.pos = c.s.len();
                (re, repl, flags)
            }
            _ => {
                // `s` alone repeats the last substitution (with new flags).
                let (re, repl, old) = self
                    .mem
                    .last_sub
                    .clone()
                    .ok_or_else(|| Error("No previous substitution".into()))?;
                // The last flags again, unless new ones are given.
                let flags = match c.rest() {
                    "" => old,
                    new => new.to_string(),
                };
                c.pos = c.s.len();
                (re, repl, flags)
            }
        };
        self.mem.last_repl = Some(repl.clone());
        self.mem.last_sub = Some((re.clone(), repl.clone(), flags.clone()));
        let mut global = false;
        let mut nth = 1;
        let mut mode = None;
        let mut fc = Cursor::new(&flags);
        while let Some(f) = fc.peek() {
            match f {
                'g' => {
                    fc.bump();
                    global = true;
                }
                'p' | 'l' | 'n' => {
                    fc.bump();
                    mode = Some(f);
                }
                '0'..='9' => nth = fc.number().unwrap_or(1).max(1),
                _ => return err("Invalid command suffix"),
            }
        }
        if r.first == 0 {
            return err("Invalid address");
        }
        let mut changed = false;
        let mut n = r.first;
        let mut end = r.last;
        while n <= end {
            if let Some(new) =
                edit::substitute(self.buf.line(n), &re, &repl, global, nth, Dialect::Ed)
            {
                if !changed && !in_global {
                    self.save_undo();
                }
                changed = true;
                let k = self.buf.replace_line(n, &new);
                n += k;
                end += k - 1;
            } else {
                n += 1;
            }
        }
        if !changed && !in_global {
            return err("No match");
        }
        if changed {
            self.modified = true;
        }
        Ok(mode)
    }

    fn global(&mut self, r: Range, c: &mut Cursor, invert: bool) -> Result<(), Error> {
        let delim = match c.bump() {
            Some(d) if d != ' ' && d != '\n' => d,
            _ => return err("Invalid pattern delimiter"),
        };
        let (pat, _) = c.delimited(delim);
        let re = self.mem.regex(&pat, Dialect::Ed)?;
        let cmd = c.rest().to_string();
        c.pos = c.s.len();
        let (first, last) = if r.given == 0 {
            (1, self.buf.last())
        } else {
            (r.first, r.last)
        };
        if first == 0 && self.buf.last() > 0 {
            return err("Invalid address");
        }
        self.save_undo();
        self.buf.marked.iter_mut().for_each(|m| *m = false);
        for n in first.max(1)..=last {
            self.buf.marked[n - 1] = re.is_match(self.buf.line(n)) != invert;
        }
        let cmd = if cmd.trim().is_empty() {
            "p".to_string()
        } else {
            cmd
        };
        let mut hint = 0;
        self.in_global = true;
        let mut result = Ok(());
        while let Some(n) = self.buf.take_mark(hint) {
            hint = n - 1;
            self.buf.cur = n;
            let mut empty = io::empty();
            if let Err(e) = self.exec(&cmd, &mut empty, true) {
                self.buf.marked.iter_mut().for_each(|m| *m = false);
                result = Err(e);
                break;
            }
        }
        self.in_global = false;
        result
    }

    /// Runs one command line; text for a/i/c comes from `input`.
    fn exec(
        &mut self,
        line: &str,
        input: &mut dyn BufRead,
        in_global: bool,
    ) -> Result<Flow, Error> {
        let mut c = Cursor::new(line);
        let marks = self.marks.clone();
        let r = parse_range(
            &mut c,
            &self.buf,
            &mut self.mem,
            &|m| marks.get(&m).copied(),
            Dialect::Ed,
        )?;
        c.skip_blanks();
        let cmd = c.bump();
        let cur = self.buf.cur;
        let last = self.buf.last();
        let (first, end) = (r.first, r.last);
        let nonzero = |a: usize| {
            if a == 0 {
                err("Invalid address")
            } else {
                Ok(a)
            }
        };
        if !matches!(cmd, Some('q' | 'Q' | 'e' | 'E')) {
            self.warned = false;
        }
        let mut print_mode: Option<char> = None;
        match cmd {
            None => {
                let n = if r.given > 0 { end } else { cur + 1 };
                if n == 0 || n > last {
                    return err("Invalid address");
                }
                print_mode = Some('p');
                self.buf.cur = n;
            }
            Some(ch @ ('a' | 'i' | 'c')) => {
                print_mode = suffix(&mut c)?;
                if ch == 'c' {
                    nonzero(first)?;
                }
                let text = if in_global {
                    Vec::new()
                } else {
                    super::edit::text_lines(input)
                };
                self.save_undo();
                let k = text.len();
                let at = match ch {
                    'a' => end,
                    'i' => end.max(1) - 1,
                    _ => first - 1,
                };
                let removed = if ch == 'c' { end - first + 1 } else { 0 };
                self.buf.splice(at, at + removed, text);
                if k > 0 || removed > 0 {
                    self.modified = true;
                }
                self.buf.cur = if k > 0 {
                    at + k
                } else if ch == 'c' {
                    at.max(1).min(self.buf.last())
                } else {
                    end.min(self.buf.last())
                };
            }
            Some('d') => {
                print_mode = suffix(&mut c)?;
                nonzero(first)?;
                self.save_undo();
                self.buf.splice(first - 1, end, Vec::new());
                self.modified = true;
                self.buf.cur = if first <= self.buf.last() {
                    first
                } else {
                    self.buf.last()
                };
            }
            Some(m @ ('p' | 'n' | 'l')) => {
                let extra = suffix(&mut c)?;
                self.print(nonzero(first)?, end, m)?;
                if let Some(e) = extra.filter(|&e| e != m) {
                    self.print(end, end, e)?;
                }
            }
            Some('s') => print_mode = self.substitute(r, &mut c, in_global)?,
            Some(g @ ('g' | 'v')) => {
                if in_global {
                    return err("Cannot nest global commands");
                }
                self.global(r, &mut c, g == 'v')?;
            }
            Some(ch @ ('m' | 't')) => {
                let marks = self.marks.clone();
                let dest = edit::address(
                    &mut c,
                    cur,
                    &self.buf,
                    &mut self.mem,
                    &|m| marks.get(&m).copied(),
                    Dialect::Ed,
                )?
                .unwrap_or(cur);
                print_mode = suffix(&mut c)?;
                nonzero(first)?;
                self.save_undo();
                self.buf.cur = if ch == 'm' {
                    move_lines(&mut self.buf, first, end, dest)?
                } else {
                    copy_lines(&mut self.buf, first, end, dest)
                };
                self.modified = true;
            }
            Some('j') => {
                print_mode = suffix(&mut c)?;
                let (a, b) = if r.given < 2 {
                    (first, first + 1)
                } else {
                    (first, end)
                };
                nonzero(a)?;
                if b > last {
                    return err("Invalid address");
                }
                if r.given == 1 {
                    // One address: nothing to join (and nothing left to undo, as GNU ed).
                    self.undo = None;
                } else if a < b {
                    self.save_undo();
                    let joined: String = self.buf.lines[a - 1..b].concat();
                    self.buf.splice(a - 1, b, vec![joined]);
                    self.modified = true;
                    self.buf.cur = a;
                }
            }
            Some('=') => {
                print_mode = suffix(&mut c)?;
                let n = if r.given == 0 { last } else { end };
                let _ = writeln!(self.out, "{n}");
            }
            Some(ch @ ('e' | 'E')) => {
                if r.given > 0 {
                    return err("Unexpected address");
                }
                if ch == 'e' && self.modified && !self.warned {
                    self.warned = true;
                    return err("Warning: buffer modified");
                }
                let name = file_arg(&mut c).or_else(|| self.name.clone());
                let Some(name) = name else {
                    return err("No current filename");
                };
                self.name = Some(name.clone());
                let (lines, bytes) = self.lines_of_file(&name)?;
                self.buf = Buffer::new(lines);
                self.modified = false;
                self.undo = None;
                self.count(bytes);
            }
            Some('f') => {
                if r.given > 0 {
                    return err("Unexpected address");
                }
                if let Some(n) = file_arg(&mut c) {
                    self.name = Some(n);
                }
                let name = self
                    .name
                    .clone()
                    .ok_or_else(|| Error("No current filename".into()))?;
                let _ = writeln!(self.out, "{name}");
            }
            Some('r') => {
                let name = file_arg(&mut c).or_else(|| self.name.clone());
                let Some(name) = name else {
                    return err("No current filename");
                };
                let at = if r.given == 0 { last } else { end };
                let (lines, bytes) = self.lines_of_file(&name)?;
                if self.name.is_none() {
                    self.name = Some(name);
                }
                let k = lines.len();
                self.save_undo();
                self.buf.splice(at, at, lines);
                if k > 0 {
                    self.modified = true;
                    self.buf.cur = at + k;
                }
                self.count(bytes);
            }
            Some(ch @ ('w' | 'W')) => return self.write(r, &mut c, ch == 'W'),
            Some(ch @ ('q' | 'Q')) => {
                if r.given > 0 {
                    return err("Unexpected address");
                }
                if !c.rest().trim().is_empty() {
                    return err("Invalid command suffix");
                }
                if ch == 'q' && self.modified && !self.warned {
                    self.warned = true;
                    return err("Warning: buffer modified");
                }
                return Ok(Flow::Quit);
            }
            Some('u') => {
                print_mode = suffix(&mut c)?;
                let Some((b, m)) = self.undo.take() else {
                    return err("Nothing to undo");
                };
                self.undo = Some((std::mem::replace(&mut self.buf, b), self.modified));
                self.modified = m;
            }
            Some('k') => {
                let m = c.bump().filter(char::is_ascii_lowercase);
                let Some(m) = m else {
                    return err("Invalid mark character");
                };
                self.marks.insert(m, nonzero(end)?);
            }
            Some('h') => {
                if let Some(e) = &self.last_error {
                    let _ = writeln!(self.out, "{e}");
                }
            }
            Some('H') => {
                self.verbose = !self.verbose;
                if let (true, Some(e)) = (self.verbose, &self.last_error) {
                    let _ = writeln!(self.out, "{e}");
                }
            }
            Some('P') => self.prompt_on = !self.prompt_on,
            Some('!') => return err("Shell commands are not available"),
            Some(_) => return err("Unknown command"),
        }
        if let Some(m) = print_mode {
            let n = self.buf.cur;
            self.print(n, n, m)?;
        }
        Ok(Flow::Go)
    }
}

/// Runs ed.
pub fn main(argv: Vec<OsString>) -> i32 {
    let o = match start(argv, HELP, parse, 1) {
        Ok(o) => o,
        Err(status) => return status,
    };
    let mut ed = Ed {
        buf: Buffer::default(),
        mem: Memory::default(),
        name: o.file.clone(),
        modified: false,
        warned: false,
        silent: o.silent,
        marks: HashMap::new(),
        undo: None,
        last_error: None,
        verbose: false,
        in_global: false,
        prompt_on: o.prompt.is_some(),
        prompt: o.prompt,
        out: io::stdout().lock(),
    };
    let mut status = 0;
    if let Some(f) = &o.file {
        match ed.lines_of_file(f) {
            Ok((lines, bytes)) => {
                ed.buf = Buffer::new(lines);
                ed.count(bytes);
            }
            // A file that is not there yet is a new one, not an error.
            Err(_) if !std::path::Path::new(f).exists() => ed.buf = Buffer::default(),
            Err(_) => status = 1,
        }
    }
    // A script in a regular file ends at its first error (as GNU ed does).
    let script_file =
        crate::wsh::fstat(0).is_ok_and(|s| s.mode & crate::wsh::S_IFMT == crate::wsh::S_IFREG);
    let mut input = io::stdin().lock();
    let mut line = String::new();
    loop {
        if ed.prompt_on {
            let _ = write!(ed.out, "{}", ed.prompt.as_deref().unwrap_or("*"));
        }
        let _ = ed.out.flush();
        line.clear();
        if input.read_line(&mut line).unwrap_or(0) == 0 {
            if ed.modified && !ed.warned {
                let _ = writeln!(ed.out, "?");
                let _ = ed.out.flush();
                return 2;
            }
            break;
        }
        let cmd = line.strip_suffix('\n').unwrap_or(&line).to_string();
        match ed.exec(&cmd, &mut input, false) {
            Ok(Flow::Go) => {}
            Ok(Flow::Quit) => break,
            Err(Error(msg)) => {
                let _ = writeln!(ed.out, "?");
                if ed.verbose {
                    let _ = writeln!(ed.out, "{msg}");
                }
                ed.last_error = Some(msg);
                status = 1;
                if script_file {
                    break;
                }
            }
        }
    }
    let _ = ed.out.flush();
    status
}
