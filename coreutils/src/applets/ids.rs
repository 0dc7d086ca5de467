//! id and whoami: the identity the guest runs as (from the `wsh` host interface),
//! named through the image's /etc/passwd and /etc/group.

use std::ffi::OsString;

use super::{args, group_name, help, user_name};
use crate::wsh;

const ID_HELP: &str = "Usage: id [OPTION]... [USER]
Print user and group information for the current process.

  -g, --group   print only the effective group ID
  -G, --groups  print all group IDs
  -n, --name    print a name instead of a number, for -ugG
  -u, --user    print only the effective user ID
      --help    display this help and exit
";

const WHOAMI_HELP: &str = "Usage: whoami [OPTION]...
Print the user name associated with the current effective user ID.

      --help     display this help and exit
";

/// Runs id.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, ID_HELP) {
        return 0;
    }
    let (uid, gid) = wsh::identity();
    let (mut which, mut name) = (None, false);
    for arg in &a {
        match arg.as_str() {
            "-u" | "--user" => which = Some('u'),
            "-g" | "--group" => which = Some('g'),
            "-G" | "--groups" => which = Some('G'),
            "-n" | "--name" => name = true,
            s if s.starts_with('-')
                && s.len() > 1
                && s[1..].chars().all(|c| "ugGn".contains(c)) =>
            {
                for c in s[1..].chars() {
                    if c == 'n' {
                        name = true;
                    } else {
                        which = Some(c);
                    }
                }
            }
            s => {
                eprintln!("id: '{s}': no such user");
                return 1;
            }
        }
    }
    let user = user_name(uid);
    let group = group_name(gid);
    // As GNU id: the effective group first, then the supplementary ones.
    let mut all = vec![gid];
    all.extend(wsh::groups().into_iter().filter(|g| *g != gid));
    let show = |id: u32, n: &Option<String>| {
        if name {
            n.clone().unwrap_or_else(|| id.to_string())
        } else {
            id.to_string()
        }
    };
    match which {
        Some('u') => println!("{}", show(uid, &user)),
        Some('G') => {
            let list: Vec<String> = all.iter().map(|g| show(*g, &group_name(*g))).collect();
            println!("{}", list.join(" "));
        }
        Some(_) => println!("{}", show(gid, &group)),
        None => {
            let named = |id: u32, n: &Option<String>| match n {
                Some(n) => format!("{id}({n})"),
                None => id.to_string(),
            };
            let list: Vec<String> = all.iter().map(|g| named(*g, &group_name(*g))).collect();
            println!(
                "uid={} gid={} groups={}",
                named(uid, &user),
                named(gid, &group),
                list.join(",")
            );
        }
    }
    0
}

/// Runs whoami.
pub fn whoami(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, WHOAMI_HELP) {
        return 0;
    }
    if let Some(extra) = a.first() {
        eprintln!("whoami: extra operand '{extra}'\nTry 'whoami --help' for more information.");
        return 1;
    }
    let (uid, _) = wsh::identity();
    match user_name(uid) {
        Some(n) => {
            println!("{n}");
            0
        }
        None => {
            eprintln!("whoami: cannot find name for user ID {uid}");
            1
        }
    }
}
