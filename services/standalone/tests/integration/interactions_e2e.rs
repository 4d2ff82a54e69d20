//! A slow handler: the interactions service defers before Discord's deadline and delivers the
//! answer by editing `@original`, a request that validates against Discord's schemas.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use kalcord_api_gateway::ApiGateway;
use kalcord_bus::{MemoryBus, SharedBus};
use kalcord_discord::response::{Embed, InteractionResponse, MessageData};
use kalcord_discord_emulator::{
    DiscordEmulator, EmulatorConfig, InteractionKind, InteractionSpec, ValidatorConfig, seed,
};
use kalcord_interactions::Interactions;
use kalcord_interactions::handler::{Ctx, Handler, HandlerError, Registry};
use kalcord_runtime::{CancellationToken, CommonConfig, Deps, Service as _};

struct Slow(Duration);

#[async_trait]
impl Handler for Slow {
    async fn handle(&self, _ctx: &Ctx) -> Result<InteractionResponse, HandlerError> {
        tokio::time::sleep(self.0).await;
        Ok(InteractionResponse::message(
            MessageData::embed(Embed::titled("Finished late").description("after the deferral")).ephemeral(),
        ))
    }
}

fn validator() -> ValidatorConfig {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fidelity/discord");
    assert!(
        root.join("node_modules/discord-api-spec/package.json").is_file(),
        "Discord's schemas are not installed: run `make fidelity-deps`"
    );
    ValidatorConfig::in_workspace()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_command_is_deferred_then_delivered_as_an_edit_of_original() {
    let _trace = kalcord_test_util::trace_init();
    let emulator =
        DiscordEmulator::start(EmulatorConfig::default().with_guild(seed::demo_guild()).with_validator(validator()))
            .await
            .unwrap();
    let application = emulator.application();
    let mut common = CommonConfig::defaults();
    common.discord.api_base = Some(emulator.api_authority());
    common.discord.application_id = application.id.parse().ok();
    common.discord.public_key = Some(application.public_key_hex.clone());
    common.discord.bot_token = Some(kalcord_config::Secret::new(application.bot_token.clone()));
    let bus: SharedBus = Arc::new(MemoryBus::new(""));
    let cache: kalcord_cache::SharedCache = Arc::new(kalcord_cache::MemoryCache::new("e2e", 1000));
    let deps = Deps {
        bus,
        cache: Some(cache),
        common: Arc::new(common),
        instance: "e2e".into(),
        started: Instant::now(),
        store: None,
    };

    let gateway_config = kalcord_api_gateway::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        interaction_timeout: Duration::from_millis(2500),
        status_timeout: Duration::from_secs(1),
        workers: 1,
        ..Default::default()
    };
    let gateway = ApiGateway::build(gateway_config, deps.clone()).await.unwrap();
    emulator
        .state()
        .set_interactions_url(Some(format!("http://{}/interactions", gateway.local_addr()).parse().unwrap()));
    let interactions_config = kalcord_interactions::Config {
        answer_margin: Duration::from_millis(500),
        max_in_flight: 16,
        rest_timeout: Duration::from_secs(5),
    };
    let registry = Registry::default().with("command:meeting list", Slow(Duration::from_millis(2300)));
    let interactions = Interactions::with_registry(interactions_config, deps, registry);
    let token = CancellationToken::new();
    let gateway_task = tokio::spawn(gateway.run(token.clone()));
    let interactions_task = tokio::spawn(interactions.run(token.clone()));

    let egress = kalcord_discord::egress::Egress::new(
        kalcord_discord::egress::EgressConfig {
            api_base: Some(emulator.api_authority()),
            application_id: application.id.parse().unwrap(),
            bot_token: kalcord_config::Secret::new(application.bot_token.clone()),
            global_per_second: 50,
            invalid_limit: 100,
            timeout: Duration::from_secs(5),
        },
        Arc::new(kalcord_cache::MemoryCache::new("e2e-egress", 100)),
    );
    let commands = serde_json::to_value(kalcord_discord::command::all()).unwrap();
    egress.overwrite_commands(Some(seed::GUILD_ID), &commands).await.unwrap();
    let spec = InteractionSpec {
        kind: InteractionKind::Command {
            name: "meeting".into(),
            options: vec![serde_json::json!({"name": "list", "type": 1})],
        },
        guild_id: Some(seed::GUILD_ID),
        channel_id: Some(seed::GENERAL_CHANNEL),
        user_id: seed::STUDENT_ID,
        locale: None,
    };
    let outcome = emulator.state().send_interaction(&spec).await.unwrap();
    assert!(!outcome.deadline_missed, "deferred in time: {:?}", outcome.elapsed);
    assert_eq!(outcome.json.as_ref().unwrap()["type"], 5, "a deferral, not a timeout");
    assert!(outcome.elapsed < Duration::from_millis(2500), "the service defers itself before the edge's deadline");

    let original = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(message) =
                emulator.state().messages().into_iter().find(|m| m.embeds[0]["title"] == "Finished late")
            {
                return message;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the late answer reaches Discord as an edit of @original");
    assert!(original.flags & 64 != 0, "still private");
    assert!(emulator.state().schema_violations().is_empty(), "{:?}", emulator.state().schema_violations());

    token.cancel();
    gateway_task.await.unwrap().unwrap();
    interactions_task.await.unwrap().unwrap();
    emulator.stop().await;
}
