//! ls: uutils' ls, except for the long formats (-l, -n, -g, -o), which need the
//! real mode, owner and times that only the `wsh` host interface gives; those
//! listings are ours, in GNU's layout (times in UTC).

use std::ffi::OsString;
use std::path::Path;

use super::{group_name, human_size, mode_string, strerror, user_name, utc};
use crate::wsh::{self, Stat};

#[derive(Default)]
struct Opts {
    all: bool,
    almost_all: bool,
    dir_itself: bool,
    human: bool,
    numeric: bool,
    no_owner: bool,
    no_group: bool,
    reverse: bool,
    by_time: bool,
    by_size: bool,
    inode: bool,
}

struct Entry {
    name: String,
    path: String,
    st: Stat,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// `Nov 25 14:08`, or `Nov 25  2024` for times over six months away.
fn time_field(ns: i64) -> String {
    let (y, mo, d, h, mi, ..) = utc(ns);
    let six_months = 15_778_476_000_000_000i64;
    let m = MONTHS[(mo - 1) as usize];
    if (now_ns() - ns).abs() < six_months {
        format!("{m} {d:>2} {h:02}:{mi:02}")
    } else {
        format!("{m} {d:>2}  {y}")
    }
}

fn sort(entries: &mut [Entry], o: &Opts) {
    entries.sort_by(|a, b| {
        let ord = if o.by_time {
            b.st.mtime
                .cmp(&a.st.mtime)
                .then_with(|| a.name.cmp(&b.name))
        } else if o.by_size {
            b.st.size.cmp(&a.st.size).then_with(|| a.name.cmp(&b.name))
        } else {
            a.name.cmp(&b.name)
        };
        if o.reverse { ord.reverse() } else { ord }
    });
}

fn print_long(entries: &[Entry], o: &Opts, out: &mut String) {
    let owner = |st: &Stat| {
        if o.numeric {
            st.uid.to_string()
        } else {
            user_name(st.uid).unwrap_or_else(|| st.uid.to_string())
        }
    };
    let group = |st: &Stat| {
        if o.numeric {
            st.gid.to_string()
        } else {
            group_name(st.gid).unwrap_or_else(|| st.gid.to_string())
        }
    };
    let size = |st: &Stat| {
        if o.human {
            human_size(st.size)
        } else {
            st.size.to_string()
        }
    };
    let rows: Vec<[String; 7]> = entries
        .iter()
        .map(|e| {
            let mut name = e.name.clone();
            if e.st.is_symlink()
                && let Ok(t) = std::fs::read_link(&e.path)
            {
                name = format!("{name} -> {}", t.display());
            }
            [
                e.st.ino.to_string(),
                mode_string(e.st.mode),
                e.st.nlink.to_string(),
                owner(&e.st),
                group(&e.st),
                size(&e.st),
                name,
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].len()).max().unwrap_or(0);
    let (wi, wl, wo, wg, ws) = (width(0), width(2), width(3), width(4), width(5));
    for (r, e) in rows.iter().zip(entries) {
        if o.inode {
            out.push_str(&format!("{:>wi$} ", r[0]));
        }
        out.push_str(&format!("{} {:>wl$} ", r[1], r[2]));
        if !o.no_owner {
            out.push_str(&format!("{:<wo$} ", r[3]));
        }
        if !o.no_group {
            out.push_str(&format!("{:<wg$} ", r[4]));
        }
        out.push_str(&format!(
            "{:>ws$} {} {}\n",
            r[5],
            time_field(e.st.mtime),
            r[6]
        ));
    }
}

fn entry(name: String, path: String) -> Result<Entry, String> {
    match wsh::stat(Path::new(&path), false) {
        Ok(st) => Ok(Entry { name, path, st }),
        Err(e) => Err(format!("ls: cannot access '{path}': {}", strerror(&e))),
    }
}

fn long(o: &Opts, operands: Vec<String>) -> i32 {
    let mut status = 0;
    let operands = if operands.is_empty() {
        vec![".".to_string()]
    } else {
        operands
    };
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for p in &operands {
        match entry(p.clone(), p.clone()) {
            Ok(e) => {
                // With -l a symlink operand is listed itself, not followed (GNU without -H/-L).
                if e.st.is_dir() && !o.dir_itself {
                    dirs.push(e)
                } else {
                    files.push(e)
                }
            }
            Err(msg) => {
                eprintln!("{msg}");
                status = 2;
            }
        }
    }
    let mut out = String::new();
    sort(&mut files, o);
    print_long(&files, o, &mut out);
    sort(&mut dirs, o);
    let many = operands.len() > 1;
    for (i, d) in dirs.iter().enumerate() {
        if many {
            if i > 0 || !files.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("{}:\n", d.path));
        }
        let names = match std::fs::read_dir(&d.path) {
            Ok(rd) => {
                rd.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            }
            Err(e) => {
                eprintln!("ls: cannot open directory '{}': {}", d.path, strerror(&e));
                status = 2;
                continue;
            }
        };
        let mut names: Vec<String> = names
            .filter(|n| o.all || o.almost_all || !n.starts_with('.'))
            .collect();
        if o.all {
            names.push(".".into());
            names.push("..".into());
        }
        let mut entries = Vec::new();
        for n in names {
            let path = format!("{}/{n}", d.path.trim_end_matches('/'));
            match entry(n, path) {
                Ok(e) => entries.push(e),
                Err(msg) => {
                    eprintln!("{msg}");
                    status = 1;
                }
            }
        }
        sort(&mut entries, o);
        let blocks: u64 = entries.iter().map(|e| e.st.blocks).sum::<u64>() / 2;
        out.push_str(&format!(
            "total {}\n",
            if o.human {
                human_size(blocks * 1024)
            } else {
                blocks.to_string()
            }
        ));
        print_long(&entries, o, &mut out);
    }
    if super::print_all(&out).is_err() {
        return 2;
    }
    status
}

/// Runs ls: the long formats here, everything else in uu_ls.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a: Vec<String> = argv
        .iter()
        .skip(1)
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let mut o = Opts::default();
    let mut is_long = false;
    let mut operands = Vec::new();
    let mut ours = true;
    let mut done = false;
    for arg in &a {
        if done || !arg.starts_with('-') || arg == "-" {
            operands.push(arg.clone());
            continue;
        }
        match arg.as_str() {
            "--" => done = true,
            "--all" => o.all = true,
            "--almost-all" => o.almost_all = true,
            "--directory" => o.dir_itself = true,
            "--human-readable" => o.human = true,
            "--numeric-uid-gid" => {
                o.numeric = true;
                is_long = true;
            }
            "--reverse" => o.reverse = true,
            "--inode" => o.inode = true,
            // Our long listings are never coloured.
            s if s == "--color" || s.starts_with("--color=") => {}
            s if !s.starts_with("--") => {
                for c in s[1..].chars() {
                    match c {
                        'l' => is_long = true,
                        'n' => (is_long, o.numeric) = (true, true),
                        'g' => (is_long, o.no_owner) = (true, true),
                        'o' => (is_long, o.no_group) = (true, true),
                        'a' => o.all = true,
                        'A' => o.almost_all = true,
                        'd' => o.dir_itself = true,
                        'h' => o.human = true,
                        'r' => o.reverse = true,
                        't' => o.by_time = true,
                        'S' => o.by_size = true,
                        'i' => o.inode = true,
                        '1' => {}
                        _ => ours = false,
                    }
                }
            }
            _ => ours = false,
        }
    }
    if !is_long || a.iter().any(|x| x == "--help") {
        if let Err(err) = uucore::locale::setup_localization("ls") {
            eprintln!("ls: could not initialise localisation: {err}");
            return 2;
        }
        return uu_ls::uumain(argv.into_iter());
    }
    if !ours {
        eprintln!(
            "ls: this long-listing option is not supported by wsh's ls (supported with -l: -a -A -d -h -i -n -g -o -r -t -S -1)"
        );
        return 2;
    }
    long(&o, operands)
}
