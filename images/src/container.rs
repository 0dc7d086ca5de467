//! A container: an image plus one writable qcow2 overlay in the store, and the runtime
//! whose guests share it.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use fsimage::Vfs;
use wsh_runtime::Runtime;

use crate::base;
use crate::config::ImageConfig;
use crate::locations::{Dirs, write_atomic};
use crate::overlays::ContainerRecord;
use crate::store::{Store, flush_device};

/// A container of an image: its writes go into its own overlay (`layers/rw-ID.qcow2`),
/// which is deleted when the container ends unless it is committed as a new layer.
pub struct Container {
    runtime: Option<Runtime>,
    store: Store,
    record: ContainerRecord,
    /// A detached container's overlay, kept (synced) when this process lets it go.
    keep: bool,
}

impl Container {
    /// Opens a throwaway writable container over the default image, creating the
    /// image in the store first if needed.
    pub fn throwaway() -> anyhow::Result<Container> {
        let dirs = Dirs::locate()?;
        let store = Store::open(&dirs)?;
        let base = base::ensure(&store)?;
        Container::create(store, &dirs, &base)
    }

    /// Makes a new container of image `image_id` in `store`.
    pub fn create(store: Store, dirs: &Dirs, image_id: &str) -> anyhow::Result<Container> {
        let (record, dev) = {
            let lock = store.lock()?;
            store.create_container(&lock, Some(image_id), 0)?
        };
        let name = dev.path().to_path_buf();
        let vfs = match Vfs::open(Box::new(dev), &name, true) {
            Ok(v) => v,
            Err(e) => {
                let _ = store.remove_container(&record.id);
                return Err(e).with_context(|| format!("cannot open image {image_id}"));
            }
        };
        let mut c = Container {
            runtime: None,
            store,
            record,
            keep: false,
        };
        let runtime = Runtime::new(Arc::new(vfs), &dirs.cache)?;
        runtime.set_image_identity(image_id);
        c.runtime = Some(runtime);
        Ok(c)
    }

    /// Opens the overlay of a detached container (see [`Store::create_run_overlay`]):
    /// its files stay when this process ends, synced.
    pub fn open_run(
        store: Store,
        dirs: &Dirs,
        record: ContainerRecord,
    ) -> anyhow::Result<Container> {
        let image = record
            .image
            .clone()
            .context("a detached container without an image")?;
        let vfs = store.open_overlay(&record.id, true)?;
        let runtime = Runtime::new(Arc::new(vfs), &dirs.cache)?;
        runtime.set_image_identity(&image);
        Ok(Container {
            runtime: Some(runtime),
            store,
            record,
            keep: true,
        })
    }

    /// The runtime whose guests see this container's file system.
    pub fn runtime(&self) -> &Runtime {
        self.runtime
            .as_ref()
            .expect("set at creation, taken only by consuming methods")
    }

    /// The container's id (its overlay is `layers/rw-ID.qcow2`).
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// Closes the file system and hands back its device, synced.
    fn close(&mut self) -> anyhow::Result<Box<dyn fsimage::BlockDevice>> {
        let runtime = self.runtime.take().context("the container is closed")?;
        // A program's exit is reported before its instance is torn down: let those
        // teardowns finish, so they no longer hold the file system.
        runtime.settle();
        let vfs = runtime.vfs().clone();
        drop(runtime);
        let vfs =
            Arc::try_unwrap(vfs).map_err(|_| anyhow::anyhow!("the container is still in use"))?;
        let mut dev = vfs.into_device()?;
        flush_device(dev.as_mut())?;
        Ok(dev)
    }

    /// Ends the container; with `save_to`, first writes its file system as a raw ext4 image there.
    pub fn finish(mut self, save_to: Option<&Path>) -> anyhow::Result<()> {
        let Some(dest) = save_to else {
            return Ok(());
        };
        let mut dev = self.close()?;
        write_atomic(dest, |tmp| {
            fsimage::export_raw(dev.as_mut(), tmp)
                .with_context(|| format!("cannot save the image to {}", dest.display()))
        })
    }

    /// Seals the container's overlay as a new layer and stores the image it makes:
    /// the parent's config plus the layer, with `created_by` in the history, then
    /// changed by `edit`. Returns the new image id; `tag` (NAME[:TAG]) points at it.
    pub fn commit(
        mut self,
        created_by: &str,
        tag: Option<&str>,
        edit: impl FnOnce(&mut ImageConfig),
    ) -> anyhow::Result<String> {
        let dev = self.close()?;
        let size = dev.size();
        drop(dev);
        let lock = self.store.lock()?;
        let id = self
            .store
            .commit(&lock, &self.record, size, created_by, edit)?;
        if let Some(t) = tag {
            self.store.tag(&lock, t, &id)?;
        }
        Ok(id)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if self.keep {
            if let Some(rt) = self.runtime.take() {
                rt.settle();
                // Another user of the file system (an `exec`) may still hold it: a sync
                // leaves it consistent on disk either way.
                if let Err(e) = rt.vfs().sync() {
                    eprintln!("wsh: cannot sync the container's files: {e}");
                }
            }
            return;
        }
        // Close the file system before its overlay goes away (quietly: the overlay is
        // being thrown away, and a committed one is already gone).
        drop(self.runtime.take());
        let _ = self.store.remove_container(&self.record.id);
    }
}
