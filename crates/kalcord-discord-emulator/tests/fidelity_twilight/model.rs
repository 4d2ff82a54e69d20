//! twilight-model 0.18 deserializes every payload the emulator sends: interactions of each type, gateway
//! events, REST responses.

use std::sync::Arc;
use std::time::Duration;

use kalcord_discord_emulator::{InteractionKind, InteractionSpec, perms, seed};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use twilight_model::application::command::Command;
use twilight_model::application::interaction::callback::InteractionCallbackResponse;
use twilight_model::application::interaction::{Interaction, InteractionData};
use twilight_model::channel::{Channel, Message};
use twilight_model::gateway::connection_info::BotConnectionInfo;
use twilight_model::gateway::event::{DispatchEvent, GatewayEvent, GatewayEventDeserializer};
use twilight_model::guild::scheduled_event::GuildScheduledEvent;
use twilight_model::guild::{Guild, Member, Role};
use twilight_model::oauth::{Application, CurrentAuthorizationInformation};
use twilight_model::user::{CurrentUser, CurrentUserGuild, User};

use crate::common::{Behaviour, Endpoint, Harness};
use crate::wsclient::Client;

fn parse<T: DeserializeOwned>(what: &str, value: &Value) -> T {
    serde_json::from_value(value.clone()).unwrap_or_else(|error| panic!("twilight rejects {what}: {error}\n{value:#}"))
}

fn gateway_event(text: &str) -> GatewayEvent {
    let deserializer =
        GatewayEventDeserializer::from_json(text).unwrap_or_else(|| panic!("not a gateway event: {text}"));
    let mut json = serde_json::Deserializer::from_str(text);
    serde::de::DeserializeSeed::deserialize(deserializer, &mut json)
        .unwrap_or_else(|error| panic!("twilight rejects {text}: {error}"))
}

fn dispatch(text: &str) -> DispatchEvent {
    match gateway_event(text) {
        GatewayEvent::Dispatch(_, event) => event,
        other => panic!("not a dispatch: {other:?}"),
    }
}

async fn register(harness: &Harness) {
    let commands = json!([
        {"name": "meet", "description": "Meetings", "options": [
            {"type": 1, "name": "start", "description": "Start", "options": [
                {"type": 3, "name": "title", "description": "Title", "required": true, "autocomplete": true},
                {"type": 6, "name": "cohost", "description": "Co-host"},
                {"type": 8, "name": "audience", "description": "Audience"},
                {"type": 7, "name": "room", "description": "Room"}]}]},
        {"type": 2, "name": "Invite"}
    ]);
    assert_eq!(
        harness.bot("PUT", &format!("/applications/{}/commands", harness.app.id), Some(commands)).await.status,
        200
    );
}

#[tokio::test]
async fn interactions_of_every_type() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    register(&harness).await;
    let behaviour: Behaviour = Arc::new(|_| (202, Value::Null, Duration::ZERO));
    let endpoint = Endpoint::start(&harness.app.public_key_hex, behaviour).await;
    let state = harness.state();
    state.set_interactions_url(Some(endpoint.url.clone()));
    let buttons = json!([{"type": 1, "components": [{"type": 2, "style": 1, "label": "Join", "custom_id": "join:1"}]}]);
    let message = harness
        .bot(
            "POST",
            &format!("/channels/{}/messages", seed::GENERAL_CHANNEL),
            Some(json!({"content": "x", "components": buttons})),
        )
        .await
        .json();
    let message_id: u64 = message["id"].as_str().expect("id").parse().expect("id");
    let options = vec![json!({"type": 1, "name": "start", "options": [
        {"type": 3, "name": "title", "value": "Algebra"},
        {"type": 6, "name": "cohost", "value": seed::STUDENT_ID.to_string()},
        {"type": 8, "name": "audience", "value": seed::STUDENT_ROLE.to_string()},
        {"type": 7, "name": "room", "value": seed::CLASSROOM_CHANNEL.to_string()}]})];
    let focused = vec![
        json!({"type": 1, "name": "start", "options": [{"type": 3, "name": "title", "value": "Al", "focused": true}]}),
    ];
    let g = Some(seed::GUILD_ID);
    let specs = [
        InteractionSpec::ping(),
        InteractionSpec::new(
            InteractionKind::Command { name: "meet".into(), options: options.clone() },
            g,
            seed::TEACHER_ID,
        ),
        InteractionSpec::new(InteractionKind::Command { name: "meet".into(), options }, None, seed::STUDENT_ID),
        InteractionSpec::new(
            InteractionKind::Autocomplete { name: "meet".into(), options: focused },
            g,
            seed::TEACHER_ID,
        ),
        InteractionSpec::button(seed::GUILD_ID, seed::STUDENT_ID, "join:1", message_id),
        InteractionSpec::new(
            InteractionKind::Select { custom_id: "pick".into(), message_id, values: vec!["a".into()] },
            g,
            seed::OWNER_ID,
        ),
        InteractionSpec::new(
            InteractionKind::ModalSubmit { custom_id: "m".into(), fields: vec![("title".into(), "Geo".into())] },
            g,
            seed::TEACHER_ID,
        ),
    ];
    for spec in &specs {
        let outcome = state.send_interaction(spec).await.expect("sent");
        let interaction: Interaction = parse("an interaction", &outcome.payload);
        assert_eq!(interaction.id.get().to_string(), outcome.interaction_id);
        if interaction.guild_id.is_some()
            && let Some(InteractionData::ApplicationCommand(data)) = &interaction.data
            && let Some(resolved) = &data.resolved
        {
            assert!(!resolved.users.is_empty() && !resolved.roles.is_empty() && !resolved.channels.is_empty());
        }
    }
    let member = parse::<Interaction>("a command", &state.send_interaction(&specs[1]).await.expect("sent").payload)
        .member
        .expect("member");
    assert_eq!(member.permissions.map(|bits| bits.bits()), state.member_permissions(seed::GUILD_ID, seed::TEACHER_ID));
    let outcome = state.send_interaction(&specs[1]).await.expect("sent");
    let callback = format!("/interactions/{}/{}/callback?with_response=true", outcome.interaction_id, outcome.token);
    let response =
        harness.call("POST", &callback, None, Some(json!({"type": 4, "data": {"content": "ok"}}))).await.json();
    let parsed: InteractionCallbackResponse = parse("a callback response", &response);
    assert!(parsed.resource.and_then(|resource| resource.message).is_some());
    endpoint.stop().await;
    harness.stop().await;
}

#[tokio::test]
async fn gateway_events() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::with(|mut config| {
        config.application.privileged_intents |= perms::INTENT_GUILD_PRESENCES;
        config
    })
    .await;
    let mut client = Client::connect(&harness.emulator.gateway_url(), "v=10&encoding=json").await;
    let hello = client.recv().await.to_string();
    assert!(matches!(gateway_event(&hello), GatewayEvent::Hello(hello) if hello.heartbeat_interval == 41_250));
    let intents = perms::INTENT_GUILDS
        | perms::INTENT_GUILD_MEMBERS
        | perms::INTENT_GUILD_PRESENCES
        | perms::INTENT_GUILD_SCHEDULED_EVENTS
        | perms::INTENT_GUILD_MESSAGES;
    client.identify(&harness.app.bot_token, intents, None).await;
    let DispatchEvent::Ready(ready) = dispatch(&client.recv().await.to_string()) else { panic!("READY first") };
    assert_eq!(ready.resume_gateway_url, harness.emulator.gateway_url());
    let DispatchEvent::GuildCreate(create) = dispatch(&client.recv().await.to_string()) else { panic!("GUILD_CREATE") };
    assert_eq!(create.id().get(), seed::GUILD_ID);
    let state = harness.state();
    state
        .add_member(
            seed::GUILD_ID,
            &kalcord_discord_emulator::MemberSeed::new(kalcord_discord_emulator::UserSeed::new(900, "eve")),
        )
        .expect("add");
    state.add_member_role(seed::GUILD_ID, 900, seed::STUDENT_ROLE).expect("role");
    state.remove_member(seed::GUILD_ID, 900).expect("remove");
    state
        .add_role(seed::GUILD_ID, &kalcord_discord_emulator::RoleSeed::new(1_284_000_000_000_000_500, "Tutor", 8))
        .expect("role");
    let roles = format!("/guilds/{}/roles/1284000000000000500", seed::GUILD_ID);
    harness.bot("PATCH", &roles, Some(json!({"name": "Tutors"}))).await;
    harness.bot("DELETE", &roles, None).await;
    let events = format!("/guilds/{}/scheduled-events", seed::GUILD_ID);
    let event = harness.bot("POST", &events, Some(super::support::external_event())).await.json();
    let one = format!("{events}/{}", event["id"].as_str().expect("id"));
    harness.bot("PATCH", &one, Some(json!({"status": 2}))).await;
    harness.bot("DELETE", &one, None).await;
    harness.bot("POST", &format!("/channels/{}/messages", seed::GENERAL_CHANNEL), Some(json!({"content": "hi"}))).await;
    let mut names = Vec::new();
    for _ in 0..10 {
        let text = client.recv().await.to_string();
        names.push(dispatch(&text).kind().name().unwrap_or_default().to_owned());
    }
    let expected = [
        "GUILD_MEMBER_ADD",
        "GUILD_MEMBER_UPDATE",
        "GUILD_MEMBER_REMOVE",
        "GUILD_ROLE_CREATE",
        "GUILD_ROLE_UPDATE",
        "GUILD_ROLE_DELETE",
        "GUILD_SCHEDULED_EVENT_CREATE",
        "GUILD_SCHEDULED_EVENT_UPDATE",
        "GUILD_SCHEDULED_EVENT_DELETE",
        "MESSAGE_CREATE",
    ];
    for name in expected {
        assert!(names.iter().any(|seen| seen == name), "{name} missing from {names:?}");
    }
    harness.stop().await;
}

#[tokio::test]
async fn rest_responses() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    register(&harness).await;
    let g = seed::GUILD_ID;
    let _: CurrentUser = parse("/users/@me", &harness.bot("GET", "/users/@me", None).await.json());
    let _: User = parse("/users/{id}", &harness.bot("GET", &format!("/users/{}", seed::STUDENT_ID), None).await.json());
    let _: Application = parse("/applications/@me", &harness.bot("GET", "/applications/@me", None).await.json());
    let _: Guild =
        parse("/guilds/{id}", &harness.bot("GET", &format!("/guilds/{g}?with_counts=true"), None).await.json());
    let _: Vec<Channel> =
        parse("/guilds/{id}/channels", &harness.bot("GET", &format!("/guilds/{g}/channels"), None).await.json());
    let _: Vec<Member> =
        parse("/guilds/{id}/members", &harness.bot("GET", &format!("/guilds/{g}/members?limit=10"), None).await.json());
    let _: Member =
        parse("a member", &harness.bot("GET", &format!("/guilds/{g}/members/{}", seed::TEACHER_ID), None).await.json());
    let _: Vec<Role> = parse("roles", &harness.bot("GET", &format!("/guilds/{g}/roles"), None).await.json());
    let _: Role = parse(
        "a new role",
        &harness.bot("POST", &format!("/guilds/{g}/roles"), Some(json!({"name": "New"}))).await.json(),
    );
    let _: Vec<Command> = parse(
        "commands",
        &harness.bot("GET", &format!("/applications/{}/commands", harness.app.id), None).await.json(),
    );
    let components =
        json!([{"type": 1, "components": [{"type": 2, "style": 5, "label": "Join", "url": "https://meet.example/x"}]}]);
    let body = json!({"content": "x", "embeds": [{"title": "Class", "description": "Now", "fields": [{"name": "a", "value": "b"}]}], "components": components});
    let _: Message = parse(
        "a message",
        &harness.bot("POST", &format!("/channels/{}/messages", seed::GENERAL_CHANNEL), Some(body)).await.json(),
    );
    let _: Channel = parse(
        "a DM",
        &harness
            .bot("POST", "/users/@me/channels", Some(json!({"recipient_id": seed::STUDENT_ID.to_string()})))
            .await
            .json(),
    );
    let _: GuildScheduledEvent = parse(
        "an event",
        &harness
            .bot("POST", &format!("/guilds/{g}/scheduled-events"), Some(super::support::external_event()))
            .await
            .json(),
    );
    let _: BotConnectionInfo = parse("/gateway/bot", &harness.bot("GET", "/gateway/bot", None).await.json());
    let tokens = harness.state().oauth_tokens(seed::TEACHER_ID, &["identify", "guilds"]);
    let access = tokens["access_token"].as_str().expect("access");
    let _: CurrentAuthorizationInformation =
        parse("/oauth2/@me", &harness.bearer("GET", "/oauth2/@me", access, None).await.json());
    let _: Vec<CurrentUserGuild> =
        parse("/users/@me/guilds", &harness.bearer("GET", "/users/@me/guilds", access, None).await.json());
    harness.stop().await;
}

#[tokio::test]
async fn guild_removal_outage_system_channel_and_overwrites() {
    use twilight_model::channel::permission_overwrite::PermissionOverwriteType;
    let _trace = kalcord_test_util::trace_init();
    let hidden = 1_284_000_000_000_000_231;
    let harness = Harness::with(|mut config| {
        let overwrite =
            kalcord_discord_emulator::OverwriteSeed::role(seed::GUILD_ID, perms::SEND_MESSAGES, perms::VIEW_CHANNEL);
        let channel = kalcord_discord_emulator::ChannelSeed::text(hidden, "hidden").with_overwrite(overwrite);
        config.guilds[0] = config.guilds[0].clone().with_channel(channel);
        config.application.bot_permissions |= perms::ADMINISTRATOR;
        config
    })
    .await;
    let g = seed::GUILD_ID;
    let guild: Guild = parse("/guilds/{id}", &harness.bot("GET", &format!("/guilds/{g}"), None).await.json());
    assert_eq!(guild.system_channel_id.map(|id| id.get()), Some(seed::GENERAL_CHANNEL));
    let channel: Channel =
        parse("/channels/{id}", &harness.bot("GET", &format!("/channels/{hidden}"), None).await.json());
    let overwrites = channel.permission_overwrites.expect("permission_overwrites");
    assert_eq!(overwrites.len(), 1);
    assert_eq!((overwrites[0].id.get(), overwrites[0].kind), (g, PermissionOverwriteType::Role));
    assert_eq!((overwrites[0].allow.bits(), overwrites[0].deny.bits()), (perms::SEND_MESSAGES, perms::VIEW_CHANNEL));

    let mut client = Client::connect(&harness.emulator.gateway_url(), "v=10&encoding=json").await;
    client.recv().await;
    client.identify(&harness.app.bot_token, perms::INTENT_GUILDS, None).await;
    client.until("GUILD_CREATE").await;
    let state = harness.state();
    state.guild_outage(g).expect("outage");
    let DispatchEvent::GuildDelete(outage) = dispatch(&client.recv().await.to_string()) else { panic!("GUILD_DELETE") };
    assert_eq!((outage.id.get(), outage.unavailable), (g, Some(true)));
    state.remove_guild(g).expect("removed");
    let DispatchEvent::GuildDelete(removed) = dispatch(&client.recv().await.to_string()) else {
        panic!("GUILD_DELETE")
    };
    assert_eq!((removed.id.get(), removed.unavailable), (g, None), "None: the bot was removed");
    harness.stop().await;
}
