//! API tokens and `OAuth2` state cookies, both signed with HMAC-SHA256 under `api_gateway.token_key`.
//!
//! A token is a compact JWT (`HS256`): `base64url(header).base64url(claims).base64url(mac)`, whose
//! claims are the Discord user id (`sub`), the guild ids the member was in at sign-in (`guilds`),
//! `iat` and `exp` (Unix seconds). Discord's own access token is never part of it, nor kept.
//!
//! The `OAuth2` `state` is a random nonce; the browser carries `nonce.expiry.mac` in an `HttpOnly`
//! cookie, so a callback whose `state` was not issued to this browser is refused (CSRF). A
//! sign-in started from a launch page also carries, under the same MAC, the page to return to:
//! `nonce.expiry.base64url(next).mac`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

type HmacSha256 = Hmac<Sha256>;

/// Purposes a signature is bound to, so a state cookie can never pass for a token.
const TOKEN_PURPOSE: &[u8] = b"kalcord-api-token\0";
const STATE_PURPOSE: &[u8] = b"kalcord-oauth-state\0";
/// The only header accepted.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;
/// Issuer claim.
const ISSUER: &str = "kalcord";

/// What a token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer, always `kalcord`.
    pub iss: String,
    /// Discord user id (decimal).
    pub sub: String,
    /// Guild ids (decimal) the member was in at sign-in.
    pub guilds: Vec<String>,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expiry, Unix seconds.
    pub exp: i64,
}

impl Claims {
    /// The user id.
    #[must_use]
    pub fn user_id(&self) -> u64 {
        self.sub.parse().unwrap_or(0)
    }

    /// Whether the member was in `guild_id` at sign-in.
    #[must_use]
    pub fn in_guild(&self, guild_id: u64) -> bool {
        self.guilds.iter().any(|guild| guild.parse() == Ok(guild_id))
    }
}

/// What a valid state cookie carries besides its nonce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedState {
    /// Path to send the browser to once signed in (see [`TokenKey::state_to`]).
    pub next: Option<String>,
}

/// Why a token was refused (never says more to the client than "invalid" or "expired").
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token we issued, or altered.
    #[error("invalid token")]
    Invalid,
    /// Past its expiry.
    #[error("expired token")]
    Expired,
}

/// Signs and checks tokens and state cookies.
#[derive(Clone)]
pub struct TokenKey {
    key: Vec<u8>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey([redacted])")
    }
}

impl TokenKey {
    /// A key from configured bytes.
    #[must_use]
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    /// A random key, valid for this process only.
    #[must_use]
    pub fn random() -> Self {
        let mut key = vec![0u8; 32];
        rand::fill(key.as_mut_slice());
        Self { key }
    }

    fn mac(&self, purpose: &[u8], data: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(purpose);
        mac.update(data);
        mac
    }

    /// A token for `user_id` in `guilds`, valid from `now` (Unix seconds) for `ttl_seconds`.
    #[must_use]
    pub fn issue(&self, user_id: u64, guilds: &[u64], now: i64, ttl_seconds: i64) -> (String, Claims) {
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: user_id.to_string(),
            guilds: guilds.iter().map(ToString::to_string).collect(),
            iat: now,
            exp: now + ttl_seconds,
        };
        let payload = serde_json::to_vec(&claims).unwrap_or_default();
        let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(HEADER), URL_SAFE_NO_PAD.encode(payload));
        let signature = self.mac(TOKEN_PURPOSE, signed.as_bytes()).finalize().into_bytes();
        (format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)), claims)
    }

    /// Checks a token's signature, header and expiry at `now` (Unix seconds).
    ///
    /// # Errors
    ///
    /// [`TokenError::Invalid`] for anything malformed or not signed with this key,
    /// [`TokenError::Expired`] past `exp`.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let (signed, signature) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Invalid)?;
        self.mac(TOKEN_PURPOSE, signed.as_bytes()).verify_slice(&signature).map_err(|_| TokenError::Invalid)?;
        let (header, payload) = signed.split_once('.').ok_or(TokenError::Invalid)?;
        if URL_SAFE_NO_PAD.decode(header).map_err(|_| TokenError::Invalid)? != HEADER.as_bytes() {
            return Err(TokenError::Invalid);
        }
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenError::Invalid)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Invalid)?;
        if claims.iss != ISSUER || claims.user_id() == 0 {
            return Err(TokenError::Invalid);
        }
        if now >= claims.exp {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// A fresh state nonce and the cookie value binding it to the browser until `expires` (Unix seconds).
    #[must_use]
    pub fn state(&self, expires: i64) -> (String, String) {
        self.state_to(expires, None)
    }

    /// Like [`TokenKey::state`], also binding `next` (where the browser goes once signed in)
    /// under the same MAC, so it cannot be changed without the key.
    #[must_use]
    pub fn state_to(&self, expires: i64, next: Option<&str>) -> (String, String) {
        let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
        let mut signed = format!("{nonce}.{expires}");
        if let Some(next) = next {
            // NOTE: base64url has no `.`, so the fields still split unambiguously.
            signed = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(next));
        }
        let signature = self.mac(STATE_PURPOSE, signed.as_bytes()).finalize().into_bytes();
        let cookie = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature));
        (nonce, cookie)
    }

    /// Whether `cookie` was issued by [`TokenKey::state`] for `state` and is not past its expiry.
    #[must_use]
    pub fn check_state(&self, cookie: &str, state: &str, now: i64) -> bool {
        self.open_state(cookie, state, now).is_some()
    }

    /// The state `cookie` signs when it was issued for `state` and is not past its expiry.
    #[must_use]
    pub fn open_state(&self, cookie: &str, state: &str, now: i64) -> Option<SignedState> {
        let (signed, signature) = cookie.rsplit_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.mac(STATE_PURPOSE, signed.as_bytes()).verify_slice(&signature).ok()?;
        let mut fields = signed.split('.');
        let (nonce, expires) = (fields.next()?, fields.next()?);
        let next = match fields.next() {
            Some(next) => Some(String::from_utf8(URL_SAFE_NO_PAD.decode(next).ok()?).ok()?),
            None => None,
        };
        let fresh = expires.parse::<i64>().is_ok_and(|expires| now < expires);
        let matches = bool::from(nonce.as_bytes().ct_eq(state.as_bytes()));
        (fields.next().is_none() && fresh && matches).then_some(SignedState { next })
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::{TokenError, TokenKey};

    #[test]
    fn tokens_round_trip_and_refuse_tampering_expiry_and_other_keys() {
        let key = TokenKey::new(b"0123456789abcdef0123456789abcdef");
        let (token, claims) = key.issue(42, &[7, 8], 1_000, 3_600);
        assert_eq!(key.verify(&token, 1_001), Ok(claims.clone()));
        assert!(claims.in_guild(8) && !claims.in_guild(9));
        assert_eq!(key.verify(&token, 4_600), Err(TokenError::Expired));
        assert_eq!(TokenKey::random().verify(&token, 1_001), Err(TokenError::Invalid));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let forged = key.issue(43, &[7, 8, 9], 1_000, 3_600).0;
        parts[1] = forged.split('.').nth(1).unwrap_or_default().to_owned();
        assert_eq!(key.verify(&parts.join("."), 1_001), Err(TokenError::Invalid));
        assert_eq!(key.verify("garbage", 1_001), Err(TokenError::Invalid));
        assert_eq!(key.verify("a.b.c", 1_001), Err(TokenError::Invalid));
    }

    #[test]
    fn state_cookies_bind_the_nonce() {
        let key = TokenKey::random();
        let (state, cookie) = key.state(2_000);
        assert!(key.check_state(&cookie, &state, 1_000));
        assert!(!key.check_state(&cookie, "other", 1_000));
        assert!(!key.check_state(&cookie, &state, 2_000));
        assert!(!TokenKey::random().check_state(&cookie, &state, 1_000));
        assert!(!key.check_state(&format!("{state}.9999999999.AAAA"), &state, 1_000));
        assert!(!format!("{key:?}").contains(&cookie));
    }

    #[test]
    fn state_cookies_bind_the_next_path_under_the_mac() {
        let key = TokenKey::random();
        let next = "/m/42/0190f7a4-1c2b-7d3e-8f40-123456789abc";
        let (state, cookie) = key.state_to(2_000, Some(next));
        let opened = key.open_state(&cookie, &state, 1_000).map(|signed| signed.next);
        assert_eq!(opened, Some(Some(next.to_owned())));
        assert_eq!(key.open_state(&key.state(2_000).1, &state, 1_000), None, "other nonce");
        let (plain_state, plain) = key.state(2_000);
        assert_eq!(key.open_state(&plain, &plain_state, 1_000).map(|signed| signed.next), Some(None));
        // Another `next` spliced into a valid cookie breaks the MAC.
        let mut fields: Vec<&str> = cookie.split('.').collect();
        let evil = super::URL_SAFE_NO_PAD.encode("//evil.example");
        fields[2] = &evil;
        assert!(!key.check_state(&fields.join("."), &state, 1_000));
        assert!(!key.check_state(&cookie, &state, 2_000), "expired");
    }
}
