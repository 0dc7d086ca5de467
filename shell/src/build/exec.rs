//! Running a parsed Balenafile: stages, the cache, and each instruction's effect
//! on the image (metadata steps here, file-system steps in [`super::steps`]).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;

use super::cache::{self, Cache};
use super::context::Context;
use super::output::Progress;
use super::parse::{Balenafile, CmdForm, Instr, Step};
use super::{BuildError, Options, steps, vars};
use images::{Dirs, HistoryEntry, ImageConfig, Store, now_secs};

/// Per-stage state: where the stage is and what its instructions see.
pub(super) struct Stage {
    /// The current image id.
    pub id: String,
    /// Its config.
    pub config: ImageConfig,
    /// ARGs declared in this stage: name → value (None: declared without a value).
    pub args: BTreeMap<String, Option<String>>,
    /// Whether CMD was set in this stage (ENTRYPOINT then keeps it).
    pub cmd_set: bool,
}

impl Stage {
    /// The value of `name` for substitution: ENV wins over ARG, as in Docker.
    pub fn lookup(&self, name: &str) -> Option<String> {
        self.env_value(name)
            .or_else(|| self.args.get(name).cloned().flatten())
    }

    fn env_value(&self, name: &str) -> Option<String> {
        self.config.env.iter().rev().find_map(|kv| {
            kv.strip_prefix(name)
                .and_then(|r| r.strip_prefix('='))
                .map(str::to_string)
        })
    }

    /// The ARGs with values, sorted (part of every cache key, and RUN's environment).
    pub fn arg_values(&self) -> Vec<(String, String)> {
        self.args
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect()
    }
}

/// A build in progress.
pub(super) struct Builder<'a> {
    /// The Balenafile's name as given (for `FILE:LINE:` errors).
    pub file: String,
    /// The parsed Balenafile.
    pub bf: &'a Balenafile,
    /// The build context.
    pub ctx: Context,
    /// Store and cache directories.
    pub dirs: Dirs,
    /// The image store.
    pub store: Store,
    /// The build cache index.
    pub cache: Cache,
    /// `--no-cache`: run every step (results are still recorded).
    pub no_cache: bool,
    /// `--build-arg` values.
    pub build_args: BTreeMap<String, String>,
    /// Build args some ARG declared (the rest draw a warning).
    pub used_args: BTreeSet<String>,
    /// Global ARGs (before the first FROM) with their values.
    pub globals: BTreeMap<String, Option<String>>,
    /// Finished stages: (name, final image id).
    pub done: Vec<(Option<String>, String)>,
    /// The progress display.
    pub progress: Progress,
}

impl Builder<'_> {
    /// A `FILE:LINE:` error for `step`.
    pub fn err(&self, line: usize, text: &str, msg: impl Into<String>) -> BuildError {
        BuildError::new(
            &self.file,
            line,
            msg.into(),
            super::parse::line_text(text, 1),
        )
    }

    /// Builds every stage; returns the last stage's image id.
    pub fn run(&mut self) -> Result<String, BuildError> {
        // Global ARGs: visible to FROM lines (and to stages that redeclare them).
        for step in &self.bf.global_args {
            let Instr::Arg(text) = &step.instr else {
                continue;
            };
            let globals = self.globals.clone();
            let look = |n: &str| globals.get(n).cloned().flatten();
            let decls = arg_decls(text, self.bf.escape, &look)
                .map_err(|m| self.err(step.line, &step.text, m))?;
            for (name, default) in decls {
                let v = self.build_args.get(&name).cloned().or(default);
                self.used_args.insert(name.clone());
                self.globals.insert(name, v);
            }
        }
        let multi = self.bf.stages.len() > 1;
        let mut last = String::new();
        for (si, stage) in self.bf.stages.iter().enumerate() {
            let total = stage.steps.len() + 1;
            let label = |n: usize| match (&stage.name, multi) {
                (Some(name), true) => format!("[{name} {n}/{total}]"),
                (None, true) => format!("[stage-{si} {n}/{total}]"),
                _ => format!("[{n}/{total}]"),
            };
            let globals = self.globals.clone();
            let look = |n: &str| globals.get(n).cloned().flatten();
            let image = vars::word(&stage.image, self.bf.escape, &look)
                .map_err(|m| self.err(stage.line, &stage.text, m))?;
            self.progress
                .start(&label(1), &format!("FROM {image}"), true);
            let from = self
                .base_image(&image)
                .map_err(|e| self.err(stage.line, &stage.text, format!("{e:#}")));
            self.progress.done(from.is_ok());
            let (id, config) = from?;
            let mut st = Stage {
                id,
                config,
                args: BTreeMap::new(),
                cmd_set: false,
            };
            // The base image's ONBUILD triggers run first, as part of FROM (their
            // errors name the FROM line), and are not passed on to this image.
            if !st.config.on_build.is_empty() {
                let triggers = st
                    .config
                    .on_build
                    .iter()
                    .map(|t| super::parse::parse_trigger(&self.file, stage.line, t))
                    .collect::<Result<Vec<_>, _>>()?;
                self.clear_triggers(&mut st)
                    .map_err(|e| self.err(stage.line, &stage.text, format!("{e:#}")))?;
                for step in &triggers {
                    self.step(&mut st, step, &label(1))?;
                }
            }
            for (i, step) in stage.steps.iter().enumerate() {
                self.step(&mut st, step, &label(i + 2))?;
            }
            self.done.push((stage.name.clone(), st.id.clone()));
            last = st.id;
        }
        if let Ok(lock) = self.store.lock() {
            let _ = self.cache.save(&lock);
        }
        Ok(last)
    }

    /// The stage's base without its ONBUILD triggers (Docker passes them to direct
    /// children only): the same layers and history, a config of its own, kept by the cache.
    fn clear_triggers(&mut self, st: &mut Stage) -> anyhow::Result<()> {
        let key = cache::key(&st.id, "ONBUILD triggers consumed", &[], "");
        let mut config = st.config.clone();
        config.on_build.clear();
        let id = {
            let lock = self.store.lock()?;
            self.store.put_config(&lock, &config)?
        };
        self.cache.put(key, id.clone());
        st.id = id;
        st.config = config;
        Ok(())
    }

    /// The image a FROM names: an earlier stage, `scratch`, or an image in the store.
    fn base_image(&mut self, image: &str) -> anyhow::Result<(String, ImageConfig)> {
        let lower = image.to_lowercase();
        if let Some((_, id)) = self
            .done
            .iter()
            .rev()
            .find(|(n, _)| n.as_deref() == Some(lower.as_str()))
        {
            return Ok((id.clone(), self.store.config(id)?));
        }
        if lower == "scratch" {
            let id = steps::scratch_image(self)?;
            return Ok((id.clone(), self.store.config(&id)?));
        }
        if images::normalize_ref(image).ok().as_deref() == Some(images::base::BASE_TAG) {
            images::base::ensure(&self.store)?;
        }
        self.store.resolve(image)
    }

    /// Runs (or finds in the cache) one instruction.
    fn step(&mut self, st: &mut Stage, step: &Step, label: &str) -> Result<(), BuildError> {
        let e = |m: String| self.err(step.line, &step.text, m);
        if matches!(step.instr, Instr::Cmd(_)) {
            st.cmd_set = true;
        }
        // ARG only changes what later steps see; it is not an image step.
        if let Instr::Arg(text) = &step.instr {
            let look = |n: &str| st.lookup(n);
            for (name, default) in arg_decls(text, self.bf.escape, &look).map_err(e)? {
                let v = self
                    .build_args
                    .get(&name)
                    .cloned()
                    .or(default)
                    .or_else(|| self.globals.get(&name).cloned().flatten());
                self.used_args.insert(name.clone());
                st.args.insert(name, v);
            }
            self.progress.note(label, &step.text);
            return Ok(());
        }
        let content =
            steps::content_hash(self, st, step).map_err(|m| self.err(step.line, &step.text, m))?;
        let key = cache::key(&st.id, &step.text, &st.arg_values(), &content);
        if !self.no_cache
            && let Some(id) = self.cache.get(&key).map(str::to_string)
            && let Ok(config) = self.store.config(&id)
            && config
                .layers
                .iter()
                .all(|l| self.store.layer_path(l).exists())
        {
            self.progress.cached(label, &step.text);
            st.id = id;
            st.config = config;
            return Ok(());
        }
        let quiet = !matches!(step.instr, Instr::Run(_));
        self.progress.start(label, &step.text, quiet);
        let made = match &step.instr {
            Instr::Run(form) => steps::run(self, st, step, form),
            Instr::Copy(args) => steps::copy(self, st, step, args),
            Instr::Workdir(_) => steps::workdir(self, st, step),
            _ => self.metadata(st, step),
        };
        self.progress.done(made.is_ok());
        let id = made?;
        st.config = self
            .store
            .config(&id)
            .map_err(|x| self.err(step.line, &step.text, format!("{x:#}")))?;
        st.id = id.clone();
        self.cache.put(key, id);
        Ok(())
    }

    /// A step that changes only the config: a new image with the same layers.
    fn metadata(&self, st: &Stage, step: &Step) -> Result<String, BuildError> {
        let e = |m: String| self.err(step.line, &step.text, m);
        let esc = self.bf.escape;
        let look = |n: &str| st.lookup(n);
        let mut c = st.config.clone();
        match &step.instr {
            Instr::Env(text) => {
                for (k, v) in vars::pairs(text, esc, &look).map_err(e)? {
                    set_env(&mut c.env, &k, &v);
                }
            }
            Instr::Label(text) => {
                for (k, v) in vars::pairs(text, esc, &look).map_err(e)? {
                    c.labels.insert(k, v);
                }
            }
            Instr::Maintainer(name) => {
                c.labels.insert("maintainer".into(), name.clone());
            }
            Instr::Expose(ports) => {
                for p in ports {
                    let p = vars::word(p, esc, &look).map_err(e)?;
                    let norm = expose_port(&p).map_err(e)?;
                    if !c.exposed_ports.contains(&norm) {
                        c.exposed_ports.push(norm);
                    }
                }
            }
            Instr::Cmd(form) => c.cmd = docker_argv(form, &c.shell_or_default()),
            Instr::Entrypoint(form) => {
                c.entrypoint = docker_argv(form, &c.shell_or_default());
                // Docker: an ENTRYPOINT resets a CMD inherited from the base image.
                if !st.cmd_set {
                    c.cmd.clear();
                }
            }
            Instr::User(u) => {
                let u = vars::word(u, esc, &look).map_err(e)?;
                if u.is_empty() || u.contains(char::is_whitespace) {
                    return Err(e(format!(
                        "USER {u:?}: expected USER NAME[:GROUP] or UID[:GID]"
                    )));
                }
                c.user = u;
            }
            Instr::Stopsignal(s) => {
                let s = vars::word(s, esc, &look).map_err(e)?;
                signal_number(&s)
                    .ok_or_else(|| e(format!("STOPSIGNAL {s}: not a signal name or number")))?;
                c.stop_signal = s;
            }
            Instr::Volume(vs) => {
                for v in vs {
                    let v = vars::word(v, esc, &look).map_err(e)?;
                    if v.is_empty() {
                        return Err(e("VOLUME with an empty path".into()));
                    }
                    if !c.volumes.contains(&v) {
                        c.volumes.push(v);
                    }
                }
            }
            Instr::Healthcheck(h) => {
                for (k, v) in h.iter().flat_map(|(opts, _)| opts) {
                    let ok = match k.as_str() {
                        "retries" => v.parse::<u32>().is_ok(),
                        _ => is_duration(v),
                    };
                    if !ok {
                        return Err(e(format!(
                            "HEALTHCHECK --{k}={v}: expected {}",
                            if k == "retries" {
                                "a number"
                            } else {
                                "a duration such as 30s or 1m30s"
                            }
                        )));
                    }
                }
                c.healthcheck = Some(match h {
                    None => images::Healthcheck {
                        options: Default::default(),
                        test: vec!["NONE".into()],
                    },
                    Some((opts, form)) => images::Healthcheck {
                        options: opts.iter().cloned().collect(),
                        test: match form {
                            CmdForm::Exec(v) => std::iter::once("CMD".to_string())
                                .chain(v.iter().cloned())
                                .collect(),
                            CmdForm::Shell(t) => vec!["CMD-SHELL".into(), t.clone()],
                        },
                    },
                });
            }
            Instr::Shell(argv) => c.shell = argv.clone(),
            Instr::Onbuild(trigger) => c.on_build.push(trigger.clone()),
            _ => {
                return Err(e(format!(
                    "{} is not a metadata instruction",
                    step.instr.keyword()
                )));
            }
        }
        let now = now_secs();
        c.history.push(HistoryEntry {
            created: now,
            created_by: step.text.clone(),
            layer: None,
            layer_size: 0,
        });
        c.created = now;
        let store_err = |x: anyhow::Error| self.err(step.line, &step.text, format!("{x:#}"));
        let lock = self.store.lock().map_err(store_err)?;
        self.store.put_config(&lock, &c).map_err(store_err)
    }

    /// Tags the built image.
    pub fn tag(&self, id: &str, tags: &[String]) -> anyhow::Result<()> {
        if tags.is_empty() {
            return Ok(());
        }
        let lock = self.store.lock()?;
        for t in tags {
            self.store.tag(&lock, t, id)?;
        }
        Ok(())
    }
}

/// Sets `K=V` in an env list, replacing an earlier K.
pub(super) fn set_env(env: &mut Vec<String>, k: &str, v: &str) {
    env.retain(|kv| kv.split_once('=').map(|(a, _)| a) != Some(k));
    env.push(format!("{k}={v}"));
}

/// `ARG name[=default] ...` → declarations (defaults substituted).
fn arg_decls(
    text: &str,
    esc: char,
    look: vars::Lookup,
) -> Result<Vec<(String, Option<String>)>, String> {
    let words = vars::words(text, esc, look)?;
    if words.is_empty() {
        return Err("ARG requires at least one argument".into());
    }
    words
        .into_iter()
        .map(|w| {
            let (name, default) = match w.split_once('=') {
                Some((n, d)) => (n.to_string(), Some(d.to_string())),
                None => (w, None),
            };
            let ok = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if ok {
                Ok((name, default))
            } else {
                Err(format!("ARG {name:?}: not a valid name"))
            }
        })
        .collect()
}

/// How Docker stores CMD/ENTRYPOINT: exec form as is, shell form as the image's
/// shell (`SHELL`, by default `/bin/sh -c`) followed by the text.
pub(super) fn docker_argv(form: &CmdForm, shell: &[String]) -> Vec<String> {
    match form {
        CmdForm::Exec(v) => v.clone(),
        CmdForm::Shell(s) => shell.iter().cloned().chain([s.clone()]).collect(),
    }
}

/// `80`, `80/tcp`, `53/udp`, `8000-8010` → Docker's `PORT[/PROTO]` key (tcp default).
fn expose_port(p: &str) -> Result<String, String> {
    let (port, proto) = p.split_once('/').unwrap_or((p, "tcp"));
    let proto = proto.to_lowercase();
    let valid = |s: &str| s.parse::<u16>().is_ok_and(|n| n > 0);
    let ok = match port.split_once('-') {
        Some((a, b)) => valid(a) && valid(b),
        None => valid(port),
    };
    if !ok || !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!(
            "EXPOSE {p}: invalid port (expected PORT[/tcp|udp|sctp])"
        ));
    }
    Ok(format!("{port}/{proto}"))
}

/// Whether `s` is a duration as Docker's flags take them (Go's syntax: `0`, or
/// numbers with units `ns us µs ms s m h`, such as `1m30s` or `1.5s`).
fn is_duration(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    let mut rest = s;
    while !rest.is_empty() {
        let num = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num == 0 || rest[..num].parse::<f64>().is_err() {
            return false;
        }
        rest = &rest[num..];
        let Some(unit) = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .iter()
            .find(|u| rest.starts_with(*u) && !(**u == "m" && rest.starts_with("ms")))
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    !s.is_empty()
}

/// A signal by name (`TERM`, `SIGTERM`) or number (1-64).
pub fn signal_number(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse::<u32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let name = s.to_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    const NAMES: [&str; 31] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    NAMES.iter().position(|n| *n == name).map(|i| i as u32 + 1)
}

/// An absolute, cleaned image path: `p` relative to `workdir` unless absolute.
pub(super) fn image_path(workdir: &str, p: &str) -> String {
    let joined = if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{}/{p}", workdir.trim_end_matches('/'))
    };
    // `..` above the root stays at the root, as in a real file system.
    let mut parts: Vec<&str> = Vec::new();
    for c in joined.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Opens the store for a build.
pub(super) fn open_store() -> anyhow::Result<(Dirs, Store)> {
    let dirs = Dirs::locate()?;
    let store = Store::open(&dirs).context("cannot open the image store")?;
    Ok((dirs, store))
}

/// The unused `--build-arg`s (Docker warns about them).
pub(super) fn unused_args(opts: &Options, used: &BTreeSet<String>) -> Vec<String> {
    opts.build_args
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| !used.contains(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expose_defaults_to_tcp() {
        assert_eq!(expose_port("80").unwrap(), "80/tcp");
        assert_eq!(expose_port("53/UDP").unwrap(), "53/udp");
        assert!(expose_port("http").is_err());
        assert!(expose_port("0").is_err());
    }

    #[test]
    fn durations_follow_go_syntax() {
        for ok in ["0", "30s", "1m30s", "1.5h", "500ms", "10us"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "30", "5x", "s", "1m30", "-1s"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn signals_by_name_or_number() {
        assert_eq!(signal_number("SIGTERM"), Some(15));
        assert_eq!(signal_number("kill"), Some(9));
        assert_eq!(signal_number("9"), Some(9));
        assert_eq!(signal_number("SIGNOPE"), None);
    }

    #[test]
    fn relative_paths_follow_workdir() {
        assert_eq!(image_path("/app", "src"), "/app/src");
        assert_eq!(image_path("/app", "/etc/x"), "/etc/x");
        assert_eq!(image_path("/", "../a/./b/"), "/a/b");
    }

    #[test]
    fn shell_form_cmd_is_the_shell_plus_text() {
        let default = ImageConfig::default().shell_or_default();
        assert_eq!(
            docker_argv(&CmdForm::Shell("echo hi".into()), &default),
            vec!["/bin/sh", "-c", "echo hi"]
        );
        let bash = ["/bin/bash".to_string(), "-c".to_string()];
        assert_eq!(
            docker_argv(&CmdForm::Shell("x".into()), &bash),
            vec!["/bin/bash", "-c", "x"]
        );
        assert_eq!(
            docker_argv(&CmdForm::Exec(vec!["a".into()]), &bash),
            vec!["a"]
        );
    }
}
