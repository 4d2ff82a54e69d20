//! Fault injection and latency.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::{Fault, FaultKind};

/// A latency rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LatencyRule {
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    pub millis: u64,
}

/// Pending faults and latency rules.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub faults: Vec<Fault>,
    pub latency: Vec<LatencyRule>,
}

fn matches(filter: Option<&str>, value: &str) -> bool {
    filter.is_none_or(|filter| filter.eq_ignore_ascii_case(value))
}

impl FaultState {
    /// Adds or replaces the rule for `service.action`; a zero delay removes it.
    pub fn set_latency(&mut self, service: Option<&str>, action: Option<&str>, delay: Duration) {
        let same = |rule: &LatencyRule| {
            rule.service.as_deref().map(str::to_ascii_lowercase) == service.map(str::to_ascii_lowercase)
                && rule.action.as_deref().map(str::to_ascii_lowercase) == action.map(str::to_ascii_lowercase)
        };
        self.latency.retain(|rule| !same(rule));
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        if millis > 0 {
            self.latency.push(LatencyRule {
                service: service.map(str::to_owned),
                action: action.map(str::to_owned),
                millis,
            });
        }
    }

    /// The delay for a request: the largest matching rule.
    pub fn latency_for(&self, service: &str, action: &str) -> Duration {
        let millis = self
            .latency
            .iter()
            .filter(|rule| matches(rule.service.as_deref(), service) && matches(rule.action.as_deref(), action))
            .map(|rule| rule.millis)
            .max()
            .unwrap_or(0);
        Duration::from_millis(millis)
    }

    /// Consumes one use of the first pending fault of the given level matching `service.action`.
    pub fn take(&mut self, service: &str, action: &str, http_level: bool) -> Option<FaultKind> {
        self.faults.retain(|fault| fault.count > 0);
        let fault = self.faults.iter_mut().find(|fault| {
            fault.kind.is_http() == http_level
                && matches(fault.service.as_deref(), service)
                && matches(fault.action.as_deref(), action)
        })?;
        fault.count -= 1;
        let kind = fault.kind;
        self.faults.retain(|fault| fault.count > 0);
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::FaultState;
    use crate::model::{Fault, FaultKind};

    #[test]
    fn faults_match_and_count_down() {
        let mut state = FaultState::default();
        state.faults.push(Fault::new(FaultKind::ActionBlocked).on("User", Some("GET")).times(2));
        state.faults.push(Fault::new(FaultKind::Http503));
        assert_eq!(state.take("media", "list", false), None);
        assert_eq!(state.take("user", "get", false), Some(FaultKind::ActionBlocked));
        assert_eq!(state.take("user", "get", true), Some(FaultKind::Http503));
        assert_eq!(state.take("user", "get", false), Some(FaultKind::ActionBlocked));
        assert_eq!(state.take("user", "get", false), None);
        assert!(state.faults.is_empty());
    }

    #[test]
    fn latency_takes_the_largest_matching_rule() {
        let mut state = FaultState::default();
        state.set_latency(None, None, Duration::from_millis(5));
        state.set_latency(Some("user"), None, Duration::from_millis(20));
        assert_eq!(state.latency_for("user", "get"), Duration::from_millis(20));
        assert_eq!(state.latency_for("media", "get"), Duration::from_millis(5));
        state.set_latency(None, None, Duration::ZERO);
        assert_eq!(state.latency_for("media", "get"), Duration::ZERO);
    }
}
