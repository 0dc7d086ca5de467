//! Garbage collection: build leases, image removal and `prune`, which deletes what
//! nothing refers to (configs without a tag, dead containers, unused layers).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::config::{normalize_ref, now_secs};
use crate::locations::sync_dir;
use crate::overlays::ContainerRecord;
use crate::store::{
    BUILD_CACHE_FILE, Store, StoreLock, is_digest, pid_alive, random_id, write_json,
};

/// A running build's claim on the store: while it exists (and its process lives),
/// [`Store::prune`] removes no image config, so the untagged images a build has made
/// and not yet recorded in the build cache survive a concurrent `wsh rmi`. Dropping it
/// removes the claim.
pub struct BuildLease {
    path: PathBuf,
}

impl Drop for BuildLease {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[derive(Serialize, Deserialize)]
struct LeaseRecord {
    pid: u32,
    created: u64,
}

impl Store {
    /// Takes a [`BuildLease`] for this process.
    pub fn lease(&self, _lock: &StoreLock) -> anyhow::Result<BuildLease> {
        let path = self.leases_dir().join(format!("{}.json", random_id()));
        let rec = LeaseRecord {
            pid: std::process::id(),
            created: now_secs(),
        };
        write_json(&path, &serde_json::to_vec_pretty(&rec)?)?;
        Ok(BuildLease { path })
    }

    /// Whether a live process holds a build lease (leases of dead processes are removed).
    fn leased(&self) -> anyhow::Result<bool> {
        let mut any = false;
        for e in std::fs::read_dir(self.leases_dir())? {
            let path = e?.path();
            let rec: Option<LeaseRecord> = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            match rec {
                Some(r) if pid_alive(r.pid) => any = true,
                _ => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        Ok(any)
    }

    /// The image ids the build cache refers to (none if it is missing or unreadable:
    /// the cache may always be dropped, and a build re-checks every hit).
    fn cached_images(&self) -> BTreeSet<String> {
        std::fs::read(self.root.join(BUILD_CACHE_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<BTreeMap<String, String>>(&b).ok())
            .map(|m| m.into_values().collect())
            .unwrap_or_default()
    }

    /// Removes `name`: a tag (the image goes when no tag is left), or an image id with
    /// all its tags. Then prunes. Returns the removed tags and layers.
    pub fn remove_image(
        &self,
        lock: &StoreLock,
        name: &str,
    ) -> anyhow::Result<(Vec<String>, Vec<String>)> {
        let mut tags = self.tags()?;
        let key = normalize_ref(name).ok().filter(|k| tags.contains_key(k));
        let removed: Vec<String> = match key {
            Some(k) => vec![k],
            None => {
                let (id, _) = self.resolve(name)?;
                tags.iter()
                    .filter(|(_, v)| **v == id)
                    .map(|(k, _)| k.clone())
                    .collect()
            }
        };
        for k in &removed {
            tags.remove(k);
        }
        self.write_tags(lock, &tags)?;
        // The config goes with its last tag, unless a running container still uses it:
        // prune decides both.
        let layers = self.prune(lock)?;
        Ok((removed, layers))
    }

    /// Removes what nothing refers to: configs without a tag, build-cache entry or live
    /// container, containers whose process is gone (and their overlays), and layers no
    /// remaining image uses. While a build holds a [`BuildLease`] no config is removed.
    /// Returns the removed layers' digests.
    pub fn prune(&self, _lock: &StoreLock) -> anyhow::Result<Vec<String>> {
        let mut live_images: BTreeSet<String> = self.tags()?.into_values().collect();
        live_images.extend(self.cached_images());
        let leased = self.leased()?;
        let mut live_overlays = BTreeSet::new();
        for e in std::fs::read_dir(self.containers_dir())? {
            let path = e?.path();
            let rec: Option<ContainerRecord> = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            match rec {
                Some(r) if self.record_alive(&r) => {
                    live_images.extend(r.image.clone());
                    live_overlays.insert(format!("rw-{}.qcow2", r.id));
                }
                Some(r) => self.remove_container(&r.id)?,
                None => {
                    // Half-written records cannot exist (atomic writes); junk is removed.
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let mut live_layers = BTreeSet::new();
        for (path, name) in named_entries(&self.images_dir())? {
            let Some(id) = name.strip_suffix(".json") else {
                // Raw base images of wsh before the layer store are no longer used.
                if name.starts_with("base-v") && name.ends_with(".img") {
                    let _ = std::fs::remove_file(&path);
                }
                continue;
            };
            if live_images.contains(id) {
                live_layers.extend(self.config(id)?.layers);
            } else if leased {
                // Kept for the running build; a config that cannot be read keeps nothing.
                live_layers.extend(self.config(id).map(|c| c.layers).unwrap_or_default());
            } else {
                let _ = std::fs::remove_file(&path);
            }
        }
        let mut removed = Vec::new();
        for (path, name) in named_entries(&self.layers_dir())? {
            let keep = match name.strip_suffix(".qcow2") {
                Some(d) if is_digest(d) => live_layers.contains(d),
                _ => live_overlays.contains(&name),
            };
            if !keep {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
                if let Some(d) = name.strip_suffix(".qcow2").filter(|d| is_digest(d)) {
                    removed.push(d.to_string());
                }
            }
        }
        sync_dir(&self.layers_dir())?;
        // Flattened chains go with their layer; leftovers of an interrupted copy too.
        if let Ok(flat) = named_entries(&self.flat_dir()) {
            for (path, name) in flat {
                let live = name
                    .strip_suffix(".qcow2")
                    .is_some_and(|d| is_digest(d) && live_layers.contains(d));
                if !live {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        Ok(removed)
    }
}

/// The entries of `dir` with their file names (lossily as text: the store names its
/// files itself, so any other name is junk to remove).
fn named_entries(dir: &std::path::Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let path = e?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        out.push((path, name));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dirs, ImageConfig};

    fn store() -> (tempfile::TempDir, Store) {
        let d = tempfile::tempdir().unwrap();
        let dirs = Dirs {
            data: d.path().join("data"),
            cache: d.path().join("cache"),
        };
        let s = Store::open(&dirs).unwrap();
        (d, s)
    }

    fn image(s: &Store, n: u64) -> String {
        let lock = s.lock().unwrap();
        let c = ImageConfig {
            created: n,
            ..ImageConfig::default()
        };
        s.put_config(&lock, &c).unwrap()
    }

    #[test]
    fn prune_keeps_build_cache_images_and_everything_while_a_build_runs() {
        let (d, s) = store();
        let (cached, loose, during) = (image(&s, 1), image(&s, 2), image(&s, 3));
        let cache = serde_json::json!({ "k": cached });
        std::fs::write(
            d.path().join("data").join(BUILD_CACHE_FILE),
            cache.to_string(),
        )
        .unwrap();
        let lock = s.lock().unwrap();
        let lease = s.lease(&lock).unwrap();
        s.prune(&lock).unwrap();
        for id in [&cached, &loose, &during] {
            assert!(s.config(id).is_ok(), "a running build keeps {id}");
        }
        drop(lease);
        s.prune(&lock).unwrap();
        assert!(
            s.config(&cached).is_ok(),
            "the build cache keeps its images"
        );
        assert!(s.config(&loose).is_err() && s.config(&during).is_err());
    }

    #[test]
    fn leases_of_dead_processes_are_ignored() {
        let (_d, s) = store();
        let loose = image(&s, 1);
        let rec = LeaseRecord {
            // No process has this id (above the kernel's pid_max limit).
            pid: 1 << 30,
            created: 0,
        };
        let path = s.leases_dir().join("dead.json");
        std::fs::write(&path, serde_json::to_vec(&rec).unwrap()).unwrap();
        let lock = s.lock().unwrap();
        s.prune(&lock).unwrap();
        assert!(s.config(&loose).is_err());
        assert!(!path.exists());
    }

    #[test]
    fn flattened_copies_go_with_their_layers() {
        let (d, s) = store();
        let (live, dead) = ("a".repeat(64), "b".repeat(64));
        let lock = s.lock().unwrap();
        std::fs::write(s.layer_path(&live), b"").unwrap();
        let kept = s
            .put_config(
                &lock,
                &ImageConfig {
                    layers: vec![live.clone()],
                    ..ImageConfig::default()
                },
            )
            .unwrap();
        let cache = serde_json::json!({ "k": kept });
        std::fs::write(
            d.path().join("data").join(BUILD_CACHE_FILE),
            cache.to_string(),
        )
        .unwrap();
        std::fs::create_dir_all(s.flat_dir()).unwrap();
        let names = [
            format!("{live}.qcow2"),
            format!("{dead}.qcow2"),
            ".flat-x1".into(),
        ];
        for n in &names {
            std::fs::write(s.flat_dir().join(n), b"").unwrap();
        }
        s.prune(&lock).unwrap();
        let left: Vec<bool> = names
            .iter()
            .map(|n| s.flat_dir().join(n).exists())
            .collect();
        assert_eq!(left, [true, false, false]);
    }
}
