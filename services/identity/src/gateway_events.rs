//! Discord gateway events identity follows, as gateway-shard republishes them on
//! `discord.gateway.<EVENT>` (payload: the event's raw `d`; see `kalcord_discord::gateway`).
//!
//! - `GUILD_CREATE` / `GUILD_DELETE`: the bot joining and leaving guilds, and the setup guide
//!   ([`onboarding`]).
//! - `GUILD_ROLE_DELETE`: a deleted role loses its meeting-role mapping (audited).
//! - `GUILD_MEMBER_ADD|UPDATE|REMOVE` drop that member's cached entry; `GUILD_ROLE_CREATE|
//!   UPDATE|DELETE` and `GUILD_UPDATE` move the guild to a new cache generation and drop its
//!   cached facts (see `kalcord_discord::cache_keys`).
//!
//! Every other event is acknowledged and ignored. A malformed payload is logged (never its
//! contents) and terminated; a failing store, cache or Discord call is retried after a delay.

mod onboarding;

use std::sync::Arc;
use std::time::Duration;

use kalcord_bus::spec::{self, ConsumerSpec, StreamSpec};
use kalcord_bus::{BusError, Consumer, Delivery};
use kalcord_cache::CacheError;
use kalcord_discord::egress::EgressError;
use kalcord_discord::{cache_keys, gateway};
use kalcord_store::StoreError;
use kalcord_store::audit::{self, NewAuditEntry};
use kalcord_store::repo::role_mappings;
use sea_orm::TransactionTrait as _;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::app::{App, db_id};
use crate::roles::mappings_key;

/// Durable consumer every identity replica shares (each event is handled by one of them).
pub const DURABLE: &str = "identity-gateway";
/// Events one replica handles at once.
const CONCURRENCY: usize = 16;
/// Time an event may take before it is delivered again (a guide post can wait out rate limits).
const ACK_WAIT: Duration = Duration::from_mins(2);
/// Delay before an event that failed for now (store, cache or Discord down) comes back.
const RETRY_DELAY: Duration = Duration::from_secs(5);
/// Audit actor of what kalcord does on its own.
const SYSTEM_ACTOR: &str = "kalcord";

/// Why an event was not handled.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EventError {
    /// The payload is not what the event carries; a retry cannot help.
    #[error("malformed payload: {0}")]
    Malformed(String),
    /// The store failed (retried).
    #[error("store unavailable")]
    Store(#[from] StoreError),
    /// The cache failed (retried).
    #[error("cache unavailable")]
    Cache(#[from] CacheError),
    /// Discord failed for now (retried).
    #[error("discord unavailable")]
    Discord(#[from] EgressError),
}

impl From<sea_orm::DbErr> for EventError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Store(err.into())
    }
}

/// A snowflake, sent as a decimal string (or a number); never 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Id(pub(crate) u64);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(u64),
        }
        let id = match Raw::deserialize(deserializer)? {
            Raw::Text(text) => text.parse().ok(),
            Raw::Number(number) => Some(number),
        };
        // NOTE: the error names no value: payloads are never logged.
        id.filter(|id| *id != 0).map(Id).ok_or_else(|| D::Error::custom("not a snowflake"))
    }
}

#[derive(Deserialize)]
struct GuildRef {
    id: Id,
}

#[derive(Deserialize)]
struct RoleEvent {
    guild_id: Id,
}

#[derive(Deserialize)]
struct RoleDelete {
    guild_id: Id,
    role_id: Id,
}

#[derive(Deserialize)]
struct MemberEvent {
    guild_id: Id,
    user: UserRef,
}

#[derive(Deserialize)]
struct UserRef {
    id: Id,
}

/// Decodes an event's payload; the error says where it broke, never what it held.
pub(crate) fn parse<T: DeserializeOwned>(event: &str, payload: &[u8]) -> Result<T, EventError> {
    serde_json::from_slice(payload).map_err(|err| {
        EventError::Malformed(format!(
            "{event}: {:?} error at line {} column {}",
            err.classify(),
            err.line(),
            err.column()
        ))
    })
}

/// The guild's database id, or a malformed payload.
pub(crate) fn guild_key(event: &str, id: Id) -> Result<i64, EventError> {
    db_id(id.0).ok_or_else(|| EventError::Malformed(format!("{event}: guild id out of range")))
}

/// Binds identity's consumer of the gateway stream (declaring the stream when the bus has not).
///
/// # Errors
///
/// When the bus refuses the stream or the consumer.
pub(crate) async fn bind(app: &App) -> Result<Consumer, BusError> {
    let stream = spec::streams()
        .into_iter()
        .find(|stream| stream.name == gateway::STREAM)
        .unwrap_or_else(|| StreamSpec::new(gateway::STREAM, &[gateway::ALL_EVENTS]));
    app.deps.bus.ensure_stream(&stream).await?;
    let mut consumer = ConsumerSpec::new(gateway::STREAM, DURABLE, gateway::ALL_EVENTS);
    consumer.ack_wait = ACK_WAIT;
    app.deps.bus.consume(&consumer).await
}

/// Handles gateway events until `shutdown`; the events in flight are finished first.
pub(crate) async fn run(app: Arc<App>, consumer: Consumer, shutdown: CancellationToken) {
    kalcord_bus::worker::drive(consumer, shutdown, CONCURRENCY, |delivery| {
        let app = Arc::clone(&app);
        async move { handle(&app, delivery).await }
    })
    .await;
}

/// Handles one delivery and settles it: ack, term (malformed) or nak (failed for now).
async fn handle(app: &App, delivery: Delivery) {
    let Some(event) = gateway::event_of(&delivery.subject).map(str::to_owned) else {
        // NOTE: the filter only lets gateway subjects through; anything else is not ours.
        settle(delivery.ack().await, "ack");
        return;
    };
    let span = tracing::info_span!("gateway_event", event = %event, sequence = delivery.sequence);
    delivery.message.follow(&span);
    let outcome =
        tracing::Instrument::instrument(app.gateway_event(&event, delivery.sequence, &delivery.message.payload), span)
            .await;
    match outcome {
        Ok(()) => settle(delivery.ack().await, "ack"),
        Err(EventError::Malformed(reason)) => {
            tracing::warn!(event = %event, sequence = delivery.sequence, %reason, "malformed gateway event dropped");
            settle(delivery.term().await, "term");
        }
        Err(err) => {
            tracing::warn!(event = %event, attempt = delivery.attempt, error = %kalcord_runtime::chain(&err), "gateway event failed; retrying");
            settle(delivery.nak(Some(RETRY_DELAY)).await, "nak");
        }
    }
}

fn settle(result: Result<(), BusError>, what: &'static str) {
    if let Err(err) = result {
        // NOTE: an unsettled event comes back after ack_wait; every handler is idempotent.
        tracing::warn!(error = %err, what, "gateway event not settled");
    }
}

impl App {
    /// Handles one gateway event; `sequence` is its position on the bus (orders joins and removals).
    pub(crate) async fn gateway_event(&self, event: &str, sequence: u64, payload: &[u8]) -> Result<(), EventError> {
        let sequence = i64::try_from(sequence).unwrap_or(i64::MAX);
        match event {
            "GUILD_CREATE" => self.guild_create(sequence, payload).await,
            "GUILD_DELETE" => self.guild_delete(sequence, payload).await,
            "GUILD_UPDATE" => self.guild_changed(parse::<GuildRef>(event, payload)?.id.0).await,
            "GUILD_ROLE_CREATE" | "GUILD_ROLE_UPDATE" => {
                self.guild_changed(parse::<RoleEvent>(event, payload)?.guild_id.0).await
            }
            "GUILD_ROLE_DELETE" => self.role_deleted(parse(event, payload)?).await,
            "GUILD_MEMBER_ADD" | "GUILD_MEMBER_UPDATE" | "GUILD_MEMBER_REMOVE" => {
                let member: MemberEvent = parse(event, payload)?;
                self.member_changed(member.guild_id.0, member.user.id.0).await
            }
            _ => Ok(()),
        }
    }

    /// Roles or the guild changed: every cached member of the guild is read again, and so are
    /// the guild's cached owner and role permissions.
    pub(crate) async fn guild_changed(&self, guild_id: u64) -> Result<(), EventError> {
        let Some(cache) = &self.cache else { return Ok(()) };
        cache_keys::bump_generation(cache.as_ref(), guild_id).await?;
        cache.delete(&cache_keys::interactions_guild(guild_id)).await?;
        Ok(())
    }

    /// A member joined, changed (roles, nickname, timeout) or left: the guild moves to a new
    /// cache generation.
    ///
    /// NOTE: deleting only the member's entry would race with a lookup that read Discord just
    /// before the change and writes its (old) answer just after the delete; with a new
    /// generation that late write lands under a key nobody reads any more.
    async fn member_changed(&self, guild_id: u64, _user_id: u64) -> Result<(), EventError> {
        let Some(cache) = &self.cache else { return Ok(()) };
        cache_keys::bump_generation(cache.as_ref(), guild_id).await?;
        Ok(())
    }

    /// A role was deleted: its mapping goes (audited), and the guild's caches with it.
    async fn role_deleted(&self, event: RoleDelete) -> Result<(), EventError> {
        let guild = guild_key("GUILD_ROLE_DELETE", event.guild_id)?;
        let role = db_id(event.role_id.0)
            .ok_or_else(|| EventError::Malformed("GUILD_ROLE_DELETE: role id out of range".to_owned()))?;
        // NOTE: removal and audit entry commit together; a redelivery finds nothing to remove
        // and only invalidates the caches again.
        let txn = self.store.connection().begin().await?;
        if role_mappings::delete(&txn, guild, role).await? {
            let entry = NewAuditEntry::new(SYSTEM_ACTOR, "role_mapping.unmap")
                .guild(guild)
                .target(format!("role:{role}"))
                .details(json!({ "discord_role_id": role.to_string(), "reason": "role_deleted", "by": "gateway" }));
            audit::append(&txn, entry).await?;
            tracing::info!(guild_id = event.guild_id.0, role_id = role, "mapping of a deleted role removed");
        }
        txn.commit().await?;
        if let Some(cache) = &self.cache {
            cache.delete(&mappings_key(event.guild_id.0)).await?;
        }
        self.guild_changed(event.guild_id.0).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_read_as_text_or_numbers() {
        let read = |text: &str| serde_json::from_str::<GuildRef>(text).map(|guild| guild.id);
        assert_eq!(read(r#"{"id":"123"}"#).unwrap(), Id(123));
        assert_eq!(read(r#"{"id":123}"#).unwrap(), Id(123));
        assert!(read(r#"{"id":"0"}"#).is_err());
        assert!(read(r#"{"id":"abc"}"#).is_err());
        assert!(read(r#"{"id":null}"#).is_err());
    }

    #[test]
    fn parse_errors_hold_no_payload_text() {
        let secret = r#"{"guild_id":"hunter2-secret","role_id":"1"}"#;
        let Err(EventError::Malformed(reason)) = parse::<RoleDelete>("GUILD_ROLE_DELETE", secret.as_bytes()) else {
            panic!("accepted");
        };
        assert!(!reason.contains("hunter2"), "{reason}");
        assert!(reason.starts_with("GUILD_ROLE_DELETE: Data error"), "{reason}");
    }
}
