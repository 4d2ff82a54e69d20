#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kalcord_config::{Secret, SecretsConfig, TenantSecretError, TenantSecretStore};
use kalcord_kaltura::ks::{Privileges, SessionType};
use kalcord_kaltura::{Client, ClientConfig, KalturaConfig, KalturaError, MAX_KS_TTL};
use kalcord_store::Store;
use kalcord_store::repo::guilds;
use parking_lot::Mutex;
use sea_orm::Set;
use url::Url;

/// How long a guild's client is reused before its configuration is read again (so a
/// `/kaltura setup` on another replica takes effect).
const CLIENT_TTL: Duration = Duration::from_secs(30);

/// Lifetime asked of the `session.start` that checks a partner's secret.
const CHECK_SESSION_SECONDS: i64 = 60;

/// Time zone of a guild that has not set one.
pub const DEFAULT_TIME_ZONE: &str = "UTC";

/// Kaltura's answer to a `session.start` with a wrong secret or an unknown partner.
const START_SESSION_ERROR: &str = "START_SESSION_ERROR";

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
    /// The partner id is not a positive 32-bit number.
    #[error("the Kaltura partner id must be a positive number")]
    InvalidPartner,
    /// Kaltura refused the partner id and admin secret (`START_SESSION_ERROR`).
    #[error("Kaltura refused this partner id and admin secret")]
    SecretRejected,
    /// Kaltura answered the check with another error.
    #[error("Kaltura refused the session check ({code})")]
    Refused {
        /// Kaltura's error code.
        code: String,
    },
    /// Kaltura could not be reached (transport, timeout, HTTP error, open circuit).
    #[error("Kaltura did not answer the session check")]
    Unreachable(#[source] KalturaError),
    /// The tenant secret store failed.
    #[error("the tenant secret store failed")]
    Secrets(#[from] TenantSecretError),
}

/// What `/kaltura setup` links a guild to.
#[derive(Clone, Debug)]
pub struct TenantSetup {
    /// Kaltura partner id (positive, 32-bit).
    pub partner_id: i64,
    /// Kaltura API base; `None`: `kaltura.service_url`.
    pub service_url: Option<Url>,
    /// KAF host launch URLs go to; `None`: `kaltura.kaf_url`, else the partner's own KAF host.
    pub kaf_url: Option<Url>,
    /// The partner's admin secret (checked, then kept in the tenant secret store only).
    pub admin_secret: Secret,
    /// Channel for lifecycle posts; `None` keeps the current one.
    pub notification_channel_id: Option<u64>,
    /// IANA time zone (e.g. `Europe/Paris`, already checked by the caller) times without an
    /// offset are read in; `None` keeps the current one.
    pub time_zone: Option<String>,
}

/// What a guild is linked to, without any secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSettings {
    /// Where the partner comes from; `None` when no partner is available at all.
    pub source: Option<TenantSource>,
    /// Partner id, when configured.
    pub partner_id: Option<i64>,
    /// Kaltura API base, when configured.
    pub service_url: Option<Url>,
    /// KAF host launch URLs go to, when configured.
    pub kaf_url: Option<Url>,
    /// Channel for lifecycle posts.
    pub notification_channel_id: Option<u64>,
    /// IANA time zone times without an offset are read in ([`DEFAULT_TIME_ZONE`] unless set).
    pub time_zone: String,
}

impl TenantSettings {
    /// Whether meetings can be created (a partner is linked or a default is configured).
    #[must_use]
    pub fn configured(&self) -> bool {
        self.source.is_some()
    }
}

/// Key of a guild's admin secret in the tenant secret store: `guild-<id>`.
#[must_use]
pub fn secret_key(guild_id: u64) -> String {
    format!("guild-{guild_id}")
}

struct Inner {
    clients: Mutex<HashMap<u64, (Instant, Client, TenantSource)>>,
    config: KalturaConfig,
    default: Option<Client>,
    secrets: Option<TenantSecretStore>,
    store: Store,
}

/// Kaltura clients per guild; cheap to clone.
#[derive(Clone)]
pub struct Tenants {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tenants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenants")
            .field("default", &self.inner.default)
            .field("secrets", &self.inner.secrets)
            .finish_non_exhaustive()
    }
}

impl Tenants {
    /// Tenants over `store`, with `config`'s default partner and no tenant secret store:
    /// guilds linked with `/kaltura setup` report [`TenantError::SecretMissing`]. Services use
    /// [`Tenants::open`].
    ///
    /// # Errors
    ///
    /// When the default partner's client cannot be built.
    pub fn new(config: &KalturaConfig, store: Store) -> Result<Self, TenantError> {
        Self::build(config, store, None)
    }

    /// Tenants over `store`, with `config`'s default partner and guild secrets in the tenant
    /// secret store `secrets` selects (Vault KV v2 or `secrets.tenant_file`).
    ///
    /// # Errors
    ///
    /// When the default partner's client or the Vault client cannot be built.
    pub fn open(config: &KalturaConfig, secrets: &SecretsConfig, store: Store) -> Result<Self, TenantError> {
        Self::build(config, store, Some(TenantSecretStore::open(secrets)?))
    }

    /// Tenants with an explicit tenant secret store (tests, tools).
    ///
    /// # Errors
    ///
    /// When the default partner's client cannot be built.
    pub fn with_secret_store(
        config: &KalturaConfig,
        store: Store,
        secrets: TenantSecretStore,
    ) -> Result<Self, TenantError> {
        Self::build(config, store, Some(secrets))
    }

    fn build(config: &KalturaConfig, store: Store, secrets: Option<TenantSecretStore>) -> Result<Self, TenantError> {
        let default = config.default_client().map(Client::new).transpose()?;
        Ok(Self {
            inner: Arc::new(Inner {
                clients: Mutex::new(HashMap::new()),
                config: config.clone(),
                default,
                secrets,
                store,
            }),
        })
    }

    /// Lifetime of members' sessions (`kaltura.ks_ttl`, never more than 24 hours).
    #[must_use]
    pub fn ks_ttl(&self) -> Duration {
        self.inner.config.ks_ttl.min(MAX_KS_TTL)
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
    /// [`TenantError::NotConfigured`] when the guild has no partner and no default is configured;
    /// [`TenantError::SecretMissing`] when the guild's secret is not in the tenant secret store.
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
        let guild = guilds::get(self.inner.store.connection(), db_id(guild_id)).await?;
        if let Some(guild) = guild
            && let Some(partner_id) = guild.kaltura_partner_id
        {
            let secrets = self.inner.secrets.as_ref().ok_or(TenantError::SecretMissing)?;
            let secret = secrets.get(&secret_key(guild_id)).await?.ok_or(TenantError::SecretMissing)?;
            let service_url = parse_url(guild.kaltura_service_url.as_deref());
            let kaf_url = parse_url(guild.kaltura_kaf_host.as_deref());
            let config = self.client_config(i64::from(partner_id), secret, service_url, kaf_url);
            return Ok((Client::new(config)?, TenantSource::Guild));
        }
        self.inner.default.clone().map(|client| (client, TenantSource::Default)).ok_or(TenantError::NotConfigured)
    }

    /// The client configuration of a partner, with the configured defaults for what is unset.
    fn client_config(
        &self,
        partner_id: i64,
        secret: Secret,
        service_url: Option<Url>,
        kaf_url: Option<Url>,
    ) -> ClientConfig {
        let config = &self.inner.config;
        let mut client =
            ClientConfig::new(partner_id, secret, service_url.unwrap_or_else(|| config.service_url.clone()));
        client.kaf_url = kaf_url.or_else(|| config.kaf_url.clone());
        client.timeout = config.timeout;
        client
    }

    /// Builds a client for an explicit partner (used to check `/kaltura setup` input).
    ///
    /// # Errors
    ///
    /// When the client cannot be built.
    pub fn client_for(&self, config: ClientConfig) -> Result<Client, TenantError> {
        Ok(Client::new(config)?)
    }

    /// What `guild_id` is linked to, without any secret.
    ///
    /// # Errors
    ///
    /// When the database fails.
    pub async fn settings(&self, guild_id: u64) -> Result<TenantSettings, TenantError> {
        let guild = guilds::get(self.inner.store.connection(), db_id(guild_id)).await?;
        let notification_channel_id =
            guild.as_ref().and_then(|guild| guild.notification_channel_id).and_then(|id| u64::try_from(id).ok());
        let time_zone = guild
            .as_ref()
            .and_then(|guild| guild.time_zone.as_deref())
            .filter(|zone| !zone.is_empty())
            .unwrap_or(DEFAULT_TIME_ZONE)
            .to_owned();
        let config = &self.inner.config;
        if let Some(guild) = guild
            && let Some(partner_id) = guild.kaltura_partner_id
        {
            return Ok(TenantSettings {
                source: Some(TenantSource::Guild),
                partner_id: Some(i64::from(partner_id)),
                service_url: Some(
                    parse_url(guild.kaltura_service_url.as_deref()).unwrap_or_else(|| config.service_url.clone()),
                ),
                kaf_url: parse_url(guild.kaltura_kaf_host.as_deref()).or_else(|| config.kaf_url.clone()),
                notification_channel_id,
                time_zone,
            });
        }
        Ok(match &self.inner.default {
            Some(client) => TenantSettings {
                source: Some(TenantSource::Default),
                partner_id: Some(client.partner_id()),
                service_url: Some(client.config().service_url.clone()),
                kaf_url: Some(client.kaf_url()),
                notification_channel_id,
                time_zone,
            },
            None => TenantSettings {
                source: None,
                partner_id: None,
                service_url: None,
                kaf_url: None,
                notification_channel_id,
                time_zone,
            },
        })
    }

    /// Links `guild_id` to its own partner (`/kaltura setup`).
    ///
    /// In this order: checks the secret with a `session.start` against the partner's service
    /// URL (nothing is stored when Kaltura refuses it), stores the secret in the tenant secret
    /// store, writes partner id, URLs and time zone to the guild row, then forgets the cached
    /// client.
    ///
    /// # Errors
    ///
    /// [`TenantError::InvalidPartner`], [`TenantError::SecretRejected`],
    /// [`TenantError::Refused`] or [`TenantError::Unreachable`] before anything is stored;
    /// [`TenantError::SecretMissing`] without a tenant secret store; store failures.
    pub async fn configure(&self, guild_id: u64, setup: TenantSetup) -> Result<TenantSettings, TenantError> {
        let partner_id =
            i32::try_from(setup.partner_id).ok().filter(|id| *id > 0).ok_or(TenantError::InvalidPartner)?;
        let secrets = self.inner.secrets.as_ref().ok_or(TenantError::SecretMissing)?;
        let service_url = setup.service_url.unwrap_or_else(|| self.inner.config.service_url.clone());
        let config = self.client_config(
            setup.partner_id,
            setup.admin_secret.clone(),
            Some(service_url.clone()),
            setup.kaf_url.clone(),
        );
        let client = Client::new(config)?;
        check(&client).await?;

        secrets.put(&secret_key(guild_id), &setup.admin_secret).await?;

        let db = self.inner.store.connection();
        let id = db_id(guild_id);
        let guild = match guilds::get(db, id).await? {
            Some(guild) => guild,
            None => match guilds::create(db, id, "").await {
                Ok(guild) => guild,
                Err(err) if err.is_conflict() => {
                    guilds::get(db, id).await?.ok_or(TenantError::Store(kalcord_store::StoreError::NotFound {
                        entity: "guild",
                        id: guild_id.to_string(),
                    }))?
                }
                Err(err) => return Err(err.into()),
            },
        };
        let mut changes: kalcord_store::entity::guild::ActiveModel = guild.into();
        changes.kaltura_partner_id = Set(Some(partner_id));
        changes.kaltura_service_url = Set(Some(service_url.to_string()));
        changes.kaltura_kaf_host = Set(setup.kaf_url.as_ref().map(ToString::to_string));
        if let Some(channel) = setup.notification_channel_id.filter(|id| *id != 0) {
            changes.notification_channel_id = Set(Some(db_id(channel)));
        }
        if let Some(zone) = setup.time_zone.filter(|zone| !zone.trim().is_empty()) {
            changes.time_zone = Set(Some(zone.trim().to_owned()));
        }
        guilds::update(db, changes).await?;
        self.forget(guild_id);
        tracing::info!(guild_id, partner_id, "guild linked to its own Kaltura partner");
        self.settings(guild_id).await
    }

    /// Checks `guild_id`'s partner answers and accepts its secret (`/kaltura status`).
    ///
    /// # Errors
    ///
    /// As [`Tenants::client`], then as [`check`].
    pub async fn check(&self, guild_id: u64) -> Result<TenantSource, TenantError> {
        let (client, source) = self.client(guild_id).await?;
        check(&client).await?;
        Ok(source)
    }
}

/// Checks `client`'s partner id and admin secret with an admin `session.start` (the session
/// is discarded; it never leaves this function).
///
/// # Errors
///
/// [`TenantError::SecretRejected`] when Kaltura refuses the secret, [`TenantError::Refused`]
/// for another API error, [`TenantError::Unreachable`] when Kaltura does not answer.
pub async fn check(client: &Client) -> Result<(), TenantError> {
    match client.session_start("", SessionType::Admin, CHECK_SESSION_SECONDS, &Privileges::new()).await {
        Ok(_ks) => Ok(()),
        Err(err) => Err(match err.api() {
            Some(api) if api.code() == START_SESSION_ERROR => TenantError::SecretRejected,
            Some(api) => TenantError::Refused { code: api.code().to_owned() },
            None => TenantError::Unreachable(err),
        }),
    }
}

fn db_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

fn parse_url(text: Option<&str>) -> Option<Url> {
    text.filter(|text| !text.is_empty()).and_then(|text| Url::parse(text).ok())
}
