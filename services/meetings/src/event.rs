//! Meeting events: what each lifecycle change tells the rest of kalcord, written to the outbox in
//! the change's own transaction (see [`crate::relay`] for how they reach the bus).

use kalcord_proto::Message as _;
use kalcord_proto::subject;
use kalcord_proto::v1::{MeetingEvent, Recording};
use kalcord_store::StoreError;
use kalcord_store::entity::meeting;
use kalcord_store::repo::outbox::{self, NewEvent};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::convert;
use crate::lifecycle::Transition;

/// What happened to a meeting; the last token of its subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Created for later (`SCHEDULED`).
    Scheduled,
    /// Went `LIVE`: created to start now, or its start time came.
    Started,
    /// Its details changed.
    Updated,
    /// `LIVE -> ENDED`.
    Ended,
    /// `SCHEDULED -> CANCELLED`.
    Cancelled,
    /// A `SCHEDULED` meeting starts within the reminder lead time.
    Reminder,
    /// A recording of the meeting is ready.
    RecordingReady,
}

impl EventKind {
    /// The kind as [`MeetingEvent::kind`] carries it, e.g. `started`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Started => "started",
            Self::Updated => "updated",
            Self::Ended => "ended",
            Self::Cancelled => "cancelled",
            Self::Reminder => "reminder",
            Self::RecordingReady => "recording_ready",
        }
    }

    /// The subject events of this kind are published on, e.g. `meetings.events.started`.
    #[must_use]
    pub fn subject(self) -> &'static str {
        match self {
            Self::Scheduled => subject::MEETINGS_EVENTS_SCHEDULED,
            Self::Started => subject::MEETINGS_EVENTS_STARTED,
            Self::Updated => subject::MEETINGS_EVENTS_UPDATED,
            Self::Ended => subject::MEETINGS_EVENTS_ENDED,
            Self::Cancelled => subject::MEETINGS_EVENTS_CANCELLED,
            Self::Reminder => subject::MEETINGS_EVENTS_REMINDER,
            Self::RecordingReady => subject::MEETINGS_EVENTS_RECORDING_READY,
        }
    }
}

impl From<Transition> for EventKind {
    fn from(transition: Transition) -> Self {
        match transition {
            Transition::Start => Self::Started,
            Transition::End => Self::Ended,
            Transition::Cancel => Self::Cancelled,
        }
    }
}

/// Who changed the meeting and how, for the event.
#[derive(Clone, Debug, Default)]
pub struct Change {
    /// Discord user; `None` when kalcord did it on its own.
    pub actor_user_id: Option<i64>,
    /// For updates: the fields that changed.
    pub fields: Vec<String>,
    /// For `recording_ready`: the recording.
    pub recording: Option<Recording>,
    /// For reminders: the lead time, seconds.
    pub reminder_lead_seconds: u32,
}

/// Writes the event of `kind` about `row` (the meeting after the change) to the outbox; call it
/// in the transaction that writes the change, so the event exists exactly when the change does.
///
/// # Errors
///
/// When the store refuses the row (the transaction is then rolled back with the change).
pub async fn record<C>(db: &C, kind: EventKind, row: &meeting::Model, change: Change) -> Result<Uuid, StoreError>
where
    C: ConnectionTrait,
{
    let id = Uuid::now_v7();
    let event = MeetingEvent {
        event_id: id.to_string(),
        kind: kind.as_str().to_owned(),
        meeting: Some(convert::meeting(row)),
        occurred_at_unix_ms: kalcord_store::now().timestamp_millis(),
        actor_user_id: change.actor_user_id.and_then(|user| u64::try_from(user).ok()).unwrap_or_default(),
        changed_fields: change.fields,
        recording: change.recording,
        reminder_lead_seconds: change.reminder_lead_seconds,
    };
    let new = NewEvent { id, subject: kind.subject().to_owned(), payload: event.encode_to_vec() };
    outbox::insert(db, new).await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_end_with_the_kind() {
        let _trace = kalcord_test_util::trace_init();
        for kind in [
            EventKind::Scheduled,
            EventKind::Started,
            EventKind::Updated,
            EventKind::Ended,
            EventKind::Cancelled,
            EventKind::Reminder,
            EventKind::RecordingReady,
        ] {
            assert_eq!(kind.subject(), format!("{}{}", subject::MEETINGS_EVENTS_PREFIX, kind.as_str()));
            assert!(kalcord_bus::subject::matches(subject::MEETINGS_EVENTS, kind.subject()));
        }
    }
}
