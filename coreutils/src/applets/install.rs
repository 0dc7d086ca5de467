//! install: copy files and set their mode, owner and group; `-d` makes directories.
//! GNU's options that matter in images: -d, -D, -m, -o, -g, -p, -t, -T, -v, -C
//! (-c and -s are accepted: -c is the default, and wasm has nothing to strip).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, Command};

use super::{group_id, strerror, user_id};
use crate::wsh;

fn command() -> Command {
    let flag = |id: &'static str, short: char, long: &'static str, help: &'static str| {
        Arg::new(id)
            .short(short)
            .long(long)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    let value = |id: &'static str, short: char, long: &'static str, help: &'static str| {
        Arg::new(id)
            .short(short)
            .long(long)
            .value_name(id)
            .help(help)
    };
    Command::new("install")
        .about("Copy SOURCE to DEST or several SOURCEs into DIRECTORY, setting mode and owner; with -d, create DIRECTORYs.")
        .help_template("{usage-heading} {usage}\n{about}\n\n{all-args}\n")
        .override_usage(
            "install [OPTION]... [-T] SOURCE DEST\n       install [OPTION]... SOURCE... DIRECTORY\n       install [OPTION]... -t DIRECTORY SOURCE...\n       install [OPTION]... -d DIRECTORY...",
        )
        .arg(flag("compare", 'C', "compare", "do not rewrite a DEST whose content, mode and owner are already right"))
        .arg(flag("copy", 'c', "copy", "(ignored: copying is what install does)"))
        .arg(flag("directory", 'd', "directory", "treat all arguments as directory names; create all components"))
        .arg(Arg::new("leading").short('D').action(ArgAction::SetTrue).help("create all leading components of DEST, then copy SOURCE to DEST"))
        .arg(value("group", 'g', "group", "set group ownership, instead of the process's group"))
        .arg(value("mode", 'm', "mode", "set permission mode (as in chmod), instead of rwxr-xr-x"))
        .arg(value("owner", 'o', "owner", "set ownership (super-user only)"))
        .arg(flag("preserve", 'p', "preserve-timestamps", "give DEST the access and modification times of SOURCE"))
        .arg(flag("strip", 's', "strip", "(accepted: WebAssembly programs have no symbol tables to strip)"))
        .arg(value("target", 't', "target-directory", "copy all SOURCE arguments into DIRECTORY"))
        .arg(flag("no_target", 'T', "no-target-directory", "treat DEST as a normal file"))
        .arg(flag("verbose", 'v', "verbose", "print the name of each created file or directory"))
        .arg(Arg::new("files").num_args(0..).value_parser(clap::value_parser!(PathBuf)))
}

struct Opts {
    mode: u32,
    uid: Option<u32>,
    gid: Option<u32>,
    preserve: bool,
    compare: bool,
    verbose: bool,
}

fn fail(what: String) -> bool {
    eprintln!("install: {what}");
    false
}

/// mkdir -p with mode 0755 for each component made (GNU's parents), `last` for the last.
fn make_dirs(dir: &Path, last: Option<u32>, o: &Opts) -> io::Result<()> {
    let mut made = PathBuf::new();
    let comps: Vec<_> = dir.components().collect();
    for (i, c) in comps.iter().enumerate() {
        made.push(c);
        match std::fs::create_dir(&made) {
            Ok(()) => {
                if o.verbose {
                    println!("install: creating directory '{}'", made.display());
                }
                let mode = if i + 1 == comps.len() {
                    last.unwrap_or(0o755)
                } else {
                    0o755
                };
                wsh::chmod(&made, mode)?;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && made.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn finish(path: &Path, o: &Opts) -> io::Result<()> {
    wsh::chmod(path, o.mode)?;
    if o.uid.is_some() || o.gid.is_some() {
        wsh::chown(path, o.uid, o.gid, true)?;
    }
    Ok(())
}

fn install_dir(dir: &Path, o: &Opts) -> bool {
    if let Err(e) = make_dirs(dir, Some(o.mode), o) {
        return fail(format!(
            "cannot create directory '{}': {}",
            dir.display(),
            strerror(&e)
        ));
    }
    // An existing directory gets the mode and owner too, as with GNU.
    if let Err(e) = finish(dir, o) {
        return fail(format!(
            "cannot change permissions of '{}': {}",
            dir.display(),
            strerror(&e)
        ));
    }
    true
}

/// Whether `dst` already has `src`'s bytes and the wanted mode and owner (-C).
fn same(src: &Path, dst: &Path, o: &Opts) -> bool {
    let (Ok(a), Ok(b)) = (std::fs::read(src), std::fs::read(dst)) else {
        return false;
    };
    let Ok(st) = wsh::stat(dst, true) else {
        return false;
    };
    a == b
        && st.mode & 0o7777 == o.mode
        && o.uid.is_none_or(|u| u == st.uid)
        && o.gid.is_none_or(|g| g == st.gid)
}

fn install_file(src: &Path, dst: &Path, o: &Opts) -> bool {
    match wsh::stat(src, true) {
        Ok(st) if st.is_dir() => {
            return fail(format!("omitting directory '{}'", src.display()));
        }
        Ok(_) => {}
        Err(e) => return fail(format!("cannot stat '{}': {}", src.display(), strerror(&e))),
    }
    if o.compare && same(src, dst, o) {
        return true;
    }
    let data = match std::fs::read(src) {
        Ok(d) => d,
        Err(e) => {
            return fail(format!(
                "cannot open '{}' for reading: {}",
                src.display(),
                strerror(&e)
            ));
        }
    };
    // A new file, not a rewrite of the old one (a running program keeps its copy).
    match std::fs::remove_file(dst) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            return fail(format!(
                "cannot remove '{}': {}",
                dst.display(),
                strerror(&e)
            ));
        }
    }
    if let Err(e) = std::fs::write(dst, &data) {
        return fail(format!(
            "cannot create regular file '{}': {}",
            dst.display(),
            strerror(&e)
        ));
    }
    if let Err(e) = finish(dst, o) {
        return fail(format!(
            "cannot change permissions of '{}': {}",
            dst.display(),
            strerror(&e)
        ));
    }
    if o.preserve {
        let times = std::fs::metadata(src).and_then(|m| {
            let t = std::fs::FileTimes::new()
                .set_accessed(m.accessed()?)
                .set_modified(m.modified()?);
            std::fs::File::options().write(true).open(dst)?.set_times(t)
        });
        if let Err(e) = times {
            return fail(format!(
                "cannot set timestamps of '{}': {}",
                dst.display(),
                strerror(&e)
            ));
        }
    }
    if o.verbose {
        println!("'{}' -> '{}'", src.display(), dst.display());
    }
    true
}

/// Runs install.
pub fn main(argv: Vec<OsString>) -> i32 {
    let m = match command().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    let mode = match m.get_one::<String>("mode") {
        Some(expr) => match super::chmod::apply(expr, wsh::S_IFREG | 0o755, 0) {
            Some(mode) => mode & 0o7777,
            None => {
                eprintln!("install: invalid mode '{expr}'");
                return 1;
            }
        },
        None => 0o755,
    };
    let uid = match m.get_one::<String>("owner") {
        Some(u) => match user_id(u) {
            Some(id) => Some(id),
            None => {
                eprintln!("install: invalid user '{u}'");
                return 1;
            }
        },
        None => None,
    };
    let gid = match m.get_one::<String>("group") {
        Some(g) => match group_id(g) {
            Some(id) => Some(id),
            None => {
                eprintln!("install: invalid group '{g}'");
                return 1;
            }
        },
        None => None,
    };
    let o = Opts {
        mode,
        uid,
        gid,
        preserve: m.get_flag("preserve"),
        compare: m.get_flag("compare"),
        verbose: m.get_flag("verbose"),
    };
    let files: Vec<PathBuf> = m
        .get_many::<PathBuf>("files")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let target = m.get_one::<String>("target").map(PathBuf::from);
    let ok = if m.get_flag("directory") {
        if files.is_empty() {
            eprintln!("install: missing operand\nTry 'install --help' for more information.");
            return 1;
        }
        files.iter().fold(true, |ok, d| install_dir(d, &o) & ok)
    } else {
        let (sources, dir, single) = match (&target, m.get_flag("no_target")) {
            (Some(t), _) => (files.as_slice(), t.clone(), None),
            (None, true) if files.len() == 2 => {
                (&files[..1], PathBuf::new(), Some(files[1].clone()))
            }
            (None, true) => {
                eprintln!(
                    "install: -T takes exactly SOURCE and DEST\nTry 'install --help' for more information."
                );
                return 1;
            }
            (None, false) if files.len() < 2 => {
                let what = match files.first() {
                    Some(f) => format!("missing destination file operand after '{}'", f.display()),
                    None => "missing file operand".to_string(),
                };
                eprintln!("install: {what}\nTry 'install --help' for more information.");
                return 1;
            }
            (None, false) => {
                let (last, srcs) = files.split_last().unwrap();
                // Two operands, and DEST not a directory (or -D): copy to that name.
                if srcs.len() == 1 && (m.get_flag("leading") || !last.is_dir()) {
                    (srcs, PathBuf::new(), Some(last.clone()))
                } else {
                    (srcs, last.clone(), None)
                }
            }
        };
        if m.get_flag("leading") {
            let lead = match &single {
                Some(dst) => dst.parent().map(Path::to_path_buf).unwrap_or_default(),
                None => dir.clone(),
            };
            if !lead.as_os_str().is_empty()
                && let Err(e) = make_dirs(&lead, None, &o)
            {
                eprintln!(
                    "install: cannot create directory '{}': {}",
                    lead.display(),
                    strerror(&e)
                );
                return 1;
            }
        }
        match single {
            Some(dst) => install_file(&sources[0], &dst, &o),
            None => {
                if !dir.is_dir() {
                    eprintln!("install: target '{}' is not a directory", dir.display());
                    return 1;
                }
                sources.iter().fold(true, |ok, s| {
                    let name = s.file_name().map(PathBuf::from).unwrap_or_default();
                    install_file(s, &dir.join(name), &o) & ok
                })
            }
        }
    };
    i32::from(!ok)
}
