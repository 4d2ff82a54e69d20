//! Discord to Kaltura identity links.

use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, EntityTrait as _, NotSet, QueryFilter as _, Set,
};

use crate::{
    StoreError,
    entity::identity_link::{self, ActiveModel, Column, Model},
};

/// Links a Discord user to a Kaltura user.
///
/// [`StoreError::Conflict`] when the Discord user is linked already or the Kaltura user is
/// linked to someone else.
pub async fn link<C>(
    db: &C,
    discord_user_id: i64,
    kaltura_user_id: &str,
    linked_email: Option<&str>,
) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    if kaltura_user_id.is_empty() {
        return Err(StoreError::InvalidInput("kaltura user id must not be empty".to_owned()));
    }
    let row = ActiveModel {
        discord_user_id: Set(discord_user_id),
        kaltura_user_id: Set(kaltura_user_id.to_owned()),
        linked_email: Set(linked_email.map(str::to_owned)),
        created_at: NotSet,
        updated_at: NotSet,
    };
    Ok(row.insert(db).await?)
}

/// The link of a Discord user, if any.
pub async fn get<C>(db: &C, discord_user_id: i64) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(identity_link::Entity::find_by_id(discord_user_id).one(db).await?)
}

/// The link of a Kaltura user, if any.
pub async fn find_by_kaltura_user<C>(db: &C, kaltura_user_id: &str) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(identity_link::Entity::find().filter(Column::KalturaUserId.eq(kaltura_user_id)).one(db).await?)
}

/// Writes the changed columns of `changes` (`updated_at` is set automatically).
pub async fn update<C>(db: &C, changes: ActiveModel) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let id = super::key(&changes.discord_user_id);
    changes.update(db).await.map_err(super::update_err("identity_link", id))
}

/// Removes a Discord user's link; returns whether there was one.
pub async fn unlink<C>(db: &C, discord_user_id: i64) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    let result = identity_link::Entity::delete_by_id(discord_user_id).exec(db).await?;
    Ok(result.rows_affected > 0)
}
