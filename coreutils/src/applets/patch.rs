//! patch (GNU's) for unified diffs, parsed by the `diffy` crate (one or many
//! files, `--- /dev/null` creations and `+++ /dev/null` deletions): `-p N -R -i
//! FILE --dry-run -N -s -d DIR -E`, `patch [FILE] < DIFF`. Hunks are placed as
//! GNU places them without fuzz: at their line, else at the nearest line where
//! their context matches exactly (reported as an offset); the others go to
//! FILE.rej and FILE.orig keeps the original, as GNU does.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};

use diffy::patch_set::{FileOperation, ParseOptions, PatchKind, PatchSet};
use diffy::{Hunk, Line, Patch};

use super::{start, strerror};

const HELP: &str = "Usage: patch [OPTION]... [ORIGFILE [PATCHFILE]]

Apply a unified diff to the original files.

  -p NUM  --strip=NUM  Strip NUM leading components from file names.
  -R  --reverse  Assume patches were created with old and new files swapped.
  -i PATCHFILE  --input=PATCHFILE  Read patch from PATCHFILE instead of stdin.
  -N  --forward  Ignore patches that seem to be reversed or already applied.
  --dry-run  Do not actually change any files; just print what would happen.
  -s  --silent  --quiet  Work silently unless an error occurs.
  -d DIR  --directory=DIR  Change the working directory to DIR first.
  -E  --remove-empty-files  Remove output files that are empty after patching.
  -f -t --batch  Accepted: patch never asks questions.
  --help  Display this help and exit.

Without -p the file names lose all their directories. Hunks apply without fuzz.
Exit status: 0, 1 when some hunks failed, 2 for trouble.
";

/// The command line, parsed.
#[derive(Default)]
struct Opts {
    strip: Option<usize>,
    reverse: bool,
    input: Option<String>,
    forward: bool,
    dry_run: bool,
    silent: bool,
    dir: Option<String>,
    remove_empty: bool,
    target: Option<String>,
}

fn parse(a: Vec<String>) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut positional = Vec::new();
    let mut it = a.into_iter();
    while let Some(w) = it.next() {
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if w.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ if w.len() > 2 && matches!(&w[..2], "-p" | "-i" | "-d") => {
                (w[..2].to_string(), Some(w[2..].to_string()))
            }
            _ => (w.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("option '{flag}' requires an argument"))
        };
        match flag.as_str() {
            "-p" | "--strip" => {
                let v = value()?;
                o.strip = Some(
                    v.parse()
                        .map_err(|_| format!("strip count {v} is not a number"))?,
                );
            }
            "-i" | "--input" => o.input = Some(value()?),
            "-d" | "--directory" => o.dir = Some(value()?),
            "-R" | "--reverse" => o.reverse = true,
            "-N" | "--forward" => o.forward = true,
            "--dry-run" => o.dry_run = true,
            "-s" | "--silent" | "--quiet" => o.silent = true,
            "-E" | "--remove-empty-files" => o.remove_empty = true,
            "-f" | "-t" | "--force" | "--batch" | "-u" | "--unified" => {}
            "--" => positional.extend(it.by_ref()),
            f if f.starts_with('-') && f != "-" => {
                return Err(format!("unrecognized option '{f}'"));
            }
            _ => positional.push(w),
        }
    }
    let mut positional = positional.into_iter();
    o.target = positional.next();
    if let Some(p) = positional.next() {
        o.input = Some(p);
    }
    Ok(o)
}

/// `path` without its first `n` components (all of its directories without -p).
fn strip(path: &str, n: Option<usize>) -> String {
    match n {
        None => path.rsplit('/').next().unwrap_or(path).to_string(),
        Some(n) => {
            let mut rest = path;
            for _ in 0..n {
                match rest.split_once('/') {
                    Some((_, r)) => rest = r.trim_start_matches('/'),
                    None => break,
                }
            }
            rest.to_string()
        }
    }
}

/// The lines a hunk expects to find (`old`) and leaves (`new`).
fn sides<'a>(h: &Hunk<'a, str>) -> (Vec<&'a str>, Vec<&'a str>) {
    let (mut old, mut new) = (Vec::new(), Vec::new());
    for l in h.lines() {
        match l {
            Line::Context(s) => {
                old.push(*s);
                new.push(*s);
            }
            Line::Delete(s) => old.push(*s),
            Line::Insert(s) => new.push(*s),
        }
    }
    (old, new)
}

/// Where `old` matches `image` at or after `min`, nearest to `want` first.
fn find(image: &[String], old: &[&str], want: usize, min: usize) -> Option<usize> {
    let fits = |p: usize| {
        p >= min
            && p + old.len() <= image.len()
            && image[p..p + old.len()].iter().zip(old).all(|(a, b)| a == b)
    };
    let want = want.clamp(min, image.len());
    (0..=image.len()).find_map(|d| {
        [want.checked_add(d), want.checked_sub(d)]
            .into_iter()
            .flatten()
            .find(|&p| (d == 0 || p != want) && fits(p))
    })
}

/// A hunk in unified form, for the .rej file.
fn hunk_text(h: &Hunk<'_, str>) -> String {
    let (o, n) = (h.old_range(), h.new_range());
    let mut s = format!(
        "@@ -{},{} +{},{} @@\n",
        o.start(),
        o.len(),
        n.start(),
        n.len()
    );
    for l in h.lines() {
        let (c, t) = match l {
            Line::Context(t) => (' ', t),
            Line::Delete(t) => ('-', t),
            Line::Insert(t) => ('+', t),
        };
        s.push(c);
        s.push_str(t);
        if !t.ends_with('\n') {
            s.push_str("\n\\ No newline at end of file\n");
        }
    }
    s
}

/// Applies one file's patch; its status (0, 1 or 2).
fn apply_file(
    o: &Opts,
    name: &str,
    patch: &Patch<'_, str>,
    out: &mut impl Write,
) -> io::Result<i32> {
    let verb = if o.dry_run { "checking" } else { "patching" };
    if !o.silent {
        writeln!(out, "{verb} file {name}")?;
    }
    // A missing file is an empty one, as GNU takes it when told the name.
    let original = match fs::read_to_string(name) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            out.flush()?;
            eprintln!("patch: can't open {name}: {}", strerror(&e));
            return Ok(2);
        }
    };
    let text = original.clone().unwrap_or_default();
    let mut image: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let (mut failed, mut moved, mut min) = (Vec::new(), false, 0usize);
    let hunks = patch.hunks();
    for (i, h) in hunks.iter().enumerate() {
        let (old, new) = sides(h);
        let want = h.new_range().start().saturating_sub(1);
        match find(&image, &old, want, min) {
            Some(p) => {
                let offset = p as i64 - want as i64;
                if offset != 0 {
                    moved = true;
                    if !o.silent {
                        let lines = if offset.abs() == 1 { "line" } else { "lines" };
                        writeln!(
                            out,
                            "Hunk #{} succeeded at {} (offset {offset} {lines}).",
                            i + 1,
                            p + 1
                        )?;
                    }
                }
                image.splice(p..p + old.len(), new.iter().map(|s| s.to_string()));
                min = p + new.len();
            }
            None => {
                // Already applied? The reversed hunk matches where this one should.
                if o.forward && find(&image, &new, want, 0).is_some() {
                    writeln!(
                        out,
                        "Reversed (or previously applied) patch detected!  Skipping patch."
                    )?;
                    let n = hunks.len();
                    let s = if n == 1 { "" } else { "s" };
                    writeln!(
                        out,
                        "{n} out of {n} hunk{s} ignored -- saving rejects to file {name}.rej"
                    )?;
                    if !o.dry_run {
                        let rej: String = hunks.iter().map(hunk_text).collect();
                        fs::write(
                            format!("{name}.rej"),
                            format!("--- {name}\n+++ {name}\n{rej}"),
                        )?;
                    }
                    return Ok(1);
                }
                if !o.silent {
                    let at = h.old_range().start();
                    writeln!(out, "Hunk #{} FAILED at {at}.", i + 1)?;
                }
                failed.push(h);
            }
        }
    }
    let result = image.concat();
    if !failed.is_empty() {
        let (n, t) = (failed.len(), hunks.len());
        let s = if t == 1 { "" } else { "s" };
        let verb = if o.dry_run {
            ""
        } else {
            " -- saving rejects to file "
        };
        let target = if o.dry_run {
            String::new()
        } else {
            format!("{name}.rej")
        };
        writeln!(out, "{n} out of {t} hunk{s} FAILED{verb}{target}")?;
    }
    if o.dry_run {
        return Ok(i32::from(!failed.is_empty()));
    }
    if !failed.is_empty() {
        let rej: String = failed.iter().map(|h| hunk_text(h)).collect();
        fs::write(
            format!("{name}.rej"),
            format!("--- {name}\n+++ {name}\n{rej}"),
        )?;
    }
    // GNU keeps the original when the patch did not fit exactly.
    if (moved || !failed.is_empty()) && original.is_some() {
        fs::write(format!("{name}.orig"), &text)?;
    }
    if let Some(parent) = std::path::Path::new(name)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        fs::create_dir_all(parent)?;
    }
    fs::write(name, &result)?;
    Ok(i32::from(!failed.is_empty()))
}

/// Runs patch.
pub fn main(argv: Vec<OsString>) -> i32 {
    let usage = |a: &[String]| {
        parse(a.to_vec())
            .map_err(|e| format!("patch: {e}\nTry 'patch --help' for more information."))
    };
    let o = match start(argv, HELP, usage, 2) {
        Ok(o) => o,
        Err(status) => return status,
    };
    let mut text = String::new();
    let read = match &o.input {
        Some(f) if f != "-" => fs::File::open(f).and_then(|mut h| h.read_to_string(&mut text)),
        _ => io::stdin().lock().read_to_string(&mut text),
    };
    if let Err(e) = read {
        eprintln!("patch: can't open patch file: {}", strerror(&e));
        return 2;
    }
    if let Some(d) = &o.dir
        && let Err(e) = std::env::set_current_dir(d)
    {
        eprintln!("patch: can't change directory to {d}: {}", strerror(&e));
        return 2;
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut status = 0;
    let mut any = false;
    for fp in PatchSet::parse(&text, ParseOptions::unidiff()) {
        let fp = match fp {
            Ok(fp) => fp,
            Err(e) => {
                let _ = out.flush();
                eprintln!("patch: **** malformed patch: {e}");
                return 2;
            }
        };
        any = true;
        let PatchKind::Text(p) = fp.patch() else {
            let _ = writeln!(out, "File is binary: not supported, skipped");
            status = status.max(1);
            continue;
        };
        let reversed;
        let p = if o.reverse {
            reversed = p.reverse();
            &reversed
        } else {
            p
        };
        let op = fp.operation();
        // With -R a creation becomes a deletion and the other way round.
        let delete = matches!(
            (op, o.reverse),
            (FileOperation::Delete(_), false) | (FileOperation::Create(_), true)
        );
        let name = match (&o.target, op) {
            (Some(t), _) => t.clone(),
            (None, FileOperation::Create(n) | FileOperation::Delete(n)) => strip(n, o.strip),
            (None, FileOperation::Modify { original, modified }) => {
                let orig = strip(original, o.strip);
                if fs::metadata(&orig).is_ok() {
                    orig
                } else {
                    strip(modified, o.strip)
                }
            }
            (None, FileOperation::Rename { to, .. } | FileOperation::Copy { to, .. }) => {
                strip(to, o.strip)
            }
        };
        match apply_file(&o, &name, p, &mut out) {
            Ok(s) => status = status.max(s),
            Err(e) => {
                let _ = out.flush();
                eprintln!("patch: {name}: {}", strerror(&e));
                status = 2;
                continue;
            }
        }
        // An emptied file goes when the patch deletes it (or with -E).
        if (delete || o.remove_empty)
            && !o.dry_run
            && fs::metadata(&name).is_ok_and(|m| m.len() == 0)
        {
            let _ = fs::remove_file(&name);
        }
    }
    let _ = out.flush();
    if !any {
        eprintln!("patch: **** Only garbage was found in the patch input.");
        return 2;
    }
    status
}
