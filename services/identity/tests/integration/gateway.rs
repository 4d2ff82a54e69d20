//! Gateway events published to JetStream as gateway-shard publishes them, consumed by identity
//! replicas on real NATS JetStream, PostgreSQL and Redis (see `gateway_harness`).

use std::time::Duration;

use kalcord_bus::BusExt as _;
use kalcord_discord_emulator::seed;
use kalcord_proto::subject;
use kalcord_proto::v1::{RoleMappingReply, RoleMappingRequest};
use kalcord_store::entity::MeetingRole;
use kalcord_store::repo::{guilds, role_mappings};
use sea_orm::{IntoActiveModel as _, Set};
use serde_json::{Value, json};

use super::common::{audit_rows, db};
use super::gateway_harness::{Harness, QUIET_CHANNEL, QUIET_GUILD, QUIET_OWNER, RestApi, actor, guild_create};

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
