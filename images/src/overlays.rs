//! Containers' writable overlays: each is a qcow2 file over an image's top layer,
//! with a record naming the process that owns it; committing seals one as a layer.

use anyhow::Context;
use fsimage::Qcow2Device;
use serde::{Deserialize, Serialize};

use crate::config::{HistoryEntry, ImageConfig, now_secs};
use crate::locations::sync_dir;
use crate::store::{Store, StoreLock, random_id, sha256_file};

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
    /// The detached container (`run/<id>/`) that owns it: such an overlay outlives its
    /// processes (a stopped container keeps its files for `cp`, `commit`, `start`)
    /// and goes with `wsh rm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

impl Store {
    /// Makes a container: a new writable overlay over image `image` (or, with None, an
    /// empty device of `size` bytes for a new bottom layer), owned by this process.
    pub fn create_container(
        &self,
        lock: &StoreLock,
        image: Option<&str>,
        size: u64,
    ) -> anyhow::Result<(ContainerRecord, Qcow2Device)> {
        self.create_overlay(lock, image, size, None)
    }

    /// Makes the writable overlay of detached container `run` over image `image`; it
    /// lives as long as `run/<run>/` does, whatever process uses it.
    pub fn create_run_overlay(
        &self,
        lock: &StoreLock,
        image: &str,
        run: &str,
    ) -> anyhow::Result<ContainerRecord> {
        let (record, dev) = self.create_overlay(lock, Some(image), 0, Some(run))?;
        drop(dev);
        Ok(record)
    }

    fn create_overlay(
        &self,
        lock: &StoreLock,
        image: Option<&str>,
        size: u64,
        run: Option<&str>,
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
            run: run.map(str::to_string),
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
        match Qcow2Device::create_flat(&path, size, backing.as_deref(), Some(&self.flat_dir())) {
            Ok(dev) => Ok((record, dev)),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                let _ = std::fs::remove_file(&rec_path);
                Err(e.into())
            }
        }
    }

    /// Removes the containers whose process is gone (killed before it committed or
    /// cleaned up), overlay and record, so the next wsh command after a crash leaves no
    /// garbage behind. Best effort and lock-free: such a container can never revive.
    pub(crate) fn sweep_dead_containers(&self) {
        let Ok(dir) = std::fs::read_dir(self.containers_dir()) else {
            return;
        };
        for e in dir.flatten() {
            let rec: Option<ContainerRecord> = std::fs::read(e.path())
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            if let Some(r) = rec.filter(|r| !self.record_alive(r)) {
                let _ = self.remove_container(&r.id);
            }
        }
    }

    /// Whether a container's overlay is in use: its process lives, or the detached
    /// container owning it still exists.
    pub(crate) fn record_alive(&self, r: &ContainerRecord) -> bool {
        crate::store::pid_alive(r.pid)
            || r.run
                .as_ref()
                .is_some_and(|id| self.run_dir().join(id).join("state.json").exists())
    }

    /// The record of container `id`.
    pub fn container_record(&self, id: &str) -> anyhow::Result<ContainerRecord> {
        let path = self.containers_dir().join(format!("{id}.json"));
        let bytes = std::fs::read(&path)
            .with_context(|| format!("the container's overlay {id} is gone"))?;
        serde_json::from_slice(&bytes).with_context(|| format!("{}: damaged", path.display()))
    }

    /// Copies overlay `src` (through `copy`, which writes the copy at the path it is
    /// given) into a new container of this process, ready to be committed.
    pub fn clone_overlay(
        &self,
        lock: &StoreLock,
        src: &ContainerRecord,
        copy: impl FnOnce(&std::path::Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<ContainerRecord> {
        let (record, dev) = self.create_overlay(lock, src.image.as_deref(), 0, None)?;
        drop(dev);
        if let Err(e) = copy(&self.overlay_path(&record.id)) {
            let _ = self.remove_container(&record.id);
            return Err(e);
        }
        Ok(record)
    }

    /// Opens the file system of container `id`'s overlay (a detached container's, whose
    /// supervisor is not running: nothing else may have it open for writing).
    pub fn open_overlay(&self, id: &str, writable: bool) -> anyhow::Result<fsimage::Vfs> {
        let path = self.overlay_path(id);
        let dev = Qcow2Device::open_flat(&path, writable, Some(&self.flat_dir()))
            .with_context(|| format!("cannot open the container's files {}", path.display()))?;
        fsimage::Vfs::open(Box::new(dev), &path, writable)
            .with_context(|| format!("cannot open the container's files {}", path.display()))
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
}
