//! `identity.sync` (`/kaltura sync`): every member of a guild read from Discord and counted by
//! the meeting role each would get now; mappings of deleted Discord roles removed.
//!
//! NOTE: members are read in pages (`GET guilds/{id}/members?limit=1000&after=<last id>`) and only
//! counted, never kept, so memory stays flat whatever the guild's size. The egress waits out
//! Discord's rate limits (route buckets, the bot's global limit shared by every replica, 429s).
//! One sync per guild runs at a time across replicas, behind a cache lock whose TTL is renewed
//! after every page, so a replica that dies mid-sync blocks the next one for [`LOCK_TTL`] at most.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kalcord_discord::egress::{Egress, EgressError, Method};
use kalcord_discord::permission::{Permissions, guild_permissions, while_timed_out};
use kalcord_proto::Message as _;
use kalcord_proto::v1::{Actor, Error, MeetingRole, RoleMapping, SyncReply, SyncReport, SyncRequest, sync_reply};
use kalcord_store::audit::{self, NewAuditEntry};
use kalcord_store::repo::role_mappings;
use serde::Deserialize;
use serde_json::json;

use crate::app::{App, audit_actor, can_manage, db_id};
use crate::reply;
use crate::roles::mappings_key;

/// Members per page, Discord's maximum.
const PAGE: usize = 1000;
/// Lifetime of a guild's sync lock, renewed after every page.
const LOCK_TTL: Duration = Duration::from_mins(3);

/// What the sync needs of the guild: its owner and every role's permissions.
#[derive(Deserialize)]
struct GuildJson {
    owner_id: String,
    roles: Vec<RoleJson>,
}

#[derive(Deserialize)]
struct RoleJson {
    id: String,
    #[serde(default)]
    permissions: String,
}

/// What the sync reads of a member.
#[derive(Deserialize)]
struct MemberJson {
    user: Option<UserJson>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    communication_disabled_until: Option<String>,
}

#[derive(Deserialize)]
struct UserJson {
    id: String,
    #[serde(default)]
    bot: bool,
}

/// The guild as a member's meeting role depends on it.
struct Guild {
    id: u64,
    owner_id: u64,
    /// `(role id, permission bits)` of every role, `@everyone` included.
    roles: Vec<(u64, u64)>,
    /// Mappings of roles that exist.
    mappings: Vec<RoleMapping>,
}

/// Running counts of a sync.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    attendees: u64,
    bots: u64,
    hosts: u64,
    members: u64,
    moderators: u64,
}

impl Tally {
    /// Counts one member; their user id, when readable.
    fn add(&mut self, guild: &Guild, member: &MemberJson, now: chrono::DateTime<chrono::Utc>) -> Option<u64> {
        let user = member.user.as_ref()?;
        let user_id: u64 = user.id.parse().ok()?;
        self.members += 1;
        if user.bot {
            self.bots += 1;
            return Some(user_id);
        }
        let role_ids: Vec<u64> = member.roles.iter().filter_map(|id| id.parse().ok()).collect();
        let is_owner = user_id == guild.owner_id;
        let mut permissions = guild_permissions(guild.id, is_owner, &guild.roles, &role_ids);
        let timed_out = member
            .communication_disabled_until
            .as_deref()
            .and_then(|until| chrono::DateTime::parse_from_rfc3339(until).ok())
            .is_some_and(|until| until > now);
        if timed_out {
            permissions = while_timed_out(permissions);
        }
        let actor = Actor { guild_id: guild.id, user_id, role_ids, permissions, is_owner, ..Actor::default() };
        match crate::role::resolve(&actor, &guild.mappings).0 {
            MeetingRole::Host => self.hosts += 1,
            MeetingRole::Moderator => self.moderators += 1,
            MeetingRole::Attendee | MeetingRole::Unspecified => self.attendees += 1,
        }
        Some(user_id)
    }
}

/// The guild's sync lock, held by one request.
struct SyncLock {
    key: String,
    token: Bytes,
}

/// Which call to Discord failed (they fail for different reasons).
#[derive(Clone, Copy)]
enum Step {
    Guild,
    Members,
}

/// What the member reads when Discord failed.
fn discord_problem(step: Step, err: &EgressError) -> Error {
    match err {
        EgressError::Discord { status: 403, .. } if matches!(step, Step::Members) => reply::error(
            "members_intent",
            "Discord refused to list this server's members: the Server Members Intent is not enabled for kalcord's bot. Enable it in the Discord Developer Portal (your application → Bot → Privileged Gateway Intents → Server Members Intent), then run /kaltura sync again.",
        ),
        EgressError::Discord { status: 403 | 404, .. } => reply::error(
            "discord_refused",
            "kalcord's bot cannot see this server. Check that it is still a member, then run /kaltura sync again.",
        ),
        EgressError::InvalidToken => reply::error(
            "not_configured",
            "Discord refused kalcord's bot token; the operator must check discord.bot_token.",
        ),
        EgressError::Discord { status, .. } if *status < 500 => reply::internal("discord refused a sync request", err),
        EgressError::Decode(_) => reply::internal("unexpected discord answer during a sync", err),
        _ => {
            tracing::warn!(error = %kalcord_runtime::chain(err), "discord unavailable during a sync");
            reply::error("discord_unavailable", "Discord did not answer in time; run /kaltura sync again in a minute.")
        }
    }
}

/// The actor of a sync request and their guild's database id, once allowed.
fn sync_request(payload: &[u8]) -> Result<(Actor, i64), Error> {
    let request = SyncRequest::decode(payload).map_err(|_| reply::unreadable())?;
    let actor = request.actor.filter(|actor| actor.guild_id != 0).ok_or_else(reply::no_actor)?;
    let guild = db_id(actor.guild_id).ok_or_else(|| reply::invalid("actor", "The server id is not valid."))?;
    if !can_manage(&actor) {
        return Err(reply::error("forbidden", "You need the Manage Server permission to sync members."));
    }
    Ok((actor, guild))
}

impl App {
    /// `identity.sync`.
    pub(crate) async fn sync(&self, payload: &[u8]) -> Vec<u8> {
        let result = match sync_request(payload) {
            Ok((actor, guild)) => self.sync_guild(&actor, guild).await,
            Err(error) => Err(error),
        };
        let result = match result {
            Ok(report) => sync_reply::Result::Report(report),
            Err(error) => sync_reply::Result::Error(error),
        };
        SyncReply { result: Some(result) }.encode_to_vec()
    }

    async fn sync_guild(&self, actor: &Actor, guild: i64) -> Result<SyncReport, Error> {
        let egress = self.egress.as_ref().ok_or_else(|| {
            reply::error(
                "not_configured",
                "Member sync needs kalcord's Discord bot: the operator must set discord.bot_token and discord.application_id.",
            )
        })?;
        let lock = self.lock_sync(actor.guild_id).await.ok_or_else(|| {
            reply::error(
                "already_running",
                "A sync is already running for this server; wait for it to finish, then try again.",
            )
        })?;
        let result = self.read_members(egress, actor, guild, &lock).await;
        self.unlock_sync(lock).await;
        let report = result?;
        tracing::info!(
            guild_id = actor.guild_id,
            members = report.members,
            pages = report.pages,
            stale = report.stale_mappings_removed,
            elapsed_ms = report.elapsed_ms,
            "members synced"
        );
        let entry = NewAuditEntry::new(audit_actor(actor), "kaltura.sync").guild(guild).details(json!({
            "members": report.members, "humans": report.humans, "bots": report.bots, "hosts": report.hosts,
            "moderators": report.moderators, "attendees": report.attendees, "pages": report.pages,
            "stale_mappings_removed": report.stale_mappings_removed, "elapsed_ms": report.elapsed_ms,
        }));
        if let Err(err) = audit::append(self.store.connection(), entry).await {
            tracing::error!(error = %kalcord_runtime::chain(&err), guild_id = actor.guild_id, "sync not audited");
        }
        Ok(report)
    }

    /// Reads the guild and every member page, then removes the mappings of deleted roles.
    async fn read_members(
        &self,
        egress: &Egress,
        actor: &Actor,
        guild: i64,
        lock: &SyncLock,
    ) -> Result<SyncReport, Error> {
        let started = Instant::now();
        let guild_id = actor.guild_id;
        let facts: GuildJson = egress
            .request(Method::Get, &format!("guilds/{guild_id}"), None::<&()>)
            .await
            .map_err(|err| discord_problem(Step::Guild, &err))?;
        let roles: Vec<(u64, u64)> = facts
            .roles
            .iter()
            .filter_map(|role| Some((role.id.parse().ok()?, Permissions::parse(&role.permissions).0)))
            .collect();
        let existing: HashSet<u64> = roles.iter().map(|(id, _)| *id).collect();
        let mappings =
            self.mappings(guild_id).await.map_err(|err| reply::internal("cannot read role mappings", &err))?;
        let (live, stale): (Vec<_>, Vec<_>) =
            mappings.into_iter().partition(|mapping| existing.contains(&mapping.discord_role_id));
        let guild_facts = Guild { id: guild_id, owner_id: facts.owner_id.parse().unwrap_or(0), roles, mappings: live };
        let (tally, pages) = self.count_members(egress, &guild_facts, lock).await?;
        let removed = self.remove_stale_mappings(actor, guild, &stale).await?;
        Ok(SyncReport {
            members: tally.members,
            humans: tally.members - tally.bots,
            bots: tally.bots,
            hosts: tally.hosts,
            moderators: tally.moderators,
            attendees: tally.attendees,
            pages,
            stale_mappings_removed: removed,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// Reads every member page (`after` the last user id of the previous one) and counts it.
    async fn count_members(&self, egress: &Egress, guild: &Guild, lock: &SyncLock) -> Result<(Tally, u32), Error> {
        let mut tally = Tally::default();
        let mut pages = 0u32;
        let mut after = 0u64;
        loop {
            let path = format!("guilds/{}/members?limit={PAGE}&after={after}", guild.id);
            let page: Vec<MemberJson> = egress
                .request(Method::Get, &path, None::<&()>)
                .await
                .map_err(|err| discord_problem(Step::Members, &err))?;
            pages += 1;
            let now = chrono::Utc::now();
            let last = page.iter().filter_map(|member| tally.add(guild, member, now)).max().unwrap_or(0);
            if page.len() < PAGE {
                return Ok((tally, pages));
            }
            // NOTE: a full page whose ids do not move forward would ask for the same page forever.
            if last <= after {
                return Err(reply::internal(
                    "member pages do not advance",
                    &EgressError::Decode(format!("a full member page after {after} ends at {last}")),
                ));
            }
            after = last;
            self.renew_sync_lock(lock).await;
        }
    }

    /// Deletes (and audits) the mappings of roles the guild no longer has; how many were removed.
    async fn remove_stale_mappings(&self, actor: &Actor, guild: i64, stale: &[RoleMapping]) -> Result<u32, Error> {
        let mut removed = 0;
        for mapping in stale {
            let Some(role_id) = db_id(mapping.discord_role_id) else { continue };
            match role_mappings::delete(self.store.connection(), guild, role_id).await {
                Ok(true) => removed += 1,
                Ok(false) => continue,
                Err(err) => return Err(reply::internal("cannot delete a stale role mapping", &err)),
            }
            let entry = NewAuditEntry::new(audit_actor(actor), "role_mapping.unmap")
                .guild(guild)
                .target(format!("role:{role_id}"))
                .details(
                    json!({ "discord_role_id": role_id.to_string(), "reason": "role_deleted", "by": "kaltura.sync" }),
                );
            if let Err(err) = audit::append(self.store.connection(), entry).await {
                tracing::error!(error = %kalcord_runtime::chain(&err), guild_id = actor.guild_id, "stale mapping removal not audited");
            }
        }
        if removed > 0 {
            self.cache_delete(&mappings_key(actor.guild_id)).await;
        }
        Ok(removed)
    }

    /// Takes the guild's sync lock; `None` while another sync holds it. A failing cache lets the
    /// sync run (it only reads Discord, and removing a mapping twice is harmless).
    async fn lock_sync(&self, guild_id: u64) -> Option<SyncLock> {
        let lock =
            SyncLock { key: format!("identity:sync:{guild_id}"), token: Bytes::from(uuid::Uuid::new_v4().to_string()) };
        let Some(cache) = &self.cache else { return Some(lock) };
        match cache.set_if_absent(&lock.key, lock.token.clone(), LOCK_TTL).await {
            Ok(true) => Some(lock),
            Ok(false) => None,
            Err(err) => {
                tracing::warn!(error = %err, guild_id, "sync lock unavailable; syncing without it");
                Some(lock)
            }
        }
    }

    /// Extends the lock while it is still this request's (one atomic compare-and-set, so a lock
    /// that expired and went to another sync is never taken back).
    async fn renew_sync_lock(&self, lock: &SyncLock) {
        let Some(cache) = &self.cache else { return };
        match cache.compare_and_set(&lock.key, &lock.token, lock.token.clone(), LOCK_TTL).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(key = %lock.key, "sync lock expired; another sync may run at once"),
            Err(err) => tracing::warn!(error = %err, key = %lock.key, "sync lock not renewed"),
        }
    }

    /// Releases the lock unless it expired and another sync took it (one atomic
    /// compare-and-delete).
    async fn unlock_sync(&self, lock: SyncLock) {
        let Some(cache) = &self.cache else { return };
        if let Err(err) = cache.compare_and_delete(&lock.key, &lock.token).await {
            tracing::warn!(error = %err, key = %lock.key, "sync lock not released; it expires by itself");
        }
    }
}

#[cfg(test)]
mod tests;
