//! `wsh network create|ls|rm`: named networks (see `wsh_runtime::bridge`). A
//! network is a directory under the store's `networks/`; its members' files are
//! written by the containers' runtimes.

use anyhow::Context;

use crate::build::ports::network_dir as dir;

/// The names of the members a network has now.
fn members(name: &str) -> anyhow::Result<Vec<String>> {
    Ok(wsh_runtime::bridge::members(&dir(name)?))
}

/// `wsh network create NAME`.
pub fn create(name: &str) -> anyhow::Result<i32> {
    let d = dir(name)?;
    anyhow::ensure!(
        !matches!(name, "none" | "host" | "bridge"),
        "{name} is a predefined network"
    );
    std::fs::create_dir_all(d.parent().context("no store")?)?;
    match std::fs::create_dir(&d) {
        Ok(()) => {
            println!("{name}");
            Ok(0)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            anyhow::bail!("network with name {name} already exists")
        }
        Err(e) => Err(e).with_context(|| format!("cannot create network {name}")),
    }
}

/// `wsh network ls [-q]`.
pub fn ls(quiet: bool) -> anyhow::Result<i32> {
    let root = images::Dirs::locate()?.data.join("networks");
    let mut names: Vec<String> = match std::fs::read_dir(&root) {
        Ok(rd) => rd
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    if !quiet {
        println!("{:<24} {:<8} MEMBERS", "NAME", "DRIVER");
        println!("{:<24} {:<8} -", "host", "host");
        println!("{:<24} {:<8} -", "none", "null");
    }
    for n in names {
        if quiet {
            println!("{n}");
        } else {
            println!("{n:<24} {:<8} {}", "wsh", members(&n)?.join(","));
        }
    }
    Ok(0)
}

/// `wsh network rm NAME...`: refused while containers are on it.
pub fn rm(names: &[String]) -> anyhow::Result<i32> {
    let mut status = 0;
    for name in names {
        let d = dir(name)?;
        let attached = members(name)?;
        if !d.is_dir() {
            eprintln!("wsh: network {name} not found");
            status = 1;
        } else if !attached.is_empty() {
            eprintln!(
                "wsh: network {name} has active endpoints: {}",
                attached.join(", ")
            );
            status = 1;
        } else {
            std::fs::remove_dir_all(&d).with_context(|| format!("cannot remove network {name}"))?;
            println!("{name}");
        }
    }
    Ok(status)
}
