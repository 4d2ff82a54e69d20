//! `meeting`: a Kaltura meeting scheduled or run from Discord.

use sea_orm::{ActiveValue, Set, entity::prelude::*};
use serde::{Deserialize, Serialize};

use super::{MeetingKind, MeetingStatus};

/// A meeting. `version` implements optimistic concurrency (see
/// [`crate::repo::meetings::update`]); `(guild_id, idempotency_key)` is unique.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "meeting")]
pub struct Model {
    /// Meeting id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owning guild.
    pub guild_id: i64,
    /// Kind of Kaltura room.
    pub kind: MeetingKind,
    /// Title shown on Discord and Kaltura.
    pub title: String,
    /// Longer description.
    pub description: Option<String>,
    /// Planned start.
    pub scheduled_start: Option<DateTimeUtc>,
    /// Planned end.
    pub scheduled_end: Option<DateTimeUtc>,
    /// When it actually went live.
    pub actual_start: Option<DateTimeUtc>,
    /// When it actually ended.
    pub actual_end: Option<DateTimeUtc>,
    /// Life-cycle state.
    pub status: MeetingStatus,
    /// The Discord user hosting it.
    pub host_discord_user_id: i64,
    /// Kaltura resource (room) id.
    pub kaltura_resource_id: Option<String>,
    /// Kaltura schedule event id.
    pub kaltura_event_id: Option<String>,
    /// Kaltura entry id.
    pub kaltura_entry_id: Option<String>,
    /// Discord channel the meeting is announced in.
    pub discord_channel_id: Option<i64>,
    /// The announcement message.
    pub discord_message_id: Option<i64>,
    /// The Discord scheduled event mirroring the meeting.
    pub discord_scheduled_event_id: Option<i64>,
    /// Values of the guild's custom fields (a JSON object).
    #[sea_orm(column_type = "JsonBinary")]
    pub custom_fields: Json,
    /// Client-chosen key making creation idempotent within the guild.
    pub idempotency_key: Option<String>,
    /// When the reminder went to the event outbox; `None` until then (and again after the start
    /// time moves).
    pub reminder_sent_at: Option<DateTimeUtc>,
    /// Row version, 1 on insert, +1 on every update.
    pub version: i32,
    /// When the row was created.
    pub created_at: DateTimeUtc,
    /// When the row was last written.
    pub updated_at: DateTimeUtc,
}

/// Relations of `meeting`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owning guild.
    #[sea_orm(
        belongs_to = "super::guild::Entity",
        from = "Column::GuildId",
        to = "super::guild::Column::Id",
        on_delete = "Cascade"
    )]
    Guild,
    /// People in the meeting.
    #[sea_orm(has_many = "super::participant::Entity")]
    Participant,
    /// Recordings of the meeting.
    #[sea_orm(has_many = "super::recording::Entity")]
    Recording,
}

impl Related<super::guild::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Guild.def()
    }
}

impl Related<super::participant::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Participant.def()
    }
}

impl Related<super::recording::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Recording.def()
    }
}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        let now = crate::now();
        if insert {
            if self.created_at.is_not_set() {
                self.created_at = Set(now);
            }
            if self.version.is_not_set() {
                self.version = Set(1);
            }
        } else if let ActiveValue::Unchanged(version) = self.version {
            // NOTE: plain `update()` does not check the version (use repo::meetings::update
            // for that) but must still advance it, so concurrent checked updates notice.
            self.version = Set(version + 1);
        }
        self.updated_at = Set(now);
        Ok(self)
    }
}
