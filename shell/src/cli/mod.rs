//! The `wsh` command line (DESIGN.md, "Command line"): shell text (`-c`, a script, stdin
//! or the REPL) in a throwaway container of the default image, or a subcommand.

mod compose;
mod containers;
mod cp;
mod ctl;
mod format;
mod listing;
pub mod networks;
mod oci;
mod system;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use images::Container;

use crate::interp::{ImageSystem, Shell, host_fds};

/// A shell and container builder in which every program is WebAssembly.
#[derive(Parser, Debug)]
#[command(name = "wsh", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// An image-management subcommand (otherwise wsh runs shell text).
    #[command(subcommand)]
    cmd: Option<Cmd>,

    /// After the run, write the container's file system as a raw ext4 image to FILE.
    #[arg(long, value_name = "FILE", global = true)]
    save_image: Option<PathBuf>,

    /// Cap the memory of the container's programs together at SIZE (bytes, or with
    /// K/M/G: 512M, 2G), as Docker's --memory; one program gets at most min(SIZE, 2G).
    #[arg(long, value_name = "SIZE", global = true, value_parser = parse_memory)]
    memory: Option<usize>,

    /// At most N programs and interpreter threads alive at once in a container (more
    /// fail with EAGAIN); 0 or -1: no limit (default 4096).
    #[arg(long, value_name = "N", global = true, allow_negative_numbers = true)]
    pids_limit: Option<i64>,

    /// Docker's storage options; `size=SIZE` (512M, 2G) caps what the container's
    /// file system may hold (default: the image's size, 16 GiB for images FROM base,
    /// and the host's disk keeps a reserve of 5%, at most 1 GiB).
    #[arg(long, value_name = "size=SIZE", global = true, value_parser = parse_storage_opt)]
    storage_opt: Option<u64>,

    /// Stop any program that uses more than SECS seconds of CPU time (0: no limit).
    #[arg(long, value_name = "SECS", global = true)]
    timeout: Option<f64>,

    /// Run the command line CMD; further arguments become $0, $1, ...
    #[arg(short = 'c', value_name = "CMD")]
    command: Option<String>,

    /// With -c: ARG0 and ARGS. Otherwise: SCRIPT (a host file) and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

/// The subcommands (DESIGN.md, "Command line").
#[derive(clap::Subcommand, Debug)]
enum Cmd {
    /// Build an image from a Balenafile (Dockerfile syntax).
    Build {
        /// Name the image NAME[:TAG] (repeatable).
        #[arg(short = 't', long = "tag", value_name = "NAME[:TAG]")]
        tags: Vec<String>,
        /// The Balenafile (default: CONTEXT/Balenafile, else CONTEXT/Dockerfile); `-`
        /// reads it from stdin.
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: Option<PathBuf>,
        /// Build the stages up to this one (by name) and make it the image.
        #[arg(long, value_name = "STAGE")]
        target: Option<String>,
        /// Print only the image id (no progress).
        #[arg(short = 'q', long)]
        quiet: bool,
        /// Set a label on the image (repeatable).
        #[arg(long = "label", value_name = "K=V", value_parser = crate::build::parse_label)]
        labels: Vec<(String, String)>,
        /// Progress output: `auto`, `plain` and `tty` all print BuildKit-style plain lines
        /// (a spinner on a terminal); `quiet` is `-q`.
        #[arg(long, value_name = "TYPE", value_parser = ["auto", "plain", "tty", "quiet", "rawjson"])]
        progress: Option<String>,
        /// Set a build-time variable declared by ARG (repeatable).
        #[arg(long = "build-arg", value_name = "K=V", value_parser = crate::build::parse_build_arg)]
        build_args: Vec<(String, String)>,
        /// Run every step, ignoring the build cache.
        #[arg(long)]
        no_cache: bool,
        /// The build context directory.
        #[arg(default_value = ".")]
        context: PathBuf,
    },
    /// Run an image's command (ENTRYPOINT + CMD) in a container: removed at the end,
    /// or with `-d` left running in the background under a supervising wsh process.
    Run {
        /// Accepted for Docker compatibility: a foreground container is always removed.
        #[arg(long)]
        rm: bool,
        /// Run in the background: print the container id and return at once.
        #[arg(short = 'd', long)]
        detach: bool,
        /// Name the container (for ps, logs, stop, rm, wait).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Replace the image's ENTRYPOINT (and drop its CMD, as Docker does); `""` clears it.
        #[arg(long, value_name = "CMD")]
        entrypoint: Option<String>,
        /// Read `K=V` lines (`#` comments; a bare `K` takes the host's value) (repeatable).
        #[arg(long = "env-file", value_name = "FILE")]
        env_files: Vec<PathBuf>,
        /// Give the command wsh's stdin.
        #[arg(short = 'i', long)]
        interactive: bool,
        /// A terminal session; with no CMD (and no ENTRYPOINT), wsh's REPL in the container.
        #[arg(short = 't', long)]
        tty: bool,
        /// Set an environment variable (repeatable).
        #[arg(short = 'e', long = "env", value_name = "K=V", value_parser = crate::build::container_run::parse_env)]
        env: Vec<(String, String)>,
        /// Working directory inside the container.
        #[arg(short = 'w', long = "workdir", value_name = "DIR")]
        workdir: Option<String>,
        /// Map host directory HOST at GUEST in the container (repeatable); OPTS: `ro`, `rw`
        /// (and Docker's `z`, `Z`, propagation and consistency modes, which change nothing here).
        #[arg(short = 'v', long = "volume", value_name = "HOST:GUEST[:OPTS]", value_parser = crate::build::mount_spec::parse_volume)]
        volumes: Vec<crate::build::mount_spec::Volume>,
        /// Docker's `--mount type=bind,source=HOST,target=GUEST[,readonly]` or
        /// `type=tmpfs,target=GUEST` (an empty directory for this run) (repeatable).
        #[arg(long = "mount", value_name = "SPEC", value_parser = crate::build::mount_spec::parse_run_mount)]
        mounts: Vec<crate::build::mount_spec::Volume>,
        /// Run as USER[:GROUP] (name or id) instead of the image's USER.
        #[arg(short = 'u', long = "user", value_name = "USER[:GROUP]")]
        user: Option<String>,
        /// Publish container port GUEST on host port HOST (repeatable; IP defaults
        /// to 127.0.0.1, a missing or 0 HOST picks a free port).
        #[arg(short = 'p', long = "publish", value_name = "[IP:][HOST:]GUEST[/tcp]", value_parser = crate::build::ports::parse_publish)]
        publish: Vec<crate::build::ports::PortSpec>,
        /// Publish every EXPOSEd port of the image on a free host port.
        #[arg(short = 'P', long = "publish-all")]
        publish_all: bool,
        /// `none` (the default: published ports only), `host` (connect out, listen on
        /// host ports) or a network made by `wsh network create` (its members by name).
        #[arg(long = "network", value_name = "none|host|NAME", default_value = "none", value_parser = crate::build::ports::parse_network)]
        network: crate::build::ports::NetworkMode,
        /// The name the container has on its named network (default: its `--name`).
        #[arg(long = "network-alias", value_name = "ALIAS")]
        network_alias: Option<String>,
        /// NAME[:TAG] or image id.
        image: String,
        /// Command and arguments (replace the image's CMD).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        cmd: Vec<String>,
    },
    /// List images.
    Images {
        /// Only the image ids.
        #[arg(short = 'q', long)]
        quiet: bool,
        /// A Go template per image: {{.Repository}} {{.Tag}} {{.ID}} {{.CreatedSince}}
        /// {{.CreatedAt}} {{.Size}}.
        #[arg(long, value_name = "TEMPLATE")]
        format: Option<String>,
    },
    /// Remove an image tag (or an image id with all its tags) and the layers no image uses.
    Rmi {
        /// NAME[:TAG] or image id.
        image: String,
    },
    /// Print an image's config as JSON, or `--format` a Go template over Docker's
    /// shape of it ({{.Id}}, {{.Config.User}}, {{index .Config.Labels "k"}}, {{json .Config.Env}}).
    Inspect {
        /// A Go template (Docker's `docker inspect --format`).
        #[arg(short = 'f', long, value_name = "TEMPLATE")]
        format: Option<String>,
        /// NAME[:TAG] or image id.
        image: String,
    },
    /// Show how an image was made, newest step first.
    History {
        /// NAME[:TAG] or image id.
        image: String,
    },
    /// Give an image another NAME[:TAG].
    Tag {
        /// NAME[:TAG] or image id.
        src: String,
        /// The new NAME[:TAG].
        dst: String,
    },
    /// Write an image's file system as one raw ext4 image.
    Export {
        /// NAME[:TAG] or image id.
        image: String,
        /// The raw image file to write.
        file: PathBuf,
    },
    /// Make an image from a raw ext4 image (copied, never changed) or a host directory.
    Import {
        /// FILE.img or DIR.
        src: PathBuf,
        /// NAME[:TAG] of the new image.
        name: String,
    },
    /// Serve an image (NAME[:TAG], id, or a raw/qcow2 file) at MOUNTPOINT through FUSE
    /// until unmounted (`fusermount3 -u` or Ctrl-C).
    Mount {
        /// NAME[:TAG], image id, or FILE.img.
        image: String,
        /// An existing empty directory.
        mountpoint: PathBuf,
        /// Allow writes: a store image gets a new overlay, sealed as a new image at unmount
        /// (its id is printed); a file is changed in a copy beside it (`.FILE.wsh-rw`) that
        /// replaces it at unmount, so a crash never leaves it half-written.
        #[arg(long)]
        rw: bool,
    },
    /// Write an image as an OCI image-layout archive (`docker load` takes it too).
    Save(oci::SaveArgs),
    /// Load images from an OCI or `docker save` archive.
    Load(oci::LoadArgs),
    /// List the containers started with `run -d` (running ones; `-a`: all).
    Ps {
        /// Also the exited ones.
        #[arg(short = 'a', long)]
        all: bool,
        /// Only the ids.
        #[arg(short = 'q', long)]
        quiet: bool,
    },
    /// Print a detached container's output (stdout and stderr, merged).
    Logs {
        /// Keep printing what it writes until it exits.
        #[arg(short = 'f', long)]
        follow: bool,
        /// Container name or id.
        container: String,
    },
    /// Stop running containers: STOPSIGNAL (default SIGTERM), then SIGKILL after SECS.
    Stop {
        /// The grace period in seconds.
        #[arg(short = 't', long = "time", value_name = "SECS", default_value_t = 10)]
        time: u64,
        /// Container names or ids.
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Remove stopped containers (`-f`: kill running ones first).
    Rm {
        /// Kill a running container, then remove it.
        #[arg(short = 'f', long)]
        force: bool,
        /// Container names or ids.
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Wait for containers to exit; print each one's exit status.
    Wait {
        /// Container names or ids.
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Run another program in a running detached container's file system.
    Exec {
        /// Give the program wsh's stdin.
        #[arg(short = 'i', long)]
        interactive: bool,
        /// Accepted for Docker compatibility (`-it`): there is no terminal, stdin is
        /// forwarded as with -i.
        #[arg(short = 't', long)]
        tty: bool,
        /// Set an environment variable (repeatable).
        #[arg(short = 'e', long = "env", value_name = "K=V", value_parser = crate::build::container_run::parse_env)]
        env: Vec<(String, String)>,
        /// Working directory inside the container.
        #[arg(short = 'w', long = "workdir", value_name = "DIR")]
        workdir: Option<String>,
        /// Run as USER[:GROUP] (name or id) instead of the container's user.
        #[arg(short = 'u', long = "user", value_name = "USER[:GROUP]")]
        user: Option<String>,
        /// Container name or id.
        container: String,
        /// The command and its arguments.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        cmd: Vec<String>,
    },
    /// Copy files between the host and a detached container (running or stopped):
    /// `CONTAINER:PATH DEST` or `SRC CONTAINER:PATH`; `SRC/.` copies a directory's contents.
    Cp {
        /// Keep the host files' owners (otherwise the copies are root's).
        #[arg(short = 'a', long)]
        archive: bool,
        /// Accepted for Docker compatibility: a symlink given as SRC is copied as a link.
        #[arg(short = 'L', long = "follow-link")]
        follow_link: bool,
        /// Source.
        src: String,
        /// Destination.
        dest: String,
    },
    /// Make an image from a detached container's files.
    Commit {
        /// A message recorded in the image's history.
        #[arg(short = 'm', long, value_name = "MSG")]
        message: Option<String>,
        /// Change the config: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE (repeatable).
        #[arg(short = 'c', long = "change", value_name = "INSTRUCTION")]
        changes: Vec<String>,
        /// Accepted for Docker compatibility (the copy is always taken consistent).
        #[arg(short = 'p', long)]
        pause: bool,
        /// Container name or id.
        container: String,
        /// NAME[:TAG] for the new image.
        repository: Option<String>,
    },
    /// Run exited detached containers' commands again, on their files.
    Start {
        /// Container names or ids.
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Stop, then start containers.
    Restart {
        /// The grace period in seconds.
        #[arg(short = 't', long = "time", value_name = "SECS", default_value_t = 10)]
        time: u64,
        /// Container names or ids.
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// List a running container's published ports (or the host address of one).
    Port {
        /// Container name or id.
        container: String,
        /// GUEST[/tcp].
        port: Option<String>,
    },
    /// Build cache commands (`prune`).
    Builder {
        #[command(subcommand)]
        cmd: BuilderCmd,
    },
    /// The services of a compose.yaml (Docker Compose's file) on their own network.
    Compose {
        /// The compose file (default: compose.yaml, compose.yml, docker-compose.yaml,
        /// docker-compose.yml or balena-compose.yml here).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: Option<PathBuf>,
        /// The project name (default: the compose file's directory name).
        #[arg(short = 'p', long = "project-name", value_name = "NAME")]
        project: Option<String>,
        #[command(subcommand)]
        cmd: ComposeCmd,
    },
    /// Named networks: containers on one reach each other by name.
    Network {
        #[command(subcommand)]
        cmd: NetworkCmd,
    },
    /// Container commands (`prune`).
    Container {
        #[command(subcommand)]
        cmd: ContainerCmd,
    },
    /// Store-wide commands (`df`).
    System {
        #[command(subcommand)]
        cmd: SystemCmd,
    },
    /// Print version information.
    Version,
    /// Print where wsh keeps its data and what is there.
    Info,
    /// The supervisor of a detached container (started by `run -d`).
    #[command(name = "__supervise", hide = true)]
    Supervise {
        /// The container id.
        id: String,
    },
}

/// `wsh container ...`.
#[derive(clap::Subcommand, Debug)]
enum ContainerCmd {
    /// Remove all exited containers.
    Prune {
        /// Accepted for Docker compatibility (wsh never asks).
        #[arg(short = 'f', long)]
        force: bool,
    },
    /// List containers (as `wsh ps`).
    Ls {
        /// Also the exited ones.
        #[arg(short = 'a', long)]
        all: bool,
        /// Only the ids.
        #[arg(short = 'q', long)]
        quiet: bool,
    },
}

/// `wsh compose ...`.
#[derive(clap::Subcommand, Debug)]
enum ComposeCmd {
    /// Build what needs building, then start every service (in depends_on order).
    Up {
        /// Leave them running in the background (otherwise follow their logs; Ctrl-C stops them).
        #[arg(short = 'd', long)]
        detach: bool,
        /// Build the images of services with `build:` even if they exist.
        #[arg(long)]
        build: bool,
    },
    /// Remove the services' containers and the project's network.
    Down,
    /// List the services' containers.
    Ps,
    /// The services' output, each line prefixed with its service.
    Logs {
        /// Only these services.
        services: Vec<String>,
    },
}

/// `wsh network ...`.
#[derive(clap::Subcommand, Debug)]
enum NetworkCmd {
    /// Create a network (`wsh run --network NAME` puts containers on it).
    Create {
        /// The network's name.
        name: String,
    },
    /// List the networks and their members.
    #[command(alias = "list")]
    Ls {
        /// Only the names.
        #[arg(short = 'q', long)]
        quiet: bool,
    },
    /// Remove networks no container is on.
    #[command(alias = "remove")]
    Rm {
        /// Network names.
        #[arg(required = true)]
        names: Vec<String>,
    },
}

/// `wsh builder ...`.
#[derive(clap::Subcommand, Debug)]
enum BuilderCmd {
    /// Drop the build cache, and the images and layers only it kept.
    Prune {
        /// Accepted for Docker compatibility (wsh never asks).
        #[arg(short = 'f', long)]
        force: bool,
        /// Accepted for Docker compatibility (the whole cache is dropped anyway).
        #[arg(short = 'a', long)]
        all: bool,
    },
}

/// `wsh system ...`.
#[derive(clap::Subcommand, Debug)]
enum SystemCmd {
    /// Disk use of images, containers and the build cache.
    Df,
}

/// Runs an image-management subcommand; returns the exit status.
fn run_cmd(cmd: Cmd) -> anyhow::Result<i32> {
    use listing as ic;
    match cmd {
        Cmd::Build {
            tags,
            file,
            target,
            quiet,
            labels,
            progress,
            build_args,
            no_cache,
            context,
        } => crate::build::run(&crate::build::Options {
            file,
            context,
            tags,
            build_args,
            no_cache,
            target,
            quiet: quiet || progress.as_deref() == Some("quiet"),
            labels,
        }),
        Cmd::Run { detach: true, .. } => containers::detach(cmd_run_options(cmd)?),
        Cmd::Run { .. } => {
            crate::build::container_run::run(&cmd_run_options(cmd)?, &mut |_| Ok(()))
        }
        Cmd::Images { quiet, format } => ic::images(quiet, format.as_deref()),
        Cmd::Rmi { image } => ic::rmi(&image),
        Cmd::Inspect { image, format } => match format {
            Some(f) => format::inspect(&image, &f),
            None => ic::inspect(&image),
        },
        Cmd::History { image } => ic::history(&image),
        Cmd::Tag { src, dst } => ic::tag(&src, &dst),
        Cmd::Export { image, file } => ic::export(&image, &file),
        Cmd::Import { src, name } => ic::import(&src, &name),
        Cmd::Mount {
            image,
            mountpoint,
            rw,
        } => ic::mount(&image, &mountpoint, rw),
        Cmd::Save(args) => oci::save(&args),
        Cmd::Load(args) => oci::load(&args),
        Cmd::Ps { all, quiet }
        | Cmd::Container {
            cmd: ContainerCmd::Ls { all, quiet },
        } => containers::ps(all, quiet),
        Cmd::Logs { follow, container } => containers::logs(&container, follow),
        Cmd::Stop { time, containers } => containers::stop(&containers, time),
        Cmd::Rm { force, containers } => containers::rm(&containers, force),
        Cmd::Wait { containers } => containers::wait(&containers),
        Cmd::Container {
            cmd: ContainerCmd::Prune { force: _ },
        } => containers::prune(),
        Cmd::Exec {
            interactive,
            tty,
            env,
            workdir,
            user,
            container,
            cmd,
        } => containers::exec(&container, cmd, env, workdir, user, interactive || tty),
        Cmd::Cp {
            archive,
            follow_link: _,
            src,
            dest,
        } => cp::cp(&src, &dest, archive),
        Cmd::Commit {
            message,
            changes,
            pause: _,
            container,
            repository,
        } => cp::commit(
            &container,
            repository.as_deref(),
            message.as_deref(),
            &changes,
        ),
        Cmd::Start { containers } => containers::start(&containers),
        Cmd::Restart { time, containers } => containers::restart(&containers, time),
        Cmd::Port { container, port } => containers::port(&container, port.as_deref()),
        Cmd::Builder {
            cmd: BuilderCmd::Prune { .. },
        } => system::builder_prune(),
        Cmd::Compose { file, project, cmd } => {
            let (f, p) = (file.as_deref(), project.as_deref());
            match cmd {
                ComposeCmd::Up { detach, build } => compose::up(f, p, detach, build),
                ComposeCmd::Down => compose::down(f, p),
                ComposeCmd::Ps => compose::ps(f, p),
                ComposeCmd::Logs { services } => compose::logs(f, p, &services),
            }
        }
        Cmd::Network { cmd } => match cmd {
            NetworkCmd::Create { name } => networks::create(&name),
            NetworkCmd::Ls { quiet } => networks::ls(quiet),
            NetworkCmd::Rm { names } => networks::rm(&names),
        },
        Cmd::System { cmd: SystemCmd::Df } => system::df(),
        Cmd::Version => system::version(),
        Cmd::Info => system::info(),
        Cmd::Supervise { id } => containers::supervise(&id),
    }
}

/// `wsh run`'s options, with `--env-file` read and `--entrypoint` applied.
fn cmd_run_options(cmd: Cmd) -> anyhow::Result<crate::build::container_run::RunOptions> {
    let Cmd::Run {
        rm: _,
        detach: _,
        name,
        entrypoint,
        env_files,
        interactive,
        tty,
        env,
        workdir,
        mut volumes,
        mounts,
        user,
        publish,
        publish_all,
        network,
        network_alias,
        image,
        cmd,
    } = cmd
    else {
        anyhow::bail!("internal error: run options of another subcommand");
    };
    // Docker: the env files first, then -e (a later setting wins).
    let mut all_env = Vec::new();
    for f in &env_files {
        all_env.extend(containers::read_env_file(f)?);
    }
    all_env.extend(env);
    volumes.extend(mounts);
    Ok(crate::build::container_run::RunOptions {
        image,
        cmd,
        env: all_env,
        workdir,
        volumes,
        interactive,
        tty,
        user,
        publish,
        publish_all,
        network,
        network_alias,
        name,
        entrypoint: entrypoint.map(|e| if e.is_empty() { Vec::new() } else { vec![e] }),
        overlay: None,
    })
}

/// Where the shell text comes from.
enum Source {
    /// `-c CMD`.
    Command(String),
    /// A script file read from the host.
    Script(PathBuf),
    /// The whole of a non-terminal stdin.
    Stdin,
}

/// Parses the command line, runs it and reports an error once, as `wsh: ...`.
///
/// Exit statuses follow Docker's for `run` and `build`: 125 when wsh itself fails (no
/// such image, a bad option), else the command's own (126/127 when it cannot be run).
pub fn main() -> ExitCode {
    crate::interp::record_ignored_signals();
    let argv = hoist_subcommand(std::env::args_os().collect());
    // `run`, `build` (and a detached container's supervisor, which is a `run`) fail
    // with Docker's 125 when the failure is wsh's own.
    let docker_status = matches!(
        argv.get(1).and_then(|w| w.to_str()),
        Some("run" | "build" | "__supervise")
    );
    let own_failure = if docker_status { 125 } else { 1 };
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            let status = match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ if docker_status => 125,
                _ => e.exit_code(),
            };
            let _ = e.print();
            return ExitCode::from(status as u8);
        }
    };
    match run(cli) {
        Ok(status) => ExitCode::from((status & 0xff) as u8),
        Err(e) => {
            eprintln!("wsh: {e:#}");
            ExitCode::from(own_failure)
        }
    }
}

/// Moves a subcommand named after global options to the front (`wsh --timeout 5 run
/// IMG` becomes `wsh run --timeout 5 IMG`). The top level takes shell arguments
/// (`args_conflicts_with_subcommands`, so `wsh -c CMD build` keeps `build` as `$0`),
/// which makes clap read any word after an option as a script name; global options
/// are the subcommands' options too, so they may stand after its name.
fn hoist_subcommand(mut argv: Vec<OsString>) -> Vec<OsString> {
    let cmd = Cli::command();
    let globals: Vec<(String, bool)> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .filter_map(|a| {
            let takes_value = a.get_action().takes_values();
            a.get_long().map(|l| (format!("--{l}"), takes_value))
        })
        .collect();
    let mut i = 1;
    while let Some(word) = argv.get(i).and_then(|w| w.to_str()) {
        if cmd.find_subcommand(word).is_some() {
            if i > 1 {
                let sub = argv.remove(i);
                argv.insert(1, sub);
            }
            break;
        }
        match globals
            .iter()
            .find(|(g, _)| word == g || word.starts_with(&format!("{g}=")))
        {
            Some((g, takes_value)) => i += if *takes_value && word == g { 2 } else { 1 },
            None => break,
        }
    }
    argv
}

/// `--memory` as bytes.
fn parse_memory(s: &str) -> Result<usize, String> {
    wsh_runtime::parse_size(s).ok_or_else(|| format!("invalid size {s:?} (try 512M or 2G)"))
}

/// `--storage-opt size=SIZE` as bytes (the only storage option wsh knows).
fn parse_storage_opt(s: &str) -> Result<u64, String> {
    let size = s
        .strip_prefix("size=")
        .ok_or_else(|| format!("unknown storage option {s:?} (wsh knows size=SIZE)"))?;
    parse_memory(size).map(|n| n as u64)
}

/// Applies `--memory`, `--pids-limit`, `--timeout` and `--storage-opt` to every
/// container this run starts.
fn set_limits(cli: &Cli) -> anyhow::Result<()> {
    let (memory, timeout) = (cli.memory, cli.timeout);
    let mut limits = wsh_runtime::default_limits();
    limits.disk = cli.storage_opt.or(limits.disk);
    if let Some(m) = memory {
        limits.container_memory = Some(m);
        limits.memory = limits.memory.min(m);
    }
    if let Some(n) = cli.pids_limit {
        limits.pids = (n > 0).then_some(n as usize);
    }
    if let Some(t) = timeout {
        anyhow::ensure!(
            t.is_finite() && t >= 0.0,
            "--timeout: {t} is not a number of seconds"
        );
        limits.cpu_time = if t > 0.0 {
            // Past Duration's range (about 5.8e11 years) is no limit at all.
            Some(std::time::Duration::try_from_secs_f64(t).unwrap_or(std::time::Duration::MAX))
        } else {
            None
        };
    }
    wsh_runtime::set_default_limits(limits);
    Ok(())
}

/// Applies the limits and the command-line runner every container of this process uses.
fn setup(cli: &Cli) -> anyhow::Result<()> {
    set_limits(cli)?;
    // Guests that spawn `sh -c LINE` (find -exec, xargs) get our interpreter.
    wsh_runtime::set_default_command_line_runner(std::sync::Arc::new(crate::sh_runner::ShRunner));
    Ok(())
}

/// Runs the shell as `cli` asks; returns the exit status.
fn run(cli: Cli) -> anyhow::Result<i32> {
    setup(&cli)?;
    if let Some(cmd) = cli.cmd {
        // (`exec`, `cp` and `commit` talk to a supervisor over a socket: a hung-up one
        // is an error to report, not a signal to die of.)
        if !matches!(
            cmd,
            Cmd::Run { .. }
                | Cmd::Build { .. }
                | Cmd::Supervise { .. }
                | Cmd::Mount { .. }
                | Cmd::Exec { .. }
                | Cmd::Cp { .. }
                | Cmd::Commit { .. }
        ) {
            quiet_on_closed_pipe();
        }
        return run_cmd(cmd);
    }
    let (source, arg0, args) = match cli.command {
        Some(cmd) => {
            let mut rest = cli.args.into_iter();
            let arg0 = rest.next().unwrap_or_else(|| "wsh".into());
            (Source::Command(cmd), arg0, rest.collect())
        }
        None => match cli.args.split_first() {
            Some((script, rest)) => (Source::Script(script.into()), script.clone(), rest.to_vec()),
            None => (Source::Stdin, "wsh".into(), Vec::new()),
        },
    };

    // Read the text before starting a container: a missing script costs nothing.
    let text = match &source {
        Source::Command(cmd) => cmd.clone(),
        Source::Script(path) => match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && looks_like_command(path) => {
                let word = path.display();
                match absent_command(&word.to_string()) {
                    Some(why) => eprintln!("wsh: '{word}' is not a wsh command: {why}"),
                    None => eprintln!("wsh: '{word}' is not a wsh command. See 'wsh --help'"),
                }
                return Ok(1);
            }
            Err(e) => {
                // bash: 127 for a missing script, 126 for one it cannot read.
                let (why, status) = match e.kind() {
                    std::io::ErrorKind::NotFound => ("No such file or directory".to_string(), 127),
                    _ => (e.to_string(), 126),
                };
                eprintln!("wsh: {}: {why}", path.display());
                return Ok(status);
            }
        },
        // Commands from stdin run as they arrive: the REPL on a terminal, else line by line.
        Source::Stdin => {
            return if std::io::stdin().is_terminal() {
                crate::repl::interactive(cli.save_image.as_deref())
            } else {
                crate::repl::non_interactive(arg0, args, cli.save_image.as_deref())
            };
        }
    };

    let container = Container::throwaway()?;
    let status = {
        let mut shell = Shell::new(ImageSystem::new(container.runtime().clone()));
        shell.set_args(arg0, args);
        match &source {
            Source::Script(p) => shell.set_script_source(&p.display().to_string()),
            Source::Command(_) => shell.set_command_source(),
            Source::Stdin => {}
        }
        // A syntax error stops the script with status 2 after the complete commands
        // before it ran (as bash reads and runs a script command by command).
        shell.run_text(&text, &host_fds())
    };
    container.finish(cli.save_image.as_deref())?;
    Ok(status)
}

/// The image-management subcommands write with `println!`, which panics on a closed
/// pipe because Rust ignores SIGPIPE: restoring its default makes `wsh images | head
/// -1` end quietly, killed by SIGPIPE as GNU tools are. (Not for `run` and `build`:
/// their guests' writes go through the runtime, which turns EPIPE into the guest's own
/// error, and the shell's builtins report it as bash does; nor for `mount`, whose
/// unmount talks to fusermount over a socket that may already be closed.)
fn quiet_on_closed_pipe() {
    // SAFETY: setting a signal's disposition to its default is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Whether a missing script name is rather a mistyped subcommand (`wsh ps`): a bare
/// lowercase word with no `/` or `.` (which a script path would have).
fn looks_like_command(path: &std::path::Path) -> bool {
    let w = path.to_string_lossy();
    !w.is_empty()
        && w.starts_with(|c: char| c.is_ascii_lowercase())
        && w.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Why a Docker subcommand that wsh lacks is absent.
fn absent_command(word: &str) -> Option<&'static str> {
    Some(match word {
        "pull" | "push" | "login" | "logout" | "search" => {
            "wsh has no registry; bring images in with `wsh load -i FILE.tar` or `wsh import`"
        }
        _ => return None,
    })
}
