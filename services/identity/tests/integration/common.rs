//! A running identity service and helpers to talk to it.

use std::sync::Arc;
use std::time::Duration;

use kalcord_bus::{MemoryBus, Message, SharedBus};
use kalcord_cache::{MemoryCache, RedisCache, SharedCache};
use kalcord_config::{Secret, SecretsBackend};
use kalcord_identity::{Config, Identity};
use kalcord_kaltura::{Client, ClientConfig, RoomKind, RoomSpec, Schedule};
use kalcord_kaltura_emulator::{Emulator, EmulatorConfig, EmulatorState, PartnerConfig};
use kalcord_proto::v1::{Actor, Join, JoinReply, JoinRequest, join_reply};
use kalcord_runtime::{CancellationToken, CommonConfig, Deps, Service as _};
use kalcord_store::Store;
use kalcord_store::entity::{MeetingKind, MeetingStatus};
use kalcord_store::repo::{guilds, meetings};
use sea_orm::{IntoActiveModel as _, Set};
use url::Url;

pub const DEFAULT_PARTNER: i64 = 1_100_001;
pub const DEFAULT_SECRET: &str = "default-admin-secret-0123456789ab";
pub const OTHER_PARTNER: i64 = 2_200_002;
pub const OTHER_SECRET: &str = "other-admin-secret-0123456789abcd";
pub const GUILD_A: u64 = 100_000_000_000_000_001;
pub const GUILD_B: u64 = 100_000_000_000_000_002;

pub const ADMINISTRATOR: u64 = 1 << 3;
pub const MANAGE_GUILD: u64 = 1 << 5;
pub const MANAGE_EVENTS: u64 = 1 << 33;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Standalone,
    Distributed,
}

pub struct Harness {
    pub bus: SharedBus,
    pub emulator: Emulator,
    pub store: Store,
    pub tenant_file: std::path::PathBuf,
    pub vault_path: String,
    shutdown: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub async fn new() -> Self {
        Self::start(true).await
    }

    /// `with_default`: whether `kaltura.*` names a default partner.
    pub async fn start(with_default: bool) -> Self {
        Self::start_with(with_default, Mode::Standalone).await
    }

    /// Two replicas sharing Redis (cache) and OpenBao (tenant secrets), as in distributed mode.
    pub async fn distributed() -> Self {
        Self::start_with(true, Mode::Distributed).await
    }

    async fn start_with(with_default: bool, mode: Mode) -> Self {
        kalcord_test_util::install_crypto();
        let emulator = Emulator::start(
            EmulatorConfig::default()
                .with_partner(PartnerConfig::new(DEFAULT_PARTNER, DEFAULT_SECRET))
                .with_partner(PartnerConfig::new(OTHER_PARTNER, OTHER_SECRET)),
        )
        .await
        .unwrap();
        let base = Url::parse(&emulator.base_url()).unwrap();
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        for guild in [GUILD_A, GUILD_B] {
            guilds::create(store.connection(), db(guild), "Test guild").await.unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let tenant_file = dir.path().join("tenant-secrets.toml");
        let suffix = kalcord_test_util::env::unique_suffix();

        let mut common = CommonConfig::defaults();
        if with_default {
            common.kaltura.partner_id = Some(DEFAULT_PARTNER);
            common.kaltura.admin_secret = Some(Secret::new(DEFAULT_SECRET));
        }
        common.kaltura.service_url = base.clone();
        common.kaltura.kaf_url = Some(base);
        common.kaltura.timeout = Duration::from_secs(2);
        common.secrets.tenant_file.clone_from(&tenant_file);
        let vault_path = format!("kalcord-test-{suffix}");
        if mode == Mode::Distributed {
            common.secrets.backend = SecretsBackend::Vault;
            common.secrets.vault.addr = kalcord_test_util::env::vault_addr().parse().unwrap();
            common.secrets.vault.path.clone_from(&vault_path);
            common.secrets.vault.token = Some(Secret::new(kalcord_test_util::env::vault_token()));
        }

        let bus: SharedBus = Arc::new(MemoryBus::new(""));
        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();
        let replicas = if mode == Mode::Distributed { 2 } else { 1 };
        for replica in 0..replicas {
            let cache: SharedCache = match mode {
                Mode::Standalone => Arc::new(MemoryCache::new("test", 10_000)),
                Mode::Distributed => Arc::new(
                    RedisCache::connect(&kalcord_test_util::env::redis_url(), &format!("kalcord-test-{suffix}"))
                        .await
                        .unwrap(),
                ),
            };
            let deps = Deps {
                bus: Arc::clone(&bus),
                cache: Some(cache),
                common: Arc::new(common.clone()),
                instance: format!("test-{replica}").into(),
                started: std::time::Instant::now(),
                store: Some(store.clone()),
            };
            let service = Identity::build(Config::default(), deps).await.unwrap();
            let token = shutdown.clone();
            tasks.push(tokio::spawn(async move { service.run(token).await.unwrap() }));
        }
        let harness = Self { bus, emulator, store, tenant_file, vault_path, shutdown, tasks, _dir: dir };
        harness.wait_serving().await;
        harness
    }

    async fn wait_serving(&self) {
        for _ in 0..100 {
            let ok = self
                .bus
                .request(kalcord_proto::subject::IDENTITY_TENANT, Message::new(Vec::new()), Duration::from_secs(1))
                .await
                .is_ok();
            if ok {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("identity never served");
    }

    pub fn state(&self) -> EmulatorState {
        self.emulator.state()
    }

    /// Sends `request` on `subject` and decodes the answer as `R`.
    pub async fn ask<R: kalcord_proto::Message + Default>(
        &self,
        subject: &str,
        request: &impl kalcord_proto::Message,
    ) -> R {
        self.ask_raw(subject, request.encode_to_vec()).await
    }

    pub async fn ask_raw<R: kalcord_proto::Message + Default>(&self, subject: &str, payload: Vec<u8>) -> R {
        let reply = self.bus.request(subject, Message::new(payload), Duration::from_secs(10)).await.unwrap();
        R::decode(reply.payload.as_ref()).unwrap()
    }

    pub async fn join(&self, actor: &Actor, meeting_id: &str) -> Result<Join, kalcord_proto::v1::Error> {
        let request = JoinRequest { actor: Some(actor.clone()), meeting_id: meeting_id.to_owned() };
        let reply: JoinReply = self.ask(kalcord_proto::subject::IDENTITY_JOIN, &request).await;
        match reply.result.unwrap() {
            join_reply::Result::Join(join) => Ok(join),
            join_reply::Result::Error(error) => Err(error),
        }
    }

    /// A client of `partner` on the emulator (to create rooms like the meetings service does).
    pub fn client(&self, partner: i64, secret: &str) -> Client {
        client(&self.emulator, partner, secret)
    }

    /// A meeting of `guild` in `status` whose room exists on `client`'s partner; returns its id.
    pub async fn meeting(&self, client: &Client, guild: u64, status: MeetingStatus, scheduled: bool) -> String {
        meeting(&self.store, client, guild, status, scheduled).await
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        for task in self.tasks {
            tokio::time::timeout(Duration::from_secs(10), task).await.expect("stops in time").unwrap();
        }
        self.emulator.stop().await;
    }
}

/// A client of `partner` on `emulator` (to create rooms like the meetings service does).
pub fn client(emulator: &Emulator, partner: i64, secret: &str) -> Client {
    let base: Url = emulator.base_url().parse().unwrap();
    let mut config = ClientConfig::new(partner, Secret::new(secret), base.clone());
    config.kaf_url = Some(base);
    Client::new(config).unwrap()
}

/// A meeting of `guild` in `status` whose room exists on `client`'s partner; returns its id.
pub async fn meeting(store: &Store, client: &Client, guild: u64, status: MeetingStatus, scheduled: bool) -> String {
    let now =
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap();
    let spec = RoomSpec {
        description: None,
        kind: RoomKind::VirtualClassroom,
        name: "Weekly Sync".into(),
        owner_id: None,
        reference_id: "ref".into(),
        schedule: scheduled.then_some(Schedule { start: now - 60, end: now + 3600 }),
        auto_record: false,
    };
    let room = client.create_room(&spec).await.unwrap();
    let new = meetings::NewMeeting::new(db(guild), MeetingKind::VirtualClassroom, "Weekly Sync", 1);
    let conn = store.connection();
    let row = meetings::create(conn, new).await.unwrap();
    let mut changes = row.into_active_model();
    changes.kaltura_resource_id = Set(Some(room.resource.id.to_string()));
    changes.kaltura_event_id = Set(room.event.as_ref().map(|event| event.id.to_string()));
    let row = meetings::update(conn, changes).await.unwrap();
    let row =
        if status == MeetingStatus::Scheduled { row } else { meetings::set_status(conn, row, status).await.unwrap() };
    row.id.to_string()
}

/// The bus on the local NATS JetStream, isolated by `prefix`.
pub async fn nats_bus(prefix: &str) -> SharedBus {
    let config = kalcord_bus::BusConfig {
        backend: kalcord_bus::BusBackend::Nats,
        connect_timeout: Duration::from_secs(5),
        prefix: prefix.to_owned(),
        request_timeout: Duration::from_secs(2),
        stream_replicas: 1,
        token: None,
        url: kalcord_test_util::env::nats_url().parse().unwrap(),
    };
    kalcord_bus::connect(&config, "identity-test").await.expect("NATS is running (`make services`)")
}

/// The cache on the local Redis, isolated by `prefix`.
pub async fn redis_cache(prefix: &str) -> SharedCache {
    let cache = RedisCache::connect(&kalcord_test_util::env::redis_url(), prefix).await;
    Arc::new(cache.expect("Redis is running (`make services`)"))
}

pub fn db(id: u64) -> i64 {
    i64::try_from(id).unwrap()
}

pub fn member(guild: u64, user: u64) -> Actor {
    Actor {
        guild_id: guild,
        user_id: user,
        display_name: format!("Member {user}"),
        username: format!("member{user}"),
        ..Actor::default()
    }
}

/// Opens a launch URL on the emulator's KAF host; the status code.
pub async fn launch(url: &str) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

/// The KS of a launch URL.
pub fn ks_of(url: &str) -> String {
    let url = Url::parse(url).unwrap();
    url.query_pairs().find(|(name, _)| name == "ks").map(|(_, value)| value.into_owned()).unwrap()
}

pub async fn audit_rows(store: &Store) -> Vec<kalcord_store::entity::audit_log::Model> {
    use sea_orm::{EntityTrait as _, QueryOrder as _};
    kalcord_store::entity::audit_log::Entity::find()
        .order_by_asc(kalcord_store::entity::audit_log::Column::Seq)
        .all(store.connection())
        .await
        .unwrap()
}
