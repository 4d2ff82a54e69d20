//! `session`: start, end and get (§2.1).

use kalcord_kaltura::ks::{KsSpec, Minter, Privileges, SessionType};
use subtle::ConstantTimeEq as _;

use crate::api::auth::check_ks;
use crate::api::dispatch::{Ctx, Outcome};
use crate::api::errors::ApiError;
use crate::api::object::scalar;
use crate::api::params::php_int;
use crate::api::schema::SESSION_TYPE;
use crate::api::value::{Obj, Val};
use crate::config::PartnerConfig;

/// `session.start(secret, userId="", type=0, partnerId, expiry=86400, privileges)` → a v2 KS
/// signed with the partner's first admin secret, whichever secret was given.
pub(crate) fn start(ctx: &Ctx<'_>) -> Outcome {
    let secret = ctx.req_str("secret")?;
    let user_id = ctx.opt_str("userId").unwrap_or_default();
    let raw_type = ctx.opt_str("type").filter(|value| !value.is_empty()).unwrap_or_else(|| "0".to_owned());
    let session_type = match scalar("type", SESSION_TYPE, &raw_type, ctx.now)? {
        Val::Int(code) => SessionType::from_code(code).unwrap_or(SessionType::User),
        _ => SessionType::User,
    };
    let raw_partner = ctx.opt_str("partnerId").or_else(|| ctx.opt_str("p")).unwrap_or_default();
    let expiry = ctx.opt_int("expiry").unwrap_or(86_400);
    let privileges = Privileges::parse(&ctx.opt_str("privileges").unwrap_or_default());
    let refused = || ApiError::new("START_SESSION_ERROR", &[&raw_partner]);
    let world = ctx.inner.world.lock();
    let partner = world.partners.get(&php_int(&raw_partner)).ok_or_else(refused)?;
    if !secret_accepted(&partner.config, &secret, session_type) {
        return Err(refused());
    }
    let signing_secret = partner.config.signing_secret().ok_or_else(refused)?;
    let max = partner.config.max_expiry();
    let lifetime = if expiry <= 0 { max } else { expiry.min(max) };
    let spec = KsSpec {
        expiry: ctx.now.saturating_add(lifetime),
        partner_id: partner.config.id,
        privileges: &privileges,
        session_type,
        user_id: &user_id,
    };
    Ok(Val::Str(Minter::new(partner.config.id, signing_secret).mint(&spec)))
}

/// `Partner::validateSecret`: admin secrets always, the user secret for USER sessions only.
fn secret_accepted(config: &PartnerConfig, secret: &str, session_type: SessionType) -> bool {
    let same = |candidate: &str| !candidate.is_empty() && bool::from(candidate.as_bytes().ct_eq(secret.as_bytes()));
    config.admin_secrets.iter().any(|admin| same(admin))
        || (session_type == SessionType::User && same(&config.user_secret))
}

/// `session.end()` → `null`: revokes the KS and every KS sharing its `sessionid:` privilege.
pub(crate) fn end(ctx: &Ctx<'_>) -> Outcome {
    if let Some(session) = &ctx.caller.session {
        ctx.with_partner(|partner| {
            partner.revoked_ks.insert(session.ks.trim().to_owned());
            if let Some(id) = session.parsed.privileges.get("sessionid").filter(|id| !id.is_empty()) {
                partner.revoked_sessions.insert(id.to_owned());
            }
            Ok(())
        })?;
    }
    Ok(Val::Null)
}

/// `session.get(session=currentKs)` → `KalturaSessionInfo`.
pub(crate) fn get(ctx: &Ctx<'_>) -> Outcome {
    let current = ctx.caller.session.as_ref().ok_or_else(|| ApiError::new("MISSING_KS", &[]))?;
    let (ks, parsed) = match ctx.opt_str("session").map(|ks| ks.trim().to_owned()).filter(|ks| !ks.is_empty()) {
        Some(other) => {
            let parsed =
                check_ks(&ctx.inner.world.lock(), &other, ctx.now).map_err(|failure| failure.to_api(&other))?;
            if parsed.partner_id != ctx.caller.partner_id {
                return Err(ApiError::invalid_ks_string(&other));
            }
            (other, parsed)
        }
        None => (current.ks.clone(), current.parsed.clone()),
    };
    let info = Obj::new("KalturaSessionInfo")
        .with("ks", Val::Str(ks))
        .with("sessionType", Val::Int(i64::from(parsed.session_type.code())))
        .with("partnerId", Val::Int(parsed.partner_id))
        .with("userId", Val::Str(parsed.user_id.clone()))
        .with("expiry", Val::Int(parsed.expiry))
        .with("privileges", Val::Str(parsed.privileges.to_string()));
    Ok(Val::Obj(info))
}
