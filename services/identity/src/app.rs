//! What every handler shares, and the dispatch from subject to handler.

use std::time::Duration;

use bytes::Bytes;
use kalcord_cache::SharedCache;
use kalcord_discord::egress::Egress;
use kalcord_proto::subject;
use kalcord_proto::v1::{Actor, MeetingRole};
use kalcord_runtime::Deps;
use kalcord_store::{Store, StoreError};
use kalcord_tenant::Tenants;

use crate::Config;

/// Discord's `ADMINISTRATOR` permission bit.
pub(crate) const ADMINISTRATOR: u64 = 1 << 3;
/// Discord's `MANAGE_GUILD` ("Manage Server") permission bit.
pub(crate) const MANAGE_GUILD: u64 = 1 << 5;
/// Discord's `MANAGE_EVENTS` permission bit.
pub(crate) const MANAGE_EVENTS: u64 = 1 << 33;

/// The service's state, shared by every request.
pub(crate) struct App {
    pub(crate) cache: Option<SharedCache>,
    pub(crate) config: Config,
    pub(crate) deps: Deps,
    /// Calls to Discord with the bot token (`None` without `discord.bot_token` and
    /// `discord.application_id`).
    pub(crate) egress: Option<Egress>,
    pub(crate) store: Store,
    pub(crate) tenants: Tenants,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("config", &self.config).field("tenants", &self.tenants).finish_non_exhaustive()
    }
}

impl App {
    /// Answers one request: the encoded reply of the subject's type (never a panic, whatever
    /// the payload).
    pub(crate) async fn handle(&self, subject_name: &str, payload: &[u8]) -> Vec<u8> {
        match subject_name {
            subject::IDENTITY_JOIN => self.join(payload).await,
            subject::IDENTITY_ROLE => self.role(payload).await,
            subject::IDENTITY_ROLES_MAP => self.map_role(payload).await,
            subject::IDENTITY_ROLES_UNMAP => self.unmap_role(payload).await,
            subject::IDENTITY_ROLES_LIST => self.list_roles(payload).await,
            subject::IDENTITY_SETUP => self.setup(payload).await,
            subject::IDENTITY_TENANT => self.tenant(payload).await,
            subject::IDENTITY_SYNC => self.sync(payload).await,
            subject::IDENTITY_NOTIFICATIONS => self.notifications(payload).await,
            other => {
                tracing::warn!(subject = other, "request on an unexpected subject");
                Vec::new()
            }
        }
    }

    /// A cached value; a failing cache is a miss.
    pub(crate) async fn cache_get(&self, key: &str) -> Option<Bytes> {
        let cache = self.cache.as_ref()?;
        match cache.get(key).await {
            Ok(value) => value,
            Err(err) => {
                tracing::warn!(error = %err, "cache read failed");
                None
            }
        }
    }

    /// Caches a value; a failing cache is only logged.
    pub(crate) async fn cache_set(&self, key: &str, value: impl Into<Bytes>, ttl: Duration) {
        if let Some(cache) = &self.cache
            && let Err(err) = cache.set(key, value.into(), ttl).await
        {
            tracing::warn!(error = %err, "cache write failed");
        }
    }

    /// Drops a cached value; a failing cache is only logged.
    pub(crate) async fn cache_delete(&self, key: &str) {
        if let Some(cache) = &self.cache
            && let Err(err) = cache.delete(key).await
        {
            tracing::warn!(error = %err, "cache delete failed");
        }
    }

    /// Makes sure the guild's row exists (rows that reference it need it), keeping its name.
    pub(crate) async fn ensure_guild(&self, guild_id: i64) -> Result<(), StoreError> {
        let db = self.store.connection();
        if kalcord_store::repo::guilds::get(db, guild_id).await?.is_some() {
            return Ok(());
        }
        match kalcord_store::repo::guilds::create(db, guild_id, "").await {
            Ok(_) => Ok(()),
            Err(err) if err.is_conflict() => Ok(()),
            Err(err) => Err(err),
        }
    }
}

/// Whether the actor may change the guild's settings (Manage Server, Administrator or owner).
pub(crate) fn can_manage(actor: &Actor) -> bool {
    actor.is_owner || actor.permissions & (ADMINISTRATOR | MANAGE_GUILD) != 0
}

/// A snowflake as the database stores it; `None` when it cannot be one.
pub(crate) fn db_id(id: u64) -> Option<i64> {
    i64::try_from(id).ok().filter(|id| *id > 0)
}

/// `discord:<id>`, the audit log's actor.
pub(crate) fn audit_actor(actor: &Actor) -> String {
    format!("discord:{}", actor.user_id)
}

/// The stored role of a bus role; `None` for `UNSPECIFIED`.
pub(crate) fn to_store_role(role: MeetingRole) -> Option<kalcord_store::entity::MeetingRole> {
    match role {
        MeetingRole::Host => Some(kalcord_store::entity::MeetingRole::Host),
        MeetingRole::Moderator => Some(kalcord_store::entity::MeetingRole::Moderator),
        MeetingRole::Attendee => Some(kalcord_store::entity::MeetingRole::Attendee),
        MeetingRole::Unspecified => None,
    }
}

/// The bus role of a stored role.
pub(crate) fn from_store_role(role: kalcord_store::entity::MeetingRole) -> MeetingRole {
    match role {
        kalcord_store::entity::MeetingRole::Host => MeetingRole::Host,
        kalcord_store::entity::MeetingRole::Moderator => MeetingRole::Moderator,
        kalcord_store::entity::MeetingRole::Attendee => MeetingRole::Attendee,
    }
}

/// `host`, `moderator`, `attendee` (audit details, logs).
pub(crate) fn role_name(role: MeetingRole) -> &'static str {
    match role {
        MeetingRole::Host => "host",
        MeetingRole::Moderator => "moderator",
        MeetingRole::Attendee => "attendee",
        MeetingRole::Unspecified => "unspecified",
    }
}
