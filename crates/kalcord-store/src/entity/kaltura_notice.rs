//! `kaltura_notice`: when a Kaltura partner last sent a signed notification.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// The last notification of one partner.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "kaltura_notice")]
pub struct Model {
    /// Kaltura partner id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub partner_id: i64,
    /// When its last signed notification was applied.
    pub last_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
