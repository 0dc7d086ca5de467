//! `wsh run -p/-P/--network`: the container's network (see `wsh_runtime::net`).
//!
//! `-p [IP:][HOST:]GUEST[/tcp]` binds the host side before the command starts (on
//! 127.0.0.1 unless IP says otherwise: a published port is reachable from this
//! host only, unless asked); HOST 0 or missing picks a free port. `-P` publishes
//! every `EXPOSE`d TCP port of the image on a free loopback port. Each mapping
//! bound is printed on stderr (`wsh: published 127.0.0.1:49153 -> 80/tcp`).
//! `--network none` (the default), `host`, or a network made by `wsh network create`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::Context as _;
use wsh_runtime::net::{Network, Policy};

/// One `-p` mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    /// Host address to bind (127.0.0.1 unless given).
    pub ip: IpAddr,
    /// Host port (0: a free one).
    pub host: u16,
    /// The port guests listen on.
    pub guest: u16,
}

fn port(s: &str, what: &str) -> Result<u16, String> {
    s.parse::<u16>()
        .map_err(|_| format!("invalid {what} port {s:?} (expected 0-65535)"))
}

/// Parses `-p [IP:][HOST:]GUEST[/tcp]` (IPv6 addresses in brackets).
pub fn parse_publish(s: &str) -> Result<PortSpec, String> {
    let err = |m: String| format!("-p {s}: {m}");
    let (spec, proto) = s.rsplit_once('/').unwrap_or((s, "tcp"));
    if proto != "tcp" {
        return Err(err(format!(
            "only tcp ports can be published (not {proto:?})"
        )));
    }
    let (ip, rest) = if let Some(r) = spec.strip_prefix('[') {
        let (ip, rest) = r
            .split_once("]:")
            .ok_or_else(|| err("expected [IPV6]:HOST:GUEST".into()))?;
        (Some(ip), rest)
    } else {
        match spec.matches(':').count() {
            2 => {
                let (ip, rest) = spec.split_once(':').unwrap();
                (Some(ip), rest)
            }
            0 | 1 => (None, spec),
            _ => return Err(err("expected [IP:][HOST:]GUEST".into())),
        }
    };
    let ip = match ip {
        Some(ip) => ip
            .parse::<IpAddr>()
            .map_err(|_| err(format!("invalid IP address {ip:?}")))?,
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let (host, guest) = match rest.split_once(':') {
        Some(("", g)) => (0, port(g, "container").map_err(err)?),
        Some((h, g)) => (
            port(h, "host").map_err(err)?,
            port(g, "container").map_err(err)?,
        ),
        None => (0, port(rest, "container").map_err(err)?),
    };
    if guest == 0 {
        return Err(err("the container port cannot be 0".into()));
    }
    Ok(PortSpec { ip, host, guest })
}

/// `--network`: none (the default), the host's, or a named network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NetworkMode {
    /// No network: only the published ports.
    #[default]
    None,
    /// The host's network.
    Host,
    /// A network made by `wsh network create NAME`: its members by name, nothing else.
    Named(String),
}

impl NetworkMode {
    /// The runtime policy for the host's network.
    pub fn policy(&self) -> Policy {
        match self {
            NetworkMode::Host => Policy::Host,
            NetworkMode::None | NetworkMode::Named(_) => Policy::None,
        }
    }
}

/// The store directory of network `name` (which need not exist).
pub fn network_dir(name: &str) -> anyhow::Result<std::path::PathBuf> {
    anyhow::ensure!(
        valid_network_name(name),
        "invalid network name {name:?}: use [a-zA-Z0-9][a-zA-Z0-9_.-]*"
    );
    Ok(images::Dirs::locate()?.data.join("networks").join(name))
}

/// Docker's rule for network names.
pub fn valid_network_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Parses `--network MODE`.
pub fn parse_network(s: &str) -> Result<NetworkMode, String> {
    match s {
        "none" => Ok(NetworkMode::None),
        "host" => Ok(NetworkMode::Host),
        "bridge" => Err(
            "--network bridge: there is no default bridge; make one with `wsh network create NAME`"
                .into(),
        ),
        name if valid_network_name(name) => Ok(NetworkMode::Named(name.to_string())),
        _ => Err(format!("--network {s}: not a network name")),
    }
}

/// Binds the published ports (`-p`, and with `-P` the image's `EXPOSE`d TCP
/// ports) and prints each mapping on stderr.
pub fn network(
    policy: Policy,
    publish: &[PortSpec],
    publish_all: bool,
    exposed: &[String],
) -> anyhow::Result<Network> {
    let mut net = Network::none();
    net.policy = policy;
    let mut specs = publish.to_vec();
    if publish_all {
        for e in exposed {
            let (p, proto) = e.split_once('/').unwrap_or((e, "tcp"));
            let Ok(guest) = p.parse::<u16>() else {
                continue;
            };
            if proto != "tcp" {
                eprintln!("wsh: -P: EXPOSE {e} skipped: only tcp ports can be published");
                continue;
            }
            if !specs.iter().any(|s| s.guest == guest) {
                specs.push(PortSpec {
                    ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
                    host: 0,
                    guest,
                });
            }
        }
    }
    for s in &specs {
        anyhow::ensure!(
            net.published_for(s.guest).is_none(),
            "-p: container port {} is published twice",
            s.guest
        );
        let at = SocketAddr::new(s.ip, s.host);
        let bound = net
            .publish(at, s.guest)
            .with_context(|| format!("-p {at}: cannot publish container port {}", s.guest))?;
        eprintln!("wsh: published {bound} -> {}/tcp", s.guest);
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ip: &str, host: u16, guest: u16) -> PortSpec {
        PortSpec {
            ip: ip.parse().unwrap(),
            host,
            guest,
        }
    }

    #[test]
    fn publish_forms_follow_docker() {
        assert_eq!(parse_publish("8080:80"), Ok(spec("127.0.0.1", 8080, 80)));
        assert_eq!(parse_publish("80"), Ok(spec("127.0.0.1", 0, 80)));
        assert_eq!(
            parse_publish("0.0.0.0:8080:80/tcp"),
            Ok(spec("0.0.0.0", 8080, 80))
        );
        assert_eq!(parse_publish("127.0.0.1::80"), Ok(spec("127.0.0.1", 0, 80)));
        assert_eq!(parse_publish("[::1]:8080:80"), Ok(spec("::1", 8080, 80)));
        assert!(
            parse_publish("8080:80/udp")
                .unwrap_err()
                .contains("only tcp")
        );
        assert!(parse_publish("x:80").is_err());
        assert!(parse_publish("8080:0").is_err());
        assert!(parse_publish("1.2.3:8080:80").is_err());
    }

    #[test]
    fn network_modes() {
        assert_eq!(parse_network("host"), Ok(NetworkMode::Host));
        assert_eq!(parse_network("none"), Ok(NetworkMode::None));
        assert_eq!(
            parse_network("mynet"),
            Ok(NetworkMode::Named("mynet".into()))
        );
        assert!(parse_network("bridge").is_err());
        assert!(parse_network("../x").is_err());
    }
}
