//! zip (Info-ZIP's) on the `zip` crate: `zip [-r] [-q] [-j] [-y] [-0..-9]
//! ARCHIVE[.zip] FILE...`, adding to (or updating) an existing archive.
//! Entries keep their modes and mtimes (UTC); a member is deflated unless that
//! makes it no smaller, then stored, as Info-ZIP decides.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Seek, Write};
use std::path::Path;

use flate2::{Compression, write::DeflateEncoder};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::{args, help, strerror, utc};
use crate::wsh;

const HELP: &str = "Usage: zip [-options] zipfile file ...
Add the files to zipfile (made, or updated when it exists; \".zip\" is added
to a name without a suffix).

  -r   recurse into directories      -j   junk (don't record) directory names
  -q   quiet operation               -y   store symbolic links as the link
  -0   store only                    -1..-9  compress faster..better
      --help  display this help and exit

Exit status: 0, 12 when there is nothing to do, 15 when the archive cannot be
written, 18 when some files could not be read.
";

/// The command line, parsed.
struct Opts {
    recurse: bool,
    quiet: bool,
    junk: bool,
    links: bool,
    level: u32,
}

/// One member to write: its name in the archive and where it comes from.
struct Member {
    name: String,
    path: String,
    stat: wsh::Stat,
}

/// The members for `path` (and, with -r, what is under it).
fn collect(o: &Opts, path: &str, out: &mut Vec<Member>, status: &mut i32) {
    let stat = match wsh::stat(Path::new(path), !o.links) {
        Ok(s) => s,
        Err(e) => {
            if e.kind() == io::ErrorKind::NotFound {
                eprintln!("\tzip warning: name not matched: {path}");
            } else {
                eprintln!(
                    "\tzip warning: could not open for reading: {path}: {}",
                    strerror(&e)
                );
                *status = 18;
            }
            return;
        }
    };
    let kind = stat.mode & wsh::S_IFMT;
    if kind != wsh::S_IFREG && kind != wsh::S_IFDIR && kind != wsh::S_IFLNK {
        eprintln!("\tzip warning: ignoring special file: {path}");
        return;
    }
    let trimmed = path.trim_start_matches("./").trim_start_matches('/');
    let mut name = if o.junk {
        Path::new(trimmed)
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    } else {
        trimmed.trim_end_matches('/').to_string()
    };
    let is_dir = kind == wsh::S_IFDIR;
    if is_dir {
        if !o.junk && !name.is_empty() {
            name.push('/');
            out.push(Member {
                name,
                path: path.to_string(),
                stat,
            });
        }
        if o.recurse {
            let mut entries: Vec<String> = match fs::read_dir(path) {
                Ok(rd) => rd
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect(),
                Err(e) => {
                    eprintln!("\tzip warning: {path}: {}", strerror(&e));
                    *status = 18;
                    return;
                }
            };
            // Directory order is the image's; Info-ZIP's is the host's. Sorted is stable.
            entries.sort();
            for e in entries {
                let child = format!("{}/{e}", path.trim_end_matches('/'));
                collect(o, &child, out, status);
            }
        }
        return;
    }
    out.push(Member {
        name,
        path: path.to_string(),
        stat,
    });
}

/// The archive's time of a member: its mtime in UTC, clamped to what ZIP can hold.
fn mtime(stat: &wsh::Stat) -> DateTime {
    let (y, mo, d, h, mi, s, _) = utc(stat.mtime);
    let y = y.clamp(1980, 2107) as u16;
    DateTime::from_date_and_time(y, mo as u8, d as u8, h as u8, mi as u8, s as u8)
        .unwrap_or_default()
}

/// Writes one member; returns Info-ZIP's "(deflated N%)"/"(stored 0%)".
fn add<W: Write + Seek>(o: &Opts, zw: &mut ZipWriter<W>, m: &Member) -> io::Result<String> {
    let base = SimpleFileOptions::default()
        .last_modified_time(mtime(&m.stat))
        .unix_permissions(m.stat.mode & 0o7777);
    let kind = m.stat.mode & wsh::S_IFMT;
    if kind == wsh::S_IFDIR {
        zw.add_directory(m.name.as_str(), base)?;
        return Ok("(stored 0%)".into());
    }
    if kind == wsh::S_IFLNK {
        let target = fs::read_link(&m.path)?;
        zw.add_symlink(m.name.as_str(), target.to_string_lossy(), base)?;
        return Ok("(stored 0%)".into());
    }
    let mut data = Vec::new();
    fs::File::open(&m.path)?.read_to_end(&mut data)?;
    // Deflate first to see whether it pays, as Info-ZIP does.
    let packed = if o.level == 0 || data.is_empty() {
        None
    } else {
        let mut enc = DeflateEncoder::new(Vec::new(), Compression::new(o.level));
        enc.write_all(&data)?;
        Some(enc.finish()?.len())
    };
    let (method, note) = match packed {
        Some(n) if n < data.len() => {
            let pct = 100 - (n * 100).div_ceil(data.len());
            (CompressionMethod::Deflated, format!("(deflated {pct}%)"))
        }
        _ => (CompressionMethod::Stored, "(stored 0%)".to_string()),
    };
    let opts = base
        .compression_method(method)
        .compression_level((method == CompressionMethod::Deflated).then_some(i64::from(o.level)));
    zw.start_file(m.name.as_str(), opts)?;
    zw.write_all(&data)?;
    Ok(note)
}

/// Runs zip.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    let mut o = Opts {
        recurse: false,
        quiet: false,
        junk: false,
        links: false,
        level: 6,
    };
    let mut words = Vec::new();
    let mut options_done = false;
    for w in a {
        if options_done || !w.starts_with('-') || w == "-" {
            words.push(w);
            continue;
        }
        if w == "--" {
            options_done = true;
            continue;
        }
        for c in w[1..].chars() {
            match c {
                'r' => o.recurse = true,
                'q' => o.quiet = true,
                'j' => o.junk = true,
                'y' => o.links = true,
                'X' | 'D' => {}
                '0'..='9' => o.level = c.to_digit(10).unwrap_or(6),
                _ => {
                    eprintln!("zip error: Invalid command arguments (no such option: {c})");
                    return 16;
                }
            }
        }
    }
    let Some((archive, files)) = words.split_first() else {
        eprintln!(
            "zip error: Invalid command arguments (no archive named; zip as a filter is not supported)"
        );
        return 16;
    };
    let archive = if Path::new(archive).extension().is_none() {
        format!("{archive}.zip")
    } else {
        archive.clone()
    };
    let mut status = 0;
    let mut members = Vec::new();
    for f in files {
        collect(&o, f, &mut members, &mut status);
    }
    if members.is_empty() {
        eprintln!("\nzip error: Nothing to do! ({archive})");
        return 12;
    }
    match write_archive(&o, &archive, &members) {
        Ok(()) => status,
        Err(e) => {
            eprintln!(
                "zip I/O error: {}\nzip error: Could not create output file ({archive})",
                strerror(&e)
            );
            15
        }
    }
}

/// Writes `archive` (to a temporary name, then in place of the old one): the old
/// archive's members, each replaced in its place by a new one of the same name,
/// then the other new ones.
fn write_archive(o: &Opts, archive: &str, members: &[Member]) -> io::Result<()> {
    let tmp = format!("{archive}.wsh-zip-tmp");
    let result = (|| {
        let mut zw = ZipWriter::new(fs::File::create(&tmp)?);
        let mut out = io::stdout().lock();
        let mut done = vec![false; members.len()];
        let mut report = |m: &Member, note: String, verb: &str| {
            if o.quiet {
                Ok(())
            } else {
                writeln!(out, "{verb}: {} {note}", m.name)
            }
        };
        if let Ok(f) = fs::File::open(archive) {
            let mut old = ZipArchive::new(io::BufReader::new(f)).map_err(io::Error::other)?;
            for i in 0..old.len() {
                let entry = old.by_index_raw(i).map_err(io::Error::other)?;
                let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
                match members.iter().position(|m| m.name == name) {
                    Some(j) => {
                        drop(entry);
                        done[j] = true;
                        let note = add(o, &mut zw, &members[j])?;
                        report(&members[j], note, "updating")?;
                    }
                    None => zw.raw_copy_file(entry).map_err(io::Error::other)?,
                }
            }
        }
        for (m, _) in members.iter().zip(&done).filter(|(_, d)| !**d) {
            let note = add(o, &mut zw, m)?;
            report(m, note, "  adding")?;
        }
        zw.finish().map_err(io::Error::other)?;
        fs::rename(&tmp, archive)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
