//! Recordings found by polling Kaltura (`media.list`), for partners that send kalcord no
//! notifications (no HTTP notification template points at it, or it stopped working).
//!
//! A partner counts as quiet when no signed notification of it was applied within the quiet
//! time (`kaltura_notice`). For each live or recently ended meeting of a quiet partner, the
//! ready entries recording it (by the reference kalcord gave its room, or recorded from its
//! webinar entry) are applied exactly as a notification would be: known entries change nothing,
//! so polling and notifications never record an entry twice.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use kalcord_kaltura::MediaFilter;
use kalcord_kaltura::model::MediaEntry;
use kalcord_kaltura::webhook::{BodyFormat, WebhookEvent};
use kalcord_store::entity::{MeetingStatus, meeting};
use kalcord_store::repo::kaltura_notices;
use sea_orm::sea_query::ExprTrait as _;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _};
use serde_json::json;

use super::recording::{Applied, WebhookError};
use super::{MeetingsApi, reference_id};

/// Most meetings looked at per poll (the most recent first); meetings of partners that notify
/// are skipped without a call to Kaltura, so they cost a row read each.
const POLL_MAX: u64 = 5_000;
/// Entries read per meeting (a meeting rarely has more recordings).
const ENTRIES_PER_MEETING: u32 = 25;

/// What one poll did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Polled {
    /// Meetings whose recordings were listed in Kaltura.
    pub meetings: u64,
    /// New recordings recorded.
    pub recorded: u64,
}

impl MeetingsApi {
    /// Records that `partner` sent a signed notification now (it is not polled for a while).
    ///
    /// # Errors
    ///
    /// When the store fails.
    pub async fn note_notification(&self, partner: i64, at: DateTime<Utc>) -> Result<(), WebhookError> {
        Ok(kaltura_notices::touch(self.store.connection(), partner, at).await?)
    }

    /// Looks in Kaltura for new recordings of the meetings live now or ended within `window`
    /// of `now`, for partners that sent no notification within `quiet`.
    ///
    /// # Errors
    ///
    /// When the store fails; a partner Kaltura does not answer for is skipped until the next poll.
    pub async fn poll_recordings(
        &self,
        now: DateTime<Utc>,
        window: Duration,
        quiet: Duration,
    ) -> Result<Polled, WebhookError> {
        use meeting::Column;

        let since = now - TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX);
        let candidates = meeting::Entity::find()
            .filter(
                Column::Status
                    .eq(MeetingStatus::Live)
                    .or(Column::Status.eq(MeetingStatus::Ended).and(Column::ActualEnd.gt(since))),
            )
            // NOTE: ids are time-ordered (UUID v7): newest first, on both databases alike.
            .order_by_desc(Column::Id)
            .limit(POLL_MAX)
            .all(self.store.connection())
            .await?;
        let quiet_since = now - TimeDelta::from_std(quiet).unwrap_or(TimeDelta::MAX);
        let mut quiet_partners: HashMap<i64, bool> = HashMap::new();
        let mut polled = Polled::default();
        for meeting in candidates {
            let guild = u64::try_from(meeting.guild_id).unwrap_or_default();
            let client = match self.tenants.client(guild).await {
                Ok((client, _)) => client,
                Err(err) => {
                    tracing::debug!(guild_id = guild, error = %err, "no Kaltura partner to poll for recordings");
                    continue;
                }
            };
            let partner = client.partner_id();
            let is_quiet = if let Some(quiet) = quiet_partners.get(&partner) {
                *quiet
            } else {
                let last = kaltura_notices::last(self.store.connection(), partner).await?;
                let quiet = last.is_none_or(|at| at < quiet_since);
                quiet_partners.insert(partner, quiet);
                quiet
            };
            if !is_quiet {
                continue;
            }
            let Some(filter) = filter_of(&meeting) else { continue };
            let entries = match client.list_media(&filter, ENTRIES_PER_MEETING, 1).await {
                Ok(page) => page.objects,
                Err(err) => {
                    tracing::warn!(meeting = %meeting.id, partner, error = %err, "cannot list a meeting's recordings; trying at the next poll");
                    continue;
                }
            };
            polled.meetings += 1;
            for entry in entries.iter().filter(|entry| entry.status == MediaEntry::READY) {
                if let Applied::Recorded { .. } =
                    self.apply_webhook(&as_notification(entry, partner, meeting.guild_id, now)).await?
                {
                    polled.recorded += 1;
                }
            }
        }
        Ok(polled)
    }
}

/// The ready entries recording `meeting`: from its webinar entry, or carrying its room's reference.
fn filter_of(meeting: &meeting::Model) -> Option<MediaFilter> {
    let ready = Some(MediaEntry::READY);
    if let Some(entry) = meeting.kaltura_entry_id.as_ref().filter(|id| !id.is_empty()) {
        return Some(MediaFilter {
            root_entry_id_equal: Some(entry.clone()),
            status_equal: ready,
            ..MediaFilter::default()
        });
    }
    let key = meeting.idempotency_key.as_deref().filter(|key| !key.is_empty())?;
    Some(MediaFilter {
        reference_id_equal: Some(reference_id(meeting.guild_id, key)),
        status_equal: ready,
        ..MediaFilter::default()
    })
}

/// A listed entry as the notification Kaltura would have sent about it.
fn as_notification(entry: &MediaEntry, partner: i64, guild: i64, now: DateTime<Utc>) -> WebhookEvent {
    let object = json!({
        "id": entry.id,
        "name": entry.name,
        "status": entry.status,
        "duration": entry.duration,
        "dataUrl": entry.data_url,
        "downloadUrl": entry.download_url,
        "thumbnailUrl": entry.thumbnail_url,
        "referenceId": entry.reference_id,
        "rootEntryId": entry.root_entry_id,
        "objectType": "KalturaMediaEntry",
    });
    WebhookEvent {
        entry_id: Some(entry.id.clone()),
        event_object_type: Some("1".to_owned()),
        event_type: None,
        format: BodyFormat::Object,
        name: Some(entry.name.clone()),
        notification_job_id: None,
        object,
        object_id: Some(entry.id.clone()),
        object_type: Some("KalturaMediaEntry".to_owned()),
        partner_id: partner,
        received_at_unix_ms: now.timestamp_millis(),
        reference_id: entry.reference_id.clone().filter(|id| !id.is_empty()),
        status: Some(entry.status),
        // NOTE: the meeting's guild: the entry is applied only to a meeting of that guild.
        tenant: guild.to_string(),
        template_id: None,
        template_system_name: None,
    }
}
