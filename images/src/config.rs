//! Image configurations as stored (serde JSON) and image references (`NAME[:TAG]`).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One image: its layer chain and how containers of it start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// Layer digests (sha256 of the qcow2 file), bottom first; the last one is the top.
    pub layers: Vec<String>,
    /// Size in bytes of the block device the layers describe.
    pub size: u64,
    /// Environment of processes started in containers (`K=V`).
    #[serde(default)]
    pub env: Vec<String>,
    /// Working directory inside the image.
    #[serde(default)]
    pub workdir: String,
    /// Default command.
    #[serde(default)]
    pub cmd: Vec<String>,
    /// Entrypoint prepended to the command.
    #[serde(default)]
    pub entrypoint: Vec<String>,
    /// Exposed ports (`80/tcp`).
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    /// Free-form labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The user commands run as (`USER`, enforced by the runtime). Docker's Config.User.
    #[serde(default)]
    pub user: String,
    /// Paths declared as volumes (`VOLUME`).
    #[serde(default)]
    pub volumes: Vec<String>,
    /// The signal that stops a container (`STOPSIGNAL`).
    #[serde(default)]
    pub stop_signal: String,
    /// The health check (`HEALTHCHECK`): its options and command; `NONE` disables an inherited one.
    #[serde(default)]
    pub healthcheck: Option<Healthcheck>,
    /// The shell of shell-form RUN, CMD and ENTRYPOINT (`SHELL`, Docker's Config.Shell);
    /// empty means Docker's default, `["/bin/sh", "-c"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shell: Vec<String>,
    /// Instructions a build `FROM` this image runs right after its FROM (`ONBUILD`,
    /// Docker's Config.OnBuild), in order; not passed on to that build's image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_build: Vec<String>,
    /// How the image came to be, oldest first.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// Creation time (seconds since the Unix epoch).
    pub created: u64,
}

/// A recorded `HEALTHCHECK`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Healthcheck {
    /// `--interval=30s` style options, as given.
    pub options: BTreeMap<String, String>,
    /// The check as Docker records it: `["CMD", prog, args...]` (exec form),
    /// `["CMD-SHELL", text]` (shell form) or `["NONE"]` (disables an inherited check).
    pub test: Vec<String>,
}

/// One step of an image's history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When (seconds since the Unix epoch).
    pub created: u64,
    /// What made it (a Balenafile line, `import DIR`, ...).
    pub created_by: String,
    /// The layer it added, if any (metadata-only steps add none).
    #[serde(default)]
    pub layer: Option<String>,
    /// Size in bytes of that layer's file.
    #[serde(default)]
    pub layer_size: u64,
}

impl ImageConfig {
    /// The image id: sha256 of the canonical JSON text of the config.
    pub fn id(&self) -> String {
        hex::encode(Sha256::digest(self.to_json()))
    }

    /// The canonical JSON text (what is stored and hashed).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("an ImageConfig always serializes")
    }

    /// The shell of shell-form commands: [`ImageConfig::shell`] or `/bin/sh -c`.
    pub fn shell_or_default(&self) -> Vec<String> {
        if self.shell.is_empty() {
            vec!["/bin/sh".into(), "-c".into()]
        } else {
            self.shell.clone()
        }
    }

    /// The top layer's digest.
    pub fn top_layer(&self) -> Option<&str> {
        self.layers.last().map(String::as_str)
    }
}

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `NAME[:TAG]` with the tag defaulting to `latest`: the key of the tags table.
pub fn normalize_ref(name: &str) -> anyhow::Result<String> {
    let (repo, tag) = match name.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => (name, "latest"),
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
    };
    if !ok(repo) || !ok(tag) || repo.starts_with(['.', '-', '/']) {
        anyhow::bail!("invalid image name {name:?} (expected NAME[:TAG])");
    }
    Ok(format!("{repo}:{tag}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_get_latest() {
        assert_eq!(normalize_ref("base").unwrap(), "base:latest");
        assert_eq!(normalize_ref("a/b:v1").unwrap(), "a/b:v1");
        assert!(normalize_ref("../x").is_err());
        assert!(normalize_ref("a b").is_err());
        assert!(normalize_ref("x:").is_err());
    }

    #[test]
    fn id_follows_content() {
        let mut c = ImageConfig::default();
        let a = c.id();
        c.cmd.push("sh".into());
        assert_ne!(a, c.id());
        let back: ImageConfig = serde_json::from_slice(&c.to_json()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn configs_without_newer_fields_still_read_and_keep_their_id() {
        // A config as wsh wrote it before SHELL and ONBUILD were recorded.
        let old = br#"{"layers":["a"],"size":1,"env":[],"workdir":"/","cmd":[],"entrypoint":[],
            "exposed_ports":[],"labels":{},"history":[],"created":5}"#;
        let c: ImageConfig = serde_json::from_slice(old).unwrap();
        assert!(c.shell.is_empty() && c.on_build.is_empty());
        assert_eq!(c.shell_or_default(), ["/bin/sh", "-c"]);
        // Empty new fields are not written, so the ids of existing images stay.
        let text = String::from_utf8(c.to_json()).unwrap();
        assert!(
            !text.contains("shell") && !text.contains("on_build"),
            "{text}"
        );
    }
}
