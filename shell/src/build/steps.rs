//! The instructions that change the file system: RUN (our interpreter in a
//! container of the step's parent), COPY/ADD and WORKDIR (written straight into a
//! new overlay through the Vfs), and the empty `scratch` image.

use anyhow::Context as _;
use fsimage::{FileType, Vfs};
use sha2::{Digest, Sha256};
use wsh_runtime::Handle;

use super::cache;
use super::copy::{self, Attrs, Src};
use super::exec::{Builder, Stage, image_path};
use super::parse::{CmdForm, CopyArgs, Instr, Source, Step};
use super::{BuildError, vars};
use crate::interp::{Fds, ImageSystem, Shell};
use images::Container;
use images::ImageConfig;
use images::{Store, flush_device};

/// Quotes a word for the shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Whether a COPY/ADD source names a remote location.
fn is_url(s: &str) -> bool {
    ["http://", "https://", "git@", "git://", "ssh://"]
        .iter()
        .any(|p| s.starts_with(p))
}

/// A resolved COPY/ADD source.
enum Resolved {
    /// A path in the build context.
    Ctx(String),
    /// A path in another stage's (or image's) file system.
    Img(String),
    /// A heredoc file: its name and content.
    Doc(String, String),
}

/// The image a `--from` names: a stage by name or index, or an image in the store.
pub(super) fn from_image(b: &Builder<'_>, name: &str) -> anyhow::Result<(String, ImageConfig)> {
    let lower = name.to_lowercase();
    if let Some((_, id)) = b
        .done
        .iter()
        .rev()
        .find(|(n, _)| n.as_deref() == Some(lower.as_str()))
    {
        return Ok((id.clone(), b.store.config(id)?));
    }
    if let Ok(i) = name.parse::<usize>() {
        let (_, id) = b.done.get(i).with_context(|| {
            format!(
                "--from={name}: no such stage (stages before this one: {})",
                b.done.len()
            )
        })?;
        return Ok((id.clone(), b.store.config(id)?));
    }
    b.store
        .resolve(name)
        .with_context(|| format!("--from={name}: no such stage or image"))
}

/// The sources of a COPY/ADD after substitution, globbing and the context checks.
fn resolve(b: &Builder<'_>, st: &Stage, args: &CopyArgs) -> Result<Vec<Resolved>, String> {
    let look = |n: &str| st.lookup(n);
    let kw = if args.add { "ADD" } else { "COPY" };
    let mut out = Vec::new();
    for src in &args.srcs {
        match src {
            Source::Path(p) => {
                let p = vars::word(p, b.bf.escape, &look)?;
                if is_url(&p) {
                    return Err(if args.add {
                        format!(
                            "ADD {p}: URLs are not supported (wsh builds never use the network); download the file into the build context and COPY it"
                        )
                    } else {
                        format!("COPY {p}: a source cannot be a URL")
                    });
                }
                if args.from.is_some() {
                    out.push(Resolved::Img(p));
                } else {
                    out.extend(b.ctx.resolve(&p)?.into_iter().map(Resolved::Ctx));
                }
            }
            Source::HereDoc { name, body, expand } => {
                let body = if *expand {
                    expand_heredoc(body, &look)
                } else {
                    body.clone()
                };
                out.push(Resolved::Doc(name.clone(), body));
            }
        }
    }
    if out.is_empty() {
        return Err(format!("{kw}: no source files were specified"));
    }
    Ok(out)
}

/// `$VAR` substitution in a COPY heredoc body (quotes are content there, not syntax).
fn expand_heredoc(body: &str, look: vars::Lookup) -> String {
    body.split_inclusive('\n')
        .map(|line| {
            let escaped = line
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\'', "\\'");
            vars::word(&escaped, '\\', look).unwrap_or_else(|_| line.to_string())
        })
        .collect()
}

/// The hash of what a step reads besides its parent image (COPY/ADD sources, RUN
/// mounts).
pub(super) fn content_hash(b: &Builder<'_>, st: &Stage, step: &Step) -> Result<String, String> {
    if !step.mounts.is_empty() {
        let mut h = Sha256::new();
        super::run_mount::hash_into(b, st, step, &mut h)?;
        return Ok(hex::encode(h.finalize()));
    }
    let Instr::Copy(args) = &step.instr else {
        return Ok(String::new());
    };
    let mut h = Sha256::new();
    if let Some(from) = &args.from {
        let look = |n: &str| st.lookup(n);
        let from = vars::word(from, b.bf.escape, &look)?;
        let (id, _) = from_image(b, &from).map_err(|e| format!("{e:#}"))?;
        h.update(format!("from {id}\n"));
    }
    for r in resolve(b, st, args)? {
        match r {
            Resolved::Ctx(rel) => b
                .ctx
                .hash_into(&rel, &mut h)
                .map_err(|e| format!("{e:#}"))?,
            Resolved::Img(p) => h.update(format!("img {p}\n")),
            Resolved::Doc(n, body) => h.update(format!("doc {n} {}\n{body}", body.len())),
        }
    }
    Ok(hex::encode(h.finalize()))
}

fn step_err(b: &Builder<'_>, step: &Step) -> impl Fn(anyhow::Error) -> BuildError {
    let (file, line, text) = (b.file.clone(), step.line, step.text.clone());
    move |e| {
        BuildError::new(
            &file,
            line,
            format!("{e:#}"),
            super::parse::line_text(&text, 1),
        )
    }
}

/// A new overlay over `parent`, changed by `fill` through the Vfs and sealed as a layer;
/// the new image's config is the parent's changed by `edit`. Nothing stays behind on error.
fn file_step(
    store: &Store,
    parent: Option<&str>,
    size: u64,
    created_by: &str,
    fill: impl FnOnce(&Vfs) -> anyhow::Result<()>,
    edit: impl FnOnce(&mut ImageConfig),
    mkfs: bool,
) -> anyhow::Result<String> {
    let (record, dev) = {
        let lock = store.lock()?;
        store.create_container(&lock, parent, size)?
    };
    let path = dev.path().to_path_buf();
    let made = (|| {
        let vfs = if mkfs {
            Vfs::mkfs(Box::new(dev), "wsh")?
        } else {
            Vfs::open(Box::new(dev), &path, true)?
        };
        fill(&vfs)?;
        let mut dev = vfs.into_device()?;
        flush_device(dev.as_mut())?;
        let size = dev.size();
        drop(dev);
        let lock = store.lock()?;
        store.commit(&lock, &record, size, created_by, edit)
    })();
    if made.is_err() {
        let _ = store.remove_container(&record.id);
    }
    made
}

/// The empty image `FROM scratch` starts from: a fresh ext4 file system (with the
/// `lost+found` e2fsck wants), made once and cached.
pub(super) fn scratch_image(b: &mut Builder<'_>) -> anyhow::Result<String> {
    let key = cache::key("", "FROM scratch", &[], "wsh-scratch-v1");
    if let Some(id) = b.cache.get(&key)
        && b.store.config(id).is_ok()
    {
        return Ok(id.to_string());
    }
    let size = images::base::IMAGE_SIZE;
    let id = file_step(
        &b.store,
        None,
        size,
        "FROM scratch",
        |_| Ok(()),
        |c| c.workdir = "/".into(),
        true,
    )?;
    b.cache.put(key, id.clone());
    Ok(id)
}

/// RUN: the command through wsh's interpreter in a container of the parent image,
/// with the image's ENV and the stage's ARGs in its environment.
pub(super) fn run(
    b: &Builder<'_>,
    st: &Stage,
    step: &Step,
    form: &CmdForm,
) -> Result<String, BuildError> {
    let fail = step_err(b, step);
    let words = |argv: &[String]| argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ");
    let script = match form {
        // Docker runs `SHELL + [text]`; with the default `/bin/sh -c` that is our
        // interpreter running the text, so it gets the text directly.
        CmdForm::Shell(s) if st.config.shell_or_default() == ["/bin/sh", "-c"] => s.clone(),
        CmdForm::Shell(s) => {
            let mut argv = st.config.shell.clone();
            argv.push(s.clone());
            words(&argv)
        }
        CmdForm::Exec(argv) => words(argv),
    };
    let store = Store::open(&b.dirs).map_err(&fail)?;
    let container = Container::create(store, &b.dirs, &st.id).map_err(&fail)?;
    // RUN --mount: held until the command ends (temporary directories, cache locks).
    let mounts = super::run_mount::attach(b, st, step, &container).map_err(&fail)?;
    // USER: the step runs as that user (HOME from /etc/passwd unless ENV sets it).
    let user = super::user::resolve(container.runtime().vfs(), &st.config.user).map_err(&fail)?;
    container.runtime().set_credentials(user.creds.clone());
    let status = {
        let mut sh = Shell::new(ImageSystem::new(container.runtime().clone()));
        // No stdin (as Docker); output goes with the progress lines to stderr.
        // `-q`: nothing but the image id (as `docker build -q`).
        let out = if b.progress.quiet {
            Handle::Null
        } else {
            Handle::HostStderr
        };
        let fds = Fds::standard(Handle::Null, out.clone(), out);
        let mut prelude = super::user::home_export(&st.config.env, &user);
        for (k, v) in st.arg_values() {
            prelude.push_str(&format!("export {k}={}\n", quote(&v)));
        }
        for kv in &st.config.env {
            if let Some((k, v)) = kv.split_once('=')
                && !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                prelude.push_str(&format!("export {k}={}\n", quote(v)));
            }
        }
        let wd = if st.config.workdir.is_empty() {
            "/"
        } else {
            &st.config.workdir
        };
        prelude.push_str(&format!("cd {}\n", quote(wd)));
        let s = sh.run_text(&prelude, &fds);
        if s != 0 {
            return Err(fail(anyhow::anyhow!(
                "RUN: cannot enter WORKDIR {wd} or set the environment (status {s})"
            )));
        }
        sh.run_text(&script, &fds)
    };
    if status != 0 {
        return Err(fail(anyhow::anyhow!(
            "RUN failed with exit status {status}"
        )));
    }
    mounts.finish().map_err(&fail)?;
    container.commit(&step.text, None, |_| {}).map_err(&fail)
}

/// WORKDIR: the directory is created if missing, and becomes the image's workdir.
pub(super) fn workdir(b: &Builder<'_>, st: &Stage, step: &Step) -> Result<String, BuildError> {
    let fail = step_err(b, step);
    let Instr::Workdir(raw) = &step.instr else {
        unreachable!("dispatched on WORKDIR")
    };
    let look = |n: &str| st.lookup(n);
    let w = vars::word(raw, b.bf.escape, &look).map_err(|m| fail(anyhow::anyhow!(m)))?;
    let base = if st.config.workdir.is_empty() {
        "/"
    } else {
        &st.config.workdir
    };
    let path = image_path(base, &w);
    let p2 = path.clone();
    let user = st.config.user.clone();
    file_step(
        &b.store,
        Some(&st.id),
        0,
        &step.text,
        |vfs| super::user::make_workdir(vfs, &path, &user),
        |c| c.workdir = p2,
        false,
    )
    .map_err(fail)
}

/// `--chown=USER[:GROUP]`: numbers, or names from the image's /etc/passwd and /etc/group.
fn owner(vfs: &Vfs, spec: &str) -> anyhow::Result<(u32, u32)> {
    let lookup = |file: &str, name: &str, field: usize| -> anyhow::Result<u32> {
        if let Ok(n) = name.parse() {
            return Ok(n);
        }
        let text = read_image_file(vfs, file).unwrap_or_default();
        text.lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.first() == Some(&name))
            .and_then(|f| f.get(field)?.parse().ok())
            .with_context(|| format!("--chown={spec}: no {name:?} in {file}"))
    };
    let (u, g) = spec.split_once(':').unwrap_or((spec, ""));
    let uid = lookup("/etc/passwd", u, 2)?;
    let gid = if g.is_empty() {
        uid
    } else {
        lookup("/etc/group", g, 2)?
    };
    Ok((uid, gid))
}

fn read_image_file(vfs: &Vfs, path: &str) -> anyhow::Result<String> {
    let ino = vfs.resolve(vfs.root(), path.as_bytes(), true)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let n = vfs.read(ino, out.len() as u64, &mut buf)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// COPY and ADD (Docker's rules: a directory source copies its contents; several
/// sources need a destination ending in `/`; missing directories are created;
/// ADD extracts local tar archives).
pub(super) fn copy(
    b: &Builder<'_>,
    st: &Stage,
    step: &Step,
    args: &CopyArgs,
) -> Result<String, BuildError> {
    let fail = step_err(b, step);
    let msg = |m: String| fail(anyhow::anyhow!(m));
    let look = |n: &str| st.lookup(n);
    let kw = if args.add { "ADD" } else { "COPY" };
    let dest_raw = vars::word(&args.dest, b.bf.escape, &look).map_err(msg)?;
    let wd = if st.config.workdir.is_empty() {
        "/"
    } else {
        &st.config.workdir
    };
    let dest = image_path(wd, &dest_raw);
    let srcs = resolve(b, st, args).map_err(msg)?;
    let dir_dest = dest_raw.ends_with('/') || dest_raw.ends_with("/.") || dest_raw == ".";
    if srcs.len() > 1 && !dir_dest {
        return Err(msg(format!(
            "{kw} with more than one source file needs a destination directory ending in /, not {dest_raw}"
        )));
    }
    let mode = match &args.chmod {
        Some(m) => Some(
            u32::from_str_radix(m, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .ok_or_else(|| msg(format!("--chmod={m}: expected an octal mode")))?,
        ),
        None => None,
    };
    let from = match &args.from {
        Some(f) => {
            let f = vars::word(f, b.bf.escape, &look).map_err(msg)?;
            let (_, config) = from_image(b, &f).map_err(&fail)?;
            let dev = b.store.open_image(&config).map_err(&fail)?;
            let path = dev.path().to_path_buf();
            Some((
                f,
                Vfs::open(Box::new(dev), &path, false).map_err(|e| fail(e.into()))?,
            ))
        }
        None => None,
    };
    let ctx = &b.ctx;
    let mut modules = Vec::new();
    let fill = |vfs: &Vfs| -> anyhow::Result<()> {
        let owner = args.chown.as_deref().map(|c| owner(vfs, c)).transpose()?;
        let attrs = Attrs { owner, mode };
        // An existing directory at the destination also takes sources inside it.
        let dest_is_dir = dir_dest
            || vfs
                .resolve(vfs.root(), dest.as_bytes(), true)
                .and_then(|i| vfs.stat(i))
                .is_ok_and(|s| s.kind == FileType::Directory);
        let (parent_path, leaf) = match dest.rsplit_once('/') {
            Some((p, l)) => (
                if p.is_empty() {
                    "/".to_string()
                } else {
                    p.to_string()
                },
                l.to_string(),
            ),
            None => ("/".into(), dest.clone()),
        };
        for r in &srcs {
            let (src, name): (Src<'_>, String) = match r {
                Resolved::Ctx(rel) => (
                    Src::Host(ctx, rel),
                    rel.rsplit('/').next().unwrap_or("").to_string(),
                ),
                Resolved::Img(p) => {
                    let (stage, fvfs) = from.as_ref().context("no --from image")?;
                    let ino = fvfs
                        .resolve(fvfs.root(), p.as_bytes(), true)
                        .map_err(|_| anyhow::anyhow!("{p}: not found in {stage}"))?;
                    (
                        Src::Image(fvfs, ino),
                        p.trim_end_matches('/')
                            .rsplit('/')
                            .next()
                            .unwrap_or("")
                            .to_string(),
                    )
                }
                Resolved::Doc(name, body) => {
                    let (dir, file) = if dest_is_dir {
                        (copy::mkdir_p(vfs, &dest)?, name.clone())
                    } else {
                        (copy::mkdir_p(vfs, &parent_path)?, leaf.clone())
                    };
                    copy::write_file(vfs, dir, file.as_bytes(), body.as_bytes(), attrs)?;
                    continue;
                }
            };
            let is_dir = match src {
                Src::Host(c, rel) => std::fs::symlink_metadata(c.host(rel))?.is_dir(),
                Src::Image(v, i) => v.stat(i)?.kind == FileType::Directory,
            };
            if is_dir || name.is_empty() {
                let dir = copy::mkdir_p(vfs, &dest)?;
                copy::copy_contents(src, vfs, dir, attrs)?;
            } else if args.add
                && let Src::Host(c, rel) = src
                && copy::is_archive(&c.host(rel))
            {
                let dir = copy::mkdir_p(vfs, &dest)?;
                copy::extract_tar(&c.host(rel), vfs, dir, attrs)?;
            } else if dest_is_dir {
                let dir = copy::mkdir_p(vfs, &dest)?;
                copy::copy_node(src, vfs, dir, name.as_bytes(), attrs)?;
            } else {
                let dir = copy::mkdir_p(vfs, &parent_path)?;
                copy::copy_node(src, vfs, dir, leaf.as_bytes(), attrs)?;
            }
        }
        modules = super::precompile::modules_at(vfs, &dest);
        Ok(())
    };
    let id = file_step(&b.store, Some(&st.id), 0, &step.text, fill, |_| {}, false).map_err(fail)?;
    super::precompile::compile(modules, &b.dirs.cache, &b.progress);
    Ok(id)
}
