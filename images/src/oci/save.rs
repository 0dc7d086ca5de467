//! `wsh save`: an image as an OCI image-layout archive (`oci-layout`, `index.json`,
//! `blobs/sha256/...`) that also carries a `docker save` style `manifest.json`, so
//! `skopeo`, `umoci` and `docker load` all take it.

use std::collections::HashMap;
use std::io::{BufWriter, Write};

use anyhow::Context;
use fsimage::{Qcow2Device, Vfs};
use oci_spec::image::{
    Arch, ConfigBuilder, Descriptor, HistoryBuilder, ImageConfigurationBuilder, ImageIndexBuilder,
    ImageManifestBuilder, MediaType, Os, RootFsBuilder, Sha256Digest,
};

use super::diff::write_layer;
use super::{HashWriter, REF_NAME, rfc3339, sha256_hex};
use crate::config::{ImageConfig, normalize_ref};
use crate::store::Store;

/// What `save` wrote, for messages.
pub struct SaveReport {
    /// Layers written.
    pub layers: usize,
    /// Device nodes and sockets left out of the layers (their numbers are not stored).
    pub skipped: Vec<String>,
}

/// One layer tar, spooled to a temporary file so its digest is known before it is
/// written into the archive.
struct LayerBlob {
    file: tempfile::NamedTempFile,
    digest: String,
    size: u64,
}

/// Writes image `name` (NAME[:TAG] or id) to `out` as an OCI image-layout tar.
pub fn save(store: &Store, name: &str, out: &mut dyn Write) -> anyhow::Result<SaveReport> {
    let (id, config) = store.resolve(name)?;
    // The name the archive carries: the tag asked for, or (for an id) a tag of it.
    let tags = store.tags()?;
    let ref_name = normalize_ref(name)
        .ok()
        .filter(|k| tags.get(k) == Some(&id))
        .or_else(|| tags.iter().find(|(_, v)| **v == id).map(|(k, _)| k.clone()));

    // Each layer opened read-only, under the lock so a concurrent rmi cannot take one
    // away half-way, and checked against its digest first.
    let vfss = {
        let _lock = store.lock()?;
        store.verify_layers(&config)?;
        config
            .layers
            .iter()
            .map(|l| {
                let path = store.layer_path(l);
                let dev = Qcow2Device::open(&path, false)?;
                Vfs::open(Box::new(dev), &path, false)
                    .with_context(|| format!("cannot open layer {l}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?
    };

    let mut blobs = Vec::new();
    let mut skipped = Vec::new();
    for (i, upper) in vfss.iter().enumerate() {
        let lower = i.checked_sub(1).map(|j| &vfss[j]);
        let file = tempfile::NamedTempFile::new().context("cannot create a temporary file")?;
        let mut tar = tar::Builder::new(HashWriter::new(BufWriter::new(file.reopen()?)));
        let stats = write_layer(lower, upper, &mut tar)
            .with_context(|| format!("layer {} of {}", i + 1, vfss.len()))?;
        let (digest, size, w) = tar.into_inner()?.finish();
        w.into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()
            .context("cannot write a layer to a temporary file")?;
        skipped.extend(stats.skipped);
        blobs.push(LayerBlob { file, digest, size });
    }

    let config_json = oci_config(&config, &blobs)?;
    let config_digest = sha256_hex(&config_json);
    let layer_descs = blobs
        .iter()
        .map(|b| {
            Ok(Descriptor::new(
                MediaType::ImageLayer,
                b.size,
                sha(&b.digest)?,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(Descriptor::new(
            MediaType::ImageConfig,
            config_json.len() as u64,
            sha(&config_digest)?,
        ))
        .layers(layer_descs)
        .build()?;
    let manifest_json = canonical(&manifest)?;
    let manifest_digest = sha256_hex(&manifest_json);
    let mut mdesc = Descriptor::new(
        MediaType::ImageManifest,
        manifest_json.len() as u64,
        sha(&manifest_digest)?,
    );
    if let Some(r) = &ref_name {
        mdesc.set_annotations(Some(HashMap::from([(REF_NAME.to_string(), r.clone())])));
    }
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![mdesc])
        .build()?;
    let index_json = canonical(&index)?;
    // `docker load` reads this list; it names the same blobs.
    let docker_manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": format!("blobs/sha256/{config_digest}"),
        "RepoTags": ref_name.iter().collect::<Vec<_>>(),
        "Layers": blobs.iter().map(|b| format!("blobs/sha256/{}", b.digest)).collect::<Vec<_>>(),
    }]))?;

    let mut ar = tar::Builder::new(out);
    let mut put = |path: &str, data: &[u8]| -> anyhow::Result<()> {
        let mut h = file_header(data.len() as u64);
        ar.append_data(&mut h, path, data)
            .with_context(|| format!("cannot write {path} into the archive"))
    };
    put("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    put("index.json", &index_json)?;
    put("manifest.json", &docker_manifest)?;
    put(&format!("blobs/sha256/{config_digest}"), &config_json)?;
    put(&format!("blobs/sha256/{manifest_digest}"), &manifest_json)?;
    let mut written = std::collections::HashSet::new();
    for b in &blobs {
        // Two layers with the same changes are one blob.
        if !written.insert(&b.digest) {
            continue;
        }
        let mut h = file_header(b.size);
        let path = format!("blobs/sha256/{}", b.digest);
        ar.append_data(&mut h, &path, b.file.reopen()?)
            .with_context(|| format!("cannot write {path} into the archive"))?;
    }
    ar.into_inner()?
        .flush()
        .context("cannot write the archive")?;
    Ok(SaveReport {
        layers: blobs.len(),
        skipped,
    })
}

fn file_header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_size(size);
    h.set_mtime(0);
    h
}

fn sha(hex: &str) -> anyhow::Result<Sha256Digest> {
    hex.parse()
        .map_err(|e| anyhow::anyhow!("bad digest {hex}: {e}"))
}

/// JSON with sorted keys, so the same image saves to the same bytes.
fn canonical(v: &impl serde::Serialize) -> anyhow::Result<Vec<u8>> {
    Ok(serde_json::to_vec(&serde_json::to_value(v)?)?)
}

/// The OCI image config of `c`, whose layers became `blobs`.
fn oci_config(c: &ImageConfig, blobs: &[LayerBlob]) -> anyhow::Result<Vec<u8>> {
    let mut cfg = ConfigBuilder::default();
    let nonempty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    if let Some(v) = nonempty(&c.env) {
        cfg = cfg.env(v);
    }
    if let Some(v) = nonempty(&c.cmd) {
        cfg = cfg.cmd(v);
    }
    if let Some(v) = nonempty(&c.entrypoint) {
        cfg = cfg.entrypoint(v);
    }
    if let Some(v) = nonempty(&c.exposed_ports) {
        cfg = cfg.exposed_ports(v);
    }
    if let Some(v) = nonempty(&c.volumes) {
        cfg = cfg.volumes(v);
    }
    if !c.workdir.is_empty() {
        cfg = cfg.working_dir(c.workdir.clone());
    }
    if !c.user.is_empty() {
        cfg = cfg.user(c.user.clone());
    }
    if !c.stop_signal.is_empty() {
        cfg = cfg.stop_signal(c.stop_signal.clone());
    }
    if !c.labels.is_empty() {
        cfg = cfg.labels(c.labels.clone().into_iter().collect::<HashMap<_, _>>());
    }
    // One history entry per layer-making step, in order; metadata-only steps are
    // `empty_layer`. A history that does not match the layers one to one (which
    // docker refuses) is replaced by one entry per layer.
    let mut history: Vec<_> = c
        .history
        .iter()
        .map(|h| {
            let mut b = HistoryBuilder::default()
                .created(rfc3339(h.created))
                .created_by(h.created_by.clone());
            if h.layer.is_none() {
                b = b.empty_layer(true);
            }
            b.build()
        })
        .collect::<Result<_, _>>()?;
    let with_layers: Vec<_> = c.history.iter().filter_map(|h| h.layer.as_ref()).collect();
    if with_layers.len() != c.layers.len()
        || with_layers.iter().zip(&c.layers).any(|(a, b)| *a != b)
    {
        history = c
            .layers
            .iter()
            .map(|l| {
                HistoryBuilder::default()
                    .created(rfc3339(c.created))
                    .created_by(format!("wsh layer {}", &l[..12.min(l.len())]))
                    .build()
            })
            .collect::<Result<_, _>>()?;
    }
    let rootfs = RootFsBuilder::default()
        .typ("layers")
        .diff_ids(
            blobs
                .iter()
                .map(|b| format!("sha256:{}", b.digest))
                .collect::<Vec<_>>(),
        )
        .build()?;
    // wsh's programs are WebAssembly modules, in a Linux-style tree (owners, modes,
    // /etc/passwd); `linux` is also the only OS umoci unpacks.
    let image = ImageConfigurationBuilder::default()
        .created(rfc3339(c.created))
        .architecture(Arch::Wasm)
        .os(Os::Linux)
        .config(cfg.build()?)
        .rootfs(rootfs)
        .history(history)
        .build()?;
    canonical(&image)
}
