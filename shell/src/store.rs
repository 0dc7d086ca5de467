//! Where wsh keeps its data: the image store and the compiled-module cache.
//!
//! `WSH_HOME` puts both under one directory (tests use this); otherwise data goes
//! to `$XDG_DATA_HOME/wsh` and compiled modules to `$XDG_CACHE_HOME/wsh`.

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use anyhow::Context;
use fsimage::{BlockDevice, Qcow2Device};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::image::{HistoryEntry, ImageConfig, normalize_ref, now_secs};

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

// ---------------------------------------------------------------------------
// The image store.
//
// Layout under `Dirs::data`:
//   store.lock                 flock(2) target: one writer at a time
//   layers/<sha256>.qcow2      sealed layers; a layer's backing file is its parent,
//                              named `<sha256>.qcow2` (relative, so the store can move)
//   layers/rw-<id>.qcow2       a container's writable overlay (same directory, so its
//                              backing name is already right when it is sealed)
//   containers/<id>.json       one per overlay: which image, which process owns it
//   images/<image id>.json     image configs (the id is the sha256 of the file)
//   tags.json                  NAME:TAG -> image id
//   build-cache.json           build step key -> image id (see build::cache): live
//   leases/<id>.json           one per running build: while one is alive, prune
//                              removes no image (see [`BuildLease`])
//
// Every file appears by rename of a synced temporary file, and a layer only becomes
// referenced after it is sealed, its config after the layer, its tag after the
// config: a crash at any point leaves unreferenced files (which `prune` removes),
// never a reference to something missing.

/// The build cache index file in the store directory: its values are image ids that
/// [`Store::prune`] keeps (the build cache outlives `wsh rmi`, as Docker's does).
pub const BUILD_CACHE_FILE: &str = "build-cache.json";

/// The image store: layers, image configs, tags and containers.
pub struct Store {
    root: PathBuf,
}

/// Held while the store is being changed; other wsh processes wait for it.
pub struct StoreLock {
    _file: std::fs::File,
}

/// A writable overlay on top of an image (or on nothing, for a new bottom layer).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// Random id; the overlay is `layers/rw-<id>.qcow2`.
    pub id: String,
    /// The image it was made from (None for a fresh bottom layer).
    pub image: Option<String>,
    /// The process using it; a record whose process is gone is garbage.
    pub pid: u32,
    /// Creation time (seconds since the Unix epoch).
    pub created: u64,
}

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

/// One line of `wsh images`.
pub struct ImageEntry {
    /// `NAME:TAG`.
    pub tag: String,
    /// Image id.
    pub id: String,
    /// Its config.
    pub config: ImageConfig,
}

fn is_digest(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn pid_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn random_id() -> String {
    let mut h = Sha256::new();
    h.update(std::process::id().to_le_bytes());
    h.update(format!("{:?}", std::time::SystemTime::now()));
    h.update(format!("{:p}", &h as *const _));
    hex::encode(&h.finalize()[..8])
}

fn write_json(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    write_atomic(path, |tmp| {
        std::fs::write(tmp, data).with_context(|| format!("cannot write {}", tmp.display()))
    })
}

impl Store {
    /// Opens (creating if needed) the store in `dirs`.
    pub fn open(dirs: &Dirs) -> anyhow::Result<Store> {
        let store = Store {
            root: dirs.data.clone(),
        };
        for d in [
            store.layers_dir(),
            store.images_dir(),
            store.containers_dir(),
            store.leases_dir(),
        ] {
            std::fs::create_dir_all(&d)
                .with_context(|| format!("cannot create {}", d.display()))?;
        }
        Ok(store)
    }

    /// Waits for and takes the store's write lock.
    pub fn lock(&self) -> anyhow::Result<StoreLock> {
        let path = self.root.join("store.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: a valid fd; the lock is released when the file is closed.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("cannot lock {}", path.display()));
        }
        Ok(StoreLock { _file: file })
    }

    /// Where layers live.
    pub fn layers_dir(&self) -> PathBuf {
        self.root.join("layers")
    }

    fn images_dir(&self) -> PathBuf {
        self.root.join("images")
    }

    fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }

    fn leases_dir(&self) -> PathBuf {
        self.root.join("leases")
    }

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

    fn tags_path(&self) -> PathBuf {
        self.root.join("tags.json")
    }

    /// The file of the sealed layer `digest`.
    pub fn layer_path(&self, digest: &str) -> PathBuf {
        self.layers_dir().join(format!("{digest}.qcow2"))
    }

    /// The writable overlay file of container `id`.
    pub fn overlay_path(&self, id: &str) -> PathBuf {
        self.layers_dir().join(format!("rw-{id}.qcow2"))
    }

    /// NAME:TAG -> image id.
    pub fn tags(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let path = self.tags_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{}: damaged tags file", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn write_tags(&self, _lock: &StoreLock, tags: &BTreeMap<String, String>) -> anyhow::Result<()> {
        let data = serde_json::to_vec_pretty(tags)?;
        write_json(&self.tags_path(), &data)
    }

    /// Points `name` (NAME[:TAG]) at image `id`.
    pub fn tag(&self, lock: &StoreLock, name: &str, id: &str) -> anyhow::Result<()> {
        let key = normalize_ref(name)?;
        self.config(id)?;
        let mut tags = self.tags()?;
        tags.insert(key, id.to_string());
        self.write_tags(lock, &tags)
    }

    /// The config of image `id`.
    pub fn config(&self, id: &str) -> anyhow::Result<ImageConfig> {
        if !is_digest(id) {
            anyhow::bail!("invalid image id {id:?}");
        }
        let path = self.images_dir().join(format!("{id}.json"));
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let config: ImageConfig = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: damaged image config", path.display()))?;
        Ok(config)
    }

    /// Stores `config` (all its layers must exist); returns its id.
    pub fn put_config(&self, _lock: &StoreLock, config: &ImageConfig) -> anyhow::Result<String> {
        for l in &config.layers {
            if !self.layer_path(l).exists() {
                anyhow::bail!("layer {l} is missing from {}", self.layers_dir().display());
            }
        }
        let id = config.id();
        let path = self.images_dir().join(format!("{id}.json"));
        if !path.exists() {
            write_json(&path, &config.to_json())?;
        }
        Ok(id)
    }

    /// Finds an image by NAME[:TAG], full id or unique id prefix (at least 4 digits).
    pub fn resolve(&self, name: &str) -> anyhow::Result<(String, ImageConfig)> {
        let tags = self.tags()?;
        if let Ok(key) = normalize_ref(name)
            && let Some(id) = tags.get(&key)
        {
            return Ok((id.clone(), self.config(id)?));
        }
        if name.len() >= 4 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut found = Vec::new();
            for e in std::fs::read_dir(self.images_dir())? {
                let n = e?.file_name().to_string_lossy().into_owned();
                if let Some(id) = n.strip_suffix(".json")
                    && id.starts_with(name)
                {
                    found.push(id.to_string());
                }
            }
            match found.len() {
                1 => {
                    let id = found.remove(0);
                    let config = self.config(&id)?;
                    return Ok((id, config));
                }
                0 => {}
                _ => anyhow::bail!("image id prefix {name} is ambiguous"),
            }
        }
        anyhow::bail!("no such image: {name}")
    }

    /// All tagged images, sorted by tag.
    pub fn list(&self) -> anyhow::Result<Vec<ImageEntry>> {
        self.tags()?
            .into_iter()
            .map(|(tag, id)| {
                let config = self.config(&id)?;
                Ok(ImageEntry { tag, id, config })
            })
            .collect()
    }

    /// Opens image `config` read-only (its top layer and the chain below), after
    /// checking that every layer file still has the sha256 it is named by.
    pub fn open_image(&self, config: &ImageConfig) -> anyhow::Result<Qcow2Device> {
        let top = config.top_layer().context("image has no layers")?;
        self.verify_layers(config)?;
        Ok(Qcow2Device::open(&self.layer_path(top), false)?)
    }

    /// A cheap check (no hashing) for every container start: each layer file is present
    /// and has the size recorded when it was sealed, so a truncated layer is refused.
    pub fn check_layer_sizes(&self, config: &ImageConfig) -> anyhow::Result<()> {
        for l in &config.layers {
            let path = self.layer_path(l);
            let len = std::fs::metadata(&path)
                .with_context(|| format!("{}: layer is missing", path.display()))?
                .len();
            let recorded = config
                .history
                .iter()
                .find(|h| h.layer.as_deref() == Some(l))
                .map(|h| h.layer_size);
            if let Some(want) = recorded.filter(|&w| w > 0)
                && want != len
            {
                anyhow::bail!(
                    "{}: damaged layer: {len} bytes, {want} when sealed",
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// Checks that each layer file of `config` is present and unchanged (its content
    /// still hashes to its name): catches truncated, zeroed or bit-flipped layers.
    pub fn verify_layers(&self, config: &ImageConfig) -> anyhow::Result<()> {
        for l in &config.layers {
            let path = self.layer_path(l);
            if !path.exists() {
                anyhow::bail!("{}: layer is missing", path.display());
            }
            if sha256_file(&path)? != *l {
                anyhow::bail!(
                    "{}: damaged layer: its content no longer matches its sha256",
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// Makes a container: a new writable overlay over image `image` (or, with None, an
    /// empty device of `size` bytes for a new bottom layer), owned by this process.
    pub fn create_container(
        &self,
        lock: &StoreLock,
        image: Option<&str>,
        size: u64,
    ) -> anyhow::Result<(ContainerRecord, Qcow2Device)> {
        let _ = lock;
        let (backing, size) = match image {
            Some(id) => {
                let config = self.config(id)?;
                self.check_layer_sizes(&config)?;
                let top = config
                    .top_layer()
                    .context("image has no layers")?
                    .to_string();
                (Some(format!("{top}.qcow2")), config.size)
            }
            None => (None, size),
        };
        let record = ContainerRecord {
            id: random_id(),
            image: image.map(str::to_string),
            pid: std::process::id(),
            created: now_secs(),
        };
        // The record first: an overlay without one would be taken for garbage. It is
        // renamed into place whole but not synced: after a crash the container is
        // dead anyway, and an overlay whose record was lost is garbage prune removes.
        let rec_path = self.containers_dir().join(format!("{}.json", record.id));
        let tmp = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(self.containers_dir())?;
        std::fs::write(tmp.path(), serde_json::to_vec_pretty(&record)?)?;
        tmp.persist(&rec_path)
            .with_context(|| format!("cannot create {}", rec_path.display()))?;
        let path = self.overlay_path(&record.id);
        match Qcow2Device::create(&path, size, backing.as_deref()) {
            Ok(dev) => Ok((record, dev)),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                let _ = std::fs::remove_file(&rec_path);
                Err(e.into())
            }
        }
    }

    /// Deletes container `id` and its overlay.
    pub fn remove_container(&self, id: &str) -> anyhow::Result<()> {
        let overlay = self.overlay_path(id);
        match std::fs::remove_file(&overlay) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot remove {}", overlay.display()));
            }
        }
        let rec = self.containers_dir().join(format!("{id}.json"));
        let _ = std::fs::remove_file(&rec);
        Ok(())
    }

    /// Seals container `record`'s overlay (whose device must be flushed and closed) into
    /// a layer, and stores a new image: `parent`'s config (or an empty one) plus that
    /// layer and `created_by` in its history, then changed by `edit`. Returns the image id.
    /// The container is gone afterwards.
    pub fn commit(
        &self,
        lock: &StoreLock,
        record: &ContainerRecord,
        size: u64,
        created_by: &str,
        edit: impl FnOnce(&mut ImageConfig),
    ) -> anyhow::Result<String> {
        let mut config = match &record.image {
            Some(id) => self.config(id)?,
            None => ImageConfig {
                size,
                ..ImageConfig::default()
            },
        };
        let overlay = self.overlay_path(&record.id);
        let digest = sha256_file(&overlay)?;
        let layer = self.layer_path(&digest);
        let layer_size = std::fs::metadata(&overlay)?.len();
        if layer.exists() {
            std::fs::remove_file(&overlay)?;
        } else {
            std::fs::rename(&overlay, &layer)
                .with_context(|| format!("cannot seal {}", overlay.display()))?;
        }
        sync_dir(&self.layers_dir())?;
        let now = now_secs();
        config.layers.push(digest.clone());
        config.history.push(HistoryEntry {
            created: now,
            created_by: created_by.to_string(),
            layer: Some(digest),
            layer_size,
        });
        config.created = now;
        edit(&mut config);
        let id = self.put_config(lock, &config)?;
        self.remove_container(&record.id)?;
        Ok(id)
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
                Some(r) if pid_alive(r.pid) => {
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
        for e in std::fs::read_dir(self.images_dir())? {
            let path = e?.path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
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
        for e in std::fs::read_dir(self.layers_dir())? {
            let path = e?.path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
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
        Ok(removed)
    }
}

/// sha256 of a file's bytes, in hex.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex::encode(h.finalize()))
}

/// Flushes a device that is about to be sealed (the Vfs hands it back boxed).
pub fn flush_device(dev: &mut dyn BlockDevice) -> anyhow::Result<()> {
    dev.flush().context("cannot flush the container's layer")
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
