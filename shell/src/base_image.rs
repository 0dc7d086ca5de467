//! The built-in `base` image: the coreutils module once in /bin plus one symlink
//! per applet (as busybox does), and the few files a Unix userland expects.

use std::path::{Path, PathBuf};

use anyhow::Context;
use fsimage::{FileDevice, Vfs};

/// The userland module, built for wasm32-wasip1 by build.rs and carried inside wsh.
pub static COREUTILS_WASM: &[u8] = include_bytes!(env!("WSH_COREUTILS_WASM"));

/// The applets the module answers to.
pub fn applets() -> impl Iterator<Item = &'static str> {
    env!("WSH_APPLETS").split(',').filter(|a| !a.is_empty())
}

/// Size of the base image's file system (a sparse file: only used blocks take space).
const IMAGE_SIZE: u64 = 1 << 30;

/// Bumped when the layout below changes, so old stores get a fresh base image.
const LAYOUT_VERSION: u32 = 1;

/// The base image's path in `images_dir`, built on first use. Its name carries the
/// module's hash so a new wsh never runs an old userland.
pub fn ensure(images_dir: &Path) -> anyhow::Result<PathBuf> {
    let tag = &env!("WSH_COREUTILS_SHA256")[..16];
    let path = images_dir.join(format!("base-v{LAYOUT_VERSION}-{tag}.img"));
    if path.exists() {
        return Ok(path);
    }
    crate::store::write_atomic(&path, build).with_context(|| format!("cannot create the base image {}", path.display()))?;
    Ok(path)
}

fn build(path: &Path) -> anyhow::Result<()> {
    let dev = FileDevice::create(path, IMAGE_SIZE)?;
    let vfs = Vfs::mkfs(Box::new(dev), "wsh-base")?;
    let root = vfs.root();
    let mkdir = |parent, name: &str, mode| vfs.mkdir(parent, name.as_bytes(), mode);
    let bin = mkdir(root, "bin", 0o755)?;
    let etc = mkdir(root, "etc", 0o755)?;
    mkdir(root, "tmp", 0o1777)?;
    mkdir(root, "root", 0o700)?;
    mkdir(root, "home", 0o755)?;
    let usr = mkdir(root, "usr", 0o755)?;
    mkdir(usr, "bin", 0o755)?;
    let local = mkdir(usr, "local", 0o755)?;
    mkdir(local, "bin", 0o755)?;
    let write_file = |dir, name: &str, mode, data: &[u8]| -> anyhow::Result<()> {
        let ino = vfs.create(dir, name.as_bytes(), mode)?;
        let mut at = 0;
        while at < data.len() {
            at += vfs.write(ino, at as u64, &data[at..])?;
        }
        Ok(())
    };
    write_file(bin, "coreutils", 0o755, COREUTILS_WASM)?;
    for applet in applets() {
        vfs.symlink(bin, applet.as_bytes(), b"coreutils")?;
    }
    write_file(etc, "passwd", 0o644, b"root:x:0:0:root:/root:/bin/sh\n")?;
    write_file(etc, "group", 0o644, b"root:x:0:\n")?;
    write_file(etc, "hostname", 0o644, b"wsh\n")?;
    vfs.into_device()?;
    Ok(())
}

/// Opens the base image for reading.
pub fn open_device(path: &Path) -> anyhow::Result<FileDevice> {
    Ok(FileDevice::open(path, false)?)
}
