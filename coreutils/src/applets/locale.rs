//! locale (glibc's): the locale variables, `-a`, `-m` and `charmap`. The image
//! has the locales a Debian system has without the `locales` package: C, POSIX
//! and C.UTF-8; every program of the userland works in UTF-8 whatever they say.

use std::ffi::OsString;

use super::{args, help};

const HELP: &str = "Usage: locale [OPTION...] NAME
  or:  locale [OPTION...] [-a|-m]
Get locale-specific information.

  -a, --all-locales          Write names of available locales
  -m, --charmaps             Write names of available charmaps
      --help                 Give this help list

NAME may be `charmap` (the character set of LC_CTYPE). Without arguments the
locale variables are listed as glibc's locale lists them.
";

/// glibc's categories, in the order `locale` lists them.
const CATEGORIES: &[&str] = &[
    "LC_CTYPE",
    "LC_NUMERIC",
    "LC_TIME",
    "LC_COLLATE",
    "LC_MONETARY",
    "LC_MESSAGES",
    "LC_PAPER",
    "LC_NAME",
    "LC_ADDRESS",
    "LC_TELEPHONE",
    "LC_MEASUREMENT",
    "LC_IDENTIFICATION",
];

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// Whether `name` is one of the image's locales, and if so whether it is UTF-8.
fn known(name: &str) -> Option<bool> {
    match name {
        "" | "C" | "POSIX" => Some(false),
        _ if name.eq_ignore_ascii_case("C.UTF-8") || name.eq_ignore_ascii_case("C.utf8") => {
            Some(true)
        }
        _ => None,
    }
}

/// The locale in effect for `category`: LC_ALL, then the category, then LANG.
fn effective(category: &str) -> String {
    [var("LC_ALL"), var(category), var("LANG")]
        .into_iter()
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

/// Runs locale.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    // As glibc does, complain (on stderr) about locales that are not there.
    for cat in ["LC_CTYPE", "LC_MESSAGES"] {
        if known(&effective(cat)).is_none() {
            eprintln!("locale: Cannot set {cat} to default locale: No such file or directory");
        }
    }
    match a.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => {
            let (lang, all) = (var("LANG"), var("LC_ALL"));
            println!("LANG={lang}");
            println!("LANGUAGE={}", var("LANGUAGE"));
            for cat in CATEGORIES {
                let own = std::env::var(cat).ok();
                match own {
                    Some(v) if all.is_empty() => println!("{cat}={v}"),
                    _ => {
                        let v = [&all, &lang]
                            .into_iter()
                            .find(|v| !v.is_empty())
                            .map_or("POSIX", |v| v.as_str());
                        println!("{cat}=\"{v}\"");
                    }
                }
            }
            println!("LC_ALL={all}");
            0
        }
        ["-a" | "--all-locales"] => {
            println!("C\nC.utf8\nPOSIX");
            0
        }
        ["-m" | "--charmaps"] => {
            println!("ANSI_X3.4-1968\nUTF-8");
            0
        }
        ["charmap"] => {
            let utf8 = known(&effective("LC_CTYPE")).unwrap_or(false);
            println!("{}", if utf8 { "UTF-8" } else { "ANSI_X3.4-1968" });
            0
        }
        [other, ..] if other.starts_with('-') => {
            eprintln!(
                "locale: unrecognized option '{other}'\nTry 'locale --help' for more information."
            );
            64
        }
        names => {
            for n in names {
                eprintln!("locale: unknown name \"{n}\"");
            }
            1
        }
    }
}
