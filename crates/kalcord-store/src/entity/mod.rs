//! sea-orm entities, one per table.
//!
//! Discord snowflakes are stored as `BIGINT` (`i64`); timestamps are `timestamptz` on
//! PostgreSQL and text on SQLite, always written at microsecond precision
//! ([`crate::now`]). Enumerations are stored as short strings, not native enums, so the
//! schema is the same on both backends.

pub mod audit_log;
mod enums;
pub mod event_outbox;
pub mod guild;
pub mod identity_link;
pub mod kaltura_notice;
pub mod meeting;
pub mod meeting_sync;
pub mod notification_post;
pub mod participant;
pub mod prelude;
pub mod recording;
pub mod role_mapping;

pub use enums::{MeetingKind, MeetingRole, MeetingStatus, RecordingStatus};
