//! Rows to proto messages, and the list cursor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use kalcord_proto::v1::{Meeting, MeetingKind as ProtoKind, MeetingStatus as ProtoStatus};
use kalcord_store::entity::{MeetingKind, MeetingStatus, meeting};
use uuid::Uuid;

/// The proto value of a stored kind.
#[must_use]
pub fn kind(kind: MeetingKind) -> ProtoKind {
    match kind {
        MeetingKind::VirtualClassroom => ProtoKind::VirtualClassroom,
        MeetingKind::MeetingRoom => ProtoKind::MeetingRoom,
        MeetingKind::Webinar => ProtoKind::Webinar,
    }
}

/// The proto value of a stored status.
#[must_use]
pub fn status(status: MeetingStatus) -> ProtoStatus {
    match status {
        MeetingStatus::Scheduled => ProtoStatus::Scheduled,
        MeetingStatus::Live => ProtoStatus::Live,
        MeetingStatus::Ended => ProtoStatus::Ended,
        MeetingStatus::Cancelled => ProtoStatus::Cancelled,
    }
}

/// The stored status of a proto value; `None` for unspecified or unknown values.
#[must_use]
pub fn stored_status(value: i32) -> Option<MeetingStatus> {
    match ProtoStatus::try_from(value).ok()? {
        ProtoStatus::Scheduled => Some(MeetingStatus::Scheduled),
        ProtoStatus::Live => Some(MeetingStatus::Live),
        ProtoStatus::Ended => Some(MeetingStatus::Ended),
        ProtoStatus::Cancelled => Some(MeetingStatus::Cancelled),
        ProtoStatus::Unspecified => None,
    }
}

fn ms(at: Option<DateTime<Utc>>) -> i64 {
    at.map_or(0, |at| at.timestamp_millis())
}

/// Discord snowflakes are stored as `i64`; they are never negative.
fn snowflake(id: Option<i64>) -> u64 {
    id.and_then(|id| u64::try_from(id).ok()).unwrap_or(0)
}

/// A meeting row as callers see it.
#[must_use]
pub fn meeting(model: &meeting::Model) -> Meeting {
    Meeting {
        id: model.id.to_string(),
        guild_id: snowflake(Some(model.guild_id)),
        kind: kind(model.kind).into(),
        title: model.title.clone(),
        description: model.description.clone().unwrap_or_default(),
        status: status(model.status).into(),
        host_user_id: snowflake(Some(model.host_discord_user_id)),
        scheduled_start_unix_ms: ms(model.scheduled_start),
        scheduled_end_unix_ms: ms(model.scheduled_end),
        actual_start_unix_ms: ms(model.actual_start),
        actual_end_unix_ms: ms(model.actual_end),
        kaltura_resource_id: model.kaltura_resource_id.clone().unwrap_or_default(),
        kaltura_event_id: model.kaltura_event_id.clone().unwrap_or_default(),
        kaltura_entry_id: model.kaltura_entry_id.clone().unwrap_or_default(),
        discord_channel_id: snowflake(model.discord_channel_id),
        discord_message_id: snowflake(model.discord_message_id),
        custom_fields_json: model.custom_fields.to_string(),
        created_at_unix_ms: model.created_at.timestamp_millis(),
        updated_at_unix_ms: model.updated_at.timestamp_millis(),
        version: model.version,
    }
}

/// Where a page of `meetings.list` ends: the last meeting's creation time and id (the
/// order is `created_at` then `id`, both descending).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// Creation time of the last meeting shown.
    pub created_at: DateTime<Utc>,
    /// Its id.
    pub id: Uuid,
}

impl Cursor {
    /// The cursor after `model`.
    #[must_use]
    pub fn after(model: &meeting::Model) -> Self {
        Self { created_at: model.created_at, id: model.id }
    }

    /// Opaque text: URL-safe base64 of `<created_at µs>:<id>`.
    #[must_use]
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.created_at.timestamp_micros(), self.id.simple()))
    }

    /// Reads a cursor from [`Cursor::encode`]; `None` when it is not one.
    #[must_use]
    pub fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (micros, id) = text.split_once(':')?;
        let created_at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
        Some(Self { created_at, id: Uuid::parse_str(id).ok()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let _trace = kalcord_test_util::trace_init();
        let created_at = DateTime::from_timestamp_micros(1_790_000_000_123_456).expect("valid instant");
        let cursor = Cursor { created_at, id: Uuid::now_v7() };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("not a cursor!"), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("12:nope")), None);
    }

    #[test]
    fn statuses_map_both_ways() {
        let _trace = kalcord_test_util::trace_init();
        for stored in [MeetingStatus::Scheduled, MeetingStatus::Live, MeetingStatus::Ended, MeetingStatus::Cancelled] {
            assert_eq!(stored_status(status(stored).into()), Some(stored));
        }
        assert_eq!(stored_status(0), None);
    }
}
