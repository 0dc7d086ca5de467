//! tar on the `tar` crate: -c, -x, -t with -z (flate2), -f, -v, -C. Headers are
//! built here from the `wsh` host interface's stat, since WASI's metadata has no
//! modes or owners; extraction restores modes (chmod) and modification times.

use std::ffi::OsString;
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};

use tar::{Archive, Builder, EntryType, Header};

use super::compress::Codec;
use super::{group_name, strerror, user_name};
use crate::wsh;

const HELP: &str = "Usage: tar [OPTION...] [FILE]...
Store files in an archive, list or extract them.

  -c, --create         create a new archive
  -x, --extract        extract files from an archive
  -t, --list           list the contents of an archive
  -f, --file=ARCHIVE   use archive file ARCHIVE (- for stdin/stdout)
  -z, --gzip           filter the archive through gzip
  -J, --xz             filter the archive through xz
  -j, --bzip2          filter the archive through bzip2
                       (reading, the format is recognized by itself)
  -v, --verbose        verbosely list files processed
  -C, --directory=DIR  change to directory DIR
      --help           display this help and exit
";

struct Opts {
    op: Option<char>,
    file: Option<String>,
    /// The compression asked for (-z -J -j); reading also recognizes it.
    codec: Option<Codec>,
    verbose: bool,
    dir: Option<String>,
}

fn fail(msg: String) -> io::Error {
    io::Error::other(msg)
}

fn append(
    b: &mut Builder<impl Write>,
    fs_path: &Path,
    name: &str,
    verbose: bool,
) -> io::Result<()> {
    let st = wsh::stat(fs_path, false).map_err(|e| {
        fail(format!(
            "{}: Cannot stat: {}",
            fs_path.display(),
            strerror(&e)
        ))
    })?;
    let mut h = Header::new_gnu();
    h.set_mode(st.mode & 0o7777);
    h.set_uid(st.uid.into());
    h.set_gid(st.gid.into());
    h.set_mtime(st.mtime.div_euclid(1_000_000_000).max(0) as u64);
    if let Some(h) = h.as_gnu_mut() {
        let _ = user_name(st.uid).map(|u| h.set_username(&u));
        let _ = group_name(st.gid).map(|g| h.set_groupname(&g));
    }
    if verbose {
        eprintln!("{name}");
    }
    if st.is_dir() {
        h.set_entry_type(EntryType::Directory);
        h.set_size(0);
        let dir_name = format!("{}/", name.trim_end_matches('/'));
        b.append_data(&mut h, &dir_name, io::empty())?;
        let mut names: Vec<OsString> = std::fs::read_dir(fs_path)?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        names.sort();
        for n in names {
            let child_name = format!("{}/{}", name.trim_end_matches('/'), n.to_string_lossy());
            append(b, &fs_path.join(&n), &child_name, verbose)?;
        }
    } else if st.is_symlink() {
        h.set_entry_type(EntryType::Symlink);
        h.set_size(0);
        let target = std::fs::read_link(fs_path)?;
        b.append_link(&mut h, name, target)?;
    } else if st.mode & wsh::S_IFMT == wsh::S_IFREG {
        h.set_entry_type(EntryType::Regular);
        h.set_size(st.size);
        b.append_data(&mut h, name, std::fs::File::open(fs_path)?)?;
    } else {
        eprintln!("tar: {name}: socket or device ignored");
    }
    Ok(())
}

fn create(o: &Opts, files: &[String]) -> io::Result<()> {
    if files.is_empty() {
        return Err(fail("Cowardly refusing to create an empty archive".into()));
    }
    let out: Box<dyn Write> = match o.file.as_deref() {
        None | Some("-") => Box::new(io::stdout()),
        Some(f) => Box::new(io::BufWriter::new(std::fs::File::create(f)?)),
    };
    let out: Box<dyn super::compress::Finish> = match o.codec {
        Some(c) => c.encoder(out, 6)?,
        None => Box::new(Plain(out)),
    };
    let mut b = Builder::new(out);
    let mut warned = false;
    let base = o.dir.as_deref().map(PathBuf::from);
    for f in files {
        let name = f.trim_start_matches('/');
        if name.len() != f.len() && !warned {
            eprintln!("tar: Removing leading `/' from member names");
            warned = true;
        }
        let fs_path = match &base {
            Some(d) => d.join(f),
            None => PathBuf::from(f),
        };
        append(
            &mut b,
            &fs_path,
            if name.is_empty() { "." } else { name },
            o.verbose,
        )?;
    }
    b.into_inner()?.finish()
}

/// An uncompressed archive's writer.
struct Plain(Box<dyn Write>);

impl Write for Plain {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl super::compress::Finish for Plain {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.0.flush()
    }
}

fn open_archive(o: &Opts) -> io::Result<Archive<Box<dyn Read>>> {
    let input: Box<dyn Read> = match o.file.as_deref() {
        None | Some("-") => Box::new(io::stdin()),
        Some(f) => Box::new(io::BufReader::new(std::fs::File::open(f)?)),
    };
    // GNU tar recognizes a compressed archive by its first bytes, whatever the flags.
    let mut input = io::BufReader::new(input);
    let input: Box<dyn Read> = match Codec::sniff(input.fill_buf()?).or(o.codec) {
        Some(c) => c.decoder(Box::new(input)),
        None => Box::new(input),
    };
    Ok(Archive::new(input))
}

fn list(o: &Opts) -> io::Result<()> {
    let mut a = open_archive(o)?;
    let mut out = io::stdout().lock();
    for e in a.entries()? {
        let e = e?;
        let path = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        if o.verbose {
            let h = e.header();
            let kind = match h.entry_type() {
                EntryType::Directory => wsh::S_IFDIR,
                EntryType::Symlink => wsh::S_IFLNK,
                _ => wsh::S_IFREG,
            };
            let mode = super::mode_string(kind | h.mode().unwrap_or(0));
            let owner = format!(
                "{}/{}",
                h.username().ok().flatten().unwrap_or("?"),
                h.groupname().ok().flatten().unwrap_or("?")
            );
            let (y, mo, d, hh, mi, ..) = super::utc(h.mtime().unwrap_or(0) as i64 * 1_000_000_000);
            write!(
                out,
                "{mode} {owner} {:>8} {y:04}-{mo:02}-{d:02} {hh:02}:{mi:02} {path}",
                h.size().unwrap_or(0)
            )?;
            if let Ok(Some(t)) = e.link_name() {
                write!(out, " -> {}", t.display())?;
            }
            writeln!(out)?;
        } else {
            writeln!(out, "{path}")?;
        }
    }
    out.flush()
}

fn extract(o: &Opts) -> io::Result<()> {
    let mut a = open_archive(o)?;
    let base = PathBuf::from(o.dir.as_deref().unwrap_or("."));
    for e in a.entries()? {
        let mut e = e?;
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        // Never write outside the target directory.
        let rel: PathBuf = Path::new(name.trim_start_matches('/'))
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .collect();
        if rel.as_os_str().is_empty() {
            continue;
        }
        let dest = base.join(&rel);
        if o.verbose {
            println!("{name}");
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mode = e.header().mode().unwrap_or(0o644) & 0o7777;
        let mtime = e.header().mtime().unwrap_or(0);
        match e.header().entry_type() {
            EntryType::Directory => {
                std::fs::create_dir_all(&dest)?;
                wsh::chmod(&dest, mode)?;
            }
            EntryType::Symlink => {
                let target = e
                    .link_name()?
                    .ok_or_else(|| fail(format!("{name}: symlink without a target")))?;
                let _ = std::fs::remove_file(&dest);
                rustix::fs::symlink(target.as_ref(), &dest).map_err(io::Error::from)?;
            }
            EntryType::Link => {
                let target = e
                    .link_name()?
                    .ok_or_else(|| fail(format!("{name}: hard link without a target")))?;
                let _ = std::fs::remove_file(&dest);
                std::fs::hard_link(base.join(target), &dest)?;
            }
            EntryType::Regular | EntryType::Continuous => {
                let _ = std::fs::remove_file(&dest);
                let mut f = std::fs::File::create(&dest)?;
                io::copy(&mut e, &mut f)?;
                f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime))?;
                drop(f);
                wsh::chmod(&dest, mode)?;
            }
            other => eprintln!("tar: {name}: unsupported entry type {other:?}, skipped"),
        }
    }
    Ok(())
}

/// Runs tar.
pub fn main(argv: Vec<OsString>) -> i32 {
    let a = super::args(argv);
    let mut o = Opts {
        op: None,
        file: None,
        codec: None,
        verbose: false,
        dir: None,
    };
    let mut files = Vec::new();
    let mut it = a.into_iter().enumerate().peekable();
    let set_op = |o: &mut Opts, c: char| -> bool {
        if o.op.is_some_and(|x| x != c) {
            eprintln!(
                "tar: You may not specify more than one '-Acdtrux', '--delete' or  '--test-label' option\nTry 'tar --help' or 'tar --usage' for more information."
            );
            return false;
        }
        o.op = Some(c);
        true
    };
    while let Some((n, arg)) = it.next() {
        // The first word may bundle options without a dash (`tar czf x.tgz dir`).
        let bundle = if arg.starts_with('-') && !arg.starts_with("--") && arg.len() > 1 {
            Some(arg[1..].to_string())
        } else if n == 0 && !arg.starts_with('-') {
            Some(arg.clone())
        } else {
            None
        };
        match arg.as_str() {
            "--help" => {
                print!("{HELP}");
                return 0;
            }
            "--create" | "--extract" | "--get" | "--list" => {
                if !set_op(
                    &mut o,
                    arg.chars()
                        .nth(2)
                        // --create, --list; --extract and --get both extract.
                        .map(|c| if matches!(c, 'e' | 'g') { 'x' } else { c })
                        .unwrap_or('c'),
                ) {
                    return 2;
                }
                continue;
            }
            "--gzip" | "--gunzip" => {
                o.codec = Some(Codec::Gzip);
                continue;
            }
            "--xz" => {
                o.codec = Some(Codec::Xz);
                continue;
            }
            "--bzip2" => {
                o.codec = Some(Codec::Bzip2);
                continue;
            }
            "--verbose" => {
                o.verbose = true;
                continue;
            }
            s if s.starts_with("--file=") => {
                o.file = Some(s[7..].to_string());
                continue;
            }
            s if s.starts_with("--directory=") => {
                o.dir = Some(s[12..].to_string());
                continue;
            }
            _ => {}
        }
        let Some(flags) = bundle else {
            files.push(arg);
            continue;
        };
        let chars: Vec<char> = flags.chars().collect();
        let mut k = 0;
        while k < chars.len() {
            match chars[k] {
                c @ ('c' | 'x' | 't') => {
                    if !set_op(&mut o, c) {
                        return 2;
                    }
                }
                'z' => o.codec = Some(Codec::Gzip),
                'J' => o.codec = Some(Codec::Xz),
                'j' => o.codec = Some(Codec::Bzip2),
                'v' => o.verbose = true,
                c @ ('f' | 'C') => {
                    let rest: String = chars[k + 1..].iter().collect();
                    let v = if !rest.is_empty() && arg.starts_with('-') {
                        k = chars.len();
                        Some(rest)
                    } else {
                        it.next().map(|(_, v)| v)
                    };
                    let Some(v) = v else {
                        eprintln!(
                            "tar: option requires an argument -- '{c}'\nTry 'tar --help' or 'tar --usage' for more information."
                        );
                        return 2;
                    };
                    if c == 'f' {
                        o.file = Some(v);
                    } else {
                        o.dir = Some(v);
                    }
                }
                'p' | 'o' => {}
                c => {
                    eprintln!(
                        "tar: invalid option -- '{c}'\nTry 'tar --help' or 'tar --usage' for more information."
                    );
                    return 2;
                }
            }
            k += 1;
        }
    }
    let r = match o.op {
        Some('c') => create(&o, &files),
        Some('x') => extract(&o),
        Some('t') => list(&o),
        _ => {
            eprintln!(
                "tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\nTry 'tar --help' or 'tar --usage' for more information."
            );
            return 2;
        }
    };
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("tar: {}", strerror(&e));
            2
        }
    }
}
