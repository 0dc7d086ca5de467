//! A container's network: what its guests may reach (the policy) and the host
//! ports published into it (`wsh run -p`).
//!
//! The default is no network, as BuildKit's `RUN --network=none`: a guest's
//! connect fails with ENETUNREACH, a listen on a port that is not published with
//! EACCES, name resolution of anything but numeric addresses and `localhost`
//! with ENETUNREACH. `host` (`wsh run --network host`) lets guests connect out and
//! listen on host ports themselves. Published ports work under either policy:
//! wsh binds the host side before any guest starts, each guest gets the listener
//! as a preopened socket, and a guest listening on the published guest port is
//! handed that same listener. On a named network (`crate::bridge`) guests also
//! reach the other members by name, and listen for them.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

/// What a container's guests may do on the host's network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Policy {
    /// No network: only the published ports (the default).
    #[default]
    None,
    /// The host's network: connect anywhere, listen on any free host port.
    Host,
}

/// One published port: a host listener answering for a guest port.
#[derive(Debug, Clone)]
pub struct Published {
    /// The port guests listen on (the GUEST of `-p HOST:GUEST`).
    pub guest_port: u16,
    /// Where the host listens (the port picked when HOST was 0).
    pub host: SocketAddr,
    /// The listening socket (non-blocking; guests wait on it through the broker).
    pub listener: Arc<TcpListener>,
}

/// A container's network: its policy and published ports.
#[derive(Debug, Default, Clone)]
pub struct Network {
    /// What guests may reach.
    pub policy: Policy,
    /// Published ports, in the order given (their preopened descriptors follow it).
    pub published: Vec<Published>,
    /// The named network the container is on (`--network NAME`): its members are
    /// reachable by name, whatever the policy.
    pub bridge: Option<Arc<crate::bridge::Bridge>>,
}

impl Network {
    /// No network and nothing published.
    pub fn none() -> Network {
        Network::default()
    }

    /// Binds `host` (port 0: a free one) and publishes it as `guest_port`;
    /// returns the address bound.
    pub fn publish(&mut self, host: SocketAddr, guest_port: u16) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(host)?;
        listener.set_nonblocking(true)?;
        let host = listener.local_addr()?;
        self.published.push(Published {
            guest_port,
            host,
            listener: Arc::new(listener),
        });
        Ok(host)
    }

    /// The listener published for guest port `port`, if any.
    pub fn published_for(&self, port: u16) -> Option<Arc<TcpListener>> {
        self.published
            .iter()
            .find(|p| p.guest_port == port)
            .map(|p| p.listener.clone())
    }
}
