//! The interaction sender (signatures, payloads, deadline, probes) and the callback / follow-up token rules.

use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use kalcord_discord_emulator::{InteractionKind, InteractionSpec, MessageSource, ProbeKind, seed};
use serde_json::{Value, json};

use super::common::{Endpoint, Harness};

async fn register(harness: &Harness) {
    let command = json!([{"name": "meet", "description": "Meetings", "options": [
        {"type": 1, "name": "start", "description": "Start", "options": [
            {"type": 3, "name": "title", "description": "Title", "required": true, "autocomplete": true},
            {"type": 6, "name": "cohost", "description": "Co-host"}]}]}]);
    let path = format!("/applications/{}/commands", harness.app.id);
    assert_eq!(harness.bot("PUT", &path, Some(command)).await.status, 200);
}

fn start_options(title: &str) -> Vec<Value> {
    vec![json!({"type": 1, "name": "start", "options": [
        {"type": 3, "name": "title", "value": title},
        {"type": 6, "name": "cohost", "value": seed::STUDENT_ID.to_string()}]})]
}

#[tokio::test]
async fn slash_command_is_signed_complete_and_answered_inline() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    register(&harness).await;
    let reply = json!({"type": 4, "data": {"content": "Meeting started", "flags": 64}});
    let endpoint = Endpoint::answering(&harness.app.public_key_hex, 200, reply, Duration::ZERO).await;
    let state = harness.state();
    state.set_interactions_url(Some(endpoint.url.clone()));
    let spec = InteractionSpec::command(seed::GUILD_ID, seed::TEACHER_ID, "meet", start_options("Algebra"));
    let outcome = state.send_interaction(&spec).await.expect("sent");
    assert!(outcome.responded(), "{outcome:?}");
    assert_eq!(outcome.status, Some(200));
    let seen = endpoint.seen();
    assert!(seen[0].verified);
    let key = VerifyingKey::from_bytes(&hex::decode(&harness.app.public_key_hex).expect("hex").try_into().expect("32"))
        .expect("key");
    let signature: [u8; 64] =
        hex::decode(seen[0].signature.as_deref().expect("signature")).expect("hex").try_into().expect("64");
    let timestamp = seen[0].timestamp.clone().expect("timestamp");
    assert!(timestamp.bytes().all(|byte| byte.is_ascii_digit()));
    let signed = [timestamp.as_bytes(), &seen[0].body].concat();
    key.verify(&signed, &Signature::from_bytes(&signature)).expect("valid Ed25519 signature over timestamp + body");
    let payload: Value = serde_json::from_slice(&seen[0].body).expect("json");
    assert_eq!(payload, outcome.payload);
    check_payload(&payload, &harness);
    let original = harness
        .call("GET", &format!("/webhooks/{}/{}/messages/@original", harness.app.id, outcome.token), None, None)
        .await;
    assert_eq!(original.json()["content"], "Meeting started");
    assert_eq!(original.json()["flags"], 64);
    assert!(state.messages().iter().any(|record| record.source == MessageSource::InteractionResponse));
    endpoint.stop().await;
    harness.stop().await;
}

fn check_payload(payload: &Value, harness: &Harness) {
    assert_eq!(payload["type"], 2);
    assert_eq!(payload["application_id"], harness.app.id);
    assert_eq!(payload["attachment_size_limit"], 8_388_608);
    assert_eq!(payload["authorizing_integration_owners"], json!({"0": seed::GUILD_ID.to_string()}));
    assert_eq!((payload["version"].as_u64(), payload["context"].as_u64()), (Some(1), Some(0)));
    assert_eq!(payload["entitlements"], json!([]));
    assert!(payload["app_permissions"].as_str().is_some_and(|bits| bits.parse::<u64>().is_ok()));
    assert_eq!((payload["locale"].as_str(), payload["guild_locale"].as_str()), (Some("en-US"), Some("en-US")));
    assert!(payload["token"].as_str().is_some_and(|token| token.len() >= 100));
    let member = &payload["member"];
    for key in ["deaf", "mute", "flags", "joined_at", "roles", "user", "permissions"] {
        assert!(!member[key].is_null(), "member.{key}");
    }
    let expected = harness.state().member_permissions(seed::GUILD_ID, seed::TEACHER_ID).expect("teacher");
    assert_eq!(member["permissions"], expected.to_string());
    assert_eq!(payload["data"]["name"], "meet");
    assert_eq!(payload["data"]["options"][0]["options"][0]["value"], "Algebra");
    assert_eq!(payload["data"]["resolved"]["users"][seed::STUDENT_ID.to_string()]["username"], "bob");
    assert!(payload["data"]["resolved"]["members"][seed::STUDENT_ID.to_string()]["permissions"].is_string());
}

#[tokio::test]
async fn callback_route_defer_and_follow_ups() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    register(&harness).await;
    let endpoint = Endpoint::answering(&harness.app.public_key_hex, 202, Value::Null, Duration::ZERO).await;
    let state = harness.state();
    state.set_interactions_url(Some(endpoint.url.clone()));
    let spec = InteractionSpec::command(seed::GUILD_ID, seed::TEACHER_ID, "meet", start_options("Biology"));
    let outcome = state.send_interaction(&spec).await.expect("sent");
    assert_eq!(outcome.status, Some(202));
    let callback = format!("/interactions/{}/{}/callback", outcome.interaction_id, outcome.token);
    let deferred =
        harness.call("POST", &format!("{callback}?with_response=true"), None, Some(json!({"type": 5}))).await;
    assert_eq!(deferred.status, 200, "{}", deferred.body);
    let body = deferred.json();
    assert_eq!(body["interaction"]["id"], outcome.interaction_id);
    assert_eq!(body["interaction"]["response_message_loading"], true);
    assert_eq!(body["resource"]["type"], 5);
    let twice = harness.call("POST", &callback, None, Some(json!({"type": 4, "data": {"content": "x"}}))).await;
    assert_eq!((twice.status, twice.json()["code"].as_u64()), (400, Some(40060)));
    let webhook = format!("/webhooks/{}/{}", harness.app.id, outcome.token);
    let edited = harness
        .call("PATCH", &format!("{webhook}/messages/@original"), None, Some(json!({"content": "Join here"})))
        .await;
    assert_eq!(edited.json()["content"], "Join here");
    assert_eq!(edited.json()["flags"], 0, "no longer loading");
    let follow = harness
        .call("POST", &format!("{webhook}?wait=true&with_components=true"), None, Some(json!({"content": "Reminder"})))
        .await;
    assert_eq!(follow.status, 200, "{}", follow.body);
    let follow_id = follow.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(
        harness.call("GET", &format!("{webhook}/messages/{follow_id}"), None, None).await.json()["content"],
        "Reminder"
    );
    assert_eq!(harness.call("DELETE", &format!("{webhook}/messages/{follow_id}"), None, None).await.status, 204);
    assert_eq!(harness.call("GET", &format!("{webhook}/messages/999"), None, None).await.json()["code"], 10008);
    state.advance_clock(Duration::from_secs(15 * 60 + 1));
    let expired = harness.call("GET", &format!("{webhook}/messages/@original"), None, None).await;
    assert_eq!((expired.status, expired.json()["code"].as_u64()), (401, Some(50027)));
    endpoint.stop().await;
    harness.stop().await;
}

#[tokio::test]
async fn three_second_rule_and_unknown_interactions() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    register(&harness).await;
    let endpoint = Endpoint::answering(&harness.app.public_key_hex, 202, Value::Null, Duration::ZERO).await;
    let state = harness.state();
    state.set_interactions_url(Some(endpoint.url.clone()));
    let spec = InteractionSpec::command(seed::GUILD_ID, seed::STUDENT_ID, "meet", start_options("Late"));
    let outcome = state.send_interaction(&spec).await.expect("sent");
    let webhook = format!("/webhooks/{}/{}", harness.app.id, outcome.token);
    assert_eq!(
        harness.call("POST", &webhook, None, Some(json!({"content": "early"}))).await.json()["code"],
        10015,
        "not acknowledged yet"
    );
    state.advance_clock(Duration::from_millis(3_100));
    let callback = format!("/interactions/{}/{}/callback", outcome.interaction_id, outcome.token);
    let late = harness.call("POST", &callback, None, Some(json!({"type": 4, "data": {"content": "late"}}))).await;
    assert_eq!((late.status, late.json()), (404, json!({"message": "Unknown interaction", "code": 10062})));
    let unknown = harness.call("POST", "/interactions/1/nope/callback", None, Some(json!({"type": 5}))).await;
    assert_eq!(unknown.json()["code"], 10062);
    let wrong_type = {
        let fresh = state.send_interaction(&spec).await.expect("sent");
        let callback = format!("/interactions/{}/{}/callback", fresh.interaction_id, fresh.token);
        harness.call("POST", &callback, None, Some(json!({"type": 8, "data": {"choices": []}}))).await
    };
    assert_eq!(wrong_type.json()["code"], 50035);
    endpoint.stop().await;
    harness.stop().await;
}

#[tokio::test]
async fn late_answers_miss_the_deadline() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::with(|mut config| {
        config.interaction_deadline = Duration::from_millis(300);
        config
    })
    .await;
    register(&harness).await;
    let reply = json!({"type": 4, "data": {"content": "too late"}});
    let endpoint = Endpoint::answering(&harness.app.public_key_hex, 200, reply, Duration::from_secs(3)).await;
    let state = harness.state();
    state.set_interactions_url(Some(endpoint.url.clone()));
    let spec = InteractionSpec::command(seed::GUILD_ID, seed::TEACHER_ID, "meet", start_options("Slow"));
    let outcome = state.send_interaction(&spec).await.expect("sent");
    assert!(outcome.deadline_missed);
    assert!(!outcome.responded());
    assert_eq!(outcome.error.as_deref(), Some("The application did not respond"));
    assert!(outcome.elapsed < Duration::from_secs(2), "cut at the deadline, not at the late answer");
    assert!(state.messages().is_empty());
    endpoint.stop().await;
    harness.stop().await;
}

#[tokio::test]
async fn probes_expect_401_from_a_verifying_endpoint() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let endpoint = Endpoint::answering(&harness.app.public_key_hex, 200, json!({"type": 4}), Duration::ZERO).await;
    let state = harness.state();
    assert!(state.probe(ProbeKind::WrongKey).await.is_err(), "no endpoint configured yet");
    state.set_interactions_url(Some(endpoint.url.clone()));
    let outcomes = state.probe_all().await.expect("probes");
    assert_eq!(outcomes.len(), 5);
    for outcome in &outcomes {
        assert!(outcome.passed, "{outcome:?}");
    }
    let missing = outcomes.iter().find(|outcome| outcome.kind == ProbeKind::MissingHeaders).expect("probe");
    assert_eq!(missing.status, Some(401));
    let ping = state.send_interaction(&InteractionSpec::ping()).await.expect("ping");
    assert_eq!(ping.json, Some(json!({"type": 1})));
    assert_eq!(ping.payload["type"], 1);
    endpoint.stop().await;
    harness.stop().await;
}

#[tokio::test]
async fn components_modals_autocomplete_and_dms() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    register(&harness).await;
    let behaviour: super::common::Behaviour = Arc::new(|payload: &Value| match payload["type"].as_u64() {
        Some(3) => (200, json!({"type": 7, "data": {"content": "Ended", "components": []}}), Duration::ZERO),
        Some(4) => {
            (200, json!({"type": 8, "data": {"choices": [{"name": "Algebra", "value": "algebra"}]}}), Duration::ZERO)
        }
        _ => (200, json!({"type": 4, "data": {"content": "Thanks"}}), Duration::ZERO),
    });
    let endpoint = Endpoint::start(&harness.app.public_key_hex, behaviour).await;
    let state = harness.state();
    state.set_interactions_url(Some(endpoint.url.clone()));
    let components =
        json!([{"type": 1, "components": [{"type": 2, "style": 4, "label": "End", "custom_id": "end:42"}]}]);
    let message = harness
        .bot(
            "POST",
            &format!("/channels/{}/messages", seed::GENERAL_CHANNEL),
            Some(json!({"content": "Live", "components": components})),
        )
        .await
        .json();
    let message_id: u64 = message["id"].as_str().expect("id").parse().expect("id");
    let click = state
        .send_interaction(&InteractionSpec::button(seed::GUILD_ID, seed::TEACHER_ID, "end:42", message_id))
        .await
        .expect("click");
    assert_eq!((click.payload["type"].as_u64(), click.payload["data"]["component_type"].as_u64()), (Some(3), Some(2)));
    assert_eq!(click.payload["message"]["id"], message["id"]);
    assert_eq!(state.message(message_id).expect("message")["content"], "Ended");
    let options = vec![
        json!({"type": 1, "name": "start", "options": [{"type": 3, "name": "title", "value": "Alg", "focused": true}]}),
    ];
    let auto = InteractionSpec::new(
        InteractionKind::Autocomplete { name: "meet".into(), options },
        Some(seed::GUILD_ID),
        seed::STUDENT_ID,
    );
    let auto = state.send_interaction(&auto).await.expect("autocomplete");
    assert_eq!(auto.payload["type"], 4);
    assert_eq!(auto.payload["data"]["options"][0]["options"][0]["focused"], true);
    assert!(auto.callback_error.is_none(), "{:?}", auto.callback_error);
    let fields = vec![("title".to_owned(), "Geometry".to_owned())];
    let modal = InteractionSpec::new(
        InteractionKind::ModalSubmit { custom_id: "schedule".into(), fields },
        Some(seed::GUILD_ID),
        seed::TEACHER_ID,
    );
    let modal = state.send_interaction(&modal).await.expect("modal");
    assert_eq!(modal.payload["data"]["components"][0]["component"]["value"], "Geometry");
    let dm = InteractionSpec::new(
        InteractionKind::Command { name: "meet".into(), options: start_options("DM") },
        None,
        seed::STUDENT_ID,
    );
    let dm = state.send_interaction(&dm).await.expect("dm");
    assert_eq!(
        (dm.payload["context"].as_u64(), dm.payload["user"]["id"].as_str()),
        (Some(1), Some(seed::STUDENT_ID.to_string().as_str()))
    );
    assert!(dm.payload.get("member").is_none());
    assert_eq!(dm.payload["authorizing_integration_owners"], json!({"0": "0"}));
    let unknown = InteractionSpec::command(seed::GUILD_ID, seed::TEACHER_ID, "nope", Vec::new());
    assert!(state.send_interaction(&unknown).await.is_err());
    endpoint.stop().await;
    harness.stop().await;
}
