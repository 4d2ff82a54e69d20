//! Why a process could not start or stopped with an error.

/// Boxed error of a service.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Starting or running a process failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] kalcord_config::ConfigError),
    /// Telemetry could not start.
    #[error(transparent)]
    Telemetry(#[from] kalcord_telemetry::TelemetryError),
    /// The bus could not be reached.
    #[error(transparent)]
    Bus(#[from] kalcord_bus::BusError),
    /// The database could not be reached or migrated.
    #[error(transparent)]
    Store(#[from] kalcord_store::StoreError),
    /// The cache could not be reached.
    #[error(transparent)]
    Cache(#[from] kalcord_cache::CacheError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// Address asked for.
        addr: std::net::SocketAddr,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A service failed.
    #[error("service {service} failed")]
    Service {
        /// Service name.
        service: &'static str,
        /// What went wrong.
        #[source]
        source: BoxError,
    },
}

impl RuntimeError {
    /// Process exit code: 64 for bad configuration, 1 otherwise.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) => 64,
            _ => 1,
        }
    }
}

/// Renders an error and its whole `source()` chain on one line.
#[must_use]
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
