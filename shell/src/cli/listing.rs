//! The image-management subcommands (images, rmi, inspect, history, tag, export, import,
//! mount): each calls the `images` crate, prints its result and returns the exit status.

use std::path::Path;

use images::{Store, now_secs};

/// Opens the store and makes sure the `base` image exists (so it is always listed).
fn store_with_base() -> anyhow::Result<Store> {
    let store = images::open_store()?;
    images::base::ensure(&store)?;
    Ok(store)
}

/// Total size of an image's layer files.
fn layers_size(store: &Store, layers: &[String]) -> u64 {
    layers
        .iter()
        .filter_map(|l| std::fs::metadata(store.layer_path(l)).ok())
        .map(|m| m.len())
        .sum()
}

/// `wsh images`: one line per tag; `-q` the (distinct) ids; `--format` a Go template
/// per line.
pub fn images(quiet: bool, format: Option<&str>) -> anyhow::Result<i32> {
    let store = store_with_base()?;
    if quiet {
        let mut seen = std::collections::BTreeSet::new();
        for e in store.list()? {
            if seen.insert(e.id.clone()) {
                println!("{}", &e.id[..12]);
            }
        }
        return Ok(0);
    }
    if let Some(f) = format {
        for e in store.list()? {
            let (repo, tag) = e.tag.rsplit_once(':').unwrap_or((&e.tag, ""));
            let row = serde_json::json!({
                "Repository": repo,
                "Tag": tag,
                "ID": &e.id[..12],
                "CreatedSince": ago(e.config.created),
                "CreatedAt": super::format::rfc3339(e.config.created),
                "Size": human_size(layers_size(&store, &e.config.layers)),
            });
            println!("{}", super::format::render(f, &row)?);
        }
        return Ok(0);
    }
    println!(
        "{:<30} {:<14} {:<14} {:<24} {:>7} {:>10}",
        "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "LAYERS", "SIZE"
    );
    for e in store.list()? {
        let (repo, tag) = e.tag.rsplit_once(':').unwrap_or((&e.tag, ""));
        println!(
            "{:<30} {:<14} {:<14} {:<24} {:>7} {:>10}",
            repo,
            tag,
            &e.id[..12],
            ago(e.config.created),
            e.config.layers.len(),
            human_size(layers_size(&store, &e.config.layers))
        );
    }
    Ok(0)
}

/// `wsh rmi IMAGE`: removes a tag (or an id with its tags) and the layers no image uses.
pub fn rmi(name: &str) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let lock = store.lock()?;
    let (tags, layers) = store.remove_image(&lock, name)?;
    for t in tags {
        println!("Untagged: {t}");
    }
    for l in layers {
        println!("Deleted layer: {l}");
    }
    Ok(0)
}

/// `wsh inspect IMAGE`: the id, tags and config as JSON.
pub fn inspect(name: &str) -> anyhow::Result<i32> {
    let store = store_with_base()?;
    let (id, config) = store.resolve(name)?;
    let tags = store.tags_of(&id)?;
    let mut v = serde_json::to_value(&config)?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("id".into(), id.into());
        obj.insert("tags".into(), tags.into());
        let top = config
            .top_layer()
            .map(|l| store.layer_path(l).display().to_string());
        obj.insert("top_layer_file".into(), top.into());
    }
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(0)
}

/// `wsh history IMAGE`: its steps, newest first.
pub fn history(name: &str) -> anyhow::Result<i32> {
    let store = store_with_base()?;
    let (_, config) = store.resolve(name)?;
    println!(
        "{:<14} {:<24} {:>10}  CREATED BY",
        "LAYER", "CREATED", "SIZE"
    );
    for h in config.history.iter().rev() {
        let layer = h
            .layer
            .as_deref()
            .map_or("<none>", |l| &l[..12.min(l.len())]);
        println!(
            "{:<14} {:<24} {:>10}  {}",
            layer,
            ago(h.created),
            human_size(h.layer_size),
            one_line(&h.created_by)
        );
    }
    Ok(0)
}

/// `wsh tag SRC DST`.
pub fn tag(src: &str, dst: &str) -> anyhow::Result<i32> {
    let store = store_with_base()?;
    let lock = store.lock()?;
    let (id, _) = store.resolve(src)?;
    store.tag(&lock, dst, &id)?;
    Ok(0)
}

/// `wsh export IMAGE FILE.img`: the flattened layer chain as one raw ext4 image.
pub fn export(name: &str, dest: &Path) -> anyhow::Result<i32> {
    images::export(&store_with_base()?, name, dest)?;
    Ok(0)
}

/// `wsh import FILE.img|DIR NAME[:TAG]`.
pub fn import(src: &Path, name: &str) -> anyhow::Result<i32> {
    let id = images::import(&images::open_store()?, src, name)?;
    println!("{id}");
    Ok(0)
}

/// `wsh mount IMAGE MOUNTPOINT [--rw]`: prints the new image's id after a `--rw` mount
/// of a store image.
pub fn mount(image: &str, mountpoint: &Path, rw: bool) -> anyhow::Result<i32> {
    if let Some(id) = images::mount::serve(image, mountpoint, rw)? {
        println!("{id}");
    }
    Ok(0)
}

/// A history entry on one table row: newlines (a multi-line ENV value, a heredoc) and
/// other control characters shown escaped, as `\n`.
fn one_line(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '\n' => vec!['\\', 'n'],
            '\t' => vec!['\\', 't'],
            '\r' => vec!['\\', 'r'],
            c if c.is_control() => format!("\\x{:02x}", c as u32).chars().collect(),
            c => vec![c],
        })
        .collect()
}

/// "3 minutes ago" for a timestamp in seconds.
pub fn ago(secs: u64) -> String {
    let d = now_secs().saturating_sub(secs);
    let (n, unit) = match d {
        0..60 => return "less than a minute ago".into(),
        60..3600 => (d / 60, "minute"),
        3600..86400 => (d / 3600, "hour"),
        _ => (d / 86400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// Sizes as `du -h` prints them.
pub fn human_size(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}
