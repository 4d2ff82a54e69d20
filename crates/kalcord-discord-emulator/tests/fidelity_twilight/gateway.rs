//! twilight-gateway 0.18's `Shard` against the emulator: IDENTIFY, READY, GUILD_CREATE, a dispatch, then a
//! dropped connection and a RESUME to `resume_gateway_url` that replays what was missed (zlib-stream on).

use std::time::Duration;

use kalcord_discord_emulator::{GatewayAction, RoleSeed, seed};
use twilight_gateway::{ConfigBuilder, Event, EventTypeFlags, Intents, Shard, ShardId, StreamExt as _};

use crate::common::Harness;

async fn next_event(shard: &mut Shard) -> Event {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), shard.next_event(EventTypeFlags::all()))
            .await
            .expect("an event within 20 s")
            .expect("the shard stream is open");
        match event {
            Ok(event) => return event,
            Err(error) => tracing::info!(%error, "shard receive error (reconnecting)"),
        }
    }
}

async fn wait_for(shard: &mut Shard, seen: &mut Vec<Event>, wanted: impl Fn(&Event) -> bool) -> Event {
    loop {
        let event = next_event(shard).await;
        seen.push(event.clone());
        if wanted(&event) {
            return event;
        }
    }
}

#[tokio::test]
async fn shard_identifies_receives_dispatches_and_resumes() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let intents = Intents::GUILDS | Intents::GUILD_MEMBERS | Intents::GUILD_SCHEDULED_EVENTS;
    let config =
        ConfigBuilder::new(harness.app.bot_token.clone(), intents).proxy_url(harness.emulator.gateway_url()).build();
    let mut shard = Shard::with_config(ShardId::ONE, config);
    let mut seen = Vec::new();
    let Event::Ready(ready) = wait_for(&mut shard, &mut seen, |event| matches!(event, Event::Ready(_))).await else {
        unreachable!()
    };
    assert_eq!(ready.resume_gateway_url, harness.emulator.gateway_url());
    assert_eq!(ready.application.id.get().to_string(), harness.app.id);
    let Event::GuildCreate(create) =
        wait_for(&mut shard, &mut seen, |event| matches!(event, Event::GuildCreate(_))).await
    else {
        unreachable!()
    };
    assert_eq!(create.id().get(), seed::GUILD_ID);
    let state = harness.state();
    state.add_member_role(seed::GUILD_ID, seed::MEMBER_ID, seed::STUDENT_ROLE).expect("role");
    let Event::MemberUpdate(update) =
        wait_for(&mut shard, &mut seen, |event| matches!(event, Event::MemberUpdate(_))).await
    else {
        unreachable!()
    };
    assert_eq!(update.user.id.get(), seed::MEMBER_ID);
    let session = shard.session().expect("session").id().to_owned();
    assert_eq!(shard.resume_url(), Some(harness.emulator.gateway_url().as_str()));
    seen.clear();
    assert_eq!(state.gateway_action(None, &GatewayAction::Drop), 1);
    state.remove_member_role(seed::GUILD_ID, seed::MEMBER_ID, seed::STUDENT_ROLE).expect("role");
    state.add_role(seed::GUILD_ID, &RoleSeed::new(1_284_000_000_000_000_600, "Missed", 0)).expect("role");
    wait_for(&mut shard, &mut seen, |event| matches!(event, Event::Resumed)).await;
    assert!(!seen.iter().any(|event| matches!(event, Event::Ready(_))), "resumed, not re-identified: {seen:?}");
    let replayed_update = seen.iter().any(|event| matches!(event, Event::MemberUpdate(update) if update.roles.iter().all(|role| role.get() != seed::STUDENT_ROLE)));
    let replayed_role =
        seen.iter().any(|event| matches!(event, Event::RoleCreate(create) if create.role.name == "Missed"));
    assert!(replayed_update && replayed_role, "missed events replayed before RESUMED: {seen:?}");
    assert_eq!(shard.session().expect("session").id(), session);
    state.add_member_role(seed::GUILD_ID, seed::MEMBER_ID, seed::TEACHER_ROLE).expect("role");
    wait_for(&mut shard, &mut seen, |event| matches!(event, Event::MemberUpdate(_))).await;
    let before = state.gateway_sessions()[0].heartbeats;
    assert_eq!(state.gateway_action(None, &GatewayAction::RequestHeartbeat), 1);
    wait_for(&mut shard, &mut seen, |event| matches!(event, Event::GatewayHeartbeatAck)).await;
    assert!(state.gateway_sessions()[0].heartbeats > before, "twilight answers the server's op 1 at once");
    shard.close(twilight_gateway::CloseFrame::NORMAL);
    harness.stop().await;
}
