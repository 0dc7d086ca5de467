//! Where wsh keeps its data (the image store) and its compiled-module cache, and how
//! files there are written (atomically, synced).
//!
//! `WSH_HOME` puts both under one directory (tests use this); otherwise data goes
//! to `$XDG_DATA_HOME/wsh` and compiled modules to `$XDG_CACHE_HOME/wsh`.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The directories wsh reads and writes.
pub struct Dirs {
    /// The image store (see [`Store`]).
    pub data: PathBuf,
    /// Serialized compiled modules (safe to delete at any time).
    pub cache: PathBuf,
}

impl Dirs {
    /// The directories for this user, created if missing.
    pub fn locate() -> anyhow::Result<Dirs> {
        let (data, cache) = match std::env::var_os("WSH_HOME").filter(|v| !v.is_empty()) {
            Some(home) => {
                let home = PathBuf::from(home);
                (home.join("data"), home.join("cache"))
            }
            None => {
                let data = dirs::data_dir().context("no data directory (set WSH_HOME or HOME)")?;
                let cache =
                    dirs::cache_dir().context("no cache directory (set WSH_HOME or HOME)")?;
                (data.join("wsh"), cache.join("wsh"))
            }
        };
        for d in [&data, &cache] {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
        }
        Ok(Dirs { data, cache })
    }

    /// The directory holding images.
    pub fn images(&self) -> PathBuf {
        self.data.join("images")
    }
}

/// Writes `path` atomically: the content appears whole or not at all.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    // A bare file name's parent is "" (the current directory).
    let dir = match path.parent().context("path without a parent")? {
        d if d.as_os_str().is_empty() => Path::new("."),
        d => d,
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    fill(tmp.path())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    sync_dir(dir)
}

/// Makes a rename or unlink in `dir` durable.
pub fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))
}
