//! Whose admin secret signs a tenant's notifications.

use kalcord_config::Secret;
use kalcord_tenant::{TenantError, TenantSource};

use crate::AppState;

/// The tenant that names the configured default partner (`kaltura.*`).
pub const DEFAULT_TENANT: &str = "default";

/// The partner of a tenant and the secret its notifications are signed with.
pub(crate) struct Signer {
    /// Partner id.
    pub partner_id: i64,
    /// The partner's admin secret.
    pub secret: Secret,
}

/// Why a tenant has no signer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SignerError {
    /// Not `default` nor a guild linked to its own partner.
    #[error("{0}")]
    Unknown(&'static str),
    /// The database or the tenant secret store failed; Kaltura should retry.
    #[error("the tenant's Kaltura settings cannot be read")]
    Unavailable(#[source] TenantError),
}

/// The signer of `tenant`: `default` is the configured default partner; a guild id is the
/// partner the guild linked with `/kaltura setup`.
///
/// # Errors
///
/// [`SignerError::Unknown`] for anything else (including a guild on the default partner: its
/// notifications are the default partner's, sent to `default`); [`SignerError::Unavailable`]
/// when the settings cannot be read.
pub(crate) async fn signer(state: &AppState, tenant: &str) -> Result<Signer, SignerError> {
    if tenant == DEFAULT_TENANT {
        let kaltura = &state.deps.common.kaltura;
        return match (kaltura.partner_id, kaltura.admin_secret.as_ref().filter(|secret| !secret.is_empty())) {
            (Some(partner_id), Some(secret)) => Ok(Signer { partner_id, secret: secret.clone() }),
            _ => Err(SignerError::Unknown("unknown tenant: no default Kaltura partner is configured")),
        };
    }
    let guild_id = tenant
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(SignerError::Unknown("unknown tenant: expected a guild id or `default`"))?;
    let Some(tenants) = &state.tenants else {
        return Err(SignerError::Unknown("unknown tenant: guild partners are not available here"));
    };
    match tenants.client(guild_id).await {
        Ok((client, TenantSource::Guild)) => {
            Ok(Signer { partner_id: client.partner_id(), secret: client.config().admin_secret.clone() })
        }
        // NOTE: one URL per partner, so a notification is stored once, not once per guild on it.
        Ok((_, TenantSource::Default)) => Err(SignerError::Unknown(
            "unknown tenant: this server uses the default partner, whose notifications go to /webhooks/kaltura/default",
        )),
        Err(TenantError::NotConfigured) => Err(SignerError::Unknown("unknown tenant: no Kaltura partner is linked")),
        Err(TenantError::SecretMissing) => {
            Err(SignerError::Unknown("unknown tenant: the server's Kaltura secret is missing"))
        }
        Err(err) => Err(SignerError::Unavailable(err)),
    }
}
