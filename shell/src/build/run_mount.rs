//! `RUN --mount=...`: BuildKit's build mounts, as host directories the step's guests
//! and interpreter see through the runtime's mounts (`wsh_runtime::mounts`).
//!
//! - `type=bind` (the default): a directory of the build context (after
//!   `.balenaignore`), or of an earlier stage or image with `from=`, read-only unless
//!   `rw` — and then the writes are discarded. Context directories are mounted as they
//!   are when nothing could differ (read-only, no `.balenaignore` rules); otherwise,
//!   and for `from=`, the subtree is copied into a temporary directory first, so
//!   ignored files stay unseen and writes never reach the context.
//! - `type=cache`: a persistent directory per `id` (default: the target) under the
//!   wsh cache directory, kept across builds, never in a layer nor in a cache key;
//!   with `from=`, a new one starts as a copy of that image's `source` directory.
//!   `sharing=locked` takes an exclusive `flock` for the step; `private` takes it
//!   without waiting and, when another build holds the cache, uses a fresh empty
//!   directory that is discarded; `shared` takes no lock.
//! - `type=tmpfs`: an empty temporary directory, removed after the step; `size=` is
//!   checked when the step ends (a host directory cannot refuse the write itself).
//!
//! The mount point directories are made in the step's container and stay, empty, in
//! the layer, as BuildKit leaves them; what is written below them never lands there.
//! A step's cache key covers the mount specs and, for bind mounts, the bound content.

use std::fs::File;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::io::AsRawFd as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use fsimage::{FileType, Ino, Vfs};
use sha2::{Digest, Sha256};
use wsh_runtime::mounts::{Mount, Mounts};

use super::context::{Context, clean};
use super::exec::{Builder, Stage, image_path};
use super::mount_spec::{Kind, MountSpec, Sharing, parse_spec};
use super::parse::Step;
use super::vars;
use images::Container;

/// The step's mounts, substituted, with their absolute targets.
fn specs(b: &Builder<'_>, st: &Stage, step: &Step) -> Result<Vec<(MountSpec, String)>, String> {
    let look = |n: &str| st.lookup(n);
    let expand = |v: &str| vars::word(v, b.bf.escape, &look);
    let wd = if st.config.workdir.is_empty() {
        "/"
    } else {
        &st.config.workdir
    };
    step.mounts
        .iter()
        .map(|raw| {
            let spec = parse_spec(raw, &expand)?;
            let target = image_path(wd, &spec.target);
            if target == "/" {
                return Err(format!("RUN --mount: invalid mount target {target:?}"));
            }
            Ok((spec, target))
        })
        .collect()
}

/// The context directory a bind mount's `source` names (relative, cleaned).
fn context_dir(ctx: &Context, source: &str) -> Result<String, String> {
    let Some(rel) = clean(source.trim_start_matches('/')) else {
        return Err(format!(
            "RUN --mount source {source}: forbidden path outside the build context"
        ));
    };
    let host = ctx.host(&rel);
    if std::fs::symlink_metadata(&host).is_err() || !ctx.visible(&rel) {
        return Err(format!(
            "RUN --mount source {source}: not found in the build context"
        ));
    }
    let real = host
        .canonicalize()
        .map_err(|e| format!("RUN --mount source {source}: {e}"))?;
    if !real.starts_with(ctx.root()) {
        return Err(format!(
            "RUN --mount source {source}: forbidden path outside the build context"
        ));
    }
    if !real.is_dir() {
        return Err(format!(
            "RUN --mount source {source}: not a directory (only directories can be mounted; COPY a single file, or bind its directory)"
        ));
    }
    Ok(rel)
}

/// Adds what the step's mounts read to a cache key's content hash: each spec, and for
/// bind mounts the bound context content (names, modes, bytes) or the `from` image id.
/// Cache and tmpfs contents never count, as in BuildKit.
pub(super) fn hash_into(
    b: &Builder<'_>,
    st: &Stage,
    step: &Step,
    h: &mut Sha256,
) -> Result<(), String> {
    for (spec, target) in specs(b, st, step)? {
        h.update(format!("mount {target} {:?}\n", spec.kind));
        if let Kind::Cache { from: Some(f), .. } = &spec.kind {
            let (id, _) = super::steps::from_image(b, f).map_err(|e| format!("{e:#}"))?;
            h.update(format!("from {id}\n"));
        }
        if let Kind::Bind { source, from, .. } = &spec.kind {
            match from {
                None => {
                    let rel = context_dir(&b.ctx, source)?;
                    b.ctx
                        .hash_into(&rel, h)
                        .map_err(|e| format!("RUN --mount source {source}: {e:#}"))?;
                }
                Some(f) => {
                    let (id, _) = super::steps::from_image(b, f).map_err(|e| format!("{e:#}"))?;
                    h.update(format!("from {id}\n"));
                }
            }
        }
    }
    Ok(())
}

/// What a RUN's mounts hold until the step ends: temporary directories (removed when
/// dropped), cache locks (released when dropped) and tmpfs sizes to check.
#[derive(Default)]
pub(super) struct Attached {
    temps: Vec<tempfile::TempDir>,
    locks: Vec<File>,
    limits: Vec<(PathBuf, u64, String)>,
}

impl Attached {
    /// Checks the tmpfs `size=` limits after the command ran, then lets everything go.
    pub fn finish(self) -> anyhow::Result<()> {
        for (dir, size, target) in &self.limits {
            let used = disk_usage(dir)?;
            anyhow::ensure!(
                used <= *size,
                "RUN --mount=type=tmpfs,target={target}: {used} bytes written, over size={size}"
            );
        }
        drop(self.locks);
        Ok(())
    }
}

/// The bytes of the files below `dir`.
fn disk_usage(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let m = e.metadata()?;
        total += if m.is_dir() {
            disk_usage(&e.path())?
        } else {
            m.len()
        };
    }
    Ok(total)
}

/// Makes the step's mounts and gives them to the container's runtime; the mount points
/// are made in the container's file system. The result must live until the command ends.
pub(super) fn attach(
    b: &Builder<'_>,
    st: &Stage,
    step: &Step,
    container: &Container,
) -> anyhow::Result<Attached> {
    let mut held = Attached::default();
    if step.mounts.is_empty() {
        return Ok(held);
    }
    let tmp_root = b.dirs.cache.join("build-tmp");
    std::fs::create_dir_all(&tmp_root)
        .with_context(|| format!("cannot create {}", tmp_root.display()))?;
    let temp = |held: &mut Attached| -> anyhow::Result<PathBuf> {
        let t = tempfile::Builder::new()
            .prefix("mount-")
            .tempdir_in(&tmp_root)
            .with_context(|| format!("cannot make a directory in {}", tmp_root.display()))?;
        let p = t.path().to_path_buf();
        held.temps.push(t);
        Ok(p)
    };
    let vfs = container.runtime().vfs();
    let mut mounts = Mounts::none();
    for (spec, target) in specs(b, st, step).map_err(anyhow::Error::msg)? {
        let (host, readonly) = match &spec.kind {
            Kind::Bind {
                source,
                from: None,
                rw,
            } => {
                let rel = context_dir(&b.ctx, source).map_err(anyhow::Error::msg)?;
                if !rw && !b.ctx.has_rules() {
                    (b.ctx.host(&rel).canonicalize()?, true)
                } else {
                    let dir = temp(&mut held)?;
                    copy_context(&b.ctx, &rel, &dir)?;
                    (dir, !rw)
                }
            }
            Kind::Bind {
                source,
                from: Some(f),
                rw,
            } => {
                let dir = temp(&mut held)?;
                image_dir(b, f, source, &dir)?;
                (dir, !rw)
            }
            Kind::Cache {
                id,
                sharing,
                readonly,
                ..
            } => {
                let id = id.clone().unwrap_or_else(|| spec.target.clone());
                let dir = match lock_cache(b, &id, *sharing, &mut held)? {
                    Some(dir) => {
                        if !dir.is_dir() {
                            // Made under another name, then renamed: a concurrent build
                            // sees all of it or nothing.
                            let parent = dir.parent().unwrap_or(&dir);
                            let tmp = tempfile::Builder::new()
                                .prefix(".new-")
                                .tempdir_in(parent)?;
                            new_cache(b, &id, &spec.kind, tmp.path())?;
                            let p = tmp.keep();
                            if std::fs::rename(&p, &dir).is_err() {
                                // Another build made it first.
                                let _ = std::fs::remove_dir_all(&p);
                            }
                        }
                        dir
                    }
                    // `private` while another build holds the cache: a fresh one.
                    None => {
                        let dir = temp(&mut held)?;
                        new_cache(b, &id, &spec.kind, &dir)?;
                        dir
                    }
                };
                (dir, *readonly)
            }
            Kind::Tmpfs { size, readonly } => {
                let dir = temp(&mut held)?;
                if let Some(size) = size {
                    held.limits.push((dir.clone(), *size, target.clone()));
                }
                (dir, *readonly)
            }
        };
        let mount = Mount::new(&host, &target, readonly)
            .with_context(|| format!("RUN --mount: cannot open {} confined", host.display()))?;
        super::copy::mkdir_p(vfs, &target)
            .with_context(|| format!("RUN --mount: cannot make the mount point {target}"))?;
        mounts.add(mount);
    }
    container.runtime().set_mounts(mounts);
    Ok(held)
}

/// The persistent directory of cache `id` (it may not exist yet), locked as `sharing`
/// asks; None when `private` finds it in use. The lock files live beside the
/// directories, never in them.
fn lock_cache(
    b: &Builder<'_>,
    id: &str,
    sharing: Sharing,
    held: &mut Attached,
) -> anyhow::Result<Option<PathBuf>> {
    let root = b.dirs.cache.join("run-cache");
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    // Any id (slashes, dots) becomes a plain name.
    let name = hex::encode(&Sha256::digest(id.as_bytes())[..16]);
    if sharing != Sharing::Shared {
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join(format!("{name}.lock")))?;
        let op = match sharing {
            Sharing::Private => libc::LOCK_EX | libc::LOCK_NB,
            _ => libc::LOCK_EX,
        };
        // SAFETY: flock on a descriptor this function owns; no memory is involved.
        if unsafe { libc::flock(lock.as_raw_fd(), op) } != 0 {
            let e = std::io::Error::last_os_error();
            if sharing == Sharing::Private && e.kind() == std::io::ErrorKind::WouldBlock {
                return Ok(None);
            }
            return Err(e).context(format!("cannot lock the cache mount {id:?}"));
        }
        held.locks.push(lock);
    }
    Ok(Some(root.join(name)))
}

/// Fills the new cache directory `dir`: a copy of `from`'s `source` if given, then
/// `mode` (default 0755) and `uid`/`gid`.
fn new_cache(b: &Builder<'_>, id: &str, kind: &Kind, dir: &Path) -> anyhow::Result<()> {
    let Kind::Cache {
        mode,
        uid,
        gid,
        from,
        source,
        ..
    } = kind
    else {
        return Ok(());
    };
    if let Some(f) = from {
        image_dir(b, f, source, dir)?;
    }
    std::fs::set_permissions(
        dir,
        std::fs::Permissions::from_mode(mode.unwrap_or(0o755) & 0o7777),
    )?;
    if uid.is_some() || gid.is_some() {
        std::os::unix::fs::chown(dir, *uid, *gid).with_context(|| {
            format!(
                "RUN --mount=type=cache,id={id}: cannot set the owner (uid={uid:?} gid={gid:?})"
            )
        })?;
    }
    Ok(())
}

/// Copies directory `source` of stage or image `from` into host directory `dest`.
fn image_dir(b: &Builder<'_>, from: &str, source: &str, dest: &Path) -> anyhow::Result<()> {
    let (_, config) = super::steps::from_image(b, from)?;
    let dev = b.store.open_image(&config)?;
    let name = dev.path().to_path_buf();
    let vfs = Vfs::open(Box::new(dev), &name, false)?;
    let path = format!("/{}", source.trim_start_matches('/'));
    let ino = vfs
        .resolve(vfs.root(), path.as_bytes(), true)
        .map_err(|_| anyhow::anyhow!("RUN --mount source {path}: not found in {from}"))?;
    anyhow::ensure!(
        vfs.stat(ino)?.kind == FileType::Directory,
        "RUN --mount source {path} in {from}: not a directory (only directories can be mounted)"
    );
    extract(&vfs, ino, dest)
}

/// Copies the visible (not `.balenaignore`d) tree below context directory `rel` into
/// `dest`: files, directories and symlinks with their permission bits.
fn copy_context(ctx: &Context, rel: &str, dest: &Path) -> anyhow::Result<()> {
    let mut dirs = vec![(
        dest.to_path_buf(),
        std::fs::metadata(ctx.host(rel))?.permissions().mode(),
    )];
    let mut err = None;
    ctx.walk(rel, &mut |p, meta| {
        if err.is_some() {
            return;
        }
        let below = p
            .strip_prefix(rel)
            .unwrap_or(p)
            .trim_start_matches('/')
            .to_string();
        let to = dest.join(&below);
        let from = ctx.host(p);
        let made = (|| -> std::io::Result<()> {
            if meta.is_dir() {
                std::fs::create_dir(&to)?;
                dirs.push((to.clone(), meta.permissions().mode()));
            } else if meta.file_type().is_symlink() {
                std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
            } else if meta.is_file() {
                std::fs::copy(&from, &to)?;
            }
            Ok(())
        })();
        if let Err(e) = made {
            err = Some(anyhow::Error::new(e).context(format!("cannot copy {p} for RUN --mount")));
        }
    })?;
    if let Some(e) = err {
        return Err(e);
    }
    // Directory modes last (a read-only directory would refuse its children); the
    // owner keeps write access so the copy can always be removed.
    for (d, m) in dirs.into_iter().rev() {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode((m & 0o7777) | 0o700))?;
    }
    Ok(())
}

/// Copies the tree below directory `dir` of an image into host directory `dest`:
/// files, directories and symlinks with their permission bits (devices, FIFOs and
/// sockets are left out: guests cannot open them on a mount anyway).
fn extract(vfs: &Vfs, dir: Ino, dest: &Path) -> anyhow::Result<()> {
    let mut buf = vec![0u8; 1 << 16];
    for e in vfs.readdir(dir)? {
        if e.name == b"." || e.name == b".." {
            continue;
        }
        let to = dest.join(std::ffi::OsStr::from_bytes(&e.name));
        let st = vfs.stat(e.ino)?;
        match st.kind {
            FileType::Directory => {
                std::fs::create_dir(&to)?;
                extract(vfs, e.ino, &to)?;
                std::fs::set_permissions(
                    &to,
                    std::fs::Permissions::from_mode((st.mode & 0o7777) | 0o700),
                )?;
            }
            FileType::Regular => {
                let mut f = File::create(&to)?;
                let mut off = 0u64;
                loop {
                    let n = vfs.read(e.ino, off, &mut buf)?;
                    if n == 0 {
                        break;
                    }
                    std::io::Write::write_all(&mut f, &buf[..n])?;
                    off += n as u64;
                }
                std::fs::set_permissions(&to, std::fs::Permissions::from_mode(st.mode & 0o7777))?;
            }
            FileType::Symlink => {
                let target = vfs.readlink(e.ino)?;
                std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&target), &to)?;
            }
            _ => {}
        }
    }
    Ok(())
}
