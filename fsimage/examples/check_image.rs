//! Runs fsimage::check on a raw ext4 image and prints its problems and the time taken:
//! `cargo run --release -p fsimage --example check_image -- FILE.img`.

use fsimage::{FileDevice, check};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: check_image FILE.img");
        std::process::exit(2);
    };
    let dev = match FileDevice::open(&path, false) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    match check(Box::new(dev)) {
        Ok(problems) => {
            for p in &problems {
                println!("{p}");
            }
            eprintln!("{} problem(s) in {:?}", problems.len(), start.elapsed());
            std::process::exit(if problems.is_empty() { 0 } else { 1 });
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}
