//! Guild lifecycle (removal, outages, re-adding), system channels and channel permission overwrites.

use kalcord_discord_emulator::{ChannelSeed, GuildSeed, MemberSeed, OverwriteSeed, UserSeed, perms, seed};
use serde_json::{Value, json};

use super::common::{Harness, Reply, send};
use super::wsclient::Client;

const INTENTS: u64 = perms::INTENT_GUILDS | perms::INTENT_GUILD_MEMBERS;

async fn admin(harness: &Harness, method: &str, path: &str, body: Option<Value>) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = harness.http.request(method, format!("{}/_emulator{path}", harness.base));
    if let Some(body) = body {
        request = request.json(&body);
    }
    send(request).await
}

/// A client past READY and its GUILD_CREATE backfill (when `intents` has GUILDS).
async fn session(harness: &Harness, intents: u64) -> Client {
    let mut client = Client::connect(&harness.emulator.gateway_url(), "v=10&encoding=json").await;
    client.recv().await;
    client.identify(&harness.app.bot_token, intents, None).await;
    client.until("READY").await;
    if intents & perms::INTENT_GUILDS != 0 {
        client.until("GUILD_CREATE").await;
    }
    client
}

fn code(reply: &Reply) -> (u16, Option<u64>) {
    (reply.status, reply.json()["code"].as_u64())
}

#[tokio::test]
async fn removing_the_bot_sends_guild_delete_and_forgets_the_guild() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::with(|mut config| {
        config.gateway.identify_window = std::time::Duration::ZERO;
        config
    })
    .await;
    let state = harness.state();
    let mut guilds = session(&harness, INTENTS).await;
    let mut members_only = session(&harness, perms::INTENT_GUILD_MEMBERS).await;
    let message = format!("/channels/{}/messages", seed::GENERAL_CHANNEL);
    assert_eq!(harness.bot("POST", &message, Some(json!({"content": "before"}))).await.status, 200);

    state.remove_guild(seed::GUILD_ID).expect("removed");
    let delete = guilds.recv().await;
    assert_eq!(delete["t"], "GUILD_DELETE");
    assert_eq!(delete["d"], json!({"id": seed::GUILD_ID.to_string()}), "no `unavailable`: the bot was removed");
    assert_eq!(code(&harness.bot("GET", &format!("/guilds/{}", seed::GUILD_ID), None).await), (404, Some(10004)));
    let members = harness.bot("GET", &format!("/guilds/{}/members?limit=10", seed::GUILD_ID), None).await;
    assert_eq!(code(&members), (404, Some(10004)));
    assert_eq!(
        code(&harness.bot("GET", &format!("/channels/{}", seed::GENERAL_CHANNEL), None).await),
        (404, Some(10003))
    );
    assert_eq!(code(&harness.bot("POST", &message, Some(json!({"content": "after"}))).await), (404, Some(10003)));
    assert_eq!(state.member_roles(seed::GUILD_ID, seed::TEACHER_ID), None, "members are forgotten");
    assert!(state.remove_guild(seed::GUILD_ID).is_err(), "already gone");

    state.add_guild(&seed::demo_guild()).expect("the bot joins again");
    let create = guilds.recv().await;
    assert_eq!(
        (create["t"].as_str(), create["d"]["id"].as_str()),
        (Some("GUILD_CREATE"), Some(&*seed::GUILD_ID.to_string()))
    );
    assert_eq!(harness.bot("GET", &format!("/guilds/{}", seed::GUILD_ID), None).await.status, 200);
    assert_eq!(harness.bot("POST", &message, Some(json!({"content": "back"}))).await.status, 200);
    state
        .add_member(seed::GUILD_ID, &MemberSeed::new(UserSeed::new(1_284_000_000_000_000_399, "eve")))
        .expect("member");
    assert_eq!(
        members_only.recv().await["t"],
        "GUILD_MEMBER_ADD",
        "GUILD_DELETE and GUILD_CREATE need the GUILDS intent"
    );
    harness.stop().await;
}

#[tokio::test]
async fn an_outage_keeps_the_guild_until_it_is_available_again() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::with(|mut config| {
        config.gateway.identify_window = std::time::Duration::ZERO;
        config
    })
    .await;
    let state = harness.state();
    let mut client = session(&harness, INTENTS).await;
    state.guild_outage(seed::GUILD_ID).expect("outage");
    let delete = client.recv().await;
    assert_eq!(delete["t"], "GUILD_DELETE");
    assert_eq!(delete["d"], json!({"id": seed::GUILD_ID.to_string(), "unavailable": true}));
    assert_eq!(harness.bot("GET", &format!("/guilds/{}", seed::GUILD_ID), None).await.status, 200, "kept");

    let mut late = Client::connect(&harness.emulator.gateway_url(), "v=10&encoding=json").await;
    late.recv().await;
    late.identify(&harness.app.bot_token, INTENTS, None).await;
    let ready = late.recv().await;
    assert_eq!(ready["d"]["guilds"], json!([{"id": seed::GUILD_ID.to_string(), "unavailable": true}]));
    state
        .add_member(seed::GUILD_ID, &MemberSeed::new(UserSeed::new(1_284_000_000_000_000_398, "fay")))
        .expect("member");
    assert_eq!(late.recv().await["t"], "GUILD_MEMBER_ADD", "no GUILD_CREATE backfill for an unavailable guild");

    state.end_guild_outage(seed::GUILD_ID).expect("back");
    client.until("GUILD_MEMBER_ADD").await;
    let create = client.recv().await;
    assert_eq!((create["t"].as_str(), create["d"]["unavailable"].as_bool()), (Some("GUILD_CREATE"), Some(false)));
    assert_eq!(late.recv().await["t"], "GUILD_CREATE");
    harness.stop().await;
}

#[tokio::test]
async fn guild_removal_and_outage_over_the_admin_api() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let guild = format!("/guilds/{}", seed::GUILD_ID);
    assert_eq!(admin(&harness, "POST", &format!("{guild}/outage"), None).await.status, 204);
    assert_eq!(admin(&harness, "DELETE", &format!("{guild}/outage"), None).await.status, 204);
    assert_eq!(admin(&harness, "DELETE", &guild, None).await.status, 204);
    assert_eq!(admin(&harness, "DELETE", &guild, None).await.status, 400, "unknown guild");
    assert_eq!(admin(&harness, "POST", &format!("{guild}/outage"), None).await.status, 400);
    assert_eq!(code(&harness.bot("GET", &guild, None).await), (404, Some(10004)));
    assert_eq!(admin(&harness, "DELETE", "/guilds/abc", None).await.status, 400);
    harness.stop().await;
}

#[tokio::test]
async fn system_channel_in_rest_and_guild_create() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let guild = harness.bot("GET", &format!("/guilds/{}", seed::GUILD_ID), None).await.json();
    assert_eq!(guild["system_channel_id"], seed::GENERAL_CHANNEL.to_string());
    let mut client = Client::connect(&harness.emulator.gateway_url(), "v=10&encoding=json").await;
    client.recv().await;
    client.identify(&harness.app.bot_token, INTENTS, None).await;
    assert_eq!(client.until("GUILD_CREATE").await["d"]["system_channel_id"], seed::GENERAL_CHANNEL.to_string());

    let plain = GuildSeed::new(1_300_000_000_000_000_001, "Plain", UserSeed::new(1_300_000_000_000_000_100, "o"));
    harness.state().add_guild(&plain).expect("guild");
    let created = client.until("GUILD_CREATE").await;
    assert!(created["d"]["system_channel_id"].is_null());
    let seeded = json!({"id": "1300000000000000002", "name": "Seeded", "owner_id": "1300000000000000100",
        "channels": [{"id": "1300000000000000020", "name": "lobby", "type": 0}], "system_channel_id": "1300000000000000020"});
    assert_eq!(admin(&harness, "POST", "/guilds", Some(seeded)).await.status, 204);
    let seeded = harness.bot("GET", "/guilds/1300000000000000002", None).await.json();
    assert_eq!(seeded["system_channel_id"], "1300000000000000020");
    let elsewhere = json!({"id": "1300000000000000003", "name": "Bad", "owner_id": "1300000000000000100",
        "system_channel_id": "1300000000000000020"});
    assert_eq!(admin(&harness, "POST", "/guilds", Some(elsewhere)).await.status, 400, "not one of its channels");
    harness.stop().await;
}

/// The bot's managed role in the demo guild.
async fn bot_role(harness: &Harness) -> u64 {
    let roles = harness.bot("GET", &format!("/guilds/{}/roles", seed::GUILD_ID), None).await.json();
    let role = roles.as_array().expect("roles").iter().find(|role| role["tags"]["bot_id"] == harness.app.bot_user_id);
    role.and_then(|role| role["id"].as_str()).and_then(|id| id.parse().ok()).expect("bot role")
}

#[tokio::test]
async fn channel_overwrites_decide_what_the_bot_may_post() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let state = harness.state();
    let everyone = seed::GUILD_ID;
    let bot_user: u64 = harness.app.bot_user_id.parse().expect("id");
    let bot_role = bot_role(&harness).await;
    let channels = [
        (1_284_000_000_000_000_211, OverwriteSeed::role(everyone, 0, perms::VIEW_CHANNEL)),
        (1_284_000_000_000_000_212, OverwriteSeed::role(everyone, 0, perms::SEND_MESSAGES)),
        (1_284_000_000_000_000_213, OverwriteSeed::role(bot_role, 0, perms::SEND_MESSAGES)),
        (1_284_000_000_000_000_214, OverwriteSeed::role(everyone, 0, perms::EMBED_LINKS)),
    ];
    for (id, overwrite) in &channels {
        state
            .add_channel(everyone, &ChannelSeed::text(*id, "locked").with_overwrite(overwrite.clone()))
            .expect("channel");
    }
    let post = |channel: u64, body: Value| {
        let harness = &harness;
        async move { harness.bot("POST", &format!("/channels/{channel}/messages"), Some(body)).await }
    };
    let hi = json!({"content": "hi"});
    assert_eq!(code(&post(channels[0].0, hi.clone()).await), (403, Some(50001)), "hidden channel: Missing Access");
    assert_eq!(code(&harness.bot("GET", &format!("/channels/{}", channels[0].0), None).await), (403, Some(50001)));
    assert_eq!(code(&post(channels[1].0, hi.clone()).await), (403, Some(50013)), "@everyone denies SEND_MESSAGES");
    assert_eq!(code(&post(channels[2].0, hi.clone()).await), (403, Some(50013)), "the bot's role denies it");
    let embed = json!({"content": "with embed", "embeds": [{"title": "Meeting"}]});
    let posted = post(channels[3].0, embed.clone()).await;
    assert_eq!(posted.status, 200, "EMBED_LINKS is not needed to post: {}", posted.body);
    assert_eq!(posted.json()["embeds"], json!([]), "Discord drops the embeds without EMBED_LINKS");
    assert_eq!(post(seed::GENERAL_CHANNEL, embed).await.json()["embeds"][0]["title"], "Meeting");

    let rendered = harness.bot("GET", &format!("/channels/{}", channels[1].0), None).await.json();
    assert_eq!(
        rendered["permission_overwrites"],
        json!([{"id": everyone.to_string(), "type": 0, "allow": "0", "deny": perms::SEND_MESSAGES.to_string()}])
    );

    // A role allow beats an @everyone deny; a member overwrite beats both.
    let layered = ChannelSeed::text(1_284_000_000_000_000_215, "layered")
        .with_overwrite(OverwriteSeed::role(everyone, 0, perms::VIEW_CHANNEL | perms::SEND_MESSAGES))
        .with_overwrite(OverwriteSeed::role(bot_role, perms::VIEW_CHANNEL | perms::SEND_MESSAGES, 0));
    state.add_channel(everyone, &layered).expect("channel");
    assert_eq!(post(layered.id, hi.clone()).await.status, 200);
    let muted = layered.clone().with_overwrite(OverwriteSeed::member(bot_user, 0, perms::SEND_MESSAGES));
    let muted = ChannelSeed { id: 1_284_000_000_000_000_216, ..muted };
    state.add_channel(everyone, &muted).expect("channel");
    assert_eq!(code(&post(muted.id, hi.clone()).await), (403, Some(50013)));

    let over_http = json!({"id": "1284000000000000217", "name": "staff", "type": 0,
        "permission_overwrites": [{"id": everyone.to_string(), "type": 0, "allow": "0", "deny": "1024"}]});
    assert_eq!(admin(&harness, "POST", &format!("/guilds/{everyone}/channels"), Some(over_http)).await.status, 204);
    assert_eq!(code(&post(1_284_000_000_000_000_217, hi).await), (403, Some(50001)));
    harness.stop().await;
}

#[tokio::test]
async fn administrator_bypasses_overwrites_and_dms_need_none() {
    let _trace = kalcord_test_util::trace_init();
    let everyone = seed::GUILD_ID;
    let hidden = 1_284_000_000_000_000_221;
    let harness = Harness::with(|mut config| {
        config.application.bot_permissions = perms::ADMINISTRATOR;
        let locked = ChannelSeed::text(hidden, "hidden").with_overwrite(OverwriteSeed::role(everyone, 0, perms::ALL));
        config.guilds[0] = config.guilds[0].clone().with_channel(locked);
        config
    })
    .await;
    let posted = harness.bot("POST", &format!("/channels/{hidden}/messages"), Some(json!({"content": "admin"}))).await;
    assert_eq!(posted.status, 200, "{}", posted.body);

    let recipient = json!({"recipient_id": seed::STUDENT_ID.to_string()});
    let dm = harness.bot("POST", "/users/@me/channels", Some(recipient)).await.json();
    let dm_id = dm["id"].as_str().expect("dm id").to_owned();
    let sent = harness.bot("POST", &format!("/channels/{dm_id}/messages"), Some(json!({"content": "your link"}))).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.json()["channel_id"], dm_id);
    let record = harness.state().messages().pop().expect("recorded");
    assert_eq!((record.channel_id.to_string(), record.content.as_str()), (dm_id, "your link"));
    harness.stop().await;
}

#[tokio::test]
async fn a_guild_member_gets_a_dm_even_where_overwrites_hide_every_channel() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::with(|mut config| {
        let deny_all = OverwriteSeed::role(seed::GUILD_ID, 0, perms::VIEW_CHANNEL);
        let guild = &mut config.guilds[0];
        for channel in &mut guild.channels {
            channel.permission_overwrites.push(deny_all.clone());
        }
        config
    })
    .await;
    let general = format!("/channels/{}/messages", seed::GENERAL_CHANNEL);
    assert_eq!(code(&harness.bot("POST", &general, Some(json!({"content": "x"}))).await), (403, Some(50001)));
    let dm =
        harness.bot("POST", "/users/@me/channels", Some(json!({"recipient_id": seed::TEACHER_ID.to_string()}))).await;
    assert_eq!(dm.status, 200, "{}", dm.body);
    let dm_id = dm.json()["id"].as_str().expect("id").to_owned();
    let sent = harness.bot("POST", &format!("/channels/{dm_id}/messages"), Some(json!({"content": "hello ada"}))).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.json()["author"]["id"], harness.app.bot_user_id);
    harness.stop().await;
}
