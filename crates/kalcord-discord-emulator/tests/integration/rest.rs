//! REST routes and Discord's error shapes.

use kalcord_discord_emulator::{MessageAction, MessageSource, perms, seed};
use serde_json::json;

use super::common::{Harness, send};

#[tokio::test]
async fn users_application_guild_and_channels() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let me = harness.bot("GET", "/users/@me", None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["id"], harness.app.bot_user_id);
    assert_eq!(me.json()["bot"], true);
    let app = harness.bot("GET", "/applications/@me", None).await.json();
    assert_eq!(app["id"], harness.app.id);
    assert_eq!(app["verify_key"], harness.app.public_key_hex);
    let guild = harness.bot("GET", &format!("/guilds/{}?with_counts=true", seed::GUILD_ID), None).await.json();
    assert_eq!(guild["owner_id"], seed::OWNER_ID.to_string());
    assert_eq!(guild["approximate_member_count"], 6);
    assert!(guild["roles"].as_array().expect("roles").iter().any(|role| role["name"] == "Teacher"));
    let channels = harness.bot("GET", &format!("/guilds/{}/channels", seed::GUILD_ID), None).await.json();
    assert_eq!(channels.as_array().expect("channels").len(), 4);
    let channel = harness.bot("GET", &format!("/channels/{}", seed::CLASSROOM_CHANNEL), None).await.json();
    assert_eq!((channel["type"].as_u64(), channel["bitrate"].as_u64()), (Some(2), Some(64_000)));
    let user = harness.bot("GET", &format!("/users/{}", seed::STUDENT_ID), None).await.json();
    assert_eq!(user["username"], "bob");
    let unversioned =
        send(harness.http.get(format!("{}/api/users/@me", harness.base)).header("authorization", harness.bot_auth()))
            .await;
    assert_eq!(unversioned.status, 200);
    harness.stop().await;
}

#[tokio::test]
async fn error_shapes() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let missing = harness.call("GET", "/users/@me", None, None).await;
    assert_eq!((missing.status, missing.json()), (401, json!({"message": "401: Unauthorized", "code": 0})));
    let wrong = harness.call("GET", "/users/@me", Some("Bot not-the-token"), None).await;
    assert_eq!(wrong.status, 401);
    let cases = [
        ("/channels/999", 404, 10003),
        ("/guilds/999", 404, 10004),
        (&format!("/guilds/{}/members/999", seed::GUILD_ID) as &str, 404, 10007),
        (&format!("/channels/{}/messages/999", seed::GENERAL_CHANNEL), 404, 10008),
        (&format!("/guilds/{}/roles/999", seed::GUILD_ID), 404, 10011),
        ("/users/999", 404, 10013),
        (&format!("/guilds/{}/scheduled-events/999", seed::GUILD_ID), 404, 10070),
        ("/nothing/here", 404, 0),
    ];
    for (path, status, code) in cases {
        let reply = harness.bot("GET", path, None).await;
        assert_eq!((reply.status, reply.json()["code"].as_u64()), (status, Some(code)), "{path}: {}", reply.body);
        assert!(reply.json()["message"].is_string());
    }
    let bad_id = harness.bot("GET", "/channels/abc", None).await;
    assert_eq!(bad_id.json()["errors"]["channel_id"]["_errors"][0]["code"], "NUMBER_TYPE_COERCE");
    let method = harness.bot("PATCH", "/gateway/bot", None).await;
    assert_eq!((method.status, method.json()["code"].as_u64()), (405, Some(0)));
    let url = format!("{}/api/v10/channels/{}/messages", harness.base, seed::GENERAL_CHANNEL);
    let plain = send(
        harness
            .http
            .post(&url)
            .header("authorization", harness.bot_auth())
            .header("content-type", "text/plain")
            .body("hi"),
    )
    .await;
    assert_eq!(plain.status, 400);
    assert_eq!(plain.json()["code"], 50035);
    assert_eq!(plain.json()["errors"]["_errors"][0]["code"], "CONTENT_TYPE_INVALID");
    let broken = send(
        harness
            .http
            .post(&url)
            .header("authorization", harness.bot_auth())
            .header("content-type", "application/json")
            .body("{"),
    )
    .await;
    assert_eq!((broken.status, broken.json()["code"].as_u64()), (400, Some(50109)));
    harness.stop().await;
}

#[tokio::test]
async fn messages_are_created_edited_deleted_and_recorded() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let path = format!("/channels/{}/messages", seed::GENERAL_CHANNEL);
    let components =
        json!([{"type": 1, "components": [{"type": 2, "style": 5, "label": "Join", "url": "https://meet.example/x"}]}]);
    let created = harness.bot("POST", &path, Some(json!({"content": "class starts", "components": components}))).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let message = created.json();
    assert_eq!(message["author"]["id"], harness.app.bot_user_id);
    assert_eq!(message["channel_id"], seed::GENERAL_CHANNEL.to_string());
    let id = message["id"].as_str().expect("id").to_owned();
    let edited = harness.bot("PATCH", &format!("{path}/{id}"), Some(json!({"content": "class started"}))).await.json();
    assert_eq!(edited["content"], "class started");
    assert!(edited["edited_timestamp"].is_string());
    let fetched = harness.bot("GET", &format!("{path}/{id}"), None).await.json();
    assert_eq!(fetched["content"], "class started");
    let listed = harness.bot("GET", &format!("{path}?limit=5"), None).await.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(harness.bot("DELETE", &format!("{path}/{id}"), None).await.status, 204);
    assert_eq!(harness.bot("GET", &format!("{path}/{id}"), None).await.json()["code"], 10008);
    let log = harness.state().messages();
    let actions: Vec<MessageAction> = log.iter().map(|record| record.action).collect();
    assert_eq!(actions, [MessageAction::Created, MessageAction::Edited, MessageAction::Deleted]);
    assert!(log.iter().all(|record| record.source == MessageSource::Rest));
    assert_eq!(log[0].components[0]["components"][0]["url"], components[0]["components"][0]["url"]);
    assert_eq!(
        (log[0].components[0]["id"].as_i64(), log[0].components[0]["components"][0]["id"].as_i64()),
        (Some(1), Some(2))
    );
    let empty = harness.bot("POST", &path, Some(json!({"content": ""}))).await;
    assert_eq!((empty.status, empty.json()["code"].as_u64()), (400, Some(50006)));
    let long = harness.bot("POST", &path, Some(json!({"content": "x".repeat(2001)}))).await;
    assert_eq!(long.json()["errors"]["content"]["_errors"][0]["code"], "BASE_TYPE_MAX_LENGTH");
    let link = json!([{"type": 1, "components": [{"type": 2, "style": 5, "label": "Join"}]}]);
    let bad = harness.bot("POST", &path, Some(json!({"content": "x", "components": link}))).await;
    assert!(bad.json()["errors"]["components"]["0"]["components"]["0"]["url"].is_object(), "{}", bad.body);
    harness.stop().await;
}

#[tokio::test]
async fn dm_channels_members_and_requests_recorded() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let dm = harness
        .bot("POST", "/users/@me/channels", Some(json!({"recipient_id": seed::STUDENT_ID.to_string()})))
        .await
        .json();
    assert_eq!(dm["type"], 1);
    assert_eq!(dm["recipients"][0]["id"], seed::STUDENT_ID.to_string());
    let again = harness
        .bot("POST", "/users/@me/channels", Some(json!({"recipient_id": seed::STUDENT_ID.to_string()})))
        .await
        .json();
    assert_eq!(again["id"], dm["id"]);
    let sent = harness
        .bot("POST", &format!("/channels/{}/messages", dm["id"].as_str().expect("id")), Some(json!({"content": "hi"})))
        .await;
    assert_eq!(sent.status, 200);
    let member =
        harness.bot("GET", &format!("/guilds/{}/members/{}", seed::GUILD_ID, seed::TEACHER_ID), None).await.json();
    assert_eq!(member["user"]["username"], "ada");
    assert_eq!(member["roles"].as_array().map(Vec::len), Some(2));
    for key in ["deaf", "mute", "flags", "joined_at"] {
        assert!(!member[key].is_null(), "{key}");
    }
    let page = harness.bot("GET", &format!("/guilds/{}/members?limit=2", seed::GUILD_ID), None).await.json();
    assert_eq!(page.as_array().map(Vec::len), Some(2));
    let last = page[1]["user"]["id"].as_str().expect("id").to_owned();
    let rest =
        harness.bot("GET", &format!("/guilds/{}/members?limit=1000&after={last}", seed::GUILD_ID), None).await.json();
    assert_eq!(rest.as_array().map(Vec::len), Some(4));
    let too_many = harness.bot("GET", &format!("/guilds/{}/members?limit=1001", seed::GUILD_ID), None).await;
    assert_eq!(too_many.json()["errors"]["limit"]["_errors"][0]["code"], "NUMBER_TYPE_MAX");
    let found =
        harness.bot("GET", &format!("/guilds/{}/members/search?query=ad&limit=5", seed::GUILD_ID), None).await.json();
    assert_eq!(found[0]["user"]["username"], "ada");
    let record = harness
        .state()
        .requests()
        .into_iter()
        .find(|record| record.path.ends_with("/users/@me/channels"))
        .expect("recorded");
    assert_eq!(record.route.as_deref(), Some("/users/@me/channels"));
    assert!(record.user_agent.as_deref().is_some_and(|agent| agent.starts_with("DiscordBot")));
    let auth = record.headers.iter().find(|(name, _)| name == "authorization").map(|(_, value)| value.clone());
    assert_eq!(auth.as_deref(), Some("Bot <redacted>"));
    assert_eq!(record.body, Some(json!({"recipient_id": seed::STUDENT_ID.to_string()})));
    harness.stop().await;
}

#[tokio::test]
async fn roles_and_member_roles() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let state = harness.state();
    let path = format!("/guilds/{}/roles", seed::GUILD_ID);
    let created = harness.bot("POST", &path, Some(json!({"name": "Guest", "permissions": "1024"}))).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let role = created.json();
    assert_eq!(role["permissions"], "1024");
    let role_id: u64 = role["id"].as_str().expect("id").parse().expect("snowflake");
    let patched =
        harness.bot("PATCH", &format!("{path}/{role_id}"), Some(json!({"name": "Visitor", "color": 255}))).await.json();
    assert_eq!((patched["name"].as_str(), patched["color"].as_u64()), (Some("Visitor"), Some(255)));
    let member_role = format!("/guilds/{}/members/{}/roles/{role_id}", seed::GUILD_ID, seed::MEMBER_ID);
    assert_eq!(harness.bot("PUT", &member_role, None).await.status, 204);
    assert!(state.member_roles(seed::GUILD_ID, seed::MEMBER_ID).expect("member").contains(&role_id));
    assert_eq!(harness.bot("DELETE", &member_role, None).await.status, 204);
    assert!(!state.member_roles(seed::GUILD_ID, seed::MEMBER_ID).expect("member").contains(&role_id));
    let unknown =
        harness.bot("PUT", &format!("/guilds/{}/members/{}/roles/999", seed::GUILD_ID, seed::MEMBER_ID), None).await;
    assert_eq!(unknown.json()["code"], 10011);
    assert_eq!(harness.bot("DELETE", &format!("{path}/{role_id}"), None).await.status, 204);
    let owner_bits = state.member_permissions(seed::GUILD_ID, seed::OWNER_ID).expect("owner");
    assert_eq!(owner_bits & perms::ADMINISTRATOR, perms::ADMINISTRATOR);
    let teacher = state.member_permissions(seed::GUILD_ID, seed::TEACHER_ID).expect("teacher");
    assert_eq!(teacher & perms::MANAGE_EVENTS, perms::MANAGE_EVENTS);
    let member = state.member_permissions(seed::GUILD_ID, seed::MEMBER_ID).expect("member");
    assert_eq!(member & perms::MANAGE_EVENTS, 0);
    harness.stop().await;
}

#[tokio::test]
async fn bot_needs_a_higher_role_to_manage_roles() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let path = format!("/guilds/{}/roles", seed::GUILD_ID);
    let top = harness.bot("POST", &path, Some(json!({"name": "Head"}))).await.json();
    let top_id = top["id"].as_str().expect("id").to_owned();
    let state = harness.state();
    let role = kalcord_discord_emulator::RoleSeed::new(1_284_000_000_000_000_999, "Principal", 0).at(99);
    state.add_role(seed::GUILD_ID, &role).expect("role");
    let above = harness
        .bot("PUT", &format!("/guilds/{}/members/{}/roles/{}", seed::GUILD_ID, seed::MEMBER_ID, role.id), None)
        .await;
    assert_eq!((above.status, above.json()["code"].as_u64()), (403, Some(50013)));
    assert_eq!(
        harness
            .bot("PUT", &format!("/guilds/{}/members/{}/roles/{top_id}", seed::GUILD_ID, seed::MEMBER_ID), None)
            .await
            .status,
        204
    );
    harness.stop().await;
}

#[tokio::test]
async fn enforce_nonce_returns_the_first_message_within_the_window() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let path = format!("/channels/{}/messages", seed::GENERAL_CHANNEL);
    let body = json!({"content": "class starts", "nonce": "k3v9", "enforce_nonce": true});
    let first = harness.bot("POST", &path, Some(body.clone())).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = harness.bot("POST", &path, Some(body.clone())).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["id"], first.json()["id"], "the same nonce returns the first message");
    // Without enforce_nonce, or in another channel, the nonce creates a message as usual.
    let loose = harness.bot("POST", &path, Some(json!({"content": "class starts", "nonce": "k3v9"}))).await;
    assert_ne!(loose.json()["id"], first.json()["id"]);
    let other = format!("/channels/{}/messages", seed::ANNOUNCEMENTS_CHANNEL);
    let elsewhere = harness.bot("POST", &other, Some(body.clone())).await;
    assert_ne!(elsewhere.json()["id"], first.json()["id"]);
    // Past the window the nonce is forgotten.
    harness.state().advance_clock(std::time::Duration::from_mins(6));
    let later = harness.bot("POST", &path, Some(body)).await;
    assert_eq!(later.status, 200, "{}", later.body);
    assert_ne!(later.json()["id"], first.json()["id"]);
    let created = harness.state().messages().iter().filter(|m| m.action == MessageAction::Created).count();
    assert_eq!(created, 4, "one message per distinct (channel, nonce, window)");
    harness.stop().await;
}
