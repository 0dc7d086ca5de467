//! vi's ex commands: the `:` command line and `vi -es` scripts, as vim runs them.

use std::io::BufRead;

use super::{Editor, Register, TextKeys, normal};
use crate::applets::edit::{self, Cursor, Dialect, Error, Range, err};

/// The commands known, with the shortest abbreviation vim accepts.
const COMMANDS: &[(&str, usize)] = &[
    ("append", 1),
    ("change", 1),
    ("copy", 2),
    ("delete", 1),
    ("edit", 1),
    ("file", 1),
    ("global", 1),
    ("insert", 1),
    ("join", 1),
    ("list", 1),
    ("move", 1),
    ("mark", 2),
    ("normal", 4),
    ("number", 2),
    ("print", 1),
    ("put", 2),
    ("quit", 1),
    ("qall", 2),
    ("read", 1),
    ("redo", 3),
    ("substitute", 1),
    ("sort", 3),
    ("t", 1),
    ("undo", 1),
    ("vglobal", 1),
    ("write", 1),
    ("wq", 2),
    ("wqall", 3),
    ("xit", 1),
    ("xall", 2),
    ("yank", 1),
];

/// Runs one command line (several when joined by `|`); failures are reported
/// on the editor. `input` holds the text of `:a`, `:i` and `:c` in a script.
pub fn run(ed: &mut Editor, line: &str, input: Option<&mut dyn BufRead>) {
    ed.unit_open = false;
    if let Err(Error(msg)) = exec(ed, line, input) {
        ed.error(&msg);
    }
}

/// Text up to an unescaped `|` (the next command), which is taken.
fn argument(c: &mut Cursor) -> (String, Option<String>) {
    let mut out = String::new();
    while let Some(ch) = c.bump() {
        match ch {
            '\\' if c.peek() == Some('|') => {
                c.bump();
                out.push('|');
            }
            '|' => return (out.trim().to_string(), Some(c.rest().to_string())),
            _ => out.push(ch),
        }
    }
    (out.trim().to_string(), None)
}

/// vim's message for an address parse error.
fn range_error(e: Error) -> Error {
    match e.0.as_str() {
        "Invalid address" => Error("E16: Invalid range".into()),
        "No match" => Error("E486: Pattern not found".into()),
        _ => e,
    }
}

fn exec(ed: &mut Editor, line: &str, input: Option<&mut dyn BufRead>) -> Result<(), Error> {
    let mut c = Cursor::new(line);
    while matches!(c.peek(), Some(':' | ' ' | '\t')) {
        c.bump();
    }
    if c.peek() == Some('"') || c.rest().is_empty() {
        return Ok(());
    }
    let marks = ed.marks.clone();
    let mut r = edit::parse_range(
        &mut c,
        &ed.buf,
        &mut ed.mem,
        &|m| marks.get(&m).copied(),
        Dialect::Vim,
    )
    .map_err(range_error)?;
    if r.first > r.last {
        std::mem::swap(&mut r.first, &mut r.last);
    }
    c.skip_blanks();
    let word: String = c
        .rest()
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect();
    let name = if word.is_empty() {
        match c.peek() {
            Some(ch @ ('&' | '=' | '#')) => {
                c.bump();
                ch.to_string()
            }
            Some('|') | None => String::new(),
            Some(_) => return err(&format!("E492: Not an editor command: {}", line.trim())),
        }
    } else {
        // `s` and `g` take any delimiter right after them: `s#a#b#`, `g/x/d`.
        let short = ["s", "g", "v"].into_iter().find(|s| {
            word.starts_with(s)
                && !COMMANDS
                    .iter()
                    .any(|(n, m)| n.starts_with(&word) && word.len() >= *m)
        });
        let taken = short.map_or(word.len(), str::len);
        c.pos += taken;
        let w = &word[..taken];
        match COMMANDS
            .iter()
            .find(|(n, m)| n.starts_with(w) && w.len() >= *m)
        {
            Some((n, _)) => n.to_string(),
            None => return err(&format!("E492: Not an editor command: {}", line.trim())),
        }
    };
    let bang = c.eat('!');
    if !matches!(name.as_str(), "global" | "vglobal" | "substitute" | "&")
        && !zero_ok(&name)
        && r.first == 0
    {
        r.first = 1;
        r.last = r.last.max(1);
    }
    match name.as_str() {
        "global" | "vglobal" => return global(ed, r, &mut c, bang || name == "vglobal"),
        "normal" => {
            let keys = c.rest().trim_start().to_string();
            return normal_cmd(ed, r, &keys);
        }
        _ => {}
    }
    let (arg, next) = if matches!(name.as_str(), "substitute" | "&") {
        substitute(ed, r, &mut c, name == "&")?;
        argument(&mut c)
    } else {
        argument(&mut c)
    };
    command(ed, &name, bang, r, &arg, input)?;
    match next {
        Some(rest) if !ed.quit => exec(ed, &rest, None),
        _ => Ok(()),
    }
}

/// Commands for which line 0 means "before the first line".
fn zero_ok(name: &str) -> bool {
    matches!(
        name,
        "put" | "read" | "append" | "insert" | "copy" | "t" | "move" | ""
    )
}

/// Lines of a printing command, in vim's `:print`/`:number`/`:list` forms.
fn print(ed: &mut Editor, r: Range, form: &str) {
    for n in r.first..=r.last {
        let line = ed.buf.line(n).to_string();
        let text = match form {
            "number" => format!("{n:>7} {line}"),
            "list" => edit::escaped(&line, usize::MAX),
            // vim's ex mode prints an empty line as one blank.
            _ if line.is_empty() && ed.batch => " ".into(),
            _ => line,
        };
        ed.emit(text);
    }
    ed.buf.cur = r.last;
}

fn command(
    ed: &mut Editor,
    name: &str,
    bang: bool,
    r: Range,
    arg: &str,
    input: Option<&mut dyn BufRead>,
) -> Result<(), Error> {
    let (first, last) = (r.first, r.last);
    match name {
        "" => {
            if r.given > 0 {
                ed.buf.cur = last.max(1);
                ed.col = ed.first_nonblank(ed.buf.cur);
            }
        }
        "substitute" | "&" => {}
        "print" | "number" | "list" | "#" => {
            if ed.no_lines {
                return err("E749: Empty buffer");
            }
            let form = if name == "#" { "number" } else { name };
            print(ed, r, form);
        }
        "=" => {
            let n = if r.given == 0 { ed.buf.last() } else { last };
            if !ed.batch {
                ed.message = Some(n.to_string());
            }
        }
        "delete" | "yank" => {
            let (first, last) = count_range(r, arg, ed.buf.last())?;
            ed.reg = Register {
                text: ed.buf.lines[first - 1..last].to_vec(),
                linewise: true,
            };
            if name == "delete" {
                ed.delete_lines(first, last);
                ed.col = ed.first_nonblank(ed.buf.cur);
            }
        }
        "put" => {
            let text = match arg.strip_prefix('=') {
                Some(expr) => string_literal(expr)?,
                None => ed.reg.text.clone(),
            };
            // In vim -es an empty buffer's cursor is on "line 0".
            let at = if bang || (ed.batch && ed.no_lines) {
                last.saturating_sub(1)
            } else {
                last
            };
            let k = text.len();
            ed.change();
            ed.buf.splice(at, at, text);
            ed.buf.cur = at + k.max(1);
            ed.col = ed.first_nonblank(ed.buf.cur);
        }
        "move" | "copy" | "t" => {
            let marks = ed.marks.clone();
            let mut dc = Cursor::new(arg);
            let dest = edit::address(
                &mut dc,
                ed.buf.cur,
                &ed.buf,
                &mut ed.mem,
                &|m| marks.get(&m).copied(),
                Dialect::Vim,
            )
            .map_err(range_error)?
            .ok_or_else(|| Error("E14: Invalid address".into()))?;
            ed.change();
            ed.buf.cur = if name == "move" {
                edit::move_lines(&mut ed.buf, first, last, dest)
                    .map_err(|_| Error("E134: Cannot move a range of lines into itself".into()))?
            } else {
                edit::copy_lines(&mut ed.buf, first, last, dest)
            };
        }
        "join" => {
            let (a, b) = if r.given < 2 {
                (first, first + 1)
            } else {
                (first, last)
            };
            let b = b.min(ed.buf.last());
            if a < b {
                join(ed, a, b, !bang, ed.batch);
            }
        }
        "write" | "wq" | "xit" | "wqall" | "xall" => {
            let whole = r.given == 0;
            let (first, last) = if whole {
                (1, ed.buf.last())
            } else {
                (first, last)
            };
            let skip = matches!(name, "xit" | "xall") && !ed.modified && arg.is_empty();
            if !skip {
                write(ed, first, last, whole, arg, bang)?;
            }
            if name != "write" {
                ed.quit = true;
            }
        }
        "quit" | "qall" => {
            if ed.modified && !bang {
                return err("E37: No write since last change (add ! to override)");
            }
            ed.quit = true;
        }
        "edit" => {
            if ed.modified && !bang {
                return err("E37: No write since last change (add ! to override)");
            }
            let name = if arg.is_empty() {
                ed.name.clone()
            } else {
                Some(arg.to_string())
            };
            let Some(name) = name else {
                return err("E32: No file name");
            };
            match ed.load(&name) {
                Ok(m) | Err(m) => {
                    if !ed.batch {
                        ed.message = Some(m);
                    }
                }
            }
        }
        "read" => {
            let name = if arg.is_empty() {
                ed.name.clone()
            } else {
                Some(arg.to_string())
            };
            let Some(name) = name else {
                return err("E32: No file name");
            };
            let bytes =
                std::fs::read(&name).map_err(|_| Error(format!("E484: Can't open file {name}")))?;
            let (lines, _) = edit::split_lines(&bytes);
            let k = lines.len();
            let was_empty = ed.no_lines;
            ed.change();
            ed.buf.splice(last, last, lines);
            if was_empty && k > 0 {
                // Read into an empty buffer: vim keeps its empty first line.
            }
            ed.buf.cur = (last + k).max(1);
        }
        "file" => {
            if !arg.is_empty() {
                ed.name = Some(arg.to_string());
            }
            let n = ed.name.clone().unwrap_or_else(|| "[No Name]".into());
            let msg = format!("\"{n}\" {} lines", ed.buf.last());
            if !ed.batch {
                ed.message = Some(msg);
            }
        }
        "undo" | "redo" => ed.undo(name == "redo"),
        "mark" => {
            let m = arg.chars().next().filter(char::is_ascii_lowercase);
            let m = m.ok_or_else(|| {
                Error("E191: Argument must be a letter or forward/backward quote".into())
            })?;
            ed.marks.insert(m, last.max(1));
        }
        "sort" => sort(ed, r, bang, arg)?,
        "append" | "insert" | "change" => {
            let Some(input) = input else {
                return err(
                    "E492: :append, :insert and :change need text lines (a script on standard input)",
                );
            };
            let text = edit::text_lines(input);
            let k = text.len();
            let at = match name {
                "append" => last,
                "insert" => last.saturating_sub(1),
                _ => {
                    ed.delete_lines(first, last);
                    if ed.no_lines { 0 } else { first - 1 }
                }
            };
            if k > 0 {
                let replace_empty = ed.no_lines;
                ed.change();
                if replace_empty {
                    ed.buf.splice(0, 1, text);
                    ed.buf.cur = k;
                } else {
                    ed.buf.splice(at, at, text);
                    ed.buf.cur = at + k;
                }
            }
        }
        _ => return err(&format!("E492: Not an editor command: {name}")),
    }
    ed.clamp();
    Ok(())
}

/// `:d 3` and `:y 3`: a count after the command makes the range end there.
fn count_range(r: Range, arg: &str, last: usize) -> Result<(usize, usize), Error> {
    let arg = arg
        .trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == '"')
        .trim();
    if arg.is_empty() {
        return Ok((r.first, r.last));
    }
    let n: usize = arg
        .parse()
        .map_err(|_| Error("E488: Trailing characters".into()))?;
    if n == 0 {
        return err("E939: Positive count required");
    }
    Ok((r.last, (r.last + n - 1).min(last)))
}

/// The text of `:put ="..."` or `'...'`.
fn string_literal(expr: &str) -> Result<Vec<String>, Error> {
    let e = expr.trim();
    let inner = e
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| e.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .ok_or_else(|| {
            Error("E15: Invalid expression (only a quoted string is supported)".into())
        })?;
    Ok(inner.split("\\n").map(str::to_string).collect())
}

/// Joins lines `a..=b` into `a`, with spaces between as vim's `J` (two after a
/// sentence end when `two_after_period`, vim's compatible 'joinspaces').
pub fn join(ed: &mut Editor, a: usize, b: usize, spaces: bool, two_after_period: bool) {
    ed.change();
    let mut joined = ed.buf.line(a).to_string();
    let mut col = 0;
    for n in a + 1..=b {
        let next = ed.buf.line(n);
        let trimmed = if spaces {
            next.trim_start_matches([' ', '\t'])
        } else {
            next
        };
        col = joined.chars().count();
        if spaces && !trimmed.is_empty() && !trimmed.starts_with(')') && !joined.is_empty() {
            if joined.ends_with([' ', '\t']) {
                // vim adds nothing after trailing white space.
            } else if two_after_period && joined.ends_with(['.', '!', '?']) {
                joined.push_str("  ");
            } else {
                joined.push(' ');
            }
        }
        if spaces && !trimmed.is_empty() && joined.ends_with(' ') {
            col = joined.chars().count() - 1;
        }
        joined.push_str(trimmed);
    }
    ed.buf.splice(a - 1, b, vec![joined]);
    ed.buf.cur = a;
    ed.col = col;
}

fn write(
    ed: &mut Editor,
    first: usize,
    last: usize,
    whole: bool,
    arg: &str,
    _bang: bool,
) -> Result<(), Error> {
    let (append, file) = match arg.strip_prefix(">>") {
        Some(f) => (true, f.trim()),
        None => (false, arg),
    };
    let name = if file.is_empty() {
        ed.name.clone()
    } else {
        Some(file.to_string())
    };
    let Some(name) = name else {
        return err("E32: No file name");
    };
    if ed.name.is_none() {
        ed.name = Some(name.clone());
    }
    let bytes = ed.bytes(first, last);
    let existed = std::path::Path::new(&name).exists();
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true);
    if append {
        opts.append(true);
    } else {
        opts.write(true).truncate(true);
    }
    use std::io::Write;
    opts.open(&name)
        .and_then(|mut f| f.write_all(&bytes))
        .map_err(|_| Error(format!("\"{name}\" E212: Can't open file for writing")))?;
    if whole && Some(&name) == ed.name.as_ref() {
        ed.modified = false;
    }
    let lines = if ed.no_lines { 0 } else { last + 1 - first };
    let new = if existed { "" } else { "[New] " };
    if !ed.batch {
        ed.message = Some(format!(
            "\"{name}\" {new}{lines}L, {}B written",
            bytes.len()
        ));
    }
    Ok(())
}

/// `:s/RE/REP/FLAGS` (or `:&`, `:s` alone: the last one again).
fn substitute(ed: &mut Editor, r: Range, c: &mut Cursor, repeat: bool) -> Result<(), Error> {
    let (re, repl, flags) = match c.peek() {
        Some(d) if !repeat && !d.is_ascii_alphanumeric() && !matches!(d, ' ' | '"' | '|' | '&') => {
            c.bump();
            let (pat, _) = c.delimited(d);
            let re = ed
                .mem
                .regex(&pat, Dialect::Vim)
                .map_err(|_| Error(format!("E486: Pattern not found: {pat}")))?;
            let (repl, _) = c.delimited(d);
            let repl = edit::resolve_repl(&repl, &ed.mem, Dialect::Vim)?;
            ed.mem.last_repl = Some(repl.clone());
            (re, repl, flags(c))
        }
        _ => {
            let keep = c.eat('&');
            let (re, repl, old) = ed
                .mem
                .last_sub
                .clone()
                .ok_or_else(|| Error("E35: No previous regular expression".into()))?;
            let mut f = flags(c);
            if keep {
                f = old + &f;
            }
            (re, repl, f)
        }
    };
    ed.mem.last_sub = Some((re.clone(), repl.clone(), flags.clone()));
    let global = flags.contains('g');
    let re = if flags.contains('i') {
        regex::Regex::new(&format!("(?i){}", re.as_str())).unwrap_or(re)
    } else {
        re
    };
    let mut changed = false;
    let (mut n, mut end) = (r.first.max(1), r.last);
    while n <= end && n <= ed.buf.last() {
        match edit::substitute(ed.buf.line(n), &re, &repl, global, 1, Dialect::Vim) {
            Some(new) => {
                ed.change();
                changed = true;
                let k = ed.buf.replace_line(n, &new);
                n += k;
                end += k - 1;
            }
            None => n += 1,
        }
    }
    if !changed && !flags.contains('e') {
        return err("E486: Pattern not found");
    }
    if changed {
        ed.col = ed.first_nonblank(ed.buf.cur);
    }
    Ok(())
}

/// The flags after `:s///`: `&` first, then g c e i I n r.
fn flags(c: &mut Cursor) -> String {
    let mut f = String::new();
    while let Some(ch) = c.peek() {
        if !"&gceiInr#lp".contains(ch) {
            break;
        }
        c.bump();
        f.push(ch);
    }
    c.skip_blanks();
    f
}

fn global(ed: &mut Editor, r: Range, c: &mut Cursor, invert: bool) -> Result<(), Error> {
    let delim = match c.bump() {
        Some(d) if !d.is_ascii_alphanumeric() && d != ' ' && d != '"' && d != '|' => d,
        _ => return err("E146: Regular expressions can't be delimited by letters"),
    };
    let (pat, _) = c.delimited(delim);
    let re = ed.mem.regex(&pat, Dialect::Vim)?;
    let cmd = c.rest().to_string();
    let (first, last) = if r.given == 0 {
        (1, ed.buf.last())
    } else {
        (r.first.max(1), r.last)
    };
    ed.buf.marked.iter_mut().for_each(|m| *m = false);
    let mut any = false;
    for n in first..=last {
        let hit = re.is_match(ed.buf.line(n)) != invert;
        ed.buf.marked[n - 1] = hit;
        any |= hit;
    }
    if !any {
        // A message, not an error, in vim.
        let msg = if invert {
            format!("Pattern found in every line: {pat}")
        } else {
            format!("Pattern not found: {pat}")
        };
        if !ed.batch {
            ed.message = Some(msg);
        }
        return Ok(());
    }
    let cmd = if cmd.trim().is_empty() {
        "p".to_string()
    } else {
        cmd
    };
    let mut hint = 0;
    while let Some(n) = ed.buf.take_mark(hint) {
        hint = n - 1;
        ed.buf.cur = n;
        ed.col = 0;
        let open = ed.unit_open;
        let r = exec(ed, &cmd, None);
        // The whole :g is one undo step.
        ed.unit_open = open || ed.unit_open;
        if let Err(e) = r {
            if e.0.starts_with("E486") {
                continue;
            }
            ed.buf.marked.iter_mut().for_each(|m| *m = false);
            return Err(e);
        }
        if ed.quit {
            break;
        }
    }
    Ok(())
}

/// `:normal KEYS`, once per line of the range (once at the cursor without one).
fn normal_cmd(ed: &mut Editor, r: Range, keys: &str) -> Result<(), Error> {
    let lines: Vec<usize> = if r.given == 0 {
        vec![ed.buf.cur]
    } else {
        (r.first..=r.last).collect()
    };
    let open = ed.unit_open;
    // Line numbers shift as lines come and go: walk them with global's marks.
    ed.buf.marked.iter_mut().for_each(|m| *m = false);
    for n in lines {
        ed.buf.marked[n - 1] = true;
    }
    let mut hint = 0;
    while let Some(n) = ed.buf.take_mark(hint) {
        hint = n - 1;
        ed.buf.cur = n;
        if r.given > 0 {
            ed.col = 0;
        }
        let mut input = TextKeys::new(keys);
        // A command that fails ends the keys, as in vim.
        while normal::command(ed, &mut input) && !ed.beeped {
            ed.unit_open = true;
        }

        ed.mode = super::Mode::Normal;
        ed.clamp();
        if ed.quit {
            break;
        }
    }
    ed.unit_open = open || ed.unit_open;
    Ok(())
}

/// `:sort` with `!` (reverse), `n` (by the first number), `u` (unique), `i` (ignore case).
fn sort(ed: &mut Editor, r: Range, reverse: bool, arg: &str) -> Result<(), Error> {
    let (first, last) = if r.given == 0 {
        (1, ed.buf.last())
    } else {
        (r.first, r.last)
    };
    if arg.chars().any(|c| !"nuir ".contains(c)) {
        return err("E474: Invalid argument (sort takes only n, u, i)");
    }
    let numeric = arg.contains('n');
    let icase = arg.contains('i');
    let number = |s: &str| -> Option<i64> {
        let start = s.find(|c: char| c.is_ascii_digit())?;
        let neg = start > 0 && s.as_bytes()[start - 1] == b'-';
        let digits: String = s[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let v: i64 = digits.parse().unwrap_or(i64::MAX);
        Some(if neg { -v } else { v })
    };
    let key_cmp = |a: &String, b: &String| {
        if numeric {
            number(a).cmp(&number(b))
        } else if icase {
            a.to_lowercase().cmp(&b.to_lowercase())
        } else {
            a.cmp(b)
        }
    };
    let mut lines: Vec<String> = ed.buf.lines[first - 1..last].to_vec();
    lines.sort_by(key_cmp);
    if reverse {
        lines.reverse();
    }
    if arg.contains('u') {
        lines.dedup_by(|a, b| key_cmp(a, b).is_eq());
    }
    ed.change();
    ed.buf.splice(first - 1, last, lines);
    ed.buf.cur = first;
    Ok(())
}
