//! When each Kaltura partner last sent a signed notification.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait as _, Set};

use crate::StoreError;
use crate::entity::kaltura_notice::{self, ActiveModel, Column};

/// Records a notification of `partner` at `at`.
///
/// # Errors
///
/// When the store fails.
pub async fn touch<C>(db: &C, partner: i64, at: DateTime<Utc>) -> Result<(), StoreError>
where
    C: ConnectionTrait,
{
    let row = ActiveModel { partner_id: Set(partner), last_at: Set(at) };
    kaltura_notice::Entity::insert(row)
        .on_conflict(OnConflict::column(Column::PartnerId).update_column(Column::LastAt).to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// When `partner` last sent a notification, if ever.
///
/// # Errors
///
/// When the store fails.
pub async fn last<C>(db: &C, partner: i64) -> Result<Option<DateTime<Utc>>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(kaltura_notice::Entity::find_by_id(partner).one(db).await?.map(|row| row.last_at))
}
