//! Test harness shared by every crate and service of the workspace.
//!
//! Tests talk to real PostgreSQL, Redis, NATS JetStream and OpenBao servers on 127.0.0.1
//! (`make services` starts them). Each helper isolates a test from the others (a fresh
//! database, a fresh subject prefix, a fresh key prefix) so the suite runs in parallel.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod distributed;
pub mod env;
pub mod postgres;
pub mod process;

use std::future::Future;
use std::sync::Once;
use std::time::Duration;

/// Installs the process-wide rustls crypto provider (ring) exactly once.
///
/// Every test harness calls this first, like every `main` does.
pub fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // NOTE: an Err means another provider is installed already, which is what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Installs the crypto provider and a test tracing subscriber.
///
/// Spans always carry a recorded OpenTelemetry context so trace propagation can be
/// asserted. Output is shown only when `TEST_LOG` is set (to a filter such as `debug`), so
/// passing tests stay quiet. Returns a guard for symmetry with LK's `trace_init()`.
#[must_use]
pub fn trace_init() -> TraceGuard {
    install_crypto();
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let filter = std::env::var("TEST_LOG")
            .ok()
            .map(|filter| if filter.is_empty() || filter == "1" { "debug".to_owned() } else { filter });
        kalcord_telemetry::init_for_tests(filter.as_deref());
    });
    TraceGuard(())
}

/// Held for the length of a test; see [`trace_init`].
#[derive(Debug)]
pub struct TraceGuard(());

/// Polls `check` every 50 ms until it holds.
///
/// # Panics
///
/// When it does not hold within 30 s (a test assertion naming `what` was awaited).
pub async fn eventually<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
