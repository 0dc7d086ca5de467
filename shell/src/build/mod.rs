//! `wsh build`: a Balenafile (Dockerfile syntax and semantics) becomes an image.
//!
//! Text → [`parse`] (stages and steps, via the `parse-dockerfile` crate) → [`exec`]
//! (each step found in the [`cache`] or run: metadata steps make a new config,
//! RUN/COPY/ADD/WORKDIR a new layer through [`steps`]) → a tagged image in the
//! store. [`context`] is the build context with `.balenaignore`; [`output`] the
//! progress display.
//!
//! [`container_run`] is `wsh run`: an image's ENTRYPOINT + CMD in a throwaway container.
//!
//! The image config records what `docker inspect` shows in Config: ENV, WORKDIR,
//! CMD, ENTRYPOINT (shell forms as SHELL + text), LABEL, EXPOSE, USER, VOLUME,
//! STOPSIGNAL, HEALTHCHECK (`CMD`/`CMD-SHELL`/`NONE` tests), SHELL and ONBUILD. USER
//! makes later RUN steps and `wsh run` run as that user ([`user`]). SHELL (JSON form) changes the shell of
//! later shell-form RUN, CMD and ENTRYPOINT and is inherited by child builds; `sh` and
//! `bash` there are wsh's interpreter. ONBUILD triggers are checked when parsed, kept
//! in the config, and run by a build `FROM` that image right after its FROM (errors
//! at that line), then dropped from its image, as Docker does.
//!
//! The store keeps the images the cache names, and a running build holds a lease
//! that keeps the images it makes (see [`cache`]), so `wsh rmi` never takes away a
//! parent a build relies on.
//!
//! `RUN --mount` (bind, cache, tmpfs) is [`run_mount`].
//!
//! Not supported (each an error): `RUN --mount=type=secret|ssh`, `RUN --network/
//! --security`, `COPY --link/--parents/
//! --exclude`, `FROM --platform`, globs in `COPY --from` sources, and more than one
//! heredoc after a command (`RUN cat <<A <<B`). Triggers are re-read with the default
//! escape `\`, as in Docker.

pub mod cache;
pub mod container_run;
pub mod context;
pub mod copy;
mod exec;
pub use exec::signal_number;
mod heredoc;
pub mod mount_spec;
pub mod output;
pub mod parse;
pub mod ports;
mod precompile;
mod run_mount;
mod steps;
pub mod user;
pub mod vars;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A Balenafile error at a line: prints as `FILE:LINE: message (in: offending text)`.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {msg}{}", if text.is_empty() { String::new() } else { format!(" (in: {text})") })]
pub struct BuildError {
    /// The Balenafile as named on the command line.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub msg: String,
    /// The offending line's text.
    pub text: String,
}

impl BuildError {
    /// An error at `file:line`.
    pub fn new(file: &str, line: usize, msg: String, text: String) -> BuildError {
        // One line: the message's own newlines would break `FILE:LINE:` parsing.
        let one = |s: String| s.replace('\n', " ");
        BuildError {
            file: file.to_string(),
            line,
            msg: one(msg),
            text: one(text),
        }
    }
}

/// What `wsh build` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-f FILE` (default: `CONTEXT/Balenafile`).
    pub file: Option<PathBuf>,
    /// The build context directory.
    pub context: PathBuf,
    /// `-t NAME[:TAG]`, any number.
    pub tags: Vec<String>,
    /// `--build-arg K=V`.
    pub build_args: Vec<(String, String)>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--target STAGE`: build up to that stage and make it the image.
    pub target: Option<String>,
    /// `-q`: print the image id only.
    pub quiet: bool,
    /// `--label K=V`: labels set on the final image.
    pub labels: Vec<(String, String)>,
}

/// Parses `K=V` for `--label` (a bare `K` is an empty label, as Docker makes it).
pub fn parse_label(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        None if !s.is_empty() => Ok((s.to_string(), String::new())),
        _ => Err(format!("--label {s:?}: expected KEY=VALUE")),
    }
}

/// The Balenafile to read and how to name it in messages: `-f FILE` (`-` is stdin),
/// else `CONTEXT/Balenafile`, else `CONTEXT/Dockerfile`.
fn read_balenafile(opts: &Options) -> anyhow::Result<(String, String)> {
    let (shown, bytes) = if opts.file.as_deref() == Some(std::path::Path::new("-")) {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
            .map_err(|e| anyhow::anyhow!("-f -: cannot read stdin: {e}"))?;
        ("-".to_string(), b)
    } else {
        let path = opts.file.clone().unwrap_or_else(|| {
            let b = opts.context.join("Balenafile");
            let d = opts.context.join("Dockerfile");
            if !b.exists() && d.exists() { d } else { b }
        });
        let shown = path.to_string_lossy().trim_start_matches("./").to_string();
        let bytes = std::fs::read(&path).map_err(|e| {
            if opts.file.is_none() && e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!("{shown}: No such file or directory (nor a Dockerfile beside it)")
            } else {
                anyhow::anyhow!("{shown}: {e}")
            }
        })?;
        (shown, bytes)
    };
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{shown}: not UTF-8 text"))?;
    Ok((shown, text))
}

/// Parses `K=V` for `--build-arg` (a bare `K` is left out, as Docker takes it from the
/// host environment, which wsh never passes to guests).
pub fn parse_build_arg(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("--build-arg {s:?}: expected KEY=VALUE")),
    }
}

/// Builds an image; returns its id. Balenafile errors are [`BuildError`]s.
pub fn build(opts: &Options) -> anyhow::Result<String> {
    for t in &opts.tags {
        images::normalize_ref(t)?;
    }
    let (shown, text) = read_balenafile(opts)?;
    let mut bf = parse::parse(&shown, &text)?;
    if let Some(t) = &opts.target {
        let lower = t.to_lowercase();
        let Some(i) = bf
            .stages
            .iter()
            .position(|s| s.name.as_deref() == Some(lower.as_str()))
        else {
            anyhow::bail!("--target {t}: no stage named {t} in {shown}");
        };
        // Docker's classic builder: the stages up to the target (BuildKit would skip
        // the earlier ones the target does not use).
        bf.stages.truncate(i + 1);
    }
    let ctx = context::Context::open(&opts.context)?;
    let (dirs, store) = exec::open_store()?;
    // Held until the image is tagged: a concurrent `wsh rmi` then keeps what this build
    // made (see images::BuildLease).
    let _lease = {
        let lock = store.lock()?;
        store.lease(&lock)?
    };
    let cache = cache::Cache::load(&dirs.data);
    let mut b = exec::Builder {
        file: shown,
        bf: &bf,
        ctx,
        dirs,
        store,
        cache,
        no_cache: opts.no_cache,
        build_args: opts.build_args.iter().cloned().collect::<BTreeMap<_, _>>(),
        used_args: BTreeSet::new(),
        globals: BTreeMap::new(),
        done: Vec::new(),
        progress: output::Progress::new(),
    };
    b.progress.quiet = opts.quiet;
    let built = b.run();
    // Good steps stay cached even when a later one fails.
    {
        let lock = b.store.lock()?;
        b.cache.save(&lock)?;
    }
    let mut id = built?;
    if !opts.labels.is_empty() {
        let mut config = b.store.config(&id)?;
        for (k, v) in &opts.labels {
            config.labels.insert(k.clone(), v.clone());
        }
        let lock = b.store.lock()?;
        id = b.store.put_config(&lock, &config)?;
    }
    b.tag(&id, &opts.tags)?;
    let unused = exec::unused_args(opts, &b.used_args);
    if !unused.is_empty() && !opts.quiet {
        eprintln!(
            "warning: build args not used by any ARG: {}",
            unused.join(", ")
        );
    }
    b.progress.finished(&id, &opts.tags);
    Ok(id)
}

/// `wsh build`: builds, prints the image id; returns the exit status. A Balenafile
/// error prints as one `FILE:LINE: message` line and gives status 1.
pub fn run(opts: &Options) -> anyhow::Result<i32> {
    match build(opts) {
        Ok(id) => {
            println!("{id}");
            Ok(0)
        }
        Err(e) => match e.downcast_ref::<BuildError>() {
            Some(be) => {
                eprintln!("{be}");
                Ok(1)
            }
            None => Err(e),
        },
    }
}
