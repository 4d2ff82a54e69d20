//! `kalcord` with no Discord application configured runs the built-in Discord emulator and
//! answers its interactions end to end: emulator → signed POST /interactions → bus →
//! interactions service → back.

use std::time::Duration;

use kalcord_test_util::process::{Spawned, binary};
use serde_json::{Value, json};

const GUILD: &str = "1284000000000000001";
const OWNER: &str = "1284000000000000300";
const STUDENT: &str = "1284000000000000302";

async fn interact(sandbox: &str, spec: Value) -> Value {
    let outcome: Value = reqwest::Client::new()
        .post(format!("{sandbox}/_emulator/interactions"))
        .json(&spec)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(outcome["status"], 200, "{outcome:#}");
    assert_eq!(outcome["deadline_missed"], false, "answered within Discord's 3 s");
    outcome["json"].clone()
}

fn status_command(user: &str) -> Value {
    json!({"type": "command", "name": "kaltura", "options": [{"name": "status", "type": 1}], "guild_id": GUILD, "user_id": user})
}

#[tokio::test]
async fn the_sandbox_answers_interactions_end_to_end() {
    let _trace = kalcord_test_util::trace_init();
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("KALCORD_STORE_URL".to_owned(), format!("sqlite://{}/kalcord.db", data.path().display())),
        ("KALCORD_ADMIN_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_API_GATEWAY_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_SANDBOX_DISCORD_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_SANDBOX_KALTURA_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
    ];
    let kalcord = Spawned::start(&binary("kalcord"), &[], &env).await.unwrap();
    kalcord.wait_ready(Duration::from_secs(30)).await.unwrap();
    let sandbox = kalcord.url("discord-sandbox").to_owned();

    let commands: Value = reqwest::get(format!("{sandbox}/_emulator/commands")).await.unwrap().json().await.unwrap();
    let names: Vec<&str> = commands.as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    assert!(
        names.contains(&"meeting") && names.contains(&"kaltura"),
        "commands registered in the demo server: {commands:#}"
    );

    let answer = interact(&sandbox, status_command(OWNER)).await;
    assert_eq!((answer["type"].as_u64(), answer["data"]["flags"].as_u64()), (Some(4), Some(64)));
    assert_eq!(answer["data"]["embeds"][0]["title"], "kalcord is healthy");
    let fields = answer["data"]["embeds"][0]["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 7, "six services and the Kaltura link: {fields:#?}");
    let kaltura = fields.iter().find(|field| field["name"].as_str().is_some_and(|n| n.contains("Kaltura"))).unwrap();
    assert!(kaltura["value"].as_str().unwrap().contains("5000001"), "the sandbox partner: {kaltura:#}");

    let refused = interact(&sandbox, status_command(STUDENT)).await;
    assert!(refused["data"]["content"].as_str().unwrap().contains("Manage Server"), "{refused:#}");

    let outdated = interact(
        &sandbox,
        json!({"type": "modal_submit", "custom_id": "kc0:setup", "fields": [["secret", "x"]], "guild_id": GUILD, "user_id": STUDENT}),
    )
    .await;
    assert!(outdated["data"]["content"].as_str().unwrap().contains("older version"), "{outdated:#}");

    let probes: Value =
        reqwest::Client::new().post(format!("{sandbox}/_emulator/probes")).send().await.unwrap().json().await.unwrap();
    for probe in probes.as_array().unwrap() {
        assert_eq!(probe["passed"], true, "Discord's bad-signature probe {probe:#}");
    }

    let status = kalcord.terminate(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "{status:?}");
}
