#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kalcord_kaltura::{Client, ClientConfig, KalturaConfig, KalturaError};
use kalcord_store::Store;
use parking_lot::Mutex;

/// How long a guild's client is reused before its configuration is read again (so a
/// `/kaltura setup` on another replica takes effect).
const CLIENT_TTL: Duration = Duration::from_secs(30);

/// Where a guild's Kaltura partner comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantSource {
    /// The guild's own partner (`/kaltura setup`).
    Guild,
    /// The configured default partner (`kaltura.*`).
    Default,
}

impl TenantSource {
    /// `guild` or `default`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guild => "guild",
            Self::Default => "default",
        }
    }
}

/// A guild's partner cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenantError {
    /// Neither the guild nor the configuration names a partner.
    #[error("no Kaltura partner is linked to this server; run /kaltura setup")]
    NotConfigured,
    /// The guild names a partner whose secret is missing from the secret store.
    #[error("the Kaltura secret of this server is missing from the secret store; run /kaltura setup again")]
    SecretMissing,
    /// The database failed.
    #[error("cannot read the server's Kaltura settings")]
    Store(#[from] kalcord_store::StoreError),
    /// The client could not be built.
    #[error("cannot build the Kaltura client")]
    Kaltura(#[from] KalturaError),
}

struct Inner {
    clients: Mutex<HashMap<u64, (Instant, Client, TenantSource)>>,
    config: KalturaConfig,
    default: Option<Client>,
    store: Store,
}

/// Kaltura clients per guild; cheap to clone.
#[derive(Clone)]
pub struct Tenants {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tenants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenants").field("default", &self.inner.default).finish_non_exhaustive()
    }
}

impl Tenants {
    /// Tenants over `store`, with `config`'s default partner.
    ///
    /// # Errors
    ///
    /// When the default partner's client cannot be built.
    pub fn new(config: &KalturaConfig, store: Store) -> Result<Self, TenantError> {
        let default = config.default_client().map(Client::new).transpose()?;
        Ok(Self {
            inner: Arc::new(Inner { clients: Mutex::new(HashMap::new()), config: config.clone(), default, store }),
        })
    }

    /// Lifetime of members' sessions.
    #[must_use]
    pub fn ks_ttl(&self) -> Duration {
        self.inner.config.ks_ttl
    }

    /// The default partner's client, when one is configured.
    #[must_use]
    pub fn default_client(&self) -> Option<&Client> {
        self.inner.default.as_ref()
    }

    /// The client of `guild_id`'s partner.
    ///
    /// # Errors
    ///
    /// [`TenantError::NotConfigured`] when the guild has no partner and no default is configured.
    pub async fn client(&self, guild_id: u64) -> Result<(Client, TenantSource), TenantError> {
        if let Some((at, client, source)) = self.inner.clients.lock().get(&guild_id)
            && at.elapsed() < CLIENT_TTL
        {
            return Ok((client.clone(), *source));
        }
        let (client, source) = self.resolve(guild_id).await?;
        self.inner.clients.lock().insert(guild_id, (Instant::now(), client.clone(), source));
        Ok((client, source))
    }

    /// Forgets the cached client of `guild_id` (after its settings changed).
    pub fn forget(&self, guild_id: u64) {
        self.inner.clients.lock().remove(&guild_id);
    }

    async fn resolve(&self, guild_id: u64) -> Result<(Client, TenantSource), TenantError> {
        let id = i64::try_from(guild_id).unwrap_or(i64::MAX);
        let guild = kalcord_store::repo::guilds::get(self.inner.store.connection(), id).await?;
        if let Some(guild) = guild
            && let Some(partner_id) = guild.kaltura_partner_id
        {
            // TODO(issue 5): read the guild's secret from the writable tenant secret store.
            let _ = partner_id;
            return Err(TenantError::SecretMissing);
        }
        self.inner.default.clone().map(|client| (client, TenantSource::Default)).ok_or(TenantError::NotConfigured)
    }

    /// Builds a client for an explicit partner (used to check `/kaltura setup` input).
    ///
    /// # Errors
    ///
    /// When the client cannot be built.
    pub fn client_for(&self, config: ClientConfig) -> Result<Client, TenantError> {
        Ok(Client::new(config)?)
    }
}
