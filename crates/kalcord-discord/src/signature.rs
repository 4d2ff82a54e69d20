//! Ed25519 verification of Discord interaction requests.
//!
//! Discord signs `X-Signature-Timestamp` followed by the raw body with the application's key
//! and sends the signature as hex in `X-Signature-Ed25519`. Anything that does not verify is
//! answered 401 — Discord probes endpoints with bad signatures and removes those that accept.

use std::time::Duration;

use ed25519_dalek::{Signature, VerifyingKey};

pub mod batch;

/// Default oldest timestamp accepted.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_mins(5);
/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-signature-ed25519";
/// Header carrying the timestamp.
pub const TIMESTAMP_HEADER: &str = "x-signature-timestamp";

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// A signature header is absent or empty.
    #[error("missing signature headers")]
    Missing,
    /// The signature is not 64 bytes of hex.
    #[error("malformed signature")]
    MalformedSignature,
    /// The timestamp is not Unix seconds.
    #[error("malformed timestamp")]
    MalformedTimestamp,
    /// The signature does not verify.
    #[error("invalid signature")]
    Invalid,
    /// The timestamp is too old (or too far in the future).
    #[error("stale timestamp ({age_seconds} s away)")]
    Stale {
        /// Distance from now, seconds.
        age_seconds: i64,
    },
}

/// The application's public key could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("public key must be 32 bytes of hex (the application's verify_key)")]
pub struct BadPublicKey;

/// Verifies interaction requests for one application.
#[derive(Clone, Debug)]
pub struct Verifier {
    key: VerifyingKey,
    max_age: Duration,
}

impl Verifier {
    /// A verifier for the application's public key (hex, as shown in the developer portal).
    ///
    /// # Errors
    ///
    /// [`BadPublicKey`] when it is not 32 bytes of hex or not a valid point.
    pub fn from_hex(public_key: &str) -> Result<Self, BadPublicKey> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(public_key.trim(), &mut bytes).map_err(|_| BadPublicKey)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| BadPublicKey)?;
        Ok(Self { key, max_age: DEFAULT_MAX_AGE })
    }

    /// Accepts timestamps at most `max_age` away from now.
    #[must_use]
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Verifies `signature` (hex) over `timestamp` + `body`, then the timestamp's freshness
    /// against `now` (Unix seconds).
    ///
    /// # Errors
    ///
    /// Any [`SignatureError`]; every one of them means 401.
    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        let signed = Self::parse(signature, timestamp, body)?;
        self.key.verify_strict(&signed.message, &signed.signature).map_err(|_| SignatureError::Invalid)?;
        self.check_age(signed.sent, now)
    }

    /// [`Verifier::verify`], batched with the other requests this thread verifies at the same
    /// moment: under load, signatures that arrive together are checked with one Ed25519 batch
    /// verification (about half the work of checking them one by one); a lone request, or a
    /// batch holding a bad signature, is checked one by one with `verify_strict`. See
    /// [`batch`](self::batch) for the details and the guarantees.
    ///
    /// # Errors
    ///
    /// Any [`SignatureError`]; every one of them means 401.
    pub async fn verify_batched(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        let signed = Self::parse(signature, timestamp, body)?;
        let sent = signed.sent;
        if !batch::verify(self.key, signed.message, signed.signature).await {
            return Err(SignatureError::Invalid);
        }
        self.check_age(sent, now)
    }

    /// The signed message and signature, or why the headers are unusable.
    fn parse(signature: Option<&str>, timestamp: Option<&str>, body: &[u8]) -> Result<Signed, SignatureError> {
        let signature = signature.map(str::trim).filter(|s| !s.is_empty()).ok_or(SignatureError::Missing)?;
        let timestamp = timestamp.map(str::trim).filter(|t| !t.is_empty()).ok_or(SignatureError::Missing)?;
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(signature, &mut bytes).map_err(|_| SignatureError::MalformedSignature)?;
        if timestamp.len() > 20 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SignatureError::MalformedTimestamp);
        }
        // NOTE: a timestamp that does not fit is reported after the signature, as before.
        let sent = timestamp.parse().ok();
        let mut message = Vec::with_capacity(timestamp.len() + body.len());
        message.extend_from_slice(timestamp.as_bytes());
        message.extend_from_slice(body);
        Ok(Signed { message, signature: Signature::from_bytes(&bytes), sent })
    }

    fn check_age(&self, sent: Option<i64>, now: i64) -> Result<(), SignatureError> {
        let sent = sent.ok_or(SignatureError::MalformedTimestamp)?;
        let age_seconds = now.saturating_sub(sent);
        let limit = i64::try_from(self.max_age.as_secs()).unwrap_or(i64::MAX);
        if age_seconds.abs() > limit {
            return Err(SignatureError::Stale { age_seconds });
        }
        Ok(())
    }
}

/// A request's signed bytes.
struct Signed {
    message: Vec<u8>,
    signature: Signature,
    sent: Option<i64>,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ed25519_dalek::{Signer as _, SigningKey};

    use super::{SignatureError, Verifier};

    fn keys() -> (SigningKey, Verifier) {
        let signing = SigningKey::from_bytes(&[7u8; 32]);
        let verifier = Verifier::from_hex(&hex::encode(signing.verifying_key().to_bytes())).unwrap();
        (signing, verifier)
    }

    fn sign(key: &SigningKey, timestamp: &str, body: &[u8]) -> String {
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(body);
        hex::encode(key.sign(&message).to_bytes())
    }

    #[test]
    fn accepts_good_and_refuses_everything_else() {
        let (key, verifier) = keys();
        let body = br#"{"type":1,"id":"1","token":"t","version":1}"#;
        let signature = sign(&key, "1700000000", body);
        assert_eq!(verifier.verify(Some(&signature), Some("1700000000"), body, 1_700_000_010), Ok(()));
        assert_eq!(verifier.verify(Some(&signature.to_uppercase()), Some("1700000000"), body, 1_700_000_010), Ok(()));
        assert_eq!(
            verifier.verify(Some(&signature), Some("1700000001"), body, 1_700_000_010),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verifier.verify(Some(&signature), Some("1700000000"), &body[1..], 1_700_000_010),
            Err(SignatureError::Invalid)
        );
        assert_eq!(verifier.verify(None, Some("1700000000"), body, 0), Err(SignatureError::Missing));
        assert_eq!(verifier.verify(Some(&signature), None, body, 0), Err(SignatureError::Missing));
        assert_eq!(verifier.verify(Some("zz"), Some("1700000000"), body, 0), Err(SignatureError::MalformedSignature));
        assert_eq!(
            verifier.verify(Some(&signature[2..]), Some("1700000000"), body, 0),
            Err(SignatureError::MalformedSignature)
        );
        assert_eq!(verifier.verify(Some(&signature), Some("17e8"), body, 0), Err(SignatureError::MalformedTimestamp));
        let other =
            Verifier::from_hex(&hex::encode(SigningKey::from_bytes(&[8u8; 32]).verifying_key().to_bytes())).unwrap();
        assert_eq!(
            other.verify(Some(&signature), Some("1700000000"), body, 1_700_000_000),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn stale_or_future_timestamps_are_refused() {
        let (key, verifier) = keys();
        let body = b"{}";
        let signature = sign(&key, "1700000000", body);
        assert_eq!(verifier.verify(Some(&signature), Some("1700000000"), body, 1_700_000_300), Ok(()));
        assert_eq!(
            verifier.verify(Some(&signature), Some("1700000000"), body, 1_700_000_301),
            Err(SignatureError::Stale { age_seconds: 301 })
        );
        assert!(matches!(
            verifier.verify(Some(&signature), Some("1700000000"), body, 1_699_999_000),
            Err(SignatureError::Stale { .. })
        ));
        let lenient = verifier.with_max_age(Duration::from_hours(1));
        assert_eq!(lenient.verify(Some(&signature), Some("1700000000"), body, 1_700_001_000), Ok(()));
    }

    #[test]
    fn public_keys_are_checked() {
        assert!(Verifier::from_hex("abcd").is_err());
        assert!(Verifier::from_hex(&"zz".repeat(32)).is_err());
    }
}
