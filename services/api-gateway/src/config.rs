//! The `api_gateway.*` section.

use std::net::SocketAddr;
use std::time::Duration;

use kalcord_config::{Reader, Section};
use kalcord_runtime::ServiceConfig;

/// Default public address of the standalone binary.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default public address of the service binary.
pub const DEFAULT_SERVICE_LISTEN: &str = "0.0.0.0:8080";
/// Default time each service gets to answer a status request.
pub const DEFAULT_STATUS_TIMEOUT: Duration = Duration::from_secs(1);

/// Configuration of the HTTP edge.
#[derive(Clone, Debug)]
pub struct Config {
    /// Public HTTP address.
    pub listen: SocketAddr,
    /// Time the interactions service gets before the edge defers an interaction.
    pub interaction_timeout: Duration,
    /// Time each service gets to answer `GET /api/v1/status`.
    pub status_timeout: Duration,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
}

impl Section for Config {
    fn read(r: &mut Reader<'_>) -> Self {
        let standalone = DEFAULT_LISTEN.parse().expect("valid default");
        let service = DEFAULT_SERVICE_LISTEN.parse().expect("valid default");
        let config = Self {
            listen: r.get_for(
                "listen",
                standalone,
                service,
                "Public HTTP address (Discord interactions, webhooks, REST API); port 0 picks a free port.",
            ),
            interaction_timeout: r.duration(
                "interaction_timeout",
                crate::interactions::DEFAULT_INTERACTION_TIMEOUT,
                "Time the interactions service gets before the edge answers Discord with a deferral (Discord allows 3 s).",
            ),
            status_timeout: r.duration(
                "status_timeout",
                DEFAULT_STATUS_TIMEOUT,
                "Time each service gets to answer GET /api/v1/status.",
            ),
            workers: r.get("workers", 0, "HTTP worker threads; 0 means one per CPU core."),
        };
        if config.interaction_timeout.is_zero() || config.interaction_timeout > Duration::from_millis(2800) {
            r.invalid("interaction_timeout", "must be between 1ms and 2.8s: Discord gives up after 3 s");
        }
        if config.status_timeout.is_zero() {
            r.invalid("status_timeout", "must be greater than zero");
        }
        config
    }
}

impl ServiceConfig for Config {
    const SECTION: &'static str = "api_gateway";
}
