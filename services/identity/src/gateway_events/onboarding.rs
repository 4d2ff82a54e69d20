//! The bot joining and leaving guilds: `GUILD_CREATE` records the guild (and posts the setup
//! guide once, to a guild that is new or back but never configured), `GUILD_DELETE` without
//! `unavailable` marks it inactive. Nothing is deleted on removal, so a guild that adds the bot
//! back resumes with its Kaltura partner, role mappings and notification channel.

use std::time::Duration;

use chrono::{DateTime, Utc};
use kalcord_discord::egress::{Egress, EgressError, Method};
use kalcord_discord::response::{Embed, MessageData};
use kalcord_store::audit::{self, NewAuditEntry};
use kalcord_store::repo::guilds::{self, JoinOutcome};
use sea_orm::TransactionTrait as _;
use serde::Deserialize;
use serde_json::json;

use super::{EventError, Id, SYSTEM_ACTOR, guild_key, parse};
use crate::app::App;

/// A join older than this when its `GUILD_CREATE` is handled gets no guide.
///
/// NOTE: `GUILD_CREATE` also arrives for every guild on each gateway connection. A guild the
/// bot was in long before kalcord kept track of joins (an upgrade, a restored database) is
/// unknown yet not new; its members should not get a welcome out of the blue.
const FRESH_JOIN: Duration = Duration::from_hours(24);

/// Colour of the guide's embed (Kaltura blue).
const GUIDE_COLOUR: u32 = 0x0000_66CC;

/// `GUILD_CREATE`: the fields identity reads (the rest of the guild object is ignored).
#[derive(Deserialize)]
struct GuildCreate {
    id: Id,
    #[serde(default)]
    name: String,
    owner_id: Option<Id>,
    system_channel_id: Option<Id>,
    unavailable: Option<bool>,
    joined_at: Option<String>,
}

/// `GUILD_DELETE`: `unavailable: true` is an outage, anything else a removal.
#[derive(Deserialize)]
struct GuildDelete {
    id: Id,
    unavailable: Option<bool>,
}

/// Where the guide went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Posted {
    SystemChannel,
    OwnerDm,
}

impl Posted {
    fn as_str(self) -> &'static str {
        match self {
            Self::SystemChannel => "system_channel",
            Self::OwnerDm => "owner_dm",
        }
    }
}

/// The guide could not be posted.
enum GuideError {
    /// Discord refused every place (no system channel or no access, DMs closed): given up.
    Undeliverable(String),
    /// Discord failed for now: retried.
    Transient(EgressError),
}

/// Discord refused the call for good (a 4xx other than 429): another place may work.
fn refused(err: &EgressError) -> bool {
    matches!(err, EgressError::Discord { status, .. } if (400..500).contains(status) && *status != 429)
}

/// Whether `joined_at` (RFC 3339) is recent enough to welcome the guild; absent counts as now.
fn fresh(joined_at: Option<&str>, now: DateTime<Utc>) -> bool {
    let Some(joined) = joined_at.and_then(|text| DateTime::parse_from_rfc3339(text).ok()) else { return true };
    now.signed_duration_since(joined).to_std().map_or(true, |age| age <= FRESH_JOIN)
}

/// The setup guide: what kalcord does and the three commands to start with.
fn guide(guild_name: &str, direct: bool) -> MessageData {
    let embed = Embed::titled("Thanks for adding kalcord!")
        .description(
            "kalcord runs Kaltura meetings, classes and webinars right from Discord: start one with a \
             command, and members join with one click, with the right role and no extra account.",
        )
        .field(
            "1. Connect Kaltura",
            "An admin (Manage Server) runs `/kaltura setup` to link this server to your Kaltura \
             partner. `/kaltura status` checks the connection.",
            false,
        )
        .field(
            "2. Choose who hosts",
            "`/kaltura roles map` gives a Discord role a meeting role (host, moderator or attendee). \
             The owner, admins and event managers always host.",
            false,
        )
        .field("3. Meet", "`/meeting start` opens a room at once; everyone joins from the post.", false)
        .footer("Questions? Run /kaltura status, or ask whoever runs kalcord for you.")
        .color(GUIDE_COLOUR);
    let mut message = MessageData::embed(embed);
    if direct {
        // NOTE: the name is the guild's own; no mention can fire (allowed_mentions is empty).
        let name = kalcord_discord::response::truncate(guild_name, 100);
        message.content = Some(format!(
            "Hi! kalcord was just added to **{name}**, but could not post in its system channel, so here is the setup guide."
        ));
    }
    message
}

impl App {
    /// `GUILD_CREATE`: record the bot's presence, refresh the caches, onboard if owed.
    pub(super) async fn guild_create(&self, sequence: i64, payload: &[u8]) -> Result<(), EventError> {
        let guild: GuildCreate = parse("GUILD_CREATE", payload)?;
        if guild.unavailable == Some(true) {
            // NOTE: a guild in an outage: nothing is known about it, and the bot is still in it.
            return Ok(());
        }
        let id = guild_key("GUILD_CREATE", guild.id)?;
        let Some(outcome) = self.record_join(id, sequence, &guild).await? else {
            tracing::info!(guild_id = guild.id.0, "an older GUILD_CREATE than one already applied; ignored");
            return Ok(());
        };
        self.onboard(id, &guild, outcome).await?;
        // NOTE: role changes made while the shard was disconnected arrive as nothing but this.
        // Last, so a cache outage delays no guide (a retry finds the guide claimed).
        self.guild_changed(guild.id.0).await
    }

    /// `GUILD_DELETE`: a removal turns the guild inactive (audited); an outage changes nothing.
    pub(super) async fn guild_delete(&self, sequence: i64, payload: &[u8]) -> Result<(), EventError> {
        let event: GuildDelete = parse("GUILD_DELETE", payload)?;
        if event.unavailable == Some(true) {
            return Ok(());
        }
        let id = guild_key("GUILD_DELETE", event.id)?;
        let txn = self.store.connection().begin().await?;
        if !guilds::order_presence_event(&txn, id, sequence).await? {
            tracing::info!(guild_id = event.id.0, "an older GUILD_DELETE than one already applied; ignored");
            return Ok(());
        }
        if guilds::bot_left(&txn, id).await? {
            let entry = NewAuditEntry::new(SYSTEM_ACTOR, "guild.left").guild(id).target(format!("guild:{id}"));
            audit::append(&txn, entry).await?;
            tracing::info!(guild_id = event.id.0, "bot removed from the guild; it is inactive now");
        }
        txn.commit().await?;
        self.guild_changed(event.id.0).await
    }

    /// Records the bot's presence; a new or returning guild is audited in the same transaction.
    /// `None` when a later join or removal of the guild was applied already.
    async fn record_join(
        &self,
        id: i64,
        sequence: i64,
        guild: &GuildCreate,
    ) -> Result<Option<JoinOutcome>, EventError> {
        let txn = self.store.connection().begin().await?;
        if !guilds::order_presence_event(&txn, id, sequence).await? {
            return Ok(None);
        }
        // NOTE: the ordering stored a new guild's row with this sequence already.
        let outcome = guilds::bot_joined(&txn, id, &guild.name).await?;
        if outcome != JoinOutcome::Known {
            let returned = outcome == JoinOutcome::Returned;
            let entry = NewAuditEntry::new(SYSTEM_ACTOR, "guild.joined")
                .guild(id)
                .target(format!("guild:{id}"))
                .details(json!({ "returned": returned }));
            audit::append(&txn, entry).await?;
            tracing::info!(guild_id = guild.id.0, returned, "bot added to a guild");
        }
        txn.commit().await?;
        Ok(Some(outcome))
    }

    /// Posts the setup guide when the guild is owed one: active, never configured, joined (as
    /// seen by kalcord) and not onboarded yet. One replica wins the claim; the others skip.
    async fn onboard(&self, id: i64, guild: &GuildCreate, outcome: JoinOutcome) -> Result<(), EventError> {
        let Some(egress) = &self.egress else { return Ok(()) };
        let db = self.store.connection();
        let Some(row) = guilds::get(db, id).await? else { return Ok(()) };
        // NOTE: `bot_joined_at` is set only by a join kalcord saw (New or Returned), so a guild
        // known from commands alone is never welcomed; a Known guild that still owes its guide
        // is one whose earlier attempt failed for now and gave its claim back.
        let owed = row.active && row.onboarded_at.is_none() && row.kaltura_partner_id.is_none();
        if !owed || row.bot_joined_at.is_none() {
            return Ok(());
        }
        if !fresh(guild.joined_at.as_deref(), Utc::now()) {
            guilds::claim_onboarding(db, id).await?;
            tracing::info!(guild_id = guild.id.0, "old membership seen for the first time; no setup guide");
            return Ok(());
        }
        if !guilds::claim_onboarding(db, id).await? {
            return Ok(());
        }
        tracing::debug!(guild_id = guild.id.0, ?outcome, "posting the setup guide");
        match self.post_guide(egress, guild).await {
            Ok(posted) => {
                let entry = NewAuditEntry::new(SYSTEM_ACTOR, "guild.onboarded")
                    .guild(id)
                    .target(format!("guild:{id}"))
                    .details(json!({ "posted_to": posted.as_str() }));
                self.audit(entry, guild.id.0).await;
                Ok(())
            }
            Err(GuideError::Undeliverable(reason)) => {
                tracing::warn!(guild_id = guild.id.0, %reason, "setup guide could not be delivered anywhere");
                let entry = NewAuditEntry::new(SYSTEM_ACTOR, "guild.onboarding_failed")
                    .guild(id)
                    .target(format!("guild:{id}"))
                    .details(json!({ "reason": reason }));
                self.audit(entry, guild.id.0).await;
                Ok(())
            }
            Err(GuideError::Transient(err)) => {
                // NOTE: give the claim back so the redelivery (on this replica or another) posts.
                if let Err(release) = guilds::release_onboarding(db, id).await {
                    tracing::error!(guild_id = guild.id.0, error = %kalcord_runtime::chain(&release), "setup guide claim not released; the guide will not be posted");
                }
                Err(EventError::Discord(err))
            }
        }
    }

    /// Posts the guide in the system channel, else in a DM to the owner.
    async fn post_guide(&self, egress: &Egress, guild: &GuildCreate) -> Result<Posted, GuideError> {
        let mut problems = Vec::new();
        if let Some(channel) = guild.system_channel_id {
            match egress.create_message(channel.0, &guide(&guild.name, false)).await {
                Ok(_) => return Ok(Posted::SystemChannel),
                Err(err) if refused(&err) => {
                    tracing::info!(guild_id = guild.id.0, error = %err, "system channel refused the setup guide; trying the owner");
                    problems.push(format!("system channel: {err}"));
                }
                Err(err) => return Err(GuideError::Transient(err)),
            }
        } else {
            problems.push("no system channel".to_owned());
        }
        let Some(owner) = guild.owner_id else {
            problems.push("no owner".to_owned());
            return Err(GuideError::Undeliverable(problems.join("; ")));
        };
        match self.direct_message(egress, owner.0, &guide(&guild.name, true)).await {
            Ok(()) => Ok(Posted::OwnerDm),
            Err(err) if refused(&err) => {
                problems.push(format!("owner DM: {err}"));
                Err(GuideError::Undeliverable(problems.join("; ")))
            }
            Err(err) => Err(GuideError::Transient(err)),
        }
    }

    /// Opens (or reuses) the DM channel with `user_id` and posts `message` there.
    async fn direct_message(&self, egress: &Egress, user_id: u64, message: &MessageData) -> Result<(), EgressError> {
        #[derive(Deserialize)]
        struct Channel {
            id: String,
        }
        let body = json!({ "recipient_id": user_id.to_string() });
        let channel: Channel = egress.request(Method::Post, "users/@me/channels", Some(&body)).await?;
        let channel_id =
            channel.id.parse().map_err(|_| EgressError::Decode("the DM channel id is not a snowflake".to_owned()))?;
        egress.create_message(channel_id, message).await.map(|_| ())
    }

    /// Appends an audit entry; a failure is logged loudly (what it records is done already).
    async fn audit(&self, entry: NewAuditEntry, guild_id: u64) {
        if let Err(err) = audit::append(self.store.connection(), entry).await {
            tracing::error!(error = %kalcord_runtime::chain(&err), guild_id, "onboarding not audited");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_older_than_a_day_are_not_welcomed() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z").unwrap().with_timezone(&Utc);
        assert!(fresh(None, now));
        assert!(fresh(Some("2026-11-22T11:59:00.123000+00:00"), now));
        assert!(fresh(Some("2026-11-22T12:00:05Z"), now), "a clock a little ahead");
        assert!(!fresh(Some("2026-11-20T12:00:00Z"), now));
        assert!(fresh(Some("not a date"), now));
    }

    #[test]
    fn only_lasting_refusals_move_on_to_the_owner() {
        let discord = |status| EgressError::Discord { status, code: 0, message: String::new() };
        assert!(refused(&discord(403)));
        assert!(refused(&discord(404)));
        assert!(!refused(&discord(429)));
        assert!(!refused(&discord(502)));
        assert!(!refused(&EgressError::GlobalBusy));
    }

    #[test]
    fn the_guide_names_the_first_commands() {
        let message = serde_json::to_value(guide("School", false)).unwrap();
        let text = message.to_string();
        for command in ["/kaltura setup", "/kaltura roles map", "/meeting start"] {
            assert!(text.contains(command), "{command}");
        }
        assert!(message.get("content").is_none());
        let direct = guide("School", true);
        assert!(direct.content.unwrap().contains("**School**"));
    }
}
