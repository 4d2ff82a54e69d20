//! The `bus.*` section and connecting to the configured backend.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use kalcord_config::{Reader, Secret, Section};
use url::Url;

use crate::{BusError, MemoryBus, NatsBus, SharedBus};

/// Default NATS URL.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";
/// Default timeout of a request between services.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Which bus implementation a process uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusBackend {
    /// In-process bus (standalone mode).
    Memory,
    /// NATS with JetStream (distributed mode).
    Nats,
}

impl FromStr for BusBackend {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "memory" => Ok(Self::Memory),
            "nats" => Ok(Self::Nats),
            _ => Err("expected `memory` or `nats`".to_owned()),
        }
    }
}

impl fmt::Display for BusBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory",
            Self::Nats => "nats",
        })
    }
}

/// How to reach the bus.
#[derive(Clone, Debug)]
pub struct BusConfig {
    /// Implementation.
    pub backend: BusBackend,
    /// Timeout of connecting to NATS.
    pub connect_timeout: Duration,
    /// Prefix of every subject and stream.
    pub prefix: String,
    /// Default timeout of requests between services.
    pub request_timeout: Duration,
    /// JetStream replicas of each stream (3 in a clustered NATS).
    pub stream_replicas: usize,
    /// NATS token, if the server wants one.
    pub token: Option<Secret>,
    /// NATS URL (user and password may be embedded; they are never logged).
    pub url: Url,
}

impl Section for BusConfig {
    fn read(r: &mut Reader<'_>) -> Self {
        let config = Self {
            backend: r.get_for(
                "backend",
                BusBackend::Memory,
                BusBackend::Nats,
                "Bus implementation: `memory` (in process) or `nats` (NATS JetStream).",
            ),
            connect_timeout: r.duration("connect_timeout", Duration::from_secs(5), "Timeout of connecting to NATS."),
            prefix: r.get(
                "prefix",
                String::new(),
                "Prefix of every subject and stream name, to share one NATS account between deployments.",
            ),
            request_timeout: r.duration(
                "request_timeout",
                DEFAULT_REQUEST_TIMEOUT,
                "Default timeout of a request between services.",
            ),
            stream_replicas: r.get(
                "stream_replicas",
                1,
                "JetStream replicas of each stream (use 3 on a clustered NATS).",
            ),
            token: r.secret("token", "NATS authentication token, if the server requires one."),
            url: r.get("url", Url::parse(DEFAULT_NATS_URL).expect("valid default"), "NATS server URL."),
        };
        if config.url.scheme() != "nats" && config.url.scheme() != "tls" {
            r.invalid("url", "scheme must be nats:// or tls://");
        }
        if config.prefix.contains(['*', '>', ' ']) || config.prefix.starts_with('.') || config.prefix.ends_with('.') {
            r.invalid("prefix", "must be a plain subject prefix such as `kalcord` or `team.kalcord`");
        }
        if !(1..=5).contains(&config.stream_replicas) {
            r.invalid("stream_replicas", "must be between 1 and 5");
        }
        config
    }
}

/// Connects to the configured bus and declares every stream kalcord uses.
///
/// # Errors
///
/// When NATS cannot be reached or refuses the streams.
pub async fn connect(config: &BusConfig, client_name: &str) -> Result<SharedBus, BusError> {
    let bus: SharedBus = match config.backend {
        BusBackend::Memory => Arc::new(MemoryBus::new(&config.prefix)),
        BusBackend::Nats => Arc::new(NatsBus::connect(config, client_name).await?),
    };
    for stream in crate::spec::streams() {
        bus.ensure_stream(&stream).await?;
    }
    Ok(bus)
}
