//! seq: uutils' `seq`, with plain counting (`seq [FIRST [INCR]] LAST` in
//! non-negative integers, the `seq 1000000 | ...` of scripts and benchmarks)
//! formatted here straight into a large buffer, as GNU's seq does for integers.
//! uutils formats every number through its general decimal path: 2x slower than GNU.

use std::ffi::OsString;
use std::io::Write;

/// Bytes gathered before each write.
const CHUNK: usize = 128 << 10;

/// Runs seq.
pub fn main(argv: Vec<OsString>) -> i32 {
    if let Some((first, incr, last)) = plain(&argv) {
        return count(first, incr, last);
    }
    if let Err(e) = uucore::locale::setup_localization("seq") {
        eprintln!("seq: could not initialise localisation: {e}");
        return 99;
    }
    uu_seq::uumain(argv.into_iter())
}

/// FIRST, INCR and LAST when every operand is a plain decimal integer (no sign,
/// leading zero, option or fraction) small enough that GNU prints it exactly, and
/// INCR is positive. Anything else is uutils' to parse and report.
fn plain(argv: &[OsString]) -> Option<(u64, u64, u64)> {
    let nums = argv
        .get(1..)?
        .iter()
        .map(|a| {
            let s = a.to_str()?;
            let ok = (1..=15).contains(&s.len())
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s == "0" || !s.starts_with('0'));
            ok.then(|| s.parse().ok()).flatten()
        })
        .collect::<Option<Vec<u64>>>()?;
    match nums[..] {
        [last] => Some((1, 1, last)),
        [first, last] => Some((first, 1, last)),
        [first, incr, last] if incr > 0 => Some((first, incr, last)),
        _ => None,
    }
}

/// Prints FIRST, FIRST+INCR, ... up to LAST, one a line.
fn count(first: u64, incr: u64, last: u64) -> i32 {
    let mut out = std::io::stdout().lock();
    let mut buf = Vec::with_capacity(CHUNK + 32);
    let mut fmt = itoa::Buffer::new();
    let mut n = first;
    while n <= last {
        buf.extend_from_slice(fmt.format(n).as_bytes());
        buf.push(b'\n');
        if buf.len() >= CHUNK {
            if let Err(e) = out.write_all(&buf) {
                return write_failed(&e);
            }
            buf.clear();
        }
        n += incr;
    }
    match out.write_all(&buf).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => write_failed(&e),
    }
}

/// GNU's message for a failed write of standard output.
fn write_failed(e: &std::io::Error) -> i32 {
    eprintln!("seq: write error: {}", super::strerror(e));
    1
}
