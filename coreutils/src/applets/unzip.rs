//! unzip with Info-ZIP's common options (-l -o -n -q -d DIR, member names) on the
//! `zip` crate. Entries are extracted only below the destination (names that would
//! climb out are refused, as Info-ZIP skips them), with their Unix modes, symlinks
//! and modification times.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::{Arg, ArgAction, Command};

use super::strerror;
use crate::wsh;

fn command() -> Command {
    Command::new("unzip")
        .about("List or extract files from a ZIP archive (Info-ZIP's options).")
        .override_usage("unzip [-lonq] FILE[.zip] [MEMBER...] [-d DIR]")
        .args([
            Arg::new("list")
                .short('l')
                .action(ArgAction::SetTrue)
                .help("list the archive's files"),
            Arg::new("overwrite")
                .short('o')
                .action(ArgAction::SetTrue)
                .help("overwrite files without asking"),
            Arg::new("never")
                .short('n')
                .action(ArgAction::SetTrue)
                .help("never overwrite existing files"),
            Arg::new("quiet")
                .short('q')
                .action(ArgAction::Count)
                .help("quiet mode (-qq: quieter)"),
            Arg::new("pipe")
                .short('p')
                .action(ArgAction::SetTrue)
                .help("extract files to standard output"),
            Arg::new("dir").short('d').help("extract files into DIR"),
            Arg::new("archive").required(true),
            Arg::new("members").num_args(0..),
        ])
}

/// Seconds since the epoch of a ZIP (MS-DOS) local time, taken as UTC (the
/// container's time zone).
fn mtime(t: zip::DateTime) -> Option<SystemTime> {
    let (y, m, d) = (
        i64::from(t.year()),
        i64::from(t.month()),
        i64::from(t.day()),
    );
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400
        + i64::from(t.hour()) * 3600
        + i64::from(t.minute()) * 60
        + i64::from(t.second());
    u64::try_from(secs)
        .ok()
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
}

/// Whether member `name` is among `wanted` (all when none are named; `*` patterns allowed).
fn selected(name: &str, wanted: &[String]) -> bool {
    let chars: Vec<char> = name.chars().collect();
    wanted.is_empty()
        || wanted
            .iter()
            .any(|w| wsh_pattern::matches(&wsh_pattern::unquoted(w), &chars))
}

/// Runs unzip.
pub fn main(argv: Vec<OsString>) -> i32 {
    let m = match command().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return if e.kind() == clap::error::ErrorKind::DisplayHelp {
                0
            } else {
                10
            };
        }
    };
    let name = m.get_one::<String>("archive").cloned().unwrap_or_default();
    let wanted: Vec<String> = m
        .get_many::<String>("members")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let quiet = m.get_count("quiet");
    // Info-ZIP tries NAME, then NAME.zip.
    let file = fs::File::open(&name).or_else(|e| {
        if name.ends_with(".zip") {
            Err(e)
        } else {
            fs::File::open(format!("{name}.zip")).map_err(|_| e)
        }
    });
    let file = match file {
        Ok(f) => f,
        Err(_) => {
            eprintln!("unzip:  cannot find or open {name}, {name}.zip or {name}.ZIP.");
            return 9;
        }
    };
    let mut archive = match zip::ZipArchive::new(io::BufReader::new(file)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("unzip:  cannot read {name}: {e}");
            eprintln!("  End-of-central-directory signature not found: not a zipfile.");
            return 9;
        }
    };
    if m.get_flag("list") {
        return list(&mut archive, &name, &wanted);
    }
    let pipe = m.get_flag("pipe");
    let dest = PathBuf::from(m.get_one::<String>("dir").map_or(".", String::as_str));
    if !pipe && quiet == 0 {
        println!("Archive:  {name}");
    }
    let mut status = 0;
    let mut found = false;
    for i in 0..archive.len() {
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("unzip: {name}: entry {i}: {e}");
                status = 2;
                continue;
            }
        };
        let raw = entry.name().map(|n| n.to_string()).unwrap_or_default();
        if !selected(&raw, &wanted) {
            continue;
        }
        found = true;
        if pipe {
            let mut out = io::stdout().lock();
            if !entry.is_dir() && io::copy(&mut entry, &mut out).is_err() {
                return 2;
            }
            continue;
        }
        let Some(rel) = entry.enclosed_name() else {
            eprintln!("warning:  skipped \"../\" path component(s) in {raw}");
            status = 1;
            continue;
        };
        let path = dest.join(&rel);
        let result = extract(&mut entry, &path, &m, quiet);
        if let Err(e) = result {
            eprintln!("error:  cannot create {}: {}", path.display(), strerror(&e));
            status = 2;
        }
    }
    if !wanted.is_empty() && !found {
        eprintln!("caution: filename not matched:  {}", wanted.join(" "));
        return 11;
    }
    status
}

fn extract<R: Read>(
    entry: &mut zip::read::ZipFile<'_, R>,
    path: &Path,
    m: &clap::ArgMatches,
    quiet: u8,
) -> io::Result<()> {
    let mode = entry.unix_mode();
    if entry.is_dir() {
        if quiet == 0 {
            println!("   creating: {}", path.display());
        }
        fs::create_dir_all(path)?;
        if let Some(mode) = mode {
            wsh::chmod(path, mode & 0o7777)?;
        }
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    if fs::symlink_metadata(path).is_ok() {
        if m.get_flag("never") {
            return Ok(());
        }
        if !m.get_flag("overwrite") {
            // Without a terminal to ask, Info-ZIP's default answer is to keep the file.
            eprintln!(
                "unzip: {} exists; not overwritten (use -o to overwrite)",
                path.display()
            );
            return Ok(());
        }
        fs::remove_file(path)?;
    }
    if entry.is_symlink() {
        let mut target = Vec::new();
        entry.read_to_end(&mut target)?;
        if quiet == 0 {
            println!(
                "    linking: {}  -> {}",
                path.display(),
                String::from_utf8_lossy(&target)
            );
        }
        rustix::fs::symlink(target.as_slice(), path)?;
        return Ok(());
    }
    if quiet == 0 {
        let verb = if entry.compression() == zip::CompressionMethod::Stored {
            "extracting"
        } else {
            "inflating"
        };
        println!("  {verb:>9}: {}", path.display());
    }
    let mut out = fs::File::create(path)?;
    io::copy(entry, &mut out)?;
    out.flush()?;
    if let Some(t) = entry.last_modified().and_then(mtime) {
        let _ = out.set_modified(t);
    }
    drop(out);
    if let Some(mode) = mode {
        wsh::chmod(path, mode & 0o7777)?;
    }
    Ok(())
}

/// `unzip -l`: Info-ZIP's listing.
fn list<R: Read + io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
    wanted: &[String],
) -> i32 {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "Archive:  {name}");
    let _ = writeln!(out, "  Length      Date    Time    Name");
    let _ = writeln!(out, "---------  ---------- -----   ----");
    let (mut total, mut files) = (0u64, 0usize);
    for i in 0..archive.len() {
        let Ok(e) = archive.by_index(i) else { continue };
        let n = e.name().map(|n| n.to_string()).unwrap_or_default();
        if !selected(&n, wanted) {
            continue;
        }
        let when = e.last_modified().map_or_else(
            || "1980-01-01 00:00".to_string(),
            |t| {
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}",
                    t.year(),
                    t.month(),
                    t.day(),
                    t.hour(),
                    t.minute()
                )
            },
        );
        let _ = writeln!(out, "{:>9}  {when}   {n}", e.size());
        total += e.size();
        files += 1;
    }
    let _ = writeln!(out, "---------                     -------");
    let plural = if files == 1 { "file" } else { "files" };
    let _ = writeln!(out, "{total:>9}                     {files} {plural}");
    0
}
