//! Replicas of every service start at once against one NATS server.

use std::time::Duration;

use kalcord_bus::{BusBackend, BusConfig, NatsBus, spec};
use kalcord_test_util::env::{nats_url, unique_suffix};

/// Every service declares every stream when it connects; started together (as a deployment's
/// pods are), their creates of the same stream race and the slower ones must still succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_declaring_the_streams_at_once_all_connect() {
    let _trace = kalcord_test_util::trace_init();
    let config = BusConfig {
        backend: BusBackend::Nats,
        connect_timeout: Duration::from_secs(5),
        prefix: format!("test{}", unique_suffix()),
        request_timeout: Duration::from_secs(2),
        stream_replicas: 1,
        token: None,
        url: nats_url().parse().unwrap(),
    };
    for round in 0..30 {
        let connects = (0..8).map(|_| kalcord_bus::connect(&config, "kalcord-bus-startup"));
        for (replica, bus) in futures::future::join_all(connects).await.into_iter().enumerate() {
            let bus = bus.unwrap_or_else(|err| panic!("round {round}: replica {replica} failed to start: {err}"));
            let _ = bus.close().await;
        }
        let cleanup = NatsBus::connect(&config, "kalcord-bus-startup-cleanup").await.unwrap();
        cleanup.delete_streams(&spec::streams()).await;
    }
}
