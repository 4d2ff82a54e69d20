//! A running notifications service (in-process or as a process), and helpers to publish
//! meeting events and read what reached Discord.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kalcord_bus::{BusBackend, BusConfig, Event, Message, SharedBus};
use kalcord_cache::{RedisCache, SharedCache};
use kalcord_config::Secret;
use kalcord_discord_emulator::{
    BucketLimit, DiscordEmulator, EmulatorConfig, MessageAction, MessageRecord, RouteLimit, seed,
};
use kalcord_notifications::{Config, MEETING_EVENTS_CONSUMER, Notifications};
use kalcord_proto::Message as _;
use kalcord_proto::v1::{Meeting, MeetingEvent};
use kalcord_runtime::{CancellationToken, CommonConfig, Deps, Service as _};
use kalcord_store::Store;
use kalcord_store::repo::guilds;
use kalcord_test_util::distributed::DistributedEnv;
use kalcord_test_util::env::{nats_url, redis_url};
use sea_orm::{IntoActiveModel as _, Set};

/// Stream of meeting events.
pub const STREAM: &str = "MEETINGS_EVENTS";

pub struct Harness {
    pub bus: SharedBus,
    pub discord: DiscordEmulator,
    pub env: DistributedEnv,
    jetstream: async_nats::jetstream::Context,
    last_sequence: AtomicU64,
    services: Vec<(CancellationToken, tokio::task::JoinHandle<()>)>,
    pub store: Store,
    /// `discord.public_url` of the in-process service.
    pub public_url: Option<String>,
}

impl Harness {
    /// The emulator (demo guild; channel posts limited only by the global 50/s), a fresh
    /// database with the demo guild posting to `#general`, and the stream; no service yet.
    pub async fn new() -> Self {
        // NOTE: the bursts go to one channel; Discord's 5 per 5 s per channel would make these
        // tests minutes long without telling more (the rate-limit test uses a real-shaped limit).
        Self::with_message_limit(BucketLimit::new(1_000, Duration::from_secs(1))).await
    }

    /// The same, with `limit` on the channel's messages.
    pub async fn with_message_limit(limit: BucketLimit) -> Self {
        kalcord_test_util::install_crypto();
        let mut config = EmulatorConfig::default().with_guild(seed::demo_guild());
        config.rate_limits.routes.push(RouteLimit::new("POST", "/channels/{channel_id}/messages", limit));
        let discord = DiscordEmulator::start(config).await.unwrap();
        let env = DistributedEnv::new(true).await.unwrap();
        let database = env.vars().into_iter().find(|(name, _)| name == "KALCORD_STORE_URL").unwrap().1;
        let store = Store::connect(&database).await.unwrap();
        store.migrate().await.unwrap();
        let bus = bus(env.prefix()).await;
        let stream = kalcord_bus::spec::streams().into_iter().find(|stream| stream.name == STREAM).unwrap();
        bus.ensure_stream(&stream).await.unwrap();
        let client = async_nats::connect(nats_url()).await.unwrap();
        let harness = Self {
            bus,
            discord,
            env,
            jetstream: async_nats::jetstream::new(client),
            last_sequence: AtomicU64::new(0),
            services: Vec::new(),
            store,
            public_url: None,
        };
        harness.guild(seed::GUILD_ID, Some(seed::GENERAL_CHANNEL)).await;
        harness
    }

    /// Stores a guild posting to `channel` (or nowhere).
    pub async fn guild(&self, guild: u64, channel: Option<u64>) {
        let conn = self.store.connection();
        let id = db(guild);
        let row = match guilds::get(conn, id).await.unwrap() {
            Some(row) => row,
            None => guilds::create(conn, id, "Guild").await.unwrap(),
        };
        let mut changes = row.into_active_model();
        changes.notification_channel_id = Set(channel.map(db));
        guilds::update(conn, changes).await.unwrap();
    }

    /// The service's configuration in tests: quick retries.
    pub fn config() -> Config {
        Config {
            ack_wait: Duration::from_secs(3),
            retry_delay: Duration::from_millis(100),
            max_retry_delay: Duration::from_millis(500),
            ..Config::default()
        }
    }

    /// The shared configuration pointing at the emulator.
    pub fn common(&self) -> CommonConfig {
        let mut common = CommonConfig::defaults();
        let application = self.discord.application();
        common.discord.api_base = Some(self.discord.api_authority());
        common.discord.application_id = application.id.parse().ok();
        common.discord.bot_token = Some(Secret::new(application.bot_token));
        common.discord.public_url.clone_from(&self.public_url);
        common
    }

    /// Calls to the emulator as the bot (to set a scene the way an earlier post would have).
    pub fn egress(&self) -> kalcord_discord::egress::Egress {
        let config = self.common().discord.egress(Duration::from_secs(5)).unwrap();
        kalcord_discord::egress::Egress::new(config, Arc::new(kalcord_cache::MemoryCache::new("test", 100)))
    }

    /// Runs the service in this process (again for each further replica).
    pub async fn start(&mut self) {
        let deps = Deps {
            bus: bus(self.env.prefix()).await,
            cache: Some(cache(self.env.prefix()).await),
            common: Arc::new(self.common()),
            instance: "notifications-test".into(),
            started: Instant::now(),
            store: Some(self.store.clone()),
        };
        let service = Notifications::build(Self::config(), deps).await.unwrap();
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        self.services.push((shutdown, tokio::spawn(async move { service.run(token).await.unwrap() })));
    }

    /// `KALCORD_*` variables to run the `kalcord-notifications` binary against this harness.
    pub fn vars(&self) -> Vec<(String, String)> {
        let application = self.discord.application();
        let mut vars = self.env.vars();
        vars.extend(
            [
                ("KALCORD_DISCORD_API_BASE", self.discord.api_authority()),
                ("KALCORD_DISCORD_APPLICATION_ID", application.id),
                ("KALCORD_DISCORD_BOT_TOKEN", application.bot_token),
                ("KALCORD_NOTIFICATIONS_ACK_WAIT", "3s".to_owned()),
                ("KALCORD_NOTIFICATIONS_RETRY_DELAY", "100ms".to_owned()),
                ("KALCORD_NOTIFICATIONS_MAX_RETRY_DELAY", "500ms".to_owned()),
            ]
            .map(|(name, value)| (name.to_owned(), value)),
        );
        vars
    }

    /// Publishes `event` as the meetings relay does (`meetings.events.<kind>`, the event id as
    /// dedup id); `again` stores a second copy (a redelivery beyond the duplicate window).
    pub async fn publish(&self, event: &MeetingEvent, again: bool) {
        let dedup_id = if again { format!("{}:again", event.event_id) } else { event.event_id.clone() };
        let event = Event {
            subject: format!("meetings.events.{}", event.kind),
            dedup_id,
            message: Message::new(event.encode_to_vec()),
        };
        let ack = self.bus.publish(event).await.unwrap();
        assert!(!ack.duplicate, "each test event is new");
        self.last_sequence.fetch_max(ack.sequence, Ordering::SeqCst);
    }

    /// Waits until every published event was acknowledged by the service's consumer.
    pub async fn settled(&self, timeout: Duration) {
        let stream = format!("{}_{STREAM}", self.env.prefix());
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(stream) = self.jetstream.get_stream(&stream).await
                && let Ok(info) = stream.consumer_info(MEETING_EVENTS_CONSUMER).await
                && info.ack_floor.stream_sequence >= self.last_sequence.load(Ordering::SeqCst)
                && info.num_ack_pending == 0
                && info.num_pending == 0
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the meeting events were not all settled in {timeout:?}");
    }

    /// Messages the bot created, in order.
    pub fn posts(&self) -> Vec<MessageRecord> {
        self.discord.state().messages().into_iter().filter(|record| record.action == MessageAction::Created).collect()
    }

    /// Stops the in-process service (gracefully) and everything else.
    pub async fn stop(mut self) {
        for (shutdown, task) in self.services.drain(..) {
            shutdown.cancel();
            tokio::time::timeout(Duration::from_secs(15), task).await.expect("stops in time").unwrap();
        }
        self.discord.stop().await;
        self.store.close().await.unwrap();
        self.env.cleanup().await.unwrap();
    }
}

/// A meeting event of `kind` about meeting number `n` of `guild` (a fresh event id).
pub fn event(kind: &str, guild: u64, n: u32, fields: &[&str]) -> MeetingEvent {
    MeetingEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        kind: kind.to_owned(),
        meeting: Some(Meeting {
            id: format!("00000000-0000-7000-8000-{n:012}"),
            guild_id: guild,
            title: format!("Meeting {n}"),
            scheduled_start_unix_ms: 1_900_000_000_000,
            actual_start_unix_ms: 1_900_000_000_000,
            actual_end_unix_ms: 1_900_000_000_000 + 45 * 60_000,
            ..Meeting::default()
        }),
        occurred_at_unix_ms: 1_900_000_000_000,
        changed_fields: fields.iter().map(|field| (*field).to_owned()).collect(),
        ..MeetingEvent::default()
    }
}

/// The embed title of a post.
pub fn title(record: &MessageRecord) -> String {
    record.embeds[0]["title"].as_str().unwrap_or_default().to_owned()
}

pub fn db(id: u64) -> i64 {
    i64::try_from(id).unwrap()
}

pub async fn bus(prefix: &str) -> SharedBus {
    let config = BusConfig {
        backend: BusBackend::Nats,
        connect_timeout: Duration::from_secs(5),
        prefix: prefix.to_owned(),
        request_timeout: Duration::from_secs(2),
        stream_replicas: 1,
        token: None,
        url: nats_url().parse().unwrap(),
    };
    kalcord_bus::connect(&config, "notifications-test").await.expect("NATS is running (`make services`)")
}

async fn cache(prefix: &str) -> SharedCache {
    Arc::new(RedisCache::connect(&redis_url(), prefix).await.expect("Redis is running (`make services`)"))
}
