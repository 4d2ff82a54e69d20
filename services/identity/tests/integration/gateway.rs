//! Gateway events on real NATS JetStream, PostgreSQL and Redis, with the in-process Discord
//! emulator: the events are published as gateway-shard publishes them (subject, headers, dedup
//! id, raw `d`), and identity replicas consume them from the shared durable consumer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App as ActixApp, test as actix_test, web};
use kalcord_api_gateway::AppState;
use kalcord_bus::{BusBackend, BusConfig, BusExt as _, Event, Message, SharedBus};
use kalcord_cache::{RedisCache, SharedCache};
use kalcord_config::Secret;
use kalcord_discord::gateway;
use kalcord_discord_emulator::{ChannelSeed, DiscordEmulator, EmulatorConfig, GuildSeed, UserSeed, seed};
use kalcord_identity::{Config, GATEWAY_CONSUMER, Identity};
use kalcord_proto::Message as _;
use kalcord_proto::subject;
use kalcord_proto::v1::{Actor, GetMeetingRequest, Meeting, MeetingReply, RoleMappingReply, RoleMappingRequest};
use kalcord_runtime::{CancellationToken, CommonConfig, Deps, Service as _};
use kalcord_store::Store;
use kalcord_store::entity::MeetingRole;
use kalcord_store::repo::{guilds, role_mappings};
use kalcord_test_util::distributed::DistributedEnv;
use kalcord_test_util::env::{nats_url, redis_url};
use kalcord_test_util::eventually;
use sea_orm::{IntoActiveModel as _, Set};
use serde_json::{Value, json};

use super::common::{audit_rows, db};

/// A guild without a system channel (the demo guild has `#general` for that).
const QUIET_GUILD: u64 = 1_310_000_000_000_000_001;
const QUIET_OWNER: u64 = 1_310_000_000_000_000_300;
const QUIET_CHANNEL: u64 = 1_310_000_000_000_000_201;
const MEETING_ID: &str = "0190f7a4-1c2b-7d3e-8f40-123456789abc";

struct Harness {
    bus: SharedBus,
    cache: SharedCache,
    common: CommonConfig,
    discord: DiscordEmulator,
    env: DistributedEnv,
    jetstream: async_nats::jetstream::Context,
    last_sequence: AtomicU64,
    shutdown: CancellationToken,
    store: Store,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// `replicas` identity services sharing NATS (one durable consumer), PostgreSQL and Redis.
    async fn start(replicas: usize) -> Self {
        kalcord_test_util::install_crypto();
        let quiet = GuildSeed::new(QUIET_GUILD, "Quiet club", UserSeed::new(QUIET_OWNER, "quiet-owner"))
            .with_channel(ChannelSeed::text(QUIET_CHANNEL, "chat"));
        let config = EmulatorConfig::default().with_guild(seed::demo_guild()).with_guild(quiet);
        let discord = DiscordEmulator::start(config).await.unwrap();
        let env = DistributedEnv::new(true).await.unwrap();
        let vars = env.vars();
        let database = vars.iter().find(|(name, _)| name == "KALCORD_STORE_URL").map(|(_, url)| url.clone()).unwrap();
        let store = Store::connect(&database).await.unwrap();
        store.migrate().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut common = CommonConfig::defaults();
        common.secrets.tenant_file = dir.path().join("tenant-secrets.toml");
        let application = discord.application();
        common.discord.api_base = Some(discord.api_authority());
        common.discord.application_id = application.id.parse().ok();
        common.discord.bot_token = Some(Secret::new(application.bot_token));

        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();
        for replica in 0..replicas {
            let deps = Deps {
                bus: bus(env.prefix()).await,
                cache: Some(cache(env.prefix()).await),
                common: Arc::new(common.clone()),
                instance: format!("gateway-test-{replica}").into(),
                started: Instant::now(),
                store: Some(store.clone()),
            };
            let service = Identity::build(Config::default(), deps).await.unwrap();
            let token = shutdown.clone();
            tasks.push(tokio::spawn(async move { service.run(token).await.unwrap() }));
        }
        let client = async_nats::connect(nats_url()).await.unwrap();
        let harness = Self {
            bus: bus(env.prefix()).await,
            cache: cache(env.prefix()).await,
            common,
            discord,
            env,
            jetstream: async_nats::jetstream::new(client),
            last_sequence: AtomicU64::new(0),
            shutdown,
            store,
            tasks,
            _dir: dir,
        };
        harness.wait_serving().await;
        harness
    }

    async fn wait_serving(&self) {
        for _ in 0..200 {
            // NOTE: a guild no test uses: the answer (no mappings) is cached.
            let request = RoleMappingRequest { actor: Some(actor(1, 1)), mapping: None };
            let reply: Result<RoleMappingReply, _> =
                self.bus.request_proto(subject::IDENTITY_ROLES_LIST, &request, Duration::from_secs(1)).await;
            if reply.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("identity never served");
    }

    /// Publishes a dispatch as gateway-shard does: `discord.gateway.<EVENT>`, the raw `d`, the
    /// contract's headers, and the dedup id of (shard 0, `session`, `sequence`).
    async fn publish(&self, event: &str, session: &str, sequence: u64, d: &Value) {
        let mut message = Message::new(serde_json::to_vec(d).unwrap())
            .with_header(gateway::HEADER_SHARD, "0")
            .with_header(gateway::HEADER_SHARD_COUNT, "1")
            .with_header(gateway::HEADER_SEQUENCE, sequence.to_string())
            .with_header(gateway::HEADER_SESSION, session)
            .with_header(gateway::HEADER_EVENT, event);
        let guild = d.get("guild_id").or_else(|| d.get("id")).and_then(Value::as_str);
        if let Some(guild) = guild {
            message = message.with_header(gateway::HEADER_GUILD, guild);
        }
        let event =
            Event { subject: gateway::subject(event), dedup_id: gateway::dedup_id(0, session, sequence), message };
        let ack = self.bus.publish(event).await.unwrap();
        assert!(!ack.duplicate, "each test dispatch is new");
        self.last_sequence.fetch_max(ack.sequence, Ordering::SeqCst);
    }

    /// Waits until every published event was settled by identity's consumer.
    async fn settled(&self) {
        let stream = format!("{}_{}", self.env.prefix(), gateway::STREAM);
        for _ in 0..800 {
            if let Ok(stream) = self.jetstream.get_stream(&stream).await
                && let Ok(info) = stream.consumer_info(GATEWAY_CONSUMER).await
                && info.ack_floor.stream_sequence >= self.last_sequence.load(Ordering::SeqCst)
                && info.num_ack_pending == 0
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("identity did not settle the gateway events in time");
    }

    /// Messages the bot posted, in order.
    fn posts(&self) -> Vec<kalcord_discord_emulator::MessageRecord> {
        self.discord.state().messages()
    }

    async fn actions(&self) -> Vec<String> {
        audit_rows(&self.store).await.into_iter().map(|row| row.action).collect()
    }

    async fn stop(self) {
        self.shutdown.cancel();
        for task in self.tasks {
            tokio::time::timeout(Duration::from_secs(15), task).await.expect("stops in time").unwrap();
        }
        self.discord.stop().await;
        self.store.close().await.unwrap();
        self.env.cleanup().await.unwrap();
    }
}

async fn bus(prefix: &str) -> SharedBus {
    let config = BusConfig {
        backend: BusBackend::Nats,
        connect_timeout: Duration::from_secs(5),
        prefix: prefix.to_owned(),
        request_timeout: Duration::from_secs(2),
        stream_replicas: 1,
        token: None,
        url: nats_url().parse().unwrap(),
    };
    kalcord_bus::connect(&config, "identity-gateway-test").await.expect("NATS is running (`make services`)")
}

async fn cache(prefix: &str) -> SharedCache {
    Arc::new(RedisCache::connect(&redis_url(), prefix).await.expect("Redis is running (`make services`)"))
}

fn actor(guild: u64, user: u64) -> Actor {
    Actor { guild_id: guild, user_id: user, ..Actor::default() }
}

/// A `GUILD_CREATE` for a guild the bot was just added to.
fn guild_create(guild: u64, name: &str, owner: u64, system_channel: Option<u64>) -> Value {
    json!({
        "id": guild.to_string(), "name": name, "owner_id": owner.to_string(),
        "system_channel_id": system_channel.map(|id| id.to_string()),
        "joined_at": chrono::Utc::now().to_rfc3339(), "large": false, "unavailable": false,
        "member_count": 5, "members": [], "channels": [], "roles": [], "features": [],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_guild_gets_one_guide_even_when_delivered_twice_to_two_replicas() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start(2).await;
    let create = guild_create(seed::GUILD_ID, "Kalcord Demo School", seed::OWNER_ID, Some(seed::GENERAL_CHANNEL));
    // The same dispatch twice with two dedup ids: a replay after a reconnect in a new session.
    h.publish("GUILD_CREATE", "session-a", 1, &create).await;
    h.publish("GUILD_CREATE", "session-b", 1, &create).await;
    h.settled().await;

    let posts = h.posts();
    assert_eq!(posts.len(), 1, "exactly one guide: {posts:?}");
    assert_eq!(posts[0].channel_id, seed::GENERAL_CHANNEL);
    let embed = posts[0].embeds.to_string();
    for command in ["/kaltura setup", "/kaltura roles map", "/meeting start"] {
        assert!(embed.contains(command), "{command} in {embed}");
    }
    let row = guilds::get(h.store.connection(), db(seed::GUILD_ID)).await.unwrap().unwrap();
    assert!(row.active && row.onboarded_at.is_some() && row.bot_joined_at.is_some(), "{row:?}");
    assert_eq!(row.name, "Kalcord Demo School");
    assert_eq!(h.actions().await, ["guild.joined", "guild.onboarded"]);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_usable_system_channel_the_owner_gets_the_guide_in_a_dm() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start(1).await;
    // No system channel at all.
    h.publish("GUILD_CREATE", "s", 1, &guild_create(QUIET_GUILD, "Quiet club", QUIET_OWNER, None)).await;
    // A system channel the bot may not post in.
    let fault = kalcord_discord_emulator::Fault::next(kalcord_discord_emulator::FaultAction::Status { status: 403 })
        .on("POST", &format!("/channels/{}/messages", seed::GENERAL_CHANNEL));
    h.discord.state().add_fault(fault);
    let create = guild_create(seed::GUILD_ID, "Kalcord Demo School", seed::OWNER_ID, Some(seed::GENERAL_CHANNEL));
    h.publish("GUILD_CREATE", "s", 2, &create).await;
    h.settled().await;

    let posts = h.posts();
    assert_eq!(posts.len(), 2, "{posts:?}");
    let guild_channels = [QUIET_CHANNEL, seed::GENERAL_CHANNEL, seed::ANNOUNCEMENTS_CHANNEL];
    assert!(posts.iter().all(|post| !guild_channels.contains(&post.channel_id)), "only DMs: {posts:?}");
    assert!(posts.iter().any(|post| post.content.contains("**Quiet club**")));
    assert!(posts.iter().any(|post| post.content.contains("**Kalcord Demo School**")));
    let recipients: Vec<Value> = h
        .discord
        .state()
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.path.ends_with("/users/@me/channels"))
        .filter_map(|request| request.body.and_then(|body| body.get("recipient_id").cloned()))
        .collect();
    assert!(recipients.contains(&json!(QUIET_OWNER.to_string())), "{recipients:?}");
    assert!(recipients.contains(&json!(seed::OWNER_ID.to_string())), "{recipients:?}");
    let onboarded = audit_rows(&h.store).await.into_iter().filter(|row| row.action == "guild.onboarded").count();
    assert_eq!(onboarded, 2);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_post_is_retried_and_an_undeliverable_guide_is_audited() {
    use kalcord_discord_emulator::{Fault, FaultAction};
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start(1).await;
    let state = h.discord.state();
    // Discord fails the first post (a POST is never retried by the egress itself)...
    let path = format!("/channels/{}/messages", seed::GENERAL_CHANNEL);
    state.add_fault(Fault::next(FaultAction::Status { status: 502 }).on("POST", &path));
    // ...and the quiet club's owner does not accept DMs.
    state.add_fault(Fault::next(FaultAction::Status { status: 403 }).on("POST", "/users/@me/channels"));
    let create = guild_create(seed::GUILD_ID, "Kalcord Demo School", seed::OWNER_ID, Some(seed::GENERAL_CHANNEL));
    h.publish("GUILD_CREATE", "s", 1, &create).await;
    h.publish("GUILD_CREATE", "s", 2, &guild_create(QUIET_GUILD, "Quiet club", QUIET_OWNER, None)).await;
    h.settled().await;

    let posts = h.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].channel_id, seed::GENERAL_CHANNEL);
    let rows = audit_rows(&h.store).await;
    let failed: Vec<_> = rows.iter().filter(|row| row.action == "guild.onboarding_failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].guild_id, Some(db(QUIET_GUILD)));
    assert_eq!(rows.iter().filter(|row| row.action == "guild.onboarded").count(), 1);
    let quiet = guilds::get(h.store.connection(), db(QUIET_GUILD)).await.unwrap().unwrap();
    assert!(quiet.onboarded_at.is_some(), "an undeliverable guide is not retried forever");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_removed_guild_turns_inactive_and_resumes_its_configuration_when_re_added() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start(2).await;
    let guild = seed::GUILD_ID;
    let create = guild_create(guild, "Kalcord Demo School", seed::OWNER_ID, Some(seed::GENERAL_CHANNEL));
    h.publish("GUILD_CREATE", "s1", 1, &create).await;
    h.settled().await;
    assert_eq!(h.posts().len(), 1, "the guide");

    // An admin configures the server.
    let conn = h.store.connection();
    let row = guilds::get(conn, db(guild)).await.unwrap().unwrap();
    let mut changes = row.into_active_model();
    changes.kaltura_partner_id = Set(Some(2_503_451));
    changes.notification_channel_id = Set(Some(db(seed::ANNOUNCEMENTS_CHANNEL)));
    guilds::update(conn, changes).await.unwrap();
    let mapping = role_mappings::NewRoleMapping {
        guild_id: db(guild),
        discord_role_id: db(seed::TEACHER_ROLE),
        meeting_role: MeetingRole::Host,
        priority: 10,
    };
    role_mappings::create(conn, mapping).await.unwrap();

    // Outages are not removals.
    h.publish("GUILD_DELETE", "s1", 2, &json!({"id": guild.to_string(), "unavailable": true})).await;
    h.publish("GUILD_CREATE", "s1", 3, &json!({"id": guild.to_string(), "unavailable": true})).await;
    h.settled().await;
    assert!(guilds::is_active(conn, db(guild)).await.unwrap());

    // Removed: inactive, nothing deleted.
    h.publish("GUILD_DELETE", "s1", 4, &json!({"id": guild.to_string()})).await;
    h.settled().await;
    assert!(!guilds::is_active(conn, db(guild)).await.unwrap());
    let row = guilds::get(conn, db(guild)).await.unwrap().unwrap();
    assert!(row.bot_left_at.is_some());
    assert_eq!(row.kaltura_partner_id, Some(2_503_451));

    // Re-added: active again, configuration kept, no second guide.
    let mut back = create.clone();
    back["name"] = json!("Demo School (back)");
    h.publish("GUILD_CREATE", "s2", 1, &back).await;
    h.settled().await;
    assert!(guilds::is_active(conn, db(guild)).await.unwrap());
    let row = guilds::get(conn, db(guild)).await.unwrap().unwrap();
    assert_eq!(row.name, "Demo School (back)");
    assert_eq!(row.kaltura_partner_id, Some(2_503_451));
    assert_eq!(row.notification_channel_id, Some(db(seed::ANNOUNCEMENTS_CHANNEL)));
    assert_eq!(role_mappings::list_for_guild(conn, db(guild)).await.unwrap().len(), 1);
    assert_eq!(h.posts().len(), 1, "a configured guild gets no second guide");
    assert_eq!(h.actions().await, ["guild.joined", "guild.onboarded", "guild.left", "guild.joined"]);
    let rejoined = audit_rows(&h.store).await.pop().unwrap();
    assert_eq!(rejoined.details["returned"], json!(true));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_role_loses_its_mapping_with_an_audit_entry() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start(1).await;
    let guild = seed::GUILD_ID;
    let conn = h.store.connection();
    guilds::create(conn, db(guild), "Kalcord Demo School").await.unwrap();
    for (role, meeting_role) in [(seed::TEACHER_ROLE, MeetingRole::Host), (seed::STUDENT_ROLE, MeetingRole::Attendee)] {
        let mapping =
            role_mappings::NewRoleMapping { guild_id: db(guild), discord_role_id: db(role), meeting_role, priority: 1 };
        role_mappings::create(conn, mapping).await.unwrap();
    }
    // identity caches the mappings on a read.
    let list = || async {
        let request = RoleMappingRequest { actor: Some(actor(guild, seed::MEMBER_ID)), mapping: None };
        let reply: RoleMappingReply =
            h.bus.request_proto(subject::IDENTITY_ROLES_LIST, &request, Duration::from_secs(5)).await.unwrap();
        reply.mappings.iter().map(|mapping| mapping.discord_role_id).collect::<Vec<_>>()
    };
    assert_eq!(list().await.len(), 2);

    let deleted = json!({"guild_id": guild.to_string(), "role_id": seed::TEACHER_ROLE.to_string()});
    h.publish("GUILD_ROLE_DELETE", "s", 1, &deleted).await;
    // A role without a mapping, and a payload that cannot be read: neither blocks the consumer.
    h.publish("GUILD_ROLE_DELETE", "s", 2, &json!({"guild_id": guild.to_string(), "role_id": "42"})).await;
    h.publish("GUILD_ROLE_DELETE", "s", 3, &json!({"guild_id": "secret-value", "role_id": []})).await;
    h.publish("TYPING_START", "s", 4, &json!({"channel_id": "1"})).await;
    h.settled().await;

    let left = role_mappings::list_for_guild(h.store.connection(), db(guild)).await.unwrap();
    assert_eq!(left.iter().map(|row| row.discord_role_id).collect::<Vec<_>>(), [db(seed::STUDENT_ROLE)]);
    assert_eq!(list().await, [seed::STUDENT_ROLE], "the cached mappings were dropped");
    let rows = audit_rows(&h.store).await;
    assert_eq!(rows.len(), 1, "one removal, one entry");
    assert_eq!(
        (rows[0].action.as_str(), rows[0].target.as_deref()),
        ("role_mapping.unmap", Some(format!("role:{}", seed::TEACHER_ROLE).as_str()))
    );
    assert_eq!(rows[0].details["reason"], json!("role_deleted"));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_role_change_reaches_the_rest_api_before_the_member_cache_expires() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start(1).await;
    let guild = seed::GUILD_ID;
    let mut rest = RestApi::start(&h).await;
    assert!(rest.roles_of(seed::TEACHER_ID).await.contains(&seed::TEACHER_ROLE));

    // Discord changes the member's roles; the cached lookup still has the old ones...
    let state = h.discord.state();
    state.remove_member_role(guild, seed::TEACHER_ID, seed::TEACHER_ROLE).unwrap();
    state.add_member_role(guild, seed::TEACHER_ID, seed::STUDENT_ROLE).unwrap();
    assert!(rest.roles_of(seed::TEACHER_ID).await.contains(&seed::TEACHER_ROLE), "cached for an hour");

    // ...until GUILD_MEMBER_UPDATE arrives.
    let roles: Vec<String> =
        state.member_roles(guild, seed::TEACHER_ID).unwrap().iter().map(ToString::to_string).collect();
    let update = json!({"guild_id": guild.to_string(), "roles": roles, "joined_at": "2026-01-01T00:00:00Z",
        "user": {"id": seed::TEACHER_ID.to_string(), "username": "ada"}, "nick": null, "avatar": null});
    h.publish("GUILD_MEMBER_UPDATE", "s", 1, &update).await;
    h.settled().await;
    let roles = rest.roles_of(seed::TEACHER_ID).await;
    assert!(roles.contains(&seed::STUDENT_ROLE) && !roles.contains(&seed::TEACHER_ROLE), "{roles:?}");

    // A role event re-reads every member of the guild.
    assert!(rest.roles_of(seed::STUDENT_ID).await.contains(&seed::STUDENT_ROLE));
    state.remove_member_role(guild, seed::STUDENT_ID, seed::STUDENT_ROLE).unwrap();
    let role = json!({"guild_id": guild.to_string(), "role": {"id": seed::STUDENT_ROLE.to_string(), "name": "Student",
        "permissions": "0", "position": 2, "color": 0, "hoist": false, "managed": false, "mentionable": false}});
    h.publish("GUILD_ROLE_UPDATE", "s", 2, &role).await;
    h.settled().await;
    assert!(!rest.roles_of(seed::STUDENT_ID).await.contains(&seed::STUDENT_ROLE));
    h.stop().await;
}

/// The api-gateway's REST API in process, on the harness's bus and Redis, with a stand-in
/// meetings service that answers `meetings.get` and keeps the actor it was sent.
struct RestApi {
    seen: tokio::sync::mpsc::UnboundedReceiver<Actor>,
    state: web::Data<AppState>,
}

impl RestApi {
    async fn start(h: &Harness) -> Self {
        let mut requests = h.bus.serve(subject::MEETINGS_GET, "meetings").await.unwrap();
        let (sender, seen) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(request) = requests.next().await {
                let Ok(get) = GetMeetingRequest::decode(request.message.payload.as_ref()) else { continue };
                let actor = get.actor.unwrap_or_default();
                let meeting = Meeting {
                    id: MEETING_ID.to_owned(),
                    guild_id: actor.guild_id,
                    title: "Biology".to_owned(),
                    kind: 1,
                    status: 1,
                    version: 1,
                    ..Meeting::default()
                };
                let _ = sender.send(actor);
                let reply = MeetingReply {
                    result: Some(kalcord_proto::v1::meeting_reply::Result::Meeting(meeting)),
                    replayed: false,
                };
                let _ = request.respond(Message::new(reply.encode_to_vec())).await;
            }
        });
        let deps = Deps {
            bus: Arc::clone(&h.bus),
            cache: Some(Arc::clone(&h.cache)),
            common: Arc::new(h.common.clone()),
            instance: "rest-test".into(),
            started: Instant::now(),
            store: None,
        };
        let config = kalcord_api_gateway::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            workers: 1,
            request_timeout: Duration::from_secs(5),
            token_key: Some(Secret::new("k".repeat(32))),
            // NOTE: far longer than the test: only invalidation can make a change visible.
            member_cache_ttl: Duration::from_hours(1),
            ..kalcord_api_gateway::Config::default()
        };
        Self { seen, state: web::Data::new(AppState::new(config, deps)) }
    }

    /// The role ids the REST API acts with for `user` (GET /api/v1/meetings/{id} with their token).
    async fn roles_of(&mut self, user: u64) -> Vec<u64> {
        let app = actix_test::init_service(
            ActixApp::new().app_data(self.state.clone()).configure(kalcord_api_gateway::routes),
        )
        .await;
        let now = i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
            .unwrap();
        let token = self.state.token_key.issue(user, &[seed::GUILD_ID], now, 3600).0;
        let request = actix_test::TestRequest::get()
            .uri(&format!("/api/v1/meetings/{MEETING_ID}?guild_id={}", seed::GUILD_ID))
            .insert_header(("authorization", format!("Bearer {token}")));
        let response = actix_test::call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), 200);
        let actor = self.seen.recv().await.unwrap();
        assert_eq!(actor.user_id, user);
        actor.role_ids
    }
}

/// The real pipeline: the emulator's gateway → gateway-shard (in process) → JetStream → identity.
async fn start_gateway_shard(h: &Harness) -> tokio::task::JoinHandle<()> {
    let deps = Deps {
        bus: Arc::clone(&h.bus),
        cache: Some(Arc::clone(&h.cache)),
        common: Arc::new(h.common.clone()),
        instance: "gateway-shard-test".into(),
        started: Instant::now(),
        store: None,
    };
    let service = kalcord_gateway_shard::GatewayShard::build(kalcord_gateway_shard::Config::default(), deps)
        .await
        .expect("gateway-shard builds");
    let token = h.shutdown.clone();
    tokio::spawn(async move { service.run(token).await.expect("gateway-shard runs") })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn through_the_real_gateway_bot_added_removed_and_a_role_change_reach_identity() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start(1).await;
    let shard = start_gateway_shard(&h).await;
    let state = h.discord.state();
    // The initial GUILD_CREATEs of the two seeded guilds: one guide each (channel, owner's DM).
    eventually("the guides of the seeded guilds", || async { h.posts().len() == 2 }).await;

    // The bot is added to a new server: GUILD_CREATE → a setup guide in its system channel.
    const NEW_GUILD: u64 = 1_320_000_000_000_000_001;
    const NEW_CHANNEL: u64 = 1_320_000_000_000_000_201;
    let added = GuildSeed::new(NEW_GUILD, "Robotics club", UserSeed::new(1_320_000_000_000_000_300, "robo-owner"))
        .with_channel(ChannelSeed::text(NEW_CHANNEL, "general"))
        .with_system_channel(NEW_CHANNEL);
    state.add_guild(&added).unwrap();
    eventually("the new server's guide", || async { h.posts().iter().any(|post| post.channel_id == NEW_CHANNEL) })
        .await;

    // Removed: GUILD_DELETE → inactive, nothing more is posted there.
    state.remove_guild(NEW_GUILD).unwrap();
    eventually("the server turning inactive", || async {
        !guilds::is_active(h.store.connection(), db(NEW_GUILD)).await.unwrap()
    })
    .await;
    // Re-added: active again with no second guide.
    state.add_guild(&added).unwrap();
    eventually("the server turning active again", || async {
        guilds::is_active(h.store.connection(), db(NEW_GUILD)).await.unwrap()
    })
    .await;
    assert_eq!(h.posts().iter().filter(|post| post.channel_id == NEW_CHANNEL).count(), 1, "one guide only");

    // A member's roles change in Discord: the REST API acts with the new ones at once.
    let mut rest = RestApi::start(&h).await;
    assert!(rest.roles_of(seed::TEACHER_ID).await.contains(&seed::TEACHER_ROLE));
    state.remove_member_role(seed::GUILD_ID, seed::TEACHER_ID, seed::TEACHER_ROLE).unwrap();
    state.add_member_role(seed::GUILD_ID, seed::TEACHER_ID, seed::STUDENT_ROLE).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let roles = rest.roles_of(seed::TEACHER_ID).await;
        if roles.contains(&seed::STUDENT_ROLE) && !roles.contains(&seed::TEACHER_ROLE) {
            break;
        }
        assert!(Instant::now() < deadline, "the role change never reached the REST API: {roles:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    h.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(15), shard).await.expect("gateway-shard stops").unwrap();
    h.stop().await;
}
