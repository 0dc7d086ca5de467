//! iconv (glibc's): `-f FROM -t TO [-c] [-o FILE] [FILE...]` and `-l`.
//!
//! UTF-8, ISO-8859-1, US-ASCII and the UTF-16/UTF-32 family are converted here
//! with the standard library: encoding_rs follows the WHATWG Encoding Standard,
//! which reads "latin1" as windows-1252 and has no UTF-16 encoder. Every other
//! WHATWG encoding (windows-125x, ISO-8859-2..16, KOI8, Shift_JIS, EUC-JP,
//! EUC-KR, GBK, GB18030, Big5...) goes through encoding_rs.

use std::ffi::OsString;
use std::io::{self, Read, Write};

use encoding_rs::{DecoderResult, EncoderResult, Encoding};

use super::{args, help, strerror};

const HELP: &str = "Usage: iconv [OPTION...] [FILE...]
Convert encoding of given files from one encoding to another.

 Input/Output format specification:
  -f, --from-code=NAME       encoding of original text
  -t, --to-code=NAME         encoding for output

 Information:
  -l, --list                 list all known coded character sets

 Output control:
  -c                         omit invalid characters from output
  -o, --output=FILE          output file
  -s, --silent               suppress warnings
      --help                 Give this help list

Without -f or -t the encoding is UTF-8. A `//IGNORE` suffix on the target is -c;
`//TRANSLIT` is not supported.
";

/// The encodings iconv knows, as one name each (-l), the ones done here first.
const OWN: &[&str] = &[
    "UTF-8",
    "ISO-8859-1",
    "US-ASCII",
    "UTF-16",
    "UTF-16LE",
    "UTF-16BE",
    "UTF-32",
    "UTF-32LE",
    "UTF-32BE",
];

/// A character set.
#[derive(Clone, Copy)]
enum Charset {
    Utf8,
    Latin1,
    Ascii,
    /// UTF-16: little-endian unless a byte-order mark says otherwise; `bom`
    /// when the name gave no byte order (a BOM is read and written).
    Utf16 {
        big: bool,
        bom: bool,
    },
    Utf32 {
        big: bool,
        bom: bool,
    },
    Other(&'static Encoding),
}

/// The charset a (case-insensitive) name means.
fn charset(name: &str) -> Option<Charset> {
    let n = name.to_ascii_uppercase().replace('_', "-");
    Some(match n.as_str() {
        "UTF-8" | "UTF8" => Charset::Utf8,
        "ISO-8859-1" | "ISO8859-1" | "LATIN1" | "LATIN-1" | "L1" | "CP819" | "IBM819" => {
            Charset::Latin1
        }
        "ASCII" | "US-ASCII" | "ANSI-X3.4-1968" | "ISO646-US" | "US" | "646" => Charset::Ascii,
        "UTF-16" | "UTF16" => Charset::Utf16 {
            big: false,
            bom: true,
        },
        "UTF-16LE" | "UTF16LE" => Charset::Utf16 {
            big: false,
            bom: false,
        },
        "UTF-16BE" | "UTF16BE" => Charset::Utf16 {
            big: true,
            bom: false,
        },
        "UTF-32" | "UTF32" => Charset::Utf32 {
            big: false,
            bom: true,
        },
        "UTF-32LE" | "UTF32LE" => Charset::Utf32 {
            big: false,
            bom: false,
        },
        "UTF-32BE" | "UTF32BE" => Charset::Utf32 {
            big: true,
            bom: false,
        },
        _ => {
            let e = Encoding::for_label_no_replacement(name.as_bytes())?;
            // WHATWG labels that name what is done above (UTF-16 has no encoder there).
            if e == encoding_rs::UTF_8 || e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE {
                return None;
            }
            Charset::Other(e)
        }
    })
}

/// Why decoding stopped: glibc's two messages (the first at a byte position).
enum Bad {
    Illegal(usize),
    Incomplete,
}

/// Decodes `input` into characters, each with the offset of its first byte.
/// With `skip`, invalid sequences are left out instead of ending the text.
fn decode(cs: Charset, input: &[u8], skip: bool) -> (Vec<(char, usize)>, Option<Bad>) {
    let mut out = Vec::new();
    let mut stop = None;
    match cs {
        Charset::Utf8 => {
            let mut pos = 0;
            for chunk in input.utf8_chunks() {
                for (i, c) in chunk.valid().char_indices() {
                    out.push((c, pos + i));
                }
                pos += chunk.valid().len();
                if !chunk.invalid().is_empty() {
                    let at_end = pos + chunk.invalid().len() == input.len();
                    if !skip {
                        // A sequence cut short by the end of the input is incomplete.
                        let cut = at_end && chunk.invalid()[0] >= 0xC2 && chunk.invalid().len() < 4;
                        stop = Some(if cut {
                            Bad::Incomplete
                        } else {
                            Bad::Illegal(pos)
                        });
                        break;
                    }
                    pos += chunk.invalid().len();
                }
            }
        }
        Charset::Latin1 => out.extend(input.iter().enumerate().map(|(i, &b)| (b as char, i))),
        Charset::Ascii => {
            for (i, &b) in input.iter().enumerate() {
                if b < 0x80 {
                    out.push((b as char, i));
                } else if !skip {
                    stop = Some(Bad::Illegal(i));
                    break;
                }
            }
        }
        Charset::Utf16 { big, bom } | Charset::Utf32 { big, bom } => {
            let width = if matches!(cs, Charset::Utf16 { .. }) {
                2
            } else {
                4
            };
            let mut big = big;
            let mut start = 0;
            if bom && input.len() >= width {
                let mark = &input[..width];
                let (le, be): (&[u8], &[u8]) = if width == 2 {
                    (&[0xFF, 0xFE], &[0xFE, 0xFF])
                } else {
                    (&[0xFF, 0xFE, 0, 0], &[0, 0, 0xFE, 0xFF])
                };
                if mark == le || mark == be {
                    big = mark == be;
                    start = width;
                }
            }
            let unit = |c: &[u8]| -> u32 {
                let v = c.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b));
                if big {
                    v
                } else if width == 2 {
                    u32::from((v as u16).swap_bytes())
                } else {
                    v.swap_bytes()
                }
            };
            let mut i = start;
            while i < input.len() {
                if input.len() - i < width {
                    stop = Some(Bad::Incomplete);
                    break;
                }
                let u = unit(&input[i..i + width]);
                let (c, len) = if width == 2 && (0xD800..0xDC00).contains(&u) {
                    // A high surrogate: the low one must follow.
                    if input.len() - i < 4 {
                        stop = Some(Bad::Incomplete);
                        break;
                    }
                    let lo = unit(&input[i + 2..i + 4]);
                    let c = (0xDC00..0xE000)
                        .contains(&lo)
                        .then(|| char::from_u32(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)))
                        .flatten();
                    (c, 4)
                } else {
                    (char::from_u32(u), width)
                };
                match c {
                    Some(c) => out.push((c, i)),
                    None if skip => {}
                    None => {
                        stop = Some(Bad::Illegal(i));
                        break;
                    }
                }
                i += len;
            }
        }
        Charset::Other(enc) => {
            // One byte at a time, so that every character knows where it started.
            let mut dec = enc.new_decoder_without_bom_handling();
            let mut start = 0;
            let mut buf = String::with_capacity(16);
            for (i, b) in input.iter().enumerate() {
                buf.clear();
                let last = i + 1 == input.len();
                let (res, _) = dec.decode_to_string_without_replacement(
                    std::slice::from_ref(b),
                    &mut buf,
                    last,
                );
                out.extend(buf.chars().map(|c| (c, start)));
                match res {
                    DecoderResult::Malformed(..) if !skip => {
                        stop = Some(Bad::Illegal(start));
                        break;
                    }
                    DecoderResult::Malformed(..) => start = i + 1,
                    _ if !buf.is_empty() => start = i + 1,
                    _ => {}
                }
            }
        }
    }
    (out, stop)
}

/// Appends `c` in `cs`; false when `cs` cannot represent it.
fn encode(cs: Charset, c: char, first: bool, out: &mut Vec<u8>) -> bool {
    match cs {
        Charset::Utf8 => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        Charset::Latin1 | Charset::Ascii => {
            let max = if matches!(cs, Charset::Latin1) {
                0xFF
            } else {
                0x7F
            };
            if u32::from(c) > max {
                return false;
            }
            out.push(c as u8);
        }
        Charset::Utf16 { big, bom } => {
            if bom && first {
                out.extend_from_slice(&[0xFF, 0xFE]);
            }
            for u in c.encode_utf16(&mut [0; 2]) {
                out.extend_from_slice(&if big {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                });
            }
        }
        Charset::Utf32 { big, bom } => {
            if bom && first {
                out.extend_from_slice(&[0xFF, 0xFE, 0, 0]);
            }
            let u = u32::from(c);
            out.extend_from_slice(&if big {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        Charset::Other(enc) => {
            let mut e = enc.new_encoder();
            let mut buf = [0u8; 16];
            let (res, _, written) =
                e.encode_from_utf8_without_replacement(c.encode_utf8(&mut [0; 4]), &mut buf, true);
            if !matches!(res, EncoderResult::InputEmpty) {
                return false;
            }
            out.extend_from_slice(&buf[..written]);
        }
    }
    true
}

/// Runs iconv.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    let (mut from, mut to, mut output) = (None, None, None);
    let (mut skip, mut list) = (false, false);
    let mut files = Vec::new();
    let mut it = a.into_iter();
    while let Some(w) = it.next() {
        let mut value = |long: &str, w: &str| -> Option<String> {
            match w.strip_prefix(long).and_then(|r| r.strip_prefix('=')) {
                Some(v) => Some(v.to_string()),
                None if w.len() > 2 && !w.starts_with("--") => Some(w[2..].to_string()),
                None => it.next(),
            }
        };
        let missing = |o: &str| {
            eprintln!(
                "iconv: option requires an argument -- '{o}'\nTry 'iconv --help' for more information."
            );
            1
        };
        match w.as_str() {
            "-c" => skip = true,
            "-l" | "--list" => list = true,
            "-s" | "--silent" => {}
            "--" => files.extend(it.by_ref()),
            _ if w.starts_with("-f") || w.starts_with("--from-code") => {
                match value("--from-code", &w) {
                    Some(v) => from = Some(v),
                    None => return missing("f"),
                }
            }
            _ if w.starts_with("-t") || w.starts_with("--to-code") => {
                match value("--to-code", &w) {
                    Some(v) => to = Some(v),
                    None => return missing("t"),
                }
            }
            _ if w.starts_with("-o") || w.starts_with("--output") => match value("--output", &w) {
                Some(v) => output = Some(v),
                None => return missing("o"),
            },
            _ if w.starts_with('-') && w != "-" => {
                eprintln!(
                    "iconv: unrecognized option '{w}'\nTry 'iconv --help' for more information."
                );
                return 1;
            }
            _ => files.push(w),
        }
    }
    if list {
        let mut names: Vec<&str> = OWN.to_vec();
        for label in [
            "windows-1250",
            "windows-1251",
            "windows-1252",
            "windows-1253",
            "windows-1254",
            "windows-1255",
            "windows-1256",
            "windows-1257",
            "windows-1258",
            "ISO-8859-2",
            "ISO-8859-3",
            "ISO-8859-4",
            "ISO-8859-5",
            "ISO-8859-6",
            "ISO-8859-7",
            "ISO-8859-8",
            "ISO-8859-10",
            "ISO-8859-13",
            "ISO-8859-14",
            "ISO-8859-15",
            "ISO-8859-16",
            "KOI8-R",
            "KOI8-U",
            "IBM866",
            "macintosh",
            "x-mac-cyrillic",
            "windows-874",
            "GBK",
            "GB18030",
            "Big5",
            "EUC-JP",
            "ISO-2022-JP",
            "Shift_JIS",
            "EUC-KR",
        ] {
            names.push(label);
        }
        println!("{}", names.join("\n"));
        return 0;
    }
    // glibc's suffixes: //IGNORE omits what cannot be converted.
    let strip = |n: Option<String>| -> (String, String) {
        let n = n.unwrap_or_else(|| "UTF-8".into());
        match n.find("//") {
            Some(i) => (n[..i].to_string(), n[i + 2..].to_ascii_uppercase()),
            None => (n, String::new()),
        }
    };
    let (from_name, _) = strip(from);
    let (to_name, suffix) = strip(to);
    if suffix.contains("IGNORE") {
        skip = true;
    } else if !suffix.is_empty() {
        eprintln!("iconv: conversion to `{to_name}//{suffix}' is not supported");
        return 1;
    }
    let (Some(src), Some(dst)) = (charset(&from_name), charset(&to_name)) else {
        let (what, name) = match charset(&from_name) {
            None => ("from", &from_name),
            Some(_) => ("to", &to_name),
        };
        eprintln!("iconv: conversion {what} `{name}' is not supported");
        return 1;
    };
    if files.is_empty() {
        files.push("-".into());
    }
    let mut out_bytes = Vec::new();
    let mut status = 0;
    let mut first = true;
    for f in &files {
        let mut input = Vec::new();
        let read = if f == "-" {
            io::stdin().lock().read_to_end(&mut input)
        } else {
            std::fs::File::open(f).and_then(|mut h| h.read_to_end(&mut input))
        };
        if let Err(e) = read {
            eprintln!("iconv: cannot open input file `{f}': {}", strerror(&e));
            status = 1;
            continue;
        }
        let (chars, bad) = decode(src, &input, skip);
        let mut unconvertible = None;
        for (c, at) in chars {
            if !encode(dst, c, first, &mut out_bytes) {
                if skip {
                    continue;
                }
                unconvertible = Some(at);
                break;
            }
            first = false;
        }
        let message = match (unconvertible, bad) {
            (Some(at), _) | (None, Some(Bad::Illegal(at))) => {
                Some(format!("illegal input sequence at position {at}"))
            }
            (None, Some(Bad::Incomplete)) => {
                Some("incomplete character or shift sequence at end of buffer".to_string())
            }
            (None, None) => None,
        };
        if let Some(m) = message {
            let _ = write_out(&output, &out_bytes);
            eprintln!("iconv: {m}");
            return 1;
        }
    }
    if let Err(e) = write_out(&output, &out_bytes) {
        eprintln!("iconv: {}", strerror(&e));
        return 1;
    }
    status
}

/// Writes the converted text to stdout or the -o file.
fn write_out(output: &Option<String>, bytes: &[u8]) -> io::Result<()> {
    match output {
        Some(path) => std::fs::write(path, bytes),
        None => {
            let mut out = io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
    }
}
