//! One wsh layer as an OCI layer: a tar of what changed in its tree against its
//! parent's, with whiteouts (`.wh.NAME`, `.wh..wh..opq`) for what went away.
//!
//! Layers are block-level overlays of one ext4 file system, so an unchanged file keeps
//! its inode number and every attribute; a written, chmod-ed, renamed-over or relinked
//! one gets a new ctime (or a new inode). That makes the comparison cheap and exact.

use std::collections::HashMap;
use std::io::{Read, Write};

use anyhow::Context;
use fsimage::{FileType, Ino, Stat, Vfs};

/// Counts of what a layer tar holds, for messages.
#[derive(Default)]
pub(super) struct DiffStats {
    /// Entries written (files, directories, links, whiteouts).
    pub entries: u64,
    /// Device nodes and sockets left out (a tar could hold devices, but the image
    /// store does not record their numbers).
    pub skipped: Vec<String>,
}

/// Writes into `tar` the changes of `upper` against `lower` (None: everything).
pub(super) fn write_layer<W: Write>(
    lower: Option<&Vfs>,
    upper: &Vfs,
    tar: &mut tar::Builder<W>,
) -> anyhow::Result<DiffStats> {
    let mut d = Diff {
        upper,
        tar,
        links: HashMap::new(),
        stats: DiffStats::default(),
    };
    let lower = lower.map(|v| (v, v.root()));
    d.dir(lower, upper.root(), &[])?;
    Ok(d.stats)
}

/// Writes the tree at `ino` into `tar` named `top` (its own entry, then what it
/// holds below `top/`); an empty `top` writes only what a directory holds.
pub(super) fn write_tree<W: Write>(
    vfs: &Vfs,
    ino: Ino,
    top: &[u8],
    tar: &mut tar::Builder<W>,
) -> anyhow::Result<DiffStats> {
    let mut d = Diff {
        upper: vfs,
        tar,
        links: HashMap::new(),
        stats: DiffStats::default(),
    };
    let st = vfs.stat(ino)?;
    if !top.is_empty() {
        d.entry(top, &st)?;
    }
    if st.kind == FileType::Directory {
        d.dir(None, ino, top)?;
    }
    Ok(d.stats)
}

struct Diff<'a, W: Write> {
    upper: &'a Vfs,
    tar: &'a mut tar::Builder<W>,
    /// Inode -> the path it was first written at in this tar (for hard links).
    links: HashMap<Ino, Vec<u8>>,
    stats: DiffStats,
}

/// The entries of a directory but `.` and `..`, sorted by name (a stable tar order).
fn entries(vfs: &Vfs, dir: Ino) -> anyhow::Result<Vec<(Vec<u8>, Ino)>> {
    let mut v: Vec<_> = vfs
        .readdir(dir)?
        .into_iter()
        .filter(|e| e.name != b"." && e.name != b"..")
        .map(|e| (e.name, e.ino))
        .collect();
    v.sort();
    Ok(v)
}

/// Whether two inodes' attributes say nothing changed (atime aside: reads move it).
fn same(a: &Stat, b: &Stat) -> bool {
    a.ino == b.ino
        && a.kind == b.kind
        && a.mode == b.mode
        && a.uid == b.uid
        && a.gid == b.gid
        && a.nlink == b.nlink
        && a.size == b.size
        && a.mtime == b.mtime
        && a.ctime == b.ctime
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if !p.is_empty() {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

fn path_str(p: &[u8]) -> String {
    String::from_utf8_lossy(p).into_owned()
}

impl<W: Write> Diff<'_, W> {
    /// Compares directory `uino` of the upper tree (at `path`) with `lower`'s.
    fn dir(&mut self, lower: Option<(&Vfs, Ino)>, uino: Ino, path: &[u8]) -> anyhow::Result<()> {
        let ctx = || format!("cannot read /{}", path_str(path));
        let upper_entries = entries(self.upper, uino).with_context(ctx)?;
        let lower_entries = match lower {
            Some((v, ino)) => entries(v, ino).with_context(ctx)?,
            None => Vec::new(),
        };
        let lower_map: HashMap<&[u8], Ino> = lower_entries
            .iter()
            .map(|(n, i)| (n.as_slice(), *i))
            .collect();
        // Deletions first, as the image spec asks of whiteouts.
        for (name, _) in &lower_entries {
            if !upper_entries.iter().any(|(n, _)| n == name) {
                let mut wh = b".wh.".to_vec();
                wh.extend_from_slice(name);
                self.whiteout(&join(path, &wh))?;
            }
        }
        for (name, ino) in &upper_entries {
            // mkfs's lost+found is the file system's, not the image's.
            if path.is_empty() && name == b"lost+found" {
                continue;
            }
            let child = join(path, name);
            let st = self
                .upper
                .stat(*ino)
                .with_context(|| format!("cannot stat /{}", path_str(&child)))?;
            let old = match (lower, lower_map.get(name.as_slice())) {
                (Some((v, _)), Some(&li)) => Some((v, v.stat(li)?)),
                _ => None,
            };
            let unchanged = old.as_ref().is_some_and(|(_, o)| same(o, &st));
            if !unchanged {
                self.entry(&child, &st)?;
            }
            if st.kind == FileType::Directory {
                // The same directory (same inode) below: compare inside it. A new
                // directory where one was: the old one's content is hidden entirely.
                let below = match &old {
                    Some((v, o)) if o.kind == FileType::Directory && o.ino == st.ino => {
                        Some((*v, o.ino))
                    }
                    Some((_, o)) if o.kind == FileType::Directory => {
                        self.whiteout(&join(&child, b".wh..wh..opq"))?;
                        None
                    }
                    _ => None,
                };
                self.dir(below, *ino, &child)?;
            }
        }
        Ok(())
    }

    fn whiteout(&mut self, path: &[u8]) -> anyhow::Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(0);
        h.set_mtime(0);
        self.tar
            .append_data(&mut h, path_str(path), std::io::empty())
            .with_context(|| format!("cannot write the whiteout {}", path_str(path)))?;
        self.stats.entries += 1;
        Ok(())
    }

    /// Writes one changed inode at `path`.
    fn entry(&mut self, path: &[u8], st: &Stat) -> anyhow::Result<()> {
        let name = path_str(path);
        let mut h = tar::Header::new_ustar();
        h.set_mode(st.mode);
        h.set_uid(st.uid.into());
        h.set_gid(st.gid.into());
        h.set_mtime(st.mtime.sec.max(0) as u64);
        h.set_size(0);
        if st.mtime.nsec != 0 {
            // Whole seconds fit the header; the rest goes in a PAX record, as GNU tar
            // --format=posix and Go's archive/tar write it.
            let t = format!("{}.{:09}", st.mtime.sec, st.mtime.nsec);
            self.tar
                .append_pax_extensions([("mtime", t.as_bytes())])
                .with_context(|| format!("cannot write {name}"))?;
        }
        let ctx = || format!("cannot write /{name} into the layer");
        match st.kind {
            FileType::Directory => {
                h.set_entry_type(tar::EntryType::Directory);
                self.tar
                    .append_data(&mut h, format!("{name}/"), std::io::empty())
                    .with_context(ctx)?;
            }
            FileType::Symlink => {
                h.set_entry_type(tar::EntryType::Symlink);
                let target = self.upper.readlink(st.ino).with_context(ctx)?;
                self.tar
                    .append_link(&mut h, &name, path_str(&target))
                    .with_context(ctx)?;
            }
            FileType::Regular => {
                if st.nlink > 1 {
                    if let Some(first) = self.links.get(&st.ino) {
                        h.set_entry_type(tar::EntryType::Link);
                        let first = path_str(first);
                        self.tar
                            .append_link(&mut h, &name, first)
                            .with_context(ctx)?;
                        self.stats.entries += 1;
                        return Ok(());
                    }
                    self.links.insert(st.ino, path.to_vec());
                }
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(st.size);
                let reader = VfsReader {
                    vfs: self.upper,
                    ino: st.ino,
                    pos: 0,
                    size: st.size,
                };
                self.tar
                    .append_data(&mut h, &name, reader)
                    .with_context(ctx)?;
            }
            FileType::Fifo => {
                h.set_entry_type(tar::EntryType::Fifo);
                self.tar
                    .append_data(&mut h, &name, std::io::empty())
                    .with_context(ctx)?;
            }
            FileType::CharDevice | FileType::BlockDevice | FileType::Socket => {
                self.stats.skipped.push(format!("/{name}"));
                return Ok(());
            }
        }
        self.stats.entries += 1;
        Ok(())
    }
}

/// Reads a file of the image from start to its size.
struct VfsReader<'a> {
    vfs: &'a Vfs,
    ino: Ino,
    pos: u64,
    size: u64,
}

impl Read for VfsReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.size - self.pos;
        if left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(left.min(1 << 20) as usize);
        let n = self
            .vfs
            .read(self.ino, self.pos, &mut buf[..want])
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file ended before its size",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}
