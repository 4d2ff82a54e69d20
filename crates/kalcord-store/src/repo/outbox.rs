//! The transactional outbox: events inserted with the change they describe, then published by
//! a relay and marked.

use chrono::TimeDelta;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, Set,
};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::event_outbox::{self, ActiveModel, Column, Model};

/// An event to write to the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// Event id, also the bus dedup id.
    pub id: Uuid,
    /// Bus subject, without the bus prefix.
    pub subject: String,
    /// Encoded event.
    pub payload: Vec<u8>,
}

/// Writes an unpublished event; call it inside the transaction of the change it describes.
/// [`StoreError::Conflict`] when the id exists already.
pub async fn insert<C>(db: &C, event: NewEvent) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    if event.subject.is_empty() {
        return Err(StoreError::InvalidInput("outbox subject must not be empty".to_owned()));
    }
    let row = ActiveModel {
        id: Set(event.id),
        subject: Set(event.subject),
        payload: Set(event.payload),
        created_at: Set(crate::now()),
        published_at: Set(None),
    };
    Ok(row.insert(db).await?)
}

/// Up to `limit` unpublished events, oldest first (ties broken by id, time-ordered for v7 ids).
pub async fn unpublished<C>(db: &C, limit: u64) -> Result<Vec<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(event_outbox::Entity::find()
        .filter(Column::PublishedAt.is_null())
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Stamps `published_at` on the events among `ids` not marked yet; returns how many it marked.
/// Idempotent: marking again (another relay did it first) changes nothing.
pub async fn mark_published<C>(db: &C, ids: &[Uuid]) -> Result<u64, StoreError>
where
    C: ConnectionTrait,
{
    if ids.is_empty() {
        return Ok(0);
    }
    let result = event_outbox::Entity::update_many()
        .col_expr(Column::PublishedAt, Expr::value(crate::now()))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .filter(Column::PublishedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Deletes the events published more than `age` ago; returns how many. Unpublished events are
/// never pruned.
pub async fn prune_published<C>(db: &C, age: TimeDelta) -> Result<u64, StoreError>
where
    C: ConnectionTrait,
{
    let before = crate::now() - age;
    let result = event_outbox::Entity::delete_many()
        .filter(Column::PublishedAt.is_not_null())
        .filter(Column::PublishedAt.lt(before))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The event, if it exists.
pub async fn get<C>(db: &C, id: Uuid) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(event_outbox::Entity::find_by_id(id).one(db).await?)
}
