#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

mod admin;
mod config;
mod deps;
mod entry;
mod error;
mod host;
mod service;
mod status;

pub use admin::{AdminServer, Readiness};
pub use config::{
    ALL_SECTIONS, AdminConfig, CommonConfig, DEFAULT_ADMIN_LISTEN, DEFAULT_POSTGRES_URL, DEFAULT_SERVICE_ADMIN_LISTEN,
    DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_SQLITE_URL, ServiceConfig, ServiceRoot, ShutdownConfig, StoreConfig, StoreUrl,
};
pub use deps::{CheckResult, Deps, Needs, Probe};
pub use entry::{Booted, Cli, Root, announce, block_on_main, boot, main};
pub use error::{BoxError, RuntimeError, chain};
pub use host::{Host, shutdown_signal};
pub use service::{Endpoint, SERVICES, Service, status_subject};
pub use status::{ServiceStatus, StatusReport, status_report};

/// Re-exported so services name one cancellation type.
pub use tokio_util::sync::CancellationToken;
