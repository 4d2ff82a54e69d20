//! Meeting participants.

use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, EntityTrait as _, IntoActiveModel as _, NotSet,
    QueryFilter as _, QueryOrder as _, Set,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entity::{
        MeetingRole,
        participant::{self, ActiveModel, Column, Model},
    },
};

/// Records that a user joined; [`StoreError::Conflict`] when they are in the meeting already.
pub async fn add<C>(db: &C, meeting_id: Uuid, discord_user_id: i64, role: MeetingRole) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let row = ActiveModel {
        id: NotSet,
        meeting_id: Set(meeting_id),
        discord_user_id: Set(discord_user_id),
        role: Set(role),
        joined_at: Set(crate::now()),
        left_at: Set(None),
    };
    Ok(row.insert(db).await?)
}

/// The user's participation in the meeting, if any.
pub async fn get<C>(db: &C, meeting_id: Uuid, discord_user_id: i64) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(participant::Entity::find()
        .filter(Column::MeetingId.eq(meeting_id))
        .filter(Column::DiscordUserId.eq(discord_user_id))
        .one(db)
        .await?)
}

/// The meeting's participants, in joining order.
pub async fn list<C>(db: &C, meeting_id: Uuid) -> Result<Vec<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(participant::Entity::find()
        .filter(Column::MeetingId.eq(meeting_id))
        .order_by_asc(Column::JoinedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// Changes a participant's role.
pub async fn set_role<C>(db: &C, model: Model, role: MeetingRole) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let id = model.id.to_string();
    let mut changes = model.into_active_model();
    changes.role = Set(role);
    changes.update(db).await.map_err(super::update_err("participant", id))
}

/// Records that the user left; [`StoreError::NotFound`] when they never joined.
pub async fn mark_left<C>(db: &C, meeting_id: Uuid, discord_user_id: i64) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let not_found = || StoreError::NotFound { entity: "participant", id: format!("{meeting_id}/{discord_user_id}") };
    let model = get(db, meeting_id, discord_user_id).await?.ok_or_else(not_found)?;
    let mut changes = model.into_active_model();
    changes.left_at = Set(Some(crate::now()));
    changes.update(db).await.map_err(|err| match err {
        sea_orm::DbErr::RecordNotUpdated => not_found(),
        other => other.into(),
    })
}
