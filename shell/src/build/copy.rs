//! Writing COPY and ADD sources into a step's file system: host trees from the
//! build context, trees from another stage's image, heredocs and tar archives.

use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use anyhow::Context as _;
use fsimage::{Errno, FileType, Ino, SetTime, Timestamp, Vfs};

use super::context::{Context, clean};

/// Owner and mode overrides (`--chown`, `--chmod`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Attrs {
    /// New owner (uid, gid); None keeps the source's (root for context files, as Docker).
    pub owner: Option<(u32, u32)>,
    /// New permission bits for every file and directory copied.
    pub mode: Option<u32>,
}

/// Where a copied node comes from.
#[derive(Clone, Copy)]
pub enum Src<'a> {
    /// A path relative to the build context.
    Host(&'a Context, &'a str),
    /// An inode of another image (COPY --from).
    Image(&'a Vfs, Ino),
}

/// What a source node is.
struct Node {
    kind: FileType,
    mode: u32,
    owner: (u32, u32),
    mtime: Timestamp,
}

fn node(src: Src<'_>) -> anyhow::Result<Node> {
    Ok(match src {
        Src::Host(ctx, rel) => {
            let m = std::fs::symlink_metadata(ctx.host(rel))
                .with_context(|| format!("cannot stat {rel}"))?;
            let ft = m.file_type();
            let kind = if ft.is_dir() {
                FileType::Directory
            } else if ft.is_symlink() {
                FileType::Symlink
            } else if ft.is_file() {
                FileType::Regular
            } else {
                anyhow::bail!("{rel}: not a file, directory or symlink");
            };
            // Context files belong to root in the image, as with Docker.
            Node {
                kind,
                mode: m.permissions().mode() & 0o7777,
                owner: (0, 0),
                mtime: Timestamp {
                    sec: m.mtime(),
                    nsec: m.mtime_nsec() as u32,
                },
            }
        }
        Src::Image(vfs, ino) => {
            let st = vfs.stat(ino)?;
            Node {
                kind: st.kind,
                mode: st.mode,
                owner: (st.uid, st.gid),
                mtime: st.mtime,
            }
        }
    })
}

/// Creates every missing directory of absolute image path `path` (mode 0755); returns
/// the last one. An existing non-directory in the way is an error.
pub fn mkdir_p(vfs: &Vfs, path: &str) -> anyhow::Result<Ino> {
    mkdir_p_with(vfs, path, |_| Ok(()))
}

/// [`mkdir_p`], calling `made` with each directory it creates.
pub fn mkdir_p_with(
    vfs: &Vfs,
    path: &str,
    mut made: impl FnMut(Ino) -> anyhow::Result<()>,
) -> anyhow::Result<Ino> {
    let mut ino = vfs.root();
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        ino = match vfs.resolve(ino, part.as_bytes(), true) {
            Ok(child) => {
                anyhow::ensure!(
                    vfs.stat(child)?.kind == FileType::Directory,
                    "{path}: {part} is not a directory"
                );
                child
            }
            Err(e) if e.errno() == Errno::NoEnt => {
                let dir = vfs.mkdir(ino, part.as_bytes(), 0o755)?;
                made(dir)?;
                dir
            }
            Err(e) => return Err(e.into()),
        };
    }
    Ok(ino)
}

/// Removes `name` from `dir` if it is there and not a directory (a copied file
/// replaces it); returns the existing directory's inode if it is one.
fn clear(vfs: &Vfs, dir: Ino, name: &[u8]) -> anyhow::Result<Option<Ino>> {
    match vfs.lookup(dir, name) {
        Ok(ino) if vfs.stat(ino)?.kind == FileType::Directory => Ok(Some(ino)),
        Ok(_) => {
            vfs.unlink(dir, name)?;
            Ok(None)
        }
        Err(e) if e.errno() == Errno::NoEnt => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn finish(vfs: &Vfs, ino: Ino, n: &Node, attrs: Attrs, symlink: bool) -> anyhow::Result<()> {
    let (uid, gid) = attrs.owner.unwrap_or(n.owner);
    vfs.set_owner(ino, Some(uid), Some(gid))?;
    if !symlink {
        vfs.set_mode(ino, attrs.mode.unwrap_or(n.mode))?;
    }
    vfs.set_times(ino, Some(SetTime::At(n.mtime)), Some(SetTime::At(n.mtime)))?;
    Ok(())
}

/// Writes all of `data` at `off`.
fn write_all(vfs: &Vfs, ino: Ino, mut off: u64, mut data: &[u8]) -> anyhow::Result<()> {
    while !data.is_empty() {
        let n = vfs.write(ino, off, data)?;
        anyhow::ensure!(n > 0, "short write");
        off += n as u64;
        data = &data[n..];
    }
    Ok(())
}

/// Copies a regular file's bytes from `src` into `ino`.
fn copy_bytes(src: Src<'_>, vfs: &Vfs, ino: Ino) -> anyhow::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0u64;
    match src {
        Src::Host(ctx, rel) => {
            let mut f =
                std::fs::File::open(ctx.host(rel)).with_context(|| format!("cannot read {rel}"))?;
            loop {
                let n = f
                    .read(&mut buf)
                    .with_context(|| format!("cannot read {rel}"))?;
                if n == 0 {
                    break;
                }
                write_all(vfs, ino, off, &buf[..n])?;
                off += n as u64;
            }
        }
        Src::Image(from, sino) => loop {
            let n = from.read(sino, off, &mut buf)?;
            if n == 0 {
                break;
            }
            write_all(vfs, ino, off, &buf[..n])?;
            off += n as u64;
        },
    }
    Ok(())
}

fn children<'a>(
    src: Src<'a>,
    names: &'a mut Vec<String>,
) -> anyhow::Result<Vec<(Vec<u8>, Option<Ino>)>> {
    Ok(match src {
        Src::Host(ctx, rel) => {
            ctx.walk_one(rel, names)?;
            names
                .iter()
                .map(|n| (n.rsplit('/').next().unwrap_or(n).as_bytes().to_vec(), None))
                .collect()
        }
        Src::Image(vfs, ino) => vfs
            .readdir(ino)?
            .into_iter()
            .filter(|e| e.name != b"." && e.name != b"..")
            .map(|e| (e.name, Some(e.ino)))
            .collect(),
    })
}

/// Copies `src` to entry `name` of directory `dir` (a directory source merges into an
/// existing directory there).
pub fn copy_node(
    src: Src<'_>,
    vfs: &Vfs,
    dir: Ino,
    name: &[u8],
    attrs: Attrs,
) -> anyhow::Result<()> {
    let n = node(src)?;
    match n.kind {
        FileType::Directory => {
            let target = match clear(vfs, dir, name)? {
                Some(d) => d,
                None => vfs.mkdir(dir, name, 0o755)?,
            };
            copy_contents(src, vfs, target, attrs)?;
            finish(vfs, target, &n, attrs, false)
        }
        FileType::Symlink => {
            let _ = clear(vfs, dir, name)?;
            let to = match src {
                Src::Host(ctx, rel) => std::fs::read_link(ctx.host(rel))?
                    .as_os_str()
                    .as_bytes()
                    .to_vec(),
                Src::Image(from, ino) => from.readlink(ino)?,
            };
            let ino = vfs.symlink(dir, name, &to)?;
            finish(vfs, ino, &n, attrs, true)
        }
        FileType::Regular => {
            anyhow::ensure!(
                clear(vfs, dir, name)?.is_none(),
                "cannot overwrite directory {} with a file",
                String::from_utf8_lossy(name)
            );
            let ino = vfs.create(dir, name, 0o644)?;
            copy_bytes(src, vfs, ino)?;
            finish(vfs, ino, &n, attrs, false)
        }
        _ => Ok(()),
    }
}

/// Copies the entries of directory `src` into directory `dir` (Docker: a directory
/// source copies its contents, not itself).
pub fn copy_contents(src: Src<'_>, vfs: &Vfs, dir: Ino, attrs: Attrs) -> anyhow::Result<()> {
    let mut names = Vec::new();
    let kids = children(src, &mut names)?;
    for (i, (name, ino)) in kids.iter().enumerate() {
        let child = match (src, ino) {
            (Src::Image(from, _), Some(ino)) => Src::Image(from, *ino),
            (Src::Host(ctx, _), _) => Src::Host(ctx, names[i].as_str()),
            _ => continue,
        };
        copy_node(child, vfs, dir, name, attrs)?;
    }
    Ok(())
}

/// Writes a file of `data` at entry `name` of `dir` (COPY heredocs).
pub fn write_file(
    vfs: &Vfs,
    dir: Ino,
    name: &[u8],
    data: &[u8],
    attrs: Attrs,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        clear(vfs, dir, name)?.is_none(),
        "cannot overwrite directory {} with a file",
        String::from_utf8_lossy(name)
    );
    let ino = vfs.create(dir, name, 0o644)?;
    write_all(vfs, ino, 0, data)?;
    let (uid, gid) = attrs.owner.unwrap_or((0, 0));
    vfs.set_owner(ino, Some(uid), Some(gid))?;
    vfs.set_mode(ino, attrs.mode.unwrap_or(0o644))?;
    Ok(())
}

/// Whether the host file looks like a tar archive, plain or gzip-compressed.
pub fn is_archive(path: &std::path::Path) -> bool {
    let mut head = [0u8; 512];
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let n = f.read(&mut head).unwrap_or(0);
    (n >= 2 && head[..2] == [0x1f, 0x8b]) || (n >= 262 && &head[257..262] == b"ustar")
}

/// Extracts a (possibly gzip-compressed) tar archive into directory `dir` (ADD).
/// Entries keep their modes, owners and times; paths leaving `dir` are refused.
pub fn extract_tar(
    path: &std::path::Path,
    vfs: &Vfs,
    dir: Ino,
    attrs: Attrs,
) -> anyhow::Result<()> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut magic = [0u8; 2];
    std::io::Read::read_exact(&mut std::fs::File::open(path)?, &mut magic)?;
    let reader: Box<dyn Read> = if magic == [0x1f, 0x8b] {
        Box::new(flate2::read::GzDecoder::new(f))
    } else {
        Box::new(f)
    };
    let mut ar = tar::Archive::new(reader);
    let bad = |what: &str| format!("{}: {what}", path.display());
    for entry in ar.entries().with_context(|| bad("not a tar archive"))? {
        let mut entry = entry.with_context(|| bad("damaged tar archive"))?;
        let raw = entry
            .path()
            .with_context(|| bad("bad entry name"))?
            .to_string_lossy()
            .into_owned();
        let Some(rel) = clean(&raw) else {
            anyhow::bail!("{}: entry {raw:?} leaves the destination", path.display());
        };
        if rel.is_empty() {
            continue;
        }
        let (parent, name) = match rel.rsplit_once('/') {
            Some((p, n)) => (mkdir_under(vfs, dir, p)?, n.to_string()),
            None => (dir, rel.clone()),
        };
        let h = entry.header();
        let mode = h.mode().unwrap_or(0o644) & 0o7777;
        let owner = (h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32);
        let mtime = Timestamp {
            sec: h.mtime().unwrap_or(0) as i64,
            nsec: 0,
        };
        let n = Node {
            kind: FileType::Regular,
            mode,
            owner,
            mtime,
        };
        let et = h.entry_type();
        let name = name.as_bytes();
        if et.is_dir() {
            let d = match clear(vfs, parent, name)? {
                Some(d) => d,
                None => vfs.mkdir(parent, name, 0o755)?,
            };
            finish(vfs, d, &n, attrs, false)?;
        } else if et.is_symlink() {
            let to = entry
                .link_name()?
                .context("symlink without a target")?
                .as_os_str()
                .as_bytes()
                .to_vec();
            let _ = clear(vfs, parent, name)?;
            let ino = vfs.symlink(parent, name, &to)?;
            finish(vfs, ino, &n, attrs, true)?;
        } else if et.is_hard_link() {
            let to = entry
                .link_name()?
                .context("hard link without a target")?
                .to_string_lossy()
                .into_owned();
            let to = clean(&to).with_context(|| bad("hard link leaves the destination"))?;
            let target = vfs.resolve(dir, to.as_bytes(), false)?;
            let _ = clear(vfs, parent, name)?;
            vfs.link(target, parent, name)?;
        } else if et.is_file() {
            anyhow::ensure!(
                clear(vfs, parent, name)?.is_none(),
                "{}: cannot overwrite a directory",
                rel
            );
            let ino = vfs.create(parent, name, 0o644)?;
            let mut buf = vec![0u8; 1 << 20];
            let mut off = 0;
            loop {
                let k = entry
                    .read(&mut buf)
                    .with_context(|| bad("damaged tar archive"))?;
                if k == 0 {
                    break;
                }
                write_all(vfs, ino, off, &buf[..k])?;
                off += k as u64;
            }
            finish(vfs, ino, &n, attrs, false)?;
        }
        // Device nodes and fifos are skipped: guests cannot use them.
    }
    Ok(())
}

/// `mkdir -p` of relative `path` below `dir`.
fn mkdir_under(vfs: &Vfs, mut dir: Ino, path: &str) -> anyhow::Result<Ino> {
    for part in path.split('/').filter(|p| !p.is_empty()) {
        dir = match clear(vfs, dir, part.as_bytes())? {
            Some(d) => d,
            None => vfs.mkdir(dir, part.as_bytes(), 0o755)?,
        };
    }
    Ok(dir)
}
