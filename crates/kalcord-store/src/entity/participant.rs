//! `participant`: a Discord user in a meeting.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use super::MeetingRole;

/// One user's attendance; unique per `(meeting_id, discord_user_id)`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "participant")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The meeting.
    pub meeting_id: Uuid,
    /// The Discord user id (snowflake).
    pub discord_user_id: i64,
    /// Role in the meeting.
    pub role: MeetingRole,
    /// When the user joined.
    pub joined_at: DateTimeUtc,
    /// When the user left, if they have.
    pub left_at: Option<DateTimeUtc>,
}

/// Relations of `participant`.
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
