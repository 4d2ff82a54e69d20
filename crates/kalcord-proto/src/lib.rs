#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

/// `kalcord.v1`: the first version of every bus message.
pub mod v1 {
    #![allow(missing_docs, clippy::pedantic, clippy::doc_markdown)]
    include!("gen/kalcord.v1.rs");
}

pub use prost::Message;

/// Request-reply subjects and the messages they carry (`kalcord.v1`).
pub mod subject {
    /// [`crate::v1::CreateMeetingRequest`] -> [`crate::v1::MeetingReply`].
    pub const MEETINGS_CREATE: &str = "meetings.create";
    /// [`crate::v1::GetMeetingRequest`] -> [`crate::v1::MeetingReply`].
    pub const MEETINGS_GET: &str = "meetings.get";
    /// [`crate::v1::ListMeetingsRequest`] -> [`crate::v1::ListMeetingsReply`].
    pub const MEETINGS_LIST: &str = "meetings.list";
    /// [`crate::v1::UpdateMeetingRequest`] -> [`crate::v1::MeetingReply`].
    pub const MEETINGS_UPDATE: &str = "meetings.update";
    /// [`crate::v1::EndMeetingRequest`] -> [`crate::v1::MeetingReply`] (LIVE -> ENDED).
    pub const MEETINGS_END: &str = "meetings.end";
    /// [`crate::v1::EndMeetingRequest`] -> [`crate::v1::MeetingReply`] (SCHEDULED -> CANCELLED).
    pub const MEETINGS_CANCEL: &str = "meetings.cancel";
    /// [`crate::v1::AttachMessageRequest`] -> [`crate::v1::MeetingReply`].
    pub const MEETINGS_ATTACH_MESSAGE: &str = "meetings.attach_message";
    /// [`crate::v1::AuditVerifyRequest`] -> [`crate::v1::AuditVerifyReply`].
    pub const MEETINGS_AUDIT_VERIFY: &str = "meetings.audit.verify";
    /// [`crate::v1::JoinRequest`] -> [`crate::v1::JoinReply`].
    pub const IDENTITY_JOIN: &str = "identity.join";
    /// [`crate::v1::RoleRequest`] -> [`crate::v1::RoleReply`].
    pub const IDENTITY_ROLE: &str = "identity.role";
    /// [`crate::v1::RoleMappingRequest`] -> [`crate::v1::RoleMappingReply`].
    pub const IDENTITY_ROLES_MAP: &str = "identity.roles.map";
    /// [`crate::v1::RoleMappingRequest`] -> [`crate::v1::RoleMappingReply`].
    pub const IDENTITY_ROLES_UNMAP: &str = "identity.roles.unmap";
    /// [`crate::v1::RoleMappingRequest`] -> [`crate::v1::RoleMappingReply`].
    pub const IDENTITY_ROLES_LIST: &str = "identity.roles.list";
    /// [`crate::v1::SetupRequest`] -> [`crate::v1::TenantReply`].
    pub const IDENTITY_SETUP: &str = "identity.setup";
    /// [`crate::v1::TenantRequest`] -> [`crate::v1::TenantReply`].
    pub const IDENTITY_TENANT: &str = "identity.tenant";
    /// [`crate::v1::NotificationSettingsRequest`] -> [`crate::v1::NotificationSettingsReply`].
    pub const IDENTITY_NOTIFICATIONS: &str = "identity.notifications";
    /// [`crate::v1::SyncRequest`] -> [`crate::v1::SyncReply`] (`/kaltura sync`; can take many seconds).
    pub const IDENTITY_SYNC: &str = "identity.sync";

    /// Every meeting event ([`crate::v1::MeetingEvent`]), for consumers: stream `MEETINGS_EVENTS`.
    pub const MEETINGS_EVENTS: &str = "meetings.events.>";
    /// What [`crate::v1::MeetingEvent::kind`] is appended to: `meetings.events.<kind>`.
    pub const MEETINGS_EVENTS_PREFIX: &str = "meetings.events.";
    /// [`crate::v1::MeetingEvent`]: a meeting was created for later (`SCHEDULED`).
    pub const MEETINGS_EVENTS_SCHEDULED: &str = "meetings.events.scheduled";
    /// [`crate::v1::MeetingEvent`]: a meeting went `LIVE` (started now, or its start time came).
    pub const MEETINGS_EVENTS_STARTED: &str = "meetings.events.started";
    /// [`crate::v1::MeetingEvent`]: a meeting's details changed (title, time, custom fields).
    pub const MEETINGS_EVENTS_UPDATED: &str = "meetings.events.updated";
    /// [`crate::v1::MeetingEvent`]: a `LIVE` meeting `ENDED`.
    pub const MEETINGS_EVENTS_ENDED: &str = "meetings.events.ended";
    /// [`crate::v1::MeetingEvent`]: a `SCHEDULED` meeting was `CANCELLED`.
    pub const MEETINGS_EVENTS_CANCELLED: &str = "meetings.events.cancelled";
    /// [`crate::v1::MeetingEvent`]: a `SCHEDULED` meeting starts within the reminder lead time.
    pub const MEETINGS_EVENTS_REMINDER: &str = "meetings.events.reminder";
    /// [`crate::v1::MeetingEvent`]: a recording of the meeting is ready (`recording` is set).
    pub const MEETINGS_EVENTS_RECORDING_READY: &str = "meetings.events.recording_ready";
    /// Verified Kaltura HTTP notifications as JSON (`kalcord_kaltura::webhook::WebhookEvent`),
    /// written by the api-gateway: stream `KALTURA_WEBHOOKS`.
    pub const KALTURA_WEBHOOKS: &str = "kaltura.webhooks";
}
