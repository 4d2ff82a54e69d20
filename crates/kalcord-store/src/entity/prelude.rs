//! Entity types under short names: `use kalcord_store::entity::prelude::*;`.

pub use super::audit_log::Entity as AuditLog;
pub use super::event_outbox::Entity as EventOutbox;
pub use super::guild::Entity as Guild;
pub use super::identity_link::Entity as IdentityLink;
pub use super::kaltura_notice::Entity as KalturaNotice;
pub use super::meeting::Entity as Meeting;
pub use super::meeting_sync::Entity as MeetingSync;
pub use super::notification_post::Entity as NotificationPost;
pub use super::participant::Entity as Participant;
pub use super::recording::Entity as Recording;
pub use super::role_mapping::Entity as RoleMapping;
pub use super::{MeetingKind, MeetingRole, MeetingStatus, RecordingStatus};
