//! `wsh load`: OCI image-layout archives (skopeo's `oci-archive:`, umoci's layouts
//! tarred, `wsh save`) and `docker save` archives become images in the store.
//!
//! Everything is read and checked (digests, diff ids, every layer's tar to its end)
//! before the store is touched, so a damaged or truncated archive changes nothing.
//! Then each layer is replayed on a new overlay and sealed as a wsh layer.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use anyhow::Context;
use fsimage::Vfs;
use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType};

use super::apply::{ApplyStats, apply_entries, apply_whiteouts, components};
use super::{HashReader, REF_NAME, parse_rfc3339};
use crate::base::IMAGE_SIZE;
use crate::config::{HistoryEntry, normalize_ref};
use crate::store::{Store, flush_device};

/// One image loaded.
pub struct LoadReport {
    /// The NAME:TAG it got.
    pub name: String,
    /// Its image id.
    pub id: String,
    /// How many of its files are ELF programs or libraries.
    pub elf: u64,
    /// One of them.
    pub elf_example: Option<String>,
    /// Device nodes, fifos and sockets left out.
    pub skipped: Vec<String>,
}

/// The member files of the outer tar: where each one's bytes are.
struct Archive {
    file: File,
    members: HashMap<String, (u64, u64)>,
}

/// How a layer blob is compressed.
#[derive(Clone, Copy)]
enum Compression {
    None,
    Gzip,
}

/// One layer to replay.
struct Layer {
    member: String,
    compression: Compression,
    /// sha256 (hex) of the uncompressed tar, from the config's `rootfs.diff_ids`.
    diff_id: String,
    /// sha256 (hex) of the blob as stored, when the archive says it (OCI descriptors).
    digest: Option<String>,
    /// Bytes and entries of the tar, found by the check.
    bytes: u64,
    entries: u64,
}

/// One image to load.
struct Plan {
    name: Option<String>,
    config: ImageConfiguration,
    layers: Vec<Layer>,
}

fn member_name(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let s = s.trim_start_matches("./").trim_start_matches('/');
    s.to_string()
}

impl Archive {
    fn open(path: &Path) -> anyhow::Result<Archive> {
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let len = file.metadata()?.len();
        let mut members = HashMap::new();
        let mut links = Vec::new();
        let mut ar = tar::Archive::new(BufReader::new(file.try_clone()?));
        let bad = || {
            format!(
                "{}: not a readable tar archive (damaged or truncated?)",
                path.display()
            )
        };
        for entry in ar.entries_with_seek().with_context(bad)? {
            let entry = entry.with_context(bad)?;
            let name = member_name(&entry.path_bytes());
            let kind = entry.header().entry_type();
            if kind.is_file() {
                let (at, size) = (entry.raw_file_position(), entry.size());
                if at + size > len {
                    anyhow::bail!(
                        "{}: truncated archive ({name} is cut short)",
                        path.display()
                    );
                }
                members.insert(name, (at, size));
            } else if kind.is_symlink() || kind.is_hard_link() {
                // Older `docker save` links identical layers to one another.
                if let Some(target) = entry.link_name_bytes() {
                    links.push((name, target.into_owned(), kind.is_symlink()));
                }
            }
        }
        for (name, target, relative) in links {
            let t = member_name(&target);
            let resolved = match (relative, name.rsplit_once('/')) {
                (true, Some((dir, _))) => normalize(&format!("{dir}/{t}")),
                _ => normalize(&t),
            };
            if let Some(&m) = members.get(&resolved) {
                members.insert(name, m);
            }
        }
        if members.is_empty() {
            anyhow::bail!("{}: not an image archive (no files in it)", path.display());
        }
        Ok(Archive { file, members })
    }

    fn has(&self, name: &str) -> bool {
        self.members.contains_key(name)
    }

    /// A member's bytes as a reader.
    fn open_member(&self, name: &str) -> anyhow::Result<impl Read + use<>> {
        let &(at, size) = self
            .members
            .get(name)
            .with_context(|| format!("the archive has no {name} (incomplete or truncated?)"))?;
        let mut f = self.file.try_clone()?;
        f.seek(SeekFrom::Start(at))?;
        Ok(BufReader::new(f.take(size)))
    }

    fn read(&self, name: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
        let &(_, size) = self
            .members
            .get(name)
            .with_context(|| format!("the archive has no {name} (incomplete or truncated?)"))?;
        if size > limit {
            anyhow::bail!("{name}: {size} bytes, too large for a manifest or config");
        }
        let mut v = Vec::new();
        self.open_member(name)?.read_to_end(&mut v)?;
        Ok(v)
    }

    /// A blob of an OCI layout, checked against its descriptor's digest.
    fn blob(&self, d: &Descriptor) -> anyhow::Result<Vec<u8>> {
        let hex = sha_hex(d.digest().as_ref())?;
        let data = self.read(&format!("blobs/sha256/{hex}"), 64 << 20)?;
        if super::sha256_hex(&data) != hex {
            anyhow::bail!(
                "blobs/sha256/{hex}: content does not match its digest (damaged archive)"
            );
        }
        Ok(data)
    }
}

/// `a/./b/../c` as `a/c`.
fn normalize(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.join("/")
}

/// `sha256:HEX` as HEX; other algorithms are refused.
fn sha_hex(d: &str) -> anyhow::Result<String> {
    let hex = d
        .strip_prefix("sha256:")
        .with_context(|| format!("unsupported digest {d} (only sha256 is)"))?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        anyhow::bail!("malformed digest {d}");
    }
    Ok(hex.to_ascii_lowercase())
}

/// A reference as the store keys it: registry prefixes of Docker Hub dropped
/// (`docker.io/library/alpine:3.19` is `alpine:3.19`), digests dropped.
fn short_ref(r: &str) -> Option<String> {
    let r = r.split('@').next()?;
    let r = r
        .strip_prefix("docker.io/library/")
        .or_else(|| r.strip_prefix("docker.io/"))
        .or_else(|| r.strip_prefix("localhost/"))
        .unwrap_or(r);
    normalize_ref(r).ok()
}

/// The images of an OCI layout archive.
fn oci_plans(ar: &Archive) -> anyhow::Result<Vec<Plan>> {
    let index: ImageIndex = serde_json::from_slice(&ar.read("index.json", 16 << 20)?)
        .context("index.json: not an OCI image index")?;
    let mut plans = Vec::new();
    for d in index.manifests() {
        let name = d.annotations().as_ref().and_then(|a| {
            a.get("io.containerd.image.name")
                .or_else(|| a.get(REF_NAME))
                .cloned()
        });
        let mut desc = d.clone();
        // A multi-platform index: wsh runs none of them natively, so any will do for
        // their files; take linux/amd64 if there, else the first.
        let mt = desc.media_type().to_string();
        if *desc.media_type() == MediaType::ImageIndex || mt.contains("manifest.list") {
            let inner: ImageIndex = serde_json::from_slice(&ar.blob(&desc)?)
                .context("a nested index is not an OCI image index")?;
            let pick = inner
                .manifests()
                .iter()
                .find(|m| {
                    m.platform()
                        .as_ref()
                        .is_some_and(|p| p.architecture().to_string() == "amd64")
                })
                .or_else(|| inner.manifests().first())
                .context("an empty nested image index")?;
            desc = pick.clone();
        }
        let manifest: ImageManifest =
            serde_json::from_slice(&ar.blob(&desc)?).context("not an OCI image manifest")?;
        let config: ImageConfiguration = serde_json::from_slice(&ar.blob(manifest.config())?)
            .context("not an OCI image config")?;
        let diff_ids = config.rootfs().diff_ids();
        if diff_ids.len() != manifest.layers().len() {
            anyhow::bail!(
                "the manifest has {} layers, its config {}",
                manifest.layers().len(),
                diff_ids.len()
            );
        }
        let mut layers = Vec::new();
        for (l, diff) in manifest.layers().iter().zip(diff_ids) {
            let hex = sha_hex(l.digest().as_ref())?;
            let compression = match l.media_type().to_string().as_str() {
                t if t.ends_with("+zstd") || t.ends_with(".zstd") => anyhow::bail!(
                    "layer {hex} is zstd-compressed ({t}), which wsh does not read yet"
                ),
                t if t.ends_with("gzip") => Compression::Gzip,
                _ => Compression::None,
            };
            layers.push(Layer {
                member: format!("blobs/sha256/{hex}"),
                compression,
                diff_id: sha_hex(diff)?,
                digest: Some(hex),
                bytes: 0,
                entries: 0,
            });
        }
        plans.push(Plan {
            name,
            config,
            layers,
        });
    }
    Ok(plans)
}

/// One image of a `docker save` manifest.json.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// The images of a `docker save` archive.
fn docker_plans(ar: &Archive) -> anyhow::Result<Vec<Plan>> {
    let list: Vec<DockerEntry> = serde_json::from_slice(&ar.read("manifest.json", 16 << 20)?)
        .context("manifest.json: not a docker save manifest")?;
    let mut plans = Vec::new();
    for e in list {
        let config: ImageConfiguration =
            serde_json::from_slice(&ar.read(&member_name(e.config.as_bytes()), 64 << 20)?)
                .with_context(|| format!("{}: not an image config", e.config))?;
        let diff_ids = config.rootfs().diff_ids();
        if diff_ids.len() != e.layers.len() {
            anyhow::bail!(
                "manifest.json lists {} layers, the config {}",
                e.layers.len(),
                diff_ids.len()
            );
        }
        let layers = e
            .layers
            .iter()
            .zip(diff_ids)
            .map(|(l, d)| {
                Ok(Layer {
                    member: member_name(l.as_bytes()),
                    // Told apart by content when checked.
                    compression: Compression::None,
                    diff_id: sha_hex(d)?,
                    digest: None,
                    bytes: 0,
                    entries: 0,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let name = e.repo_tags.and_then(|t| t.into_iter().next());
        plans.push(Plan {
            name,
            config,
            layers,
        });
    }
    Ok(plans)
}

impl Layer {
    /// The layer's tar, decompressed.
    fn tar(&self, ar: &Archive) -> anyhow::Result<Box<dyn Read>> {
        let r = ar.open_member(&self.member)?;
        Ok(match self.compression {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
            Compression::None => Box::new(r),
        })
    }

    /// Reads the whole layer: its digests must match, its tar must be whole and stay
    /// inside the image; counts its bytes and entries.
    fn check(&mut self, ar: &Archive) -> anyhow::Result<()> {
        let mut head = [0u8; 4];
        let n = ar.open_member(&self.member)?.read(&mut head)?;
        match &head[..n] {
            [0x1f, 0x8b, ..] => self.compression = Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd] => {
                anyhow::bail!("zstd-compressed layers are not supported yet")
            }
            _ => {}
        }
        let mut blob = HashReader::new(ar.open_member(&self.member)?);
        let diff_id = {
            let raw: Box<dyn Read + '_> = match self.compression {
                Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(&mut blob)),
                Compression::None => Box::new(&mut blob),
            };
            let mut tar = HashReader::new(raw);
            {
                let mut a = tar::Archive::new(&mut tar);
                for entry in a.entries().context("not a tar")? {
                    let mut entry = entry.context("damaged or truncated")?;
                    components(&entry.path_bytes())?;
                    self.entries += 1;
                    self.bytes += entry.size().div_ceil(4096) * 4096;
                    std::io::copy(&mut entry, &mut std::io::sink())
                        .context("damaged or truncated")?;
                }
            }
            tar.finish().context("damaged or truncated")?.0
        };
        let (blob_digest, _) = blob.finish().context("damaged or truncated")?;
        if let Some(want) = &self.digest
            && *want != blob_digest
        {
            anyhow::bail!("content does not match its digest sha256:{want}");
        }
        if diff_id != self.diff_id {
            anyhow::bail!(
                "its content does not match the config's diff id sha256:{}",
                self.diff_id
            );
        }
        Ok(())
    }
}

/// Loads every image of the archive at `path`; `tag` names the (single) image instead
/// of the name the archive gives it.
pub fn load(store: &Store, path: &Path, tag: Option<&str>) -> anyhow::Result<Vec<LoadReport>> {
    let ar = Archive::open(path)?;
    let mut plans = if ar.has("index.json") && ar.has("oci-layout") {
        oci_plans(&ar)?
    } else if ar.has("manifest.json") {
        docker_plans(&ar)?
    } else {
        anyhow::bail!(
            "{}: neither an OCI image layout (index.json, oci-layout) nor a docker save archive (manifest.json)",
            path.display()
        );
    };
    if plans.is_empty() {
        anyhow::bail!("{}: the archive holds no image", path.display());
    }
    if let Some(t) = tag {
        if plans.len() > 1 {
            anyhow::bail!("the archive holds {} images; --tag names one", plans.len());
        }
        plans[0].name = Some(t.to_string());
    }
    for p in &mut plans {
        let raw = p.name.clone();
        p.name = match raw.as_deref().map(|r| (r, short_ref(r))) {
            Some((r, Some(n))) if r.contains(':') || r.contains('/') => Some(n),
            // A bare OCI ref name is only a tag: no image name to go with it.
            Some((r, _)) => anyhow::bail!(
                "the archive names its image only {r:?}; name it: wsh load -t NAME[:TAG]"
            ),
            None => anyhow::bail!(
                "the archive does not name its image; name it: wsh load -t NAME[:TAG]"
            ),
        };
        if p.layers.is_empty() {
            anyhow::bail!("image {} has no layers", p.name.as_deref().unwrap_or("?"));
        }
        let n = p.layers.len();
        for (i, l) in p.layers.iter_mut().enumerate() {
            l.check(&ar).with_context(|| {
                format!("{}: layer {} of {n} ({})", path.display(), i + 1, l.member)
            })?;
        }
    }
    plans.iter().map(|p| replay(store, &ar, p)).collect()
}

/// Makes the image of `plan`, one wsh layer per layer of the archive.
fn replay(store: &Store, ar: &Archive, plan: &Plan) -> anyhow::Result<LoadReport> {
    let name = plan.name.clone().expect("named before replay");
    let data: u64 = plan.layers.iter().map(|l| l.bytes + l.entries * 4096).sum();
    let size = ((data + data / 4 + (256 << 20)).div_ceil(1 << 20) << 20).max(IMAGE_SIZE);
    let mut stats = ApplyStats::default();
    let mut image: Option<String> = None;
    let n = plan.layers.len();
    for (i, layer) in plan.layers.iter().enumerate() {
        let (record, dev) = {
            let lock = store.lock()?;
            store.create_container(&lock, image.as_deref(), size)?
        };
        let devpath = dev.path().to_path_buf();
        let applied = (|| -> anyhow::Result<()> {
            let vfs = if image.is_none() {
                Vfs::mkfs(Box::new(dev), "wsh-load")?
            } else {
                Vfs::open(Box::new(dev), &devpath, true)?
            };
            apply_whiteouts(&vfs, layer.tar(ar)?)?;
            apply_entries(&vfs, layer.tar(ar)?, &mut stats)?;
            let mut dev = vfs.into_device()?;
            flush_device(dev.as_mut())
        })()
        .with_context(|| format!("layer {} of {n}", i + 1));
        let last = i + 1 == n;
        let made = applied.and_then(|()| {
            let lock = store.lock()?;
            let by = format!("wsh load: layer {} of {n}", i + 1);
            let id = store.commit(&lock, &record, size, &by, |c| {
                if last {
                    set_config(c, &plan.config);
                }
            })?;
            if last {
                store.tag(&lock, &name, &id)?;
            }
            Ok(id)
        });
        match made {
            Ok(id) => image = Some(id),
            Err(e) => {
                let _ = store.remove_container(&record.id);
                return Err(e);
            }
        }
    }
    Ok(LoadReport {
        name: normalize_ref(&name)?,
        id: image.expect("at least one layer"),
        elf: stats.elf,
        elf_example: stats.elf_example,
        skipped: stats.skipped,
    })
}

/// Carries the OCI config's runtime settings and history over to the wsh config `c`
/// (whose history already has one entry per layer, with its size).
fn set_config(c: &mut crate::config::ImageConfig, oci: &ImageConfiguration) {
    if let Some(cfg) = oci.config() {
        let v = |o: &Option<Vec<String>>| o.clone().unwrap_or_default();
        c.env = v(cfg.env());
        c.cmd = v(cfg.cmd());
        c.entrypoint = v(cfg.entrypoint());
        c.exposed_ports = v(cfg.exposed_ports());
        c.exposed_ports.sort();
        c.volumes = v(cfg.volumes());
        c.volumes.sort();
        c.workdir = cfg.working_dir().clone().unwrap_or_default();
        c.user = cfg.user().clone().unwrap_or_default();
        c.stop_signal = cfg.stop_signal().clone().unwrap_or_default();
        c.labels = cfg
            .labels()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect::<BTreeMap<_, _>>();
    }
    let created = parse_rfc3339(oci.created().as_ref());
    if created > 0 {
        c.created = created;
    }
    // The archive's history, its layer-making steps paired with the wsh layers in
    // order; if they do not pair up one to one, wsh's own entries stay.
    let Some(hist) = oci.history() else { return };
    let ours: Vec<HistoryEntry> = c
        .history
        .iter()
        .filter(|h| h.layer.is_some())
        .cloned()
        .collect();
    if hist
        .iter()
        .filter(|h| h.empty_layer() != Some(true))
        .count()
        != ours.len()
    {
        return;
    }
    let mut layers = ours.into_iter();
    c.history = hist
        .iter()
        .map(|h| {
            let (layer, layer_size) = if h.empty_layer() == Some(true) {
                (None, 0)
            } else {
                let l = layers.next().expect("counted above");
                (l.layer, l.layer_size)
            };
            HistoryEntry {
                created: parse_rfc3339(h.created().as_ref()),
                created_by: h.created_by().clone().unwrap_or_default(),
                layer,
                layer_size,
            }
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_lose_docker_hub_prefixes_and_digests() {
        assert_eq!(
            short_ref("docker.io/library/alpine:3.19").unwrap(),
            "alpine:3.19"
        );
        assert_eq!(short_ref("docker.io/me/app").unwrap(), "me/app:latest");
        assert_eq!(short_ref("example.org/a/b:2").unwrap(), "example.org/a/b:2");
        assert_eq!(
            short_ref(
                "alpine:3@sha256:0000000000000000000000000000000000000000000000000000000000000000"
            )
            .unwrap(),
            "alpine:3"
        );
        assert!(short_ref("a b").is_none());
    }

    #[test]
    fn member_paths_normalize() {
        assert_eq!(normalize("a/./b/../c"), "a/c");
        assert_eq!(member_name(b"./blobs/sha256/x"), "blobs/sha256/x");
        assert!(sha_hex("sha512:00").is_err());
        assert!(sha_hex("sha256:zz").is_err());
    }
}
