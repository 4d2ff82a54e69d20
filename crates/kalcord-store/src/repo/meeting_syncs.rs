//! Per-meeting progress of the notifications service in Discord, under a short lease: one
//! replica at a time edits a meeting's announcement and scheduled event, and records how far it
//! got, so an older meeting version never overwrites a newer one and a crash mid-way is resumed.

use std::time::Duration;

use chrono::TimeDelta;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, Set};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::meeting_sync::{self, ActiveModel, Column, EventState, Model};

/// What a lease holder learnt; `None` fields are left as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Meeting version the announcement now shows.
    pub announcement_version: Option<i32>,
    /// Scheduled event id (`Some(None)` forgets it).
    pub event_id: Option<Option<i64>>,
    /// Discord status of the event.
    pub event_status: Option<Option<i16>>,
    /// Where the event is.
    pub event_state: Option<EventState>,
    /// Meeting version the event now shows.
    pub event_version: Option<i32>,
}

/// Takes the lease of `meeting` for `owner` (creating its row), `None` while another owner
/// holds an unexpired lease. Taking it again as the same owner renews it.
///
/// # Errors
///
/// When the store fails.
pub async fn acquire<C>(
    db: &C,
    meeting: Uuid,
    guild: i64,
    owner: &str,
    ttl: Duration,
) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    let now = crate::now();
    let row = ActiveModel {
        meeting_id: Set(meeting),
        guild_id: Set(guild),
        announcement_version: Set(0),
        event_id: Set(None),
        event_status: Set(None),
        event_state: Set(EventState::None),
        event_version: Set(0),
        lease_owner: Set(None),
        lease_until: Set(None),
        updated_at: Set(now),
    };
    meeting_sync::Entity::insert(row)
        .on_conflict(OnConflict::column(Column::MeetingId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let until = now + TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX);
    let taken = meeting_sync::Entity::update_many()
        .col_expr(Column::LeaseOwner, Expr::value(Some(owner.to_owned())))
        .col_expr(Column::LeaseUntil, Expr::value(Some(until)))
        .filter(Column::MeetingId.eq(meeting))
        .filter(Column::LeaseUntil.is_null().or(Column::LeaseUntil.lt(now)).or(Column::LeaseOwner.eq(owner.to_owned())))
        .exec(db)
        .await?;
    if taken.rows_affected == 0 {
        return Ok(None);
    }
    Ok(meeting_sync::Entity::find_by_id(meeting).one(db).await?)
}

/// Records `progress` while `owner` holds the lease; false when the lease was lost (another
/// replica took it after it expired: this one must stop).
///
/// # Errors
///
/// When the store fails.
pub async fn record<C>(db: &C, meeting: Uuid, owner: &str, progress: Progress) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    let mut update = meeting_sync::Entity::update_many().col_expr(Column::UpdatedAt, Expr::value(crate::now()));
    if let Some(version) = progress.announcement_version {
        update = update.col_expr(Column::AnnouncementVersion, Expr::value(version));
    }
    if let Some(id) = progress.event_id {
        update = update.col_expr(Column::EventId, Expr::value(id));
    }
    if let Some(status) = progress.event_status {
        update = update.col_expr(Column::EventStatus, Expr::value(status));
    }
    if let Some(state) = progress.event_state {
        update = update.col_expr(Column::EventState, Expr::value(state));
    }
    if let Some(version) = progress.event_version {
        update = update.col_expr(Column::EventVersion, Expr::value(version));
    }
    let result =
        update.filter(Column::MeetingId.eq(meeting)).filter(Column::LeaseOwner.eq(owner.to_owned())).exec(db).await?;
    Ok(result.rows_affected > 0)
}

/// Gives the lease of `meeting` back (when `owner` still holds it).
///
/// # Errors
///
/// When the store fails.
pub async fn release<C>(db: &C, meeting: Uuid, owner: &str) -> Result<(), StoreError>
where
    C: ConnectionTrait,
{
    meeting_sync::Entity::update_many()
        .col_expr(Column::LeaseOwner, Expr::value(None::<String>))
        .col_expr(Column::LeaseUntil, Expr::value(None::<chrono::DateTime<chrono::Utc>>))
        .filter(Column::MeetingId.eq(meeting))
        .filter(Column::LeaseOwner.eq(owner.to_owned()))
        .exec(db)
        .await?;
    Ok(())
}

/// The meeting's progress, if any was recorded.
///
/// # Errors
///
/// When the store fails.
pub async fn get<C>(db: &C, meeting: Uuid) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(meeting_sync::Entity::find_by_id(meeting).one(db).await?)
}
