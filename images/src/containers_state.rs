//! Detached containers (`wsh run -d`) without a daemon: each has a directory
//! `run/<id>/` in the store with `state.json` (what it runs, which supervising wsh
//! process runs it, how it ended) and `log` (its stdout and stderr).
//!
//! The supervisor is an ordinary wsh process; nothing else keeps the state. A
//! supervisor that died without saying so (`kill -9`) is noticed by whoever reads the
//! state next: its pid is gone, or belongs to a process that started later (pid
//! reuse), so the container is reported exited with status 137 and its overlay is
//! removed with the other dead processes' ([`Store::open`]).

use std::os::fd::AsRawFd;
use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::config::now_secs;
use crate::store::{Store, write_json};

/// Where a detached container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Registered; its supervisor is starting.
    Created,
    /// Its supervisor runs the command.
    Running,
    /// The command ended (or its supervisor was killed).
    Exited,
}

/// The saved state of one detached container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunState {
    /// 64 hex digits (the short form is the first 12).
    pub id: String,
    /// `--name`, or a name made from the id.
    pub name: String,
    /// The image as given on the command line.
    pub image: String,
    /// The resolved image id.
    pub image_id: String,
    /// The command line shown by `ps` (ENTRYPOINT + CMD as run).
    pub command: String,
    /// The `wsh` arguments the supervisor re-reads (the original command line).
    pub argv: Vec<String>,
    /// Registration time (seconds since the Unix epoch).
    pub created: u64,
    /// The supervisor's pid (0 until it starts).
    pub pid: u32,
    /// The supervisor's start time in clock ticks since boot (/proc/PID/stat field
    /// 22), which tells it apart from a later process given the same pid.
    pub pid_start: u64,
    /// Lifecycle.
    pub status: Status,
    /// Exit status once exited.
    pub exit_code: Option<i32>,
    /// When it exited.
    pub finished: Option<u64>,
    /// Why it exited, when it was not the command's own end ("killed", "stopped").
    #[serde(default)]
    pub note: String,
    /// The writable overlay (a [`crate::ContainerRecord`] id) holding the container's
    /// files, kept from run to run (`start`) until `rm`.
    #[serde(default)]
    pub overlay: Option<String>,
    /// The published ports of the current run: (guest port, host address).
    #[serde(default)]
    pub ports: Vec<(u16, String)>,
    /// When the current run was started (`start` of an exited container; else `created`).
    #[serde(default)]
    pub started: Option<u64>,
}

/// A live process's start time (clock ticks since boot); None if it is gone or a
/// zombie (dead, waiting for a parent that may never reap it).
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    if matches!(fields.next(), Some("Z" | "X" | "x")) {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

impl RunState {
    /// Whether its supervisor is still the live process that registered.
    pub fn supervisor_alive(&self) -> bool {
        self.pid != 0 && process_start(self.pid) == Some(self.pid_start)
    }

    /// The first 12 digits of the id.
    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }
}

/// A new random 64-hex-digit container id.
pub fn new_id() -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(crate::store::random_id());
    let mut buf = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut buf);
    }
    h.update(buf);
    hex::encode(h.finalize())
}

/// Holds `run/<id>/lock` (flock) while a state is read, changed and written.
struct StateLock {
    _file: std::fs::File,
}

impl Store {
    /// The directory of the detached containers.
    pub fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    /// The log file (stdout and stderr) of container `id`.
    pub fn run_log(&self, id: &str) -> PathBuf {
        self.run_dir().join(id).join("log")
    }

    fn state_lock(&self, id: &str) -> anyhow::Result<StateLock> {
        self.flock(id, "lock")
    }

    /// Takes container `id`'s files lock: its supervisor holds it while it has the
    /// overlay open, `cp` and `commit` of a stopped container while they use it, so
    /// that a `start` never opens the files another process is writing.
    pub fn lock_run_files(&self, id: &str) -> anyhow::Result<impl Sized + use<>> {
        self.flock(id, "files.lock")
    }

    fn flock(&self, id: &str, name: &str) -> anyhow::Result<StateLock> {
        let path = self.run_dir().join(id).join(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("no such container: {id}"))?;
        // SAFETY: a valid fd; the lock goes with the file.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error()).context("cannot lock a container");
        }
        Ok(StateLock { _file: file })
    }

    /// Registers a new detached container (its name must be free).
    pub fn register_run(&self, state: &RunState) -> anyhow::Result<()> {
        // The store lock makes the name check and the registration one step.
        let _lock = self.lock()?;
        if let Some(other) = self.run_states()?.iter().find(|s| s.name == state.name) {
            anyhow::bail!(
                "the container name {:?} is already in use by container {}; remove it first (wsh rm {})",
                state.name,
                other.short_id(),
                state.name
            );
        }
        let dir = self.run_dir().join(&state.id);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::File::create(dir.join("log"))?;
        write_json(&dir.join("state.json"), &serde_json::to_vec_pretty(state)?)
    }

    fn read_state(&self, id: &str) -> anyhow::Result<RunState> {
        let path = self.run_dir().join(id).join("state.json");
        let bytes = std::fs::read(&path).with_context(|| format!("no such container: {id}"))?;
        serde_json::from_slice(&bytes).with_context(|| format!("{}: damaged", path.display()))
    }

    /// Changes container `id`'s state under its lock; returns the new state.
    pub fn update_run(
        &self,
        id: &str,
        edit: impl FnOnce(&mut RunState),
    ) -> anyhow::Result<RunState> {
        let _lock = self.state_lock(id)?;
        let mut s = self.read_state(id)?;
        edit(&mut s);
        let path = self.run_dir().join(id).join("state.json");
        write_json(&path, &serde_json::to_vec_pretty(&s)?)?;
        Ok(s)
    }

    /// Container `id`'s state, with a vanished supervisor recorded as an exit (137).
    pub fn run_state(&self, id: &str) -> anyhow::Result<RunState> {
        let s = self.read_state(id)?;
        let orphan = |s: &RunState| {
            // A supervisor that never started within a minute is as dead as a killed one.
            let stale =
                s.status == Status::Created && now_secs() > s.started.unwrap_or(s.created) + 60;
            (s.status == Status::Running && !s.supervisor_alive()) || stale
        };
        if !orphan(&s) {
            return Ok(s);
        }
        self.update_run(id, |s| {
            if orphan(s) {
                s.status = Status::Exited;
                s.exit_code = Some(137);
                s.finished = Some(now_secs());
                s.note = "supervisor killed".into();
            }
        })
    }

    /// All detached containers, newest first.
    pub fn run_states(&self) -> anyhow::Result<Vec<RunState>> {
        let mut out = Vec::new();
        let dir = match std::fs::read_dir(self.run_dir()) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e).context("cannot read the containers"),
        };
        for e in dir.flatten() {
            let id = e.file_name().to_string_lossy().into_owned();
            // A directory without a state is a registration cut short: not a container.
            if let Ok(s) = self.run_state(&id) {
                out.push(s);
            }
        }
        out.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Finds a container by name, full id or unique id prefix.
    pub fn find_run(&self, key: &str) -> anyhow::Result<RunState> {
        let all = self.run_states()?;
        if let Some(s) = all.iter().find(|s| s.name == key || s.id == key) {
            return Ok(s.clone());
        }
        let hits: Vec<&RunState> = all
            .iter()
            .filter(|s| !key.is_empty() && s.id.starts_with(key))
            .collect();
        match hits.as_slice() {
            [one] => Ok((*one).clone()),
            [] => anyhow::bail!("no such container: {key}"),
            _ => anyhow::bail!("container id prefix {key} is ambiguous"),
        }
    }

    /// Deletes container `id`'s directory (its state and log) and its files.
    pub fn remove_run(&self, id: &str) -> anyhow::Result<()> {
        let overlay = self.read_state(id).ok().and_then(|s| s.overlay);
        let dir = self.run_dir().join(id);
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove {}", dir.display()))?;
        match overlay {
            Some(o) => self.remove_container(&o),
            None => Ok(()),
        }
    }

    /// The directory of container `id` (its control socket lives there).
    pub fn run_path(&self, id: &str) -> PathBuf {
        self.run_dir().join(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_start_time_is_readable_and_a_dead_pid_has_none() {
        assert!(process_start(std::process::id()).is_some());
        // Beyond pid_max (at most 2^22 on Linux).
        assert_eq!(process_start(u32::MAX - 1), None);
    }
}
