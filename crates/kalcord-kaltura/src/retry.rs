//! Bounded retries with exponential backoff and full jitter.

use std::time::Duration;

/// Retry settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay before the second attempt (before jitter).
    pub base_delay: Duration,
    /// Upper bound of any delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 3, base_delay: Duration::from_millis(200), max_delay: Duration::from_secs(5) }
    }
}

/// Attempts of one call.
#[derive(Debug)]
pub(crate) struct Attempt {
    made: u32,
    policy: RetryPolicy,
}

impl Attempt {
    pub(crate) fn new(policy: RetryPolicy) -> Self {
        Self { made: 1, policy }
    }

    /// The delay before the next attempt, or `None` when attempts are used up.
    pub(crate) fn next_delay(&mut self) -> Option<Duration> {
        if self.made >= self.policy.max_attempts {
            return None;
        }
        let exponential = self.policy.base_delay.saturating_mul(1 << (self.made - 1).min(16));
        self.made += 1;
        let ceiling = exponential.min(self.policy.max_delay);
        // NOTE: full jitter spreads the retries of many callers hitting the same outage.
        let factor: f64 = rand::random_range(0.5..=1.0);
        Some(ceiling.mul_f64(factor))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Attempt, RetryPolicy};

    #[test]
    fn delays_grow_are_jittered_and_bounded() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        let mut attempt = Attempt::new(policy);
        let delays: Vec<Duration> = std::iter::from_fn(|| attempt.next_delay()).collect();
        assert_eq!(delays.len(), 4, "max_attempts counts the first attempt");
        let ceilings = [100, 200, 300, 300];
        for (delay, ceiling) in delays.iter().zip(ceilings) {
            assert!(
                *delay <= Duration::from_millis(ceiling) && *delay >= Duration::from_millis(ceiling / 2),
                "{delay:?}"
            );
        }
    }
}
