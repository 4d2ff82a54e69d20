//! Identity replicas on real NATS JetStream, PostgreSQL and Redis, with the in-process Discord
//! and Kaltura emulators: gateway events are published as gateway-shard publishes them
//! (subject, headers, dedup id, raw `d`), or by gateway-shard itself, and the replicas consume
//! them from the shared durable consumer. The api-gateway's REST API runs in process to show
//! the member a request acts as.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{App as ActixApp, test as actix_test, web};
use kalcord_api_gateway::AppState;
use kalcord_bus::{BusExt as _, Event, Message, SharedBus};
use kalcord_cache::SharedCache;
use kalcord_config::Secret;
use kalcord_discord::gateway;
use kalcord_discord_emulator::{ChannelSeed, DiscordEmulator, EmulatorConfig, GuildSeed, UserSeed, seed};
use kalcord_identity::{Config, GATEWAY_CONSUMER, Identity};
use kalcord_kaltura_emulator as kaltura;
use kalcord_proto::Message as _;
use kalcord_proto::subject;
use kalcord_proto::v1::{
    Actor, GetMeetingRequest, Join, JoinReply, JoinRequest, Meeting, MeetingReply, RoleMappingReply,
    RoleMappingRequest, join_reply,
};
use kalcord_runtime::{CancellationToken, CommonConfig, Deps, Service as _};
use kalcord_store::Store;
use kalcord_test_util::distributed::DistributedEnv;
use kalcord_test_util::env::nats_url;
use serde_json::{Value, json};
use url::Url;

use super::common::{DEFAULT_PARTNER, DEFAULT_SECRET, audit_rows, nats_bus, redis_cache};

/// A guild without a system channel (the demo guild has `#general` for that).
pub const QUIET_GUILD: u64 = 1_310_000_000_000_000_001;
pub const QUIET_OWNER: u64 = 1_310_000_000_000_000_300;
pub const QUIET_CHANNEL: u64 = 1_310_000_000_000_000_201;
const MEETING_ID: &str = "0190f7a4-1c2b-7d3e-8f40-123456789abc";

pub struct Harness {
    pub bus: SharedBus,
    pub cache: SharedCache,
    pub common: CommonConfig,
    pub discord: DiscordEmulator,
    pub env: DistributedEnv,
    pub jetstream: async_nats::jetstream::Context,
    /// Kaltura, whose default partner every guild without its own uses.
    pub kaltura: kaltura::Emulator,
    pub shutdown: CancellationToken,
    pub store: Store,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// `replicas` identity services sharing NATS (one durable consumer), PostgreSQL and Redis.
    pub async fn start(replicas: usize) -> Self {
        kalcord_test_util::install_crypto();
        let quiet = GuildSeed::new(QUIET_GUILD, "Quiet club", UserSeed::new(QUIET_OWNER, "quiet-owner"))
            .with_channel(ChannelSeed::text(QUIET_CHANNEL, "chat"));
        let config = EmulatorConfig::default().with_guild(seed::demo_guild()).with_guild(quiet);
        let discord = DiscordEmulator::start(config).await.unwrap();
        let partner = kaltura::PartnerConfig::new(DEFAULT_PARTNER, DEFAULT_SECRET);
        let kaltura = kaltura::Emulator::start(kaltura::EmulatorConfig::default().with_partner(partner)).await.unwrap();
        let env = DistributedEnv::new(true).await.expect("PostgreSQL is running (`make services`)");
        let store = Store::connect(env.database_url().unwrap()).await.unwrap();
        store.migrate().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut common = CommonConfig::defaults();
        common.secrets.tenant_file = dir.path().join("tenant-secrets.toml");
        let application = discord.application();
        common.discord.api_base = Some(discord.api_authority());
        common.discord.application_id = application.id.parse().ok();
        common.discord.bot_token = Some(Secret::new(application.bot_token));
        let base = Url::parse(&kaltura.base_url()).unwrap();
        common.kaltura.partner_id = Some(DEFAULT_PARTNER);
        common.kaltura.admin_secret = Some(Secret::new(DEFAULT_SECRET));
        common.kaltura.service_url = base.clone();
        common.kaltura.kaf_url = Some(base);
        common.kaltura.timeout = Duration::from_secs(2);

        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();
        for replica in 0..replicas {
            let deps = Deps {
                bus: nats_bus(env.prefix()).await,
                cache: Some(redis_cache(env.prefix()).await),
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
            bus: nats_bus(env.prefix()).await,
            cache: redis_cache(env.prefix()).await,
            common,
            discord,
            env,
            jetstream: async_nats::jetstream::new(client),
            kaltura,
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
    pub async fn publish(&self, event: &str, session: &str, sequence: u64, d: &Value) {
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
    }

    /// Position of the last `event` (`GUILD_MEMBER_UPDATE`, ...) in the gateway stream, if any.
    pub async fn last_of(&self, event: &str) -> Option<u64> {
        let stream = format!("{}_{}", self.env.prefix(), gateway::STREAM);
        let subject = format!("{}.{}", self.env.prefix(), gateway::subject(event));
        let stream = self.jetstream.get_stream(&stream).await.ok()?;
        stream.get_last_raw_message_by_subject(&subject).await.ok().map(|message| message.sequence)
    }

    /// Waits until identity's consumer settled every event in the gateway stream (published by
    /// the test or by gateway-shard), redeliveries included.
    pub async fn settled(&self) {
        let stream = format!("{}_{}", self.env.prefix(), gateway::STREAM);
        for _ in 0..800 {
            if let Ok(stream) = self.jetstream.get_stream(&stream).await
                && let Ok(info) = stream.consumer_info(GATEWAY_CONSUMER).await
                && info.ack_floor.stream_sequence >= stream.cached_info().state.last_sequence
                && info.num_ack_pending == 0
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("identity did not settle the gateway events in time");
    }

    /// Messages the bot posted, in order.
    pub fn posts(&self) -> Vec<kalcord_discord_emulator::MessageRecord> {
        self.discord.state().messages()
    }

    pub async fn actions(&self) -> Vec<String> {
        audit_rows(&self.store).await.into_iter().map(|row| row.action).collect()
    }

    /// `identity.join` for `actor`; panics on a refusal.
    pub async fn join(&self, actor: &Actor, meeting_id: &str) -> Join {
        let request = JoinRequest { actor: Some(actor.clone()), meeting_id: meeting_id.to_owned() };
        let reply: JoinReply =
            self.bus.request_proto(subject::IDENTITY_JOIN, &request, Duration::from_secs(10)).await.unwrap();
        match reply.result {
            Some(join_reply::Result::Join(join)) => join,
            other => panic!("join refused: {other:?}"),
        }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        for task in self.tasks {
            tokio::time::timeout(Duration::from_secs(15), task).await.expect("stops in time").unwrap();
        }
        self.discord.stop().await;
        self.kaltura.stop().await;
        self.store.close().await.unwrap();
        self.env.cleanup().await.unwrap();
    }
}

pub fn actor(guild: u64, user: u64) -> Actor {
    Actor { guild_id: guild, user_id: user, ..Actor::default() }
}

/// A `GUILD_CREATE` for a guild the bot was just added to.
pub fn guild_create(guild: u64, name: &str, owner: u64, system_channel: Option<u64>) -> Value {
    json!({
        "id": guild.to_string(), "name": name, "owner_id": owner.to_string(),
        "system_channel_id": system_channel.map(|id| id.to_string()),
        "joined_at": chrono::Utc::now().to_rfc3339(), "large": false, "unavailable": false,
        "member_count": 5, "members": [], "channels": [], "roles": [], "features": [],
    })
}

/// The api-gateway's REST API in process, on the harness's bus and Redis, with a stand-in
/// meetings service that answers `meetings.get` and keeps the actor it was sent.
pub struct RestApi {
    seen: tokio::sync::mpsc::UnboundedReceiver<Actor>,
    state: web::Data<AppState>,
}

impl RestApi {
    pub async fn start(h: &Harness) -> Self {
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

    /// The role ids the REST API acts with for `user`.
    pub async fn roles_of(&mut self, user: u64) -> Vec<u64> {
        self.actor_of(user).await.role_ids
    }

    /// The member the REST API acts as for `user` in the demo guild (GET /api/v1/meetings/{id}
    /// with their token): roles and permissions from its member cache, or Discord on a miss.
    pub async fn actor_of(&mut self, user: u64) -> Actor {
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
        actor
    }
}

/// The real pipeline: the emulator's gateway → gateway-shard (in process) → JetStream → identity.
pub async fn start_gateway_shard(h: &Harness) -> tokio::task::JoinHandle<()> {
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
