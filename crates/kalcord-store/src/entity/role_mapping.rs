//! `role_mapping`: which meeting role a Discord role grants in a guild.

use sea_orm::{Set, entity::prelude::*};
use serde::{Deserialize, Serialize};

use super::MeetingRole;

/// Maps one Discord role to a meeting role; unique per `(guild_id, discord_role_id)`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "role_mapping")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning guild.
    pub guild_id: i64,
    /// The Discord role id (snowflake).
    pub discord_role_id: i64,
    /// The meeting role members of that Discord role get.
    pub meeting_role: MeetingRole,
    /// When a member has several mapped roles, the highest priority wins.
    pub priority: i32,
    /// When the row was created.
    pub created_at: DateTimeUtc,
}

/// Relations of `role_mapping`.
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
}

impl Related<super::guild::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Guild.def()
    }
}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        if insert && self.created_at.is_not_set() {
            self.created_at = Set(crate::now());
        }
        Ok(self)
    }
}
