//! Meetings end to end in distributed mode: every service its own process over NATS JetStream,
//! PostgreSQL and Redis, talking to the Discord and Kaltura emulators.

use std::time::Duration;

use kalcord_discord::egress::{Egress, EgressConfig};
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, InteractionKind, InteractionSpec, seed};
use kalcord_kaltura_emulator::{Emulator as KalturaEmulator, PartnerConfig};
use kalcord_test_util::distributed::DistributedEnv;
use kalcord_test_util::process::{Spawned, binary};
use serde_json::{Value, json};

const SERVICES: [&str; 6] = ["api-gateway", "interactions", "identity", "meetings", "notifications", "gateway-shard"];
const PARTNER: i64 = 4_300_001;
const SECRET: &str = "fedcba9876543210fedcba9876543210";
const APP_KEY_SEED: [u8; 32] = [5; 32];

/// Delivers `payload` again, freshly signed, as Discord does when it retries an interaction.
async fn redeliver(api: &str, payload: &Value) -> Value {
    use ed25519_dalek::Signer as _;
    let body = serde_json::to_vec(payload).unwrap();
    let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let mut signed = timestamp.as_bytes().to_vec();
    signed.extend_from_slice(&body);
    let signature = ed25519_dalek::SigningKey::from_bytes(&APP_KEY_SEED).sign(&signed);
    let response = reqwest::Client::new()
        .post(format!("{api}/interactions"))
        .header("content-type", "application/json")
        .header("X-Signature-Ed25519", hex::encode(signature.to_bytes()))
        .header("X-Signature-Timestamp", timestamp)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn click(custom_id: &str, message_id: u64, user_id: u64) -> InteractionSpec {
    InteractionSpec {
        kind: InteractionKind::Button { custom_id: custom_id.to_owned(), message_id },
        guild_id: Some(seed::GUILD_ID),
        channel_id: Some(seed::GENERAL_CHANNEL),
        user_id,
        locale: None,
    }
}

fn buttons(answer: &Value) -> Vec<Value> {
    answer["data"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .collect()
}

async fn answer(emulator: &DiscordEmulator, spec: &InteractionSpec) -> Value {
    let outcome = emulator.state().send_interaction(spec).await.unwrap();
    assert!(!outcome.deadline_missed, "answered within 3 s: {outcome:?}");
    let json = outcome.json.clone().unwrap_or_default();
    if !matches!(json["type"].as_u64(), Some(5 | 6)) {
        return json;
    }
    // Deferred: the answer arrives as an edit of @original.
    let url = format!(
        "{}/api/v10/webhooks/{}/{}/messages/@original",
        emulator.api_base(),
        emulator.application().id,
        outcome.token
    );
    for _ in 0..100 {
        if let Ok(response) = reqwest::get(&url).await
            && let Ok(message) = response.json::<Value>().await
            && message["flags"].as_u64().unwrap_or(0) & 128 == 0
        {
            return json!({"type": 4, "data": message});
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no answer after the deferral: {json}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_runs_across_service_processes() {
    let _trace = kalcord_test_util::trace_init();
    let kaltura = KalturaEmulator::start(
        kalcord_kaltura_emulator::EmulatorConfig::default().with_partner(PartnerConfig::new(PARTNER, SECRET)),
    )
    .await
    .unwrap();
    let mut discord_config = EmulatorConfig::default().with_guild(seed::demo_guild());
    discord_config.application.signing_key_hex = Some(hex::encode(APP_KEY_SEED));
    let discord = DiscordEmulator::start(discord_config).await.unwrap();
    let app = discord.application();
    let env = DistributedEnv::new(true).await.unwrap();
    let mut vars = env.vars();
    vars.extend(
        [
            ("KALCORD_DISCORD_API_BASE", discord.api_authority()),
            ("KALCORD_DISCORD_APPLICATION_ID", app.id.clone()),
            ("KALCORD_DISCORD_PUBLIC_KEY", app.public_key_hex.clone()),
            ("KALCORD_DISCORD_BOT_TOKEN", app.bot_token.clone()),
            ("KALCORD_KALTURA_PARTNER_ID", PARTNER.to_string()),
            ("KALCORD_KALTURA_ADMIN_SECRET", SECRET.to_owned()),
            ("KALCORD_KALTURA_SERVICE_URL", kaltura.base_url()),
            ("KALCORD_KALTURA_KAF_URL", kaltura.base_url()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let data = tempfile::tempdir().unwrap();
    vars.push(("KALCORD_SECRETS_TENANT_FILE".to_owned(), format!("{}/tenants.toml", data.path().display())));
    let starts = SERVICES.map(|service| {
        let vars = vars.clone();
        async move { Spawned::start(&binary(&format!("kalcord-{service}")), &[], &vars).await.unwrap() }
    });
    let processes = futures::future::join_all(starts).await;
    for process in &processes {
        process.wait_ready(Duration::from_secs(30)).await.unwrap();
    }
    let api = processes[0].url("api").to_owned();
    discord.state().set_interactions_url(Some(format!("{api}/interactions").parse().unwrap()));
    let egress = Egress::new(
        EgressConfig {
            api_base: Some(discord.api_authority()),
            application_id: app.id.parse().unwrap(),
            bot_token: kalcord_config::Secret::new(app.bot_token.clone()),
            global_per_second: 50,
            invalid_limit: 100,
            timeout: Duration::from_secs(5),
        },
        std::sync::Arc::new(kalcord_cache::MemoryCache::new("e2e", 100)),
    );
    let commands = serde_json::to_value(kalcord_discord::command::all()).unwrap();
    egress.overwrite_commands(Some(seed::GUILD_ID), &commands).await.unwrap();

    // The owner starts a meeting: a public post with Join and End.
    let start = InteractionSpec::command(
        seed::GUILD_ID,
        seed::OWNER_ID,
        "meeting",
        vec![json!({"type": 1, "name": "start", "options": [
            {"type": 3, "name": "title", "value": "Physics"}, {"type": 3, "name": "kind", "value": "virtual_classroom"}
        ]})],
    );
    let outcome = discord.state().send_interaction(&start).await.unwrap();
    assert!(!outcome.deadline_missed, "answered within 3 s: {outcome:?}");
    let started = outcome.json.clone().unwrap_or_default();
    assert_eq!(started["type"], 4, "{started:#}");
    assert_eq!(started["data"]["flags"].as_u64().unwrap_or(0) & 64, 0, "public: {started:#}");
    let join = buttons(&started)
        .iter()
        .find_map(|b| b["custom_id"].as_str().filter(|id| id.contains("join")).map(str::to_owned))
        .unwrap_or_else(|| panic!("a Join button: {started:#}"));
    let post = discord
        .state()
        .messages()
        .into_iter()
        .rev()
        .find(|m| m.components.to_string().contains(&join))
        .expect("the post exists")
        .message_id;

    // The same interaction delivered again creates nothing new.
    let count = |requests: &Value| requests.as_array().map_or(0, Vec::len);
    let kaltura_requests = format!("{}/_emulator/requests", kaltura.base_url());
    let before: Value = reqwest::get(&kaltura_requests).await.unwrap().json().await.unwrap();
    let again = redeliver(&api, &outcome.payload).await;
    let again_join = buttons(&again).iter().find_map(|b| b["custom_id"].as_str().map(str::to_owned));
    assert_eq!(again_join.as_deref(), Some(join.as_str()), "the same meeting: {again:#}");
    let after: Value = reqwest::get(&kaltura_requests).await.unwrap().json().await.unwrap();
    assert_eq!(count(&after), count(&before), "no Kaltura call, so no second room");

    // A student joins as an attendee through the KAF launch link.
    let joined = answer(&discord, &click(&join, post, seed::STUDENT_ID)).await;
    assert_eq!(joined["data"]["flags"].as_u64().unwrap_or(0) & 64, 64, "private: {joined:#}");
    let url = buttons(&joined).iter().find_map(|b| b["url"].as_str().map(str::to_owned)).expect("a link button");
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    let launches: Value =
        reqwest::get(format!("{}/_emulator/launches", kaltura.base_url())).await.unwrap().json().await.unwrap();
    let launch = launches.as_array().and_then(|l| l.last()).cloned().unwrap();
    assert_eq!((launch["role"].as_str(), launch["roomName"].as_str()), (Some("attendee"), Some("Physics")));

    // The meeting lives in PostgreSQL, shared by every process.
    let rest = reqwest::get(format!("{api}/api/v1/status")).await.unwrap();
    assert_eq!(rest.status(), 200);

    for process in processes {
        let status = process.terminate(Duration::from_secs(20)).await.unwrap();
        assert!(status.success(), "{status:?}");
    }
    env.cleanup().await.unwrap();
    discord.stop().await;
    kaltura.stop().await;
}
