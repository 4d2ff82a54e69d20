//! The real pipeline: the Discord emulator's gateway → gateway-shard (in process) → JetStream →
//! identity, on real NATS JetStream, PostgreSQL and Redis: the bot added and removed, a role
//! change reaching the member's next join, and a removed server getting no more posts.

use std::time::{Duration, Instant};

use kalcord_bus::BusExt as _;
use kalcord_discord_emulator::{ChannelSeed, Fault, FaultAction, GuildSeed, UserSeed, seed};
use kalcord_kaltura::ks::SessionType;
use kalcord_kaltura_emulator::RoomRole;
use kalcord_proto::subject;
use kalcord_proto::v1::{Actor, Join, MeetingRole, RoleMapping, RoleMappingReply, RoleMappingRequest};
use kalcord_store::entity::MeetingStatus;
use kalcord_store::repo::guilds;
use kalcord_test_util::eventually;
use serde_json::{Value, json};

use super::common::{self, DEFAULT_PARTNER, DEFAULT_SECRET, audit_rows, db, ks_of, launch};
use super::gateway_harness::{Harness, RestApi, actor, start_gateway_shard};

/// The KS privileges that carry a join's room role: (`role`, `userContextualRole`).
fn room_role(join: &Join) -> (Option<String>, Option<String>) {
    let ks = kalcord_kaltura::ks::decode(&ks_of(&join.launch_url), &[DEFAULT_SECRET]).unwrap();
    assert_eq!(ks.session_type, SessionType::User);
    let privilege = |name| ks.privileges.get(name).map(str::to_owned);
    (privilege("role"), privilege("userContextualRole"))
}

async fn stop(h: Harness, shard: tokio::task::JoinHandle<()>) {
    h.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(15), shard).await.expect("gateway-shard stops").unwrap();
    h.stop().await;
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
    stop(h, shard).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn through_the_real_gateway_a_role_change_gives_the_member_s_next_join_its_meeting_role() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start(1).await;
    let shard = start_gateway_shard(&h).await;
    // The seeded guilds' GUILD_CREATEs, handled to the end (their cache invalidations included).
    eventually("the guides of the seeded guilds", || async { h.posts().len() == 2 }).await;
    h.settled().await;

    // The owner maps Student to moderator, as /kaltura roles map does.
    let owner = Actor { is_owner: true, ..actor(seed::GUILD_ID, seed::OWNER_ID) };
    let mapping = RoleMapping { discord_role_id: seed::STUDENT_ROLE, role: MeetingRole::Moderator.into(), priority: 5 };
    let request = RoleMappingRequest { actor: Some(owner), mapping: Some(mapping) };
    let reply: RoleMappingReply =
        h.bus.request_proto(subject::IDENTITY_ROLES_MAP, &request, Duration::from_secs(5)).await.unwrap();
    assert_eq!(reply.error, None);

    // A member without the role joins a live meeting as attendee. Their roles are what the
    // api-gateway reads for them (cached for an hour).
    let client = common::client(&h.kaltura, DEFAULT_PARTNER, DEFAULT_SECRET);
    let meeting = common::meeting(&h.store, &client, seed::GUILD_ID, MeetingStatus::Live, true).await;
    let mut rest = RestApi::start(&h).await;
    let member = rest.actor_of(seed::MEMBER_ID).await;
    assert!(!member.role_ids.contains(&seed::STUDENT_ROLE), "{member:?}");
    let first = h.join(&member, &meeting).await;
    assert_eq!(first.role(), MeetingRole::Attendee);
    assert_eq!(room_role(&first), (Some("viewerRole".into()), Some("3".into())));

    // Discord gives them the role: GUILD_MEMBER_UPDATE, through gateway-shard and JetStream.
    let before = h.last_of("GUILD_MEMBER_UPDATE").await.unwrap_or(0);
    h.discord.state().add_member_role(seed::GUILD_ID, seed::MEMBER_ID, seed::STUDENT_ROLE).unwrap();
    eventually("the GUILD_MEMBER_UPDATE on the bus", || async {
        h.last_of("GUILD_MEMBER_UPDATE").await.is_some_and(|sequence| sequence > before)
    })
    .await;
    h.settled().await;

    // The very next join is a moderator's: no cache lifetime was waited out.
    let member = rest.actor_of(seed::MEMBER_ID).await;
    let next = h.join(&member, &meeting).await;
    assert_eq!(next.role(), MeetingRole::Moderator);
    assert_eq!(room_role(&next), (Some("adminRole".into()), Some("1".into())));
    assert_eq!(launch(&next.launch_url).await, 200);
    assert_eq!(h.kaltura.state().launches().last().unwrap().role, Some(RoomRole::Moderator));
    stop(h, shard).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn through_the_real_gateway_a_removed_guild_gets_no_more_posts() {
    const GONE: u64 = 1_330_000_000_000_000_001;
    const GONE_CHANNEL: u64 = 1_330_000_000_000_000_201;
    const GONE_OWNER: u64 = 1_330_000_000_000_000_300;
    const NEXT: u64 = 1_340_000_000_000_000_001;
    const NEXT_CHANNEL: u64 = 1_340_000_000_000_000_201;
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start(1).await;
    let shard = start_gateway_shard(&h).await;
    let state = h.discord.state();
    eventually("the guides of the seeded guilds", || async { h.posts().len() == 2 }).await;

    // The bot is added to a server, but Discord fails its guide: identity will retry in 5 s...
    let guide = format!("/channels/{GONE_CHANNEL}/messages");
    state.add_fault(Fault::next(FaultAction::Status { status: 502 }).on("POST", &guide));
    let gone = GuildSeed::new(GONE, "Gone club", UserSeed::new(GONE_OWNER, "gone-owner"))
        .with_channel(ChannelSeed::text(GONE_CHANNEL, "general"))
        .with_system_channel(GONE_CHANNEL);
    state.add_guild(&gone).unwrap();
    let guide_posts =
        || state.requests().into_iter().filter(|r| r.method == "POST" && r.path.ends_with(&guide)).count();
    eventually("the failed guide", || async { guide_posts() == 1 }).await;

    // ...but the bot is removed first (GUILD_DELETE, not an outage).
    state.remove_guild(GONE).unwrap();
    eventually("the server turning inactive", || async {
        !guilds::is_active(h.store.connection(), db(GONE)).await.unwrap()
    })
    .await;
    // Member and role events of the removed server still on the bus.
    let member = json!({"guild_id": GONE.to_string(), "roles": [], "joined_at": "2026-01-01T00:00:00Z",
        "user": {"id": GONE_OWNER.to_string(), "username": "gone-owner"}, "nick": null, "avatar": null});
    h.publish("GUILD_MEMBER_UPDATE", "late", 1, &member).await;
    let role = json!({"guild_id": GONE.to_string(), "role": {"id": "42", "name": "Helpers", "permissions": "0",
        "position": 1, "color": 0, "hoist": false, "managed": false, "mentionable": false}});
    h.publish("GUILD_ROLE_UPDATE", "late", 2, &role).await;

    // A server added later still gets its guide.
    let next = GuildSeed::new(NEXT, "Next club", UserSeed::new(1_340_000_000_000_000_300, "next-owner"))
        .with_channel(ChannelSeed::text(NEXT_CHANNEL, "general"))
        .with_system_channel(NEXT_CHANNEL);
    state.add_guild(&next).unwrap();
    eventually("the next server's guide", || async { h.posts().iter().any(|post| post.channel_id == NEXT_CHANNEL) })
        .await;
    // Every event settled, the failed GUILD_CREATE's redelivery included.
    let started = Instant::now();
    h.settled().await;
    tracing::info!(elapsed_ms = started.elapsed().as_millis(), "gateway events settled");

    assert_eq!(guide_posts(), 1, "no guide after the removal, in the channel...");
    let dm_to_owner = |request: &kalcord_discord_emulator::RequestRecord| {
        request.method == "POST"
            && request.path.ends_with("/users/@me/channels")
            && request.body.as_ref().and_then(|body| body.get("recipient_id"))
                == Some(&Value::from(GONE_OWNER.to_string()))
    };
    assert!(!state.requests().iter().any(dm_to_owner), "...nor to its owner");
    let posts = h.posts();
    assert!(
        posts.iter().all(|post| post.channel_id != GONE_CHANNEL && !post.content.contains("Gone club")),
        "{posts:?}"
    );
    assert!(!guilds::is_active(h.store.connection(), db(GONE)).await.unwrap());
    let rows = audit_rows(&h.store).await;
    let gone_actions: Vec<&str> =
        rows.iter().filter(|row| row.guild_id == Some(db(GONE))).map(|row| row.action.as_str()).collect();
    assert_eq!(gone_actions, ["guild.joined", "guild.left"]);
    stop(h, shard).await;
}
