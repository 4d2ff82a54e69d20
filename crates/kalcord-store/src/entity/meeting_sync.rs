//! `meeting_sync`: how far the notifications service brought a meeting's Discord objects (its
//! announcement message, the scheduled event mirroring it), and who is doing it now.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where the Discord scheduled event of a meeting is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    /// No event (not asked for yet, or not wanted).
    #[sea_orm(string_value = "none")]
    None,
    /// A create was sent and its answer not recorded: the event may exist in Discord.
    #[sea_orm(string_value = "creating")]
    Creating,
    /// The event exists; `event_id` names it.
    #[sea_orm(string_value = "linked")]
    Linked,
    /// The event was deleted in Discord, or Discord refused it for good: left alone.
    #[sea_orm(string_value = "gone")]
    Gone,
}

/// A meeting's Discord objects as last brought up to date.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "meeting_sync")]
pub struct Model {
    /// The meeting.
    #[sea_orm(primary_key, auto_increment = false)]
    pub meeting_id: Uuid,
    /// Its guild.
    pub guild_id: i64,
    /// Meeting version the announcement message shows (0: never edited).
    pub announcement_version: i32,
    /// Discord scheduled event id, once created.
    pub event_id: Option<i64>,
    /// Discord status of the event as last set (1 scheduled, 2 active, 3 completed, 4 canceled).
    pub event_status: Option<i16>,
    /// Where the event is.
    pub event_state: EventState,
    /// Meeting version the event shows (0: never synced).
    pub event_version: i32,
    /// Replica holding the lease.
    pub lease_owner: Option<String>,
    /// Until when the lease holds.
    pub lease_until: Option<DateTimeUtc>,
    /// When the row was last written.
    pub updated_at: DateTimeUtc,
}

/// Relations of `meeting_sync`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The meeting.
    #[sea_orm(
        belongs_to = "super::meeting::Entity",
        from = "Column::MeetingId",
        to = "super::meeting::Column::Id",
        on_delete = "Cascade"
    )]
    Meeting,
}

impl Related<super::meeting::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Meeting.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
