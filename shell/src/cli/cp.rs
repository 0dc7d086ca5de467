//! `wsh cp` and `wsh commit`: a detached container's files, running (through its
//! supervisor's control socket, see ctl.rs) or stopped (its kept overlay, opened here).

use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use images::containers_state::{RunState, Status};
use images::cp::{Kind, Target};

use super::ctl::{self, Request};

/// `NAME:PATH` as (NAME, PATH); a host path has no `:` before its first `/`
/// (Docker's rule, so `./a:b` is a host path).
fn split_container(arg: &str) -> Option<(&str, &str)> {
    let (name, path) = arg.split_once(':')?;
    (!name.is_empty() && !name.contains('/')).then_some((name, path))
}

/// What is at a host path (symlinks followed).
fn host_kind(p: &str) -> Kind {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => Kind::Dir,
        Ok(_) => Kind::Other,
        Err(_) => Kind::Missing,
    }
}

/// A container's state, waiting a moment for one that is just starting.
fn settled_state(store: &images::Store, key: &str) -> anyhow::Result<RunState> {
    let s = store.find_run(key)?;
    let start = std::time::Instant::now();
    let mut s = store.run_state(&s.id)?;
    while s.status == Status::Created && start.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
        s = store.run_state(&s.id)?;
    }
    Ok(s)
}

/// Connects the request to a running container, retrying while its supervisor is
/// still setting up (the socket appears just before the command starts).
pub fn when_served<T>(
    store: &images::Store,
    s: &RunState,
    mut f: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let start = std::time::Instant::now();
    loop {
        let reachable = ctl::connect(&store.run_path(&s.id)).is_ok();
        if reachable || start.elapsed() > std::time::Duration::from_secs(10) {
            return f();
        }
        if store.run_state(&s.id)?.status == Status::Exited {
            anyhow::bail!("container {} is not running", s.name);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Takes a stopped container's files lock, checking it did not start meanwhile.
fn stopped_files(store: &images::Store, s: &RunState) -> anyhow::Result<impl Sized + use<>> {
    let lock = store.lock_run_files(&s.id)?;
    anyhow::ensure!(
        store.run_state(&s.id)?.status == Status::Exited,
        "container {} started meanwhile: try again",
        s.name
    );
    Ok(lock)
}

/// The overlay of a container that keeps its files.
fn overlay_of(s: &RunState) -> anyhow::Result<&str> {
    s.overlay.as_deref().with_context(|| {
        format!(
            "container {} keeps no files (it was made by an older wsh)",
            s.name
        )
    })
}

/// `wsh cp [-a] SRC DEST`, one of them `CONTAINER:PATH`.
pub fn cp(src: &str, dest: &str, archive: bool) -> anyhow::Result<i32> {
    match (split_container(src), split_container(dest)) {
        (Some(_), Some(_)) => {
            anyhow::bail!(
                "cp: copying between containers is not supported (one side must be the host)"
            )
        }
        (None, None) => anyhow::bail!("cp: one of SRC and DEST must be CONTAINER:PATH"),
        (Some((name, path)), None) => cp_out(name, path, dest),
        (None, Some((name, path))) => cp_in(src, name, path, archive),
    }?;
    Ok(0)
}

/// A container path as absolute (Docker takes relative ones from `/`).
fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

fn cp_out(name: &str, path: &str, dest: &str) -> anyhow::Result<()> {
    let store = images::open_store()?;
    let s = settled_state(&store, name)?;
    let path = absolute(path);
    let contents = images::cp::is_contents(&path);
    if s.status == Status::Running {
        when_served(&store, &s, || {
            let (is_dir, tar) = ctl::cp_out(&store.run_path(&s.id), &path)?;
            let target = images::cp::target(dest, is_dir, contents, host_kind)?;
            extract_host(&target, tar)
        })
    } else {
        let _files = stopped_files(&store, &s)?;
        let vfs = store.open_overlay(overlay_of(&s)?, false)?;
        let src = images::cp::source_in(&vfs, &path)?;
        let target = images::cp::target(dest, src.is_dir, contents, host_kind)?;
        // The tar goes through a pipe: written by one thread, extracted by this one.
        let (r, w) = std::io::pipe()?;
        std::thread::scope(|sc| {
            let writer = sc.spawn(|| images::cp::write_source(&vfs, &src, w));
            let got = extract_host(&target, r);
            let sent = writer.join().expect("the tar writer does not panic");
            got.and(sent)
        })
    }
}

fn cp_in(src: &str, name: &str, path: &str, archive: bool) -> anyhow::Result<()> {
    let meta = std::fs::symlink_metadata(src).with_context(|| format!("cp: cannot read {src}"))?;
    let contents = images::cp::is_contents(src);
    let src_is_dir = if contents {
        std::fs::metadata(src)?.is_dir()
    } else {
        meta.is_dir()
    };
    anyhow::ensure!(!contents || src_is_dir, "cp: {src}: not a directory");
    let store = images::open_store()?;
    let s = settled_state(&store, name)?;
    let dest = absolute(path);
    // Docker's cp: root's files unless -a keeps the host's owners.
    let owner = (!archive).then_some((0, 0));
    if s.status == Status::Running {
        let req = Request::CpIn {
            dest,
            src_is_dir,
            contents,
            owner,
        };
        when_served(&store, &s, || {
            ctl::cp_in(&store.run_path(&s.id), &req, |w| {
                write_host(src, contents, w)
            })
        })
    } else {
        let _files = stopped_files(&store, &s)?;
        let vfs = store.open_overlay(overlay_of(&s)?, true)?;
        let target = images::cp::target(&dest, src_is_dir, contents, |p| {
            images::cp::kind_in(&vfs, p)
        })?;
        let (r, w) = std::io::pipe()?;
        std::thread::scope(|sc| {
            let writer = sc.spawn(move || {
                let mut w = w;
                write_host(src, contents, &mut w)
            });
            let got = images::cp::extract_in(&vfs, &target, owner, r);
            let sent = writer.join().expect("the tar writer does not panic");
            got.and(sent)
        })?;
        let dev = vfs.into_device()?;
        drop(dev);
        Ok(())
    }
}

/// Writes host path `src` as a copy's tar: its top entry named after it, or (`DIR/.`)
/// the directory's contents.
fn write_host(src: &str, contents: bool, w: &mut dyn Write) -> anyhow::Result<()> {
    let mut tar = tar::Builder::new(w);
    tar.follow_symlinks(false);
    let path = Path::new(src);
    if contents {
        tar.append_dir_all(".", path)?;
    } else {
        let name = path
            .file_name()
            .with_context(|| format!("cp: {src}: no file name"))?;
        if std::fs::symlink_metadata(path)?.is_dir() {
            tar.append_dir_all(name, path)?;
        } else {
            tar.append_path_with_name(path, name)?;
        }
    }
    tar.finish()
        .with_context(|| format!("cp: cannot send {src}"))?;
    Ok(())
}

/// Extracts a copy's tar on the host at `target` (modes and times kept; the files
/// are the user's, as Docker's `cp` makes them).
fn extract_host(target: &Target, tar: impl Read) -> anyhow::Result<()> {
    let mut ar = tar::Archive::new(tar);
    ar.set_preserve_permissions(true);
    ar.set_preserve_mtime(true);
    let base = PathBuf::from(&target.base);
    let place = |raw: &[u8]| -> anyhow::Result<PathBuf> {
        let mut out = base.clone();
        let mut first = true;
        for c in raw.split(|&b| b == b'/') {
            match c {
                b"" | b"." => continue,
                b".." => anyhow::bail!("cp: an entry outside the copy"),
                c => {
                    let c = match (&target.rename, first) {
                        (Some(n), true) => n.as_bytes(),
                        _ => c,
                    };
                    out.push(std::ffi::OsStr::new(std::str::from_utf8(c)?));
                    first = false;
                }
            }
        }
        Ok(out)
    };
    // Directory times are set last: what is extracted into them moves them.
    let mut dirs = Vec::new();
    for entry in ar.entries()? {
        let mut entry = entry?;
        let to = place(&entry.path_bytes())?;
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::Link {
            let target = entry
                .link_name_bytes()
                .context("cp: a hard link without a target")?;
            let from = place(&target)?;
            let _ = std::fs::remove_file(&to);
            std::fs::hard_link(&from, &to)
                .with_context(|| format!("cp: cannot link {}", to.display()))?;
            continue;
        }
        if kind.is_dir() {
            std::fs::create_dir_all(&to)
                .with_context(|| format!("cp: cannot make {}", to.display()))?;
            dirs.push((to, entry.header().mode()?, entry.header().mtime()?));
            continue;
        }
        if std::fs::symlink_metadata(&to).is_ok_and(|m| !m.is_dir()) {
            std::fs::remove_file(&to)?;
        }
        entry
            .unpack(&to)
            .with_context(|| format!("cp: cannot write {}", to.display()))?;
    }
    for (dir, mode, mtime) in dirs.into_iter().rev() {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode & 0o7777))?;
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime);
        let _ = std::fs::File::open(&dir).and_then(|f| f.set_modified(t));
    }
    Ok(())
}

/// `wsh commit [-m MSG] [-c INSTR] CONTAINER [REPO[:TAG]]`: a new image from the
/// container's files (its command's changes), consistent even while it runs.
pub fn commit(
    key: &str,
    tag: Option<&str>,
    message: Option<&str>,
    changes: &[String],
) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let s = settled_state(&store, key)?;
    let overlay = store.container_record(overlay_of(&s)?)?;
    let edits = changes
        .iter()
        .map(|c| parse_change(c))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let id = {
        let lock = store.lock()?;
        let copy = |dest: &Path| -> anyhow::Result<()> {
            if s.status == Status::Running {
                let dest = dest.to_path_buf();
                when_served(&store, &s, || {
                    let mut c = ctl::request(
                        &store.run_path(&s.id),
                        &Request::Snapshot { dest: dest.clone() },
                    )?;
                    ctl::expect_ok(&mut c).map(|_| ())
                })
            } else {
                let _files = stopped_files(&store, &s)?;
                std::fs::copy(store.overlay_path(&overlay.id), dest)
                    .context("cannot copy the container's files")?;
                Ok(())
            }
        };
        let record = store.clone_overlay(&lock, &overlay, copy)?;
        let size = std::fs::metadata(store.overlay_path(&record.id))?.size();
        let by = match message {
            Some(m) => format!("wsh commit {}: {m}", s.name),
            None => format!("wsh commit {}", s.name),
        };
        let id = store.commit(&lock, &record, size, &by, |c| {
            for e in edits {
                e(c);
            }
        })?;
        if let Some(t) = tag {
            store.tag(&lock, t, &id)?;
        }
        id
    };
    println!("sha256:{id}");
    Ok(0)
}

type Edit = Box<dyn FnOnce(&mut images::ImageConfig)>;

/// One `--change` instruction: CMD, ENTRYPOINT (JSON or shell form), ENV K=V,
/// WORKDIR, USER, LABEL K=V, EXPOSE PORT.
fn parse_change(c: &str) -> anyhow::Result<Edit> {
    let (word, rest) = c.trim().split_once(char::is_whitespace).unwrap_or((c, ""));
    let rest = rest.trim().to_string();
    let argv = |rest: &str| -> anyhow::Result<Vec<String>> {
        if rest.starts_with('[') {
            serde_json::from_str(rest).with_context(|| format!("--change {c}: a bad JSON array"))
        } else {
            Ok(vec!["/bin/sh".into(), "-c".into(), rest.to_string()])
        }
    };
    let kv = |rest: &str| -> anyhow::Result<(String, String)> {
        let (k, v) = rest
            .split_once('=')
            .or_else(|| rest.split_once(' '))
            .with_context(|| format!("--change {c}: expected KEY=VALUE"))?;
        Ok((k.trim().to_string(), v.trim().trim_matches('"').to_string()))
    };
    Ok(match word.to_ascii_uppercase().as_str() {
        "CMD" => {
            let v = argv(&rest)?;
            Box::new(move |cfg| cfg.cmd = v)
        }
        "ENTRYPOINT" => {
            let v = argv(&rest)?;
            Box::new(move |cfg| cfg.entrypoint = v)
        }
        "ENV" => {
            let (k, v) = kv(&rest)?;
            Box::new(move |cfg| {
                cfg.env
                    .retain(|e| e.split_once('=').is_none_or(|(n, _)| n != k));
                cfg.env.push(format!("{k}={v}"));
            })
        }
        "WORKDIR" => Box::new(move |cfg| cfg.workdir = rest),
        "USER" => Box::new(move |cfg| cfg.user = rest),
        "LABEL" => {
            let (k, v) = kv(&rest)?;
            Box::new(move |cfg| {
                cfg.labels.insert(k, v);
            })
        }
        "EXPOSE" => Box::new(move |cfg| {
            let p = if rest.contains('/') {
                rest
            } else {
                format!("{rest}/tcp")
            };
            if !cfg.exposed_ports.contains(&p) {
                cfg.exposed_ports.push(p);
            }
        }),
        _ => anyhow::bail!(
            "--change {c}: only CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL and EXPOSE can be changed"
        ),
    })
}
