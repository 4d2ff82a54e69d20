//! Discord role to meeting role mappings.

use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, EntityTrait as _, NotSet, QueryFilter as _,
    QueryOrder as _, Set,
};

use crate::{
    StoreError,
    entity::{
        MeetingRole,
        role_mapping::{self, ActiveModel, Column, Model},
    },
};

/// A mapping to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewRoleMapping {
    /// Owning guild.
    pub guild_id: i64,
    /// The Discord role.
    pub discord_role_id: i64,
    /// The meeting role it grants.
    pub meeting_role: MeetingRole,
    /// Higher wins when a member has several mapped roles.
    pub priority: i32,
}

/// Inserts a mapping; [`StoreError::Conflict`] when the Discord role is mapped already.
pub async fn create<C>(db: &C, new: NewRoleMapping) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let row = ActiveModel {
        id: NotSet,
        guild_id: Set(new.guild_id),
        discord_role_id: Set(new.discord_role_id),
        meeting_role: Set(new.meeting_role),
        priority: Set(new.priority),
        created_at: NotSet,
    };
    Ok(row.insert(db).await?)
}

/// The guild's mappings, highest priority first.
pub async fn list_for_guild<C>(db: &C, guild_id: i64) -> Result<Vec<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(role_mapping::Entity::find()
        .filter(Column::GuildId.eq(guild_id))
        .order_by_desc(Column::Priority)
        .order_by_asc(Column::DiscordRoleId)
        .all(db)
        .await?)
}

/// The meeting role a member with `discord_role_ids` gets: the mapping with the highest
/// priority among their roles, if any is mapped.
pub async fn resolve<C>(db: &C, guild_id: i64, discord_role_ids: &[i64]) -> Result<Option<MeetingRole>, StoreError>
where
    C: ConnectionTrait,
{
    if discord_role_ids.is_empty() {
        return Ok(None);
    }
    let best = role_mapping::Entity::find()
        .filter(Column::GuildId.eq(guild_id))
        .filter(Column::DiscordRoleId.is_in(discord_role_ids.iter().copied()))
        .order_by_desc(Column::Priority)
        .order_by_asc(Column::DiscordRoleId)
        .one(db)
        .await?;
    Ok(best.map(|m| m.meeting_role))
}

/// Writes the changed columns of `changes`.
pub async fn update<C>(db: &C, changes: ActiveModel) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let id = super::key(&changes.id);
    changes.update(db).await.map_err(super::update_err("role_mapping", id))
}

/// Removes the mapping of a Discord role; returns whether there was one.
pub async fn delete<C>(db: &C, guild_id: i64, discord_role_id: i64) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    let result = role_mapping::Entity::delete_many()
        .filter(Column::GuildId.eq(guild_id))
        .filter(Column::DiscordRoleId.eq(discord_role_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}
