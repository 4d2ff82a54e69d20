//! Shared state and [`EmulatorState`], the handle tests use to script the world and read what happened.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq as _;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::{ChannelSeed, GatewayConfig, GuildSeed, MemberSeed, RoleSeed, UserSeed};
use crate::error::EmulatorError;
use crate::faults::Fault;
use crate::gateway::session::{Hub, IdentifyRecord, SessionInfo};
use crate::gateway::{self, GatewayAction};
use crate::ids::Clock;
use crate::ratelimit::RateLimiter;
use crate::records::{MessageRecord, RequestRecord, SchemaViolation};
use crate::validator::Validator;
use crate::world::mutate::RoleFields;
use crate::world::{World, json as render};

/// Settings fixed at start.
#[derive(Debug)]
pub(crate) struct Settings {
    pub shards: u32,
    pub max_concurrency: u32,
    pub gateway: GatewayConfig,
    pub interaction_deadline: Duration,
}

/// Requests seen.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    pub next: u64,
    pub requests: Vec<RequestRecord>,
    pub violations: Vec<SchemaViolation>,
}

/// Everything the servers share.
#[derive(Debug)]
pub(crate) struct Inner {
    pub world: Mutex<World>,
    pub hub: Mutex<Hub>,
    pub clock: Arc<Clock>,
    pub log: Mutex<RequestLog>,
    pub faults: Mutex<Vec<Fault>>,
    pub limiter: RateLimiter,
    pub validator: Option<Validator>,
    pub settings: Settings,
    pub api_base: String,
    pub gateway_url: String,
    pub http: reqwest::Client,
    pub cancel: CancellationToken,
}

impl Inner {
    /// Runs `change` on the world and hands the dispatches it produced to the gateway, in order.
    pub(crate) fn with_world<R>(&self, change: impl FnOnce(&mut World) -> R) -> R {
        let mut world = self.world.lock();
        let result = change(&mut world);
        if !world.outbox.is_empty() {
            let dispatches = std::mem::take(&mut world.outbox);
            self.hub.lock().deliver(&dispatches);
        }
        result
    }
}

/// Compares secrets in constant time.
pub(crate) fn constant_time_eq(given: &str, expected: &str) -> bool {
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// The application's identifiers and secrets (emulator-generated unless configured).
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct ApplicationInfo {
    /// Application id (= OAuth2 client id).
    pub id: String,
    /// Ed25519 public key, hex (`verify_key`).
    pub public_key_hex: String,
    /// Bot token (without `Bot `).
    pub bot_token: String,
    /// Bot user id.
    pub bot_user_id: String,
    /// OAuth2 client id.
    pub client_id: String,
    /// OAuth2 client secret.
    pub client_secret: String,
}

/// A handle on a running emulator's state. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EmulatorState {
    pub(crate) inner: Arc<Inner>,
}

impl EmulatorState {
    /// The application's identifiers and secrets.
    #[must_use]
    pub fn application(&self) -> ApplicationInfo {
        let world = self.inner.world.lock();
        let app = &world.app;
        ApplicationInfo {
            id: app.id.to_string(),
            public_key_hex: app.public_key_hex.clone(),
            bot_token: app.bot_token.clone(),
            bot_user_id: app.bot_user_id.to_string(),
            client_id: app.id.to_string(),
            client_secret: app.client_secret.clone(),
        }
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn api_base(&self) -> String {
        self.inner.api_base.clone()
    }

    /// `ws://127.0.0.1:PORT`.
    #[must_use]
    pub fn gateway_url(&self) -> String {
        self.inner.gateway_url.clone()
    }

    fn change<R>(
        &self,
        change: impl FnOnce(&mut World) -> Result<R, crate::api_error::ApiError>,
    ) -> Result<R, EmulatorError> {
        self.inner.with_world(change).map_err(|error| EmulatorError::world(&error))
    }

    /// Adds a user (no guild).
    pub fn add_user(&self, user: &UserSeed) {
        self.inner.with_world(|world| world.upsert_user(user));
    }

    /// Adds a guild (`GUILD_CREATE` on the gateway).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::World`] when the id is taken.
    pub fn add_guild(&self, guild: &GuildSeed) -> Result<(), EmulatorError> {
        self.change(|world| world.add_guild(guild))
    }

    /// Removes the bot from a guild: `GUILD_DELETE` with `d = {"id"}` (no `unavailable`: how Discord says the
    /// bot was removed) to the sessions of the guild's shard with the GUILDS intent, then the guild, its channels,
    /// members, messages and guild commands are forgotten; REST on it answers 404 10004 Unknown Guild.
    /// [`EmulatorState::add_guild`] can add it again.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::World`] for an unknown guild.
    pub fn remove_guild(&self, guild_id: u64) -> Result<(), EmulatorError> {
        self.change(|world| world.remove_guild(guild_id))
    }

    /// Starts a guild outage: `GUILD_DELETE` with `{"id", "unavailable": true}`. The guild is kept (REST works)
    /// but new sessions get no `GUILD_CREATE` for it until [`EmulatorState::end_guild_outage`].
    ///
    /// # Errors
    ///
    /// [`EmulatorError::World`] for an unknown guild.
    pub fn guild_outage(&self, guild_id: u64) -> Result<(), EmulatorError> {
        self.change(|world| world.guild_outage(guild_id))
    }

    /// Ends a guild outage: the guild is available again (`GUILD_CREATE`).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::World`] for an unknown guild.
    pub fn end_guild_outage(&self, guild_id: u64) -> Result<(), EmulatorError> {
        self.change(|world| world.end_guild_outage(guild_id))
    }

    /// Adds a channel to a guild (`CHANNEL_CREATE`).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::World`] for an unknown guild or a taken id.
    pub fn add_channel(&self, guild_id: u64, channel: &ChannelSeed) -> Result<(), EmulatorError> {
        self.change(|world| world.add_channel(guild_id, channel).map(drop))
    }

    /// Adds a role (`GUILD_ROLE_CREATE`).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::World`] for an unknown guild or a taken id.
    pub fn add_role(&self, guild_id: u64, role: &RoleSeed) -> Result<(), EmulatorError> {
        let fields = RoleFields {
            name: Some(role.name.clone()),
            permissions: Some(role.permissions),
            color: Some(role.color),
            hoist: Some(role.hoist),
            mentionable: Some(role.mentionable),
            position: Some(role.position),
        };
        self.change(|world| world.create_role(guild_id, Some(role.id), &fields).map(drop))
    }

    /// Adds a member (`GUILD_MEMBER_ADD`).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::World`] for an unknown guild or role.
    pub fn add_member(&self, guild_id: u64, member: &MemberSeed) -> Result<(), EmulatorError> {
        self.change(|world| world.add_member(guild_id, member))
    }

    /// Adds (or replaces) many members under one lock, one `GUILD_MEMBER_ADD` each, in order.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::World`] for an unknown guild, or a seed with an unknown role or the bot's id (then no
    /// member is added).
    pub fn add_members(&self, guild_id: u64, members: &[MemberSeed]) -> Result<(), EmulatorError> {
        self.change(|world| world.add_members(guild_id, members))
    }

    /// Emits `count` `GUILD_MEMBER_UPDATE` dispatches cycling through the guild's members (ordered by user id)
    /// without changing the world, for gateway benchmarks. The world stays locked throughout, so the burst is not
    /// interleaved with other dispatches.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::World`] for an unknown guild or `count` over 1,000,000.
    pub fn emit_member_updates(&self, guild_id: u64, count: usize) -> Result<(), EmulatorError> {
        /// Dispatches queued per hub lock (heartbeats and other sessions get the hub between slices).
        const SLICE: usize = 4096;
        let world = self.inner.world.lock();
        let payloads = world.member_update_payloads(guild_id, count).map_err(|error| EmulatorError::world(&error))?;
        let mut start = 0;
        while start < count {
            let end = count.min(start + SLICE);
            self.inner.hub.lock().deliver_cycle("GUILD_MEMBER_UPDATE", guild_id, &payloads, start..end);
            start = end;
        }
        drop(world);
        Ok(())
    }

    /// Removes a member (`GUILD_MEMBER_REMOVE`).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::World`] for an unknown guild or member.
    pub fn remove_member(&self, guild_id: u64, user_id: u64) -> Result<(), EmulatorError> {
        self.change(|world| world.remove_member(guild_id, user_id))
    }

    /// Gives a member a role (`GUILD_MEMBER_UPDATE`).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::World`] for an unknown guild, member or role.
    pub fn add_member_role(&self, guild_id: u64, user_id: u64, role_id: u64) -> Result<(), EmulatorError> {
        self.change(|world| world.set_member_role(guild_id, user_id, role_id, true))
    }

    /// Takes a role from a member (`GUILD_MEMBER_UPDATE`).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::World`] for an unknown guild, member or role.
    pub fn remove_member_role(&self, guild_id: u64, user_id: u64, role_id: u64) -> Result<(), EmulatorError> {
        self.change(|world| world.set_member_role(guild_id, user_id, role_id, false))
    }

    /// Base permissions of a member (what interactions carry), if the member exists.
    #[must_use]
    pub fn member_permissions(&self, guild_id: u64, user_id: u64) -> Option<u64> {
        let world = self.inner.world.lock();
        let guild = world.guilds.get(&guild_id)?;
        guild.member(user_id).map(|_| guild.permissions_of(user_id))
    }

    /// Role ids of a member.
    #[must_use]
    pub fn member_roles(&self, guild_id: u64, user_id: u64) -> Option<Vec<u64>> {
        let world = self.inner.world.lock();
        world.guilds.get(&guild_id)?.member(user_id).map(|member| member.roles.clone())
    }

    /// Changes the interactions endpoint URL.
    pub fn set_interactions_url(&self, url: Option<Url>) {
        self.inner.world.lock().app.interactions_url = url;
    }

    /// Adds a scripted fault.
    pub fn add_fault(&self, fault: Fault) {
        self.inner.faults.lock().push(fault);
    }

    /// Removes every scripted fault.
    pub fn clear_faults(&self) {
        self.inner.faults.lock().clear();
    }

    /// Every request received so far.
    #[must_use]
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.inner.log.lock().requests.clone()
    }

    /// Forgets the recorded requests and schema violations.
    pub fn clear_requests(&self) {
        let mut log = self.inner.log.lock();
        log.requests.clear();
        log.violations.clear();
    }

    /// Bodies the published schema rejected.
    #[must_use]
    pub fn schema_violations(&self) -> Vec<SchemaViolation> {
        self.inner.log.lock().violations.clone()
    }

    /// Every message created, edited or deleted.
    #[must_use]
    pub fn messages(&self) -> Vec<MessageRecord> {
        self.inner.world.lock().message_log.clone()
    }

    /// A message as `GET` would return it.
    #[must_use]
    pub fn message(&self, message_id: u64) -> Option<Value> {
        let world = self.inner.world.lock();
        world.messages.get(&message_id).map(|message| render::message(&world, message))
    }

    /// Registered commands (global and guild) as Discord returns them.
    #[must_use]
    pub fn commands(&self) -> Vec<Value> {
        let world = self.inner.world.lock();
        world.commands.values().map(|command| render::command(&world, command)).collect()
    }

    /// Scheduled events of a guild.
    #[must_use]
    pub fn scheduled_events(&self, guild_id: u64) -> Vec<Value> {
        let world = self.inner.world.lock();
        let Some(guild) = world.guilds.get(&guild_id) else { return Vec::new() };
        guild.events.iter().map(|event| render::scheduled_event(&world, event)).collect()
    }

    /// Adds an Activity instance (`GET /applications/{app}/activity-instances/{id}` finds it).
    pub fn add_activity_instance(&self, instance_id: &str, channel_id: u64, guild_id: Option<u64>, users: &[u64]) {
        let mut world = self.inner.world.lock();
        let value = crate::rest::interactions::activity_instance(&world, instance_id, channel_id, guild_id, users);
        world.activity_instances.insert(instance_id.to_owned(), value);
    }

    /// A fresh OAuth2 authorization code for a user (as if they approved the consent screen).
    #[must_use]
    pub fn authorization_code(&self, user_id: u64, scopes: &[&str], redirect_uri: Option<&str>) -> String {
        let mut world = self.inner.world.lock();
        let now = world.now_ms();
        let scopes = scopes.iter().map(|scope| (*scope).to_owned()).collect();
        world.oauth.issue_code(user_id, scopes, redirect_uri.map(str::to_owned), now)
    }

    /// OAuth2 tokens for a user, as the token endpoint would answer.
    #[must_use]
    pub fn oauth_tokens(&self, user_id: u64, scopes: &[&str]) -> Value {
        let mut world = self.inner.world.lock();
        let now = world.now_ms();
        let scopes = scopes.iter().map(|scope| (*scope).to_owned()).collect();
        world.oauth.grant(Some(user_id), scopes, true, now)
    }

    /// The user `GET /oauth2/authorize` approves as.
    pub fn set_oauth_user(&self, user_id: u64) {
        self.inner.world.lock().oauth.current_user = Some(user_id);
    }

    /// Moves the emulator's clock forward (token lifetimes, the 3 s and 15 min interaction rules).
    pub fn advance_clock(&self, by: Duration) {
        self.inner.clock.advance(by);
    }

    /// Gateway sessions (connected or resumable).
    #[must_use]
    pub fn gateway_sessions(&self) -> Vec<SessionInfo> {
        self.inner.hub.lock().list()
    }

    /// IDENTIFYs that passed the token, intent and shard checks, oldest first, with whether the concurrency limit
    /// (`identify_window` per `shard_id % max_concurrency`) let them start a session.
    #[must_use]
    pub fn identifies(&self) -> Vec<IdentifyRecord> {
        self.inner.hub.lock().identify_log()
    }

    /// Acts on gateway connections (all when `session_id` is `None`); returns how many were reached.
    pub fn gateway_action(&self, session_id: Option<&str>, action: &GatewayAction) -> usize {
        gateway::act(&self.inner, session_id, action)
    }

    /// 401/403/429 answers counted for a bot token in the current window.
    #[must_use]
    pub fn invalid_requests(&self, bot_token: &str) -> usize {
        self.inner.limiter.invalid_count(&crate::rest::auth::limiter_key_for_bot(bot_token))
    }

    /// Forgets rate-limit counters and bans.
    pub fn reset_rate_limits(&self) {
        self.inner.limiter.reset();
    }

    /// The whole world as JSON (guilds with roles, members and channels; users; commands).
    #[must_use]
    pub fn snapshot(&self) -> Value {
        let world = self.inner.world.lock();
        let guilds: Vec<Value> = world.guilds.values().map(|guild| render::guild_create(&world, guild, true)).collect();
        let users: Vec<Value> = world.users.values().map(render::user).collect();
        let commands: Vec<Value> = world.commands.values().map(|command| render::command(&world, command)).collect();
        json!({"application": render::application(&world), "guilds": guilds, "users": users, "commands": commands,
               "clock_offset_ms": u64::try_from(self.inner.clock.offset().as_millis()).unwrap_or(u64::MAX)})
    }
}
