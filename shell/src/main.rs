//! The `wsh` command line (see DESIGN.md, "Command line").
//!
//! Implemented so far: `wsh -c CMD [ARG0 ARGS...]`, `wsh SCRIPT [ARGS...]`, and
//! commands from a non-terminal stdin, each in a throwaway container of the default
//! image, plus the global `--save-image FILE`. The image-management subcommands
//! (build, run, images, export, ...) will be a clap `Subcommand` enum on [`Cli`]
//! (with `args_conflicts_with_subcommands` so `wsh SCRIPT` keeps working); until
//! they exist, a word like `build` is taken as a script name, as bash would.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use wsh::container::Container;
use wsh::interp::{ImageSystem, Shell, host_fds};

/// A shell and container builder in which every program is WebAssembly.
#[derive(Parser, Debug)]
#[command(name = "wsh", version)]
struct Cli {
    /// After the run, write the container's file system as a raw ext4 image to FILE.
    #[arg(long, value_name = "FILE", global = true)]
    save_image: Option<PathBuf>,

    /// Run the command line CMD; further arguments become $0, $1, ...
    #[arg(short = 'c', value_name = "CMD")]
    command: Option<String>,

    /// With -c: ARG0 and ARGS. Otherwise: SCRIPT (a host file) and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    args: Vec<String>,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(status) => ExitCode::from((status & 0xff) as u8),
        Err(e) => {
            eprintln!("wsh: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Runs the shell as `cli` asks; returns the exit status.
fn run(cli: Cli) -> anyhow::Result<i32> {
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
        Source::Stdin => {
            if std::io::stdin().is_terminal() {
                eprintln!("wsh: the interactive shell is not available yet; use `wsh -c CMD` or `wsh SCRIPT`");
                return Ok(2);
            }
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            text
        }
    };

    // A syntax error is reported before anything runs (status 2, as bash).
    let program = match Shell::parse(&text) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("wsh: {e}");
            return Ok(2);
        }
    };

    let container = Container::throwaway()?;
    let status = {
        let mut shell = Shell::new(ImageSystem::new(container.runtime().clone()));
        shell.set_args(arg0, args);
        shell.run_program(&program, &host_fds())
    };
    container.finish(cli.save_image.as_deref())?;
    Ok(status)
}
