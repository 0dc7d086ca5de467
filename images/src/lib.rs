//! wsh's image store: layers, image configs, tags, containers and their overlays,
//! build leases, import and export, the built-in `base` image, and FUSE mounts.
//!
//! It knows nothing of the shell language: the shell crate's CLI, interpreter and
//! Balenafile builder call it. Data on disk (under [`Dirs::data`]):
//!
//! - `layers/<sha256>.qcow2`: sealed layers, each backed by its parent;
//! - `layers/rw-<id>.qcow2` + `containers/<id>.json`: containers' writable overlays;
//! - `images/<id>.json`: image configs; `tags.json`: `NAME:TAG` -> image id;
//! - `leases/`: running builds; `build-cache.json`: the builder's cache index;
//! - `run/<id>/`: detached containers' state and logs (see [`containers_state`]).

pub mod base;
mod config;
mod container;
pub mod containers_state;
mod import;
mod locations;
pub mod mount;
mod oci;
mod overlays;
mod prune;
mod store;
mod working_copy;

use std::path::Path;

use anyhow::Context;

pub use config::{Healthcheck, HistoryEntry, ImageConfig, normalize_ref, now_secs};
pub use container::Container;
pub use import::import;
pub use locations::{Dirs, sync_dir, write_atomic};
pub use oci::cp;
pub use oci::{LoadReport, SaveReport, load, save};
pub use overlays::ContainerRecord;
pub use prune::BuildLease;
pub use store::{BUILD_CACHE_FILE, ImageEntry, Store, StoreLock, flush_device, sha256_file};

/// Opens the user's store (see [`Dirs::locate`]).
pub fn open_store() -> anyhow::Result<Store> {
    Store::open(&Dirs::locate()?)
}

/// Writes image `name`'s file system (its layer chain flattened) to `dest` as one raw
/// ext4 image, atomically: `dest` appears whole or not at all.
pub fn export(store: &Store, name: &str, dest: &Path) -> anyhow::Result<()> {
    let (_, config) = store.resolve(name)?;
    let mut dev = {
        // Held while opening, so a concurrent rmi cannot take the layers away half-way.
        let _lock = store.lock()?;
        store.open_image(&config)?
    };
    write_atomic(dest, |tmp| {
        fsimage::export_raw(&mut dev, tmp)
            .with_context(|| format!("cannot export to {}", dest.display()))
    })
}
