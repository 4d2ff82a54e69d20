//! Kaltura notifications applied to meetings: a media entry that became READY and records one
//! of our meetings becomes a recording row and a `recording_ready` event, in one transaction.
//!
//! A recording is linked to its meeting the way Kaltura links it to the room (kaltura-api.md
//! §5): the entry's `referenceId` is the one kalcord gave the room's schedule event
//! (`kalcord:<guild>:<idempotency key>`, copied onto the recordings of the event), else its
//! `rootEntryId`/`parentEntryId` is the meeting's own entry (webinar recordings of a live entry).
//! Entry names are not used: they are free text.
//!
//! NOTE: Kaltura notifications carry no reliable "session started/ended" signal for rooms (no
//! API ends a room session; schedule events only move ACTIVE/CANCELLED/DELETED), so meetings go
//! LIVE and ENDED only through kalcord itself.

use kalcord_kaltura::webhook::WebhookEvent;
use kalcord_proto::v1::Recording;
use kalcord_store::StoreError;
use kalcord_store::entity::{RecordingStatus, meeting, recording};
use kalcord_store::repo::{meetings, recordings};
use kalcord_tenant::TenantError;
use sea_orm::sea_query::{Expr, ExprTrait as _, LikeExpr};
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _, Set, TransactionTrait as _, TryInsertResult,
};
use serde_json::Value;
use uuid::Uuid;

use super::{MeetingsApi, REFERENCE_KEY_CHARS, escape_like};
use crate::event::{self, Change, EventKind};

/// `KalturaEntryStatus::READY`.
const ENTRY_READY: i64 = 2;

/// What applying a notification did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Applied {
    /// A recording row and its `recording_ready` event were written.
    Recorded {
        /// Meeting recorded.
        meeting: Uuid,
        /// New recording row.
        recording: Uuid,
    },
    /// The entry's recording was registered already (a redelivery).
    Duplicate,
    /// Nothing to do; says why.
    Ignored(&'static str),
}

/// A notification could not be applied for now; it is to be retried.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The store failed.
    #[error("cannot read or write the store")]
    Store(#[from] StoreError),
    /// The guild's Kaltura partner cannot be told.
    #[error("cannot tell the guild's Kaltura partner")]
    Tenant(#[from] TenantError),
}

impl From<sea_orm::DbErr> for WebhookError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Store(err.into())
    }
}

impl MeetingsApi {
    /// Applies one verified Kaltura notification (the JSON of `kaltura.webhooks`), idempotently:
    /// the same notification applied again changes nothing.
    ///
    /// # Errors
    ///
    /// When the store or the guild's partner settings cannot be read (retry later).
    pub async fn apply_webhook(&self, event: &WebhookEvent) -> Result<Applied, WebhookError> {
        let Some(entry_id) = event.entry_id.as_deref().filter(|id| !id.is_empty()) else {
            return Ok(Applied::Ignored("not about an entry"));
        };
        if event.status != Some(ENTRY_READY) {
            return Ok(Applied::Ignored("the entry is not ready"));
        }
        // NOTE: e.g. a flavor asset's notification names its entry but tells the asset's status.
        if event.object_id.as_deref().is_some_and(|id| id != entry_id) {
            return Ok(Applied::Ignored("not the entry's own status"));
        }
        let db = self.store.connection();
        if recordings::find_by_entry_id(db, entry_id).await?.is_some() {
            return Ok(Applied::Duplicate);
        }
        let Some(meeting) = self.recorded_meeting(event, entry_id).await? else {
            return Ok(Applied::Ignored("not a recording of a kalcord meeting"));
        };
        if !self.same_partner(&meeting, event.partner_id).await? {
            tracing::warn!(meeting = %meeting.id, partner = event.partner_id, "a recording notification from another partner than the meeting's was ignored");
            return Ok(Applied::Ignored("another partner's entry"));
        }
        self.save_recording(&meeting, entry_id, event).await
    }

    /// Inserts the recording (unless its entry is registered) and its event in one transaction.
    async fn save_recording(
        &self,
        meeting: &meeting::Model,
        entry_id: &str,
        event: &WebhookEvent,
    ) -> Result<Applied, WebhookError> {
        let details = Details::of(event, entry_id);
        let id = Uuid::now_v7();
        let now = kalcord_store::now();
        let row = recording::ActiveModel {
            id: Set(id),
            meeting_id: Set(meeting.id),
            kaltura_entry_id: Set(entry_id.to_owned()),
            status: Set(RecordingStatus::Ready),
            play_url: Set(details.url.clone()),
            download_url: Set(details.download_url.clone()),
            thumbnail_url: Set(details.thumbnail_url.clone()),
            duration_seconds: Set(details.duration_seconds.and_then(|seconds| i32::try_from(seconds).ok())),
            posted_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let txn = self.store.connection().begin_with_options(self.txn_options()).await?;
        let result = async {
            // NOTE: without RETURNING (see `meetings::create_idempotent`); a concurrent replica
            // applying the same notification inserts nothing here and writes no event.
            let inserted = recording::Entity::insert(row)
                .on_conflict_do_nothing_on([recording::Column::KalturaEntryId])
                .exec_without_returning(&txn)
                .await?;
            if !matches!(inserted, TryInsertResult::Inserted(rows) if rows > 0) {
                return Ok(false);
            }
            let recording = Recording {
                entry_id: entry_id.to_owned(),
                title: details.title,
                duration_seconds: details.duration_seconds.unwrap_or_default(),
                url: details.url.unwrap_or_default(),
                thumbnail_url: details.thumbnail_url.unwrap_or_default(),
                id: id.to_string(),
            };
            let change = Change { recording: Some(recording), ..Change::default() };
            event::record(&txn, EventKind::RecordingReady, meeting, change).await?;
            Ok::<_, StoreError>(true)
        }
        .await;
        match result {
            Ok(true) => {
                txn.commit().await?;
                self.wake_relay();
                tracing::info!(meeting = %meeting.id, recording = %id, entry = entry_id, "recording ready");
                Ok(Applied::Recorded { meeting: meeting.id, recording: id })
            }
            Ok(false) => {
                txn.rollback().await?;
                Ok(Applied::Duplicate)
            }
            Err(err) => {
                if let Err(rollback) = txn.rollback().await {
                    tracing::warn!(error = %rollback, "rollback failed");
                }
                Err(err.into())
            }
        }
    }

    /// The meeting the entry records, if any (see the module docs); a guild tenant only ever
    /// matches its own meetings.
    async fn recorded_meeting(
        &self,
        event: &WebhookEvent,
        entry_id: &str,
    ) -> Result<Option<meeting::Model>, WebhookError> {
        use meeting::Column;

        let tenant_guild: Option<i64> = event.tenant.parse().ok();
        let db = self.store.connection();
        if let Some((guild, key)) = event.reference_id.as_deref().and_then(parse_reference) {
            if tenant_guild.is_some_and(|tenant| tenant != guild) {
                return Ok(None);
            }
            if let Some(found) = meetings::find_by_idempotency_key(db, guild, key).await? {
                return Ok(Some(found));
            }
            if key.chars().count() < REFERENCE_KEY_CHARS {
                return Ok(None);
            }
            // NOTE: the reference holds the key's first characters only; it must name one meeting.
            let pattern = format!("{}%", escape_like(key));
            let mut found = meeting::Entity::find()
                .filter(Column::GuildId.eq(guild))
                .filter(Expr::col(Column::IdempotencyKey).like(LikeExpr::new(pattern).escape('\\')))
                .limit(2)
                .all(db)
                .await?;
            return Ok(if found.len() == 1 { found.pop() } else { None });
        }
        let root = ["rootEntryId", "parentEntryId"]
            .into_iter()
            .filter_map(|field| text(event.object.get(field)))
            .find(|id| id != entry_id);
        let Some(root) = root else { return Ok(None) };
        let mut query = meeting::Entity::find().filter(Column::KalturaEntryId.eq(root));
        if let Some(guild) = tenant_guild {
            query = query.filter(Column::GuildId.eq(guild));
        }
        Ok(query.one(db).await?)
    }

    /// Whether the meeting's guild uses the partner that signed the notification.
    async fn same_partner(&self, meeting: &meeting::Model, partner_id: i64) -> Result<bool, WebhookError> {
        let guild = u64::try_from(meeting.guild_id).unwrap_or_default();
        match self.tenants.client(guild).await {
            Ok((client, _)) => Ok(client.partner_id() == partner_id),
            Err(TenantError::NotConfigured | TenantError::SecretMissing) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }
}

/// The recording's details as the notification tells them.
#[derive(Debug)]
struct Details {
    download_url: Option<String>,
    duration_seconds: Option<u32>,
    thumbnail_url: Option<String>,
    title: String,
    url: Option<String>,
}

impl Details {
    fn of(event: &WebhookEvent, entry_id: &str) -> Self {
        let object = &event.object;
        let number = |field: &str| text(object.get(field)).and_then(|value| value.parse::<u64>().ok());
        let duration_seconds = number("duration")
            .or_else(|| number("msDuration").map(|ms| ms.div_ceil(1000)))
            .and_then(|seconds| u32::try_from(seconds).ok());
        Self {
            download_url: text(object.get("downloadUrl")),
            duration_seconds,
            thumbnail_url: text(object.get("thumbnailUrl")),
            title: event.name.clone().unwrap_or_else(|| entry_id.to_owned()),
            url: text(object.get("dataUrl")),
        }
    }
}

/// `(guild, key)` of a reference `kalcord:<guild>:<key>`.
fn parse_reference(reference: &str) -> Option<(i64, &str)> {
    let (guild, key) = reference.strip_prefix("kalcord:")?.split_once(':')?;
    let guild = guild.parse().ok().filter(|guild| *guild > 0)?;
    (!key.is_empty()).then_some((guild, key))
}

/// A non-empty string or number field as text.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn references_name_a_guild_and_a_key() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(parse_reference("kalcord:42:interaction:1"), Some((42, "interaction:1")));
        for bad in ["kalcord:42:", "kalcord:x:key", "other:42:key", "kalcord:-1:key", ""] {
            assert_eq!(parse_reference(bad), None, "{bad}");
        }
    }

    #[test]
    fn details_come_from_the_entry() {
        let _trace = kalcord_test_util::trace_init();
        let body = r#"{"object":{"id":"1_abc","name":"Sync - Recording 1","status":2,"msDuration":61500,"dataUrl":"http://k/play","thumbnailUrl":"http://k/thumb"},"eventObjectType":1,"eventType":3}"#;
        let notification = kalcord_kaltura::webhook::parse(body.as_bytes()).unwrap();
        let event = WebhookEvent::new("default", 1, &notification, 0);
        let details = Details::of(&event, "1_abc");
        assert_eq!((details.title.as_str(), details.duration_seconds), ("Sync - Recording 1", Some(62)));
        assert_eq!((details.url.as_deref(), details.download_url), (Some("http://k/play"), None));
        assert_eq!(text(Some(&json!(""))), None);
    }
}
