//! Meeting recordings.

use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, EntityTrait as _, IntoActiveModel as _, NotSet,
    QueryFilter as _, QueryOrder as _, Set,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entity::{
        RecordingStatus,
        recording::{self, ActiveModel, Column, Model},
    },
};

/// Registers a recording (status `pending`); [`StoreError::Conflict`] when the Kaltura
/// entry is registered already.
pub async fn create<C>(db: &C, meeting_id: Uuid, kaltura_entry_id: &str) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    if kaltura_entry_id.is_empty() {
        return Err(StoreError::InvalidInput("kaltura entry id must not be empty".to_owned()));
    }
    let row = ActiveModel {
        id: Set(Uuid::now_v7()),
        meeting_id: Set(meeting_id),
        kaltura_entry_id: Set(kaltura_entry_id.to_owned()),
        status: Set(RecordingStatus::Pending),
        play_url: Set(None),
        download_url: Set(None),
        thumbnail_url: Set(None),
        duration_seconds: Set(None),
        posted_at: Set(None),
        created_at: NotSet,
        updated_at: NotSet,
    };
    Ok(row.insert(db).await?)
}

/// The recording, if it exists.
pub async fn get<C>(db: &C, id: Uuid) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(recording::Entity::find_by_id(id).one(db).await?)
}

/// The recording of a Kaltura entry, if registered.
pub async fn find_by_entry_id<C>(db: &C, kaltura_entry_id: &str) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(recording::Entity::find().filter(Column::KalturaEntryId.eq(kaltura_entry_id)).one(db).await?)
}

/// The meeting's recordings, oldest first.
pub async fn list_for_meeting<C>(db: &C, meeting_id: Uuid) -> Result<Vec<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(recording::Entity::find()
        .filter(Column::MeetingId.eq(meeting_id))
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?)
}

/// Ready recordings whose Discord post has not gone out yet, oldest first.
pub async fn list_unposted_ready<C>(db: &C) -> Result<Vec<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(recording::Entity::find()
        .filter(Column::Status.eq(RecordingStatus::Ready))
        .filter(Column::PostedAt.is_null())
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?)
}

/// Writes the changed columns of `changes` (`updated_at` is set automatically).
pub async fn update<C>(db: &C, changes: ActiveModel) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let id = super::key(&changes.id);
    changes.update(db).await.map_err(super::update_err("recording", id))
}

/// Stamps `posted_at` once the Discord post went out.
pub async fn mark_posted<C>(db: &C, model: Model) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let mut changes = model.into_active_model();
    changes.posted_at = Set(Some(crate::now()));
    update(db, changes).await
}
