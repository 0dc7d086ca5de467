//! gzip, xz and bzip2 (and gunzip/zcat, unxz/xzcat, bunzip2/bzcat) as one applet
//! on pure-Rust codecs: `flate2`, `lzma-rust2` (a port of XZ for Java) and `bzip2`
//! (libbz2-rs). argv[0] picks the format and the mode; tar uses the same codecs.

use std::ffi::OsString;
use std::io::{self, BufRead, Read, Write};

use super::strerror;

/// A compressed format.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Codec {
    Gzip,
    Xz,
    Bzip2,
}

/// An encoder that must be told the input is over (to write its trailer).
pub trait Finish: Write {
    /// Writes what is left and flushes.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

impl<W: Write> Finish for flate2::write::GzEncoder<W> {
    fn finish(self: Box<Self>) -> io::Result<()> {
        (*self).finish()?.flush()
    }
}

impl<W: Write> Finish for lzma_rust2::XzWriter<W> {
    fn finish(self: Box<Self>) -> io::Result<()> {
        (*self).finish()?.flush()
    }
}

impl<W: Write> Finish for bzip2::write::BzEncoder<W> {
    fn finish(self: Box<Self>) -> io::Result<()> {
        (*self).finish()?.flush()
    }
}

impl Codec {
    /// The format whose tools are called `name` (argv[0]): (codec, decompress, to stdout).
    fn of_tool(name: &str) -> (Codec, bool, bool) {
        match name {
            "gunzip" => (Codec::Gzip, true, false),
            "zcat" => (Codec::Gzip, true, true),
            "xz" => (Codec::Xz, false, false),
            "unxz" => (Codec::Xz, true, false),
            "xzcat" => (Codec::Xz, true, true),
            "bzip2" => (Codec::Bzip2, false, false),
            "bunzip2" => (Codec::Bzip2, true, false),
            "bzcat" => (Codec::Bzip2, true, true),
            _ => (Codec::Gzip, false, false),
        }
    }

    /// The format `data` (the first bytes of a stream) is in, by its magic number.
    pub fn sniff(data: &[u8]) -> Option<Codec> {
        if data.starts_with(&[0x1f, 0x8b]) {
            Some(Codec::Gzip)
        } else if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Codec::Xz)
        } else if data.starts_with(b"BZh") {
            Some(Codec::Bzip2)
        } else {
            None
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Codec::Gzip => ".gz",
            Codec::Xz => ".xz",
            Codec::Bzip2 => ".bz2",
        }
    }

    /// The short suffixes of compressed tar archives (`.tgz` is `.tar.gz`).
    fn tar_suffixes(self) -> &'static [&'static str] {
        match self {
            Codec::Gzip => &[".tgz", ".taz"],
            Codec::Xz => &[".txz"],
            Codec::Bzip2 => &[".tbz", ".tbz2", ".tz2"],
        }
    }

    fn default_level(self) -> u32 {
        match self {
            Codec::Gzip | Codec::Xz => 6,
            Codec::Bzip2 => 9,
        }
    }

    /// A compressing writer into `out` at `level` (1-9).
    pub fn encoder<'a>(
        self,
        out: Box<dyn Write + 'a>,
        level: u32,
    ) -> io::Result<Box<dyn Finish + 'a>> {
        Ok(match self {
            Codec::Gzip => Box::new(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::new(level),
            )),
            Codec::Xz => Box::new(lzma_rust2::XzWriter::new(
                out,
                lzma_rust2::XzOptions::with_preset(level),
            )?),
            Codec::Bzip2 => Box::new(bzip2::write::BzEncoder::new(
                out,
                bzip2::Compression::new(level),
            )),
        })
    }

    /// A decompressing reader of `input` (concatenated streams included, as the tools read them).
    pub fn decoder<'a>(self, input: Box<dyn Read + 'a>) -> Box<dyn Read + 'a> {
        match self {
            Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
            Codec::Xz => Box::new(lzma_rust2::XzReader::new(input, true)),
            Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(input)),
        }
    }

    /// What the tool says of input that is not in its format.
    fn not_this_format(self) -> &'static str {
        match self {
            Codec::Gzip => "not in gzip format",
            Codec::Xz => "File format not recognized",
            Codec::Bzip2 => "data integrity error when decompressing",
        }
    }
}

const HELP: &str = "Usage: gzip|xz|bzip2 [OPTION]... [FILE]...
Compress or uncompress FILEs (by default, compress FILES in-place).

  -c, --stdout      write on standard output, keep original files unchanged
  -d, --decompress  decompress
  -f, --force       force overwrite of output file
  -k, --keep        keep (don't delete) input files
  -1, --fast        compress faster
  -9, --best        compress better
      --help        display this help and exit

With no FILE, or when FILE is -, read standard input.
gunzip, unxz and bunzip2 decompress; zcat, xzcat and bzcat decompress to
standard output.
";

fn compress(codec: Codec, input: &mut dyn Read, out: &mut dyn Write, level: u32) -> io::Result<()> {
    let mut enc = codec.encoder(Box::new(out), level)?;
    io::copy(input, &mut enc)?;
    enc.finish()
}

fn decompress(codec: Codec, input: &mut dyn Read, out: &mut dyn Write) -> io::Result<()> {
    let mut input = io::BufReader::new(input);
    // An empty input is an error for the tools; a wrong magic number says which.
    if Codec::sniff(input.fill_buf()?) != Some(codec) {
        return Err(io::ErrorKind::InvalidData.into());
    }
    let mut dec = codec.decoder(Box::new(input));
    io::copy(&mut dec, out)?;
    out.flush()
}

/// Runs gzip, xz or bzip2 (or their decompressing names, by `argv[0]`).
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
    let (codec, mut decomp, mut to_stdout) = Codec::of_tool(&name);
    let (mut keep, mut force, mut level) = (false, false, codec.default_level());
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
                        'n' | 'N' | 'q' | 'v' => {}
                        'z' => decomp = false,
                        // xz's -T THREADS (attached, as `-T0`): one thread here anyway.
                        'T' => break,
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
                decompress(codec, &mut input, &mut out)
            } else {
                compress(codec, &mut input, &mut out, level)
            }
        } else if to_stdout {
            let mut out = io::stdout().lock();
            std::fs::File::open(&f).and_then(|mut input| {
                if decomp {
                    decompress(codec, &mut input, &mut out)
                } else {
                    compress(codec, &mut input, &mut out, level)
                }
            })
        } else {
            let suffix = codec.suffix();
            let target = if decomp {
                let tar = codec
                    .tar_suffixes()
                    .iter()
                    .find_map(|s| f.strip_suffix(s))
                    .map(|base| format!("{base}.tar"));
                match tar.or_else(|| f.strip_suffix(suffix).map(str::to_string)) {
                    Some(base) if !base.is_empty() => base,
                    _ => {
                        eprintln!("{name}: {f}: unknown suffix -- ignored");
                        status = status.max(2);
                        continue;
                    }
                }
            } else {
                if f.ends_with(suffix) {
                    eprintln!("{name}: {f} already has {suffix} suffix -- unchanged");
                    status = status.max(2);
                    continue;
                }
                format!("{f}{suffix}")
            };
            if !force && std::fs::symlink_metadata(&target).is_ok() {
                eprintln!("{name}: {target} already exists; not overwritten");
                status = status.max(2);
                continue;
            }
            let done = std::fs::File::open(&f).and_then(|mut input| {
                let mut out = io::BufWriter::new(std::fs::File::create(&target)?);
                if decomp {
                    decompress(codec, &mut input, &mut out)
                } else {
                    compress(codec, &mut input, &mut out, level)
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
                codec.not_this_format().to_string()
            } else {
                strerror(&e)
            };
            eprintln!("{name}: {}: {what}", if f == "-" { "stdin" } else { &f });
            status = 1;
        }
    }
    status
}
