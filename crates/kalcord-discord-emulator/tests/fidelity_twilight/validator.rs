//! Schema validation with the npm package `discord-api-spec` (installed by `npm ci --prefix tests/fidelity/discord`).
//! These tests fail, never skip, when the package is missing.

use std::path::PathBuf;
use std::time::Duration;

use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, EmulatorError, ValidatorConfig, seed};
use serde_json::json;
use twilight_model::guild::scheduled_event::PrivacyLevel;
use twilight_model::id::Id;
use twilight_model::util::Timestamp;

use super::support::{in_hours, twilight};
use crate::common::Harness;

/// The validator of the workspace; fails with the install command when `node_modules` is missing.
fn installed() -> ValidatorConfig {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fidelity/discord");
    assert!(
        root.join("node_modules/discord-api-spec/package.json").is_file()
            && root.join("node_modules/zod/package.json").is_file(),
        "discord-api-spec is not installed: run npm ci --prefix tests/fidelity/discord"
    );
    ValidatorConfig::in_workspace()
}

async fn validated() -> Harness {
    let validator = installed();
    Harness::with(|config| config.with_validator(validator)).await
}

#[tokio::test]
async fn invalid_bodies_get_50035_and_are_recorded() {
    let _trace = kalcord_test_util::trace_init();
    let harness = validated().await;
    let path = format!("/channels/{}/messages", seed::GENERAL_CHANNEL);
    let embeds: Vec<_> = (0..11).map(|index| json!({"title": format!("embed {index}")})).collect();
    let eleven = harness.bot("POST", &path, Some(json!({"content": "x", "embeds": embeds}))).await;
    assert_eq!((eleven.status, eleven.json()["code"].as_u64()), (400, Some(50035)));
    assert_eq!(eleven.json()["errors"]["embeds"]["_errors"][0]["code"], "BASE_TYPE_MAX_LENGTH");
    let huge = harness.bot("POST", &path, Some(json!({"content": "x".repeat(4001)}))).await;
    assert_eq!(huge.json()["errors"]["content"]["_errors"][0]["code"], "BASE_TYPE_MAX_LENGTH");
    let violations = harness.state().schema_violations();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert_eq!(violations[0].operation.as_deref(), Some("/channels/{channel_id}/messages"));
    assert_eq!(violations[0].issues[0]["path"], json!(["embeds"]));
    let record =
        harness.state().requests().into_iter().find(|record| !record.schema_violations.is_empty()).expect("recorded");
    assert_eq!(record.status, 400);
    let over_bot_limit = harness.bot("POST", &path, Some(json!({"content": "x".repeat(2001)}))).await;
    assert_eq!(over_bot_limit.json()["code"], 50035, "the schema allows 4000, Discord's bot limit is 2000");
    assert_eq!(harness.state().schema_violations().len(), 2, "that one is not a schema violation");
    let bad_event = harness
        .bot(
            "POST",
            &format!("/guilds/{}/scheduled-events", seed::GUILD_ID),
            Some(json!({"name": "x", "privacy_level": 2, "entity_type": 3})),
        )
        .await;
    assert_eq!(bad_event.status, 400);
    assert_eq!(harness.state().schema_violations().len(), 3);
    let callback = harness.call("POST", "/interactions/1/abc/callback", None, Some(json!({"type": 99}))).await;
    assert!(callback.json()["errors"]["type"].is_object(), "{}", callback.body);
    harness.stop().await;
}

#[tokio::test]
async fn valid_bodies_and_twilight_requests_pass() {
    let _trace = kalcord_test_util::trace_init();
    let harness = validated().await;
    let path = format!("/channels/{}/messages", seed::GENERAL_CHANNEL);
    let components =
        json!([{"type": 1, "components": [{"type": 2, "style": 5, "label": "Join", "url": "https://meet.example/x"}]}]);
    let ok = harness
        .bot("POST", &path, Some(json!({"content": "Class", "embeds": [{"title": "Now"}], "components": components})))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let role = harness
        .bot(
            "POST",
            &format!("/guilds/{}/roles", seed::GUILD_ID),
            Some(json!({"name": "Guest", "permissions": "1024"})),
        )
        .await;
    assert_eq!(role.status, 200, "permission strings are coerced as Discord does: {}", role.body);
    let client = twilight(&harness.emulator);
    client.create_message(Id::new(seed::GENERAL_CHANNEL)).content("from twilight").await.expect("message");
    let commands: Vec<twilight_model::application::command::Command> = serde_json::from_value(json!([
        {"name": "meet", "description": "Meetings", "type": 1, "version": "1", "default_member_permissions": "0", "options": [
            {"type": 3, "name": "title", "description": "Title", "required": true, "max_length": 100}]}]))
    .expect("commands");
    let app_id = Id::new(harness.app.id.parse().expect("id"));
    client.interaction(app_id).set_global_commands(&commands).await.expect("commands");
    client.create_role(Id::new(seed::GUILD_ID)).name("Twilight").await.expect("role");
    let (start, end) =
        (Timestamp::from_secs(in_hours(24)).expect("ts"), Timestamp::from_secs(in_hours(25)).expect("ts"));
    client
        .create_guild_scheduled_event(Id::new(seed::GUILD_ID), PrivacyLevel::GuildOnly)
        .external("Weekly sync", "https://meet.example.com/abc", &start, &end)
        .await
        .expect("event");
    assert_eq!(harness.state().schema_violations(), Vec::new());
    harness.stop().await;
}

#[tokio::test]
async fn a_configured_validator_that_cannot_start_fails_the_start() {
    let _trace = kalcord_test_util::trace_init();
    let mut missing = ValidatorConfig::new("/nonexistent/validator.mjs");
    missing.start_timeout = Duration::from_secs(5);
    let error = DiscordEmulator::start(EmulatorConfig::default().with_validator(missing)).await.expect_err("refused");
    assert!(matches!(error, EmulatorError::Validator(_)));
    assert!(error.to_string().contains("npm ci --prefix tests/fidelity/discord"), "{error}");
}
