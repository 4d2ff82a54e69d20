//! Signed Discord interactions, as Discord sends them to an Interactions Endpoint URL.
//!
//! Payloads come from the Discord emulator ([`kalcord_discord_emulator::EmulatorState::build_interaction`]),
//! which builds every field Discord sends (member with roles and permissions, channel, locale,
//! entitlements, the clicked message with its components...); here they are signed once, ahead
//! of a run, the way Discord signs them: Ed25519 over `timestamp + body`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ed25519_dalek::{Signer as _, SigningKey};
use hyper::header::{HeaderName, HeaderValue, USER_AGENT};
use serde_json::Value;

use crate::run::{Check, Prepared};

/// `X-Signature-Ed25519`.
pub const SIGNATURE: HeaderName = HeaderName::from_static("x-signature-ed25519");
/// `X-Signature-Timestamp`.
pub const TIMESTAMP: HeaderName = HeaderName::from_static("x-signature-timestamp");
/// The user agent Discord sends interactions with.
pub const DISCORD_USER_AGENT: &str = "Discord-Interactions/1.0 (+https://discord.com)";

/// Signs interaction payloads with an application's private key.
pub struct Signer {
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer { key: <redacted> }")
    }
}

/// A key that is not 32 bytes of hex.
#[derive(Debug, thiserror::Error)]
#[error("the signing key must be 64 hex digits (a 32-byte Ed25519 seed)")]
pub struct BadKey;

impl Signer {
    /// From the 32-byte seed.
    #[must_use]
    pub fn new(seed: [u8; 32]) -> Self {
        Self { key: SigningKey::from_bytes(&seed) }
    }

    /// From the seed in hex (what the Discord emulator's `signing_key_hex` takes).
    ///
    /// # Errors
    ///
    /// [`BadKey`] when it is not 64 hex digits.
    pub fn from_hex(seed: &str) -> Result<Self, BadKey> {
        let bytes = hex::decode(seed.trim()).map_err(|_| BadKey)?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| BadKey)?;
        Ok(Self::new(seed))
    }

    /// The public key, in hex (the application's `public_key`).
    #[must_use]
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// `payload` signed with the current time.
    #[must_use]
    pub fn sign(&self, payload: &Value) -> Prepared {
        self.sign_bytes(Bytes::from(payload.to_string()))
    }

    /// `body` signed with the current time.
    #[must_use]
    pub fn sign_bytes(&self, body: Bytes) -> Prepared {
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs().to_string();
        let mut message = Vec::with_capacity(timestamp.len() + body.len());
        message.extend_from_slice(timestamp.as_bytes());
        message.extend_from_slice(&body);
        let signature = hex::encode(self.key.sign(&message).to_bytes());
        let header = |text: String| HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""));
        Prepared {
            body,
            headers: vec![
                (SIGNATURE, header(signature)),
                (TIMESTAMP, header(timestamp)),
                (USER_AGENT, HeaderValue::from_static(DISCORD_USER_AGENT)),
            ],
        }
    }
}

/// The `type` of a 200 interaction response, or why it is not one.
fn response_type(status: u16, body: &[u8]) -> Result<u64, String> {
    if status != 200 {
        return Err(format!("status {status}"));
    }
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|answer| answer["type"].as_u64())
        .ok_or_else(|| "not an interaction response".to_owned())
}

/// Passes a 200 `{"type":1}` (PONG).
#[must_use]
pub fn pong() -> Check {
    Arc::new(|status, body| match response_type(status, body)? {
        1 => Ok(()),
        _ => Err("not a PONG".to_owned()),
    })
}

/// Passes a 200 interaction response whose message carries a link button (a Join's personal
/// launch link).
#[must_use]
pub fn launch_link() -> Check {
    Arc::new(|status, body| {
        if status != 200 {
            return Err(format!("status {status}"));
        }
        let answer: Value = serde_json::from_slice(body).map_err(|_| "not JSON".to_owned())?;
        if link(&answer).is_some() {
            Ok(())
        } else {
            let content = answer["data"]["content"].as_str().unwrap_or_default();
            Err(format!("no launch link: {}", content.chars().take(100).collect::<String>()))
        }
    })
}

/// Passes a 200 with any interaction response type (PONG, or `type` 4 to 9).
#[must_use]
pub fn any_response() -> Check {
    Arc::new(|status, body| match response_type(status, body)? {
        1 | 4..=9 => Ok(()),
        _ => Err("not an interaction response".to_owned()),
    })
}

/// The URL of the first link button of an interaction response.
#[must_use]
pub fn link(answer: &Value) -> Option<&str> {
    answer["data"]["components"]
        .as_array()?
        .iter()
        .find_map(|row| row["components"].as_array()?.iter().find_map(|button| button["url"].as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier as _};

    #[test]
    fn signs_timestamp_then_body_like_discord() {
        let signer = Signer::new([3; 32]);
        let prepared = signer.sign(&serde_json::json!({"type": 1}));
        let value = |name: &HeaderName| {
            prepared.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.to_str().unwrap().to_owned()).unwrap()
        };
        let mut message = value(&TIMESTAMP).into_bytes();
        message.extend_from_slice(&prepared.body);
        let signature = Signature::from_slice(&hex::decode(value(&SIGNATURE)).unwrap()).unwrap();
        assert!(SigningKey::from_bytes(&[3; 32]).verifying_key().verify(&message, &signature).is_ok());
        assert!(Signer::from_hex("zz").is_err());
        assert_eq!(Signer::from_hex(&hex::encode([3; 32])).unwrap().public_key_hex(), signer.public_key_hex());
    }

    #[test]
    fn checks_tell_why_an_answer_fails() {
        assert!(pong()(200, br#"{"type":1}"#).is_ok());
        assert_eq!(pong()(401, b"").unwrap_err(), "status 401");
        let join = br#"{"type":4,"data":{"flags":64,"components":[{"type":1,"components":[{"type":2,"style":5,"url":"http://127.0.0.1/x"}]}]}}"#;
        assert!(launch_link()(200, join).is_ok());
        assert!(
            launch_link()(200, br#"{"type":4,"data":{"content":"Kaltura is down"}}"#).unwrap_err().contains("down")
        );
        assert!(any_response()(200, br#"{"type":5}"#).is_ok());
        assert!(any_response()(200, br#"{"type":2}"#).is_err());
    }
}
