//! find: walk directory trees and evaluate an expression on each file. Tests:
//! -name -iname -path -ipath -type -size -empty -newer -perm -user -group
//! -maxdepth -mindepth; actions: -print -print0 -exec (`;` and `+`, through the
//! `wsh` host interface's spawn) -delete -prune -quit; operators ! -not -a -o ( ).

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use super::{args, group_id, help, strerror, user_id};
use crate::wsh::{self, Spawn, Stat};
use wsh_pattern::{PatChar, matches, unquoted};

const HELP: &str = "Usage: find [-H] [-L] [-P] [path...] [expression]

Tests: -name PATTERN -iname PATTERN -path PATTERN -ipath PATTERN -type [fdlpscb]
       -size [+-]N[bckwMG] -empty -newer FILE -perm [-/]MODE -user NAME -group NAME
       -true -false
Options: -maxdepth N -mindepth N -depth
Actions: -print -print0 -exec COMMAND ; -exec COMMAND {} + -delete -prune -quit
Operators: ( EXPR ) ! EXPR -not EXPR EXPR -a EXPR EXPR -and EXPR EXPR -o EXPR EXPR -or EXPR
";

#[derive(Debug)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Name(Vec<PatChar>, bool),
    Path(Vec<PatChar>, bool),
    Type(char),
    Size(i8, u64, u64),
    Empty,
    Newer(i64),
    Perm(char, u32),
    User(u32),
    Group(u32),
    Const(bool),
    Print(bool),
    Exec(Vec<String>, bool),
    Delete,
    Prune,
    Quit,
}

struct Parser {
    toks: Vec<String>,
    at: usize,
    has_action: bool,
    maxdepth: Option<usize>,
    mindepth: usize,
    depth_first: bool,
}

impl Parser {
    fn next(&mut self) -> Option<String> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek(&self) -> Option<&str> {
        self.toks.get(self.at).map(String::as_str)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some("-o" | "-or")) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.not()?;
        loop {
            match self.peek() {
                Some("-a" | "-and") => self.at += 1,
                None | Some("-o" | "-or" | ")" | ",") => return Ok(left),
                _ => {}
            }
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
    }

    fn not(&mut self) -> Result<Expr, String> {
        if matches!(self.peek(), Some("!" | "-not")) {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn arg(&mut self, name: &str) -> Result<String, String> {
        self.next()
            .ok_or_else(|| format!("find: missing argument to '{name}'"))
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let t = self.next().ok_or("find: expected an expression")?;
        let e = match t.as_str() {
            "(" => {
                let e = self.or()?;
                if self.next().as_deref() != Some(")") {
                    return Err("find: invalid expression; I was expecting to find a ')' somewhere but did not see one.".into());
                }
                e
            }
            "-name" | "-iname" => {
                let ci = t == "-iname";
                let p = self.arg(&t)?;
                Expr::Name(unquoted(&if ci { p.to_lowercase() } else { p }), ci)
            }
            "-path" | "-ipath" | "-wholename" => {
                let ci = t == "-ipath";
                let p = self.arg(&t)?;
                Expr::Path(unquoted(&if ci { p.to_lowercase() } else { p }), ci)
            }
            "-type" => {
                let v = self.arg(&t)?;
                match v.as_str() {
                    "f" | "d" | "l" | "p" | "s" | "c" | "b" => {
                        Expr::Type(v.chars().next().unwrap_or('f'))
                    }
                    _ => return Err(format!("find: Unknown argument to -type: {v}")),
                }
            }
            "-size" => {
                let v = self.arg(&t)?;
                let (sign, rest) = match v.chars().next() {
                    Some('+') => (1, &v[1..]),
                    Some('-') => (-1, &v[1..]),
                    _ => (0, v.as_str()),
                };
                let digits = rest.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                let unit = match &rest[digits.len()..] {
                    "" | "b" => 512,
                    "c" => 1,
                    "w" => 2,
                    "k" => 1024,
                    "M" => 1 << 20,
                    "G" => 1 << 30,
                    _ => return Err(format!("find: invalid -size type in '{v}'")),
                };
                let n = digits
                    .parse()
                    .map_err(|_| format!("find: invalid argument '{v}' to '-size'"))?;
                Expr::Size(sign, n, unit)
            }
            "-empty" => Expr::Empty,
            "-newer" => {
                let f = self.arg(&t)?;
                let st = wsh::stat(Path::new(&f), true)
                    .map_err(|e| format!("find: '{f}': {}", strerror(&e)))?;
                Expr::Newer(st.mtime)
            }
            "-perm" => {
                let v = self.arg(&t)?;
                let (kind, m) = match v.chars().next() {
                    Some(c @ ('-' | '/')) => (c, &v[1..]),
                    _ => ('=', v.as_str()),
                };
                let mode = super::chmod::apply(m, wsh::S_IFREG, 0)
                    .ok_or_else(|| format!("find: invalid mode '{v}'"))?;
                Expr::Perm(kind, mode & 0o7777)
            }
            "-user" => {
                let v = self.arg(&t)?;
                Expr::User(
                    user_id(&v)
                        .ok_or_else(|| format!("find: '{v}' is not the name of a known user"))?,
                )
            }
            "-group" => {
                let v = self.arg(&t)?;
                Expr::Group(
                    group_id(&v).ok_or_else(|| {
                        format!("find: '{v}' is not the name of an existing group")
                    })?,
                )
            }
            "-true" => Expr::Const(true),
            "-false" => Expr::Const(false),
            "-maxdepth" | "-mindepth" => {
                let v = self.arg(&t)?;
                let n: usize = v.parse().map_err(|_| {
                    format!(
                        "find: Expected a positive decimal integer argument to {t}, but got '{v}'"
                    )
                })?;
                if t == "-maxdepth" {
                    self.maxdepth = Some(n);
                } else {
                    self.mindepth = n;
                }
                Expr::Const(true)
            }
            "-depth" => {
                self.depth_first = true;
                Expr::Const(true)
            }
            "-print" | "-print0" => {
                self.has_action = true;
                Expr::Print(t == "-print0")
            }
            "-exec" | "-ok" => {
                self.has_action = true;
                let mut cmd = Vec::new();
                loop {
                    match self.next() {
                        None => return Err(format!("find: missing argument to '{t}'")),
                        Some(s) if s == ";" => break Expr::Exec(cmd, false),
                        Some(s) if s == "+" && cmd.last().is_some_and(|l: &String| l == "{}") => {
                            cmd.pop();
                            break Expr::Exec(cmd, true);
                        }
                        Some(s) => cmd.push(s),
                    }
                }
            }
            "-delete" => {
                self.has_action = true;
                self.depth_first = true;
                Expr::Delete
            }
            "-prune" => Expr::Prune,
            "-quit" => Expr::Quit,
            other => return Err(format!("find: unknown predicate '{other}'")),
        };
        if let Expr::Exec(cmd, _) = &e
            && cmd.is_empty()
        {
            return Err("find: missing argument to '-exec'".into());
        }
        Ok(e)
    }
}

struct Walk {
    /// Block-buffered as GNU find's (flushed before a command runs and at the end):
    /// a line-buffered stdout costs one host call per file.
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    status: i32,
    quit: bool,
    pending: Vec<(Vec<String>, Vec<String>)>,
    follow: bool,
    /// Whether the expression needs more than a file's type, so that every file
    /// must be stat'ed; otherwise the type its directory entry gives is enough.
    needs_stat: bool,
}

/// Whether evaluating `e` looks at more of a file than its name, path and type.
fn needs_stat(e: &Expr) -> bool {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => needs_stat(a) || needs_stat(b),
        Expr::Not(a) => needs_stat(a),
        Expr::Size(..)
        | Expr::Empty
        | Expr::Newer(_)
        | Expr::Perm(..)
        | Expr::User(_)
        | Expr::Group(_) => true,
        Expr::Name(..)
        | Expr::Path(..)
        | Expr::Type(_)
        | Expr::Const(_)
        | Expr::Print(_)
        | Expr::Exec(..)
        | Expr::Delete
        | Expr::Prune
        | Expr::Quit => false,
    }
}

/// The `S_IFMT` bits of a directory entry's type, when it tells them.
fn entry_kind(d: &std::fs::DirEntry) -> Option<u32> {
    let t = d.file_type().ok()?;
    if t.is_dir() {
        Some(wsh::S_IFDIR)
    } else if t.is_file() {
        Some(wsh::S_IFREG)
    } else if t.is_symlink() {
        Some(wsh::S_IFLNK)
    } else {
        None
    }
}

struct File<'a> {
    path: &'a str,
    name: &'a str,
    st: &'a Stat,
}

impl Walk {
    fn exec(&mut self, argv: Vec<String>) -> bool {
        let _ = self.out.flush();
        match Spawn::new(argv.iter().map(OsString::from).collect())
            .start()
            .and_then(wsh::Child::wait)
        {
            Ok(s) => s == 0,
            Err(e) => {
                eprintln!("find: '{}': {}", argv[0], strerror(&e));
                self.status = 1;
                false
            }
        }
    }

    /// Evaluates `e` on `f`; the second value is "prune".
    fn eval(&mut self, e: &Expr, f: &File, prune: &mut bool) -> bool {
        use crate::wsh::*;
        let st = f.st;
        match e {
            Expr::And(a, b) => self.eval(a, f, prune) && self.eval(b, f, prune),
            Expr::Or(a, b) => self.eval(a, f, prune) || self.eval(b, f, prune),
            Expr::Not(a) => !self.eval(a, f, prune),
            Expr::Name(p, ci) => {
                let n: Vec<char> = if *ci {
                    f.name.to_lowercase()
                } else {
                    f.name.to_string()
                }
                .chars()
                .collect();
                matches(p, &n)
            }
            Expr::Path(p, ci) => {
                let n: Vec<char> = if *ci {
                    f.path.to_lowercase()
                } else {
                    f.path.to_string()
                }
                .chars()
                .collect();
                matches(p, &n)
            }
            Expr::Type(t) => {
                let want = match t {
                    'f' => S_IFREG,
                    'd' => S_IFDIR,
                    'l' => S_IFLNK,
                    'p' => S_IFIFO,
                    's' => S_IFSOCK,
                    'c' => S_IFCHR,
                    _ => S_IFBLK,
                };
                st.mode & S_IFMT == want
            }
            Expr::Size(sign, n, unit) => {
                let units = st.size.div_ceil(*unit);
                match sign {
                    1 => units > *n,
                    -1 => units < *n,
                    _ => units == *n,
                }
            }
            Expr::Empty => {
                if st.is_dir() {
                    std::fs::read_dir(f.path)
                        .map(|mut d| d.next().is_none())
                        .unwrap_or(false)
                } else {
                    st.mode & S_IFMT == S_IFREG && st.size == 0
                }
            }
            Expr::Newer(t) => st.mtime > *t,
            Expr::Perm(kind, m) => {
                let p = st.mode & 0o7777;
                match kind {
                    '-' => p & m == *m,
                    '/' => *m == 0 || p & m != 0,
                    _ => p == *m,
                }
            }
            Expr::User(u) => st.uid == *u,
            Expr::Group(g) => st.gid == *g,
            Expr::Const(b) => *b,
            Expr::Print(nul) => {
                let _ = write!(self.out, "{}{}", f.path, if *nul { '\0' } else { '\n' });
                true
            }
            Expr::Exec(cmd, batch) => {
                if *batch {
                    let key = cmd.clone();
                    match self.pending.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, files)) => files.push(f.path.to_string()),
                        None => self.pending.push((key, vec![f.path.to_string()])),
                    }
                    true
                } else {
                    let argv = cmd.iter().map(|a| a.replace("{}", f.path)).collect();
                    self.exec(argv)
                }
            }
            Expr::Delete => {
                let r = if st.is_dir() {
                    std::fs::remove_dir(f.path)
                } else {
                    std::fs::remove_file(f.path)
                };
                match r {
                    Ok(()) => true,
                    Err(e) => {
                        eprintln!("find: cannot delete '{}': {}", f.path, strerror(&e));
                        self.status = 1;
                        false
                    }
                }
            }
            Expr::Prune => {
                *prune = true;
                true
            }
            Expr::Quit => {
                self.quit = true;
                true
            }
        }
    }

    /// Visits `path`, whose type its directory entry gave as `kind` (below a start path).
    fn visit(&mut self, e: &Expr, p: &Parser, path: &str, depth: usize, kind: Option<u32>) {
        if self.quit {
            return;
        }
        let top = depth == 0;
        let st = match kind {
            Some(mode) if !self.needs_stat && !self.follow => Stat {
                mode,
                ..Stat::default()
            },
            _ => match wsh::stat(Path::new(path), self.follow) {
                Ok(st) => st,
                Err(err) => {
                    eprintln!("find: '{path}': {}", strerror(&err));
                    self.status = 1;
                    return;
                }
            },
        };
        let name = if top {
            path
        } else {
            path.rsplit('/').next().unwrap_or(path)
        };
        let name = if top {
            name.trim_end_matches('/')
                .rsplit('/')
                .next()
                .filter(|n| !n.is_empty())
                .unwrap_or(name)
        } else {
            name
        };
        let f = File {
            path,
            name,
            st: &st,
        };
        let mut prune = false;
        let here = depth >= p.mindepth;
        if here && !p.depth_first {
            self.eval(e, &f, &mut prune);
        }
        if st.is_dir() && !prune && p.maxdepth.is_none_or(|m| depth < m) && !self.quit {
            match std::fs::read_dir(path) {
                Ok(rd) => {
                    let entries: Vec<(String, Option<u32>)> = rd
                        .filter_map(|d| {
                            let d = d.ok()?;
                            Some((d.file_name().to_string_lossy().into_owned(), entry_kind(&d)))
                        })
                        .collect();
                    for (n, kind) in entries {
                        let child = if path.ends_with('/') {
                            format!("{path}{n}")
                        } else {
                            format!("{path}/{n}")
                        };
                        self.visit(e, p, &child, depth + 1, kind);
                    }
                }
                Err(err) => {
                    eprintln!("find: '{path}': {}", strerror(&err));
                    self.status = 1;
                }
            }
        }
        if here && p.depth_first && !self.quit {
            self.eval(e, &f, &mut prune);
        }
    }
}

/// Runs find.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = args(argv);
    if help(&a, HELP) {
        return 0;
    }
    let mut follow = false;
    let mut i = 0;
    while i < a.len() && matches!(a[i].as_str(), "-H" | "-L" | "-P") {
        follow = a[i] == "-L";
        i += 1;
    }
    let start = i;
    while i < a.len() && !(a[i].starts_with('-') && a[i].len() > 1 || a[i] == "(" || a[i] == "!") {
        i += 1;
    }
    let mut paths: Vec<String> = a[start..i].to_vec();
    if paths.is_empty() {
        paths.push(".".into());
    }
    let mut p = Parser {
        toks: a[i..].to_vec(),
        at: 0,
        has_action: false,
        maxdepth: None,
        mindepth: 0,
        depth_first: false,
    };
    let expr = if p.toks.is_empty() {
        Expr::Const(true)
    } else {
        match p.or() {
            Ok(e) if p.at >= p.toks.len() => e,
            Ok(_) => {
                eprintln!("find: unexpected '{}'", p.toks[p.at]);
                return 1;
            }
            Err(msg) => {
                eprintln!("{msg}");
                return 1;
            }
        }
    };
    let expr = if p.has_action {
        expr
    } else {
        Expr::And(Box::new(expr), Box::new(Expr::Print(false)))
    };
    let mut w = Walk {
        out: std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock()),
        status: 0,
        quit: false,
        pending: Vec::new(),
        follow,
        needs_stat: needs_stat(&expr),
    };
    for path in &paths {
        w.visit(&expr, &p, path, 0, None);
    }
    for (cmd, files) in std::mem::take(&mut w.pending) {
        for chunk in files.chunks(1000) {
            let mut argv = cmd.clone();
            argv.extend(chunk.iter().cloned());
            if !w.exec(argv) {
                w.status = 1;
            }
        }
    }
    let _ = w.out.flush();
    w.status
}
