//! `/kaltura sync` end to end in sandbox mode, through the `kalcord sandbox` CLI: a slow member
//! list makes the sync outlast Discord's 3 s, so the answer arrives as an edit of the deferred
//! reply; a member without Manage Server is refused.

use std::time::Duration;

use kalcord_test_util::process::{Spawned, binary};
use serde_json::{Value, json};

/// Runs `kalcord sandbox <args> --url <sandbox>` and returns what it printed.
async fn sandbox(url: &str, args: &[&str]) -> String {
    let output = tokio::process::Command::new(binary("kalcord"))
        .arg("sandbox")
        .args(args)
        .args(["--url", url])
        .output()
        .await
        .expect("kalcord sandbox runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "kalcord sandbox {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn a_slow_sync_is_deferred_then_reports_the_demo_servers_members() {
    let _trace = kalcord_test_util::trace_init();
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("KALCORD_STORE_URL".to_owned(), format!("sqlite://{}/kalcord.db", data.path().display())),
        ("KALCORD_ADMIN_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_API_GATEWAY_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_SANDBOX_DISCORD_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_SANDBOX_KALTURA_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_SECRETS_TENANT_FILE".to_owned(), format!("{}/tenant-secrets.toml", data.path().display())),
    ];
    let kalcord = Spawned::start(&binary("kalcord"), &[], &env).await.unwrap();
    kalcord.wait_ready(Duration::from_secs(30)).await.unwrap();
    let discord = kalcord.url("discord-sandbox").to_owned();

    let refused = sandbox(&discord, &["command", "/kaltura sync", "--as", "dee"]).await;
    assert!(refused.contains("[only you can see this]") && refused.contains("Manage Server"), "{refused}");

    let mapped =
        sandbox(&discord, &["command", "/kaltura roles map role:Student kaltura_role:moderator", "--as", "owner"])
            .await;
    assert!(mapped.to_lowercase().contains("moderator"), "{mapped}");

    // Discord takes 3 s to list the members: longer than an interaction may wait for its answer.
    let fault =
        json!({"method": "GET", "path": "/guilds/*/members", "times": 1, "action": {"kind": "delay", "millis": 3000}});
    let http = reqwest::Client::new();
    assert!(http.post(format!("{discord}/_emulator/faults")).json(&fault).send().await.unwrap().status().is_success());
    let synced = sandbox(&discord, &["command", "/kaltura sync", "--as", "owner"]).await;
    // owner (Administrator) and ada (Manage Events) host; bob and cy (Student) moderate; dee attends.
    assert!(synced.contains("[only you can see this]"), "{synced}");
    assert!(
        synced.contains("Synced 6 members (5 people, 1 bot): 2 hosts, 2 moderators, 1 attendee."),
        "the deferred reply is edited with the counts: {synced}"
    );
    let requests: Value = http.get(format!("{discord}/_emulator/requests")).send().await.unwrap().json().await.unwrap();
    let pages = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "GET" && r["path"].as_str().is_some_and(|p| p.ends_with("/members")))
        .count();
    assert_eq!(pages, 1, "one page of members: {requests:#}");
    let edited = requests
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["method"] == "PATCH" && r["path"].as_str().is_some_and(|p| p.ends_with("/messages/@original")));
    assert!(edited, "the answer edited the deferral");

    let status = kalcord.terminate(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "{status:?}");
}
