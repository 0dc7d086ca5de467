//! Output builtins: `echo` and `printf`, in-process (as bash's are) so scripts that
//! print in loops do not start a program per line.

use crate::{Builtin, ShellState, Stdio};

/// `echo [-neE] ARGS...`.
pub struct Echo;
/// `printf [-v VAR] FORMAT [ARGS...]`.
pub struct Printf;

impl Builtin for Echo {
    fn run(&self, _: &mut dyn ShellState, args: &[String], io: &mut Stdio) -> i32 {
        let mut newline = true;
        let mut escapes = false;
        let mut i = 1;
        // Only words made entirely of n/e/E after `-` are options, as in bash.
        while let Some(a) = args.get(i) {
            let Some(flags) = a.strip_prefix('-') else {
                break;
            };
            if flags.is_empty() || !flags.chars().all(|c| matches!(c, 'n' | 'e' | 'E')) {
                break;
            }
            for c in flags.chars() {
                match c {
                    'n' => newline = false,
                    'e' => escapes = true,
                    _ => escapes = false,
                }
            }
            i += 1;
        }
        let mut out = String::new();
        for (k, a) in args[i..].iter().enumerate() {
            if k > 0 {
                out.push(' ');
            }
            if escapes {
                let (text, stop) = backslash_escapes(a, true);
                out.push_str(&text);
                if stop {
                    return i32::from(io.out_bytes(&raw_bytes(&out)).is_err());
                }
            } else {
                out.push_str(a);
            }
        }
        if newline {
            out.push('\n');
        }
        i32::from(io.out_bytes(&raw_bytes(&out)).is_err())
    }
}

/// Where the characters standing for raw bytes 0x80-0xFF start: a `\351` or `\xe9`
/// escape is one byte, not a character, but the text is built as a `String`; these
/// code points (the end of plane 16's private use area) carry the byte to the output.
const RAW_BYTE: u32 = 0x10_FF00;

/// Appends byte `v` as written by an octal or hex escape.
fn push_byte(out: &mut String, v: u32) {
    let c = if v < 0x80 { v } else { RAW_BYTE + v };
    out.extend(char::from_u32(c));
}

/// `s` as the bytes to write: raw-byte characters become their byte.
fn raw_bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match (c as u32).checked_sub(RAW_BYTE) {
            Some(b @ 0x80..=0xff) => out.push(b as u8),
            _ => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out
}

/// `s` for a variable, which holds text: a raw byte becomes the character of that
/// code (Latin-1), as before this distinction.
fn raw_as_text(s: &str) -> String {
    s.chars()
        .map(|c| match (c as u32).checked_sub(RAW_BYTE) {
            Some(b @ 0x80..=0xff) => char::from_u32(b).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Decodes echo -e / printf %b escapes; the bool is true at `\c` (stop output).
/// `echo_octal`: octal is `\0NNN` (echo, %b) rather than `\NNN` (printf formats).
fn backslash_escapes(s: &str, echo_octal: bool) -> (String, bool) {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' || i >= chars.len() {
            out.push(c);
            continue;
        }
        let e = chars[i];
        i += 1;
        let simple = match e {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'v' => Some('\x0b'),
            'e' | 'E' => Some('\x1b'),
            '\\' => Some('\\'),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            continue;
        }
        match e {
            'c' => return (out, true),
            // \uHHHH and \UHHHHHHHH: a Unicode character (as bash in a UTF-8 locale).
            'u' | 'U' => {
                let max = if e == 'u' { 4 } else { 8 };
                let mut v = 0u32;
                let mut n = 0;
                while n < max && i < chars.len() && chars[i].is_ascii_hexdigit() {
                    v = v * 16 + chars[i].to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                match char::from_u32(v).filter(|_| n > 0) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push('\\');
                        out.push(e);
                        out.extend(&chars[i - n..i]);
                    }
                }
            }
            'x' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && i < chars.len() && chars[i].is_ascii_hexdigit() {
                    v = v * 16 + chars[i].to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    out.push_str("\\x");
                } else {
                    push_byte(&mut out, v);
                }
            }
            '0'..='7' => {
                let (mut v, mut n, max) = if echo_octal && e == '0' {
                    (0, 0, 3)
                } else {
                    (e.to_digit(8).unwrap_or(0), 1, 3)
                };
                if !echo_octal || e == '0' {
                    while n < max && i < chars.len() && ('0'..='7').contains(&chars[i]) {
                        v = v * 8 + chars[i].to_digit(8).unwrap_or(0);
                        i += 1;
                        n += 1;
                    }
                    push_byte(&mut out, v & 0xff);
                } else {
                    out.push('\\');
                    out.push(e);
                }
            }
            _ => {
                out.push('\\');
                out.push(e);
            }
        }
    }
    (out, false)
}

impl Builtin for Printf {
    fn run(&self, sh: &mut dyn ShellState, args: &[String], io: &mut Stdio) -> i32 {
        let mut rest = &args[1..];
        let mut var = None;
        if rest.first().map(String::as_str) == Some("-v") {
            let Some(v) = rest.get(1) else {
                io.err("printf: -v: option requires an argument");
                return 2;
            };
            var = Some(v.clone());
            rest = &rest[2..];
        } else if let Some(v) = rest.first().and_then(|a| a.strip_prefix("-v")) {
            // `-vNAME`: the name attached to the option.
            var = Some(v.to_string());
            rest = &rest[1..];
        }
        if rest.first().map(String::as_str) == Some("--") {
            rest = &rest[1..];
        } else if let Some(opt) = rest.first().filter(|a| a.len() > 1 && a.starts_with('-')) {
            // A format cannot start with `-` unless `--` comes first: it is an option.
            io.err(&format!("printf: {opt}: invalid option"));
            io.err("printf: usage: printf [-v var] format [arguments]");
            return 2;
        }
        let Some(format) = rest.first() else {
            io.err("printf: usage: printf [-v var] format [arguments]");
            return 2;
        };
        let mut args = rest[1..].iter();
        let mut out = String::new();
        let mut status = 0;
        loop {
            let before = args.len();
            match format_once(format, &mut args, &mut out, io) {
                Ok(stop) if stop => break,
                Ok(_) => {}
                Err(s) => {
                    status = s;
                }
            }
            // The format is reused while arguments remain (and it consumed some).
            if args.len() == 0 || args.len() == before {
                break;
            }
        }
        if let Some(v) = var {
            if let Err(e) = sh.set_var(&v, &raw_as_text(&out)) {
                io.err(&format!("printf: {e}"));
                return 1;
            }
            return status;
        }
        if io.out_bytes(&raw_bytes(&out)).is_err() {
            return 1;
        }
        status
    }
}

/// One pass over the format; Ok(true) when `\c` stopped the output.
fn format_once(
    fmt: &str,
    args: &mut std::slice::Iter<'_, String>,
    out: &mut String,
    io: &Stdio,
) -> Result<bool, i32> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    let mut status = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            // Find the extent of one escape and decode it.
            let start = i;
            i += 1;
            if i < chars.len() {
                let e = chars[i];
                i += 1;
                if e == 'x' {
                    while i < chars.len() && i < start + 4 && chars[i].is_ascii_hexdigit() {
                        i += 1;
                    }
                } else if ('0'..='7').contains(&e) {
                    while i < chars.len() && i < start + 4 && ('0'..='7').contains(&chars[i]) {
                        i += 1;
                    }
                }
            }
            let piece: String = chars[start..i].iter().collect();
            let (text, stop) = backslash_escapes(&piece, false);
            out.push_str(&text);
            if stop {
                return Ok(true);
            }
            continue;
        }
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.get(i).filter(|f| "-+ #0".contains(**f)) {
            flags.push(f);
            i += 1;
        }
        let number = |i: &mut usize, args: &mut std::slice::Iter<'_, String>| -> Option<i64> {
            if chars.get(*i) == Some(&'*') {
                *i += 1;
                return Some(args.next().and_then(|a| a.parse().ok()).unwrap_or(0));
            }
            let s = *i;
            while chars.get(*i).is_some_and(char::is_ascii_digit) {
                *i += 1;
            }
            (s < *i).then(|| chars[s..*i].iter().collect::<String>().parse().unwrap_or(0))
        };
        let mut width = number(&mut i, args);
        if width.is_some_and(|w| w < 0) {
            flags.push('-');
            width = width.map(i64::abs);
        }
        let precision = if chars.get(i) == Some(&'.') {
            i += 1;
            Some(number(&mut i, args).unwrap_or(0))
        } else {
            None
        };
        // Length modifiers mean nothing here.
        while chars.get(i).is_some_and(|c| "hlLjzt".contains(*c)) {
            i += 1;
        }
        let Some(&conv) = chars.get(i) else {
            io.err("printf: missing format character");
            return Err(1);
        };
        i += 1;
        let arg = args.next().map(String::as_str);
        let body = match conv {
            's' => {
                let s = arg.unwrap_or("");
                match precision {
                    Some(p) => s.chars().take(p as usize).collect(),
                    None => s.to_string(),
                }
            }
            'b' => {
                let (t, stop) = backslash_escapes(arg.unwrap_or(""), true);
                if stop {
                    out.push_str(&pad(&t, width, &flags));
                    return Ok(true);
                }
                t
            }
            'q' => quote(arg.unwrap_or("")),
            'c' => arg
                .and_then(|a| a.chars().next())
                .map(String::from)
                .unwrap_or_default(),
            'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                let n = match arg.map(parse_int) {
                    None => 0,
                    Some(Ok(n)) => n,
                    Some(Err(n)) => {
                        io.err(&format!("printf: {}: invalid number", arg.unwrap_or("")));
                        status = 1;
                        n
                    }
                };
                let digits = match conv {
                    'x' => format!("{:x}", n),
                    'X' => format!("{:X}", n),
                    'o' => format!("{:o}", n),
                    'u' => format!("{}", n as u64),
                    _ => n.unsigned_abs().to_string(),
                };
                let digits = match precision {
                    // C: a zero value with precision 0 prints no digits.
                    Some(0) if n == 0 => String::new(),
                    Some(p) if digits.len() < p as usize => {
                        format!("{}{digits}", "0".repeat(p as usize - digits.len()))
                    }
                    _ => digits,
                };
                let sign = if matches!(conv, 'd' | 'i') {
                    if n < 0 {
                        "-"
                    } else if flags.contains('+') {
                        "+"
                    } else if flags.contains(' ') {
                        " "
                    } else {
                        ""
                    }
                } else {
                    ""
                };
                let prefix = if flags.contains('#') && n != 0 {
                    match conv {
                        'x' => "0x",
                        'X' => "0X",
                        'o' => "0",
                        _ => "",
                    }
                } else {
                    ""
                };
                let head = format!("{sign}{prefix}");
                if flags.contains('0') && !flags.contains('-') && precision.is_none() {
                    let w = width.unwrap_or(0) as usize;
                    let fill = w.saturating_sub(head.len() + digits.len());
                    format!("{head}{}{digits}", "0".repeat(fill))
                } else {
                    format!("{head}{digits}")
                }
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let v: f64 = arg.map(|a| a.trim().parse().unwrap_or(0.0)).unwrap_or(0.0);
                let p = precision.unwrap_or(6) as usize;
                let s = match conv {
                    'f' | 'F' => format!("{v:.p$}"),
                    'e' | 'E' => c_exp(v, p, conv == 'E'),
                    _ => c_general(v, p, conv == 'G', flags.contains('#')),
                };
                let s = if flags.contains('+') && v >= 0.0 {
                    format!("+{s}")
                } else {
                    s
                };
                if flags.contains('0') && !flags.contains('-') {
                    let w = width.unwrap_or(0) as usize;
                    let (sign, digits) = if s.starts_with(['-', '+']) {
                        s.split_at(1)
                    } else {
                        ("", s.as_str())
                    };
                    format!("{sign}{}{digits}", "0".repeat(w.saturating_sub(s.len())))
                } else {
                    s
                }
            }
            other => {
                io.err(&format!("printf: `{other}': invalid format character"));
                return Err(1);
            }
        };
        out.push_str(&pad(&body, width, &flags));
    }
    if status != 0 { Err(status) } else { Ok(false) }
}

/// `%e` as C prints it (`1.500000e+00`).
fn c_exp(v: f64, p: usize, upper: bool) -> String {
    let s = format!("{v:.p$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let t = format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    if upper { t.to_uppercase() } else { t }
}

/// `%g` as C prints it: `%e` for exponents below -4 or from the precision up,
/// `%f` otherwise, trailing zeros dropped (kept with `#`).
fn c_general(v: f64, p: usize, upper: bool, keep_zeros: bool) -> String {
    if !v.is_finite() {
        let s = format!("{v}").to_lowercase();
        return if upper { s.to_uppercase() } else { s };
    }
    let p = p.max(1);
    // The exponent %e would print at this precision (rounding may carry into it).
    let exp = if v == 0.0 {
        0
    } else {
        let e = format!("{v:.prec$e}", prec = p - 1);
        e.split_once('e')
            .and_then(|(_, x)| x.parse::<i32>().ok())
            .unwrap_or(0)
    };
    let trim = |s: String| -> String {
        if keep_zeros || !s.contains('.') {
            return s;
        }
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if exp < -4 || exp >= p as i32 {
        let t = c_exp(v, p - 1, upper);
        let (mant, rest) = t.split_at(t.find(['e', 'E']).unwrap_or(t.len()));
        format!("{}{rest}", trim(mant.to_string()))
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim(format!("{v:.decimals$}"))
    }
}

fn pad(s: &str, width: Option<i64>, flags: &str) -> String {
    let w = width.unwrap_or(0) as usize;
    let n = s.chars().count();
    if n >= w {
        return s.to_string();
    }
    if flags.contains('-') {
        format!("{s}{}", " ".repeat(w - n))
    } else {
        format!("{}{s}", " ".repeat(w - n))
    }
}

/// A printf numeric argument: decimal, 0x hex, 0 octal, or 'c (a character's code).
/// Err carries the value of the valid prefix (printed while reporting the error).
fn parse_int(a: &str) -> Result<i64, i64> {
    let t = a.trim();
    // bash reads an empty argument as 0.
    if a.is_empty() {
        return Ok(0);
    }
    if let Some(c) = t.strip_prefix(['\'', '"']) {
        return Ok(c.chars().next().map_or(0, |c| c as i64));
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let r = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16)
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8)
    } else {
        body.parse()
    };
    match r {
        Ok(v) => Ok(if neg { -v } else { v }),
        Err(_) => {
            let digits: String = body.chars().take_while(char::is_ascii_digit).collect();
            Err(digits.parse::<i64>().unwrap_or(0) * if neg { -1 } else { 1 })
        }
    }
}

/// `%q`: quotes so the shell reads the same word back.
fn quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "_-./:,=+@%^".contains(c) {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}
