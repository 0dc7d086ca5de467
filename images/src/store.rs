//! The image store: layers, image configs, tags and containers, on disk under
//! [`Dirs::data`](crate::Dirs). Containers' overlays are in `overlays.rs`, leases and
//! garbage collection in `prune.rs`.

use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use anyhow::Context;
use fsimage::{BlockDevice, Qcow2Device};
use sha2::{Digest, Sha256};

use crate::config::{ImageConfig, normalize_ref};
use crate::locations::{Dirs, write_atomic};

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
// never a reference to something missing. The containers of dead processes (and
// their overlays) are removed whenever the store is opened.

/// The build cache index file in the store directory: its values are image ids that
/// [`Store::prune`] keeps (the build cache outlives `wsh rmi`, as Docker's does).
pub const BUILD_CACHE_FILE: &str = "build-cache.json";

/// The image store: layers, image configs, tags and containers.
pub struct Store {
    pub(crate) root: PathBuf,
}

/// Held while the store is being changed; other wsh processes wait for it.
pub struct StoreLock {
    _file: std::fs::File,
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

pub(crate) fn is_digest(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

pub(crate) fn pid_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    let exists = rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    // A zombie (a killed detached supervisor whose parent is gone) is dead too.
    exists
        && (crate::containers_state::process_start(pid).is_some()
            || !std::path::Path::new("/proc/self/stat").exists())
}

pub(crate) fn random_id() -> String {
    let mut h = Sha256::new();
    h.update(std::process::id().to_le_bytes());
    h.update(format!("{:?}", std::time::SystemTime::now()));
    h.update(format!("{:p}", &h as *const _));
    hex::encode(&h.finalize()[..8])
}

pub(crate) fn write_json(path: &Path, data: &[u8]) -> anyhow::Result<()> {
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
        store.sweep_dead_containers();
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

    /// The store's directory.
    pub fn data_dir(&self) -> &Path {
        &self.root
    }

    /// Where layers live.
    pub fn layers_dir(&self) -> PathBuf {
        self.root.join("layers")
    }

    pub(crate) fn images_dir(&self) -> PathBuf {
        self.root.join("images")
    }

    pub(crate) fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }

    pub(crate) fn leases_dir(&self) -> PathBuf {
        self.root.join("leases")
    }

    pub(crate) fn tags_path(&self) -> PathBuf {
        self.root.join("tags.json")
    }

    /// The file of the sealed layer `digest`.
    pub fn layer_path(&self, digest: &str) -> PathBuf {
        self.layers_dir().join(format!("{digest}.qcow2"))
    }

    /// Where flattened copies of deep layer chains are kept, each named as the layer
    /// whose chain it holds (see `fsimage::Qcow2Device::open_flat`); prune removes a
    /// copy with its layer.
    pub(crate) fn flat_dir(&self) -> PathBuf {
        self.root.join("flat")
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

    /// The NAME:TAGs that name image `id`, in order.
    pub fn tags_of(&self, id: &str) -> anyhow::Result<Vec<String>> {
        Ok(self
            .tags()?
            .into_iter()
            .filter(|(_, v)| v == id)
            .map(|(k, _)| k)
            .collect())
    }

    pub(crate) fn write_tags(
        &self,
        _lock: &StoreLock,
        tags: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
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
        anyhow::bail!(
            "no such image: {name} (wsh has no registry to pull from: bring an image in with \
             `wsh load -i FILE.tar` or `wsh import FILE.img|DIR NAME`, or build it)"
        )
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
        let path = self.layer_path(top);
        Ok(Qcow2Device::open_flat(
            &path,
            false,
            Some(&self.flat_dir()),
        )?)
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
