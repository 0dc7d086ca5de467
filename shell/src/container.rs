//! A container: an image plus a writable layer, and the runtime whose guests share it.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use fsimage::{MemOverlay, Vfs};
use wsh_runtime::Runtime;

use crate::base_image;
use crate::store::Dirs;

/// A throwaway container of the default image (`base`): its writes live in memory
/// and vanish when it ends, unless saved.
pub struct Container {
    runtime: Runtime,
}

impl Container {
    /// Opens a throwaway writable container over the default image, creating the
    /// image in the store first if needed.
    pub fn throwaway() -> anyhow::Result<Container> {
        let dirs = Dirs::locate()?;
        let base = base_image::ensure(&dirs.images())?;
        let lower = base_image::open_device(&base)?;
        let overlay = MemOverlay::new(Box::new(lower));
        let vfs = Vfs::open(Box::new(overlay), &base, true).with_context(|| format!("cannot open {}", base.display()))?;
        let runtime = Runtime::new(Arc::new(vfs), &dirs.cache)?;
        Ok(Container { runtime })
    }

    /// The runtime whose guests see this container's file system.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Ends the container; with `save_to`, first writes its file system as a raw ext4 image there.
    pub fn finish(self, save_to: Option<&Path>) -> anyhow::Result<()> {
        let Some(dest) = save_to else {
            return Ok(());
        };
        let vfs = self.runtime.vfs().clone();
        drop(self.runtime);
        let vfs = Arc::try_unwrap(vfs).map_err(|_| anyhow::anyhow!("the container is still in use"))?;
        let mut dev = vfs.into_device()?;
        fsimage::export_raw(dev.as_mut(), dest).with_context(|| format!("cannot save the image to {}", dest.display()))?;
        Ok(())
    }
}
