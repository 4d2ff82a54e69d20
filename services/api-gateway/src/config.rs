//! The `api_gateway.*` section.

use std::net::SocketAddr;
use std::time::Duration;

use kalcord_config::{Profile, Reader, Secret, Section};
use kalcord_runtime::ServiceConfig;

/// Default public address of the standalone binary.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default public address of the service binary.
pub const DEFAULT_SERVICE_LISTEN: &str = "0.0.0.0:8080";
/// Default time each service gets to answer a status request.
pub const DEFAULT_STATUS_TIMEOUT: Duration = Duration::from_secs(1);
/// Default lifetime of an API token.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_hours(1);
/// Default time a REST request waits for its service (and for Discord).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time a member's roles and permissions are cached.
pub const DEFAULT_MEMBER_CACHE_TTL: Duration = Duration::from_mins(1);

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
    /// Key signing API tokens and `OAuth2` state cookies; `None`: a random key per process.
    pub token_key: Option<Secret>,
    /// Lifetime of an API token.
    pub token_ttl: Duration,
    /// Time a REST request waits for its service over the bus, and for Discord.
    pub request_timeout: Duration,
    /// Time a member's roles and permissions are cached.
    pub member_cache_ttl: Duration,
}

impl Default for Config {
    /// The standalone defaults.
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.parse().expect("valid default"),
            interaction_timeout: crate::interactions::DEFAULT_INTERACTION_TIMEOUT,
            status_timeout: DEFAULT_STATUS_TIMEOUT,
            workers: 0,
            token_key: None,
            token_ttl: DEFAULT_TOKEN_TTL,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            member_cache_ttl: DEFAULT_MEMBER_CACHE_TTL,
        }
    }
}

impl Section for Config {
    fn read(r: &mut Reader<'_>) -> Self {
        let standalone = DEFAULT_LISTEN.parse().expect("valid default");
        let service = DEFAULT_SERVICE_LISTEN.parse().expect("valid default");
        let mut config = Self {
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
            token_key: None,
            token_ttl: r.duration("token_ttl", DEFAULT_TOKEN_TTL, "Lifetime of the API tokens /oauth2/callback issues."),
            request_timeout: r.duration(
                "request_timeout",
                DEFAULT_REQUEST_TIMEOUT,
                "Time a REST request waits for its service over the bus (and for Discord's member lookups).",
            ),
            member_cache_ttl: r.duration(
                "member_cache_ttl",
                DEFAULT_MEMBER_CACHE_TTL,
                "Time a member's roles and permissions, read from Discord for REST requests, are cached.",
            ),
        };
        let token_doc = "Key (at least 32 characters) signing API tokens and OAuth2 state cookies; required by the service binary, random per process in standalone when unset.";
        config.token_key = match r.profile() {
            Profile::Distributed => Some(r.required_secret("token_key", token_doc)),
            Profile::Standalone => r.secret("token_key", token_doc),
        };
        if config.token_key.as_ref().is_some_and(|key| !key.is_empty() && key.expose().len() < 32) {
            r.invalid("token_key", "must be at least 32 characters");
        }
        if config.token_ttl < Duration::from_mins(1) || config.token_ttl > Duration::from_hours(24) {
            r.invalid("token_ttl", "must be between 1 minute and 24 hours");
        }
        if config.request_timeout.is_zero() {
            r.invalid("request_timeout", "must be greater than zero");
        }
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
