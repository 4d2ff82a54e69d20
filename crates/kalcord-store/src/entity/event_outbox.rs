//! `event_outbox`: an event waiting to be (or already) published on the bus.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An outbox row, written in the transaction of the change it describes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "event_outbox")]
pub struct Model {
    /// Event id; also the bus dedup id, so publishing a row twice stores it once.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Bus subject, without the bus prefix (e.g. `meetings.events.started`).
    pub subject: String,
    /// Encoded event (protobuf).
    pub payload: Vec<u8>,
    /// When the row was written (the order events are published in).
    pub created_at: DateTimeUtc,
    /// When the bus acknowledged it; `None` while it waits.
    pub published_at: Option<DateTimeUtc>,
}

/// `event_outbox` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
