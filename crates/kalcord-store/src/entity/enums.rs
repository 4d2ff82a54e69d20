//! Enumerations stored as short strings (portable across SQLite and PostgreSQL).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// The role a Discord member gets in a Kaltura meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum MeetingRole {
    /// Runs the meeting.
    #[sea_orm(string_value = "host")]
    Host,
    /// Helps run the meeting.
    #[sea_orm(string_value = "moderator")]
    Moderator,
    /// Takes part.
    #[sea_orm(string_value = "attendee")]
    Attendee,
}

/// The kind of Kaltura room behind a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum MeetingKind {
    /// A Kaltura virtual classroom.
    #[sea_orm(string_value = "virtual_classroom")]
    VirtualClassroom,
    /// A Kaltura meeting room.
    #[sea_orm(string_value = "meeting_room")]
    MeetingRoom,
    /// A Kaltura webinar.
    #[sea_orm(string_value = "webinar")]
    Webinar,
}

/// Where a meeting is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MeetingStatus {
    /// Planned, not started.
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    /// In progress.
    #[sea_orm(string_value = "LIVE")]
    Live,
    /// Finished.
    #[sea_orm(string_value = "ENDED")]
    Ended,
    /// Called off before it started.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// Processing state of a recording on the Kaltura side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum RecordingStatus {
    /// Still being processed.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Playable.
    #[sea_orm(string_value = "ready")]
    Ready,
    /// Processing failed.
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Removed from Kaltura.
    #[sea_orm(string_value = "deleted")]
    Deleted,
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable as _;

    #[test]
    fn stored_values_fit_their_columns() {
        let _trace = kalcord_test_util::trace_init();
        assert!(MeetingRole::iter().all(|v| v.to_value().len() <= 16));
        assert!(MeetingKind::iter().all(|v| v.to_value().len() <= 32));
        assert!(MeetingStatus::iter().all(|v| v.to_value().len() <= 16));
        assert!(RecordingStatus::iter().all(|v| v.to_value().len() <= 16));
    }

    #[test]
    fn stored_values_match_the_schema_contract() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(MeetingRole::Moderator.to_value(), "moderator");
        assert_eq!(MeetingKind::VirtualClassroom.to_value(), "virtual_classroom");
        assert_eq!(MeetingStatus::Cancelled.to_value(), "CANCELLED");
        assert_eq!(RecordingStatus::Deleted.to_value(), "deleted");
    }

    #[test]
    fn serde_names_match_stored_values() -> Result<(), serde_json::Error> {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(serde_json::to_string(&MeetingStatus::Live)?, "\"LIVE\"");
        assert_eq!(serde_json::to_string(&MeetingKind::MeetingRoom)?, "\"meeting_room\"");
        Ok(())
    }
}
