//! A circuit breaker per partner: after repeated failures calls fail fast for a while,
//! then one trial call decides whether to close again.

use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// Breaker settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failed calls that open the breaker.
    pub failure_threshold: u32,
    /// How long it stays open before a trial call.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self { failure_threshold: 5, cool_down: Duration::from_secs(30) }
    }
}

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen,
}

/// The breaker.
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

/// Whether a call may go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead.
    Allowed,
    /// Fail fast; the breaker reopens for a trial after this long.
    Rejected(Duration),
}

impl Breaker {
    /// A closed breaker.
    #[must_use]
    pub fn new(config: BreakerConfig) -> Self {
        Self { config, state: Mutex::new(State::Closed { failures: 0 }) }
    }

    /// Asks to make a call. In the half-open state only one trial is let through at a time.
    pub fn admit(&self) -> Admission {
        let mut state = self.state.lock();
        match *state {
            State::Closed { .. } => Admission::Allowed,
            State::Open { until } => {
                let now = Instant::now();
                if now >= until {
                    *state = State::HalfOpen;
                    Admission::Allowed
                } else {
                    Admission::Rejected(until - now)
                }
            }
            State::HalfOpen => Admission::Rejected(self.config.cool_down),
        }
    }

    /// Records a call that reached a working server (any API answer counts).
    pub fn record_success(&self) {
        *self.state.lock() = State::Closed { failures: 0 };
    }

    /// Records a call that failed for infrastructure reasons (transport, timeout, 5xx).
    pub fn record_failure(&self) {
        let mut state = self.state.lock();
        let open = State::Open { until: Instant::now() + self.config.cool_down };
        *state = match *state {
            State::Closed { failures } if failures + 1 < self.config.failure_threshold => {
                State::Closed { failures: failures + 1 }
            }
            State::Closed { .. } | State::HalfOpen | State::Open { .. } => {
                tracing::warn!(cool_down = ?self.config.cool_down, "kaltura circuit opened");
                open
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Admission, Breaker, BreakerConfig};

    #[tokio::test(start_paused = true)]
    async fn opens_fails_fast_then_trials_once() {
        let breaker = Breaker::new(BreakerConfig { failure_threshold: 3, cool_down: Duration::from_secs(10) });
        for _ in 0..2 {
            breaker.record_failure();
            assert_eq!(breaker.admit(), Admission::Allowed);
        }
        breaker.record_failure();
        assert!(matches!(breaker.admit(), Admission::Rejected(left) if left == Duration::from_secs(10)));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(breaker.admit(), Admission::Allowed, "one trial after the cool-down");
        assert!(matches!(breaker.admit(), Admission::Rejected(_)), "only one trial at a time");
        breaker.record_failure();
        assert!(matches!(breaker.admit(), Admission::Rejected(_)), "a failed trial reopens");
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(breaker.admit(), Admission::Allowed);
        breaker.record_success();
        assert_eq!(breaker.admit(), Admission::Allowed);
        assert_eq!(breaker.admit(), Admission::Allowed, "closed again");
    }
}
