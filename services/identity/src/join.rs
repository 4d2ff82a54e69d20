//! `identity.join`: a member's personal launch link into a meeting.
//!
//! A known member's join costs one database read (the meeting) and cache reads: their Kaltura
//! user is remembered in the cache once ensured, their participation once recorded, and the
//! KS is minted locally (a USER KS naming the room and the role, never an admin KS).

use std::time::Duration;

use kalcord_kaltura::{Client, DisplayIdentity, JoinRole, JoinTarget, UserProfile, discord_user_id};
use kalcord_proto::Message as _;
use kalcord_proto::v1::{Actor, Error, Join, JoinReply, JoinRequest, MeetingRole, join_reply};
use kalcord_store::entity::MeetingStatus;
use kalcord_store::entity::meeting::Model as Meeting;
use kalcord_store::repo::{identity_links, meetings, participants};
use kalcord_tenant::TenantError;

use crate::app::{App, db_id, role_name, to_store_role};
use crate::reply;

/// How long "this member joined this meeting as this role" is remembered.
const JOINED_TTL: Duration = Duration::from_hours(24);

/// Longest name passed to Kaltura (Discord names are at most 32 characters).
const MAX_NAME_CHARS: usize = 64;

fn join_error(error: Error) -> Vec<u8> {
    JoinReply { result: Some(join_reply::Result::Error(error)) }.encode_to_vec()
}

fn join_role(role: MeetingRole) -> JoinRole {
    match role {
        MeetingRole::Host => JoinRole::Host,
        MeetingRole::Moderator => JoinRole::Moderator,
        MeetingRole::Attendee | MeetingRole::Unspecified => JoinRole::Attendee,
    }
}

/// The room a join session names: the event when there is one, else the resource.
fn target(meeting: &Meeting) -> Option<JoinTarget> {
    let id = |text: &Option<String>| text.as_deref().and_then(|text| text.trim().parse::<i64>().ok());
    id(&meeting.kaltura_event_id)
        .map(JoinTarget::Event)
        .or_else(|| id(&meeting.kaltura_resource_id).map(JoinTarget::Resource))
}

/// The name shown in the room: the display name, else the username.
fn display_name(actor: &Actor) -> Option<String> {
    [&actor.display_name, &actor.username]
        .into_iter()
        .map(|name| name.trim())
        .find(|name| !name.is_empty())
        .map(|name| name.chars().take(MAX_NAME_CHARS).collect())
}

fn unix_ms_after(ttl: Duration) -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from((now + ttl).as_millis()).unwrap_or(i64::MAX)
}

impl App {
    /// `identity.join`.
    pub(crate) async fn join(&self, payload: &[u8]) -> Vec<u8> {
        match self.try_join(payload).await {
            Ok(join) => JoinReply { result: Some(join_reply::Result::Join(join)) }.encode_to_vec(),
            Err(error) => join_error(error),
        }
    }

    async fn try_join(&self, payload: &[u8]) -> Result<Join, Error> {
        let request = JoinRequest::decode(payload).map_err(|_| reply::unreadable())?;
        let actor =
            request.actor.filter(|actor| actor.guild_id != 0 && actor.user_id != 0).ok_or_else(reply::no_actor)?;
        let not_found = || reply::error("not_found", "That meeting does not exist in this server.");
        let id = uuid::Uuid::parse_str(request.meeting_id.trim()).map_err(|_| not_found())?;
        let meeting = meetings::get(self.store.connection(), id)
            .await
            .map_err(|err| reply::internal("cannot read the meeting", &err))?
            .filter(|meeting| Some(meeting.guild_id) == db_id(actor.guild_id))
            .ok_or_else(not_found)?;
        match meeting.status {
            MeetingStatus::Ended => return Err(reply::error("conflict", "This meeting has ended.")),
            MeetingStatus::Cancelled => return Err(reply::error("conflict", "This meeting was cancelled.")),
            MeetingStatus::Scheduled | MeetingStatus::Live => {}
        }
        let target = target(&meeting)
            .ok_or_else(|| reply::error("conflict", "This meeting has no Kaltura room yet; try again in a moment."))?;

        let mappings =
            self.mappings(actor.guild_id).await.map_err(|err| reply::internal("cannot read role mappings", &err))?;
        let (role, reason) = crate::role::resolve(&actor, &mappings);

        let (client, _source) = self.tenants.client(actor.guild_id).await.map_err(|err| tenant_problem(&err))?;
        let user_id = discord_user_id(actor.user_id);
        self.ensure_kaltura_user(&client, &actor, &user_id).await?;

        let ttl = self.tenants.ks_ttl().min(kalcord_kaltura::MAX_KS_TTL);
        let identity = DisplayIdentity { first_name: display_name(&actor), ..DisplayIdentity::default() };
        let launch_url = client.join_url(&user_id, target, join_role(role), &identity, ttl);
        self.record_participant(&meeting, actor.user_id, role).await;
        tracing::info!(
            guild_id = actor.guild_id,
            meeting_id = %meeting.id,
            role = role_name(role),
            reason = %reason,
            "join link minted"
        );
        Ok(Join {
            launch_url: launch_url.to_string(),
            role: role.into(),
            expires_at_unix_ms: unix_ms_after(ttl),
            meeting_title: meeting.title.clone(),
            meeting_id: meeting.id.to_string(),
        })
    }

    /// Makes sure the member's Kaltura user exists on the guild's partner: once per partner
    /// and `identity.user_ttl` (the cache), linked in `identity_link` on first sight.
    async fn ensure_kaltura_user(&self, client: &Client, actor: &Actor, user_id: &str) -> Result<(), Error> {
        let key = format!("identity:kaltura_user:{}:{}", client.partner_id(), actor.user_id);
        if self.cache_get(&key).await.is_some() {
            return Ok(());
        }
        let name = display_name(actor);
        let profile = UserProfile {
            screen_name: Some(actor.username.trim())
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .or_else(|| name.clone()),
            first_name: name,
            ..UserProfile::default()
        };
        if let Err(err) = client.ensure_user(user_id, &profile).await {
            tracing::warn!(error = %kalcord_runtime::chain(&err), partner_id = client.partner_id(), "cannot ensure the member's Kaltura user");
            return Err(reply::error(
                "kaltura_unavailable",
                "Kaltura is not answering right now; try again in a moment.",
            ));
        }
        if let Some(discord_id) = db_id(actor.user_id) {
            let db = self.store.connection();
            let linked = identity_links::get(db, discord_id).await.map(|link| link.is_some());
            let result = match linked {
                Ok(true) => Ok(()),
                Ok(false) => identity_links::link(db, discord_id, user_id, None).await.map(drop),
                Err(err) => Err(err),
            };
            match result {
                Ok(()) => {}
                Err(err) if err.is_conflict() => {}
                Err(err) => tracing::warn!(error = %kalcord_runtime::chain(&err), "identity link not recorded"),
            }
        }
        self.cache_set(&key, &b"1"[..], self.config.user_ttl).await;
        Ok(())
    }

    /// Records the participation (first join, or a changed role). Skipped when the cache says
    /// this member already joined this meeting with this role; failures are only logged.
    async fn record_participant(&self, meeting: &Meeting, user_id: u64, role: MeetingRole) {
        let (Some(stored_role), Some(discord_id)) = (to_store_role(role), db_id(user_id)) else { return };
        let key = format!("identity:joined:{}:{user_id}", meeting.id);
        if self.cache_get(&key).await.is_some_and(|value| value.as_ref() == role_name(role).as_bytes()) {
            return;
        }
        let db = self.store.connection();
        let result = match participants::add(db, meeting.id, discord_id, stored_role).await {
            Ok(_) => Ok(()),
            Err(err) if err.is_conflict() => match participants::get(db, meeting.id, discord_id).await {
                Ok(Some(row)) if row.role != stored_role => {
                    participants::set_role(db, row, stored_role).await.map(drop)
                }
                Ok(_) => Ok(()),
                Err(err) => Err(err),
            },
            Err(err) => Err(err),
        };
        match result {
            Ok(()) => self.cache_set(&key, role_name(role).as_bytes().to_vec(), JOINED_TTL).await,
            Err(err) => {
                tracing::warn!(error = %kalcord_runtime::chain(&err), meeting_id = %meeting.id, "participant not recorded");
            }
        }
    }
}

/// The member-facing error of a guild whose partner cannot be used.
fn tenant_problem(err: &TenantError) -> Error {
    match err {
        TenantError::NotConfigured => reply::error(
            "not_configured",
            "No Kaltura partner is linked to this server; ask an admin to run /kaltura setup.",
        ),
        TenantError::SecretMissing => reply::error(
            "not_configured",
            "This server's Kaltura secret is missing; ask an admin to run /kaltura setup again.",
        ),
        other => reply::internal("cannot build the guild's Kaltura client", other),
    }
}
