//! What each shard is doing, for `/readyz` and the `kalcord_gateway_shard_up` gauge.

use std::collections::BTreeMap;
use std::sync::Arc;

use kalcord_runtime::{CheckResult, Probe};
use parking_lot::RwLock;

/// A shard's phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for its identify permit, connecting or identifying.
    Connecting,
    /// READY or RESUMED received: dispatches flow.
    Active,
    /// The connection ended; twilight reconnects (and resumes when it can).
    Reconnecting(String),
    /// Discord refused the shard for good (bad token, disallowed intents...).
    Failed(String),
    /// Closed at shutdown; the session is saved.
    Stopped,
}

/// The phase of every shard of this replica, plus the start-up state before shards exist.
#[derive(Clone, Debug, Default)]
pub struct ShardStatus {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    shards: BTreeMap<u32, Phase>,
    startup: Option<String>,
}

impl ShardStatus {
    /// Sets a shard's phase.
    pub fn set(&self, shard: u32, phase: Phase) {
        metrics::gauge!("kalcord_gateway_shard_up", "shard" => shard.to_string()).set(if phase == Phase::Active {
            1.0
        } else {
            0.0
        });
        self.inner.write().shards.insert(shard, phase);
    }

    /// Reports a start-up problem (e.g. `GET /gateway/bot` unanswered); `None` clears it.
    pub fn set_startup(&self, problem: Option<String>) {
        self.inner.write().startup = problem;
    }

    /// A shard's phase.
    #[must_use]
    pub fn phase(&self, shard: u32) -> Option<Phase> {
        self.inner.read().shards.get(&shard).cloned()
    }

    /// Whether every shard of this replica is active (and there is at least one).
    #[must_use]
    pub fn all_active(&self) -> bool {
        let inner = self.inner.read();
        !inner.shards.is_empty() && inner.shards.values().all(|phase| *phase == Phase::Active)
    }
}

impl Probe for ShardStatus {
    fn checks(&self) -> Vec<CheckResult> {
        let inner = self.inner.read();
        if let Some(problem) = &inner.startup {
            return vec![CheckResult::failed("gateway", problem.clone())];
        }
        if inner.shards.is_empty() {
            return vec![CheckResult::failed("gateway", "no shard started yet")];
        }
        inner
            .shards
            .iter()
            .map(|(shard, phase)| {
                let name = format!("shard {shard}");
                match phase {
                    Phase::Active => CheckResult::ok(name),
                    Phase::Connecting => CheckResult::failed(name, "connecting"),
                    Phase::Reconnecting(why) => CheckResult::failed(name, format!("reconnecting: {why}")),
                    Phase::Failed(why) => CheckResult::failed(name, why.clone()),
                    Phase::Stopped => CheckResult::failed(name, "stopped"),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_follows_the_shards() {
        let status = ShardStatus::default();
        assert!(!status.checks()[0].ok);
        status.set(0, Phase::Active);
        status.set(1, Phase::Connecting);
        let checks = status.checks();
        assert_eq!(checks.len(), 2);
        assert!(checks[0].ok && !checks[1].ok);
        assert_eq!(checks[1].name, "shard 1");
        assert!(!status.all_active());
        status.set(1, Phase::Active);
        assert!(status.all_active());
        status.set_startup(Some("GET /gateway/bot failed".into()));
        assert!(!status.checks()[0].ok);
    }
}
