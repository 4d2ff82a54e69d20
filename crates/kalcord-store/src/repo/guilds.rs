//! Guilds (tenants).

use sea_orm::{ActiveModelTrait as _, ConnectionTrait, EntityTrait as _, QueryOrder as _, Set, sea_query::OnConflict};
use serde_json::{Map, Value};

use crate::{
    StoreError,
    entity::guild::{self, ActiveModel, Column, Model},
};

/// Locale of a new guild.
pub const DEFAULT_LOCALE: &str = "en-US";

/// Inserts a guild with default settings (locale `en-US`, no flags, no custom fields).
///
/// Fails with [`StoreError::Conflict`] when the guild exists; see [`ensure`] for the
/// join-time upsert.
pub async fn create<C>(db: &C, id: i64, name: &str) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    Ok(new_guild(id, name).insert(db).await?)
}

/// Inserts the guild, or refreshes its name when it exists (Discord `GUILD_CREATE`).
pub async fn ensure<C>(db: &C, id: i64, name: &str) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let mut row = new_guild(id, name);
    let now = crate::now();
    row.created_at = Set(now);
    row.updated_at = Set(now);
    guild::Entity::insert(row)
        .on_conflict(OnConflict::column(Column::Id).update_columns([Column::Name, Column::UpdatedAt]).to_owned())
        .exec_without_returning(db)
        .await?;
    get(db, id).await?.ok_or_else(|| StoreError::NotFound { entity: "guild", id: id.to_string() })
}

/// The guild, if it exists.
pub async fn get<C>(db: &C, id: i64) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(guild::Entity::find_by_id(id).one(db).await?)
}

/// All guilds, by id.
pub async fn list<C>(db: &C) -> Result<Vec<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(guild::Entity::find().order_by_asc(Column::Id).all(db).await?)
}

/// Writes the changed columns of `changes` (`updated_at` is set automatically).
///
/// Typical use: `let mut g = get(..).into_active_model(); g.locale = Set(..); update(db, g)`.
pub async fn update<C>(db: &C, changes: ActiveModel) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let id = super::key(&changes.id);
    changes.update(db).await.map_err(super::update_err("guild", id))
}

/// Deletes the guild and, by cascade, its role mappings, meetings, participants and
/// recordings. Returns whether it existed.
pub async fn delete<C>(db: &C, id: i64) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    let result = guild::Entity::delete_by_id(id).exec(db).await?;
    Ok(result.rows_affected > 0)
}

fn new_guild(id: i64, name: &str) -> ActiveModel {
    ActiveModel {
        id: Set(id),
        name: Set(name.to_owned()),
        kaltura_partner_id: Set(None),
        kaltura_service_url: Set(None),
        kaltura_kaf_host: Set(None),
        notification_channel_id: Set(None),
        locale: Set(DEFAULT_LOCALE.to_owned()),
        time_zone: Set(None),
        feature_flags: Set(Value::Object(Map::new())),
        custom_field_definitions: Set(Value::Array(Vec::new())),
        ..Default::default()
    }
}
