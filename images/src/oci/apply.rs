//! Replays one OCI layer tar on an image's tree: whiteouts first (they only ever
//! hide what the layers below made), then the entries, then directory attributes
//! (last, since adding entries moves a directory's mtime).

use std::io::Read;

use anyhow::Context;
use fsimage::{Errno, Error, FileType, Ino, SetTime, Timestamp, Vfs};

/// What applying layers found, for messages.
#[derive(Default)]
pub(super) struct ApplyStats {
    /// Regular files that are ELF programs or libraries (wsh cannot run them).
    pub elf: u64,
    /// The first of those, as an example.
    pub elf_example: Option<String>,
    /// Device nodes, fifos and sockets left out (the image store makes none).
    pub skipped: Vec<String>,
}

/// A tar path as components, or an error for one that climbs out (`..`).
pub(super) fn components(raw: &[u8]) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut v = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => anyhow::bail!(
                "the layer has an entry outside the image: {}",
                String::from_utf8_lossy(raw)
            ),
            c => v.push(c.to_vec()),
        }
    }
    Ok(v)
}

fn show(comps: &[Vec<u8>]) -> String {
    let mut s = String::new();
    for c in comps {
        s.push('/');
        s.push_str(&String::from_utf8_lossy(c));
    }
    if s.is_empty() { "/".into() } else { s }
}

/// Removes `name` from `dir`, a directory with all it holds.
fn remove_all(vfs: &Vfs, dir: Ino, name: &[u8]) -> anyhow::Result<()> {
    let ino = match vfs.lookup(dir, name) {
        Ok(i) => i,
        Err(Error::Errno(Errno::NoEnt)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if vfs.stat(ino)?.kind == FileType::Directory {
        clear_dir(vfs, ino)?;
        vfs.rmdir(dir, name)?;
    } else {
        vfs.unlink(dir, name)?;
    }
    Ok(())
}

/// Removes everything in directory `dir`.
fn clear_dir(vfs: &Vfs, dir: Ino) -> anyhow::Result<()> {
    for e in vfs.readdir(dir)? {
        if e.name != b"." && e.name != b".." {
            remove_all(vfs, dir, &e.name)?;
        }
    }
    Ok(())
}

/// The directory at `comps`, made (mode 0755, root's) where missing; symlinks on the
/// way are followed inside the image, as container runtimes extract layers.
fn ensure_dir(vfs: &Vfs, comps: &[Vec<u8>]) -> anyhow::Result<Ino> {
    let mut cur = vfs.root();
    for (i, c) in comps.iter().enumerate() {
        cur = match vfs.lookup(cur, c) {
            Ok(ino) => match vfs.stat(ino)?.kind {
                FileType::Directory => ino,
                FileType::Symlink => {
                    let mut p = Vec::new();
                    for c in &comps[..=i] {
                        p.push(b'/');
                        p.extend_from_slice(c);
                    }
                    vfs.resolve(vfs.root(), &p, true)
                        .with_context(|| format!("{}: dangling symlink", show(&comps[..=i])))?
                }
                _ => anyhow::bail!("{}: not a directory", show(&comps[..=i])),
            },
            Err(Error::Errno(Errno::NoEnt)) => vfs.mkdir(cur, c, 0o755)?,
            Err(e) => return Err(e.into()),
        };
    }
    Ok(cur)
}

/// The whiteouts of a layer: what a first pass over its tar removes.
pub(super) fn apply_whiteouts<R: Read>(vfs: &Vfs, tar: R) -> anyhow::Result<()> {
    let mut ar = tar::Archive::new(tar);
    for entry in ar.entries()? {
        let entry = entry?;
        let raw = entry.path_bytes().into_owned();
        let mut comps = components(&raw)?;
        let Some(base) = comps.pop() else { continue };
        let Some(hidden) = base.strip_prefix(b".wh.") else {
            continue;
        };
        let dir = match vfs.resolve(vfs.root(), show(&comps).as_bytes(), true) {
            Ok(d) if vfs.stat(d)?.kind == FileType::Directory => d,
            // Nothing below to hide.
            _ => continue,
        };
        let ctx = || {
            format!(
                "cannot apply the whiteout {}",
                String::from_utf8_lossy(&raw)
            )
        };
        if hidden == b".wh..opq" {
            clear_dir(vfs, dir).with_context(ctx)?;
        } else if !hidden.starts_with(b".wh.") {
            // (other `.wh..wh.` names are aufs bookkeeping, not deletions)
            remove_all(vfs, dir, hidden).with_context(ctx)?;
        }
    }
    Ok(())
}

/// Where a tar's entries land: below `base`, the first component of each renamed to
/// `rename_top` if given, owned by `owner` if given (else as the tar says). The default
/// is a layer's: at the root, as they are, `.wh.` names being whiteouts.
#[derive(Default)]
pub(super) struct Placement {
    pub base: Vec<Vec<u8>>,
    pub rename_top: Option<Vec<u8>>,
    pub owner: Option<(u32, u32)>,
    /// Not a layer: `.wh.` names are plain files.
    pub literal: bool,
}

impl Placement {
    fn place(&self, mut comps: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        if let (Some(n), Some(first)) = (&self.rename_top, comps.first_mut()) {
            *first = n.clone();
        }
        let mut v = self.base.clone();
        v.extend(comps);
        v
    }
}

/// The entries of a layer (all but whiteouts): the second pass.
pub(super) fn apply_entries<R: Read>(
    vfs: &Vfs,
    tar: R,
    stats: &mut ApplyStats,
) -> anyhow::Result<()> {
    apply_entries_at(vfs, tar, stats, &Placement::default())
}

/// The entries of a tar, placed as `place` says.
pub(super) fn apply_entries_at<R: Read>(
    vfs: &Vfs,
    tar: R,
    stats: &mut ApplyStats,
    place: &Placement,
) -> anyhow::Result<()> {
    let mut ar = tar::Archive::new(tar);
    // Directory attributes, set once every entry is in (deepest first).
    let mut dirs: Vec<(Ino, usize, Attrs)> = Vec::new();
    for entry in ar.entries()? {
        let mut entry = entry?;
        let raw = entry.path_bytes().into_owned();
        let comps = place.place(components(&raw)?);
        if !place.literal && comps.last().is_some_and(|n| n.starts_with(b".wh.")) {
            continue;
        }
        let mut attrs = Attrs::of(&mut entry)?;
        if let Some((uid, gid)) = place.owner {
            (attrs.uid, attrs.gid) = (uid, gid);
        }
        let kind = entry.header().entry_type();
        let ctx = || format!("cannot extract {}", show(&comps));
        let Some((name, parent)) = comps.split_last() else {
            // The root itself.
            if kind.is_dir() {
                dirs.push((vfs.root(), 0, attrs));
            }
            continue;
        };
        let dir = ensure_dir(vfs, parent).with_context(ctx)?;
        match kind {
            tar::EntryType::Directory => {
                let ino = match vfs.lookup(dir, name) {
                    Ok(i) if vfs.stat(i)?.kind == FileType::Directory => i,
                    _ => {
                        remove_all(vfs, dir, name).with_context(ctx)?;
                        vfs.mkdir(dir, name, attrs.mode).with_context(ctx)?
                    }
                };
                dirs.push((ino, comps.len(), attrs));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                remove_all(vfs, dir, name).with_context(ctx)?;
                let ino = vfs.create(dir, name, attrs.mode).with_context(ctx)?;
                let size = entry.size();
                if copy_data(vfs, ino, &mut entry, size).with_context(ctx)? {
                    stats.elf += 1;
                    stats.elf_example.get_or_insert_with(|| show(&comps));
                }
                attrs.set(vfs, ino, false).with_context(ctx)?;
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .with_context(|| format!("{}: symlink without a target", show(&comps)))?
                    .into_owned();
                remove_all(vfs, dir, name).with_context(ctx)?;
                let ino = vfs.symlink(dir, name, &target).with_context(ctx)?;
                attrs.set(vfs, ino, true).with_context(ctx)?;
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .with_context(|| format!("{}: hard link without a target", show(&comps)))?
                    .into_owned();
                let tcomps = place.place(components(&target)?);
                if tcomps == comps {
                    continue;
                }
                let (tname, tparent) = tcomps
                    .split_last()
                    .with_context(|| format!("{}: hard link to the root", show(&comps)))?;
                let tdir = ensure_dir(vfs, tparent).with_context(ctx)?;
                let tino = vfs.lookup(tdir, tname).with_context(|| {
                    format!("{}: hard link to a missing {}", show(&comps), show(&tcomps))
                })?;
                if vfs.stat(tino)?.kind == FileType::Directory {
                    anyhow::bail!("{}: hard link to a directory", show(&comps));
                }
                remove_all(vfs, dir, name).with_context(ctx)?;
                vfs.link(tino, dir, name).with_context(ctx)?;
            }
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
            _ => stats.skipped.push(show(&comps)),
        }
    }
    dirs.sort_by_key(|d| std::cmp::Reverse(d.1));
    for (ino, _, attrs) in dirs {
        attrs.set(vfs, ino, false)?;
    }
    Ok(())
}

/// Copies `size` bytes of `data` into file `ino`, leaving all-zero 4 KiB blocks as
/// holes; says whether the file starts as an ELF program does.
fn copy_data(vfs: &Vfs, ino: Ino, data: &mut impl Read, size: u64) -> anyhow::Result<bool> {
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = 0u64;
    let mut elf = false;
    while pos < size {
        let want = (size - pos).min(buf.len() as u64) as usize;
        data.read_exact(&mut buf[..want])
            .context("the layer ends in the middle of a file")?;
        if pos == 0 {
            elf = buf[..want].starts_with(b"\x7fELF");
        }
        for (i, chunk) in buf[..want].chunks(4096).enumerate() {
            if chunk.iter().all(|&b| b == 0) {
                continue;
            }
            let off = pos + (i * 4096) as u64;
            let mut at = 0;
            while at < chunk.len() {
                at += vfs.write(ino, off + at as u64, &chunk[at..])?;
            }
        }
        pos += want as u64;
    }
    if vfs.stat(ino)?.size != size {
        vfs.truncate(ino, size)?;
    }
    Ok(elf)
}

/// Mode, owner and times of a tar entry.
struct Attrs {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: Timestamp,
    atime: Timestamp,
}

/// A PAX time (`1700000000.123456789`) as a timestamp.
fn pax_time(v: &[u8]) -> Option<Timestamp> {
    let s = std::str::from_utf8(v).ok()?;
    let (sec, frac) = s.split_once('.').unwrap_or((s, ""));
    let sec: i64 = sec.parse().ok()?;
    let digits: String = frac.chars().take(9).collect();
    let nsec = if digits.is_empty() {
        0
    } else {
        format!("{digits:0<9}").parse().ok()?
    };
    Some(Timestamp { sec, nsec })
}

impl Attrs {
    fn of<R: Read>(entry: &mut tar::Entry<R>) -> anyhow::Result<Attrs> {
        let h = entry.header();
        let id = |v: std::io::Result<u64>| -> anyhow::Result<u32> {
            u32::try_from(v?).context("an owner id beyond 32 bits")
        };
        let mut a = Attrs {
            mode: h.mode()? & 0o7777,
            uid: id(h.uid())?,
            gid: id(h.gid())?,
            mtime: Timestamp {
                sec: h.mtime()? as i64,
                nsec: 0,
            },
            atime: Timestamp::default(),
        };
        a.atime = a.mtime;
        if let Some(exts) = entry.pax_extensions()? {
            for ext in exts {
                let ext = ext?;
                let v = ext.value_bytes();
                match ext.key_bytes() {
                    b"mtime" => a.mtime = pax_time(v).unwrap_or(a.mtime),
                    b"atime" => a.atime = pax_time(v).unwrap_or(a.atime),
                    b"uid" => a.uid = std::str::from_utf8(v)?.parse()?,
                    b"gid" => a.gid = std::str::from_utf8(v)?.parse()?,
                    _ => {}
                }
            }
        }
        Ok(a)
    }

    fn set(&self, vfs: &Vfs, ino: Ino, symlink: bool) -> anyhow::Result<()> {
        vfs.set_owner(ino, Some(self.uid), Some(self.gid))?;
        if !symlink {
            vfs.set_mode(ino, self.mode)?;
        }
        vfs.set_times(
            ino,
            Some(SetTime::At(self.atime)),
            Some(SetTime::At(self.mtime)),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_times_keep_nanoseconds() {
        assert_eq!(
            pax_time(b"1700000000.5"),
            Some(Timestamp {
                sec: 1700000000,
                nsec: 500_000_000
            })
        );
        assert_eq!(pax_time(b"12"), Some(Timestamp { sec: 12, nsec: 0 }));
        assert_eq!(
            pax_time(b"1.1234567891"),
            Some(Timestamp {
                sec: 1,
                nsec: 123_456_789
            })
        );
        assert_eq!(pax_time(b"x"), None);
    }

    #[test]
    fn paths_stay_inside() {
        assert_eq!(
            components(b"./a//b/").unwrap(),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        assert!(components(b"a/../../etc").is_err());
        assert!(components(b"/").unwrap().is_empty());
    }
}
