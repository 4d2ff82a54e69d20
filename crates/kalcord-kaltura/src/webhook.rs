//! Kaltura HTTP notifications: signature check and body parsing.
//!
//! `X-KALTURA-SIGNATURE` is the lowercase hex of `H(secret || raw body)` — a plain hash, not an
//! HMAC — with `H` named by `X-KALTURA-HASH-ALGO` (`sha1` when absent, `sha256`, `sha512`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq as _;

use crate::wire::{lenient_i64, lenient_string};

mod event;

pub use event::{BodyFormat, WebhookEvent};

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-kaltura-signature";
/// Header naming the hash.
pub const HASH_ALGO_HEADER: &str = "x-kaltura-hash-algo";

/// Hash named by `X-KALTURA-HASH-ALGO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgo {
    /// `sha1` (the default).
    Sha1,
    /// `sha256`.
    Sha256,
    /// `sha512`.
    Sha512,
}

impl HashAlgo {
    /// From the header value; `None` (absent) means SHA-1.
    ///
    /// # Errors
    ///
    /// [`WebhookError::UnsupportedAlgo`] for anything else.
    pub fn from_header(value: Option<&str>) -> Result<Self, WebhookError> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "sha1" | "sha-1") => Ok(Self::Sha1),
            Some("sha256" | "sha-256") => Ok(Self::Sha256),
            Some("sha512" | "sha-512") => Ok(Self::Sha512),
            Some(other) => Err(WebhookError::UnsupportedAlgo(other.chars().take(16).collect())),
        }
    }

    /// Header value.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }
}

/// A notification was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// No `X-KALTURA-SIGNATURE`.
    #[error("missing X-KALTURA-SIGNATURE header")]
    MissingSignature,
    /// The signature does not match the body.
    #[error("signature does not match")]
    BadSignature,
    /// `X-KALTURA-HASH-ALGO` names an unsupported hash.
    #[error("unsupported hash algorithm {0:?}")]
    UnsupportedAlgo(String),
    /// The body is not a notification we understand.
    #[error("malformed notification: {0}")]
    Malformed(String),
}

/// Lowercase hex of `H(secret || body)`.
#[must_use]
pub fn sign(secret: &str, body: &[u8], algo: HashAlgo) -> String {
    fn digest<D: Digest>(secret: &str, body: &[u8]) -> String {
        hex::encode(D::new().chain_update(secret.as_bytes()).chain_update(body).finalize())
    }
    match algo {
        HashAlgo::Sha1 => digest::<Sha1>(secret, body),
        HashAlgo::Sha256 => digest::<Sha256>(secret, body),
        HashAlgo::Sha512 => digest::<Sha512>(secret, body),
    }
}

/// Checks the signature headers against the raw body, in constant time.
///
/// # Errors
///
/// Missing or wrong signature, unsupported algorithm.
pub fn verify(secret: &str, body: &[u8], signature: Option<&str>, algo: Option<&str>) -> Result<(), WebhookError> {
    let algo = HashAlgo::from_header(algo)?;
    let signature = signature.map(str::trim).filter(|s| !s.is_empty()).ok_or(WebhookError::MissingSignature)?;
    let expected = sign(secret, body, algo);
    let given = signature.to_ascii_lowercase();
    if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) { Ok(()) } else { Err(WebhookError::BadSignature) }
}

/// `KalturaHttpNotification`: the JSON object form.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpNotification {
    /// The object the event is about (e.g. a `KalturaMediaEntry`).
    #[serde(default)]
    pub object: Value,
    /// `KalturaEventNotificationEventObjectType` (a number, or a string for plugin types).
    #[serde(default, deserialize_with = "lenient_string")]
    pub event_object_type: String,
    /// `KalturaEventNotificationEventType` (3 = object changed).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub event_type: i64,
    /// Dispatch job; the same id on a redelivery.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub event_notification_job_id: i64,
    /// Template id.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub template_id: i64,
    /// Template system name, e.g. `HTTP_ENTRY_STATUS_CHANGED`.
    #[serde(default)]
    pub template_system_name: Option<String>,
}

/// A parsed notification.
#[derive(Clone, Debug, PartialEq)]
pub enum Notification {
    /// `KalturaHttpNotificationObjectData`: the JSON notification object.
    Object(HttpNotification),
    /// `KalturaHttpNotificationDataFields`: form-encoded content parameters.
    Fields(BTreeMap<String, String>),
}

/// The entry an entry notification is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryChange {
    /// Entry id.
    pub entry_id: String,
    /// Entry name.
    pub name: Option<String>,
    /// Entry status (2 = ready), when given.
    pub status: Option<i64>,
    /// Reference id.
    pub reference_id: Option<String>,
}

/// Parses a notification body: raw JSON, `data=<url-encoded JSON>`, or form fields.
///
/// # Errors
///
/// [`WebhookError::Malformed`] when it is none of these.
pub fn parse(body: &[u8]) -> Result<Notification, WebhookError> {
    let text = std::str::from_utf8(body).map_err(|_| WebhookError::Malformed("not UTF-8".to_owned()))?.trim();
    if text.starts_with('{') {
        return parse_object(text);
    }
    if !text.contains('=') {
        return Err(WebhookError::Malformed("neither JSON nor form fields".to_owned()));
    }
    let fields: BTreeMap<String, String> = url::form_urlencoded::parse(text.as_bytes()).into_owned().collect();
    match fields.get("data") {
        Some(data) if data.trim_start().starts_with('{') => parse_object(data),
        _ => Ok(Notification::Fields(fields)),
    }
}

fn parse_object(text: &str) -> Result<Notification, WebhookError> {
    let notification: HttpNotification = serde_json::from_str(text)
        .map_err(|err| WebhookError::Malformed(format!("not a KalturaHttpNotification: {err}")))?;
    Ok(Notification::Object(notification))
}

impl Notification {
    /// The entry the notification is about, when it is about an entry.
    #[must_use]
    pub fn entry(&self) -> Option<EntryChange> {
        match self {
            Self::Object(notification) => {
                let object = notification.object.as_object()?;
                let text = |name: &str| match object.get(name)? {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                };
                Some(EntryChange {
                    entry_id: text("id")?,
                    name: text("name"),
                    status: text("status").and_then(|s| s.parse().ok()),
                    reference_id: text("referenceId").filter(|r| !r.is_empty()),
                })
            }
            Self::Fields(fields) => Some(EntryChange {
                entry_id: fields.get("entry_id")?.clone(),
                name: fields.get("entry_name").cloned(),
                status: fields.get("entry_status").and_then(|s| s.parse().ok()),
                reference_id: fields.get("entry_reference_id").filter(|r| !r.is_empty()).cloned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests;
