//! KS v1: a signed, readable string.

use std::fmt::Write as _;

use base64::Engine as _;
use sha1::{Digest as _, Sha1};
use subtle::ConstantTimeEq as _;

use super::{Ks, KsError, KsSpec, KsVersion, Privileges, SessionType};

pub(super) fn mint(admin_secret: &str, spec: &KsSpec<'_>, rand: u32) -> String {
    let info = format!(
        "{pid};{pid};{expiry};{kind};{rand};{user};{privileges}",
        pid = spec.partner_id,
        expiry = spec.expiry,
        kind = spec.session_type.code(),
        user = spec.user_id,
        privileges = spec.privileges,
    );
    let signature = signature(admin_secret, &info);
    base64::engine::general_purpose::STANDARD.encode(format!("{signature}|{info}"))
}

fn signature(admin_secret: &str, info: &str) -> String {
    let digest = Sha1::new().chain_update(admin_secret.as_bytes()).chain_update(info.as_bytes()).finalize();
    let mut hex = String::with_capacity(40);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

pub(super) fn decode(raw: &[u8], secrets: &[&str]) -> Result<Ks, KsError> {
    let text = std::str::from_utf8(raw).map_err(|_| KsError::InvalidStr)?;
    let (signature_text, info) = text.split_once('|').ok_or(KsError::InvalidStr)?;
    let signed =
        secrets.iter().any(|secret| signature(secret, info).as_bytes().ct_eq(signature_text.as_bytes()).into());
    if !signed {
        return Err(KsError::InvalidStr);
    }
    let parts: Vec<&str> = info.split(';').collect();
    if parts.len() < 4 {
        return Err(KsError::InvalidStr);
    }
    let number = |index: usize| parts.get(index).and_then(|part| part.parse::<i64>().ok());
    let partner_id = number(0).ok_or(KsError::InvalidStr)?;
    let expiry = number(2).ok_or(KsError::InvalidStr)?;
    let session_type = number(3).and_then(SessionType::from_code).ok_or(KsError::InvalidType)?;
    let optional = |index: usize| parts.get(index).filter(|part| !part.is_empty()).map(|part| (*part).to_owned());
    Ok(Ks {
        additional_data: optional(8),
        expiry,
        master_partner_id: number(7),
        partner_id,
        privileges: Privileges::parse(parts.get(6).copied().unwrap_or_default()),
        session_type,
        user_id: parts.get(5).copied().unwrap_or_default().to_owned(),
        version: KsVersion::V1,
    })
}
