//! Path walking inside the image: "..", ".", symlinks (absolute ones from the
//! image root, never the host) and the 40-symlink loop limit.

use crate::error::{Errno, Result};
use crate::inner::Inner;
use crate::types::{FileType, Ino};

/// Root directory inode of every ext4 file system.
pub const ROOT: Ino = 2;
/// Symlinks followed in one walk before giving up with Loop (as Linux).
pub const MAX_SYMLINKS: u32 = 40;
/// Longest path accepted (PATH_MAX).
pub const PATH_MAX: usize = 4096;

impl Inner {
    /// Walks `path` from `base` (or the root if absolute); see Vfs::resolve.
    pub fn resolve(&self, base: Ino, path: &[u8], follow: bool) -> Result<Ino> {
        let mut links = 0;
        self.walk(base, path, follow, &mut links)
    }

    fn walk(&self, base: Ino, path: &[u8], follow: bool, links: &mut u32) -> Result<Ino> {
        if path.is_empty() {
            return Err(Errno::NoEnt.into());
        }
        if path.len() > PATH_MAX {
            return Err(Errno::NameTooLong.into());
        }
        let trailing_slash = path.ends_with(b"/");
        let mut cur = if path[0] == b'/' { ROOT } else { base };
        let comps: Vec<&[u8]> = path
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        for (i, comp) in comps.iter().enumerate() {
            let last = i + 1 == comps.len();
            self.need_dir(cur)?;
            let next = match *comp {
                b"." => cur,
                // ".." at the root stays there: the image is the whole world.
                b".." if cur == ROOT => ROOT,
                name => self.lookup(cur, name)?,
            };
            // A trailing slash forces following, as POSIX says.
            if (!last || follow || trailing_slash) && self.kind(next)? == FileType::Symlink {
                *links += 1;
                if *links > MAX_SYMLINKS {
                    return Err(Errno::Loop.into());
                }
                let target = self.readlink(next)?;
                cur = self.walk(cur, &target, true, links)?;
            } else {
                cur = next;
            }
        }
        if trailing_slash && self.kind(cur)? != FileType::Directory {
            return Err(Errno::NotDir.into());
        }
        Ok(cur)
    }

    /// Resolves all but the last component; see Vfs::resolve_parent.
    pub fn resolve_parent(&self, base: Ino, path: &[u8]) -> Result<(Ino, Vec<u8>)> {
        if path.is_empty() {
            return Err(Errno::NoEnt.into());
        }
        if path.len() > PATH_MAX {
            return Err(Errno::NameTooLong.into());
        }
        let mut end = path.len();
        while end > 0 && path[end - 1] == b'/' {
            end -= 1;
        }
        if end == 0 {
            return Ok((ROOT, b".".to_vec()));
        }
        let trimmed = &path[..end];
        let (dir, name) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(pos) => {
                let dir_part = &trimmed[..pos];
                let dir = if dir_part.iter().all(|&b| b == b'/') {
                    ROOT
                } else {
                    self.resolve(base, dir_part, true)?
                };
                (dir, &trimmed[pos + 1..])
            }
            None => (base, trimmed),
        };
        self.need_dir(dir)?;
        if name.len() > crate::inner::NAME_MAX {
            return Err(Errno::NameTooLong.into());
        }
        Ok((dir, name.to_vec()))
    }

    /// True if `anc` is `dir` or one of its ancestors (walking "..").
    pub fn is_ancestor(&self, anc: Ino, mut dir: Ino) -> Result<bool> {
        for _ in 0..65536 {
            if dir == anc {
                return Ok(true);
            }
            if dir == ROOT {
                return Ok(false);
            }
            dir = self.lookup(dir, b"..")?;
        }
        Err(Errno::Loop.into())
    }
}
