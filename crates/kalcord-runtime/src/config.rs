//! Configuration every kalcord process shares, and the root of a single-service process.

use std::net::SocketAddr;
use std::time::Duration;

use kalcord_bus::BusConfig;
use kalcord_cache::CacheConfig;
use kalcord_config::{Reader, SecretsConfig, Section};
use kalcord_discord::DiscordConfig;
use kalcord_kaltura::KalturaConfig;
use kalcord_telemetry::TelemetryConfig;

/// Default admin address of the standalone binary.
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9090";
/// Default admin address of a service binary (reachable by the cluster's Prometheus and probes).
pub const DEFAULT_SERVICE_ADMIN_LISTEN: &str = "0.0.0.0:9090";
/// Default store of the standalone binary: a SQLite file under `./data`.
pub const DEFAULT_SQLITE_URL: &str = "sqlite://data/kalcord.db";
/// Default store of a service binary.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/kalcord";
/// Default time given to in-flight work after SIGTERM.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);

/// Every configuration section of every service, so one file can configure them all.
pub const ALL_SECTIONS: &[&str] = &[
    "admin",
    "api_gateway",
    "bus",
    "cache",
    "discord",
    "gateway_shard",
    "identity",
    "interactions",
    "kaltura",
    "meetings",
    "notifications",
    "sandbox",
    "secrets",
    "shutdown",
    "store",
    "telemetry",
];

/// The `admin.*` section.
#[derive(Clone, Debug)]
pub struct AdminConfig {
    /// Address of `/healthz`, `/readyz`, `/metrics` and `/log-filter`.
    pub listen: SocketAddr,
}

impl Section for AdminConfig {
    fn read(r: &mut Reader<'_>) -> Self {
        let standalone = DEFAULT_ADMIN_LISTEN.parse().expect("valid default");
        let service = DEFAULT_SERVICE_ADMIN_LISTEN.parse().expect("valid default");
        Self {
            listen: r.get_for(
                "listen",
                standalone,
                service,
                "Address of the admin server (/healthz, /readyz, /metrics, /log-filter); port 0 picks a free port.",
            ),
        }
    }
}

/// The `shutdown.*` section.
#[derive(Clone, Debug)]
pub struct ShutdownConfig {
    /// Time in-flight work gets after SIGTERM or SIGINT before the process exits anyway.
    pub timeout: Duration,
}

impl Section for ShutdownConfig {
    fn read(r: &mut Reader<'_>) -> Self {
        Self {
            timeout: r.duration(
                "timeout",
                DEFAULT_SHUTDOWN_TIMEOUT,
                "Time in-flight work gets after SIGTERM/SIGINT before the process exits anyway.",
            ),
        }
    }
}

/// The `store.*` section.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Apply pending migrations at start.
    pub auto_migrate: bool,
    /// Database URL.
    pub url: StoreUrl,
}

/// A database URL whose `Display` and `Debug` hide any password.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreUrl(String);

impl StoreUrl {
    /// The full URL, password included, for connecting.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for StoreUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.starts_with("sqlite:") || text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(Self(text.to_owned()))
        } else {
            Err("expected a sqlite: or postgres:// URL".to_owned())
        }
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("redacted"));
                f.write_str(url.as_str())
            }
            _ => f.write_str(&self.0),
        }
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

impl Section for StoreConfig {
    fn read(r: &mut Reader<'_>) -> Self {
        let sqlite = DEFAULT_SQLITE_URL.parse().expect("valid default");
        let postgres = DEFAULT_POSTGRES_URL.parse().expect("valid default");
        Self {
            auto_migrate: r.get(
                "auto_migrate",
                true,
                "Apply pending database migrations at start (safe with several replicas).",
            ),
            url: r.get_for(
                "url",
                sqlite,
                postgres,
                "Database URL: `sqlite://path/file.db` or `postgres://user:password@host/db`.",
            ),
        }
    }
}

/// Sections shared by every process.
#[derive(Clone, Debug)]
pub struct CommonConfig {
    /// `admin.*`.
    pub admin: AdminConfig,
    /// `bus.*`.
    pub bus: BusConfig,
    /// `cache.*`.
    pub cache: CacheConfig,
    /// `discord.*`.
    pub discord: DiscordConfig,
    /// `kaltura.*`.
    pub kaltura: KalturaConfig,
    /// `secrets.*`.
    pub secrets: SecretsConfig,
    /// `shutdown.*`.
    pub shutdown: ShutdownConfig,
    /// `store.*`.
    pub store: StoreConfig,
    /// `telemetry.*`.
    pub telemetry: TelemetryConfig,
}

impl Section for CommonConfig {
    fn read(r: &mut Reader<'_>) -> Self {
        Self {
            admin: r.section("admin"),
            bus: r.section("bus"),
            cache: r.section("cache"),
            discord: r.section("discord"),
            kaltura: r.section("kaltura"),
            secrets: r.section("secrets"),
            shutdown: r.section("shutdown"),
            store: r.section("store"),
            telemetry: r.section("telemetry"),
        }
    }
}

impl CommonConfig {
    /// Every shared key at its standalone default (for tests and tools).
    ///
    /// # Panics
    ///
    /// Never: defaults always validate.
    #[must_use]
    pub fn defaults() -> Self {
        kalcord_config::read(
            &kalcord_config::Sources::empty(),
            &kalcord_config::SecretStore::empty(),
            kalcord_config::LoadOptions::default(),
        )
        .expect("defaults are valid")
    }
}

/// A service's own configuration section.
pub trait ServiceConfig: Section + Clone + std::fmt::Debug + Send + Sync + 'static {
    /// Section name, e.g. `api_gateway`.
    const SECTION: &'static str;
}

/// Configuration of a process running one service.
#[derive(Clone, Debug)]
pub struct ServiceRoot<C> {
    /// Shared sections.
    pub common: CommonConfig,
    /// The service's own section.
    pub service: C,
}

impl<C: ServiceConfig> Section for ServiceRoot<C> {
    fn read(r: &mut Reader<'_>) -> Self {
        Self { common: CommonConfig::read(r), service: r.section(C::SECTION) }
    }
}
