//! The build context: the host directory COPY and ADD read from, filtered by
//! `.balenaignore` (else `.dockerignore`), and the content hashes that key the cache.
//!
//! `.balenaignore` follows `.dockerignore`: one pattern a line, `#` comments,
//! patterns relative to the context root (a leading `/` is ignored), `*` and `?`
//! never match `/`, `**` matches any number of directories, `!` re-includes, the
//! last matching line wins, and a pattern that matches a directory excludes
//! everything below it — except what a later `!` exception re-includes: as Docker
//! does, a walk enters an excluded directory when an exception may match below it
//! (`docs` then `!docs/keep.md` keeps `docs/keep.md`, and `docs` with it, but nothing
//! else of `docs`). Patterns are compiled with the `glob` crate.

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
        // `.balenaignore`, else Docker's `.dockerignore` (same syntax).
        let ignore = [".balenaignore", ".dockerignore"]
            .iter()
            .map(|n| root.join(n))
            .find(|p| p.exists())
            .unwrap_or_else(|| root.join(".balenaignore"));
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

    /// Whether `.balenaignore` has any rule (without one, every file is visible).
    pub fn has_rules(&self) -> bool {
        !self.rules.is_empty()
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

    /// Whether a `!` exception may match a path below the directory `dir` (so an
    /// excluded `dir` must still be walked). Compares the exception's leading
    /// components with `dir`'s; `**` may match anything.
    fn may_reinclude_below(&self, dir: &str) -> bool {
        let dir: Vec<&str> = dir.split('/').collect();
        self.rules.iter().filter(|(_, neg)| *neg).any(|(pat, _)| {
            let parts: Vec<&str> = pat.as_str().split('/').collect();
            for (i, d) in dir.iter().enumerate() {
                match parts.get(i) {
                    None => return false,
                    Some(&"**") => return true,
                    Some(p) => {
                        if !Pattern::new(p).is_ok_and(|p| p.matches_with(d, MATCH)) {
                            return false;
                        }
                    }
                }
            }
            parts.len() > dir.len()
        })
    }

    /// Whether `rel` is in the context as COPY sees it: not excluded, or an excluded
    /// directory with something re-included below it.
    pub fn visible(&self, rel: &str) -> bool {
        if rel.is_empty() || !self.excluded(rel) {
            return true;
        }
        if !std::fs::symlink_metadata(self.host(rel)).is_ok_and(|m| m.is_dir())
            || !self.may_reinclude_below(rel)
        {
            return false;
        }
        let mut any = false;
        let _ = self.walk(rel, &mut |_, _| any = true);
        any
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
        if std::fs::symlink_metadata(&host).is_err() || !self.visible(&rel) {
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
            let meta = std::fs::symlink_metadata(e.path())?;
            if self.excluded(&child) {
                // Docker walks in when an exception may match below; the directory is
                // kept only if something in it is.
                if meta.is_dir() && self.may_reinclude_below(&child) {
                    let mut inner = Vec::new();
                    self.walk(&child, &mut |p, m| inner.push((p.to_string(), m.clone())))?;
                    if !inner.is_empty() {
                        f(&child, &meta);
                        for (p, m) in &inner {
                            f(p, m);
                        }
                    }
                }
                continue;
            }
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
            if self.visible(&child) {
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
    fn exception_re_includes_a_file_inside_an_excluded_directory() {
        let (d, c) = ctx("docs\n!docs/keep.md\nlogs\n!**/important.log\n");
        for f in [
            "docs/keep.md",
            "docs/drop.md",
            "docs/sub/x.md",
            "logs/a.log",
            "logs/deep/important.log",
            "src/a.rs",
        ] {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, f).unwrap();
        }
        let mut seen = Vec::new();
        c.walk("", &mut |p, _| seen.push(p.to_string())).unwrap();
        assert_eq!(
            seen,
            [
                ".balenaignore",
                "docs",
                "docs/keep.md",
                "logs",
                "logs/deep",
                "logs/deep/important.log",
                "src",
                "src/a.rs"
            ]
        );
        assert!(c.visible("docs") && !c.excluded("docs/keep.md"));
        assert!(c.resolve("docs").is_ok() && c.resolve("docs/drop.md").is_err());
        let mut top = Vec::new();
        c.walk_one("docs", &mut top).unwrap();
        assert_eq!(top, ["docs/keep.md"]);
        // Nothing re-included below: the directory stays out.
        let (d2, c2) = ctx("docs\n!docs/keep.md\n");
        std::fs::create_dir_all(d2.path().join("docs")).unwrap();
        std::fs::write(d2.path().join("docs/other"), "").unwrap();
        assert!(!c2.visible("docs"));
    }

    #[test]
    fn clean_refuses_climbing_out() {
        assert_eq!(clean("a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(clean("../x"), None);
        assert_eq!(clean("a/../../x"), None);
    }
}
