//! KS validation and who may call what (§2.4).

use kalcord_kaltura::ks::{self, Ks, KsError, SessionType};

use super::errors::ApiError;
use super::params::{Param, Params, php_int};
use crate::state::World;

/// What an action needs from the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// `@ksIgnored`: no KS looked at (`session.start`).
    Ignored,
    /// `@ksOptional`: a KS, when given, must be valid (`session.end`).
    Optional,
    /// Any valid KS (the action checks the rest itself).
    AnyKs,
    /// A valid ADMIN KS.
    Admin,
}

/// Why a KS is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KsFailure {
    /// It cannot be parsed or its signature does not verify.
    Unparseable,
    /// It was parsed but is not valid (expired, revoked, unknown partner for v1, ...).
    Status(KsError),
}

impl KsFailure {
    /// The API error for it.
    pub fn to_api(self, ks: &str) -> ApiError {
        match self {
            Self::Unparseable => ApiError::invalid_ks_string(ks),
            Self::Status(status) => ApiError::invalid_ks_status(status.name()),
        }
    }
}

/// A validated session.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    /// The KS as sent.
    pub ks: String,
    /// What it says.
    pub parsed: Ks,
}

/// The caller of one action.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    /// Partner whose objects the call sees (0 when none).
    pub partner_id: i64,
    /// The session, when a KS was given.
    pub session: Option<Session>,
}

impl Caller {
    /// User id of the session (empty without one).
    pub fn user_id(&self) -> &str {
        self.session.as_ref().map_or("", |session| session.parsed.user_id.as_str())
    }

    /// Whether the session is an ADMIN one.
    pub fn is_admin(&self) -> bool {
        self.session.as_ref().is_some_and(|session| session.parsed.session_type == SessionType::Admin)
    }
}

/// Verifies a KS: known partner, signature with any admin secret, expiry, revocation.
pub(crate) fn check_ks(world: &World, ks: &str, now: i64) -> Result<Ks, KsFailure> {
    let partner_id = ks::peek_partner(ks).map_err(|_| KsFailure::Unparseable)?;
    let Some(partner) = world.partners.get(&partner_id) else {
        // NOTE: the server cannot decrypt a v2 KS without the partner's secret (parse failure),
        // while a v1 KS parses and then fails validation with INVALID_PARTNER.
        let is_v2 = ks.trim_start().starts_with("djJ8");
        return Err(if is_v2 { KsFailure::Unparseable } else { KsFailure::Status(KsError::InvalidPartner) });
    };
    let secrets: Vec<&str> = partner.config.admin_secrets.iter().map(String::as_str).collect();
    let parsed = ks::decode(ks, &secrets).map_err(|error| match error {
        KsError::InvalidType => KsFailure::Status(KsError::InvalidType),
        _ => KsFailure::Unparseable,
    })?;
    if parsed.partner_id != partner_id {
        return Err(KsFailure::Unparseable);
    }
    parsed.check(now).map_err(KsFailure::Status)?;
    let session_revoked = parsed.privileges.get("sessionid").is_some_and(|id| partner.revoked_sessions.contains(id));
    if partner.revoked_ks.contains(ks.trim()) || session_revoked {
        return Err(KsFailure::Status(KsError::Logout));
    }
    Ok(parsed)
}

/// The KS parameter, if a non-empty one was given.
pub(crate) fn ks_param(params: &Params) -> Option<&str> {
    params.get("ks").and_then(Param::as_str).map(str::trim).filter(|ks| !ks.is_empty())
}

/// `partnerId` (or `p`) as an int; 0 when absent.
pub(crate) fn partner_param(params: &Params) -> i64 {
    params.get("partnerId").or_else(|| params.get("p")).and_then(Param::as_str).map_or(0, php_int)
}

/// Resolves and authorises the caller of `service.action`.
pub(crate) fn authorize(
    world: &World,
    params: &Params,
    service_action: &str,
    access: Access,
    now: i64,
) -> Result<Caller, ApiError> {
    let ks = ks_param(params);
    match (access, ks) {
        (Access::Ignored, _) | (Access::Optional, None) => {
            Ok(Caller { partner_id: partner_param(params), session: None })
        }
        (_, Some(ks)) => {
            let parsed = check_ks(world, ks, now).map_err(|failure| failure.to_api(ks))?;
            if access == Access::Admin && parsed.session_type != SessionType::Admin {
                return Err(ApiError::new("SERVICE_FORBIDDEN", &[service_action]));
            }
            Ok(Caller { partner_id: parsed.partner_id, session: Some(Session { ks: ks.to_owned(), parsed }) })
        }
        (Access::AnyKs | Access::Admin, None) => {
            let partner_id = partner_param(params);
            if partner_id != 0 && world.partners.contains_key(&partner_id) {
                Err(ApiError::new("SERVICE_FORBIDDEN", &[service_action]))
            } else {
                Err(ApiError::new("MISSING_KS", &[]))
            }
        }
    }
}
