//! The benchmark scenarios. Each returns a [`Section`](crate::report::Section) of the report.

pub mod demo;
pub mod fanout;
pub mod joins;
pub mod ks;
pub mod memory;
pub mod ping;
pub mod sync;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use kalcord_loadgen::{Check, Mode, Plan, Prepared, Report};

use crate::procs::Cores;

/// How the whole benchmark runs.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    /// The short smoke version: small sizes, one run, timings not judged.
    pub quick: bool,
    /// Repetitions of each measured run (medians are reported).
    pub runs: usize,
    /// Where servers run.
    pub cores: Cores,
}

impl Ctx {
    /// Whether timings are judged against targets.
    #[must_use]
    pub fn judge(&self) -> bool {
        !self.quick
    }

    /// `full` normally, `quick` in a quick run.
    #[must_use]
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }
}

/// Runs the load generator.
///
/// # Errors
///
/// When the URL is unusable.
pub async fn load(
    url: &str,
    mode: Mode,
    duration: Duration,
    requests: Vec<Prepared>,
    once: bool,
    check: Check,
) -> anyhow::Result<Report> {
    let plan = Plan {
        url: url.parse()?,
        mode,
        duration,
        requests: Arc::from(requests),
        once,
        check,
        timeout: Duration::from_secs(5),
    };
    Ok(kalcord_loadgen::run(plan).await?)
}

/// A bus client on the machine's NATS under `prefix` (the environment of the processes measured).
///
/// # Errors
///
/// When NATS is unreachable.
pub async fn nats_bus(prefix: &str, name: &str) -> anyhow::Result<kalcord_bus::SharedBus> {
    let config = kalcord_bus::BusConfig {
        backend: kalcord_bus::BusBackend::Nats,
        connect_timeout: Duration::from_secs(5),
        prefix: prefix.to_owned(),
        request_timeout: Duration::from_secs(5),
        stream_replicas: 1,
        token: None,
        url: kalcord_test_util::env::nats_url().parse()?,
    };
    Ok(kalcord_bus::connect(&config, name).await?)
}

/// One line per run: `label: report` with the failures on the same line.
#[must_use]
pub fn run_line(label: &str, report: &Report) -> String {
    let failures: Vec<String> = report.errors.iter().map(|(reason, count)| format!("{count} × {reason}")).collect();
    let l = report.latency;
    format!(
        "{label}: {} ok of {} sent in {:.2} s = {:.0}/s; p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms{}",
        report.ok,
        report.sent,
        report.elapsed_s,
        report.throughput,
        l.p50_ms,
        l.p90_ms,
        l.p99_ms,
        l.max_ms,
        if failures.is_empty() { String::new() } else { format!("; failed: {}", failures.join(", ")) }
    )
}
