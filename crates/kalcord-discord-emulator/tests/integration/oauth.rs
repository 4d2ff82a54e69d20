//! OAuth2: authorize redirect, code exchange (Basic or body credentials), refresh, client credentials, revoke,
//! scope checks, role connections.

use base64::Engine as _;
use kalcord_discord_emulator::seed;
use serde_json::{Value, json};

use super::common::{Harness, send};

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

async fn token(harness: &Harness, pairs: &[(&str, &str)], basic: bool) -> super::common::Reply {
    let url = format!("{}/api/oauth2/token", harness.base);
    let mut fields: Vec<(&str, &str)> = pairs.to_vec();
    let mut request = harness.http.post(url);
    if basic {
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", harness.app.client_id, harness.app.client_secret));
        request = request.header("authorization", format!("Basic {credentials}"));
    } else {
        fields.push(("client_id", &harness.app.client_id));
        fields.push(("client_secret", &harness.app.client_secret));
    }
    let body = form(&fields);
    send(request.header("content-type", "application/x-www-form-urlencoded").body(body)).await
}

#[tokio::test]
async fn authorization_code_flow_refresh_and_revoke() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    harness.state().set_oauth_user(seed::STUDENT_ID);
    let authorize = format!(
        "{}/oauth2/authorize?response_type=code&client_id={}&scope=identify%20email%20guilds%20guilds.members.read&state=xyz&redirect_uri=http%3A%2F%2Flocalhost%2Fcb",
        harness.base, harness.app.client_id
    );
    let redirect = send(harness.http.get(authorize)).await;
    assert_eq!(redirect.status, 302);
    let location = url::Url::parse(&redirect.header("location").expect("location")).expect("url");
    assert_eq!(location.path(), "/cb");
    let query: std::collections::HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(query.get("state").map(String::as_str), Some("xyz"));
    let code = query.get("code").expect("code").clone();
    let exchanged = token(
        &harness,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", "http://localhost/cb")],
        true,
    )
    .await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.body);
    let tokens = exchanged.json();
    assert_eq!((tokens["token_type"].as_str(), tokens["expires_in"].as_u64()), (Some("Bearer"), Some(604_800)));
    assert_eq!(tokens["scope"], "identify email guilds guilds.members.read");
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let me = harness.bearer("GET", "/users/@me", &access, None).await.json();
    assert_eq!(
        (me["id"].as_str(), me["email"].as_str()),
        (Some(seed::STUDENT_ID.to_string().as_str()), Some("bob@example.com"))
    );
    let guilds = harness.bearer("GET", "/users/@me/guilds", &access, None).await.json();
    assert_eq!(guilds[0]["id"], seed::GUILD_ID.to_string());
    assert!(guilds[0]["permissions"].is_string());
    let member =
        harness.bearer("GET", &format!("/users/@me/guilds/{}/member", seed::GUILD_ID), &access, None).await.json();
    assert!(member["roles"].as_array().expect("roles").contains(&json!(seed::STUDENT_ROLE.to_string())));
    let info = harness.bearer("GET", "/oauth2/@me", &access, None).await.json();
    assert_eq!(info["application"]["id"], harness.app.id);
    assert_eq!(info["user"]["id"], seed::STUDENT_ID.to_string());
    let reused = token(&harness, &[("grant_type", "authorization_code"), ("code", &code)], true).await;
    assert_eq!((reused.status, reused.json()["error"].as_str()), (400, Some("invalid_grant")));
    let refresh = tokens["refresh_token"].as_str().expect("refresh").to_owned();
    let renewed = token(&harness, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)], false).await.json();
    let access2 = renewed["access_token"].as_str().expect("access").to_owned();
    assert_eq!(harness.bearer("GET", "/users/@me", &access, None).await.status, 401, "the old token died");
    let revoked = send(
        harness
            .http
            .post(format!("{}/api/oauth2/token/revoke", harness.base))
            .basic_auth(&harness.app.client_id, Some(&harness.app.client_secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("token", access2.as_str())])),
    )
    .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(harness.bearer("GET", "/users/@me", &access2, None).await.status, 401);
    harness.stop().await;
}

#[tokio::test]
async fn token_endpoint_rules() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let json_body = send(
        harness
            .http
            .post(format!("{}/api/v10/oauth2/token", harness.base))
            .json(&json!({"grant_type": "client_credentials", "client_id": harness.app.client_id, "client_secret": harness.app.client_secret})),
    )
    .await;
    assert_eq!((json_body.status, json_body.json()["error"].as_str()), (400, Some("unsupported_grant_type")));
    let bad_secret = send(
        harness
            .http
            .post(format!("{}/api/oauth2/token", harness.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &harness.app.client_id),
                ("client_secret", "nope"),
            ])),
    )
    .await;
    assert_eq!((bad_secret.status, bad_secret.json()), (401, json!({"error": "invalid_client"})));
    let credentials =
        token(&harness, &[("grant_type", "client_credentials"), ("scope", "applications.commands.update")], true)
            .await
            .json();
    assert!(credentials.get("refresh_token").is_none());
    let bearer = credentials["access_token"].as_str().expect("access").to_owned();
    let commands =
        harness.bearer("PUT", &format!("/applications/{}/commands", harness.app.id), &bearer, Some(json!([]))).await;
    assert_eq!(commands.status, 200, "client credentials with applications.commands.update may register commands");
    let unknown = token(&harness, &[("grant_type", "password")], true).await;
    assert_eq!(unknown.json()["error"], "unsupported_grant_type");
    let scope = token(&harness, &[("grant_type", "client_credentials"), ("scope", "identify nonsense")], true).await;
    assert_eq!(scope.json()["error"], "invalid_scope");
    harness.stop().await;
}

#[tokio::test]
async fn scopes_are_enforced_and_role_connections_work() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let state = harness.state();
    let identify_only = state.oauth_tokens(seed::TEACHER_ID, &["identify"]);
    let access = identify_only["access_token"].as_str().expect("access");
    let me = harness.bearer("GET", "/users/@me", access, None).await.json();
    assert!(me.get("email").is_none(), "email only with the email scope");
    let guilds = harness.bearer("GET", "/users/@me/guilds", access, None).await;
    assert_eq!((guilds.status, guilds.json()), (403, json!({"message": "Missing Access", "code": 50001})));
    let bot_only = harness.bearer("GET", &format!("/guilds/{}", seed::GUILD_ID), access, None).await;
    assert_eq!(bot_only.status, 401);
    let metadata = json!([{"type": 7, "key": "is_host", "name": "Host", "description": "Hosts meetings"},
                          {"type": 2, "key": "meetings_attended", "name": "Meetings", "description": "Meetings attended"}]);
    let path = format!("/applications/{}/role-connections/metadata", harness.app.id);
    assert_eq!(harness.bot("PUT", &path, Some(metadata)).await.status, 200);
    let bad =
        harness.bot("PUT", &path, Some(json!([{"type": 9, "key": "Bad Key", "name": "", "description": "d"}]))).await;
    let errors = &bad.json()["errors"]["0"];
    for field in ["type", "key", "name"] {
        assert!(errors[field].is_object(), "{field}: {}", bad.body);
    }
    let linked = state.oauth_tokens(seed::TEACHER_ID, &["identify", "role_connections.write"]);
    let linked = linked["access_token"].as_str().expect("access");
    let connection = format!("/users/@me/applications/{}/role-connection", harness.app.id);
    let body = json!({"platform_name": "Kaltura", "platform_username": "ada", "metadata": {"is_host": 1, "meetings_attended": "12"}});
    let put = harness.bearer("PUT", &connection, linked, Some(body)).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.json()["metadata"], json!({"is_host": "1", "meetings_attended": "12"}));
    assert_eq!(harness.bearer("GET", &connection, linked, None).await.json()["platform_name"], "Kaltura");
    let unknown_key = harness.bearer("PUT", &connection, linked, Some(json!({"metadata": {"nope": "1"}}))).await;
    assert_eq!(unknown_key.json()["code"], 50035);
    assert_eq!(harness.bearer("PUT", &connection, access, Some(json!({}))).await.json()["code"], 50001);
    harness.stop().await;
}

#[tokio::test]
async fn activity_instances() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let path = format!("/applications/{}/activity-instances/i-1", harness.app.id);
    let missing = harness.bot("GET", &path, None).await;
    assert_eq!((missing.status, missing.json()), (404, json!({"message": "404: Not Found", "code": 0})));
    harness.state().add_activity_instance("i-1", seed::CLASSROOM_CHANNEL, Some(seed::GUILD_ID), &[seed::TEACHER_ID]);
    let found: Value = harness.bot("GET", &path, None).await.json();
    assert_eq!(found["location"]["kind"], "gc");
    assert_eq!(found["users"], json!([seed::TEACHER_ID.to_string()]));
    harness.stop().await;
}
