//! `wsh import`: a host directory tree or an existing ext4 image becomes an image
//! with one layer. The source is only ever read.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

use anyhow::Context;
use fsimage::{BlockDevice, FileDevice, Ino, SetTime, Timestamp, Vfs};

use crate::base::IMAGE_SIZE;
use crate::config::normalize_ref;
use crate::store::{Store, flush_device};

/// Imports `src` (a directory or a raw ext4 image) as image `name` (NAME[:TAG]);
/// returns the image id.
pub fn import(store: &Store, src: &Path, name: &str) -> anyhow::Result<String> {
    normalize_ref(name)?;
    let meta =
        std::fs::metadata(src).with_context(|| format!("cannot import {}", src.display()))?;
    let (size, what) = if meta.is_dir() {
        (dir_image_size(src)?, "dir")
    } else if meta.is_file() {
        check_ext4(src)?;
        (meta.len().div_ceil(512) * 512, "file")
    } else {
        anyhow::bail!("{}: not a directory or an image file", src.display());
    };
    let (record, mut dev) = {
        let lock = store.lock()?;
        store.create_container(&lock, None, size)?
    };
    let filled = if what == "dir" {
        fill_from_dir(Box::new(dev), src)
    } else {
        let r = fsimage::copy_raw(src, &mut dev).map_err(anyhow::Error::from);
        // Closed before sealing: nothing may reach the file after it is hashed.
        drop(dev);
        r
    };
    let made = filled.and_then(|()| {
        let lock = store.lock()?;
        let created_by = format!("wsh import {}", src.display());
        let id = store.commit(&lock, &record, size, &created_by, |_| {})?;
        store.tag(&lock, name, &id)?;
        Ok(id)
    });
    if made.is_err() {
        let _ = store.remove_container(&record.id);
    }
    made
}

/// Refuses anything libext2fs cannot open as ext4, naming the file.
fn check_ext4(src: &Path) -> anyhow::Result<()> {
    if fsimage::is_qcow2(src)? {
        anyhow::bail!(
            "{}: is a qcow2 file; import takes a raw ext4 image or a directory",
            src.display()
        );
    }
    let dev = FileDevice::open(src, false)?;
    let vfs = Vfs::open(Box::new(dev), src, false)?;
    drop(vfs);
    // What e2fsck -n would find, read-only: a damaged image is refused here rather than
    // sealed into a layer that fails later, or worse, in the middle of a build.
    let problems = fsimage::check(Box::new(FileDevice::open(src, false)?))
        .with_context(|| format!("cannot check {}", src.display()))?;
    if !problems.is_empty() {
        const SHOWN: usize = 10;
        let mut msg = format!(
            "{}: the ext4 file system is damaged ({} problem{}); repair it with e2fsck -f first:",
            src.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        for p in problems.iter().take(SHOWN) {
            msg.push_str(&format!("\n  {p}"));
        }
        if problems.len() > SHOWN {
            msg.push_str(&format!("\n  ... and {} more", problems.len() - SHOWN));
        }
        anyhow::bail!(msg);
    }
    Ok(())
}

/// Room for the tree's data and metadata, at least the base image's size.
fn dir_image_size(src: &Path) -> anyhow::Result<u64> {
    fn walk(p: &Path, total: &mut u64) -> anyhow::Result<()> {
        for e in std::fs::read_dir(p).with_context(|| format!("cannot read {}", p.display()))? {
            let e = e.with_context(|| format!("cannot read {}", p.display()))?;
            let m = e
                .metadata()
                .with_context(|| format!("cannot stat {}", e.path().display()))?;
            *total += m.len().div_ceil(4096) * 4096 + 4096;
            if m.is_dir() {
                walk(&e.path(), total)?;
            }
        }
        Ok(())
    }
    let mut total = 0;
    walk(src, &mut total)?;
    let want = (total + total / 4 + (256 << 20)).div_ceil(1 << 20) << 20;
    Ok(want.max(IMAGE_SIZE))
}

fn fill_from_dir(dev: Box<dyn BlockDevice>, src: &Path) -> anyhow::Result<()> {
    let vfs = Vfs::mkfs(dev, "wsh-import")?;
    let mut links = HashMap::new();
    let root = vfs.root();
    // mkfs's lost+found stays: e2fsck wants it (and so would a kernel fsck).
    copy_dir(&vfs, src, root, &mut links)?;
    let meta = std::fs::symlink_metadata(src)?;
    set_attrs(&vfs, root, &meta, false)
        .with_context(|| format!("{}: cannot copy attributes", src.display()))?;
    let mut dev = vfs.into_device()?;
    flush_device(dev.as_mut())
}

fn copy_dir(
    vfs: &Vfs,
    dir: &Path,
    ino: Ino,
    links: &mut HashMap<(u64, u64), Ino>,
) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name();
        let name = name.as_bytes();
        let meta = std::fs::symlink_metadata(&path)
            .with_context(|| format!("cannot stat {}", path.display()))?;
        let ft = meta.file_type();
        let ctx = || format!("cannot import {}", path.display());
        if ft.is_dir() {
            let child = vfs
                .mkdir(ino, name, meta.mode() & 0o7777)
                .with_context(ctx)?;
            copy_dir(vfs, &path, child, links)?;
            set_attrs(vfs, child, &meta, false).with_context(ctx)?;
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&path).with_context(ctx)?;
            let child = vfs
                .symlink(ino, name, target.as_os_str().as_bytes())
                .with_context(ctx)?;
            set_attrs(vfs, child, &meta, true).with_context(ctx)?;
        } else if ft.is_file() {
            let key = (meta.dev(), meta.ino());
            if meta.nlink() > 1
                && let Some(&first) = links.get(&key)
            {
                vfs.link(first, ino, name).with_context(ctx)?;
                continue;
            }
            let child = vfs
                .create(ino, name, meta.mode() & 0o7777)
                .with_context(ctx)?;
            copy_file(vfs, &path, child, meta.len()).with_context(ctx)?;
            set_attrs(vfs, child, &meta, false).with_context(ctx)?;
            if meta.nlink() > 1 {
                links.insert(key, child);
            }
        } else {
            eprintln!(
                "wsh: import: skipping {} (not a file, directory or symlink)",
                path.display()
            );
        }
    }
    Ok(())
}

/// Copies a file's bytes; all-zero 4 KiB blocks are left as holes.
fn copy_file(vfs: &Vfs, path: &Path, ino: Ino, len: u64) -> anyhow::Result<()> {
    let f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = 0u64;
    while pos < len {
        let n = (len - pos).min(buf.len() as u64) as usize;
        f.read_exact_at(&mut buf[..n], pos)?;
        for (i, chunk) in buf[..n].chunks(4096).enumerate() {
            if chunk.iter().all(|&b| b == 0) {
                continue;
            }
            let mut at = 0;
            let off = pos + (i * 4096) as u64;
            while at < chunk.len() {
                at += vfs.write(ino, off + at as u64, &chunk[at..])?;
            }
        }
        pos += n as u64;
    }
    if vfs.stat(ino)?.size != len {
        vfs.truncate(ino, len)?;
    }
    Ok(())
}

fn set_attrs(vfs: &Vfs, ino: Ino, meta: &std::fs::Metadata, symlink: bool) -> anyhow::Result<()> {
    vfs.set_owner(ino, Some(meta.uid()), Some(meta.gid()))?;
    if !symlink {
        vfs.set_mode(ino, meta.mode() & 0o7777)?;
    }
    let ts = |sec: i64, nsec: i64| {
        SetTime::At(Timestamp {
            sec,
            nsec: nsec as u32,
        })
    };
    vfs.set_times(
        ino,
        Some(ts(meta.atime(), meta.atime_nsec())),
        Some(ts(meta.mtime(), meta.mtime_nsec())),
    )?;
    Ok(())
}
