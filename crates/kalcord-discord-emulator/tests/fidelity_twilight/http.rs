//! twilight-http 0.18 against the emulator (`proxy("127.0.0.1:PORT", true)`): messages, commands, guild
//! routes, interaction responses, rate limiting driven by the emulator's headers, scripted 401 and 429.

use std::time::{Duration, Instant};

use kalcord_discord_emulator::{BucketLimit, Fault, FaultAction, InteractionSpec, RateLimitConfig, seed};
use serde_json::{Value, json};
use twilight_model::application::command::Command;
use twilight_model::guild::scheduled_event::PrivacyLevel;
use twilight_model::http::interaction::{InteractionResponse, InteractionResponseType};
use twilight_model::id::Id;
use twilight_model::util::Timestamp;

use super::support::{in_hours, twilight};
use crate::common::{Endpoint, Harness};

fn commands() -> Vec<Command> {
    serde_json::from_value(json!([
        {"name": "meet", "description": "Meetings", "type": 1, "version": "1", "options": [
            {"type": 1, "name": "start", "description": "Start a meeting", "options": [
                {"type": 3, "name": "title", "description": "Title", "required": true}]}]},
        {"name": "Invite", "description": "", "type": 2, "version": "1"}
    ]))
    .expect("commands")
}

#[tokio::test]
async fn messages_commands_and_guild_routes() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let client = twilight(&harness.emulator);
    let me = client.current_user().await.expect("current user").model().await.expect("model");
    assert_eq!(me.id.get().to_string(), harness.app.bot_user_id);
    let channel = Id::new(seed::GENERAL_CHANNEL);
    let message = client
        .create_message(channel)
        .content("hello from twilight")
        .await
        .expect("create")
        .model()
        .await
        .expect("model");
    assert_eq!(message.content, "hello from twilight");
    let edited = client
        .update_message(channel, message.id)
        .content(Some("edited"))
        .await
        .expect("edit")
        .model()
        .await
        .expect("model");
    assert_eq!(edited.content, "edited");
    client.delete_message(channel, message.id).await.expect("delete");
    let app_id = Id::new(harness.app.id.parse().expect("id"));
    let set =
        client.interaction(app_id).set_global_commands(&commands()).await.expect("set").models().await.expect("models");
    assert_eq!(set.len(), 2);
    assert!(set.iter().all(|command| command.id.is_some() && command.application_id == Some(app_id)));
    let guild = client.guild(Id::new(seed::GUILD_ID)).await.expect("guild").model().await.expect("model");
    assert_eq!(guild.name, "Kalcord Demo School");
    let members =
        client.guild_members(Id::new(seed::GUILD_ID)).limit(10).await.expect("members").models().await.expect("models");
    assert_eq!(members.len(), 6);
    let role =
        client.create_role(Id::new(seed::GUILD_ID)).name("Visitor").await.expect("role").model().await.expect("model");
    client.add_guild_member_role(Id::new(seed::GUILD_ID), Id::new(seed::MEMBER_ID), role.id).await.expect("add role");
    assert!(harness.state().member_roles(seed::GUILD_ID, seed::MEMBER_ID).expect("member").contains(&role.id.get()));
    let (start, end) =
        (Timestamp::from_secs(in_hours(24)).expect("ts"), Timestamp::from_secs(in_hours(25)).expect("ts"));
    let event = client
        .create_guild_scheduled_event(Id::new(seed::GUILD_ID), PrivacyLevel::GuildOnly)
        .external("Weekly sync", "https://meet.example.com/abc", &start, &end)
        .await
        .expect("event")
        .model()
        .await
        .expect("model");
    assert_eq!(
        event.entity_metadata.and_then(|metadata| metadata.location).as_deref(),
        Some("https://meet.example.com/abc")
    );
    assert!(harness.state().requests().iter().all(|record| record.status < 400), "{:?}", harness.state().requests());
    harness.stop().await;
}

#[tokio::test]
async fn interaction_responses_and_follow_ups() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let client = twilight(&harness.emulator);
    let app_id = Id::new(harness.app.id.parse().expect("id"));
    client.interaction(app_id).set_global_commands(&commands()).await.expect("set");
    let endpoint = Endpoint::answering(&harness.app.public_key_hex, 202, Value::Null, Duration::ZERO).await;
    let state = harness.state();
    state.set_interactions_url(Some(endpoint.url.clone()));
    let outcome = state
        .send_interaction(&InteractionSpec::command(seed::GUILD_ID, seed::TEACHER_ID, "meet", Vec::new()))
        .await
        .expect("sent");
    let interaction_id = Id::new(outcome.interaction_id.parse().expect("id"));
    let defer = InteractionResponse { kind: InteractionResponseType::DeferredChannelMessageWithSource, data: None };
    let interactions = client.interaction(app_id);
    let response = interactions
        .create_response(interaction_id, &outcome.token, &defer)
        .with_response()
        .await
        .expect("callback")
        .model()
        .await
        .expect("model");
    assert_eq!(response.interaction.response_message_loading, Some(true));
    let again = interactions.create_response(interaction_id, &outcome.token, &defer).await;
    let error = again.expect_err("a second acknowledgement is refused");
    assert!(error.to_string().contains("40060") || format!("{error:?}").contains("40060"), "{error:?}");
    let original = interactions
        .update_response(&outcome.token)
        .content(Some("Join: https://meet.example/x"))
        .await
        .expect("edit")
        .model()
        .await
        .expect("model");
    assert_eq!(original.content, "Join: https://meet.example/x");
    let followup = interactions
        .create_followup(&outcome.token)
        .content("Reminder")
        .await
        .expect("followup")
        .model()
        .await
        .expect("model");
    assert_eq!(followup.content, "Reminder");
    let fetched = interactions.response(&outcome.token).await.expect("get").model().await.expect("model");
    assert_eq!(fetched.id, original.id);
    endpoint.stop().await;
    harness.stop().await;
}

#[tokio::test]
async fn twilight_is_rate_limited_by_the_emulator_headers() {
    let _trace = kalcord_test_util::trace_init();
    let limits = RateLimitConfig::default().with_route(
        "POST",
        "/channels/{channel_id}/messages",
        BucketLimit::new(2, Duration::from_millis(500)),
    );
    let harness = Harness::with(|mut config| {
        config.rate_limits = limits;
        config
    })
    .await;
    let client = twilight(&harness.emulator);
    let started = Instant::now();
    for index in 0..5 {
        client
            .create_message(Id::new(seed::GENERAL_CHANNEL))
            .content(&format!("message {index}"))
            .await
            .expect("create");
    }
    let elapsed = started.elapsed();
    let statuses: Vec<u16> = harness.state().requests().iter().map(|record| record.status).collect();
    assert_eq!(statuses, [200; 5], "twilight waited instead of being answered 429");
    assert!(elapsed >= Duration::from_millis(900), "5 messages at 2 per 500 ms take two resets, took {elapsed:?}");
    harness.stop().await;
}

#[tokio::test]
async fn scripted_401_and_429() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let client = twilight(&harness.emulator);
    let state = harness.state();
    state.add_fault(Fault::next(FaultAction::Status { status: 401 }).on("GET", "/users/@me"));
    let error = client.current_user().await.expect_err("scripted 401");
    assert!(format!("{error:?}").contains("401") || format!("{error:?}").contains("Unauthorized"), "{error:?}");
    client.current_user().await.expect("remember_invalid_token(false) lets the next request through");
    state.add_fault(Fault::next(FaultAction::RateLimited { retry_after: 0.2, global: false }).on("GET", "/guilds/*"));
    let guild =
        client.guild(Id::new(seed::GUILD_ID)).await.expect("retried after the 429").model().await.expect("model");
    assert_eq!(guild.id.get(), seed::GUILD_ID);
    let statuses: Vec<u16> =
        state.requests().iter().filter(|record| record.path.contains("/guilds/")).map(|record| record.status).collect();
    assert_eq!(statuses, [429, 200]);
    harness.stop().await;
}
