//! column (util-linux): lists in columns (`-c -x`) and tables (`-t -s -o -N -R`).

use std::ffi::OsString;
use std::io::{self, BufRead, Write};

use unicode_width::UnicodeWidthStr;

use super::{start, strerror};

const HELP: &str = "Usage:
 column [options] [<file>...]

Columnate lists.

Options:
 -t, --table                      create a table
 -s, --separator <string>         possible table delimiters
 -o, --output-separator <string>  columns separator for table output (default is two spaces)
 -N, --table-columns <names>      comma separated columns names
 -R, --table-right <columns>      right align text in these columns (numbers, from 1)
 -c, --output-width <width>       width of output in number of characters
 -x, --fillrows                   fill rows before columns
     --help                       display this help

Empty lines of the input are ignored. Without -c the width is $COLUMNS or 80.
";

/// The command line, parsed.
struct Opts {
    table: bool,
    separators: Option<String>,
    out_sep: String,
    names: Option<Vec<String>>,
    right: Vec<usize>,
    width: usize,
    fill_rows: bool,
    files: Vec<String>,
}

fn parse(a: Vec<String>) -> Result<Opts, String> {
    let mut o = Opts {
        table: false,
        separators: None,
        out_sep: "  ".into(),
        names: None,
        right: Vec::new(),
        width: std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .filter(|&c| c > 0)
            .unwrap_or(80),
        fill_rows: false,
        files: Vec::new(),
    };
    let mut it = a.into_iter();
    while let Some(w) = it.next() {
        // Long options may carry their value after `=`.
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if w.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (w.clone(), None),
        };
        let takes = |f: &str| {
            matches!(
                f,
                "-s" | "--separator"
                    | "-o"
                    | "--output-separator"
                    | "-N"
                    | "--table-columns"
                    | "-R"
                    | "--table-right"
                    | "-c"
                    | "--output-width"
            )
        };
        // Short options bundle (-ts:), the value in the same word or the next.
        let (flag, value) = if !flag.starts_with("--") && flag.len() > 2 && flag.starts_with('-') {
            let mut chars = flag[1..].char_indices();
            let mut found = None;
            for (i, c) in chars.by_ref() {
                let f = format!("-{c}");
                if takes(&f) {
                    let rest = &flag[1 + i + c.len_utf8()..];
                    found = Some((f, (!rest.is_empty()).then(|| rest.to_string())));
                    break;
                }
                match c {
                    't' => o.table = true,
                    'x' => o.fill_rows = true,
                    _ => return Err(format!("invalid option -- '{c}'")),
                }
            }
            match found {
                Some(fv) => fv,
                None => continue,
            }
        } else {
            (flag, inline)
        };
        if takes(&flag) {
            let v = match value.or_else(|| it.next()) {
                Some(v) => v,
                None => return Err(format!("option requires an argument -- '{flag}'")),
            };
            match flag.as_str() {
                "-s" | "--separator" => o.separators = Some(v),
                "-o" | "--output-separator" => o.out_sep = v,
                "-N" | "--table-columns" => {
                    o.names = Some(v.split(',').map(str::to_string).collect())
                }
                "-R" | "--table-right" => {
                    for n in v.split(',') {
                        match n.parse::<usize>() {
                            Ok(n) if n > 0 => o.right.push(n - 1),
                            _ => return Err(format!("invalid column: '{n}'")),
                        }
                    }
                }
                _ => {
                    o.width = v
                        .parse()
                        .map_err(|_| format!("invalid columns argument: '{v}'"))?
                }
            }
            continue;
        }
        match flag.as_str() {
            "-t" | "--table" => o.table = true,
            "-x" | "--fillrows" => o.fill_rows = true,
            "--" => {
                o.files.extend(it.by_ref());
            }
            f if f.starts_with('-') && f != "-" => {
                return Err(format!("unrecognized option '{f}'"));
            }
            _ => o.files.push(w),
        }
    }
    Ok(o)
}

/// The non-empty input lines of all files (or stdin).
fn lines(o: &Opts, status: &mut i32) -> Vec<String> {
    let files: Vec<String> = if o.files.is_empty() {
        vec!["-".into()]
    } else {
        o.files.clone()
    };
    let mut all = Vec::new();
    for f in &files {
        let input = match super::open_input(f) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("column: cannot open {f}: {}", strerror(&e));
                *status = 1;
                continue;
            }
        };
        for line in input.split(b'\n') {
            match line {
                Ok(l) => {
                    let l = String::from_utf8_lossy(&l).into_owned();
                    if !l.trim().is_empty() {
                        all.push(l);
                    }
                }
                Err(e) => {
                    eprintln!("column: {f}: {}", strerror(&e));
                    *status = 1;
                    break;
                }
            }
        }
    }
    all
}

/// `-t`: every row split into cells, padded to the widest cell of its column.
fn table(o: &Opts, lines: &[String], out: &mut impl Write) -> io::Result<()> {
    let mut rows: Vec<Vec<&str>> = Vec::new();
    if let Some(names) = &o.names {
        rows.push(names.iter().map(String::as_str).collect());
    }
    for l in lines {
        let cells: Vec<&str> = match &o.separators {
            // Given separators delimit every cell, empty ones included.
            Some(seps) => l.split(|c| seps.contains(c)).collect(),
            // Whitespace runs delimit cells.
            None => l.split_whitespace().collect(),
        };
        rows.push(cells);
    }
    let ncols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; ncols];
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.width());
        }
    }
    for r in &rows {
        let mut line = String::new();
        for (i, w) in widths.iter().enumerate() {
            let cell = r.get(i).copied().unwrap_or("");
            let pad = " ".repeat(w - cell.width());
            let last = i + 1 == ncols;
            if o.right.contains(&i) {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if !last {
                    line.push_str(&pad);
                }
            }
            if !last {
                line.push_str(&o.out_sep);
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// Pads with tabs from column `chcnt` up to `endcol`, as util-linux does; the
/// column reached.
fn tabs_to(line: &mut String, mut chcnt: usize, endcol: usize) -> usize {
    loop {
        let next = (chcnt + 8) & !7;
        if next > endcol {
            return chcnt;
        }
        line.push('\t');
        chcnt = next;
    }
}

/// Lists: entries in columns of tab stops, filled down (or across with -x).
fn list(o: &Opts, ents: &[String], out: &mut impl Write) -> io::Result<()> {
    let longest = ents.iter().map(|e| e.width()).max().unwrap_or(0);
    // Each column is the longest entry rounded up to the next tab stop.
    let colw = (longest + 8) & !7;
    let numcols = o.width / colw;
    let mut text = String::new();
    if numcols <= 1 {
        for e in ents {
            text.push_str(e);
            text.push('\n');
        }
    } else if o.fill_rows {
        let (mut chcnt, mut col, mut endcol) = (0, 0, colw);
        for e in ents {
            text.push_str(e);
            chcnt += e.width();
            col += 1;
            if col == numcols {
                (chcnt, col, endcol) = (0, 0, colw);
                text.push('\n');
            } else {
                chcnt = tabs_to(&mut text, chcnt, endcol);
                endcol += colw;
            }
        }
        if col != 0 {
            text.push('\n');
        }
    } else {
        let numrows = ents.len().div_ceil(numcols);
        for row in 0..numrows {
            let (mut chcnt, mut endcol, mut base) = (0, colw, row);
            loop {
                let e = &ents[base];
                text.push_str(e);
                chcnt += e.width();
                base += numrows;
                if base >= ents.len() {
                    break;
                }
                chcnt = tabs_to(&mut text, chcnt, endcol);
                endcol += colw;
            }
            text.push('\n');
        }
    }
    out.write_all(text.as_bytes())
}

/// Runs column.
pub fn main(argv: Vec<OsString>) -> i32 {
    let usage = |a: &[String]| {
        parse(a.to_vec())
            .map_err(|e| format!("column: {e}\nTry 'column --help' for more information."))
    };
    let o = match start(argv, HELP, usage, 1) {
        Ok(o) => o,
        Err(status) => return status,
    };
    let mut status = 0;
    let lines = lines(&o, &mut status);
    let mut out = io::BufWriter::new(io::stdout().lock());
    let written = if o.table {
        table(&o, &lines, &mut out)
    } else {
        list(&o, &lines, &mut out)
    };
    if written.and_then(|()| out.flush()).is_err() {
        return 1;
    }
    status
}
