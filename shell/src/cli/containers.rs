//! Containers that keep running without a daemon: `run -d`, `ps`, `logs`, `stop`, `rm`,
//! `wait`, `container prune`.
//!
//! `wsh run -d` registers the container in the store (`images::containers_state`),
//! starts `wsh __supervise ID` in a session of its own (setsid) with its stdout and
//! stderr appended to the container's log, prints the id and returns. The supervisor
//! re-reads the original command line from the state, runs it as a foreground `wsh
//! run` would, and records the exit status. A stop signal (STOPSIGNAL, else SIGTERM)
//! makes it record `128 + signal` and exit, which ends its guests with it (WebAssembly
//! guests have no signal handlers of their own); `stop` sends SIGKILL after the grace
//! period. A supervisor that dies unannounced (`kill -9`) is found out by the next
//! command that reads the state (its pid is gone), and its overlay is removed when
//! the store is next opened.
//!
//! The container's files live in a writable overlay of its own, created with it and
//! kept (synced) when it stops, until `rm`: `cp` and `commit` read it, `start` runs the
//! command again on it. While it runs, only its supervisor opens it; `exec`, `cp` and
//! `commit` then go through the supervisor's control socket (ctl.rs).

use std::io::{Read as _, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use images::containers_state::{self as cs, RunState, Status};

use super::listing::{ago, human_size};
use crate::build::container_run::RunOptions;

/// Docker's rule for container names.
fn valid_name(n: &str) -> bool {
    let mut c = n.chars();
    c.next().is_some_and(|f| f.is_ascii_alphanumeric())
        && c.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `wsh run -d`: registers the container, starts its supervisor, prints the id.
pub fn detach(opts: RunOptions) -> anyhow::Result<i32> {
    anyhow::ensure!(
        !opts.tty && !opts.interactive,
        "-d cannot be combined with -i or -t (a detached container has no terminal)"
    );
    let store = images::open_store()?;
    if images::normalize_ref(&opts.image).ok().as_deref() == Some(images::base::BASE_TAG) {
        images::base::ensure(&store)?;
    }
    let (image_id, config) = store.resolve(&opts.image)?;
    let argv = opts.argv(&config);
    anyhow::ensure!(
        !argv.is_empty(),
        "{}: no command given and the image has no CMD or ENTRYPOINT",
        opts.image
    );
    let id = cs::new_id();
    let name = match &opts.name {
        Some(n) => {
            anyhow::ensure!(
                valid_name(n),
                "invalid container name {n:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            );
            n.clone()
        }
        None => id[..12].to_string(),
    };
    let args = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|a| anyhow::anyhow!("{a:?}: a detached command line must be UTF-8"))?;
    let overlay = {
        let lock = store.lock()?;
        store.create_run_overlay(&lock, &image_id, &id)?
    };
    let state = RunState {
        overlay: Some(overlay.id.clone()),
        ports: Vec::new(),
        started: None,
        id: id.clone(),
        name,
        image: opts.image.clone(),
        image_id,
        command: argv.join(" "),
        argv: args,
        created: images::now_secs(),
        pid: 0,
        pid_start: 0,
        status: Status::Created,
        exit_code: None,
        finished: None,
        note: String::new(),
    };
    if let Err(e) = store.register_run(&state) {
        let _ = store.remove_container(&overlay.id);
        return Err(e);
    }
    let started = spawn_supervisor(&store, &id);
    if let Err(e) = started {
        let _ = store.remove_run(&id);
        return Err(e);
    }
    println!("{id}");
    Ok(0)
}

/// Starts `wsh __supervise ID` detached from this process's session and terminal.
fn spawn_supervisor(store: &images::Store, id: &str) -> anyhow::Result<()> {
    let log = std::fs::OpenOptions::new()
        .append(true)
        .open(store.run_log(id))
        .context("cannot open the container's log")?;
    let exe = std::env::current_exe().context("cannot find the wsh binary")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["__supervise", id])
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd.spawn().context("cannot start the supervisor")?;
    let pid = child.id();
    // The supervisor records itself too; whichever is first sets the pid.
    store.update_run(id, |s| {
        if s.pid == 0 {
            s.pid = pid;
            s.pid_start = cs::process_start(pid).unwrap_or(0);
        }
        if s.status == Status::Created {
            s.status = Status::Running;
        }
    })?;
    Ok(())
}

/// `wsh __supervise ID`: runs the registered command, records how it ended.
pub fn supervise(id: &str) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let me = std::process::id();
    let state = store.update_run(id, |s| {
        s.pid = me;
        s.pid_start = cs::process_start(me).unwrap_or(0);
        if s.status == Status::Created {
            s.status = Status::Running;
        }
    })?;
    let signals = [
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGHUP,
        libc::SIGUSR1,
        libc::SIGUSR2,
    ];
    // The container's file system, once open: synced before a stop signal ends us.
    let files: Arc<Mutex<Option<Arc<fsimage::Vfs>>>> = Arc::default();
    let mut sigs = signal_hook::iterator::Signals::new(signals)?;
    let sig_store = images::open_store()?;
    let sig_id = id.to_string();
    let sig_files = files.clone();
    std::thread::spawn(move || {
        if let Some(sig) = sigs.forever().next() {
            let code = 128 + sig;
            let end = || {
                let _ = sig_store.update_run(&sig_id, |s| {
                    s.status = Status::Exited;
                    s.exit_code = Some(code);
                    s.finished = Some(images::now_secs());
                    s.note = format!("stopped by signal {sig}");
                });
                // The guests run in this process: they end with it.
                std::process::exit(code);
            };
            let vfs = sig_files.lock().unwrap_or_else(|e| e.into_inner()).clone();
            match vfs {
                // Held frozen: no guest writes between the sync and the exit.
                Some(vfs) => {
                    let _ = vfs.frozen(end);
                    end()
                }
                None => end(),
            }
        }
    });
    let status = match supervised_run(&store, &state, &files) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wsh: {e:#}");
            125
        }
    };
    let end = || -> anyhow::Result<i32> {
        store.update_run(id, |s| {
            if s.status != Status::Exited {
                s.status = Status::Exited;
                s.exit_code = Some(status);
                s.finished = Some(images::now_secs());
            }
        })?;
        Ok(status)
    };
    let vfs = files.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match vfs {
        // An `exec` may still be writing: the last sync and the exit happen with the
        // file system held, so what stays on disk is consistent.
        Some(vfs) => {
            let _ = vfs.frozen(|| {
                let code = end().unwrap_or(status);
                std::process::exit(code & 0xff)
            });
            end()
        }
        None => end(),
    }
}

/// Runs the container's command line (re-read from its state) on its kept overlay,
/// serving its control socket once it is set up.
fn supervised_run(
    store: &images::Store,
    state: &RunState,
    files: &Arc<Mutex<Option<Arc<fsimage::Vfs>>>>,
) -> anyhow::Result<i32> {
    let mut argv = vec!["wsh".to_string()];
    argv.extend(state.argv.iter().cloned());
    let argv = super::hoist_subcommand(argv.into_iter().map(Into::into).collect());
    let cli = <super::Cli as clap::Parser>::try_parse_from(argv)?;
    super::setup(&cli)?;
    let cmd = cli.cmd.context("a detached container without a command")?;
    let mut opts = super::cmd_run_options(cmd)?;
    opts.overlay = state.overlay.clone();
    let run_dir = store.run_path(&state.id);
    // Held until this process ends (a `cp` into the stopped container may be finishing).
    let _files = store.lock_run_files(&state.id)?;
    crate::build::container_run::run(&opts, &mut |ready| {
        let rt = ready.container.runtime();
        *files.lock().unwrap_or_else(|e| e.into_inner()) = Some(rt.vfs().clone());
        let ports = rt
            .network()
            .published
            .iter()
            .map(|p| (p.guest_port, p.host.to_string()))
            .collect();
        store.update_run(&state.id, |s| s.ports = ports)?;
        if let Some(o) = &state.overlay {
            super::ctl::serve(&run_dir, store.overlay_path(o), &ready)?;
        }
        Ok(())
    })
}

/// "5 seconds", "3 minutes", ... as Docker's `Up ...`.
fn duration(secs: u64) -> String {
    let (n, unit) = match secs {
        0 => return "Less than a second".into(),
        1..60 => (secs, "second"),
        60..3600 => (secs / 60, "minute"),
        3600..86400 => (secs / 3600, "hour"),
        _ => (secs / 86400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

fn status_text(s: &RunState) -> String {
    match s.status {
        Status::Created => "Created".into(),
        Status::Running => format!(
            "Up {}",
            duration(images::now_secs().saturating_sub(s.started.unwrap_or(s.created)))
        ),
        Status::Exited => {
            let code = s.exit_code.unwrap_or(-1);
            let note = if s.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.note)
            };
            format!(
                "Exited ({code}) {}{note}",
                ago(s.finished.unwrap_or(s.created))
            )
        }
    }
}

/// `wsh ps [-a] [-q]`.
pub fn ps(all: bool, quiet: bool) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let states = store.run_states()?;
    let shown = states.iter().filter(|s| all || s.status != Status::Exited);
    if quiet {
        for s in shown {
            println!("{}", s.short_id());
        }
        return Ok(0);
    }
    println!(
        "{:<14} {:<20} {:<24} {:<24} {:<28} NAMES",
        "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS"
    );
    for s in shown {
        let mut cmd: String = s.command.chars().take(20).collect();
        if cmd.len() < s.command.len() {
            cmd.push('…');
        }
        let cmd = format!("\"{cmd}\"");
        println!(
            "{:<14} {:<20} {:<24} {:<24} {:<28} {}",
            s.short_id(),
            s.image,
            cmd,
            ago(s.created),
            status_text(s),
            s.name
        );
    }
    Ok(0)
}

/// `wsh logs [-f] NAME`.
pub fn logs(key: &str, follow: bool) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let state = store.find_run(key)?;
    let mut f = std::fs::File::open(store.run_log(&state.id))
        .with_context(|| format!("{key}: the container has no log"))?;
    let mut out = std::io::stdout().lock();
    let mut buf = Vec::new();
    loop {
        // Whether it had exited before this read: then the read saw everything.
        let done = !follow || store.run_state(&state.id)?.status == Status::Exited;
        buf.clear();
        f.read_to_end(&mut buf)?;
        out.write_all(&buf)?;
        out.flush()?;
        if done {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `pred` holds on the state of `id` or `limit` passes.
fn wait_for(
    store: &images::Store,
    id: &str,
    limit: Duration,
    pred: impl Fn(&RunState) -> bool,
) -> anyhow::Result<bool> {
    let start = Instant::now();
    loop {
        if pred(&store.run_state(id)?) {
            return Ok(true);
        }
        if start.elapsed() >= limit {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kills the supervisor with SIGKILL and records the exit (137).
fn kill(store: &images::Store, s: &RunState, note: &str) -> anyhow::Result<()> {
    // Recorded first, so the vanished supervisor is not taken for an unexplained death.
    store.update_run(&s.id, |s| {
        if s.status != Status::Exited {
            s.status = Status::Exited;
            s.exit_code = Some(137);
            s.finished = Some(images::now_secs());
            s.note = note.into();
        }
    })?;
    if s.supervisor_alive() {
        // SAFETY: a plain kill(2) of a pid checked to be our supervisor (by start time).
        unsafe { libc::kill(s.pid as libc::pid_t, libc::SIGKILL) };
    }
    let start = Instant::now();
    while s.supervisor_alive() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Stops one container: its stop signal, then SIGKILL after `grace`.
fn stop_one(store: &images::Store, key: &str, grace: Duration) -> anyhow::Result<()> {
    let s = store.find_run(key)?;
    // Just registered: give its supervisor a moment to start.
    wait_for(store, &s.id, Duration::from_secs(5), |s| {
        s.status != Status::Created
    })?;
    let s = store.run_state(&s.id)?;
    if s.status != Status::Running {
        return Ok(());
    }
    let config = store.config(&s.image_id)?;
    let sig = crate::build::signal_number(&config.stop_signal).unwrap_or(libc::SIGTERM as u32);
    // SAFETY: a plain kill(2) of the live supervisor (run_state checked its start time).
    unsafe { libc::kill(s.pid as libc::pid_t, sig as libc::c_int) };
    let ended = wait_for(store, &s.id, grace, |s| !s.supervisor_alive())?;
    if !ended {
        kill(store, &s, "killed after the grace period")?;
    }
    Ok(())
}

/// Runs `f` for each key, reporting failures as Docker does (all tried, status 1).
fn each(keys: &[String], mut f: impl FnMut(&str) -> anyhow::Result<()>) -> i32 {
    let mut status = 0;
    for k in keys {
        match f(k.as_str()) {
            Ok(()) => println!("{k}"),
            Err(e) => {
                eprintln!("wsh: {e:#}");
                status = 1;
            }
        }
    }
    status
}

/// `wsh stop [-t SECS] NAME...`.
pub fn stop(keys: &[String], grace: u64) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    Ok(each(keys, |k| {
        stop_one(&store, k, Duration::from_secs(grace))
    }))
}

/// `wsh rm [-f] NAME...`.
pub fn rm(keys: &[String], force: bool) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let status = each(keys, |k| {
        let s = store.find_run(k)?;
        if s.status != Status::Exited {
            anyhow::ensure!(
                force,
                "cannot remove container {k}: it is running (stop it first, or use rm -f)"
            );
            kill(&store, &s, "removed with rm -f")?;
        }
        store.remove_run(&s.id)
    });
    // Opening the store removes the overlays of the supervisors just killed.
    images::open_store()?;
    Ok(status)
}

/// `wsh wait NAME...`: prints each exit status once it has exited.
pub fn wait(keys: &[String]) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let mut status = 0;
    for k in keys {
        let r = store.find_run(k).and_then(|s| {
            wait_for(&store, &s.id, Duration::MAX, |s| s.status == Status::Exited)?;
            store.run_state(&s.id)
        });
        match r {
            Ok(s) => println!("{}", s.exit_code.unwrap_or(-1)),
            Err(e) => {
                eprintln!("wsh: {e:#}");
                status = 1;
            }
        }
    }
    Ok(status)
}

/// `wsh container prune`: removes the exited containers.
pub fn prune() -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let mut freed = 0;
    println!("Deleted Containers:");
    for s in store.run_states()? {
        if s.status == Status::Exited {
            freed += std::fs::metadata(store.run_log(&s.id)).map_or(0, |m| m.len());
            store.remove_run(&s.id)?;
            println!("{}", s.id);
        }
    }
    println!();
    println!("Total reclaimed space: {}", human_size(freed));
    Ok(0)
}

/// `wsh start NAME...`: runs an exited container's command again, on its files.
pub fn start(keys: &[String]) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    Ok(each(keys, |k| start_one(&store, k)))
}

fn start_one(store: &images::Store, key: &str) -> anyhow::Result<()> {
    let s = store.find_run(key)?;
    if s.status != Status::Exited {
        return Ok(());
    }
    anyhow::ensure!(
        s.overlay.is_some(),
        "container {key} keeps no files (made by an older wsh): it cannot start again"
    );
    store.update_run(&s.id, |s| {
        s.status = Status::Created;
        s.exit_code = None;
        s.finished = None;
        s.note = String::new();
        s.pid = 0;
        s.pid_start = 0;
        s.ports.clear();
        s.started = Some(images::now_secs());
    })?;
    spawn_supervisor(store, &s.id)
}

/// `wsh restart [-t SECS] NAME...`: stop, then start.
pub fn restart(keys: &[String], grace: u64) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    Ok(each(keys, |k| {
        stop_one(&store, k, Duration::from_secs(grace))?;
        start_one(&store, k)
    }))
}

/// `wsh port NAME [GUEST[/tcp]]`: the published ports of a running container.
pub fn port(key: &str, guest: Option<&str>) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let s = store.find_run(key)?;
    let ports = if s.status == Status::Running {
        s.ports.clone()
    } else {
        Vec::new()
    };
    match guest {
        Some(g) => {
            let (p, proto) = g.split_once('/').unwrap_or((g, "tcp"));
            let want: u16 = p
                .parse()
                .map_err(|_| anyhow::anyhow!("invalid port {g:?}"))?;
            let hits: Vec<_> = ports.iter().filter(|(gp, _)| *gp == want).collect();
            anyhow::ensure!(
                proto == "tcp" && !hits.is_empty(),
                "no public port '{want}/{proto}' published for {key}"
            );
            for (_, host) in hits {
                println!("{host}");
            }
        }
        None => {
            for (gp, host) in &ports {
                println!("{gp}/tcp -> {host}");
            }
        }
    }
    Ok(0)
}

/// `wsh exec [-i] [-e K=V] [-w DIR] [-u USER] NAME CMD...` in a running container.
pub fn exec(
    key: &str,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    workdir: Option<String>,
    user: Option<String>,
    interactive: bool,
) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let s = store.find_run(key)?;
    wait_for(&store, &s.id, Duration::from_secs(10), |s| {
        s.status != Status::Created
    })?;
    let s = store.run_state(&s.id)?;
    anyhow::ensure!(
        s.status == Status::Running,
        "container {key} is not running (wsh start {key} runs it again)"
    );
    let req = super::ctl::Request::Exec {
        argv,
        env,
        workdir,
        user,
        interactive,
    };
    super::cp::when_served(&store, &s, || {
        super::ctl::run_exec(&store.run_path(&s.id), &req, interactive)
    })
}

/// Reads a Docker `--env-file`: `K=V` lines, `#` comments and blank lines skipped; a
/// bare `K` takes the host's value if it has one (as Docker does).
pub fn read_env_file(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("--env-file {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some(("", _)) => {
                anyhow::bail!("{}:{}: no variable name", path.display(), n + 1)
            }
            Some((k, v)) => out.push((k.to_string(), v.to_string())),
            None => {
                if let Ok(v) = std::env::var(line) {
                    out.push((line.to_string(), v));
                }
            }
        }
    }
    Ok(out)
}
