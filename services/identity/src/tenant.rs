//! `identity.setup` (`/kaltura setup`) and `identity.tenant` (`/kaltura status`).

use kalcord_config::Secret;
use kalcord_proto::Message as _;
use kalcord_proto::v1::{Error, SetupRequest, TenantReply, TenantRequest, TenantSummary};
use kalcord_store::audit::{self, NewAuditEntry};
use kalcord_tenant::{TenantError, TenantSettings, TenantSetup};
use serde_json::json;
use url::Url;

use crate::app::{App, audit_actor, can_manage, db_id};
use crate::reply;

fn tenant_error(error: Error) -> Vec<u8> {
    TenantReply { tenant: None, error: Some(error) }.encode_to_vec()
}

/// An optional http(s) URL field on an allowed Kaltura host (`kaltura.setup_hosts`): `Ok(None)`
/// when empty.
fn url_field(field: &str, text: &str, kaltura: &kalcord_kaltura::KalturaConfig) -> Result<Option<Url>, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match Url::parse(text) {
        // NOTE: credentials in the URL would end up in the guild row and the audit log.
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.host().is_some()
                && url.username().is_empty()
                && url.password().is_none() =>
        {
            if kaltura.setup_url_allowed(&url) {
                Ok(Some(url))
            } else {
                Err(reply::invalid(
                    field,
                    "kalcord does not connect to that address. Use your Kaltura address (https://…kaltura.com), or ask the operator to allow it (kaltura.setup_hosts).",
                ))
            }
        }
        _ => Err(reply::invalid(field, "Give an http(s) URL such as https://www.kaltura.com.")),
    }
}

/// An optional IANA time zone field: `Ok(None)` when empty, else the zone's canonical spelling
/// (`europe/paris` reads as `Europe/Paris`).
fn time_zone_field(text: &str) -> Result<Option<String>, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let zone = text
        .parse::<chrono_tz::Tz>()
        .ok()
        .or_else(|| chrono_tz::TZ_VARIANTS.iter().copied().find(|zone| zone.name().eq_ignore_ascii_case(text)));
    match zone {
        Some(zone) => Ok(Some(zone.name().to_owned())),
        None => {
            Err(reply::invalid("time_zone", "Give an IANA time zone such as Europe/Paris, America/New_York or UTC."))
        }
    }
}

/// The bus summary of a guild's settings.
fn summary(settings: &TenantSettings) -> TenantSummary {
    TenantSummary {
        configured: settings.configured(),
        partner_id: settings.partner_id.unwrap_or_default(),
        service_url: settings.service_url.as_ref().map(ToString::to_string).unwrap_or_default(),
        kaf_url: settings.kaf_url.as_ref().map(ToString::to_string).unwrap_or_default(),
        source: settings.source.map(|source| source.as_str().to_owned()).unwrap_or_default(),
        notification_channel_id: settings.notification_channel_id.unwrap_or_default(),
        reachable: false,
        problem: String::new(),
        time_zone: settings.time_zone.clone(),
    }
}

/// What a member reads when checking or linking a partner failed; `None` for internal errors.
fn kaltura_problem(err: &TenantError) -> Option<Error> {
    Some(match err {
        TenantError::SecretRejected => reply::error(
            "kaltura_refused",
            "Kaltura refused this partner id and admin secret. Check both in the KMC (Settings > Integration Settings).",
        ),
        TenantError::Refused { code } => {
            reply::error("kaltura_refused", &format!("Kaltura refused the check ({code})."))
        }
        TenantError::Unreachable(_) => reply::error(
            "kaltura_unavailable",
            "Kaltura did not answer. Check the service URL, or try again in a moment.",
        ),
        TenantError::InvalidPartner => reply::invalid("partner_id", "The partner id must be a positive number."),
        TenantError::NotConfigured => {
            reply::error("not_configured", "No Kaltura partner is linked; run /kaltura setup.")
        }
        TenantError::SecretMissing => reply::error(
            "not_configured",
            "This server's Kaltura secret is missing from the secret store; run /kaltura setup again.",
        ),
        _ => return None,
    })
}

impl App {
    /// `identity.setup`: checks the partner's secret, stores it, links the guild.
    pub(crate) async fn setup(&self, payload: &[u8]) -> Vec<u8> {
        // NOTE: the request holds the admin secret: it is never logged or Debug-printed.
        let Ok(request) = SetupRequest::decode(payload) else { return tenant_error(reply::unreadable()) };
        let Some(actor) = request.actor.as_ref().filter(|actor| actor.guild_id != 0) else {
            return tenant_error(reply::no_actor());
        };
        let Some(guild) = db_id(actor.guild_id) else {
            return tenant_error(reply::invalid("actor", "The server id is not valid."));
        };
        if !can_manage(actor) {
            return tenant_error(reply::error("forbidden", "You need the Manage Server permission to link Kaltura."));
        }
        if request.partner_id <= 0 || i32::try_from(request.partner_id).is_err() {
            return tenant_error(reply::invalid("partner_id", "The partner id must be a positive number."));
        }
        let service_url = match url_field("service_url", &request.service_url, &self.deps.common.kaltura) {
            Ok(url) => url,
            Err(error) => return tenant_error(error),
        };
        let kaf_url = match url_field("kaf_url", &request.kaf_url, &self.deps.common.kaltura) {
            Ok(url) => url,
            Err(error) => return tenant_error(error),
        };
        let time_zone = match time_zone_field(&request.time_zone) {
            Ok(zone) => zone,
            Err(error) => return tenant_error(error),
        };
        let secret = request.admin_secret.trim();
        if secret.is_empty() {
            return tenant_error(reply::invalid("admin_secret", "Give the partner's admin secret."));
        }
        let setup = TenantSetup {
            partner_id: request.partner_id,
            service_url,
            kaf_url,
            admin_secret: Secret::new(secret),
            notification_channel_id: Some(request.notification_channel_id).filter(|id| *id != 0),
            time_zone,
        };
        let settings = match self.tenants.configure(actor.guild_id, setup).await {
            Ok(settings) => settings,
            Err(err) => {
                tracing::info!(guild_id = actor.guild_id, error = %err, "kaltura setup refused");
                return tenant_error(
                    kaltura_problem(&err).unwrap_or_else(|| reply::internal("cannot link the Kaltura partner", &err)),
                );
            }
        };
        let mut tenant = summary(&settings);
        tenant.reachable = true;
        let details = json!({
            "partner_id": tenant.partner_id,
            "service_url": tenant.service_url,
            "kaf_url": tenant.kaf_url,
            "notification_channel_id": tenant.notification_channel_id.to_string(),
            "time_zone": tenant.time_zone,
        });
        let entry = NewAuditEntry::new(audit_actor(actor), "kaltura.setup")
            .guild(guild)
            .target(format!("partner:{}", tenant.partner_id))
            .details(details);
        if let Err(err) = audit::append(self.store.connection(), entry).await {
            tracing::error!(error = %kalcord_runtime::chain(&err), guild_id = actor.guild_id, "kaltura setup not audited");
        }
        TenantReply { tenant: Some(tenant), error: None }.encode_to_vec()
    }

    /// `identity.tenant`: what the guild is linked to, and with `check` whether it answers.
    pub(crate) async fn tenant(&self, payload: &[u8]) -> Vec<u8> {
        let Ok(request) = TenantRequest::decode(payload) else { return tenant_error(reply::unreadable()) };
        let Some(actor) = request.actor.filter(|actor| actor.guild_id != 0) else {
            return tenant_error(reply::no_actor());
        };
        let settings = match self.tenants.settings(actor.guild_id).await {
            Ok(settings) => settings,
            Err(err) => return tenant_error(reply::internal("cannot read the Kaltura settings", &err)),
        };
        let mut tenant = summary(&settings);
        if request.check {
            match self.tenants.check(actor.guild_id).await {
                Ok(_) => tenant.reachable = true,
                Err(err) => {
                    tracing::info!(guild_id = actor.guild_id, error = %err, "kaltura check failed");
                    tenant.problem = kaltura_problem(&err).map_or_else(
                        || "The Kaltura settings could not be read; try again in a moment.".to_owned(),
                        |error| error.message,
                    );
                }
            }
        }
        TenantReply { tenant: Some(tenant), error: None }.encode_to_vec()
    }
}
