//! KS v2: AES-128-CBC encrypted and SHA1-signed, minted locally at high rate.

use std::fmt::Write as _;

use aes::Aes128;
use aes::cipher::{Block, BlockModeDecrypt as _, BlockModeEncrypt as _, InnerIvInit as _, KeyInit as _};
use base64::Engine as _;
use sha1::{Digest as _, Sha1};
use subtle::ConstantTimeEq as _;

use super::urlencode::{decode as url_decode, push_encoded};
use super::{Ks, KsError, KsSpec, KsVersion, Privileges, SessionType};

const ZERO_IV: [u8; 16] = [0; 16];
const HASH_LEN: usize = 20;
const RAND_LEN: usize = 16;

fn cipher_for(admin_secret: &str) -> Aes128 {
    let digest = Sha1::digest(admin_secret.as_bytes());
    Aes128::new_from_slice(&digest[..16]).expect("16-byte key")
}

/// Mints KS v2 for one partner; keeps the expanded AES key so each mint costs two SHA1s,
/// a few AES blocks and a base64 pass.
#[derive(Clone)]
pub struct Minter {
    cipher: Aes128,
    header: String,
    partner_id: i64,
}

impl std::fmt::Debug for Minter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Minter").field("partner_id", &self.partner_id).finish_non_exhaustive()
    }
}

impl Minter {
    /// A minter for `partner_id`, signing with its admin secret.
    #[must_use]
    pub fn new(partner_id: i64, admin_secret: &str) -> Self {
        Self { cipher: cipher_for(admin_secret), header: format!("v2|{partner_id}|"), partner_id }
    }

    /// Partner this minter signs for.
    #[must_use]
    pub fn partner_id(&self) -> i64 {
        self.partner_id
    }

    /// Mints with fresh randomness from the thread's CSPRNG.
    #[must_use]
    pub fn mint(&self, spec: &KsSpec<'_>) -> String {
        let mut rand = [0u8; RAND_LEN];
        rand::fill(&mut rand);
        self.mint_with(spec, rand)
    }

    /// Mints with the given random bytes (deterministic, for test vectors).
    #[must_use]
    pub fn mint_with(&self, spec: &KsSpec<'_>, rand: [u8; RAND_LEN]) -> String {
        let fields = fields(spec);
        let hash = Sha1::new().chain_update(rand).chain_update(fields.as_bytes()).finalize();
        let plain_len = HASH_LEN + RAND_LEN + fields.len();
        let padded_len = plain_len.div_ceil(16) * 16;
        let mut buffer = Vec::with_capacity(self.header.len() + padded_len);
        buffer.extend_from_slice(self.header.as_bytes());
        let start = buffer.len();
        buffer.extend_from_slice(&hash);
        buffer.extend_from_slice(&rand);
        buffer.extend_from_slice(fields.as_bytes());
        buffer.resize(start + padded_len, 0);
        let mut encryptor = cbc::Encryptor::<Aes128>::inner_iv_init(self.cipher.clone(), &ZERO_IV.into());
        for chunk in buffer[start..].chunks_exact_mut(16) {
            let block: &mut Block<Aes128> = chunk.try_into().expect("16-byte chunk");
            encryptor.encrypt_block(block);
        }
        base64::engine::general_purpose::URL_SAFE.encode(buffer)
    }
}

/// `name=value&...&_e=expiry&_t=type&_u=user`, URL-encoded like PHP `http_build_query`.
fn fields(spec: &KsSpec<'_>) -> String {
    let mut out = String::with_capacity(96);
    for (name, value) in spec.privileges.iter() {
        push_encoded(&mut out, name);
        out.push('=');
        push_encoded(&mut out, value);
        out.push('&');
    }
    let _ = write!(out, "_e={}&_t={}&_u=", spec.expiry, spec.session_type.code());
    push_encoded(&mut out, spec.user_id);
    out
}

pub(super) fn decode(rest: &[u8], secrets: &[&str]) -> Result<Ks, KsError> {
    let split = rest.iter().position(|b| *b == b'|').ok_or(KsError::InvalidStr)?;
    let partner_id: i64 =
        std::str::from_utf8(&rest[..split]).ok().and_then(|pid| pid.parse().ok()).ok_or(KsError::InvalidStr)?;
    let encrypted = &rest[split + 1..];
    if encrypted.is_empty() || !encrypted.len().is_multiple_of(16) {
        return Err(KsError::InvalidStr);
    }
    for secret in secrets {
        if let Some(fields) = decrypt(secret, encrypted) {
            return parse_fields(partner_id, &fields);
        }
    }
    Err(KsError::InvalidStr)
}

/// Decrypts and verifies; `None` when this secret did not sign it.
fn decrypt(secret: &str, encrypted: &[u8]) -> Option<String> {
    let mut plain = encrypted.to_vec();
    let mut decryptor = cbc::Decryptor::<Aes128>::inner_iv_init(cipher_for(secret), &ZERO_IV.into());
    for chunk in plain.chunks_exact_mut(16) {
        let block: &mut Block<Aes128> = chunk.try_into().ok()?;
        decryptor.decrypt_block(block);
    }
    // NOTE: like PHP rtrim("\0"): zero padding carries no length.
    let end = plain.iter().rposition(|b| *b != 0).map_or(0, |last| last + 1);
    plain.truncate(end);
    if plain.len() < HASH_LEN + RAND_LEN {
        return None;
    }
    let (hash, rest) = plain.split_at(HASH_LEN);
    let computed = Sha1::digest(rest);
    if !bool::from(computed.as_slice().ct_eq(hash)) {
        return None;
    }
    String::from_utf8(rest[RAND_LEN..].to_vec()).ok()
}

fn parse_fields(partner_id: i64, fields: &str) -> Result<Ks, KsError> {
    let mut ks = Ks {
        additional_data: None,
        expiry: 0,
        master_partner_id: None,
        partner_id,
        privileges: Privileges::new(),
        session_type: SessionType::User,
        user_id: String::new(),
        version: KsVersion::V2,
    };
    let mut session_type = None;
    for pair in fields.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (url_decode(name), url_decode(value));
        match name.as_str() {
            "_e" => ks.expiry = value.parse().map_err(|_| KsError::InvalidStr)?,
            "_t" => session_type = Some(value.parse::<i64>().map_err(|_| KsError::InvalidType)?),
            "_u" => ks.user_id = value,
            "_m" => ks.master_partner_id = value.parse().ok(),
            "_d" => ks.additional_data = Some(value).filter(|data| !data.is_empty()),
            _ => ks.privileges.push_raw(name, value),
        }
    }
    ks.session_type = session_type.and_then(SessionType::from_code).ok_or(KsError::InvalidType)?;
    Ok(ks)
}
