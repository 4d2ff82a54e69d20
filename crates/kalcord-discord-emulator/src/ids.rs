//! Snowflakes, opaque tokens, timestamps and the emulator's adjustable clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds.
pub const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// Unix milliseconds of a snowflake.
#[must_use]
pub fn snowflake_ms(id: u64) -> u64 {
    (id >> 22) + DISCORD_EPOCH_MS
}

/// Makes increasing snowflakes from the (adjustable) clock.
#[derive(Debug, Default)]
pub(crate) struct Snowflakes {
    last: Mutex<u64>,
}

impl Snowflakes {
    /// A fresh id, larger than every id made before.
    pub(crate) fn next(&self, now_ms: u64) -> u64 {
        let mut last = self.last.lock();
        let candidate = (now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22) | (1 << 17);
        *last = candidate.max(*last + 1);
        *last
    }
}

/// The emulator's clock: real time plus an offset the tests can advance.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset: Mutex<Duration>,
}

impl Clock {
    /// Unix milliseconds now (offset included).
    pub(crate) fn now_ms(&self) -> u64 {
        let real = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        u64::try_from((real + *self.offset.lock()).as_millis()).unwrap_or(u64::MAX)
    }

    /// Moves the clock forward.
    pub(crate) fn advance(&self, by: Duration) {
        *self.offset.lock() += by;
    }

    /// How far the clock was moved.
    pub(crate) fn offset(&self) -> Duration {
        *self.offset.lock()
    }
}

/// ISO 8601 with microseconds and `+00:00`, as Discord writes timestamps.
#[must_use]
pub fn iso8601(unix_ms: u64) -> String {
    let millis = i64::try_from(unix_ms).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

/// Parses an ISO 8601 timestamp to Unix milliseconds.
#[must_use]
pub fn parse_iso8601(text: &str) -> Option<u64> {
    let parsed = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    u64::try_from(parsed.timestamp_millis()).ok()
}

/// A random token of `len` characters from `[A-Za-z0-9]`.
#[must_use]
pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len).map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())])).collect()
}

/// Parses a snowflake path segment or JSON string.
#[must_use]
pub fn parse_id(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|id| *id > 0)
}

/// Serde helpers: snowflakes and permission bits as decimal strings (numbers accepted too).
pub mod string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    /// Writes the number as a string.
    ///
    /// # Errors
    ///
    /// The serializer's.
    #[allow(clippy::trivially_copy_pass_by_ref)] // NOTE: serde's `with` calls it with a reference.
    pub fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    /// Reads a string or a number.
    ///
    /// # Errors
    ///
    /// Anything else, or a string that is not a decimal `u64`.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) => text.parse().map_err(D::Error::custom),
            serde_json::Value::Number(number) => number.as_u64().ok_or_else(|| D::Error::custom("not a u64")),
            other => Err(D::Error::custom(format!("expected a snowflake, got {other}"))),
        }
    }
}

/// Serde helpers for `Option<u64>` snowflakes.
pub mod option_string {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `null` or a string.
    ///
    /// # Errors
    ///
    /// The serializer's.
    #[allow(clippy::ref_option)] // NOTE: serde's `with` calls it with a reference.
    pub fn serialize<S: Serializer>(value: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(id) => serializer.collect_str(id),
            None => serializer.serialize_none(),
        }
    }

    /// Reads `null`, a string or a number.
    ///
    /// # Errors
    ///
    /// Anything else.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapper(#[serde(with = "super::string")] u64);
        Ok(Option::<Wrapper>::deserialize(deserializer)?.map(|Wrapper(id)| id))
    }
}

/// Serde helpers for `Vec<u64>` snowflakes.
pub mod vec_string {
    use serde::{Deserialize, Deserializer, Serializer, ser::SerializeSeq};

    /// Writes an array of strings.
    ///
    /// # Errors
    ///
    /// The serializer's.
    pub fn serialize<S: Serializer>(values: &[u64], serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(values.len()))?;
        for value in values {
            seq.serialize_element(&value.to_string())?;
        }
        seq.end()
    }

    /// Reads an array of strings or numbers.
    ///
    /// # Errors
    ///
    /// Anything else.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u64>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapper(#[serde(with = "super::string")] u64);
        Ok(Vec::<Wrapper>::deserialize(deserializer)?.into_iter().map(|Wrapper(id)| id).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_increase_and_carry_time() {
        let ids = Snowflakes::default();
        let now = 1_700_000_000_000;
        let first = ids.next(now);
        let second = ids.next(now);
        assert!(second > first);
        assert_eq!(snowflake_ms(first), now);
    }

    #[test]
    fn timestamps_round_trip() {
        let text = iso8601(1_489_432_754_040);
        assert_eq!(text, "2017-03-13T19:19:14.040000+00:00");
        assert_eq!(parse_iso8601(&text), Some(1_489_432_754_040));
        assert_eq!(parse_id("0"), None);
        assert_eq!(parse_id("12a"), None);
        assert_eq!(parse_id("123"), Some(123));
    }
}
