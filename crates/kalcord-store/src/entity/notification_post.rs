//! `notification_post`: a channel post of the notifications service, keyed by its idempotency
//! key so it is made once however often its event is delivered.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a post is: claimed, sent, or given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum PostState {
    /// Claimed before sending; the post may or may not have reached Discord.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Discord created the message.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// Discord refused it for good (channel gone, no permission); never retried.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// A post, claimed before it is sent.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "notification_post")]
pub struct Model {
    /// Idempotency key (for meeting events, the event id).
    #[sea_orm(primary_key, auto_increment = false)]
    pub idempotency_key: String,
    /// Guild posted in.
    pub guild_id: i64,
    /// Channel posted in, fixed when the post is claimed (retries go to the same channel).
    pub channel_id: i64,
    /// What the post announces (the event kind, e.g. `started`).
    pub kind: String,
    /// Claimed, sent or failed.
    pub state: PostState,
    /// Discord message id, once sent.
    pub message_id: Option<i64>,
    /// When the post was claimed.
    pub created_at: DateTimeUtc,
    /// When Discord confirmed it (or it was given up).
    pub sent_at: Option<DateTimeUtc>,
}

/// Relations of `notification_post`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The guild.
    #[sea_orm(
        belongs_to = "super::guild::Entity",
        from = "Column::GuildId",
        to = "super::guild::Column::Id",
        on_delete = "Cascade"
    )]
    Guild,
}

impl Related<super::guild::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Guild.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
