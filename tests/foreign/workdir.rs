//! Opens relative paths the way Rust programs do (std::fs), so that a run in a wsh
//! container after WORKDIR can be compared with a native run in the same tree.
//! The first argument is an absolute path to read as well.

use std::fs;
use std::io::ErrorKind;

fn show(path: &str) {
    match fs::read_to_string(path) {
        Ok(text) => text.lines().for_each(|l| println!("{path}: {l}")),
        Err(e) if e.kind() == ErrorKind::NotFound => println!("{path}: not found"),
        Err(e) => println!("{path}: {e}"),
    }
}

fn main() {
    for p in ["data.txt", "./data.txt", "sub/nested.txt", "sub/../data.txt", "missing.txt"] {
        show(p);
    }
    if let Some(abs) = std::env::args().nth(1) {
        show(&abs);
    }
    fs::write("out-rs.txt", "written by Rust\n").expect("out-rs.txt");
    show("out-rs.txt");
    fs::create_dir_all("made-rs/deeper").expect("made-rs");
    fs::write("made-rs/deeper/inside", "").expect("made-rs/deeper/inside");
    fs::rename("made-rs/deeper/inside", "made-rs/moved").expect("rename");
    println!("data.txt: {} bytes", fs::metadata("data.txt").expect("stat").len());
    let mut names: Vec<String> = fs::read_dir("made-rs")
        .expect("read_dir made-rs")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in names {
        println!("made-rs/{n}");
    }
}
