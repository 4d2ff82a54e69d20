//! The audit hash: SHA-256 over the previous hash and a canonical, unambiguous encoding of
//! an entry's content.
//!
//! Encoding (version 1): the domain tag `kalcord.audit.v1\0`, then each field in order as
//! `u64 big-endian length ‖ bytes`; optional fields are prefixed with one byte, `0` (absent)
//! or `1` (present). Integers are big-endian `i64`; `created_at` is microseconds since the
//! Unix epoch; `details` is canonical JSON (see [`canonical_json`]).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::{Number, Value};
use sha2::{Digest as _, Sha256};

use crate::entity::audit_log;

/// Domain separation tag, so this hash never collides with another use of SHA-256.
const DOMAIN: &[u8] = b"kalcord.audit.v1\0";

/// `prev_hash` of the first entry: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hashed content of one entry.
pub(crate) struct Content<'a> {
    pub(crate) prev_hash: &'a str,
    pub(crate) seq: i64,
    pub(crate) guild_id: Option<i64>,
    pub(crate) actor: &'a str,
    pub(crate) action: &'a str,
    pub(crate) target: Option<&'a str>,
    pub(crate) details: &'a Value,
    pub(crate) created_at: DateTime<Utc>,
}

impl<'a> Content<'a> {
    /// The content of a stored row.
    pub(crate) fn of(row: &'a audit_log::Model) -> Self {
        Self {
            prev_hash: &row.prev_hash,
            seq: row.seq,
            guild_id: row.guild_id,
            actor: &row.actor,
            action: &row.action,
            target: row.target.as_deref(),
            details: &row.details,
            created_at: row.created_at,
        }
    }

    /// The hex SHA-256 of this content.
    pub(crate) fn hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(DOMAIN);
        field(&mut hasher, self.prev_hash.as_bytes());
        field(&mut hasher, &self.seq.to_be_bytes());
        optional(&mut hasher, self.guild_id.map(i64::to_be_bytes).as_ref().map(|b| &b[..]));
        field(&mut hasher, self.actor.as_bytes());
        field(&mut hasher, self.action.as_bytes());
        optional(&mut hasher, self.target.map(str::as_bytes));
        field(&mut hasher, canonical_json(self.details).as_bytes());
        field(&mut hasher, &self.created_at.timestamp_micros().to_be_bytes());
        hex::encode(hasher.finalize())
    }
}

/// The hash a stored row should carry, recomputed from its content.
#[must_use]
pub fn expected_hash(row: &audit_log::Model) -> String {
    Content::of(row).hash()
}

fn field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}

fn optional(hasher: &mut Sha256, bytes: Option<&[u8]>) {
    match bytes {
        None => hasher.update([0]),
        Some(bytes) => {
            hasher.update([1]);
            field(hasher, bytes);
        }
    }
}

/// JSON with object keys sorted (by UTF-8 bytes), no whitespace, and numbers written as a
/// function of their value only.
///
/// Needed because the database may hand back a different but equal document: PostgreSQL
/// `jsonb` reorders object keys and respells numbers (`1e2` comes back as `100`).
#[must_use]
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&canonical_number(n)),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|(a, _), (b, _)| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    // NOTE: `Value`'s Display writes compact JSON, with serde_json's (deterministic) escaping.
    let _ = write!(out, "{}", Value::from(s));
}

/// Integers (and integral floats that fit an `i128`) as plain digits; other floats in
/// Rust's shortest round-trip form. Equal values give equal text, however they were written.
fn canonical_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e38 => {
            // NOTE: integral and well inside i128's range, so the cast is exact.
            #[allow(clippy::cast_possible_truncation)]
            let i = f as i128;
            i.to_string()
        }
        Some(f) => f.to_string(),
        None => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn content(details: &Value) -> Content<'_> {
        Content {
            prev_hash: GENESIS_HASH,
            seq: 1,
            guild_id: Some(42),
            actor: "discord:1",
            action: "meeting.create",
            target: Some("meeting:x"),
            details,
            created_at: DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap_or_default(),
        }
    }

    #[test]
    fn key_order_and_number_spelling_do_not_change_the_hash() -> Result<(), serde_json::Error> {
        let _trace = kalcord_test_util::trace_init();
        let a: Value = serde_json::from_str(r#"{"b":1.0,"a":[1e2,{"y":null,"x":true}]}"#)?;
        let b: Value = serde_json::from_str(r#"{"a":[100,{"x":true,"y":null}],"b":1}"#)?;
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(content(&a).hash(), content(&b).hash());
        Ok(())
    }

    #[test]
    fn large_integral_floats_match_their_integer_spelling() -> Result<(), serde_json::Error> {
        let _trace = kalcord_test_util::trace_init();
        let float: Value = serde_json::from_str("1e19")?;
        let int: Value = serde_json::from_str("10000000000000000000")?;
        assert_eq!(canonical_json(&float), canonical_json(&int));
        assert_eq!(canonical_json(&json!(0.5)), "0.5");
        assert_eq!(canonical_json(&json!(-3)), "-3");
        Ok(())
    }

    #[test]
    fn every_field_changes_the_hash() {
        let _trace = kalcord_test_util::trace_init();
        let details = json!({"k": "v"});
        let base = content(&details).hash();
        let other_details = json!({"k": "w"});
        let variants = [
            Content { seq: 2, ..content(&details) },
            Content { guild_id: None, ..content(&details) },
            Content { actor: "discord:2", ..content(&details) },
            Content { action: "meeting.delete", ..content(&details) },
            Content { target: None, ..content(&details) },
            Content { prev_hash: "1", ..content(&details) },
            content(&other_details),
            Content {
                created_at: content(&details).created_at + chrono::Duration::microseconds(1),
                ..content(&details)
            },
        ];
        for variant in variants {
            assert_ne!(variant.hash(), base);
        }
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let _trace = kalcord_test_util::trace_init();
        let details = json!({});
        let a = Content { actor: "ab", action: "c", ..content(&details) };
        let b = Content { actor: "a", action: "bc", ..content(&details) };
        assert_ne!(a.hash(), b.hash());
        let c = Content { target: Some(""), ..content(&details) };
        let d = Content { target: None, ..content(&details) };
        assert_ne!(c.hash(), d.hash());
    }

    #[test]
    fn hash_is_64_lowercase_hex() {
        let _trace = kalcord_test_util::trace_init();
        let details = json!(null);
        let hash = content(&details).hash();
        assert_eq!(hash.len(), 64);
        assert!(hash.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        assert_eq!(GENESIS_HASH.len(), 64);
    }
}
