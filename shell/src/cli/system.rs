//! `wsh version`, `wsh info`, `wsh system df`: what wsh is and what its store holds.

use std::collections::BTreeSet;

use anyhow::Context as _;

use images::containers_state::Status;

use super::listing::human_size;

/// `wsh version`.
pub fn version() -> anyhow::Result<i32> {
    println!("wsh version {}", env!("CARGO_PKG_VERSION"));
    println!(" Guests:     wasm32-wasip1 (wasmtime)");
    println!(
        " OS/Arch:    {}/{}",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    println!(" Daemon:     none (each container has its own supervising wsh process)");
    Ok(0)
}

/// Disk use: (tagged image ids, bytes of their layers, bytes of the other sealed layers).
fn image_use(store: &images::Store) -> anyhow::Result<(BTreeSet<String>, u64, u64)> {
    let mut ids = BTreeSet::new();
    let mut used = BTreeSet::new();
    for e in store.list()? {
        ids.insert(e.id);
        used.extend(e.config.layers);
    }
    let (mut tagged, mut other) = (0, 0);
    for e in std::fs::read_dir(store.layers_dir())?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(digest) = name.strip_suffix(".qcow2") else {
            continue;
        };
        if digest.starts_with("rw-") {
            continue;
        }
        let len = e.metadata().map_or(0, |m| m.len());
        if used.contains(digest) {
            tagged += len;
        } else {
            other += len;
        }
    }
    Ok((ids, tagged, other))
}

/// Bytes of the containers' writable overlays (`layers/rw-*.qcow2`) and logs.
fn container_bytes(store: &images::Store) -> anyhow::Result<u64> {
    let mut n = 0;
    for e in std::fs::read_dir(store.layers_dir())?.flatten() {
        if e.file_name().to_string_lossy().starts_with("rw-") {
            n += e.metadata().map_or(0, |m| m.len());
        }
    }
    for s in store.run_states()? {
        n += std::fs::metadata(store.run_log(&s.id)).map_or(0, |m| m.len());
    }
    Ok(n)
}

/// `wsh system df`.
pub fn df() -> anyhow::Result<i32> {
    let store = images::open_store()?;
    images::base::ensure(&store)?;
    let (ids, tagged, other) = image_use(&store)?;
    let states = store.run_states()?;
    let running: Vec<_> = states
        .iter()
        .filter(|s| s.status != Status::Exited)
        .collect();
    let active: BTreeSet<&str> = running.iter().map(|s| s.image_id.as_str()).collect();
    println!(
        "{:<16} {:>6} {:>8} {:>12}",
        "TYPE", "TOTAL", "ACTIVE", "SIZE"
    );
    println!(
        "{:<16} {:>6} {:>8} {:>12}",
        "Images",
        ids.len(),
        ids.iter().filter(|i| active.contains(i.as_str())).count(),
        human_size(tagged)
    );
    println!(
        "{:<16} {:>6} {:>8} {:>12}",
        "Containers",
        states.len(),
        running.len(),
        human_size(container_bytes(&store)?)
    );
    // Untagged layers: the build cache's and intermediate stages' (what `prune` may take).
    println!(
        "{:<16} {:>6} {:>8} {:>12}",
        "Build Cache",
        "-",
        "0",
        human_size(other)
    );
    Ok(0)
}

/// `wsh info`.
pub fn info() -> anyhow::Result<i32> {
    let dirs = images::Dirs::locate()?;
    let store = images::Store::open(&dirs)?;
    images::base::ensure(&store)?;
    let (ids, tagged, other) = image_use(&store)?;
    let states = store.run_states()?;
    let running = states.iter().filter(|s| s.status != Status::Exited).count();
    println!("Containers: {}", states.len());
    println!(" Running: {running}");
    println!(" Exited: {}", states.len() - running);
    println!("Images: {}", ids.len());
    println!("Layers size: {}", human_size(tagged + other));
    println!(
        "Server Version: none (no daemon: wsh {})",
        env!("CARGO_PKG_VERSION")
    );
    println!("Storage Driver: qcow2 layers over ext4 (in-process)");
    println!("Data Root: {}", dirs.data.display());
    println!("Module Cache: {}", dirs.cache.display());
    println!("Registry: none (wsh load / wsh import bring images in)");
    Ok(0)
}

/// `wsh builder prune`: drops the build cache index, then the images and layers only
/// it kept (tagged images and running containers keep theirs); says what was freed.
pub fn builder_prune() -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let lock = store.lock()?;
    let layer_sizes: std::collections::BTreeMap<String, u64> =
        std::fs::read_dir(store.layers_dir())?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let digest = name.strip_suffix(".qcow2")?.to_string();
                Some((digest, e.metadata().ok()?.len()))
            })
            .collect();
    let cache = store.data_dir().join(images::BUILD_CACHE_FILE);
    let entries = std::fs::read(&cache)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&b).ok())
        .map_or(0, |m| m.len());
    match std::fs::remove_file(&cache) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).context("cannot remove the build cache"),
    }
    let removed = store.prune(&lock)?;
    let freed: u64 = removed.iter().filter_map(|d| layer_sizes.get(d)).sum();
    println!("Deleted build cache objects:");
    for d in &removed {
        println!("{d}");
    }
    println!();
    println!("Build cache entries dropped: {entries}");
    println!("Total reclaimed space: {}", human_size(freed));
    Ok(0)
}
