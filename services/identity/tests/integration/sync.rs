//! `identity.sync` against the in-process Discord emulator: 10,000 seeded members read in pages
//! of 1000 (on PostgreSQL, NATS JetStream and Redis), counted by the meeting role a join would
//! give, stale mappings removed and audited, one sync per guild at a time (a lock that changed
//! hands is neither renewed nor released), and Discord's refusals explained.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kalcord_bus::{BusExt as _, MemoryBus, SharedBus};
use kalcord_cache::{Cache, CacheError, MemoryCache, SharedCache};
use kalcord_config::Secret;
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, GuildSeed, MemberSeed, RoleSeed, UserSeed, perms};
use kalcord_identity::{Config, Identity};
use kalcord_proto::subject;
use kalcord_proto::v1::{Actor, Error, SyncReply, SyncReport, SyncRequest, sync_reply};
use kalcord_runtime::{CancellationToken, CommonConfig, Deps, Service as _};
use kalcord_store::Store;
use kalcord_store::entity::MeetingRole;
use kalcord_store::repo::guilds;
use kalcord_store::repo::role_mappings::{self, NewRoleMapping};
use kalcord_test_util::distributed::DistributedEnv;

use super::common::{MANAGE_GUILD, audit_rows, db, nats_bus, redis_cache};

const GUILD: u64 = 1_300_000_000_000_000_001;
const OWNER: u64 = 1_300_000_000_000_100_000;
const ADMINS: u64 = 1_300_000_000_000_000_101;
const EVENTS: u64 = 1_300_000_000_000_000_102;
const TEACHERS: u64 = 1_300_000_000_000_000_103;
const HELPERS: u64 = 1_300_000_000_000_000_104;
const STUDENTS: u64 = 1_300_000_000_000_000_105;
const CLUB: u64 = 1_300_000_000_000_000_106;
/// Mapped in the store, but the guild has no such role (any more).
const DELETED: u64 = 1_300_000_000_000_000_199;

/// What the sync should report for a seeded guild.
#[derive(Debug, Default)]
struct Expected {
    attendees: u64,
    hosts: u64,
    humans: u64,
    moderators: u64,
}

/// A guild of `humans` members (the owner included) with a mix of roles, and what each would be.
fn guild(humans: u64) -> (GuildSeed, Expected) {
    let mut seed = GuildSeed::new(GUILD, "Sync school", UserSeed::new(OWNER, "owner"))
        .with_role(RoleSeed::new(ADMINS, "Admins", perms::ADMINISTRATOR).at(6))
        .with_role(RoleSeed::new(EVENTS, "Event staff", perms::MANAGE_EVENTS).at(5))
        .with_role(RoleSeed::new(TEACHERS, "Teachers", 0).at(4))
        .with_role(RoleSeed::new(HELPERS, "Helpers", 0).at(3))
        .with_role(RoleSeed::new(STUDENTS, "Students", 0).at(2))
        .with_role(RoleSeed::new(CLUB, "Chess club", 0).at(1));
    seed.everyone_permissions = Some(perms::VIEW_CHANNEL | perms::SEND_MESSAGES);
    let mut expected = Expected { hosts: 1, humans, ..Expected::default() };
    for n in 1..humans {
        // Mappings: Teachers host (1), Helpers moderator (2), Students attendee (5).
        let (roles, role): (&[u64], &str) = match n % 20 {
            0 => (&[ADMINS], "host"),
            1 => (&[EVENTS], "host"),
            2 | 3 => (&[TEACHERS], "host"),
            4..=6 => (&[HELPERS], "moderator"),
            7 => (&[TEACHERS, HELPERS], "moderator"),
            8 => (&[HELPERS, STUDENTS], "attendee"),
            9 => (&[EVENTS, STUDENTS], "host"),
            10..=14 => (&[CLUB], "attendee"),
            _ => (&[], "attendee"),
        };
        match role {
            "host" => expected.hosts += 1,
            "moderator" => expected.moderators += 1,
            _ => expected.attendees += 1,
        }
        let mut member = MemberSeed::new(UserSeed::new(OWNER + n, &format!("member{n}")));
        member.roles = roles.to_vec();
        seed = seed.with_member(member);
    }
    (seed, expected)
}

/// What identity runs on.
enum On {
    /// SQLite in memory, the in-process bus and this cache.
    Memory(SharedCache),
    /// PostgreSQL, NATS JetStream and Redis, isolated by a fresh database and prefix.
    Real,
}

struct Harness {
    bus: SharedBus,
    cache: SharedCache,
    discord: DiscordEmulator,
    env: Option<DistributedEnv>,
    store: Store,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// Identity with the bot of `emulator` (or no Discord application at all when `with_bot` is
    /// false), on SQLite, the in-process bus and the memory cache.
    async fn start(emulator: EmulatorConfig, with_bot: bool) -> Self {
        Self::start_on(emulator, with_bot, On::Memory(Arc::new(MemoryCache::new("sync", 10_000)))).await
    }

    async fn start_on(emulator: EmulatorConfig, with_bot: bool, on: On) -> Self {
        kalcord_test_util::install_crypto();
        let discord = DiscordEmulator::start(emulator).await.unwrap();
        let (bus, cache, env, store) = match on {
            On::Memory(cache) => {
                let bus: SharedBus = Arc::new(MemoryBus::new(""));
                (bus, cache, None, Store::connect("sqlite::memory:").await.unwrap())
            }
            On::Real => {
                let env = DistributedEnv::new(true).await.expect("PostgreSQL is running (`make services`)");
                let store = Store::connect(env.database_url().unwrap()).await.unwrap();
                (nats_bus(env.prefix()).await, redis_cache(env.prefix()).await, Some(env), store)
            }
        };
        store.migrate().await.unwrap();
        guilds::create(store.connection(), db(GUILD), "Sync school").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut common = CommonConfig::defaults();
        common.secrets.tenant_file = dir.path().join("tenant-secrets.toml");
        if with_bot {
            let application = discord.application();
            common.discord.api_base = Some(discord.api_authority());
            common.discord.application_id = application.id.parse().ok();
            common.discord.bot_token = Some(Secret::new(application.bot_token));
        }
        let deps = Deps {
            bus: Arc::clone(&bus),
            cache: Some(Arc::clone(&cache)),
            common: Arc::new(common),
            instance: "sync-test".into(),
            started: Instant::now(),
            store: Some(store.clone()),
        };
        let service = Identity::build(Config::default(), deps).await.unwrap();
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move { service.run(token).await.unwrap() });
        Self { bus, cache, discord, env, store, shutdown, task, _dir: dir }
    }

    async fn map(&self, role_id: u64, role: MeetingRole, priority: i32) {
        let new = NewRoleMapping { guild_id: db(GUILD), discord_role_id: db(role_id), meeting_role: role, priority };
        role_mappings::create(self.store.connection(), new).await.unwrap();
    }

    async fn sync(&self, actor: &Actor) -> Result<SyncReport, Error> {
        let request = SyncRequest { actor: Some(actor.clone()) };
        let started = Instant::now();
        let reply: SyncReply = loop {
            match self.bus.request_proto(subject::IDENTITY_SYNC, &request, Duration::from_secs(60)).await {
                Ok(reply) => break reply,
                Err(kalcord_bus::BusError::NoResponders { .. }) if started.elapsed() < Duration::from_secs(5) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(err) => panic!("identity.sync unanswered: {err}"),
            }
        };
        match reply.result.expect("a result") {
            sync_reply::Result::Report(report) => Ok(report),
            sync_reply::Result::Error(error) => Err(error),
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task).await.expect("stops in time").unwrap();
        self.discord.stop().await;
        if let Some(env) = self.env {
            self.store.close().await.unwrap();
            env.cleanup().await.unwrap();
        }
    }
}

fn manager(user: u64) -> Actor {
    Actor { guild_id: GUILD, user_id: user, permissions: MANAGE_GUILD, ..Actor::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_counts_ten_thousand_members_by_role_and_drops_stale_mappings() {
    let _trace = kalcord_test_util::trace_init();
    let (seed, expected) = guild(10_000);
    let harness = Harness::start_on(EmulatorConfig::default().with_guild(seed), true, On::Real).await;
    harness.map(TEACHERS, MeetingRole::Host, 1).await;
    harness.map(HELPERS, MeetingRole::Moderator, 2).await;
    harness.map(STUDENTS, MeetingRole::Attendee, 5).await;
    harness.map(DELETED, MeetingRole::Host, 9).await;

    let member = Actor { guild_id: GUILD, user_id: OWNER + 15, ..Actor::default() };
    let refused = harness.sync(&member).await.unwrap_err();
    assert_eq!(refused.code, "forbidden", "{refused:?}");
    assert!(refused.message.contains("Manage Server"), "{refused:?}");

    let report = harness.sync(&manager(OWNER + 15)).await.unwrap();
    assert_eq!(
        (report.members, report.humans, report.bots),
        (expected.humans + 1, expected.humans, 1),
        "every seeded member and the bot: {report:?}"
    );
    assert_eq!(
        (report.hosts, report.moderators, report.attendees),
        (expected.hosts, expected.moderators, expected.attendees),
        "{report:?}"
    );
    assert_eq!(report.pages, 11, "10,001 members in pages of 1000");
    assert_eq!(report.stale_mappings_removed, 1);
    let mut left: Vec<i64> = role_mappings::list_for_guild(harness.store.connection(), db(GUILD))
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.discord_role_id)
        .collect();
    left.sort_unstable();
    assert_eq!(left, [db(TEACHERS), db(HELPERS), db(STUDENTS)], "only the deleted role's mapping is gone");

    let rows = audit_rows(&harness.store).await;
    let unmap = rows.iter().find(|row| row.action == "role_mapping.unmap").expect("the removal is audited");
    assert_eq!(unmap.target.as_deref(), Some(format!("role:{DELETED}").as_str()));
    assert_eq!(unmap.details["reason"], "role_deleted");
    let sync = rows.iter().find(|row| row.action == "kaltura.sync").expect("the sync is audited");
    assert_eq!(sync.actor, format!("discord:{}", OWNER + 15));
    assert_eq!(sync.guild_id, Some(db(GUILD)));
    assert_eq!(sync.details["members"], expected.humans + 1);
    assert_eq!(sync.details["hosts"], expected.hosts);
    assert_eq!(sync.details["stale_mappings_removed"], 1);

    // Two at once: one runs, the other is told a sync is already running. The first member page
    // is slowed down so the first sync surely holds the lock when the second arrives.
    let slow = kalcord_discord_emulator::Fault::next(kalcord_discord_emulator::FaultAction::Delay { millis: 1_500 })
        .on("GET", &format!("/guilds/{GUILD}/members"));
    harness.discord.state().add_fault(slow);
    let (owner, other) = (manager(OWNER), manager(OWNER + 15));
    let (first, second) = tokio::join!(harness.sync(&owner), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        harness.sync(&other).await
    });
    let (done, busy) = match (first, second) {
        (Ok(report), Err(error)) | (Err(error), Ok(report)) => (report, error),
        other => panic!("exactly one of two concurrent syncs runs: {other:?}"),
    };
    assert_eq!((done.members, done.stale_mappings_removed), (expected.humans + 1, 0));
    assert_eq!(busy.code, "already_running", "{busy:?}");
    assert!(busy.message.contains("already running"), "{busy:?}");
    // The lock is released at the end: the next sync runs.
    assert!(harness.sync(&manager(OWNER)).await.is_ok(), "the lock is released after a sync");
    harness.stop().await;
}

#[tokio::test]
async fn a_sync_held_by_another_replica_is_refused_until_it_ends() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(EmulatorConfig::default().with_guild(guild(5).0), true).await;
    let key = format!("identity:sync:{GUILD}");
    let held = harness.cache.set_if_absent(&key, "other-replica".into(), Duration::from_mins(3)).await.unwrap();
    assert!(held);
    let busy = harness.sync(&manager(OWNER)).await.unwrap_err();
    assert_eq!(busy.code, "already_running", "{busy:?}");
    assert!(harness.cache.get(&key).await.unwrap().is_some(), "another replica's lock is left alone");
    harness.cache.delete(&key).await.unwrap();
    let report = harness.sync(&manager(OWNER)).await.unwrap();
    assert_eq!((report.members, report.pages), (6, 1));
    harness.stop().await;
}

/// The memory cache, except that the guild's sync lock changes hands once it is taken, as if
/// it expired and another replica's sync took it: just before identity's next write of it, or
/// just after its next read (the worst moment for a check followed by a write).
#[derive(Debug)]
struct LockTakenOver {
    armed: AtomicBool,
    inner: MemoryCache,
}

const OTHER_REPLICA: &[u8] = b"other-replica";

impl LockTakenOver {
    fn is_lock(key: &str) -> bool {
        key == format!("identity:sync:{GUILD}")
    }

    async fn take_over(&self, key: &str) -> Result<(), CacheError> {
        if Self::is_lock(key) && self.armed.swap(false, Ordering::SeqCst) {
            self.inner.set(key, Bytes::from_static(OTHER_REPLICA), Duration::from_mins(3)).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Cache for LockTakenOver {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, CacheError> {
        let value = self.inner.get(key).await?;
        self.take_over(key).await?;
        Ok(value)
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<(), CacheError> {
        self.take_over(key).await?;
        self.inner.set(key, value, ttl).await
    }

    async fn set_if_absent(&self, key: &str, value: Bytes, ttl: Duration) -> Result<bool, CacheError> {
        let taken = self.inner.set_if_absent(key, value, ttl).await?;
        if taken && Self::is_lock(key) {
            self.armed.store(true, Ordering::SeqCst);
        }
        Ok(taken)
    }

    async fn increment(&self, key: &str, ttl: Duration) -> Result<u64, CacheError> {
        self.inner.increment(key, ttl).await
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        self.take_over(key).await?;
        self.inner.delete(key).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: &[u8],
        value: Bytes,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        self.take_over(key).await?;
        self.inner.compare_and_set(key, expected, value, ttl).await
    }

    async fn compare_and_delete(&self, key: &str, expected: &[u8]) -> Result<bool, CacheError> {
        self.take_over(key).await?;
        self.inner.compare_and_delete(key, expected).await
    }

    async fn check(&self) -> Result<(), CacheError> {
        self.inner.check().await
    }
}

#[tokio::test]
async fn a_sync_whose_lock_changed_hands_leaves_the_new_holder_s_lock_alone() {
    let _trace = kalcord_test_util::trace_init();
    let cache = Arc::new(LockTakenOver { armed: AtomicBool::new(false), inner: MemoryCache::new("sync", 10_000) });
    let shared: SharedCache = Arc::clone(&cache) as SharedCache;
    // Two member pages: the lock is renewed after the first, then released.
    let emulator = EmulatorConfig::default().with_guild(guild(1_500).0);
    let harness = Harness::start_on(emulator, true, On::Memory(shared)).await;
    let report = harness.sync(&manager(OWNER)).await.unwrap();
    assert_eq!((report.members, report.pages), (1_501, 2));
    assert!(!cache.armed.load(Ordering::SeqCst), "the lock changed hands during the sync");
    let key = format!("identity:sync:{GUILD}");
    assert_eq!(
        harness.cache.get(&key).await.unwrap().as_deref(),
        Some(OTHER_REPLICA),
        "the other sync's lock was neither overwritten by a renewal nor released"
    );
    harness.stop().await;
}

#[tokio::test]
async fn without_the_members_intent_the_admin_learns_how_to_enable_it() {
    let _trace = kalcord_test_util::trace_init();
    let mut config = EmulatorConfig::default().with_guild(guild(5).0);
    config.application.privileged_intents = 0;
    let harness = Harness::start(config, true).await;
    let error = harness.sync(&manager(OWNER)).await.unwrap_err();
    assert_eq!(error.code, "members_intent", "{error:?}");
    assert!(error.message.contains("Server Members Intent") && error.message.contains("Developer Portal"), "{error:?}");
    assert!(
        audit_rows(&harness.store).await.iter().all(|row| row.action != "kaltura.sync"),
        "a failed sync is not audited as one"
    );
    // The lock is released after a failure too.
    let key = format!("identity:sync:{GUILD}");
    assert!(harness.cache.get(&key).await.unwrap().is_none());
    harness.stop().await;
}

#[tokio::test]
async fn without_a_bot_token_the_sync_says_what_to_configure() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(EmulatorConfig::default().with_guild(guild(5).0), false).await;
    let error = harness.sync(&manager(OWNER)).await.unwrap_err();
    assert_eq!(error.code, "not_configured", "{error:?}");
    assert!(error.message.contains("discord.bot_token") && error.message.contains("discord.application_id"));
    harness.stop().await;
}
