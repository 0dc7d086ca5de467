//! `wsh compose up|down|ps|logs`: the services of a `compose.yaml` (Docker
//! Compose's file: `image` or `build`, `command`, `entrypoint`, `environment`,
//! `ports`, `working_dir`, `user`, `depends_on`) as detached containers on one
//! named network, `PROJECT_default`, where each reaches the others by service name.
//! Each step is the `wsh` command a user would type (`build`, `run -d`, `rm -f`,
//! `network create`), run as a child process, so a service's supervisor is the
//! same as `wsh run -d`'s. Keys wsh does not act on are named on stderr.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

/// The compose file names looked for, in Docker Compose's order (and balena's).
const FILES: [&str; 5] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
    "balena-compose.yml",
];

/// Service keys wsh acts on; others are reported as ignored.
const KNOWN: [&str; 10] = [
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "ports",
    "working_dir",
    "user",
    "depends_on",
    "container_name",
];

/// A string or a list of strings (`command`, `entrypoint`).
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Words {
    Line(String),
    List(Vec<String>),
}

impl Words {
    fn argv(&self) -> anyhow::Result<Vec<String>> {
        match self {
            Words::List(l) => Ok(l.clone()),
            // Compose splits a string as a shell would, without running one.
            Words::Line(s) => shell_words::split(s).with_context(|| format!("cannot split {s:?}")),
        }
    }
}

/// `environment` as a list of `K=V` or a map.
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Env {
    List(Vec<String>),
    Map(BTreeMap<String, Option<serde_yaml::Value>>),
}

/// `depends_on` as a list or a map (whose conditions wsh does not wait for).
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Deps {
    List(Vec<String>),
    Map(BTreeMap<String, serde_yaml::Value>),
}

/// `build` as a context path or `{context, dockerfile}`.
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Build {
    Context(String),
    Full {
        #[serde(default)]
        context: Option<String>,
        #[serde(default)]
        dockerfile: Option<String>,
    },
}

/// A port as text (`"8080:80"`) or a bare number.
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Port {
    Text(String),
    Number(u64),
}

#[derive(Deserialize, Debug, Clone, Default)]
struct Service {
    image: Option<String>,
    build: Option<Build>,
    command: Option<Words>,
    entrypoint: Option<Words>,
    environment: Option<Env>,
    #[serde(default)]
    ports: Vec<Port>,
    working_dir: Option<String>,
    user: Option<String>,
    depends_on: Option<Deps>,
    container_name: Option<String>,
}

#[derive(Deserialize, Debug)]
struct File {
    services: BTreeMap<String, Service>,
}

/// A compose project: its name, directory and services in start order.
struct Project {
    name: String,
    dir: PathBuf,
    services: Vec<(String, Service)>,
}

impl Project {
    fn network(&self) -> String {
        format!("{}_default", self.name)
    }

    fn container(&self, service: &str, s: &Service) -> String {
        s.container_name
            .clone()
            .unwrap_or_else(|| format!("{}-{service}-1", self.name))
    }
}

/// Compose's interpolation in every string value: `$$` is `$`, `${VAR}`,
/// `${VAR:-default}`, `${VAR-default}` and `$VAR` take the environment wsh runs in.
fn interpolate(v: &mut serde_yaml::Value) -> anyhow::Result<()> {
    match v {
        serde_yaml::Value::String(s) => *s = interpolate_text(s)?,
        serde_yaml::Value::Sequence(items) => {
            for i in items {
                interpolate(i)?;
            }
        }
        serde_yaml::Value::Mapping(m) => {
            for (_, i) in m.iter_mut() {
                interpolate(i)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn interpolate_text(s: &str) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('{') {
            let end = r
                .find('}')
                .with_context(|| format!("unterminated ${{ in {s:?}"))?;
            let expr = &r[..end];
            let (name, default, colon) = match expr.find([':', '-']) {
                Some(k) if expr[k..].starts_with(":-") => (&expr[..k], Some(&expr[k + 2..]), true),
                Some(k) if expr[k..].starts_with('-') => (&expr[..k], Some(&expr[k + 1..]), false),
                _ => (expr, None, false),
            };
            let value = std::env::var(name).ok();
            out.push_str(&match (value, default) {
                (Some(v), Some(d)) if colon && v.is_empty() => d.to_string(),
                (Some(v), _) => v,
                (None, Some(d)) => d.to_string(),
                (None, None) => String::new(),
            });
            rest = &r[end + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(&std::env::var(&after[..len]).unwrap_or_default());
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Reads the compose file (`file`, or the first of [`FILES`] in the current
/// directory) and orders the services so that each comes after what it depends on.
fn load(file: Option<&Path>, project: Option<&str>) -> anyhow::Result<Project> {
    let path = match file {
        Some(f) => f.to_path_buf(),
        None => FILES
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .with_context(|| format!("no compose file here (looked for {})", FILES.join(", ")))?,
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    let mut raw: serde_yaml::Value =
        serde_yaml::from_str(&text).with_context(|| format!("{}", path.display()))?;
    interpolate(&mut raw).with_context(|| format!("{}", path.display()))?;
    let parsed: File =
        serde_yaml::from_value(raw.clone()).with_context(|| format!("{}", path.display()))?;
    if let Some(services) = raw.get("services").and_then(|s| s.as_mapping()) {
        for (name, body) in services {
            for key in body.as_mapping().into_iter().flat_map(|m| m.keys()) {
                let key = key.as_str().unwrap_or_default();
                if !KNOWN.contains(&key) {
                    eprintln!(
                        "wsh compose: {}: service {}: `{key}` is ignored (not supported)",
                        path.display(),
                        name.as_str().unwrap_or_default()
                    );
                }
            }
        }
    }
    let dir = path
        .canonicalize()?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let name = match project {
        Some(p) => p.to_string(),
        None => dir
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_else(|| "default".into())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            .collect(),
    };
    anyhow::ensure!(!name.is_empty(), "cannot make a project name: use -p NAME");
    // Depth-first order over depends_on, refusing cycles and unknown services.
    let mut order: Vec<String> = Vec::new();
    fn visit(
        name: &str,
        all: &BTreeMap<String, Service>,
        order: &mut Vec<String>,
        path: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        if order.iter().any(|n| n == name) {
            return Ok(());
        }
        anyhow::ensure!(
            !path.iter().any(|n| n == name),
            "depends_on has a cycle: {} -> {name}",
            path.join(" -> ")
        );
        let s = all
            .get(name)
            .with_context(|| format!("depends_on names an unknown service {name:?}"))?;
        path.push(name.to_string());
        let deps: Vec<String> = match &s.depends_on {
            Some(Deps::List(l)) => l.clone(),
            Some(Deps::Map(m)) => m.keys().cloned().collect(),
            None => Vec::new(),
        };
        for d in deps {
            visit(&d, all, order, path)?;
        }
        path.pop();
        order.push(name.to_string());
        Ok(())
    }
    for name in parsed.services.keys() {
        visit(name, &parsed.services, &mut order, &mut Vec::new())?;
    }
    let services = order
        .into_iter()
        .map(|n| {
            let s = parsed.services[&n].clone();
            (n, s)
        })
        .collect();
    Ok(Project {
        name,
        dir,
        services,
    })
}

/// Runs `wsh ARGS` (this same program); fails with its stderr when it fails.
fn wsh(args: &[String]) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot find the wsh program")?;
    let out = Command::new(exe)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot run wsh {}", args.join(" ")))?;
    anyhow::ensure!(
        out.status.success(),
        "wsh {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim_end()
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// `wsh compose up [-d] [--build]`.
pub fn up(
    file: Option<&Path>,
    project: Option<&str>,
    detach: bool,
    build: bool,
) -> anyhow::Result<i32> {
    let p = load(file, project)?;
    let net = p.network();
    if !crate::build::ports::network_dir(&net)?.is_dir() {
        wsh(&strings(&["network", "create", &net]))?;
    }
    let mut started = Vec::new();
    for (service, s) in &p.services {
        let image = match (&s.build, &s.image) {
            (Some(b), image) => {
                let tag = image
                    .clone()
                    .unwrap_or_else(|| format!("{}-{service}", p.name));
                let (context, dockerfile) = match b {
                    Build::Context(c) => (c.clone(), None),
                    Build::Full {
                        context,
                        dockerfile,
                    } => (
                        context.clone().unwrap_or_else(|| ".".into()),
                        dockerfile.clone(),
                    ),
                };
                let context = p.dir.join(context);
                let mut args = strings(&["build", "-q", "-t", &tag]);
                if let Some(f) = dockerfile {
                    args.extend(["-f".into(), context.join(f).display().to_string()]);
                }
                args.push(context.display().to_string());
                // Built each time `--build` asks or the image is missing.
                if build || images::open_store()?.resolve(&tag).is_err() {
                    eprintln!("wsh compose: building {service}");
                    wsh(&args)?;
                }
                tag
            }
            (None, Some(image)) => image.clone(),
            (None, None) => anyhow::bail!("service {service}: neither image nor build"),
        };
        let name = p.container(service, s);
        let _ = wsh(&strings(&["rm", "-f", &name]));
        let mut args = strings(&[
            "run",
            "-d",
            "--name",
            &name,
            "--network",
            &net,
            "--network-alias",
            service,
        ]);
        match &s.environment {
            Some(Env::List(l)) => {
                for kv in l {
                    args.extend(["-e".into(), kv.clone()]);
                }
            }
            Some(Env::Map(m)) => {
                for (k, v) in m {
                    let v = match v {
                        Some(serde_yaml::Value::String(s)) => s.clone(),
                        Some(serde_yaml::Value::Null) | None => String::new(),
                        Some(other) => serde_yaml::to_string(other)?.trim_end().to_string(),
                    };
                    args.extend(["-e".into(), format!("{k}={v}")]);
                }
            }
            None => {}
        }
        for port in &s.ports {
            let spec = match port {
                Port::Text(t) => t.clone(),
                Port::Number(n) => n.to_string(),
            };
            args.extend(["-p".into(), spec]);
        }
        if let Some(w) = &s.working_dir {
            args.extend(["-w".into(), w.clone()]);
        }
        if let Some(u) = &s.user {
            args.extend(["-u".into(), u.clone()]);
        }
        if let Some(e) = &s.entrypoint {
            // `run --entrypoint` takes one word: the rest goes before the command.
            let argv = e.argv()?;
            if let Some((first, rest)) = argv.split_first() {
                args.extend(["--entrypoint".into(), first.clone(), image.clone()]);
                args.extend(rest.iter().cloned());
            } else {
                args.extend(["--entrypoint".into(), String::new(), image.clone()]);
            }
        } else {
            args.push(image.clone());
        }
        if let Some(c) = &s.command {
            args.extend(c.argv()?);
        }
        wsh(&args).with_context(|| format!("service {service}"))?;
        eprintln!("wsh compose: started {name}");
        started.push((service.clone(), name));
    }
    if detach {
        return Ok(0);
    }
    follow(&started)
}

/// Follows the services' logs, each line prefixed with its service, until every
/// container has exited (`up` without `-d`; Ctrl-C stops the services).
fn follow(containers: &[(String, String)]) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let width = containers.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
    let mut files = Vec::new();
    for (service, name) in containers {
        let state = store.find_run(name)?;
        let f = std::fs::File::open(store.run_log(&state.id))
            .with_context(|| format!("{name}: no log"))?;
        files.push((service.clone(), state.id, f, Vec::<u8>::new()));
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone());
    let mut out = std::io::stdout().lock();
    loop {
        let mut running = 0;
        for (service, id, f, pending) in &mut files {
            let exited = store.run_state(id)?.status == images::containers_state::Status::Exited;
            f.read_to_end(pending)?;
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                write!(out, "{service:<width$} | ")?;
                out.write_all(&line)?;
            }
            if exited && !pending.is_empty() {
                write!(out, "{service:<width$} | ")?;
                out.write_all(pending)?;
                writeln!(out)?;
                pending.clear();
            }
            if !exited {
                running += 1;
            }
        }
        out.flush()?;
        if running == 0 {
            return Ok(0);
        }
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            eprintln!("wsh compose: stopping");
            let names: Vec<String> = containers.iter().map(|(_, n)| n.clone()).collect();
            let mut args = strings(&["stop"]);
            args.extend(names);
            wsh(&args)?;
            return Ok(130);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `wsh compose down`: removes the services' containers and the project network.
pub fn down(file: Option<&Path>, project: Option<&str>) -> anyhow::Result<i32> {
    let p = load(file, project)?;
    for (service, s) in p.services.iter().rev() {
        let name = p.container(service, s);
        if wsh(&strings(&["rm", "-f", &name])).is_ok() {
            eprintln!("wsh compose: removed {name}");
        }
    }
    let net = p.network();
    if crate::build::ports::network_dir(&net)?.is_dir() {
        // The supervisors may still be exiting: give the network a moment to empty.
        let mut last = Ok(String::new());
        for _ in 0..50 {
            last = wsh(&strings(&["network", "rm", &net]));
            if last.is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        last?;
        eprintln!("wsh compose: removed network {net}");
    }
    Ok(0)
}

/// `wsh compose ps`: the project's containers, as `wsh ps -a` shows them.
pub fn ps(file: Option<&Path>, project: Option<&str>) -> anyhow::Result<i32> {
    let p = load(file, project)?;
    let names: Vec<String> = p.services.iter().map(|(n, s)| p.container(n, s)).collect();
    let listing = wsh(&strings(&["ps", "-a"]))?;
    let mut lines = listing.lines();
    if let Some(header) = lines.next() {
        println!("{header}");
    }
    for l in lines {
        if names
            .iter()
            .any(|n| l.split_whitespace().last() == Some(n.as_str()))
        {
            println!("{l}");
        }
    }
    Ok(0)
}

/// `wsh compose logs [SERVICE...]`: each line prefixed with its service.
pub fn logs(file: Option<&Path>, project: Option<&str>, only: &[String]) -> anyhow::Result<i32> {
    let p = load(file, project)?;
    let store = images::open_store()?;
    let chosen: Vec<&(String, Service)> = p
        .services
        .iter()
        .filter(|(n, _)| only.is_empty() || only.contains(n))
        .collect();
    let width = chosen.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for (service, s) in chosen {
        let Ok(state) = store.find_run(&p.container(service, s)) else {
            continue;
        };
        let text = std::fs::read(store.run_log(&state.id)).unwrap_or_default();
        for line in text.split_inclusive(|&b| b == b'\n') {
            write!(out, "{service:<width$} | ")?;
            out.write_all(line)?;
            if !line.ends_with(b"\n") {
                writeln!(out)?;
            }
        }
    }
    Ok(0)
}
