//! `guild`: a Discord guild, the tenant everything else belongs to.

use sea_orm::{Set, entity::prelude::*};
use serde::{Deserialize, Serialize};

/// Kinds of meeting posts a guild can turn off, in the order members meet them.
pub const POST_KINDS: [&str; 7] =
    ["scheduled", "updated", "reminder", "started", "ended", "cancelled", "recording_ready"];

/// Post kinds that mention the guild's mention role: the ones calling members to a meeting.
pub const MENTIONING_POSTS: [&str; 3] = ["scheduled", "reminder", "started"];

/// A guild (tenant) and its Kaltura settings.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "guild")]
pub struct Model {
    /// The Discord guild id (snowflake).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    /// Guild name, as last seen on Discord.
    pub name: String,
    /// Kaltura partner id, once configured.
    pub kaltura_partner_id: Option<i32>,
    /// Kaltura API base URL, when not the default.
    pub kaltura_service_url: Option<String>,
    /// KAF host name, when the guild uses KAF.
    pub kaltura_kaf_host: Option<String>,
    /// Channel for meeting and recording notifications.
    pub notification_channel_id: Option<i64>,
    /// BCP 47 locale for messages, `en-US` by default.
    pub locale: String,
    /// IANA time zone (e.g. `Europe/Paris`) times without an offset are read in; `None`: UTC.
    pub time_zone: Option<String>,
    /// Feature switches (a JSON object).
    #[sea_orm(column_type = "JsonBinary")]
    pub feature_flags: Json,
    /// Definitions of guild-specific meeting fields (a JSON array).
    #[sea_orm(column_type = "JsonBinary")]
    pub custom_field_definitions: Json,
    /// Whether the bot is in the guild (`false` once it was removed; nothing is posted there then).
    pub active: bool,
    /// When the bot last joined the guild, as kalcord saw it (`None` for guilds known from before).
    pub bot_joined_at: Option<DateTimeUtc>,
    /// When the bot was last removed from the guild.
    pub bot_left_at: Option<DateTimeUtc>,
    /// When onboarding was done: the setup guide posted (or skipped for an old membership).
    pub onboarded_at: Option<DateTimeUtc>,
    /// Bus sequence of the last join or removal event applied (later ones only are applied).
    pub presence_seq: Option<i64>,
    /// Minutes before a scheduled meeting's start its reminder goes out; `None`: the service default.
    pub reminder_minutes: Option<i32>,
    /// Role mentioned in posts that call members to a meeting (scheduled, reminder, started).
    pub mention_role_id: Option<i64>,
    /// Whether scheduled meetings are mirrored as Discord scheduled events.
    pub scheduled_events: bool,
    /// Post kinds not posted, comma-separated (see [`POST_KINDS`]); empty: every kind is posted.
    pub muted_posts: String,
    /// When the row was created.
    pub created_at: DateTimeUtc,
    /// When the row was last written.
    pub updated_at: DateTimeUtc,
}

impl Model {
    /// Whether posts of `kind` are turned off in this guild.
    #[must_use]
    pub fn mutes(&self, kind: &str) -> bool {
        self.muted_posts.split(',').any(|muted| muted.trim() == kind)
    }
}

/// `muted_posts` for `muted` kinds: known kinds only, in [`POST_KINDS`] order, comma-separated.
#[must_use]
pub fn muted_posts<'a>(muted: impl IntoIterator<Item = &'a str>) -> String {
    let muted: Vec<&str> = muted.into_iter().collect();
    POST_KINDS.iter().filter(|kind| muted.contains(kind)).copied().collect::<Vec<_>>().join(",")
}

/// Relations of `guild`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Discord role to meeting role mappings.
    #[sea_orm(has_many = "super::role_mapping::Entity")]
    RoleMapping,
    /// Meetings of the guild.
    #[sea_orm(has_many = "super::meeting::Entity")]
    Meeting,
}

impl Related<super::role_mapping::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RoleMapping.def()
    }
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
