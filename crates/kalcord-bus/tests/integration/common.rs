//! Builds a bus of either backend, isolated from every other test by a unique prefix.

use std::sync::Arc;
use std::time::Duration;

use kalcord_bus::{BusBackend, BusConfig, NatsBus, SharedBus, spec};
use kalcord_test_util::env::{nats_url, unique_suffix};

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Memory,
    Nats,
}

pub struct Harness {
    pub bus: SharedBus,
    nats: Option<NatsBus>,
}

impl Harness {
    pub async fn new(backend: Backend) -> Self {
        let config = BusConfig {
            backend: match backend {
                Backend::Memory => BusBackend::Memory,
                Backend::Nats => BusBackend::Nats,
            },
            connect_timeout: Duration::from_secs(5),
            prefix: format!("test{}", unique_suffix()),
            request_timeout: Duration::from_secs(2),
            stream_replicas: 1,
            token: None,
            url: nats_url().parse().unwrap(),
        };
        let bus = kalcord_bus::connect(&config, "kalcord-bus-tests")
            .await
            .unwrap_or_else(|err| panic!("cannot start the {backend:?} bus (is NATS running? `make services`): {err}"));
        let nats = match backend {
            Backend::Nats => Some(NatsBus::connect(&config, "kalcord-bus-tests-cleanup").await.unwrap()),
            Backend::Memory => None,
        };
        Self { bus, nats }
    }

    /// Deletes the test's streams from the shared NATS server.
    pub async fn cleanup(self) {
        if let Some(nats) = self.nats {
            nats.delete_streams(&spec::streams()).await;
        }
        let _ = self.bus.close().await;
    }

    pub fn shared(&self) -> SharedBus {
        Arc::clone(&self.bus)
    }
}

/// Declares each contract test once per backend.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::integration::common::Backend::Memory).await;
                }
            )*
        }
        mod nats {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::integration::common::Backend::Nats).await;
                }
            )*
        }
    };
}
pub(crate) use contract;
