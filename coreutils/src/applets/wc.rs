//! wc: uutils' `wc`, with the pipeline's most common use, `... | wc -l`, counted
//! here with memchr's SIMD count (uutils counts with bytecount, whose wasm build
//! is a scalar loop: 6x slower than GNU on a 200 MB pipe), and `wc -c < FILE`
//! answered from the file's size, as GNU does, instead of reading it.

use std::ffi::OsString;
use std::io::Read;

/// Bytes read from standard input at a time.
const CHUNK: usize = 256 << 10;

/// Runs wc.
pub fn main(argv: Vec<OsString>) -> i32 {
    if argv.len() == 2 && (argv[1] == "-l" || argv[1] == "--lines") {
        return stdin_lines();
    }
    if argv.len() == 2
        && (argv[1] == "-c" || argv[1] == "--bytes")
        && let Some(n) = stdin_file_bytes()
    {
        println!("{n}");
        return 0;
    }
    if let Err(e) = uucore::locale::setup_localization("wc") {
        eprintln!("wc: could not initialise localisation: {e}");
        return 99;
    }
    uu_wc::uumain(argv.into_iter())
}

/// The bytes left in standard input when it is a regular file: its size less the
/// offset it was left at (`(read x; wc -c) < f`).
fn stdin_file_bytes() -> Option<u64> {
    use std::io::Seek;
    use std::os::fd::FromRawFd;
    // SAFETY: fd 0 stays open for the whole program; ManuallyDrop never closes it.
    let mut f = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(0) });
    let meta = f.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let pos = f.stream_position().ok()?;
    Some(meta.len().saturating_sub(pos))
}

/// `wc -l` of standard input alone: the count, unpadded, as GNU prints it.
fn stdin_lines() -> i32 {
    let mut buf = vec![0u8; CHUNK];
    let mut stdin = std::io::stdin().lock();
    let mut lines = 0usize;
    let status = loop {
        match stdin.read(&mut buf) {
            Ok(0) => break 0,
            Ok(n) => lines += memchr::memchr_iter(b'\n', &buf[..n]).count(),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("wc: 'standard input': {}", super::strerror(&e));
                break 1;
            }
        }
    };
    println!("{lines}");
    status
}
