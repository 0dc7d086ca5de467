//! An applet's options for Tab completion, read from what its `--help` prints
//! (GNU layout: `  -a, --all`, `      --color[=WHEN]`, `  -w, --width=COLS`),
//! once per program and session.

use std::io::Read as _;
use std::time::Duration;

use wsh_runtime::{Command, Handle};

use super::context::Context;

/// How long a program may take to print its help before it is stopped.
const HELP_TIME: Duration = Duration::from_secs(3);
/// More help text than this is not help (a program that ignores `--help`).
const HELP_MAX: usize = 256 * 1024;

/// The options of the program `command` names (`--name`, `--name=` when it
/// takes a value, `-x`), or none when it is not a program or prints no help.
pub fn options_for(ctx: &Context, command: &str) -> Vec<String> {
    // Only the userland's applets are asked: they answer --help and do nothing
    // else, where any other program (a user's script) might act on it.
    if !images::base::applets().any(|a| a == command) {
        return Vec::new();
    }
    let Some(path) = ctx.find_program(command) else {
        return Vec::new();
    };
    if let Some(v) = ctx.options.lock().unwrap().get(&path) {
        return v.clone();
    }
    let opts = run_help(ctx, &path, command)
        .map(|h| parse_options(&h))
        .unwrap_or_default();
    ctx.options.lock().unwrap().insert(path, opts.clone());
    opts
}

/// Runs `PROGRAM --help` in the container; its stdout, if it ended in time.
fn run_help(ctx: &Context, path: &str, name: &str) -> Option<String> {
    let (r, w) = wsh_runtime::io::pipe();
    let cmd = Command {
        program: path.to_string(),
        argv: vec![name.to_string(), "--help".into()],
        env: vec![
            ("PATH".into(), ctx.path()),
            ("LANG".into(), "C.UTF-8".into()),
        ],
        cwd: "/".into(),
        stdin: Handle::Null,
        stdout: w,
        stderr: Handle::Null,
        extra_fds: Vec::new(),
        open_files: None,
        pid: None,
        ppid: std::process::id(),
    };
    let child = ctx.rt.spawn(cmd).ok()?;
    let control = child.control();
    // A program that does not know --help may run on: stop it in time.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(HELP_TIME).is_err() {
            control.kill();
        }
    });
    let mut out = Vec::new();
    let mut reader = PipeReader(r);
    let mut buf = [0u8; 8192];
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.len() > HELP_MAX {
            child.kill();
            break;
        }
    }
    drop(reader);
    let status = child.wait();
    let _ = done_tx.send(());
    let _ = watchdog.join();
    (status == 0 && out.len() <= HELP_MAX).then(|| String::from_utf8_lossy(&out).into_owned())
}

/// A pipe's read end as `std::io::Read`.
struct PipeReader(Handle);

impl std::io::Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

/// The options a help text lists at the start of its lines.
pub fn parse_options(help: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in help.lines() {
        let mut rest = line.trim_start();
        // `-a, --all`, `-w, --width=COLS`, `--color[=WHEN]`: options up to the description.
        while rest.starts_with('-') {
            let end = rest.find([' ', ',', '\t']).unwrap_or(rest.len());
            let token = &rest[..end];
            if let Some(opt) = option_name(token)
                && !found.contains(&opt)
            {
                found.push(opt);
            }
            rest = rest[end..].trim_start_matches(',').trim_start();
        }
    }
    found
}

/// `--name` from `--name[=X]`, `--name=` from `--name=X`, `-x` from `-x`.
fn option_name(token: &str) -> Option<String> {
    let (name, takes_value) = match token.find(['[', '=']) {
        Some(i) => (&token[..i], token[i..].starts_with('=')),
        None => (token, false),
    };
    let body = name.strip_prefix("--").or_else(|| name.strip_prefix('-'))?;
    let valid = !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && (name.starts_with("--") || body.len() == 1);
    valid.then(|| format!("{name}{}", if takes_value { "=" } else { "" }))
}

#[cfg(test)]
mod tests {
    use super::parse_options;

    #[test]
    fn gnu_help_layout() {
        let help = "Usage: ls [OPTION]... [FILE]...\n\
                    List information.\n\n  -a, --all                  do not ignore entries\n\
                    \x20     --color[=WHEN]         color the output\n\
                    \x20 -w, --width=COLS           set output width\n\
                    \x20     --help     display this help and exit\n\
                    Exit status: -1 is not an option line.\n";
        assert_eq!(
            parse_options(help),
            ["-a", "--all", "--color", "-w", "--width=", "--help"]
        );
    }
}
