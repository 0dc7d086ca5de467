//! The built-in `base` image: the coreutils module once in /usr/bin plus one symlink
//! per applet (as busybox does), `/bin` a symlink to `usr/bin` (the merged /usr of
//! Debian and Fedora, so `type -a ls` finds /usr/bin/ls and /bin/ls as there), and
//! the few files a Unix userland expects.

use fsimage::{BlockDevice, Vfs};

use crate::store::Store;

/// The userland module, built for wasm32-wasip1 by build.rs and carried inside wsh.
pub static COREUTILS_WASM: &[u8] = include_bytes!(env!("WSH_COREUTILS_WASM"));

/// The applets the module answers to.
pub fn applets() -> impl Iterator<Item = &'static str> {
    env!("WSH_APPLETS").split(',').filter(|a| !a.is_empty())
}

/// Size of the base image's file system (a qcow2 layer: only used blocks take space).
pub const IMAGE_SIZE: u64 = 16 << 30;

/// Bumped when the layout below changes, so old stores get a fresh base image.
const LAYOUT_VERSION: u32 = 10;

/// The tag of the default image.
pub const BASE_TAG: &str = "base:latest";

/// The label that says which userland and layout a base image was built from.
const VERSION_LABEL: &str = "org.wsh.base";

fn version() -> String {
    format!("v{LAYOUT_VERSION}-{}", &env!("WSH_COREUTILS_SHA256")[..16])
}

/// The id of the `base` image in `store`, built on first use (and rebuilt when this
/// wsh carries another userland, so a new wsh never runs an old one).
pub fn ensure(store: &Store) -> anyhow::Result<String> {
    let current = |store: &Store| -> anyhow::Result<Option<String>> {
        let Some(id) = store.tags()?.get(BASE_TAG).cloned() else {
            return Ok(None);
        };
        let config = store.config(&id)?;
        Ok((config.labels.get(VERSION_LABEL) == Some(&version())).then_some(id))
    };
    if let Some(id) = current(store)? {
        return Ok(id);
    }
    let lock = store.lock()?;
    // Another wsh may have built it while we waited for the lock.
    if let Some(id) = current(store)? {
        return Ok(id);
    }
    let (record, dev) = store.create_container(&lock, None, IMAGE_SIZE)?;
    let made = build(Box::new(dev)).and_then(|()| {
        store.commit(
            &lock,
            &record,
            IMAGE_SIZE,
            "wsh: base image (coreutils)",
            |c| {
                c.env = vec!["PATH=/usr/local/bin:/usr/bin:/bin".into()];
                c.workdir = "/".into();
                c.labels.insert(VERSION_LABEL.into(), version());
            },
        )
    });
    let id = match made {
        Ok(id) => id,
        Err(e) => {
            let _ = store.remove_container(&record.id);
            return Err(e.context("cannot create the base image"));
        }
    };
    let replaced = store.tags()?.contains_key(BASE_TAG);
    store.tag(&lock, BASE_TAG, &id)?;
    if replaced {
        // The old userland's layer is unreferenced now (unless a container still runs it).
        store.prune(&lock)?;
    }
    Ok(id)
}

/// The contents of `/bin/sh` and `/bin/bash` (they are not modules: see `build`).
const SHELL_PLACEHOLDER: &[u8] = b"#!/bin/sh\n\
# wsh runs sh and bash with its own interpreter, built into wsh; this file only\n\
# lets programs that look for /bin/sh or /bin/bash find them.\n";

fn build(dev: Box<dyn BlockDevice>) -> anyhow::Result<()> {
    let vfs = Vfs::mkfs(dev, "wsh-base")?;
    let root = vfs.root();
    let mkdir = |parent, name: &str, mode| vfs.mkdir(parent, name.as_bytes(), mode);
    let etc = mkdir(root, "etc", 0o755)?;
    mkdir(root, "tmp", 0o1777)?;
    mkdir(root, "root", 0o700)?;
    mkdir(root, "home", 0o755)?;
    // Placeholders, so listings and `test -e` see the devices: the runtime serves
    // every open and stat of these paths itself (ext4 device nodes would need
    // mknod and device numbers, which fsimage does not offer).
    let dev = mkdir(root, "dev", 0o755)?;
    for name in wsh_runtime::io::device_names() {
        vfs.create(dev, name.as_bytes(), 0o666)?;
    }
    // A guest's own descriptors (/dev/stdin, /dev/fd/N), served by the broker too.
    for name in ["stdin", "stdout", "stderr"] {
        vfs.create(dev, name.as_bytes(), 0o666)?;
    }
    mkdir(dev, "fd", 0o555)?;
    // Likewise the synthesized /proc files (wsh_runtime::procfs).
    let proc = mkdir(root, "proc", 0o555)?;
    for name in wsh_runtime::procfs::names() {
        vfs.create(proc, name.as_bytes(), 0o444)?;
    }
    // What every live program's /proc/PID resolves to (hidden from listings).
    let pid_dir = wsh_runtime::procfs::PID_DIR
        .rsplit(|&b| b == b'/')
        .next()
        .unwrap_or(b"");
    let pids = vfs.mkdir(proc, pid_dir, 0o555)?;
    for name in wsh_runtime::procfs::PID_FILES {
        vfs.create(pids, name.as_bytes(), 0o444)?;
    }
    let usr = mkdir(root, "usr", 0o755)?;
    let bin = mkdir(usr, "bin", 0o755)?;
    vfs.symlink(root, b"bin", b"usr/bin")?;
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
    // The shell is wsh's own interpreter, not a module: these entries let
    // `command -v sh`, `which bash` and programs that look for /bin/sh find it,
    // and wsh (the interpreter and the broker) runs them itself.
    for shell in ["sh", "bash"] {
        write_file(bin, shell, 0o755, SHELL_PLACEHOLDER)?;
    }
    write_file(etc, "passwd", 0o644, b"root:x:0:0:root:/root:/bin/sh\n")?;
    write_file(etc, "group", 0o644, b"root:x:0:\n")?;
    // As Debian has them, so useradd/groupadd keep them as Debian's tools do.
    write_file(etc, "shadow", 0o640, b"root:*:20000:0:99999:7:::\n")?;
    write_file(etc, "gshadow", 0o640, b"root:*::\n")?;
    write_file(etc, "hostname", 0o644, b"wsh\n")?;
    let mut dev = vfs.into_device()?;
    crate::store::flush_device(dev.as_mut())
}
