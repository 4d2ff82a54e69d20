//! `/kaltura sync` benchmark (`make bench`): 100,000 members read through `identity.sync`.
//!
//! The identity service runs in this process (in-process bus, SQLite in memory, memory cache)
//! with the bot of the in-process Discord emulator, whose rate limits are Discord's defaults
//! (the bot's 50 requests per second, 50 per second on the member list route). A guild of
//! 100,000 members (and the bot) with a mix of mapped roles is seeded, then one sync reads it
//! in pages of 1000 and counts it. Prints the seeding time, the sync's wall time and Discord's
//! answers; fails over 30 s, on wrong counts, or when Discord refused a request (429s are waited out and
//! counted).

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kalcord_bus::{BusExt as _, MemoryBus, SharedBus};
use kalcord_cache::{MemoryCache, SharedCache};
use kalcord_config::Secret;
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, GuildSeed, MemberSeed, RoleSeed, UserSeed, perms};
use kalcord_identity::{Config, Identity};
use kalcord_proto::subject;
use kalcord_proto::v1::{Actor, SyncReply, SyncRequest, sync_reply};
use kalcord_runtime::{CancellationToken, CommonConfig, Deps, Service as _};
use kalcord_store::Store;
use kalcord_store::entity::MeetingRole;
use kalcord_store::repo::guilds;
use kalcord_store::repo::role_mappings::{self, NewRoleMapping};

const MEMBERS: u64 = 100_000;
const TARGET: Duration = Duration::from_secs(30);
const GUILD: u64 = 1_400_000_000_000_000_001;
const OWNER: u64 = 1_400_000_000_000_100_000;
const EVENTS: u64 = 1_400_000_000_000_000_101;
const TEACHERS: u64 = 1_400_000_000_000_000_102;
const HELPERS: u64 = 1_400_000_000_000_000_103;
/// `Manage Server`.
const MANAGE_GUILD: u64 = 1 << 5;

/// The guild: the owner and `MEMBERS - 1` others, 1% event staff, 4% teachers (mapped host), 15%
/// helpers (mapped moderator); the hosts and moderators a sync should count.
fn guild() -> (GuildSeed, u64, u64) {
    let mut seed = GuildSeed::new(GUILD, "Big school", UserSeed::new(OWNER, "owner"))
        .with_role(RoleSeed::new(EVENTS, "Event staff", perms::MANAGE_EVENTS).at(3))
        .with_role(RoleSeed::new(TEACHERS, "Teachers", 0).at(2))
        .with_role(RoleSeed::new(HELPERS, "Helpers", 0).at(1));
    seed.everyone_permissions = Some(perms::VIEW_CHANNEL | perms::SEND_MESSAGES);
    let (mut hosts, mut moderators) = (1, 0);
    seed.members.reserve(usize::try_from(MEMBERS).unwrap());
    for n in 1..MEMBERS {
        let mut member = MemberSeed::new(UserSeed::new(OWNER + n, &format!("member{n}")));
        match n % 100 {
            0 => {
                member.roles.push(EVENTS);
                hosts += 1;
            }
            1..=4 => {
                member.roles.push(TEACHERS);
                hosts += 1;
            }
            5..=19 => {
                member.roles.push(HELPERS);
                moderators += 1;
            }
            _ => {}
        }
        seed.members.push(member);
    }
    (seed, hosts, moderators)
}

fn main() {
    kalcord_test_util::install_crypto();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut out = std::io::stdout();
        let (seed, hosts, moderators) = guild();
        let seeding = Instant::now();
        let discord = DiscordEmulator::start(EmulatorConfig::default().with_guild(seed)).await.unwrap();
        let seeded_in = seeding.elapsed();
        let application = discord.application();

        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        guilds::create(store.connection(), i64::try_from(GUILD).unwrap(), "Big school").await.unwrap();
        for (role, meeting_role) in [(TEACHERS, MeetingRole::Host), (HELPERS, MeetingRole::Moderator)] {
            let new = NewRoleMapping {
                guild_id: i64::try_from(GUILD).unwrap(),
                discord_role_id: i64::try_from(role).unwrap(),
                meeting_role,
                priority: 0,
            };
            role_mappings::create(store.connection(), new).await.unwrap();
        }
        let data = tempfile::tempdir().unwrap();
        let mut common = CommonConfig::defaults();
        common.secrets.tenant_file = data.path().join("tenant-secrets.toml");
        common.discord.api_base = Some(discord.api_authority());
        common.discord.application_id = application.id.parse().ok();
        common.discord.bot_token = Some(Secret::new(application.bot_token));
        let bus: SharedBus = Arc::new(MemoryBus::new(""));
        let cache: SharedCache = Arc::new(MemoryCache::new("bench", 10_000));
        let deps = Deps {
            bus: Arc::clone(&bus),
            cache: Some(cache),
            common: Arc::new(common),
            instance: "bench".into(),
            started: Instant::now(),
            store: Some(store.clone()),
        };
        let identity = Identity::build(Config::default(), deps).await.unwrap();
        let shutdown = CancellationToken::new();
        let service = tokio::spawn(identity.run(shutdown.clone()));
        // NOTE: the service subscribes as it starts; wait for it with a cheap request.
        while bus
            .request(subject::IDENTITY_TENANT, kalcord_bus::Message::new(Vec::new()), Duration::from_secs(1))
            .await
            .is_err()
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        let actor = Actor { guild_id: GUILD, user_id: OWNER, permissions: MANAGE_GUILD, ..Actor::default() };
        let started = Instant::now();
        let reply: SyncReply = bus
            .request_proto(subject::IDENTITY_SYNC, &SyncRequest { actor: Some(actor) }, Duration::from_secs(120))
            .await
            .expect("identity.sync answers");
        let elapsed = started.elapsed();
        let report = match reply.result {
            Some(sync_reply::Result::Report(report)) => report,
            other => panic!("the sync failed: {other:?}"),
        };
        let requests = discord.state().requests();
        let limited = requests.iter().filter(|request| request.status == 429).count();
        let failed = requests.iter().filter(|request| !matches!(request.status, 200 | 429)).count();
        writeln!(
            out,
            "sync (identity.sync, {} members, emulator default rate limits): {elapsed:.2?} wall, {} ms reported, \
             {} pages, {} Discord requests ({limited} answered 429); seeding the emulator took {seeded_in:.2?}",
            report.members,
            report.elapsed_ms,
            report.pages,
            requests.len(),
        )
        .unwrap();
        assert_eq!((report.members, report.humans, report.bots), (MEMBERS + 1, MEMBERS, 1), "{report:?}");
        assert_eq!((report.hosts, report.moderators), (hosts, moderators), "{report:?}");
        assert_eq!(report.attendees, MEMBERS - hosts - moderators, "{report:?}");
        assert_eq!(report.pages, 101, "{report:?}");
        assert_eq!(failed, 0, "Discord refused no request");
        assert!(elapsed < TARGET, "the sync took {elapsed:?}, over the {TARGET:?} target");

        shutdown.cancel();
        service.await.unwrap().unwrap();
        discord.stop().await;
    });
}
