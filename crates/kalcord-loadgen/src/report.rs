//! What a run measured.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// Latency percentiles of the answers that passed their check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Latencies {
    /// Median, in milliseconds.
    pub p50_ms: f64,
    /// 90th percentile, in milliseconds.
    pub p90_ms: f64,
    /// 99th percentile, in milliseconds.
    pub p99_ms: f64,
    /// Slowest, in milliseconds.
    pub max_ms: f64,
}

impl Latencies {
    /// Percentiles of `samples` (sorted here); zeros when there are none.
    #[must_use]
    pub fn of(samples: &mut [Duration]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |p: f64| {
            // NOTE: nearest rank: the smallest sample with at least p of the samples at or below it.
            let rank = (p * samples.len() as f64).ceil() as usize;
            millis(samples[rank.clamp(1, samples.len()) - 1])
        };
        Self { p50_ms: at(0.50), p90_ms: at(0.90), p99_ms: at(0.99), max_ms: millis(samples[samples.len() - 1]) }
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

/// The outcome of one run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// `closed(64)` or `open(1000/s)`.
    pub mode: String,
    /// Requests sent (answered or not).
    pub sent: u64,
    /// Answers that passed the check.
    pub ok: u64,
    /// Failures by reason (`status 503`, `check: ...`, `connect: ...`).
    pub errors: BTreeMap<String, u64>,
    /// From the first request to the last answer, in seconds.
    pub elapsed_s: f64,
    /// Answers that passed per second of `elapsed_s`.
    pub throughput: f64,
    /// Open loop: the rate offered. Closed loop: `None`.
    pub offered_rate: Option<f64>,
    /// Latency of the answers that passed.
    pub latency: Latencies,
}

impl Report {
    /// Every failure, whatever its reason.
    #[must_use]
    pub fn failed(&self) -> u64 {
        self.errors.values().sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Latencies { p50_ms, p90_ms, p99_ms, max_ms } = self.latency;
        write!(
            f,
            "{}: {} sent, {} ok, {} failed in {:.2} s = {:.0}/s; latency p50 {p50_ms:.2} ms, p90 {p90_ms:.2} ms, \
             p99 {p99_ms:.2} ms, max {max_ms:.2} ms",
            self.mode,
            self.sent,
            self.ok,
            self.failed(),
            self.elapsed_s,
            self.throughput,
        )?;
        for (reason, count) in &self.errors {
            write!(f, "\n  {count} × {reason}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let latencies = Latencies::of(&mut samples);
        assert_eq!((latencies.p50_ms, latencies.p90_ms, latencies.p99_ms, latencies.max_ms), (50.0, 90.0, 99.0, 100.0));
        let mut one = vec![Duration::from_millis(7)];
        assert_eq!(Latencies::of(&mut one).p99_ms, 7.0);
        assert_eq!(Latencies::of(&mut []), Latencies::default());
    }
}
