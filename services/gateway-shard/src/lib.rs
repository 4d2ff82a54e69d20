#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

use async_trait::async_trait;
use kalcord_config::{Reader, Section};
use kalcord_runtime::{CancellationToken, Deps, Needs, Service, ServiceConfig};

/// Configuration of the `gateway_shard` section (no keys yet).
#[derive(Clone, Debug, Default)]
pub struct Config {}

impl Section for Config {
    fn read(_reader: &mut Reader<'_>) -> Self {
        Self {}
    }
}

impl ServiceConfig for Config {
    const SECTION: &'static str = "gateway_shard";
}

/// The gateway-shard service, connected and ready to run.
#[derive(Debug)]
pub struct GatewayShard {
    deps: Deps,
}

#[async_trait]
impl Service for GatewayShard {
    const NAME: &'static str = "gateway-shard";
    const NEEDS: Needs = Needs { cache: true, store: false };
    type Config = Config;
    type Error = std::convert::Infallible;

    async fn build(_config: Config, deps: Deps) -> Result<Self, Self::Error> {
        Ok(Self { deps })
    }

    async fn run(self, shutdown: CancellationToken) -> Result<(), Self::Error> {
        tracing::info!(service = Self::NAME, instance = %self.deps.instance, "running");
        shutdown.cancelled().await;
        Ok(())
    }
}

/// Builds the service and runs it until `shutdown` is cancelled.
///
/// # Errors
///
/// When the service cannot be built or fails while running.
pub async fn run(config: Config, deps: Deps, shutdown: CancellationToken) -> Result<(), std::convert::Infallible> {
    GatewayShard::build(config, deps).await?.run(shutdown).await
}
