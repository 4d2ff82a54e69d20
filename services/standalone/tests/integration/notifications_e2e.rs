//! Lifecycle news end to end in the sandbox: the server picks its notification channel, a
//! meeting goes live, Kaltura records it and notifies kalcord (signed); the recording is posted
//! once however often the notification is delivered, and a forged one is refused.

use std::time::{Duration, Instant};

use kalcord_store::entity::meeting;
use kalcord_test_util::process::{Spawned, binary};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::{Value, json};

/// The demo Kaltura partner of the sandbox.
const SANDBOX_PARTNER_ID: i64 = 5_000_001;

async fn sandbox(url: &str, args: &[&str]) -> String {
    let output = tokio::process::Command::new(binary("kalcord"))
        .arg("sandbox")
        .args(args)
        .args(["--url", url])
        .output()
        .await
        .expect("kalcord sandbox runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "kalcord sandbox {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// Titles of the bot's channel posts (first embed) in the Discord emulator.
async fn post_titles(discord: &str) -> Vec<String> {
    let records: Value = reqwest::get(format!("{discord}/_emulator/messages")).await.unwrap().json().await.unwrap();
    records
        .as_array()
        .into_iter()
        .flatten()
        .filter(|record| record["action"] == "created")
        .filter_map(|record| record["embeds"][0]["title"].as_str().map(str::to_owned))
        .collect()
}

async fn wait_for(discord: &str, title: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if post_titles(discord).await.iter().any(|posted| posted == title) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no post `{title}`: {:?}", post_titles(discord).await);
}

#[tokio::test]
async fn a_recording_is_posted_once_however_often_kaltura_notifies() {
    let _trace = kalcord_test_util::trace_init();
    let data = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/kalcord.db", data.path().display());
    let env = [
        ("KALCORD_STORE_URL".to_owned(), database.clone()),
        ("KALCORD_ADMIN_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_API_GATEWAY_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_SANDBOX_DISCORD_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_SANDBOX_KALTURA_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_SECRETS_TENANT_FILE".to_owned(), format!("{}/tenant-secrets.toml", data.path().display())),
    ];
    let kalcord = Spawned::start(&binary("kalcord"), &[], &env).await.unwrap();
    kalcord.wait_ready(Duration::from_secs(30)).await.unwrap();
    let (discord, kaltura, api) = (
        kalcord.url("discord-sandbox").to_owned(),
        kalcord.url("kaltura-sandbox").to_owned(),
        kalcord.url("api").to_owned(),
    );

    let saved =
        sandbox(&discord, &["command", "/kaltura notifications channel:general mute:ended", "--as", "owner"]).await;
    assert!(saved.contains("Saved.") && saved.contains("all but ended"), "{saved}");
    sandbox(&discord, &["command", "/meeting start kind:meeting_room title:Recorded class", "--as", "owner"]).await;
    wait_for(&discord, "Live now: Recorded class").await;

    // Kaltura records the room; the entry becomes READY and the partner notifies kalcord.
    let store = kalcord_store::Store::connect(&database).await.unwrap();
    let row = meeting::Entity::find()
        .filter(meeting::Column::Title.eq("Recorded class"))
        .one(store.connection())
        .await
        .unwrap()
        .expect("the meeting");
    let event_id: i64 = row.kaltura_event_id.as_deref().unwrap().parse().unwrap();
    let http = reqwest::Client::new();
    let recording = json!({"partnerId": SANDBOX_PARTNER_ID, "eventId": event_id, "durationSeconds": 1500});
    assert!(
        http.post(format!("{kaltura}/_emulator/recordings"))
            .json(&recording)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    wait_for(&discord, "Recording ready: Recorded class").await;

    // Kaltura retries the same notification twice more; a forged copy comes too.
    let deliveries: Value =
        reqwest::get(format!("{kaltura}/_emulator/deliveries")).await.unwrap().json().await.unwrap();
    let ready = deliveries
        .as_array()
        .into_iter()
        .flatten()
        .find(|delivery| delivery["entryStatus"] == 2 && delivery["success"] == true)
        .expect("the READY notification")
        .clone();
    let send = |signature: String| {
        http.post(format!("{api}/webhooks/kaltura/default"))
            .header("content-type", ready["contentType"].as_str().unwrap())
            .header("x-kaltura-signature", signature)
            .header("x-kaltura-hash-algo", ready["hashAlgo"].as_str().unwrap())
            .body(ready["body"].as_str().unwrap().to_owned())
            .send()
    };
    for _ in 0..2 {
        assert_eq!(send(ready["signature"].as_str().unwrap().to_owned()).await.unwrap().status(), 200);
    }
    assert_eq!(send("0".repeat(40)).await.unwrap().status(), 401, "a wrong signature is refused");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let recordings =
        post_titles(&discord).await.into_iter().filter(|title| title.starts_with("Recording ready")).count();
    assert_eq!(recordings, 1, "one recording post");
    assert_eq!(
        kalcord_store::repo::recordings::find_by_entry_id(store.connection(), ready["entryId"].as_str().unwrap())
            .await
            .unwrap()
            .map(|r| r.meeting_id),
        Some(row.id)
    );

    // Ended is muted in this server: the meeting ends without a post, its announcement loses its buttons.
    let ended = sandbox(&discord, &["click", "End", "--as", "owner"]).await;
    assert!(ended.contains("Recorded class (ended)"), "{ended}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!post_titles(&discord).await.iter().any(|title| title.starts_with("Ended")), "ended is muted");
    store.close().await.ok();
    kalcord.terminate(Duration::from_secs(15)).await.unwrap();
}
