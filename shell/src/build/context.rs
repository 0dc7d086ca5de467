//! The build context: the host directory COPY and ADD read from, filtered by
//! `.balenaignore`, and the content hashes that key the cache.
//!
//! `.balenaignore` follows `.dockerignore`: one pattern a line, `#` comments,
//! patterns relative to the context root (a leading `/` is ignored), `*` and `?`
//! never match `/`, `**` matches any number of directories, `!` re-includes, the
//! last matching line wins, and a pattern that matches a directory excludes
//! everything below it. Patterns are compiled with the `glob` crate. Difference
//! from Docker: a `!` exception cannot re-include a file below an excluded
//! directory unless the exception matches the file itself.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use glob::{MatchOptions, Pattern};
use sha2::{Digest, Sha256};

const MATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// A build context directory.
pub struct Context {
    root: PathBuf,
    rules: Vec<(Pattern, bool)>,
}

/// Cleans a relative path lexically (`a/./b/../c` → `a/c`); None if it climbs above
/// its start.
pub fn clean(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

impl Context {
    /// Opens the context `dir` and reads its `.balenaignore`.
    pub fn open(dir: &Path) -> anyhow::Result<Context> {
        let root = dir
            .canonicalize()
            .with_context(|| format!("build context {}", dir.display()))?;
        anyhow::ensure!(
            root.is_dir(),
            "build context {} is not a directory",
            dir.display()
        );
        let mut rules = Vec::new();
        let ignore = root.join(".balenaignore");
        if let Ok(text) = std::fs::read_to_string(&ignore) {
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (neg, pat) = match line.strip_prefix('!') {
                    Some(p) => (true, p.trim()),
                    None => (false, line),
                };
                let pat = clean(pat.trim_start_matches('/')).unwrap_or_default();
                let pattern = Pattern::new(&pat).map_err(|e| {
                    anyhow::anyhow!("{}:{}: bad pattern {line:?}: {e}", ignore.display(), n + 1)
                })?;
                rules.push((pattern, neg));
            }
        }
        Ok(Context { root, rules })
    }

    /// The context's host directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether `rel` (a cleaned relative path) is excluded by `.balenaignore`.
    pub fn excluded(&self, rel: &str) -> bool {
        let mut out = false;
        for (pat, neg) in &self.rules {
            // The path itself or one of its parent directories.
            let mut hit = pat.matches_with(rel, MATCH);
            let mut p = rel;
            while !hit && let Some((parent, _)) = p.rsplit_once('/') {
                hit = pat.matches_with(parent, MATCH);
                p = parent;
            }
            if hit {
                out = !neg;
            }
        }
        out
    }

    /// The context paths (relative, cleaned) a COPY source names: one path, or every
    /// match of a glob. Errors for a path outside the context or nothing found.
    pub fn resolve(&self, src: &str) -> Result<Vec<String>, String> {
        let Some(rel) = clean(src.trim_start_matches('/')) else {
            return Err(format!("{src}: forbidden path outside the build context"));
        };
        if is_glob(&rel) {
            let pat = Pattern::new(&rel).map_err(|e| format!("{src}: bad pattern: {e}"))?;
            let mut found = Vec::new();
            self.walk("", &mut |p, _| {
                if pat.matches_with(p, MATCH) {
                    found.push(p.to_string());
                }
            })
            .map_err(|e| format!("{src}: {e}"))?;
            if found.is_empty() {
                return Err(format!(
                    "{src}: no source files were specified (nothing matches)"
                ));
            }
            return Ok(found);
        }
        let host = self.host(&rel);
        if std::fs::symlink_metadata(&host).is_err() || (!rel.is_empty() && self.excluded(&rel)) {
            return Err(format!("{src}: not found in the build context"));
        }
        // A symlink in the path must not lead out of the context.
        match host.canonicalize() {
            Ok(c) if c.starts_with(&self.root) => Ok(vec![rel]),
            Ok(_) => Err(format!("{src}: forbidden path outside the build context")),
            Err(_)
                if std::fs::symlink_metadata(&host).is_ok_and(|m| m.file_type().is_symlink()) =>
            {
                Ok(vec![rel])
            }
            Err(e) => Err(format!("{src}: {e}")),
        }
    }

    /// The host path of a cleaned relative path.
    pub fn host(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    /// Calls `f(rel, meta)` for every non-excluded entry below `rel` (sorted, depth first).
    pub fn walk(
        &self,
        rel: &str,
        f: &mut dyn FnMut(&str, &std::fs::Metadata),
    ) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(self.host(rel))?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if self.excluded(&child) {
                continue;
            }
            let meta = std::fs::symlink_metadata(e.path())?;
            f(&child, &meta);
            if meta.is_dir() {
                self.walk(&child, f)?;
            }
        }
        Ok(())
    }

    /// The non-excluded entries directly below `rel`, as relative paths, sorted.
    pub fn walk_one(&self, rel: &str, out: &mut Vec<String>) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(self.host(rel))?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if !self.excluded(&child) {
                out.push(child);
            }
        }
        Ok(())
    }

    /// Adds the content of `rel` (a file, symlink or whole tree) to `h`: names, types,
    /// permission bits and bytes — not times, so a `touch` alone keeps the cache.
    pub fn hash_into(&self, rel: &str, h: &mut Sha256) -> anyhow::Result<()> {
        let one = |rel: &str, meta: &std::fs::Metadata, h: &mut Sha256| -> anyhow::Result<()> {
            let host = self.host(rel);
            h.update(format!("{rel}\0{:o}\0", meta.permissions().mode()));
            if meta.is_file() {
                h.update(meta.len().to_le_bytes());
                let mut f = std::fs::File::open(&host)
                    .with_context(|| format!("cannot read {}", host.display()))?;
                let mut buf = vec![0; 1 << 16];
                loop {
                    let n = f
                        .read(&mut buf)
                        .with_context(|| format!("cannot read {}", host.display()))?;
                    if n == 0 {
                        break;
                    }
                    h.update(&buf[..n]);
                }
            } else if meta.file_type().is_symlink() {
                h.update(std::fs::read_link(&host)?.to_string_lossy().as_bytes());
            }
            h.update([0]);
            Ok(())
        };
        let meta = std::fs::symlink_metadata(self.host(rel))?;
        one(rel, &meta, h)?;
        if meta.is_dir() {
            let mut err = None;
            self.walk(rel, &mut |p, m| {
                if err.is_none()
                    && let Err(e) = one(p, m, h)
                {
                    err = Some(e);
                }
            })?;
            if let Some(e) = err {
                return Err(e);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(ignore: &str) -> (tempfile::TempDir, Context) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(".balenaignore"), ignore).unwrap();
        let c = Context::open(d.path()).unwrap();
        (d, c)
    }

    #[test]
    fn dockerignore_rules_last_match_wins_and_parents_exclude() {
        let (_d, c) = ctx("# comment\n*.log\n!keep.log\nbuild\n/docs/**/*.tmp\n");
        assert!(c.excluded("a.log"));
        assert!(!c.excluded("keep.log"));
        assert!(!c.excluded("sub/a.log"), "* does not cross /");
        assert!(c.excluded("build/out/x.o"));
        assert!(c.excluded("docs/a/b/c.tmp"));
        assert!(c.excluded("docs/c.tmp"));
        assert!(!c.excluded("src/main.rs"));
    }

    #[test]
    fn clean_refuses_climbing_out() {
        assert_eq!(clean("a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(clean("../x"), None);
        assert_eq!(clean("a/../../x"), None);
    }
}
