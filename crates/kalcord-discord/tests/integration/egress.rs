//! The Discord egress against the emulator (demo guild, Discord's published schemas checking every body we send):
//! messages, command registration (with the Activity entry point), 429s, the invalid-request guard, the global
//! limit shared by replicas through Redis, and interaction webhooks (deferral, `@original`, expiry).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kalcord_cache::{RedisCache, SharedCache};
use kalcord_discord::command::{PRIMARY_ENTRY_POINT, SyncPlan, all, plan};
use kalcord_discord::egress::{Egress, EgressConfig, EgressError};
use kalcord_discord::response::{ButtonStyle, Component, Embed, MessageData};
use kalcord_discord_emulator::{
    APPLICATION_FLAG_EMBEDDED, BucketLimit, DiscordEmulator, Fault, FaultAction, InteractionSpec, MessageAction,
    MessageRecord, MessageSource, RateLimitConfig, RequestRecord, seed,
};
use serde_json::{Value, json};

use super::support::{self, Endpoint};

const MESSAGES_ROUTE: &str = "/channels/{channel_id}/messages";
const GUILD_COMMANDS_ROUTE: &str = "/applications/{application_id}/guilds/{guild_id}/commands";
const GLOBAL_COMMANDS_ROUTE: &str = "/applications/{application_id}/commands";

fn records_of(emulator: &DiscordEmulator, message_id: &str) -> Vec<MessageRecord> {
    let id: u64 = message_id.parse().expect("message ids are snowflakes");
    emulator.state().messages().into_iter().filter(|record| record.message_id == id).collect()
}

fn requests_on(emulator: &DiscordEmulator, method: &str, route: &str) -> Vec<RequestRecord> {
    emulator
        .state()
        .requests()
        .into_iter()
        .filter(|record| record.method == method && record.route.as_deref() == Some(route))
        .collect()
}

fn names(commands: &[Value]) -> Vec<String> {
    let mut names: Vec<String> =
        commands.iter().filter_map(|command| command["name"].as_str().map(str::to_owned)).collect();
    names.sort();
    names
}

fn text(content: &str) -> MessageData {
    MessageData::text(content)
}

/// Registers kalcord's commands in the demo guild (so slash-command interactions can be sent).
async fn register_in_demo_guild(egress: &Egress) {
    let existing = egress.commands(Some(seed::GUILD_ID)).await.expect("guild commands listed");
    if let SyncPlan::Overwrite(body) = plan(&existing, &all()) {
        egress.overwrite_commands(Some(seed::GUILD_ID), &body).await.expect("guild commands registered");
    }
}

/// `/meeting start title:Maths` by the demo teacher, deferred (`{"type":5}`) by `endpoint`; returns its token.
async fn deferred_meeting_start(emulator: &DiscordEmulator, endpoint: &Endpoint) -> String {
    emulator.state().set_interactions_url(Some(endpoint.url.clone()));
    let options =
        vec![json!({"type": 1, "name": "start", "options": [{"type": 3, "name": "title", "value": "Maths"}]})];
    let spec = InteractionSpec::command(seed::GUILD_ID, seed::TEACHER_ID, "meeting", options);
    let outcome = emulator.state().send_interaction(&spec).await.expect("interaction sent");
    assert!(outcome.responded() && outcome.callback_error.is_none(), "the endpoint deferred: {outcome:?}");
    assert_eq!(outcome.json, Some(json!({"type": 5})));
    outcome.token
}

fn unix_millis() -> u64 {
    u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()).expect("millis fit")
}

/// Waits until `offset_ms` past the next full second, so a burst starts at the beginning of a second.
async fn start_of_next_second(offset_ms: u64) {
    tokio::time::sleep(Duration::from_millis(1000 - unix_millis() % 1000 + offset_ms)).await;
}

/// Waits out the last seconds of the egress's 10-minute invalid-request window, so a test's invalid answers all
/// land in one window.
async fn clear_of_the_invalid_window_edge() {
    let into_window = (unix_millis() / 1000) % 600;
    if into_window >= 590 {
        tokio::time::sleep(Duration::from_secs(601 - into_window)).await;
    }
}

#[tokio::test]
async fn a_message_with_an_embed_and_a_link_button_is_created_then_edited() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = support::emulator(|config| config).await;
    let egress = support::egress(&emulator);
    let join = "https://kaltura.example/meetings/42/join";
    let posted = MessageData::embed(
        Embed::titled("Maths 101")
            .description("Starts in 5 minutes")
            .field("Host", "ada", true)
            .color(0x0058_65f2)
            .footer("kalcord"),
    )
    .row(Component::row(vec![
        Component::link("Join", join).expect("a short https URL"),
        Component::button(ButtonStyle::Secondary, "Details", "meeting:info:42".to_owned()),
    ]));
    let created = egress.create_message(seed::GENERAL_CHANNEL, &posted).await.expect("message created");
    assert_eq!(created.channel_id, seed::GENERAL_CHANNEL.to_string());
    let id: u64 = created.id.parse().expect("snowflake");

    let disabled_join = Component::Button {
        kind: 2,
        style: ButtonStyle::Link as u8,
        label: "Join".to_owned(),
        custom_id: None,
        url: Some(join.to_owned()),
        disabled: true,
    };
    let ended = MessageData {
        content: Some("This meeting has ended.".to_owned()),
        ..MessageData::embed(Embed::titled("Maths 101").description("Ended"))
    }
    .row(Component::row(vec![disabled_join]));
    let edited = egress.edit_message(seed::GENERAL_CHANNEL, id, &ended).await.expect("message edited");
    assert_eq!(edited, created, "the same message");

    let records = records_of(&emulator, &created.id);
    assert_eq!(records.len(), 2, "{records:#?}");
    let (first, second) = (&records[0], &records[1]);
    assert_eq!(
        (first.action, first.source, first.channel_id),
        (MessageAction::Created, MessageSource::Rest, seed::GENERAL_CHANNEL)
    );
    assert_eq!(first.content, "");
    assert_eq!(first.embeds[0]["title"], "Maths 101");
    assert_eq!(first.embeds[0]["description"], "Starts in 5 minutes");
    assert_eq!(first.embeds[0]["fields"][0], json!({"name": "Host", "value": "ada", "inline": true}));
    assert_eq!(first.embeds[0]["color"], 0x0058_65f2);
    assert_eq!(first.embeds[0]["footer"]["text"], "kalcord");
    let buttons = &first.components[0]["components"];
    assert_eq!((buttons[0]["style"].as_u64(), buttons[0]["url"].as_str()), (Some(5), Some(join)));
    assert!(buttons[0].get("custom_id").is_none(), "link buttons carry no custom_id: {buttons}");
    assert_eq!((buttons[1]["style"].as_u64(), buttons[1]["custom_id"].as_str()), (Some(2), Some("meeting:info:42")));
    assert_eq!((second.action, second.source), (MessageAction::Edited, MessageSource::Rest));
    assert_eq!(second.content, "This meeting has ended.");
    assert_eq!(second.embeds[0]["description"], "Ended");
    assert_eq!(second.components[0]["components"].as_array().map(Vec::len), Some(1));
    assert_eq!(second.components[0]["components"][0]["disabled"], true);

    // NOTE: a PATCH without `embeds`/`components` keeps them (Discord's semantics); plain `MessageData` leaves
    // empty lists out, and `replacing()` sends them as `[]` to remove them.
    egress.edit_message(seed::GENERAL_CHANNEL, id, &text("Recording available soon.")).await.expect("edited again");
    let shown = emulator.state().message(id).expect("the message exists");
    assert_eq!(shown["content"], "Recording available soon.");
    assert_eq!(shown["embeds"][0]["description"], "Ended");
    assert_eq!(shown["components"][0]["components"][0]["disabled"], true);
    assert_eq!(shown["allowed_mentions"], Value::Null, "not echoed");
    let posts = requests_on(&emulator, "POST", MESSAGES_ROUTE);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].body.as_ref().map(|body| body["allowed_mentions"].clone()), Some(json!({"parse": []})));

    egress.edit_message(seed::GENERAL_CHANNEL, id, &text("Ended; no more buttons.").replacing()).await.expect("edit");
    let shown = emulator.state().message(id).expect("the message exists");
    assert_eq!(shown["content"], "Ended; no more buttons.");
    assert_eq!(shown["embeds"], json!([]), "embeds removed: {shown}");
    assert_eq!(shown["components"], json!([]), "buttons removed: {shown}");
    let patches = requests_on(&emulator, "PATCH", "/channels/{channel_id}/messages/{message_id}");
    let last = patches.last().and_then(|patch| patch.body.clone()).expect("the last edit's body");
    assert_eq!((&last["embeds"], &last["components"]), (&json!([]), &json!([])), "sent as empty lists: {last}");
    support::assert_no_schema_violations(&emulator);
    emulator.stop().await;
}

#[tokio::test]
async fn guild_commands_are_registered_once_then_reported_up_to_date() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = support::emulator(|config| config).await;
    let egress = support::egress(&emulator);
    let guild = Some(seed::GUILD_ID);
    let existing = egress.commands(guild).await.expect("commands listed");
    assert!(existing.is_empty(), "a fresh guild has none: {existing:?}");
    let SyncPlan::Overwrite(body) = plan(&existing, &all()) else { panic!("an empty guild needs the commands") };
    assert_eq!(body, serde_json::to_value(all()).expect("definitions serialise"), "exactly our definitions");
    let registered = egress.overwrite_commands(guild, &body).await.expect("bulk overwrite accepted");
    assert_eq!(names(&registered), ["kaltura", "meeting"]);
    let guild_text = seed::GUILD_ID.to_string();
    assert!(registered.iter().all(|command| command["guild_id"].as_str() == Some(&guild_text)), "{registered:?}");

    let after = egress.commands(guild).await.expect("commands listed again");
    assert_eq!(plan(&after, &all()), SyncPlan::UpToDate, "what Discord echoes back matches the definitions");
    let puts = requests_on(&emulator, "PUT", GUILD_COMMANDS_ROUTE);
    assert_eq!(puts.len(), 1, "exactly one bulk overwrite");
    assert_eq!((puts[0].status, puts[0].body.as_ref()), (200, Some(&body)));
    let stored = emulator.state().commands();
    assert_eq!(names(&stored), ["kaltura", "meeting"]);
    let kaltura = stored.iter().find(|command| command["name"] == "kaltura").expect("kaltura");
    assert_eq!(kaltura["default_member_permissions"], "32", "only for members who can manage the server");
    assert_eq!(emulator.state().invalid_requests(&emulator.application().bot_token), 0);
    support::assert_no_schema_violations(&emulator);
    emulator.stop().await;
}

#[tokio::test]
async fn a_global_overwrite_keeps_the_activity_entry_point_command() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = support::emulator(|mut config| {
        // NOTE: with Activities enabled, Discord (and the emulator) give the app its PRIMARY_ENTRY_POINT command.
        config.application.flags |= APPLICATION_FLAG_EMBEDDED;
        config
    })
    .await;
    let egress = support::egress(&emulator);
    let existing = egress.commands(None).await.expect("global commands listed");
    let entry = existing.iter().find(|command| command["type"] == PRIMARY_ENTRY_POINT).expect("seeded entry point");
    let entry_id = entry["id"].clone();

    let refused = egress.overwrite_commands(None, &serde_json::to_value(all()).expect("serialise")).await;
    assert!(
        matches!(refused, Err(EgressError::Discord { status: 400, code: 50240, .. })),
        "dropping the entry point is refused, which is why plan() keeps it: {refused:?}"
    );
    let SyncPlan::Overwrite(body) = plan(&existing, &all()) else { panic!("meeting and kaltura are missing") };
    let sent_entry = body
        .as_array()
        .and_then(|items| items.iter().find(|item| item["type"] == PRIMARY_ENTRY_POINT))
        .expect("the body keeps the entry point");
    assert_eq!(
        (&sent_entry["id"], &sent_entry["name"], &sent_entry["handler"]),
        (&entry_id, &json!("launch"), &json!(2))
    );
    let registered = egress.overwrite_commands(None, &body).await.expect("bulk overwrite accepted");
    assert_eq!(names(&registered), ["kaltura", "launch", "meeting"]);
    let kept = registered.iter().find(|command| command["type"] == PRIMARY_ENTRY_POINT).expect("still there");
    assert_eq!(kept["id"], entry_id, "the same command, not a new one");

    let puts = requests_on(&emulator, "PUT", GLOBAL_COMMANDS_ROUTE);
    assert_eq!(puts.iter().map(|put| put.status).collect::<Vec<_>>(), [400, 200]);
    assert_eq!(puts[1].body.as_ref(), Some(&body), "the PUT sent the entry point along");
    assert_eq!(plan(&egress.commands(None).await.expect("listed"), &all()), SyncPlan::UpToDate);
    support::assert_no_schema_violations(&emulator);
    emulator.stop().await;
}

#[tokio::test]
async fn a_route_429_is_waited_out_then_the_message_is_sent_once() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = support::emulator(|config| config).await;
    let egress = support::egress(&emulator);
    emulator.state().add_fault(
        Fault::next(FaultAction::RateLimited { retry_after: 1.2, global: false }).on("POST", "/channels/*/messages"),
    );
    let started = Instant::now();
    let created = egress.create_message(seed::GENERAL_CHANNEL, &text("after the wait")).await.expect("created");
    let elapsed = started.elapsed();
    let posts = requests_on(&emulator, "POST", MESSAGES_ROUTE);
    assert_eq!(posts.iter().map(|post| post.status).collect::<Vec<_>>(), [429, 200], "one 429, one retry");
    assert!(
        posts[1].at_ms - posts[0].at_ms >= 1_100,
        "the retry waited retry_after: {} ms",
        posts[1].at_ms - posts[0].at_ms
    );
    assert!(elapsed >= Duration::from_millis(1_100), "{elapsed:?}");
    assert_eq!(records_of(&emulator, &created.id).len(), 1, "created once");
    support::assert_no_schema_violations(&emulator);
    emulator.stop().await;
}

#[tokio::test]
async fn a_global_429_is_waited_out_by_every_replica_and_counted_as_invalid() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = support::emulator(|config| config).await;
    let cache = support::memory_cache();
    let first = Egress::new(support::egress_config(&emulator), Arc::clone(&cache));
    let second = Egress::new(support::egress_config(&emulator), cache);
    clear_of_the_invalid_window_edge().await;
    emulator.state().add_fault(
        Fault::next(FaultAction::RateLimited { retry_after: 1.5, global: true }).on("POST", "/channels/*/messages"),
    );
    let started = Instant::now();
    first.create_message(seed::GENERAL_CHANNEL, &text("after the global wait")).await.expect("created");
    let elapsed = started.elapsed();
    let posts = requests_on(&emulator, "POST", MESSAGES_ROUTE);
    assert_eq!(posts.iter().map(|post| post.status).collect::<Vec<_>>(), [429, 200], "one 429, one retry: {posts:#?}");
    assert!(posts[1].at_ms - posts[0].at_ms >= 1_400, "no immediate retry: {} ms", posts[1].at_ms - posts[0].at_ms);
    assert!(elapsed >= Duration::from_millis(1_400), "{elapsed:?}");
    assert_eq!(emulator.state().invalid_requests(&emulator.application().bot_token), 1, "a global 429 is invalid");

    // Another replica on the same cache, on another route, also waits while the global limit lasts.
    emulator.state().add_fault(
        Fault::next(FaultAction::RateLimited { retry_after: 1.5, global: true }).on("GET", "/applications/*/commands"),
    );
    let lister = first.clone();
    let listing = tokio::spawn(async move { lister.commands(None).await });
    let blocked_at = loop {
        if let Some(get) = requests_on(&emulator, "GET", GLOBAL_COMMANDS_ROUTE).first() {
            break get.at_ms;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    // Lets the first replica record the block before the second one asks.
    tokio::time::sleep(Duration::from_millis(100)).await;
    second.create_message(seed::GENERAL_CHANNEL, &text("from the second replica")).await.expect("created");
    listing.await.expect("the task ran").expect("listed after the wait");
    let posts = requests_on(&emulator, "POST", MESSAGES_ROUTE);
    let last = posts.last().expect("the second replica's post");
    assert_eq!(last.status, 200);
    assert!(last.at_ms - blocked_at >= 1_400, "the second replica waited: {} ms", last.at_ms - blocked_at);
    support::assert_no_schema_violations(&emulator);
    emulator.stop().await;
}

#[tokio::test]
async fn a_429_that_keeps_coming_gives_up_after_a_few_spaced_attempts() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = support::emulator(|config| config).await;
    let egress = support::egress(&emulator);
    emulator.state().add_fault(
        Fault::next(FaultAction::RateLimited { retry_after: 0.2, global: false })
            .on("POST", "/channels/*/messages")
            .times(10),
    );
    let answer = egress.create_message(seed::GENERAL_CHANNEL, &text("never sent")).await;
    assert!(matches!(answer, Err(EgressError::RateLimited { global: false, .. })), "{answer:?}");
    let posts = requests_on(&emulator, "POST", MESSAGES_ROUTE);
    assert_eq!(posts.len(), 4, "a bounded number of attempts: {posts:#?}");
    for pair in posts.windows(2) {
        assert!(pair[1].at_ms - pair[0].at_ms >= 180, "spaced by retry_after: {posts:#?}");
    }
    emulator.stop().await;
}

#[tokio::test]
async fn invalid_answers_suspend_the_egress_before_cloudflare_would() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = support::emulator(|config| config).await;
    let app = emulator.application();
    let cache = support::memory_cache();
    let config = EgressConfig { invalid_limit: 3, ..support::egress_config(&emulator) };
    let egress = Egress::new(config.clone(), Arc::clone(&cache));
    clear_of_the_invalid_window_edge().await;
    emulator
        .state()
        .add_fault(Fault::next(FaultAction::Status { status: 403 }).on("POST", "/channels/*/messages").times(3));
    for attempt in 1..=3 {
        let answer = egress.create_message(seed::GENERAL_CHANNEL, &text("forbidden")).await;
        let Err(EgressError::Discord { status, code, message }) = answer else {
            panic!("attempt {attempt}: {answer:?}")
        };
        assert_eq!((status, code, message.as_str()), (403, 50001, "Missing Access"), "attempt {attempt}");
    }
    assert_eq!(emulator.state().invalid_requests(&app.bot_token), 3);
    let seen = emulator.state().requests().len();

    let suspended = egress.create_message(seed::GENERAL_CHANNEL, &text("not sent")).await;
    let Err(EgressError::Suspended { remaining_seconds }) = suspended else { panic!("suspended: {suspended:?}") };
    assert!((1..=600).contains(&remaining_seconds), "{remaining_seconds}");
    assert!(matches!(egress.commands(None).await, Err(EgressError::Suspended { .. })), "every route");
    assert!(
        matches!(egress.edit_original("any", &text("x")).await, Err(EgressError::Suspended { .. })),
        "webhooks too"
    );
    let replica = Egress::new(config, cache);
    let shared = replica.create_message(seed::GENERAL_CHANNEL, &text("not sent either")).await;
    assert!(matches!(shared, Err(EgressError::Suspended { .. })), "another replica on the same cache: {shared:?}");
    assert_eq!(emulator.state().requests().len(), seen, "nothing more reached Discord");
    support::assert_no_schema_violations(&emulator);
    emulator.stop().await;
}

#[tokio::test]
async fn a_wrong_bot_token_costs_a_single_invalid_request() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = support::emulator(|config| config).await;
    let config = EgressConfig {
        bot_token: kalcord_config::Secret::new("not-the-bot-token"),
        invalid_limit: 3,
        ..support::egress_config(&emulator)
    };
    let egress = Egress::new(config, support::memory_cache());
    let first = egress.create_message(seed::GENERAL_CHANNEL, &text("who am I")).await;
    assert!(matches!(first, Err(EgressError::Discord { status: 401, code: 0, .. })), "{first:?}");
    for _ in 0..3 {
        let again = egress.create_message(seed::GENERAL_CHANNEL, &text("who am I")).await;
        // NOTE: the egress remembers a 401 on the bot token and refuses locally from then on.
        assert!(matches!(again, Err(EgressError::InvalidToken)), "{again:?}");
    }
    let requests = emulator.state().requests();
    assert_eq!(requests.iter().map(|request| request.status).collect::<Vec<_>>(), [401], "one request reached Discord");
    assert_eq!(emulator.state().invalid_requests("not-the-bot-token"), 1);
    emulator.stop().await;
}

#[tokio::test]
async fn a_deferred_interaction_is_completed_through_webhooks_until_its_token_expires() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = support::emulator(|config| config).await;
    let app = emulator.application();
    let egress = support::egress(&emulator);
    register_in_demo_guild(&egress).await;
    let endpoint = Endpoint::start(&app.public_key_hex, json!({"type": 5})).await;
    let token = deferred_meeting_start(&emulator, &endpoint).await;
    let seen = endpoint.seen().await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].verdict, Ok(()), "our verifier accepts the emulator's signed interaction");

    let original = egress.edit_original(&token, &text("done")).await.expect("@original edited");
    let records = records_of(&emulator, &original.id);
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!((records[0].action, records[0].source), (MessageAction::Created, MessageSource::InteractionResponse));
    assert_eq!((records[1].action, records[1].source), (MessageAction::Edited, MessageSource::Webhook));
    assert_eq!(records[1].content, "done");
    assert_eq!(records[1].flags & (1 << 7), 0, "no longer loading");
    let patch = requests_on(&emulator, "PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original");
    assert_eq!(patch.len(), 1);
    assert!(patch[0].path.starts_with(&format!("/api/v10/webhooks/{}/", app.id)), "{}", patch[0].path);
    assert_eq!(patch[0].status, 200);

    let followup = egress.create_followup(&token, &text("and only for you").ephemeral()).await.expect("follow-up");
    let records = records_of(&emulator, &followup.id);
    assert_eq!((records[0].action, records[0].source), (MessageAction::Created, MessageSource::Webhook));
    assert_eq!((records[0].content.as_str(), records[0].flags & 64), ("and only for you", 64));

    emulator.state().advance_clock(Duration::from_secs(15 * 60 + 1));
    for answer in
        [egress.edit_original(&token, &text("too late")).await, egress.create_followup(&token, &text("too late")).await]
    {
        let Err(EgressError::Discord { status, code, message }) = answer else { panic!("expired: {answer:?}") };
        assert_eq!((status, code, message.as_str()), (401, 50027, "Invalid Webhook Token"));
    }
    let still = egress.create_message(seed::GENERAL_CHANNEL, &text("the bot token still works")).await;
    assert!(still.is_ok(), "an expired interaction token must not disable the bot token: {still:?}");
    support::assert_no_schema_violations(&emulator);
    emulator.stop().await;
}

#[tokio::test]
async fn two_replicas_share_the_global_limit_through_redis_and_webhooks_are_exempt() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = support::emulator(|mut config| {
        // NOTE: room in the channel's own bucket (Discord: 5 per 5 s), so only the global limit is measured.
        config.rate_limits = RateLimitConfig::default().with_route(
            "POST",
            MESSAGES_ROUTE,
            BucketLimit::new(100, Duration::from_secs(1)),
        );
        config
    })
    .await;
    let app = emulator.application();
    let prefix = support::unique_prefix("discord-global");
    let redis = kalcord_test_util::env::redis_url();
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let cache: SharedCache = Arc::new(
            RedisCache::connect(&redis, &prefix)
                .await
                .unwrap_or_else(|error| panic!("redis at {redis} ({error}): make services")),
        );
        replicas.push(Egress::new(EgressConfig { global_per_second: 5, ..support::egress_config(&emulator) }, cache));
    }
    register_in_demo_guild(&replicas[0]).await;
    let endpoint = Endpoint::start(&app.public_key_hex, json!({"type": 5})).await;
    let token = deferred_meeting_start(&emulator, &endpoint).await;

    start_of_next_second(50).await;
    let started = Instant::now();
    let messages: Vec<_> = (0..12)
        .map(|index| {
            let egress = replicas[index % 2].clone();
            tokio::spawn(async move {
                egress.create_message(seed::GENERAL_CHANNEL, &text(&format!("message {index}"))).await
            })
        })
        .collect();
    let edits: Vec<_> = (0..6)
        .map(|index| {
            let (egress, token) = (replicas[index % 2].clone(), token.clone());
            tokio::spawn(async move { egress.edit_original(&token, &text(&format!("edit {index}"))).await })
        })
        .collect();
    for task in messages.into_iter().chain(edits) {
        task.await.expect("task").expect("sent");
    }
    let elapsed = started.elapsed();
    assert!(elapsed > Duration::from_secs(1), "12 messages at 5/s cannot go out within a second: {elapsed:?}");

    let requests = emulator.state().requests();
    assert!(requests.iter().all(|request| request.status < 400), "no 429 or error: {requests:#?}");
    let exempt =
        |request: &RequestRecord| request.route.as_deref().is_some_and(|route| route.starts_with("/webhooks/"));
    let mut per_second: BTreeMap<u64, usize> = BTreeMap::new();
    for request in requests.iter().filter(|request| !exempt(request)) {
        *per_second.entry(request.at_ms / 1000).or_default() += 1;
    }
    assert!(per_second.values().all(|count| *count <= 5), "at most 5 bot requests per second: {per_second:?}");
    let posts = requests_on(&emulator, "POST", MESSAGES_ROUTE);
    assert_eq!(posts.len(), 12, "every message once");
    let post_seconds: BTreeMap<u64, usize> = posts.iter().fold(BTreeMap::new(), |mut seconds, post| {
        *seconds.entry(post.at_ms / 1000).or_default() += 1;
        seconds
    });
    assert!(post_seconds.len() >= 3, "spread over at least three seconds: {post_seconds:?}");
    let first_second = *post_seconds.keys().next().expect("a second");
    let edits: Vec<_> = requests.iter().filter(|request| exempt(request) && request.method == "PATCH").collect();
    assert_eq!(edits.len(), 6);
    assert!(
        edits.iter().all(|edit| edit.at_ms / 1000 == first_second),
        "webhook edits did not wait for the spent global budget: {:?} vs first second {first_second}",
        edits.iter().map(|edit| edit.at_ms).collect::<Vec<_>>()
    );
    support::assert_no_schema_violations(&emulator);
    emulator.stop().await;
}
