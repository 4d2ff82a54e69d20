//! The Kaltura objects kalcord reads, decoded leniently (numbers may arrive as strings).

use serde::Deserialize;

use crate::wire::{lenient_bool, lenient_i64, lenient_opt_i64, lenient_string};

/// `KalturaUser`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    /// User id, e.g. `discord-80351110224678912`.
    #[serde(deserialize_with = "lenient_string")]
    pub id: String,
    /// Partner.
    #[serde(deserialize_with = "lenient_i64")]
    pub partner_id: i64,
    /// Display name.
    pub screen_name: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// `KalturaUserStatus`: 0 blocked, 1 active, 2 deleted.
    #[serde(deserialize_with = "lenient_i64")]
    pub status: i64,
    /// Whether the user is a partner admin.
    #[serde(deserialize_with = "lenient_bool")]
    pub is_admin: bool,
    /// Creation time, Unix seconds.
    #[serde(deserialize_with = "lenient_i64")]
    pub created_at: i64,
}

/// `KalturaScheduleResource` (rooms are `KalturaLocationScheduleResource`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScheduleResource {
    /// Resource id.
    #[serde(deserialize_with = "lenient_i64")]
    pub id: i64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Comma-separated tags, e.g. `vcprovider:newrow`.
    pub tags: Option<String>,
    /// 1 disabled, 2 active, 3 deleted.
    #[serde(deserialize_with = "lenient_i64")]
    pub status: i64,
    /// Concrete type.
    pub object_type: String,
}

/// `KalturaScheduleEvent` and its subtypes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScheduleEvent {
    /// Event id.
    #[serde(deserialize_with = "lenient_i64")]
    pub id: i64,
    /// Title.
    pub summary: String,
    /// 1 cancelled, 2 active, 3 deleted.
    #[serde(deserialize_with = "lenient_i64")]
    pub status: i64,
    /// Start, Unix seconds.
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub start_date: Option<i64>,
    /// End, Unix seconds.
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub end_date: Option<i64>,
    /// Our reference.
    pub reference_id: Option<String>,
    /// Entry the event is about (live stream, or recording template).
    pub template_entry_id: Option<String>,
    /// Tags.
    pub tags: Option<String>,
    /// Concrete type.
    pub object_type: String,
}

/// `KalturaScheduleEventResource`: links an event to a resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScheduleEventResource {
    /// Event id.
    #[serde(deserialize_with = "lenient_i64")]
    pub event_id: i64,
    /// Resource id.
    #[serde(deserialize_with = "lenient_i64")]
    pub resource_id: i64,
}

/// `KalturaLiveStreamEntry`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LiveStreamEntry {
    /// Entry id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `KalturaEntryStatus`.
    #[serde(deserialize_with = "lenient_i64")]
    pub status: i64,
    /// Where the encoder publishes.
    pub primary_broadcasting_url: Option<String>,
    /// Stream name for the encoder.
    pub stream_name: Option<String>,
    /// Recorded VOD entry, once there is one.
    pub recorded_entry_id: Option<String>,
    /// Our reference.
    pub reference_id: Option<String>,
}

/// `KalturaMediaEntry` (recordings).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MediaEntry {
    /// Entry id, e.g. `1_9vga7lbm`.
    pub id: String,
    /// Name.
    pub name: String,
    /// `KalturaEntryStatus`: 7 no content, 1 preconvert, 2 ready, ...
    #[serde(deserialize_with = "lenient_i64")]
    pub status: i64,
    /// Duration, seconds.
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub duration: Option<i64>,
    /// Playback manifest URL.
    pub data_url: Option<String>,
    /// Download URL.
    pub download_url: Option<String>,
    /// Thumbnail URL.
    pub thumbnail_url: Option<String>,
    /// Our reference.
    pub reference_id: Option<String>,
    /// Entry this one was recorded from (room or live entry).
    pub root_entry_id: Option<String>,
    /// Creation time, Unix seconds.
    #[serde(deserialize_with = "lenient_i64")]
    pub created_at: i64,
}

impl MediaEntry {
    /// `KalturaEntryStatus::READY`.
    pub const READY: i64 = 2;

    /// Whether the entry can be played.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.status == Self::READY
    }
}

/// A page of a list.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T> {
    /// The page.
    #[serde(default = "Vec::new")]
    pub objects: Vec<T>,
    /// Matches in all.
    #[serde(deserialize_with = "lenient_i64", default)]
    pub total_count: i64,
}

/// `KalturaSessionInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionInfo {
    /// Session type.
    #[serde(deserialize_with = "lenient_i64")]
    pub session_type: i64,
    /// Partner.
    #[serde(deserialize_with = "lenient_i64")]
    pub partner_id: i64,
    /// User.
    pub user_id: Option<String>,
    /// Expiry, Unix seconds.
    #[serde(deserialize_with = "lenient_i64")]
    pub expiry: i64,
    /// Privileges.
    pub privileges: Option<String>,
}
