//! `/kaltura sync` of a large server: identity pages through the members within Discord's rate
//! limits and counts them by meeting role.

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

use super::Ctx;
use crate::report::{Section, thousands};

const TARGET: Duration = Duration::from_secs(30);
const GUILD: u64 = 1_400_000_000_000_000_001;
const OWNER: u64 = 1_400_000_000_000_100_000;
const EVENTS: u64 = 1_400_000_000_000_000_101;
const TEACHERS: u64 = 1_400_000_000_000_000_102;
const HELPERS: u64 = 1_400_000_000_000_000_103;
const MANAGE_GUILD: u64 = 1 << 5;

/// The guild, and how many hosts and moderators it has.
fn guild(members: u64) -> (GuildSeed, u64, u64) {
    let mut seed = GuildSeed::new(GUILD, "Big school", UserSeed::new(OWNER, "owner"))
        .with_role(RoleSeed::new(EVENTS, "Event staff", perms::MANAGE_EVENTS).at(3))
        .with_role(RoleSeed::new(TEACHERS, "Teachers", 0).at(2))
        .with_role(RoleSeed::new(HELPERS, "Helpers", 0).at(1));
    seed.everyone_permissions = Some(perms::VIEW_CHANNEL | perms::SEND_MESSAGES);
    // NOTE: the owner is a host; Event staff (Manage Events) host; Teachers host; Helpers moderate.
    let (mut hosts, mut moderators) = (1, 0);
    for n in 1..members {
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

/// Runs the scenario.
///
/// # Errors
///
/// When identity or the emulator does not start.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Section> {
    let members: u64 = ctx.pick(100_000, 10_000);
    let (seed, hosts, moderators) = guild(members);
    let discord = DiscordEmulator::start(EmulatorConfig::default().with_guild(seed)).await?;
    let application = discord.application();
    let store = Store::connect("sqlite::memory:").await?;
    store.migrate().await?;
    guilds::create(store.connection(), i64::try_from(GUILD)?, "Big school").await?;
    for (role, meeting_role) in [(TEACHERS, MeetingRole::Host), (HELPERS, MeetingRole::Moderator)] {
        let new = NewRoleMapping {
            guild_id: i64::try_from(GUILD)?,
            discord_role_id: i64::try_from(role)?,
            meeting_role,
            priority: 0,
        };
        role_mappings::create(store.connection(), new).await?;
    }
    let data = tempfile::tempdir()?;
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
    let identity = Identity::build(Config::default(), deps).await?;
    let shutdown = CancellationToken::new();
    let service = tokio::spawn(identity.run(shutdown.clone()));
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
        .await?;
    let elapsed = started.elapsed();
    let mut section = Section::new(
        "Member sync",
        format!(
            "`/kaltura sync` of a server of {} members (and the bot) with mapped roles: `identity.sync` over the \
             in-process bus → `GET /guilds/{{id}}` and pages of `GET /guilds/{{id}}/members?limit=1000` from the \
             Discord emulator at its default rate limits (50 requests/s per bot, 50/s on the route) → counts by \
             meeting role, checked. Bound by the rate limit, not the CPU.",
            thousands(members as f64)
        ),
    );
    let requests = discord.state().requests();
    let limited = requests.iter().filter(|request| request.status == 429).count();
    let failed = requests.iter().filter(|request| !matches!(request.status, 200 | 429)).count();
    match reply.result {
        Some(sync_reply::Result::Report(report)) => {
            section.runs.push(format!(
                "{} members in {elapsed:.2?}: {} pages, {} Discord requests ({limited} answered 429)",
                report.members,
                report.pages,
                requests.len()
            ));
            section.check(
                (report.members, report.humans, report.bots, report.hosts, report.moderators)
                    == (members + 1, members, 1, hosts, moderators),
                format!("sync counts: {report:?}"),
            );
            section.check(report.attendees == members - hosts - moderators, format!("attendees: {report:?}"));
        }
        other => section.check(false, format!("the sync failed: {other:?}")),
    }
    section.check(failed == 0, format!("Discord refused {failed} requests"));
    section.at_most(
        format!("`/kaltura sync` of {} members", thousands(members as f64)),
        format!("{:.2} s, {} requests, {limited} answered 429", elapsed.as_secs_f64(), requests.len()),
        elapsed.as_secs_f64(),
        TARGET.as_secs_f64(),
        " s",
        ctx.judge(),
    );
    shutdown.cancel();
    let _ = service.await;
    discord.stop().await;
    Ok(section)
}
