//! The admin API under `/_emulator/`.

use std::time::Duration;

use kalcord_discord_emulator::seed;
use serde_json::{Value, json};

use super::common::{Endpoint, Harness, Reply, send};

async fn admin(harness: &Harness, method: &str, path: &str, body: Option<Value>) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = harness.http.request(method, format!("{}/_emulator{path}", harness.base));
    if let Some(body) = body {
        request = request.json(&body);
    }
    send(request).await
}

#[tokio::test]
async fn world_scripting_over_http() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let info = admin(&harness, "GET", "/info", None).await.json();
    assert_eq!(info["application"]["bot_token"], harness.app.bot_token);
    assert_eq!(info["gateway_url"], harness.emulator.gateway_url());
    let guild = json!({"id": "1300000000000000001", "name": "Second", "owner_id": "1300000000000000100",
        "roles": [{"id": "1300000000000000010", "name": "Host", "permissions": "8", "position": 1}],
        "channels": [{"id": "1300000000000000020", "name": "lobby", "type": 0}],
        "members": [{"user": {"id": "1300000000000000100", "username": "host"}, "roles": []}]});
    assert_eq!(admin(&harness, "POST", "/guilds", Some(guild.clone())).await.status, 204);
    assert_eq!(admin(&harness, "POST", "/guilds", Some(guild)).await.status, 400, "the id is taken");
    let member = json!({"user": {"id": "1300000000000000101", "username": "guest"}, "nick": "G"});
    assert_eq!(admin(&harness, "POST", "/guilds/1300000000000000001/members", Some(member)).await.status, 204);
    let role = "/guilds/1300000000000000001/members/1300000000000000101/roles/1300000000000000010";
    assert_eq!(admin(&harness, "PUT", role, None).await.status, 204);
    let bits = admin(&harness, "GET", "/guilds/1300000000000000001/members/1300000000000000101/permissions", None)
        .await
        .json();
    assert_eq!(
        bits["permissions"],
        kalcord_discord_emulator::perms::ALL.to_string(),
        "ADMINISTRATOR grants everything"
    );
    assert_eq!(admin(&harness, "DELETE", role, None).await.status, 204);
    assert_eq!(
        admin(&harness, "DELETE", "/guilds/1300000000000000001/members/1300000000000000101", None).await.status,
        204
    );
    assert_eq!(
        admin(&harness, "DELETE", "/guilds/1300000000000000001/members/1300000000000000101", None).await.status,
        400
    );
    let world = admin(&harness, "GET", "/world", None).await.json();
    assert_eq!(world["guilds"].as_array().map(Vec::len), Some(2));
    assert_eq!(admin(&harness, "POST", "/guilds", Some(json!({"nope": true}))).await.status, 400);
    assert_eq!(admin(&harness, "GET", "/nothing", None).await.status, 404);
    harness.stop().await;
}

#[tokio::test]
async fn faults_records_oauth_clock_and_gateway_over_http() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let fault = json!({"method": "GET", "path": "/users/@me", "times": 1, "action": {"kind": "status", "status": 502}});
    assert_eq!(admin(&harness, "POST", "/faults", Some(fault)).await.status, 204);
    assert_eq!(harness.bot("GET", "/users/@me", None).await.status, 502);
    let records = admin(&harness, "GET", "/requests", None).await.json();
    assert_eq!(records[0]["status"], 502);
    assert_eq!(records[0]["route"], "/users/@me");
    assert_eq!(admin(&harness, "DELETE", "/requests", None).await.status, 204);
    assert_eq!(admin(&harness, "GET", "/requests", None).await.json(), json!([]));
    assert_eq!(admin(&harness, "DELETE", "/faults", None).await.status, 204);
    let code = admin(
        &harness,
        "POST",
        "/oauth/code",
        Some(json!({"user_id": seed::STUDENT_ID.to_string(), "scopes": ["identify"]})),
    )
    .await
    .json();
    assert!(code["code"].is_string());
    let tokens = admin(
        &harness,
        "POST",
        "/oauth/token",
        Some(json!({"user_id": seed::STUDENT_ID.to_string(), "scopes": ["identify"]})),
    )
    .await
    .json();
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    assert_eq!(harness.bearer("GET", "/users/@me", &access, None).await.status, 200);
    assert_eq!(admin(&harness, "POST", "/clock/advance", Some(json!({"seconds": 604_801}))).await.status, 204);
    assert_eq!(
        harness.bearer("GET", "/users/@me", &access, None).await.status,
        401,
        "tokens expire on the emulator clock"
    );
    assert_eq!(
        admin(&harness, "PUT", "/oauth/user", Some(json!({"user_id": seed::TEACHER_ID.to_string()}))).await.status,
        204
    );
    assert_eq!(admin(&harness, "GET", "/gateway/sessions", None).await.json(), json!([]));
    let reached =
        admin(&harness, "POST", "/gateway/actions", Some(json!({"action": "close", "code": 4000}))).await.json();
    assert_eq!(reached["reached"], 0);
    let instance = json!({"instance_id": "i-9", "channel_id": seed::CLASSROOM_CHANNEL.to_string(), "users": [seed::TEACHER_ID.to_string()]});
    assert_eq!(admin(&harness, "POST", "/activity-instances", Some(instance)).await.status, 204);
    assert_eq!(
        harness.bot("GET", &format!("/applications/{}/activity-instances/i-9", harness.app.id), None).await.status,
        200
    );
    assert_eq!(admin(&harness, "POST", "/rate-limits/reset", None).await.status, 204);
    harness.stop().await;
}

#[tokio::test]
async fn interactions_and_probes_over_http() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let command = json!([{"name": "meet", "description": "Meetings"}]);
    harness.bot("PUT", &format!("/applications/{}/commands", harness.app.id), Some(command)).await;
    let endpoint = Endpoint::answering(
        &harness.app.public_key_hex,
        200,
        json!({"type": 4, "data": {"content": "ok"}}),
        Duration::ZERO,
    )
    .await;
    let spec = json!({"type": "command", "name": "meet", "guild_id": seed::GUILD_ID.to_string(), "user_id": seed::TEACHER_ID.to_string()});
    assert_eq!(admin(&harness, "POST", "/interactions", Some(spec.clone())).await.status, 409, "no endpoint yet");
    let url = json!({"url": endpoint.url.to_string()});
    assert_eq!(admin(&harness, "PUT", "/interactions-url", Some(url)).await.status, 204);
    let outcome = admin(&harness, "POST", "/interactions", Some(spec)).await.json();
    assert_eq!(outcome["status"], 200);
    assert_eq!(outcome["json"]["data"]["content"], "ok");
    assert_eq!(outcome["deadline_missed"], false);
    let probes = admin(&harness, "POST", "/probes", None).await.json();
    assert!(probes.as_array().expect("probes").iter().all(|probe| probe["passed"] == true), "{probes}");
    let one = admin(&harness, "POST", "/probes", Some(json!({"kind": "tampered_body"}))).await.json();
    assert_eq!(one[0]["status"], 401);
    let messages = admin(&harness, "GET", "/messages", None).await.json();
    assert_eq!(messages[0]["source"], "interaction_response");
    assert_eq!(admin(&harness, "GET", "/commands", None).await.json()[0]["name"], "meet");
    let events = admin(&harness, "GET", &format!("/guilds/{}/scheduled-events", seed::GUILD_ID), None).await.json();
    assert_eq!(events, json!([]));
    let missing = json!({"type": "button", "custom_id": "x", "message_id": "1", "guild_id": seed::GUILD_ID.to_string(), "user_id": seed::TEACHER_ID.to_string()});
    assert_eq!(admin(&harness, "POST", "/interactions", Some(missing)).await.status, 404);
    endpoint.stop().await;
    harness.stop().await;
}
