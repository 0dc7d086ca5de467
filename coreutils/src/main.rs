//! The wsh userland: one busybox-style multi-call WASI program.
//!
//! `/bin/cat ARGS...` (argv[0]'s basename names the applet) and
//! `coreutils cat ARGS...` both run uutils' `cat`; `coreutils --list` prints
//! the applet names, one a line. The applets are listed once, in applets.txt;
//! build.rs turns that list into `APPLETS`.

// Every `uu_*` dependency must be reachable from applets.txt, and the other
// way round the generated table names every crate: an applet added to one
// place only fails the build.
#![deny(unused_crate_dependencies)]

mod applets;
mod wsh;

use std::ffi::OsString;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

// Needed only for the features it enables on uucore's behalf (see Cargo.toml).
use rustix as _;

struct Applet {
    /// What argv[0]'s basename (or the first argument of `coreutils`) says.
    name: &'static str,
    /// The utility name of the uutils crate, as uucore's localisation knows it
    /// (empty for our own applets, which need no localisation).
    util: &'static str,
    main: fn(Vec<OsString>) -> i32,
}

include!(concat!(env!("OUT_DIR"), "/applets.rs"));

/// The names this program answers to as itself, rather than as an applet.
const SELF_NAMES: &[&str] = &["coreutils", "coreutils.wasm"];

fn find(name: &str) -> Option<&'static Applet> {
    APPLETS
        .binary_search_by(|a| a.name.cmp(name))
        .ok()
        .map(|i| &APPLETS[i])
}

fn basename(arg: &OsString) -> String {
    let s = arg.to_string_lossy();
    let s = s.trim_end_matches('/');
    s.rsplit('/').next().unwrap_or(s).to_string()
}

fn usage(mut out: impl std::io::Write) {
    let _ = writeln!(
        out,
        "Usage: coreutils APPLET [ARGUMENT]...\n   or: APPLET [ARGUMENT]...  (with argv[0] naming the applet)\n   or: coreutils --list\n\nApplets:"
    );
    for a in APPLETS {
        let _ = writeln!(out, "  {}", a.name);
    }
}

/// Rust's std::env::temp_dir() panics on WASI; the tempfile crate (sort,
/// mktemp, ...) asks it unless told where temporary files go.
fn set_temp_dir(applet: &str) {
    let tmpdir: OsString = if applet == "tac" {
        // tac spools stdin to a temp file and mmaps it; WASI has no mmap, so make
        // the spool fail and tac falls back to reading stdin into memory.
        "/nonexistent/wsh-no-mmap".into()
    } else {
        std::env::var_os("TMPDIR")
            .filter(|d| Path::new(d).is_absolute())
            .unwrap_or_else(|| "/tmp".into())
    };
    let _ = tempfile::env::override_temp_dir(Path::new(&tmpdir));
}

fn main() -> ExitCode {
    // The WASI host preopens the image root as "/" and says where we start
    // (the `cwd` host call); wasi-libc's own working directory starts at "/".
    if let Some(dir) = wsh::cwd()
        && dir.is_absolute()
    {
        let _ = std::env::set_current_dir(&dir);
    }
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let Some(argv0) = args.first() else {
        usage(std::io::stderr());
        return ExitCode::from(1);
    };
    let mut name = basename(argv0);

    if SELF_NAMES.contains(&name.as_str()) {
        match args
            .get(1)
            .map(|a| a.to_string_lossy().into_owned())
            .as_deref()
        {
            Some("--list") => {
                let mut out = std::io::stdout().lock();
                for a in APPLETS {
                    if writeln!(out, "{}", a.name).is_err() {
                        return ExitCode::from(1);
                    }
                }
                return if out.flush().is_ok() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                };
            }
            Some("--help" | "-h") => {
                usage(std::io::stdout());
                let _ = std::io::stdout().flush();
                return ExitCode::SUCCESS;
            }
            None => {
                usage(std::io::stderr());
                return ExitCode::from(1);
            }
            Some(_) => {
                // `coreutils APPLET ARGS...`: uucore then takes argv[1] as the
                // utility's name in its messages.
                uucore::set_utility_is_second_arg();
                args.remove(0);
                name = basename(&args[0]);
            }
        }
    }

    let Some(applet) = find(&name) else {
        eprintln!("coreutils: {name}: applet not found");
        return ExitCode::from(127);
    };

    set_temp_dir(&name);

    // What uucore's own `bin!` main does before `uumain`.
    uucore::panic::mute_sigpipe_panic();
    if !applet.util.is_empty()
        && let Err(err) = uucore::locale::setup_localization(applet.util)
    {
        eprintln!("coreutils: {name}: could not initialise localisation: {err}");
        return ExitCode::from(99);
    }

    let code = (applet.main)(args);
    if let Err(e) = std::io::stdout().flush() {
        eprintln!("{name}: error flushing stdout: {e}");
    }
    // Exit statuses are 0..=255 on the host side too.
    ExitCode::from(code as u8)
}
