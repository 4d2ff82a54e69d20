//! Kaltura Sessions (KS): minting and parsing of v1 and v2, exactly as the server does.
//!
//! v1: `base64(hex(SHA1(secret || info)) || "|" || info)` with
//! `info = pid;pid;expiry;type;rand;user;privileges`.
//! v2: `base64url("v2|" || pid || "|" || AES-128-CBC(SHA1(secret)[..16], zero IV,
//! zero-padded SHA1(rand || fields) || rand || fields))` with `fields` the URL-encoded
//! privileges followed by `_e`, `_t`, `_u`.

mod privileges;
mod urlencode;
mod v1;
mod v2;

use std::fmt;

use base64::Engine as _;

pub use privileges::Privileges;
pub use v2::Minter;

/// `KalturaSessionType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionType {
    /// A user session (0): what members get.
    User,
    /// An anonymous widget session (1).
    Widget,
    /// An admin session (2): for API calls only, never handed to a user.
    Admin,
}

impl SessionType {
    /// Wire value.
    #[must_use]
    pub fn code(self) -> i32 {
        match self {
            Self::User => 0,
            Self::Widget => 1,
            Self::Admin => 2,
        }
    }

    /// From a wire value.
    #[must_use]
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::User),
            1 => Some(Self::Widget),
            2 => Some(Self::Admin),
            _ => None,
        }
    }
}

/// KS format version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KsVersion {
    /// Signed, readable.
    V1,
    /// Encrypted and signed.
    V2,
}

/// What a KS says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ks {
    /// Additional data (`_d` / 9th v1 field), if any.
    pub additional_data: Option<String>,
    /// Expiry, Unix seconds.
    pub expiry: i64,
    /// Master partner (`_m` / 8th v1 field), if any.
    pub master_partner_id: Option<i64>,
    /// Partner id.
    pub partner_id: i64,
    /// Privileges, in order.
    pub privileges: Privileges,
    /// Session type.
    pub session_type: SessionType,
    /// User id (may be empty).
    pub user_id: String,
    /// Format version.
    pub version: KsVersion,
}

/// Why a KS is not valid; each maps to the server's status code and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KsError {
    /// Not a KS, or its signature does not verify.
    #[error("invalid ks string")]
    InvalidStr,
    /// The partner is unknown.
    #[error("unknown partner")]
    InvalidPartner,
    /// The session type is not a known one.
    #[error("invalid session type")]
    InvalidType,
    /// The KS has expired.
    #[error("ks expired")]
    Expired,
    /// The KS was ended with `session.end`.
    #[error("ks revoked")]
    Logout,
}

impl KsError {
    /// The server's numeric status (`kSessionBase`).
    #[must_use]
    pub fn code(self) -> i32 {
        match self {
            Self::InvalidStr => -1,
            Self::InvalidPartner => -2,
            Self::InvalidType => -4,
            Self::Expired => -5,
            Self::Logout => -6,
        }
    }

    /// The server's status name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidStr => "INVALID_STR",
            Self::InvalidPartner => "INVALID_PARTNER",
            Self::InvalidType => "INVALID_TYPE",
            Self::Expired => "EXPIRED",
            Self::Logout => "LOGOUT",
        }
    }
}

/// Input of a mint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KsSpec<'a> {
    /// Expiry, Unix seconds.
    pub expiry: i64,
    /// Partner id.
    pub partner_id: i64,
    /// Privileges.
    pub privileges: &'a Privileges,
    /// Session type.
    pub session_type: SessionType,
    /// User id.
    pub user_id: &'a str,
}

/// Mints a v1 KS with the given 16-bit-ish random number (the Python client uses 0..=65536).
#[must_use]
pub fn mint_v1(admin_secret: &str, spec: &KsSpec<'_>, rand: u32) -> String {
    v1::mint(admin_secret, spec, rand)
}

/// Mints a v2 KS with the given 16 random bytes (use [`Minter`] for the fast path).
#[must_use]
pub fn mint_v2(admin_secret: &str, spec: &KsSpec<'_>, rand: [u8; 16]) -> String {
    Minter::new(spec.partner_id, admin_secret).mint_with(spec, rand)
}

/// Base64 engine that accepts the standard and URL-safe alphabets, with or without padding.
fn decode_base64(text: &str) -> Result<Vec<u8>, KsError> {
    let normalised: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(normalised.as_bytes()).map_err(|_| KsError::InvalidStr)
}

/// The partner a KS claims to belong to, read without checking anything else.
///
/// # Errors
///
/// [`KsError::InvalidStr`] when it is not a KS at all.
pub fn peek_partner(ks: &str) -> Result<i64, KsError> {
    let raw = decode_base64(ks)?;
    if let Some(rest) = raw.strip_prefix(b"v2|") {
        let end = rest.iter().position(|b| *b == b'|').ok_or(KsError::InvalidStr)?;
        return std::str::from_utf8(&rest[..end]).ok().and_then(|pid| pid.parse().ok()).ok_or(KsError::InvalidStr);
    }
    let split = raw.iter().position(|b| *b == b'|').ok_or(KsError::InvalidStr)?;
    let info = std::str::from_utf8(&raw[split + 1..]).map_err(|_| KsError::InvalidStr)?;
    info.split(';').next().and_then(|pid| pid.parse().ok()).ok_or(KsError::InvalidStr)
}

/// Verifies a KS against the partner's admin secrets (any of them may have signed it) and
/// returns what it says. Expiry and revocation are the caller's to check (see [`Ks::check`]).
///
/// # Errors
///
/// [`KsError::InvalidStr`] for anything that is not a KS signed by one of `secrets`;
/// [`KsError::InvalidType`] for an unknown session type.
pub fn decode(ks: &str, secrets: &[&str]) -> Result<Ks, KsError> {
    let raw = decode_base64(ks)?;
    if let Some(rest) = raw.strip_prefix(b"v2|") { v2::decode(rest, secrets) } else { v1::decode(&raw, secrets) }
}

impl Ks {
    /// Checks expiry against `now` (Unix seconds).
    ///
    /// # Errors
    ///
    /// [`KsError::Expired`] when `expiry <= now`, as the server does.
    pub fn check(&self, now: i64) -> Result<(), KsError> {
        if self.expiry <= now { Err(KsError::Expired) } else { Ok(()) }
    }

    /// Whether the session is an admin one.
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.session_type == SessionType::Admin
    }
}

impl fmt::Display for SessionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

#[cfg(test)]
mod tests;
