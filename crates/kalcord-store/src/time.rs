//! Timestamps as the database stores them.

use chrono::{DateTime, SubsecRound as _, Utc};

/// The current time truncated to whole microseconds.
///
/// PostgreSQL keeps microseconds and SQLite keeps what it is given, so every timestamp this
/// crate writes is truncated first: a value read back then equals the value written, on both
/// backends (the audit hash chain relies on it).
#[must_use]
pub fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

/// `at` truncated to whole microseconds.
#[must_use]
pub(crate) fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_has_no_sub_microsecond_part() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(now().timestamp_subsec_nanos() % 1_000, 0);
    }

    #[test]
    fn truncate_drops_nanoseconds() {
        let _trace = kalcord_test_util::trace_init();
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_789).expect("valid timestamp");
        assert_eq!(truncate(at).timestamp_subsec_nanos(), 123_456_000);
    }
}
