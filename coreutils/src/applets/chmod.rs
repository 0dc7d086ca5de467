//! chmod: change permission bits, octal or symbolic (`u+x,go-w`, `a=rX`), with -R.

use std::ffi::OsString;
use std::path::Path;

use super::{args, help, strerror};
use crate::wsh;

const HELP: &str = "Usage: chmod [OPTION]... MODE[,MODE]... FILE...
  or:  chmod [OPTION]... OCTAL-MODE FILE...
Change the mode of each FILE to MODE.

  -c, --changes    like verbose but report only when a change is made
  -f, --silent     suppress most error messages
  -v, --verbose    output a diagnostic for every file processed
  -R, --recursive  change files and directories recursively
      --help       display this help and exit

Each MODE is of the form '[ugoa]*([-+=]([rwxXst]*|[ugo]))+|[-+=][0-7]+'.
";

/// Applies a mode expression to `old` (type bits included, for X).
pub fn apply(expr: &str, old: u32, umask: u32) -> Option<u32> {
    if !expr.is_empty() && expr.chars().all(|c| c.is_digit(8)) {
        let n = u32::from_str_radix(expr, 8).ok()?;
        if n > 0o7777 {
            return None;
        }
        // GNU keeps a directory's set-id bits unless the octal mode has 5+ digits.
        let keep = if old & wsh::S_IFMT == wsh::S_IFDIR && expr.len() < 5 {
            old & 0o6000
        } else {
            0
        };
        return Some(n | keep);
    }
    let mut mode = old & 0o7777;
    let is_dir = old & wsh::S_IFMT == wsh::S_IFDIR;
    for clause in expr.split(',') {
        let chars: Vec<char> = clause.chars().collect();
        let mut i = 0;
        let mut who = 0u32;
        while i < chars.len() && "ugoa".contains(chars[i]) {
            who |= match chars[i] {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                _ => 0o7777,
            };
            i += 1;
        }
        let masked = who == 0;
        if masked {
            who = 0o7777;
        }
        if i == chars.len() {
            return None;
        }
        while i < chars.len() {
            let op = chars[i];
            if !"+-=".contains(op) {
                return None;
            }
            i += 1;
            let mut bits = 0u32;
            if i < chars.len() && "ugo".contains(chars[i]) {
                // Copy another class's bits.
                let shift = match chars[i] {
                    'u' => 6,
                    'g' => 3,
                    _ => 0,
                };
                let p = (mode >> shift) & 7;
                bits = p << 6 | p << 3 | p;
                i += 1;
            } else {
                while i < chars.len() && "rwxXst".contains(chars[i]) {
                    bits |= match chars[i] {
                        'r' => 0o444,
                        'w' => 0o222,
                        'x' => 0o111,
                        'X' if is_dir || mode & 0o111 != 0 => 0o111,
                        'X' => 0,
                        's' => 0o6000,
                        _ => 0o1000,
                    };
                    i += 1;
                }
            }
            let mut eff = bits & who;
            if masked {
                eff &= !umask;
            }
            match op {
                '+' => mode |= eff,
                '-' => mode &= !eff,
                _ => {
                    let clear = if masked { 0o777 | 0o7000 } else { who }
                        & !(if is_dir { 0o6000 } else { 0 });
                    mode = (mode & !clear) | eff;
                }
            }
        }
    }
    Some(mode)
}

struct Opts {
    recursive: bool,
    verbose: bool,
    changes: bool,
    quiet: bool,
    umask: u32,
}

fn change(path: &Path, expr: &str, o: &Opts, top: bool) -> bool {
    let st = match wsh::stat(path, top) {
        Ok(st) => st,
        Err(e) => {
            if !o.quiet {
                eprintln!(
                    "chmod: cannot access '{}': {}",
                    path.display(),
                    strerror(&e)
                );
            }
            return false;
        }
    };
    let mut ok = true;
    if st.is_symlink() {
        // Symlinks met while recursing are not followed (GNU's -P default).
        return true;
    }
    let Some(new) = apply(expr, st.mode, o.umask) else {
        eprintln!("chmod: invalid mode: '{expr}'");
        return false;
    };
    if new != st.mode & 0o7777 {
        if let Err(e) = wsh::chmod(path, new) {
            if !o.quiet {
                eprintln!(
                    "chmod: changing permissions of '{}': {}",
                    path.display(),
                    strerror(&e)
                );
            }
            ok = false;
        } else if o.verbose || o.changes {
            println!(
                "mode of '{}' changed from {:04o} ({}) to {:04o} ({})",
                path.display(),
                st.mode & 0o7777,
                &super::mode_string(st.mode)[1..],
                new,
                &super::mode_string(new | (st.mode & wsh::S_IFMT))[1..]
            );
        }
    } else if o.verbose {
        println!(
            "mode of '{}' retained as {:04o} ({})",
            path.display(),
            new,
            &super::mode_string(st.mode)[1..]
        );
    }
    if o.recursive && st.is_dir() {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut names: Vec<_> = entries
                    .filter_map(|e| e.ok().map(|e| e.file_name()))
                    .collect();
                names.sort();
                for n in names {
                    ok &= change(&path.join(n), expr, o, false);
                }
            }
            Err(e) => {
                eprintln!(
                    "chmod: cannot read directory '{}': {}",
                    path.display(),
                    strerror(&e)
                );
                ok = false;
            }
        }
    }
    ok
}

/// Runs chmod.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    let mut o = Opts {
        recursive: false,
        verbose: false,
        changes: false,
        quiet: false,
        umask: wsh::umask(None),
    };
    let mut rest = Vec::new();
    let mut opts_done = false;
    for arg in a {
        if opts_done || !arg.starts_with('-') || arg.len() == 1 {
            rest.push(arg);
            continue;
        }
        match arg.as_str() {
            "--" => opts_done = true,
            "--recursive" => o.recursive = true,
            "--verbose" => o.verbose = true,
            "--changes" => o.changes = true,
            "--silent" | "--quiet" => o.quiet = true,
            s if s[1..].chars().all(|c| "Rvcf".contains(c)) => {
                for c in s[1..].chars() {
                    match c {
                        'R' => o.recursive = true,
                        'v' => o.verbose = true,
                        'c' => o.changes = true,
                        _ => o.quiet = true,
                    }
                }
            }
            // `-w`, `-x,u+r`...: a mode, not an option.
            _ => rest.push(arg),
        }
    }
    if rest.len() < 2 {
        eprintln!("chmod: missing operand\nTry 'chmod --help' for more information.");
        return 1;
    }
    let expr = rest.remove(0);
    if apply(&expr, wsh::S_IFREG, 0).is_none() {
        eprintln!("chmod: invalid mode: '{expr}'\nTry 'chmod --help' for more information.");
        return 1;
    }
    let mut ok = true;
    for f in rest {
        ok &= change(Path::new(&f), &expr, &o, true);
    }
    if ok { 0 } else { 1 }
}
