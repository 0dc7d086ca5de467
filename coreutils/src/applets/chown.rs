//! chown: change the owner and/or group of files (`OWNER[:GROUP]`, `:GROUP`), with -R and -h.

use std::ffi::OsString;
use std::path::Path;

use super::{args, group_id, help, strerror, user_id};
use crate::wsh;

const HELP: &str = "Usage: chown [OPTION]... [OWNER][:[GROUP]] FILE...
Change the owner and/or group of each FILE to OWNER and/or GROUP.

  -h, --no-dereference  affect symbolic links instead of their targets
  -R, --recursive       operate on files and directories recursively
  -v, --verbose         output a diagnostic for every file processed
      --help            display this help and exit
";

fn change(
    name: &str,
    path: &Path,
    uid: Option<u32>,
    gid: Option<u32>,
    recursive: bool,
    follow: bool,
    verbose: bool,
) -> bool {
    if let Err(e) = wsh::chown(path, uid, gid, follow) {
        let what = if name == "chgrp" {
            "group"
        } else {
            "ownership"
        };
        eprintln!(
            "{name}: changing {what} of '{}': {}",
            path.display(),
            strerror(&e)
        );
        return false;
    }
    if verbose {
        println!("ownership of '{}' retained or changed", path.display());
    }
    let mut ok = true;
    if recursive && wsh::stat(path, follow).is_ok_and(|s| s.is_dir()) {
        let mut names: Vec<_> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.file_name())).collect(),
            Err(e) => {
                eprintln!(
                    "{name}: cannot read directory '{}': {}",
                    path.display(),
                    strerror(&e)
                );
                return false;
            }
        };
        names.sort();
        for n in names {
            ok &= change(name, &path.join(n), uid, gid, true, false, verbose);
        }
    }
    ok
}

const CHGRP_HELP: &str = "Usage: chgrp [OPTION]... GROUP FILE...
Change the group of each FILE to GROUP.

  -h, --no-dereference  affect symbolic links instead of their targets
  -R, --recursive       operate on files and directories recursively
  -v, --verbose         output a diagnostic for every file processed
      --help            display this help and exit
";

/// Runs chown.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    run("chown", a)
}

/// Runs chgrp: chown of the group alone.
pub fn chgrp(argv: Vec<OsString>) -> i32 {
    let mut a = args(argv);
    if help(&a, CHGRP_HELP) {
        return 0;
    }
    // The first operand is the group: chown's `:GROUP`.
    if let Some(g) = a.iter_mut().find(|x| !x.starts_with('-') || x.len() == 1) {
        *g = format!(":{g}");
    }
    run("chgrp", a)
}

fn run(name: &str, a: Vec<String>) -> i32 {
    let (mut recursive, mut follow, mut verbose) = (false, true, false);
    let mut rest = Vec::new();
    for arg in a {
        match arg.as_str() {
            "-R" | "--recursive" => recursive = true,
            "-h" | "--no-dereference" => follow = false,
            "-v" | "--verbose" => verbose = true,
            s if s.starts_with('-') && s.len() > 1 && rest.is_empty() => {
                eprintln!(
                    "{name}: invalid option -- '{}'\nTry '{name} --help' for more information.",
                    &s[1..]
                );
                return 1;
            }
            _ => rest.push(arg),
        }
    }
    if rest.len() < 2 {
        eprintln!("{name}: missing operand\nTry '{name} --help' for more information.");
        return 1;
    }
    let spec = rest.remove(0);
    let (owner, group) = match spec.split_once([':', '.']) {
        Some((o, g)) => (o, Some(g)),
        None => (spec.as_str(), None),
    };
    let uid = if owner.is_empty() {
        None
    } else {
        match user_id(owner) {
            Some(u) => Some(u),
            None => {
                eprintln!("{name}: invalid user: '{spec}'");
                return 1;
            }
        }
    };
    let gid = match group.filter(|g| !g.is_empty()) {
        None => None,
        Some(g) => match group_id(g) {
            Some(id) => Some(id),
            None => {
                let g = if name == "chgrp" {
                    &spec[1..]
                } else {
                    spec.as_str()
                };
                eprintln!("{name}: invalid group: '{g}'");
                return 1;
            }
        },
    };
    let mut ok = true;
    for f in rest {
        ok &= change(name, Path::new(&f), uid, gid, recursive, follow, verbose);
    }
    if ok { 0 } else { 1 }
}
