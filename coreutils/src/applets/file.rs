//! file: what a file holds, in the words of file 5.44 (Debian 12) where it can:
//! directories, links, empty files, text (ASCII, UTF-8, ISO-8859; line
//! terminators, long lines, escapes), scripts, JSON, HTML, XML, WebAssembly and
//! ELF headers are recognised here; other binary formats by the `infer` crate's
//! magic numbers. For those, and for ELF, GNU's words are followed by details
//! (image sizes, versions, linking) that this file does not print.

use std::ffi::OsString;
use std::path::Path;

use super::{args, help, strerror};
use crate::wsh;

const HELP: &str = "Usage: file [OPTION...] FILE...
Determine type of FILEs.

  -b, --brief            do not prepend filenames to output lines
  -i, --mime             output MIME type strings (--mime-type and --mime-encoding)
      --mime-type        output the MIME type
      --mime-encoding    output the MIME encoding
  -L, --dereference      follow symlinks
  -h, --no-dereference   don't follow symlinks (default)
      --help             display this help and exit
";

/// What a file is: file's description, MIME type and MIME encoding.
struct Kind {
    desc: String,
    mime: String,
    charset: &'static str,
}

fn kind(desc: impl Into<String>, mime: &str, charset: &'static str) -> Kind {
    Kind {
        desc: desc.into(),
        mime: mime.into(),
        charset,
    }
}

/// The bytes file treats as text: BEL..CR, ESC and the printable ones.
fn text_byte(b: u8) -> bool {
    matches!(b, 7..=13 | 27 | 0x20..=0x7e)
}

/// Text's encoding (file's word and charset), or None for data.
fn encoding(data: &[u8]) -> Option<(&'static str, &'static str)> {
    if data.iter().all(|&b| text_byte(b)) {
        return Some(("ASCII", "us-ascii"));
    }
    if let Ok(s) = std::str::from_utf8(data)
        && s.chars().all(|c| !c.is_ascii() || text_byte(c as u8))
    {
        return Some(("Unicode text, UTF-8", "utf-8"));
    }
    if data.iter().all(|&b| text_byte(b) || b >= 0xa0) {
        return Some(("ISO-8859", "iso-8859-1"));
    }
    None
}

/// file's remarks on a text: long lines, line terminators, escapes, backspaces.
fn remarks(data: &[u8]) -> String {
    let (mut crlf, mut cr, mut lf) = (0, 0, 0);
    let (mut longest, mut len) = (0, 0);
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\r' if data.get(i + 1) == Some(&b'\n') => {
                crlf += 1;
                i += 1;
                longest = longest.max(len);
                len = 0;
            }
            b'\r' => {
                cr += 1;
                longest = longest.max(len);
                len = 0;
            }
            b'\n' => {
                lf += 1;
                longest = longest.max(len);
                len = 0;
            }
            _ => len += 1,
        }
        i += 1;
    }
    longest = longest.max(len);
    let mut s = String::new();
    // file 5.44's MAXLINELEN.
    if longest > 300 {
        s += &format!(", with very long lines ({longest})");
    }
    if crlf + cr + lf == 0 {
        s += ", with no line terminators";
    } else if crlf + cr > 0 {
        let mut kinds = Vec::new();
        if crlf > 0 {
            kinds.push("CRLF");
        }
        if cr > 0 {
            kinds.push("CR");
        }
        if lf > 0 {
            kinds.push("LF");
        }
        s += &format!(", with {} line terminators", kinds.join(", "));
    }
    if data.contains(&27) {
        s += ", with escape sequences";
    }
    if data.contains(&8) {
        s += ", with overstriking";
    }
    s
}

/// A `#!` line's script kind and MIME type.
fn script(first: &str) -> (String, &'static str) {
    let mut words = first[2..].split_whitespace();
    let interp = words.next().unwrap_or("");
    let base = interp.rsplit('/').next().unwrap_or(interp);
    let prog = if base == "env" {
        words.next().unwrap_or("")
    } else {
        base
    };
    match prog {
        "sh" | "dash" => ("POSIX shell script".into(), "text/x-shellscript"),
        "bash" => ("Bourne-Again shell script".into(), "text/x-shellscript"),
        p if p.starts_with("python") => ("Python script".into(), "text/x-script.python"),
        _ => (format!("a {} script", first[2..].trim()), "text/plain"),
    }
}

/// Classifies a text.
fn text(data: &[u8], enc: &str, charset: &'static str) -> Kind {
    let body = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let enc = if body.len() < data.len() {
        "Unicode text, UTF-8 (with BOM)"
    } else {
        enc
    };
    let rest = remarks(body);
    let s = String::from_utf8_lossy(body);
    let trimmed = s.trim_start();
    let lower = trimmed
        .get(..trimmed.len().min(64))
        .unwrap_or("")
        .to_ascii_lowercase();
    if s.starts_with("#!") {
        let first = s.lines().next().unwrap_or("");
        let (what, mime) = script(first);
        return kind(
            format!("{what}, {enc} text executable{rest}"),
            mime,
            charset,
        );
    }
    if lower.starts_with("<?xml version=\"1.0\"") {
        return kind(
            format!("XML 1.0 document, {enc} text{rest}"),
            "text/xml",
            charset,
        );
    }
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return kind(
            format!("HTML document, {enc} text{rest}"),
            "text/html",
            charset,
        );
    }
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && jaq_all::json::read::parse_single(body).is_ok()
    {
        return kind("JSON text data", "application/json", charset);
    }
    kind(format!("{enc} text{rest}"), "text/plain", charset)
}

/// An ELF header's class, byte order, type and machine.
fn elf(data: &[u8]) -> Kind {
    let bits = if data.get(4) == Some(&2) { 64 } else { 32 };
    let big = data.get(5) == Some(&2);
    let half = |at: usize| {
        let b = [
            data.get(at).copied().unwrap_or(0),
            data.get(at + 1).copied().unwrap_or(0),
        ];
        if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    };
    let (what, mime) = match half(16) {
        1 => ("relocatable", "application/x-object"),
        2 => ("executable", "application/x-executable"),
        3 => ("shared object", "application/x-sharedlib"),
        4 => ("core file", "application/x-coredump"),
        _ => ("unknown type", "application/octet-stream"),
    };
    let machine = match half(18) {
        3 => "Intel 80386",
        40 => "ARM",
        62 => "x86-64",
        183 => "ARM aarch64",
        243 => "UCB RISC-V",
        _ => "unknown machine",
    };
    let order = if big { "MSB" } else { "LSB" };
    kind(
        format!("ELF {bits}-bit {order} {what}, {machine}"),
        mime,
        "binary",
    )
}

/// GNU file's leading words for the formats `infer` knows, by extension.
fn infer_words(t: &infer::Type, data: &[u8]) -> String {
    let words = match t.extension() {
        "png" => "PNG image data",
        "jpg" => "JPEG image data",
        "gif" => "GIF image data",
        "bmp" => "PC bitmap",
        "webp" => "RIFF (little-endian) data",
        "pdf" => "PDF document",
        "gz" => "gzip compressed data",
        "bz2" => "bzip2 compressed data",
        "xz" => "XZ compressed data",
        "zst" => "Zstandard compressed data",
        "zip" => "Zip archive data",
        // GNU tar's own header magic, or POSIX ustar's.
        "tar" if data.get(257..265) == Some(b"ustar  \0") => "POSIX tar archive (GNU)",
        "tar" => "POSIX tar archive",
        "7z" => "7-zip archive data",
        "wasm" => "WebAssembly (wasm) binary module",
        "sqlite" => "SQLite 3.x database",
        "mp3" => "Audio file with ID3 version 2",
        _ => return format!("{} data", t.mime_type()),
    };
    words.to_string()
}

/// What `path` is.
fn classify(path: &str, follow: bool) -> Result<Kind, String> {
    let st = wsh::stat(Path::new(path), follow)
        .map_err(|e| format!("cannot open `{path}' ({})", strerror(&e)))?;
    match st.mode & wsh::S_IFMT {
        wsh::S_IFDIR => return Ok(kind("directory", "inode/directory", "binary")),
        wsh::S_IFLNK => {
            let target = std::fs::read_link(path).map_err(|e| strerror(&e))?;
            let broken = if std::fs::metadata(path).is_err() {
                "broken "
            } else {
                ""
            };
            let desc = format!("{broken}symbolic link to {}", target.display());
            return Ok(kind(desc, "inode/symlink", "binary"));
        }
        wsh::S_IFCHR => return Ok(kind("character special", "inode/chardevice", "binary")),
        wsh::S_IFIFO => return Ok(kind("fifo (named pipe)", "inode/fifo", "binary")),
        _ => {}
    }
    let data =
        std::fs::read(path).map_err(|e| format!("cannot open `{path}' ({})", strerror(&e)))?;
    if data.is_empty() {
        return Ok(kind("empty", "inode/x-empty", "binary"));
    }
    if data.starts_with(b"\0asm") && data.len() >= 8 {
        let v = u32::from_le_bytes([data[4], data[5], data[6], data[7]]);
        let mvp = if v == 1 { " (MVP)" } else { "" };
        let desc = format!("WebAssembly (wasm) binary module version {v:#x}{mvp}");
        return Ok(kind(desc, "application/wasm", "binary"));
    }
    if data.starts_with(b"\x7fELF") {
        return Ok(elf(&data));
    }
    // Text first: infer's matchers also claim some texts (scripts, HTML).
    if let Some((enc, charset)) = encoding(&data) {
        return Ok(text(&data, enc, charset));
    }
    match infer::get(&data) {
        Some(t) => Ok(kind(infer_words(&t, &data), t.mime_type(), "binary")),
        None => Ok(kind("data", "application/octet-stream", "binary")),
    }
}

/// Runs file.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    let (mut brief, mut follow, mut mime_type, mut mime_enc) = (false, false, false, false);
    let mut files = Vec::new();
    let mut options_done = false;
    for w in a {
        if options_done || !w.starts_with('-') || w == "-" {
            files.push(w);
            continue;
        }
        match w.as_str() {
            "--" => options_done = true,
            "--brief" => brief = true,
            "--mime" => (mime_type, mime_enc) = (true, true),
            "--mime-type" => mime_type = true,
            "--mime-encoding" => mime_enc = true,
            "--dereference" => follow = true,
            "--no-dereference" => follow = false,
            long if long.starts_with("--") => {
                eprintln!(
                    "file: unrecognized option '{long}'\nUsage: file [-bchikLlNnprsSvzZ0] [--help] file ..."
                );
                return 1;
            }
            short => {
                for c in short[1..].chars() {
                    match c {
                        'b' => brief = true,
                        'i' => (mime_type, mime_enc) = (true, true),
                        'L' => follow = true,
                        'h' => follow = false,
                        _ => {
                            eprintln!(
                                "file: invalid option -- '{c}'\nUsage: file [-bchikLlNnprsSvzZ0] [--help] file ..."
                            );
                            return 1;
                        }
                    }
                }
            }
        }
    }
    if files.is_empty() {
        eprintln!("Usage: file [-bchikLlNnprsSvzZ0] [--help] file ...");
        return 1;
    }
    // Names are padded to one column, as file does.
    let width = files
        .iter()
        .map(|f| f.chars().count() + 1)
        .max()
        .unwrap_or(0);
    for f in &files {
        let line = match classify(f, follow) {
            Ok(k) => match (mime_type, mime_enc) {
                (true, true) => format!("{}; charset={}", k.mime, k.charset),
                (true, false) => k.mime,
                (false, true) => k.charset.to_string(),
                (false, false) => k.desc,
            },
            Err(e) => e,
        };
        if brief {
            println!("{line}");
        } else {
            println!("{:<width$} {line}", format!("{f}:"));
        }
    }
    0
}
