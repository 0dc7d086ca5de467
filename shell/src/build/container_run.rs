//! `wsh run IMAGE [CMD...]`: a throwaway container of a built image running its
//! command (ENTRYPOINT + CMD, Docker's combination), with the image's ENV and WORKDIR.
//!
//! Commands run through wsh's interpreter: Docker's shell form (`/bin/sh -c TEXT`)
//! runs TEXT; an exec form runs its words as one quoted command line (no expansion,
//! PATH lookup in the image). The container is always removed at the end (`--rm`
//! is what wsh does anyway). `-t`/`-it` without a command (and an image without
//! ENTRYPOINT) opens wsh's REPL inside the container, with the image's env and
//! workdir; with a command, it runs that command on the terminal.
//!
//! `-v HOST:GUEST[:OPTS]` and `--mount type=bind|tmpfs,...` (parsed in mount_spec.rs)
//! map a host directory, or an empty temporary one, into the container's tree, and
//! nothing else of the host (see `wsh_runtime::mounts` for the confinement). The
//! mount point is made in the container's throwaway layer if the image lacks it.
//! Programs are not run from a mount (the runtime loads modules from the image).

use std::os::unix::fs::PermissionsExt as _;

use anyhow::Context as _;
use wsh_runtime::Handle;
use wsh_runtime::mounts::{Mount, Mounts};

use images::{Container, Dirs, Store};

use super::mount_spec::{Volume, VolumeSource};
use crate::interp::{Fds, ImageSystem, Shell};

/// What `wsh run` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// NAME[:TAG] or image id.
    pub image: String,
    /// Replaces the image's CMD (appended to its ENTRYPOINT).
    pub cmd: Vec<String>,
    /// `-e K=V`: extra environment.
    pub env: Vec<(String, String)>,
    /// `-w DIR`: working directory instead of the image's WORKDIR.
    pub workdir: Option<String>,
    /// `-i`: the command reads wsh's stdin (otherwise it reads nothing, as in Docker).
    pub interactive: bool,
    /// `-t`: a terminal session; without a command, the REPL inside the container.
    pub tty: bool,
    /// `-v` and `--mount`: host (or temporary) directories in the container's tree.
    pub volumes: Vec<Volume>,
    /// `-u USER[:GROUP]`: run as this user instead of the image's USER.
    pub user: Option<String>,
    /// `-p`: published ports.
    pub publish: Vec<super::ports::PortSpec>,
    /// `-P`: publish the image's EXPOSEd ports on free host ports.
    pub publish_all: bool,
    /// `--network`: what the container may reach.
    pub network: super::ports::NetworkMode,
    /// `--name`: the detached container's name.
    pub name: Option<String>,
    /// `--network-alias`: its name on a named network, instead of `name`.
    pub network_alias: Option<String>,
    /// `--entrypoint`: replaces the image's ENTRYPOINT and drops its CMD (Docker's rule).
    pub entrypoint: Option<Vec<String>>,
    /// Set in a detached container's supervisor: the kept overlay to run in (a
    /// [`images::ContainerRecord`] id) instead of a throwaway one.
    pub overlay: Option<String>,
}

/// What a container looks like once its command is about to start (for a supervisor,
/// which serves `exec` and `cp` from then on).
pub struct Ready<'a> {
    /// The container.
    pub container: &'a Container,
    /// The image's config.
    pub config: &'a images::ImageConfig,
    /// The shell text that gave the command its environment and working directory.
    pub prelude: &'a str,
}

impl RunOptions {
    /// The argv this run executes for an image with `config` (ENTRYPOINT + CMD, as
    /// changed by `--entrypoint` and the command line).
    pub fn argv(&self, config: &images::ImageConfig) -> Vec<String> {
        match &self.entrypoint {
            Some(ep) => effective_argv(ep, &[], &self.cmd),
            None => effective_argv(&config.entrypoint, &config.cmd, &self.cmd),
        }
    }
}

/// Opens the volumes' directories (a tmpfs volume gets a fresh temporary one, removed
/// when the returned guards drop) and makes their mount points in the container.
fn mount_volumes(
    container: &Container,
    volumes: &[Volume],
) -> anyhow::Result<(Mounts, Vec<tempfile::TempDir>)> {
    let mut mounts = Mounts::none();
    let mut tmpfs = Vec::new();
    let vfs = container.runtime().vfs();
    for v in volumes {
        let host = match &v.source {
            VolumeSource::Host(dir) => {
                let host = std::fs::canonicalize(dir).with_context(|| {
                    format!("-v {}: cannot use the host directory", dir.display())
                })?;
                anyhow::ensure!(
                    host.is_dir(),
                    "-v {}: not a directory (only directories can be mapped)",
                    dir.display()
                );
                host
            }
            VolumeSource::Tmpfs => {
                let dir = tempfile::Builder::new()
                    .prefix("wsh-tmpfs-")
                    .tempdir()
                    .context("--mount type=tmpfs: cannot make a temporary directory")?;
                // Docker's tmpfs mounts are 1777: any container user may write there.
                std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777))?;
                let path = dir.path().to_path_buf();
                tmpfs.push(dir);
                path
            }
        };
        let mount = Mount::new(&host, &v.guest, v.readonly)
            .with_context(|| format!("-v {}: cannot open it confined", host.display()))?;
        // mkdir -p of the mount point, each component checked to be a directory.
        let guest = String::from_utf8_lossy(mount.guest_path()).into_owned();
        super::copy::mkdir_p(vfs, &guest)
            .with_context(|| format!("-v: cannot make the mount point {guest}"))?;
        mounts.add(mount);
    }
    Ok((mounts, tmpfs))
}

/// Whether `wsh run` opens the REPL: `-t` with no command on the command line and
/// no ENTRYPOINT in the image (Docker would run the image's shell; wsh is that shell,
/// so an image CMD is replaced by the REPL, as `docker run -it IMAGE sh` would).
pub fn opens_repl(tty: bool, entrypoint: &[String], args: &[String]) -> bool {
    tty && args.is_empty() && entrypoint.is_empty()
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Docker's rule: ENTRYPOINT + (the run's command, else the image's CMD).
pub fn effective_argv(entrypoint: &[String], cmd: &[String], args: &[String]) -> Vec<String> {
    let tail = if args.is_empty() { cmd } else { args };
    entrypoint.iter().chain(tail).cloned().collect()
}

/// The shell text that runs `argv`: `/bin/sh -c TEXT [ARG0 ARGS]` is TEXT itself.
pub fn shell_text(argv: &[String]) -> String {
    match argv {
        [sh, c, text, ..] if (sh == "/bin/sh" || sh == "sh") && c == "-c" => text.clone(),
        _ => argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "),
    }
}

/// Runs the container; returns the command's exit status. `ready` is called once the
/// container is set up, before its command starts.
pub fn run(
    opts: &RunOptions,
    ready: &mut dyn FnMut(Ready<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<i32> {
    let dirs = Dirs::locate()?;
    let store = Store::open(&dirs)?;
    if images::normalize_ref(&opts.image).ok().as_deref() == Some(images::base::BASE_TAG) {
        images::base::ensure(&store)?;
    }
    let (id, config) = store.resolve(&opts.image)?;
    let argv = opts.argv(&config);
    let entrypoint = opts.entrypoint.as_ref().unwrap_or(&config.entrypoint);
    let repl = opens_repl(opts.tty, entrypoint, &opts.cmd);
    anyhow::ensure!(
        repl || !argv.is_empty(),
        "{}: no command given and the image has no CMD or ENTRYPOINT",
        opts.image
    );
    let container = match &opts.overlay {
        Some(o) => {
            let record = store.container_record(o)?;
            Container::open_run(store, &dirs, record)
        }
        None => Container::create(store, &dirs, &id),
    }
    .with_context(|| format!("cannot start {}", opts.image))?;
    let (mounts, _tmpfs) = mount_volumes(&container, &opts.volumes)?;
    if !opts.volumes.is_empty() {
        container.runtime().set_mounts(mounts);
    }
    let mut net = super::ports::network(
        opts.network.policy(),
        &opts.publish,
        opts.publish_all,
        &config.exposed_ports,
    )?;
    if let super::ports::NetworkMode::Named(name) = &opts.network {
        let dir = super::ports::network_dir(name)?;
        anyhow::ensure!(
            dir.is_dir(),
            "network {name} not found (make it with `wsh network create {name}`)"
        );
        // Members are known by alias, else container name, else the short id.
        let member = (opts.network_alias.clone())
            .or_else(|| opts.name.clone())
            .unwrap_or_else(|| container.id().chars().take(12).collect());
        let bridge = wsh_runtime::bridge::Bridge::join(&dir, &member)
            .with_context(|| format!("cannot join network {name}"))?;
        for p in &net.published {
            bridge.register(p.guest_port, p.host.port())?;
        }
        net.bridge = Some(std::sync::Arc::new(bridge));
    }
    let listen_fds = net.published.len();
    container.runtime().set_network(net);
    let spec = opts.user.as_deref().unwrap_or(&config.user);
    let user = super::user::resolve(container.runtime().vfs(), spec)?;
    container.runtime().set_credentials(user.creds.clone());
    let status = {
        let mut sh = Shell::new(ImageSystem::new(container.runtime().clone()));
        // With -t the terminal is the command's stdin too (Docker's `-it`).
        let stdin = if opts.interactive || opts.tty {
            Handle::HostStdin
        } else {
            Handle::Null
        };
        let fds = Fds::standard(stdin, Handle::HostStdout, Handle::HostStderr);
        let mut prelude = super::user::home_export(&config.env, &user);
        let valid = |k: &str| {
            !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !k.starts_with(|c: char| c.is_ascii_digit())
        };
        let image_env = config.env.iter().filter_map(|kv| kv.split_once('='));
        for (k, v) in image_env.chain(opts.env.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            anyhow::ensure!(valid(k), "-e {k}=...: not a valid variable name");
            prelude.push_str(&format!("export {k}={}\n", quote(v)));
        }
        let wd = opts
            .workdir
            .clone()
            .unwrap_or_else(|| config.workdir.clone());
        let wd = if wd.is_empty() { "/".to_string() } else { wd };
        prelude.push_str(&format!("cd {}\n", quote(&wd)));
        // wasmtime's --tcplisten convention: how many listening sockets were handed over.
        if listen_fds > 0 && !opts.env.iter().any(|(k, _)| k == "LISTEN_FDS") {
            prelude.push_str(&format!("export LISTEN_FDS={listen_fds}\n"));
        }
        if !repl {
            // A command gets the environment Docker gives it: the image's ENV and -e, plus
            // PATH, HOME and HOSTNAME (and TERM with -t); the interpreter's login-shell defaults
            // (USER, LOGNAME, SHELL, LANG, PWD) stay shell variables, unexported.
            let given = |name: &str| {
                config
                    .env
                    .iter()
                    .any(|kv| kv.split_once('=').is_some_and(|(k, _)| k == name))
                    || opts.env.iter().any(|(k, _)| k == name)
            };
            let mut own = vec!["USER", "LOGNAME", "SHELL", "LANG", "PWD"];
            if !opts.tty {
                own.push("TERM");
            }
            for name in own.into_iter().filter(|n| !given(n)) {
                prelude.push_str(&format!("declare +x {name}\n"));
            }
            // Docker's HOSTNAME is the container's host name: /etc/hostname here.
            if !given("HOSTNAME") {
                let file = super::user::read(container.runtime().vfs(), "/etc/hostname");
                let name = file.lines().next().map(str::trim).unwrap_or_default();
                let name = if name.is_empty() { "wsh" } else { name };
                prelude.push_str(&format!("export HOSTNAME={}\n", quote(name)));
            }
        }
        let s = sh.run_text(&prelude, &fds);
        if s != 0 {
            anyhow::bail!("cannot enter the working directory {wd} in {}", opts.image);
        }
        ready(Ready {
            container: &container,
            config: &config,
            prelude: &prelude,
        })?;
        if repl {
            let status = crate::repl::interactive_in(container.runtime(), sh, &opts.image)?;
            drop(container);
            return Ok(status);
        }
        // `sh -c TEXT ARG0 ARGS...`: the words after TEXT become $0, $1, ... (so a CMD
        // after a shell-form ENTRYPOINT lands there, as with Docker).
        let sh_c =
            matches!(argv.as_slice(), [s, c, _, ..] if (s == "/bin/sh" || s == "sh") && c == "-c");
        if sh_c && argv.len() > 3 {
            sh.set_args(argv[3].clone(), argv[4..].to_vec());
        }
        sh.run_text(&shell_text(&argv), &fds)
    };
    drop(container);
    Ok(status)
}

/// Parses `-e K=V`.
pub fn parse_env(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("-e {s:?}: expected KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn entrypoint_plus_cmd_or_run_args() {
        assert_eq!(
            effective_argv(&v(&["echo", "a"]), &v(&["b"]), &[]),
            v(&["echo", "a", "b"])
        );
        assert_eq!(
            effective_argv(&v(&["echo", "a"]), &v(&["b"]), &v(&["c"])),
            v(&["echo", "a", "c"])
        );
        assert_eq!(effective_argv(&[], &v(&["ls"]), &[]), v(&["ls"]));
    }

    #[test]
    fn tty_without_command_or_entrypoint_opens_the_repl() {
        assert!(opens_repl(true, &[], &[]));
        assert!(!opens_repl(false, &[], &[]));
        assert!(!opens_repl(true, &[], &v(&["ls"])));
        assert!(!opens_repl(true, &v(&["app"]), &[]));
    }

    #[test]
    fn sh_c_runs_its_text_and_exec_form_is_quoted() {
        assert_eq!(
            shell_text(&v(&["/bin/sh", "-c", "echo $HOME"])),
            "echo $HOME"
        );
        assert_eq!(
            shell_text(&v(&["echo", "$HOME", "it's"])),
            r"'echo' '$HOME' 'it'\''s'"
        );
    }
}
