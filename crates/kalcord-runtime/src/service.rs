//! The shape every kalcord service has.

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::config::ServiceConfig;
use crate::deps::{Deps, Needs};

/// Names of every service, in the order status reports list them.
pub const SERVICES: [&str; 6] =
    ["api-gateway", "interactions", "identity", "meetings", "notifications", "gateway-shard"];

/// Subject on which a service answers `kalcord.v1.StatusRequest`.
#[must_use]
pub fn status_subject(service: &str) -> String {
    format!("{service}.status")
}

/// A listener a service opened, announced at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Short name, e.g. `api`.
    pub name: &'static str,
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    pub url: String,
}

/// A kalcord service: built from its configuration and dependencies, then run until shut down.
#[async_trait]
pub trait Service: Sized + Send + 'static {
    /// Service name, e.g. `identity`; also its bus subject prefix for status.
    const NAME: &'static str;
    /// Dependencies beyond the bus.
    const NEEDS: Needs;
    /// The service's configuration section.
    type Config: ServiceConfig;
    /// What can go wrong.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Binds listeners and subscribes; fails fast on anything misconfigured.
    async fn build(config: Self::Config, deps: Deps) -> Result<Self, Self::Error>;

    /// Listeners to announce.
    fn endpoints(&self) -> Vec<Endpoint> {
        Vec::new()
    }

    /// Readiness checks of the service's own parts, added to `/readyz` (none by default).
    fn probe(&self) -> Option<std::sync::Arc<dyn crate::deps::Probe>> {
        None
    }

    /// Does the service's work until `shutdown` is cancelled, then stops taking new work,
    /// finishes or hands back what is in flight, and returns.
    async fn run(self, shutdown: CancellationToken) -> Result<(), Self::Error>;
}
