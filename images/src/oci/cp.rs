//! `wsh cp`: files between the host and a container's file system, moved as tar
//! streams (as Docker's `cp` moves them), with Docker's rules for where a copy lands.
//!
//! A copy is a tar whose top entry is named after the source (`SRC` copies as
//! `basename(SRC)`, a directory with everything below it), or, for `SRC/.`, the
//! directory's contents (entries under `.`). [`target`] decides where it goes from
//! what the destination is; both ends (the host and the image) use it.

use std::io::{Read, Write};

use anyhow::Context;
use fsimage::{Errno, Error, FileType, Ino, Vfs};

use super::apply::{ApplyStats, Placement, apply_entries_at, components};
use super::diff::write_tree;

/// What a destination path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Nothing is there.
    Missing,
    /// A directory (or a symlink to one).
    Dir,
    /// Anything else.
    Other,
}

/// Where a copy is extracted: in directory `base`, its top entry renamed to `rename`
/// if given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The directory the tar is extracted in.
    pub base: String,
    /// The name the top entry takes instead of the source's.
    pub rename: Option<String>,
}

/// The parent directory and last component of `path` (`/a/b/` -> `/a`, `b`).
fn split(path: &str) -> (String, String) {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some(("", name)) => ("/".into(), name.into()),
        Some((dir, name)) => (dir.into(), name.into()),
        None => (".".into(), trimmed.into()),
    }
}

/// Whether `src` names a directory's contents (`DIR/.`), Docker's way to copy into
/// an existing directory without a new level.
pub fn is_contents(src: &str) -> bool {
    src.ends_with("/.") || src == "."
}

/// Docker's rules for `cp SRC DEST`, given what DEST (and its parent) are (`kind`):
/// into an existing directory as `DEST/basename(SRC)` (or its contents, for `SRC/.`);
/// onto a missing or file DEST as DEST itself (whose parent must exist).
pub fn target(
    dest: &str,
    src_is_dir: bool,
    contents: bool,
    kind: impl Fn(&str) -> Kind,
) -> anyhow::Result<Target> {
    let dest_kind = kind(dest);
    let (parent, name) = split(dest);
    let parent_ok = || -> anyhow::Result<()> {
        match kind(&parent) {
            Kind::Dir => Ok(()),
            _ => anyhow::bail!("{parent}: no such directory"),
        }
    };
    match dest_kind {
        Kind::Other if src_is_dir => {
            anyhow::bail!("cannot copy a directory onto {dest}, which is not a directory")
        }
        Kind::Dir => Ok(Target {
            base: dest.into(),
            rename: None,
        }),
        Kind::Missing if dest.ends_with('/') && !src_is_dir => {
            anyhow::bail!("{dest}: no such directory")
        }
        Kind::Missing if contents => {
            parent_ok()?;
            Ok(Target {
                base: dest.trim_end_matches('/').into(),
                rename: None,
            })
        }
        Kind::Missing | Kind::Other => {
            parent_ok()?;
            Ok(Target {
                base: parent,
                rename: Some(name),
            })
        }
    }
}

/// What is at `path` in the image (symlinks followed).
pub fn kind_in(vfs: &Vfs, path: &str) -> Kind {
    match vfs.resolve(vfs.root(), path.as_bytes(), true) {
        Ok(ino) => match vfs.stat(ino) {
            Ok(st) if st.kind == FileType::Directory => Kind::Dir,
            Ok(_) => Kind::Other,
            Err(_) => Kind::Missing,
        },
        Err(_) => Kind::Missing,
    }
}

/// A copy's source in the image.
pub struct Source {
    ino: Ino,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Its top entry's name (empty for `DIR/.`).
    top: Vec<u8>,
}

/// Finds `path` in the image (a final symlink is copied as the link, as Docker does,
/// unless the path is `DIR/.`).
pub fn source_in(vfs: &Vfs, path: &str) -> anyhow::Result<Source> {
    let contents = is_contents(path) || path.trim_end_matches('/').is_empty();
    let ino = vfs
        .resolve(vfs.root(), path.as_bytes(), contents || path.ends_with('/'))
        .map_err(|e| match e {
            Error::Errno(Errno::NoEnt) => anyhow::anyhow!("no such file or directory: {path}"),
            e => anyhow::anyhow!("{path}: {e}"),
        })?;
    let is_dir = vfs.stat(ino)?.kind == FileType::Directory;
    let top = if contents {
        Vec::new()
    } else {
        split(path).1.into_bytes()
    };
    Ok(Source { ino, is_dir, top })
}

/// Writes source `src` of the image as a copy's tar.
pub fn write_source(vfs: &Vfs, src: &Source, out: impl Write) -> anyhow::Result<()> {
    let mut tar = tar::Builder::new(out);
    let stats = write_tree(vfs, src.ino, &src.top, &mut tar)?;
    for s in stats.skipped {
        eprintln!("wsh: cp: {s}: a device or socket, not copied");
    }
    tar.into_inner().context("cannot write the copy")?;
    Ok(())
}

/// Extracts a copy's tar into the image at `target`; `owner` replaces the owners the
/// tar gives (Docker's `cp` makes files root's unless `-a`).
pub fn extract_in(
    vfs: &Vfs,
    target: &Target,
    owner: Option<(u32, u32)>,
    tar: impl Read,
) -> anyhow::Result<()> {
    let base = components(target.base.as_bytes())?;
    let place = Placement {
        base,
        rename_top: target.rename.as_ref().map(|n| n.as_bytes().to_vec()),
        owner,
        literal: true,
    };
    let mut stats = ApplyStats::default();
    apply_entries_at(vfs, tar, &mut stats, &place)?;
    for s in stats.skipped {
        eprintln!("wsh: cp: {s}: a device or fifo, not copied");
    }
    vfs.sync().context("cannot write the container's files")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(
        dirs: &'static [&'static str],
        files: &'static [&'static str],
    ) -> impl Fn(&str) -> Kind {
        move |p: &str| {
            let p = p.trim_end_matches('/');
            let p = if p.is_empty() { "/" } else { p };
            if dirs.contains(&p) {
                Kind::Dir
            } else if files.contains(&p) {
                Kind::Other
            } else {
                Kind::Missing
            }
        }
    }

    fn t(base: &str, rename: Option<&str>) -> Target {
        Target {
            base: base.into(),
            rename: rename.map(Into::into),
        }
    }

    #[test]
    fn docker_cp_destination_rules() {
        let k = || kinds(&["/", "/d"], &["/f"]);
        // A file into a directory, onto a file, to a new name.
        assert_eq!(target("/d", false, false, k()).unwrap(), t("/d", None));
        assert_eq!(target("/f", false, false, k()).unwrap(), t("/", Some("f")));
        assert_eq!(target("/n", false, false, k()).unwrap(), t("/", Some("n")));
        assert!(target("/n/", false, false, k()).is_err());
        assert!(target("/x/n", false, false, k()).is_err());
        // A directory: into an existing one, as a new one, never onto a file.
        assert_eq!(target("/d", true, false, k()).unwrap(), t("/d", None));
        assert_eq!(target("/n", true, false, k()).unwrap(), t("/", Some("n")));
        assert!(target("/f", true, false, k()).is_err());
        // DIR/.: its contents, in an existing or a new directory.
        assert_eq!(target("/d", true, true, k()).unwrap(), t("/d", None));
        assert_eq!(target("/n", true, true, k()).unwrap(), t("/n", None));
    }
}
