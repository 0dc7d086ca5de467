//! gzip, gunzip and zcat on the `flate2` crate (one applet; argv[0] picks the mode).

use std::ffi::OsString;
use std::io::{self, Read, Write};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::strerror;

const HELP: &str = "Usage: gzip [OPTION]... [FILE]...
Compress or uncompress FILEs (by default, compress FILES in-place).

  -c, --stdout      write on standard output, keep original files unchanged
  -d, --decompress  decompress
  -f, --force       force overwrite of output file
  -k, --keep        keep (don't delete) input files
  -1, --fast        compress faster
  -9, --best        compress better
      --help        display this help and exit

With no FILE, or when FILE is -, read standard input.
gunzip is gzip -d; zcat is gzip -dc.
";

fn compress(input: &mut dyn Read, out: &mut dyn Write, level: u32) -> io::Result<()> {
    let mut enc = GzEncoder::new(out, Compression::new(level));
    io::copy(input, &mut enc)?;
    enc.finish()?.flush()
}

fn decompress(input: &mut dyn Read, out: &mut dyn Write) -> io::Result<()> {
    let mut dec = MultiGzDecoder::new(input);
    io::copy(&mut dec, out)?;
    out.flush()
}

/// Runs gzip (or gunzip/zcat, by `argv[0]`).
pub fn main(argv: Vec<OsString>) -> i32 {
    let name = argv
        .first()
        .map(|a| {
            a.to_string_lossy()
                .rsplit('/')
                .next()
                .unwrap_or("gzip")
                .to_string()
        })
        .unwrap_or_default();
    let (mut decomp, mut to_stdout) = match name.as_str() {
        "gunzip" => (true, false),
        "zcat" => (true, true),
        _ => (false, false),
    };
    let (mut keep, mut force, mut level) = (false, false, 6u32);
    let mut files = Vec::new();
    for arg in super::args(argv) {
        match arg.as_str() {
            "--help" => {
                print!("{HELP}");
                return 0;
            }
            "--stdout" | "--to-stdout" => to_stdout = true,
            "--decompress" | "--uncompress" => decomp = true,
            "--keep" => keep = true,
            "--force" => force = true,
            "--fast" => level = 1,
            "--best" => level = 9,
            s if s.starts_with('-') && s.len() > 1 => {
                for c in s[1..].chars() {
                    match c {
                        'c' => to_stdout = true,
                        'd' => decomp = true,
                        'k' => keep = true,
                        'f' => force = true,
                        'n' | 'N' | 'q' => {}
                        d @ '1'..='9' => level = d.to_digit(10).unwrap_or(6),
                        _ => {
                            eprintln!(
                                "{name}: invalid option -- '{c}'\nTry `{name} --help' for more information."
                            );
                            return 1;
                        }
                    }
                }
            }
            _ => files.push(arg),
        }
    }
    if files.is_empty() {
        files.push("-".into());
    }
    let mut status = 0;
    for f in files {
        let r = if f == "-" {
            let mut out = io::stdout().lock();
            let mut input = io::stdin().lock();
            if decomp {
                decompress(&mut input, &mut out)
            } else {
                compress(&mut input, &mut out, level)
            }
        } else if to_stdout {
            let mut out = io::stdout().lock();
            std::fs::File::open(&f).and_then(|mut input| {
                if decomp {
                    decompress(&mut input, &mut out)
                } else {
                    compress(&mut input, &mut out, level)
                }
            })
        } else {
            let target = if decomp {
                match f.strip_suffix(".gz").or_else(|| f.strip_suffix(".tgz")) {
                    Some(base) if f.ends_with(".tgz") => format!("{base}.tar"),
                    Some(base) => base.to_string(),
                    None => {
                        eprintln!("{name}: {f}: unknown suffix -- ignored");
                        status = status.max(2);
                        continue;
                    }
                }
            } else {
                if f.ends_with(".gz") {
                    eprintln!("{name}: {f} already has .gz suffix -- unchanged");
                    status = status.max(2);
                    continue;
                }
                format!("{f}.gz")
            };
            if !force && std::fs::symlink_metadata(&target).is_ok() {
                eprintln!("{name}: {target} already exists; not overwritten");
                status = status.max(2);
                continue;
            }
            let done = std::fs::File::open(&f).and_then(|mut input| {
                let mut out = io::BufWriter::new(std::fs::File::create(&target)?);
                if decomp {
                    decompress(&mut input, &mut out)
                } else {
                    compress(&mut input, &mut out, level)
                }
            });
            match done {
                Ok(()) if !keep => std::fs::remove_file(&f),
                Ok(()) => Ok(()),
                Err(e) => {
                    let _ = std::fs::remove_file(&target);
                    Err(e)
                }
            }
        };
        if let Err(e) = r {
            let what = if e.kind() == io::ErrorKind::InvalidInput
                || e.kind() == io::ErrorKind::InvalidData
            {
                "not in gzip format".to_string()
            } else {
                strerror(&e)
            };
            eprintln!("{name}: {}: {what}", if f == "-" { "stdin" } else { &f });
            status = 1;
        }
    }
    status
}
