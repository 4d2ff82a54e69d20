//! `recording`: a Kaltura recording of a meeting.

use sea_orm::{Set, entity::prelude::*};
use serde::{Deserialize, Serialize};

use super::RecordingStatus;

/// A recording; `kaltura_entry_id` is unique.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "recording")]
pub struct Model {
    /// Recording id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The meeting recorded.
    pub meeting_id: Uuid,
    /// The Kaltura entry holding the recording.
    #[sea_orm(unique)]
    pub kaltura_entry_id: String,
    /// Processing state.
    pub status: RecordingStatus,
    /// Player URL.
    pub play_url: Option<String>,
    /// Download URL.
    pub download_url: Option<String>,
    /// Thumbnail URL.
    pub thumbnail_url: Option<String>,
    /// Length in seconds, once known.
    pub duration_seconds: Option<i32>,
    /// When the Discord post announcing it went out.
    pub posted_at: Option<DateTimeUtc>,
    /// When the row was created.
    pub created_at: DateTimeUtc,
    /// When the row was last written.
    pub updated_at: DateTimeUtc,
}

/// Relations of `recording`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The meeting.
    #[sea_orm(
        belongs_to = "super::meeting::Entity",
        from = "Column::MeetingId",
        to = "super::meeting::Column::Id",
        on_delete = "Cascade"
    )]
    Meeting,
}

impl Related<super::meeting::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Meeting.def()
    }
}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        let now = crate::now();
        if insert && self.created_at.is_not_set() {
            self.created_at = Set(now);
        }
        self.updated_at = Set(now);
        Ok(self)
    }
}
