//! `identity_link`: a Discord user linked to a Kaltura user.

use sea_orm::{Set, entity::prelude::*};
use serde::{Deserialize, Serialize};

/// One Discord user's Kaltura identity; `kaltura_user_id` is unique too.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "identity_link")]
pub struct Model {
    /// The Discord user id (snowflake).
    #[sea_orm(primary_key, auto_increment = false)]
    pub discord_user_id: i64,
    /// The Kaltura user id.
    #[sea_orm(unique)]
    pub kaltura_user_id: String,
    /// The e-mail address the link was verified with, if any.
    pub linked_email: Option<String>,
    /// When the row was created.
    pub created_at: DateTimeUtc,
    /// When the row was last written.
    pub updated_at: DateTimeUtc,
}

/// `identity_link` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

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
