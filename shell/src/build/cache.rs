//! The build cache: step key → image id, kept in `build-cache.json` in the store.
//!
//! A step's key is the sha256 of its parent image id, its instruction text, the
//! build args and environment it sees, and the hash of the content it reads (COPY
//! and ADD sources). The image ids are content addresses themselves, so a key can
//! only lead to the image the same step made before.
//!
//! The store keeps every image this index names ([`images::Store::prune`] reads
//! it), so `wsh rmi` of a tag never takes a cached parent away from a later build, as
//! Docker's build cache outlives `docker rmi`; a running build also holds a
//! [`images::BuildLease`], which keeps the images it made before they reach the
//! index. A hit is still checked (config and layer files present): an index entry whose
//! image is gone anyway (a damaged or hand-edited store) is a miss, never an error.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use sha2::{Digest, Sha256};

use images::{BUILD_CACHE_FILE, StoreLock, write_atomic};

/// The cache index.
pub struct Cache {
    path: PathBuf,
    map: BTreeMap<String, String>,
    dirty: bool,
}

impl Cache {
    /// Loads the index from the store directory `data` (empty if missing or unreadable:
    /// a cache may always be dropped).
    pub fn load(data: &std::path::Path) -> Cache {
        let path = data.join(BUILD_CACHE_FILE);
        let map = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Cache {
            path,
            map,
            dirty: false,
        }
    }

    /// The image a step with `key` made before.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// Records that the step with `key` made image `id`.
    pub fn put(&mut self, key: String, id: String) {
        self.map.insert(key, id);
        self.dirty = true;
    }

    /// Writes the index if it changed; it is re-read first, under the store lock, so
    /// that entries another build added meanwhile are kept.
    pub fn save(&mut self, _lock: &StoreLock) -> anyhow::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let mut merged = Cache::load(self.path.parent().unwrap_or(&self.path)).map;
        merged.extend(std::mem::take(&mut self.map));
        let data = serde_json::to_vec_pretty(&merged)?;
        write_atomic(&self.path, |tmp| {
            std::fs::write(tmp, &data).context("cannot write the build cache")
        })?;
        self.map = merged;
        self.dirty = false;
        Ok(())
    }
}

/// The cache key of a step.
pub fn key(parent: &str, instruction: &str, seen: &[(String, String)], content: &str) -> String {
    let mut h = Sha256::new();
    for part in [parent, instruction, content] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    for (k, v) in seen {
        h.update(format!("{}:{k}={}:{v}\n", k.len(), v.len()));
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_changes_with_every_input() {
        let base = key("p", "RUN x", &[("A".into(), "1".into())], "");
        assert_ne!(base, key("q", "RUN x", &[("A".into(), "1".into())], ""));
        assert_ne!(base, key("p", "RUN y", &[("A".into(), "1".into())], ""));
        assert_ne!(base, key("p", "RUN x", &[("A".into(), "2".into())], ""));
        assert_ne!(base, key("p", "RUN x", &[("A".into(), "1".into())], "h"));
        assert_eq!(base, key("p", "RUN x", &[("A".into(), "1".into())], ""));
    }
}
