//! Channel posts made exactly once: claimed (`pending`) before sending, marked `sent` with the
//! Discord message id after, or `failed` when Discord refused them for good.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, Set};

use crate::StoreError;
use crate::entity::notification_post::{self, ActiveModel, Column, Model, PostState};

/// A post to claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPost {
    /// Idempotency key (≤ 128 characters).
    pub idempotency_key: String,
    /// Guild posted in.
    pub guild_id: i64,
    /// Channel posted in.
    pub channel_id: i64,
    /// What the post announces.
    pub kind: String,
}

/// Inserts the post as `pending`, or returns the row stored under its key (whatever its state:
/// a redelivery sees `sent` and posts nothing). Safe to race: one insert wins, everyone reads
/// the same row.
pub async fn claim<C>(db: &C, post: NewPost) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    if post.idempotency_key.is_empty() || post.idempotency_key.len() > 128 {
        return Err(StoreError::InvalidInput("a post's idempotency key must be 1 to 128 bytes".to_owned()));
    }
    let key = post.idempotency_key.clone();
    let row = ActiveModel {
        idempotency_key: Set(post.idempotency_key),
        guild_id: Set(post.guild_id),
        channel_id: Set(post.channel_id),
        kind: Set(post.kind),
        state: Set(PostState::Pending),
        message_id: Set(None),
        created_at: Set(crate::now()),
        sent_at: Set(None),
    };
    notification_post::Entity::insert(row)
        .on_conflict(OnConflict::column(Column::IdempotencyKey).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    get(db, &key).await?.ok_or(StoreError::NotFound { entity: "notification_post", id: key })
}

/// The post, if it was claimed.
pub async fn get<C>(db: &C, key: &str) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(notification_post::Entity::find_by_id(key.to_owned()).one(db).await?)
}

/// Marks a pending post `sent` with its message id; returns whether it was pending (marking
/// again changes nothing).
pub async fn mark_sent<C>(db: &C, key: &str, message_id: i64) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    settle(db, key, PostState::Sent, Some(message_id)).await
}

/// Marks a pending post `failed` (Discord refused it for good); returns whether it was pending.
pub async fn mark_failed<C>(db: &C, key: &str) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    settle(db, key, PostState::Failed, None).await
}

async fn settle<C>(db: &C, key: &str, state: PostState, message_id: Option<i64>) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    let result = notification_post::Entity::update_many()
        .col_expr(Column::State, Expr::value(state))
        .col_expr(Column::MessageId, Expr::value(message_id))
        .col_expr(Column::SentAt, Expr::value(Some(crate::now())))
        .filter(Column::IdempotencyKey.eq(key))
        .filter(Column::State.eq(PostState::Pending))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}
