//! The product's story end to end, in sandbox mode and through the `kalcord sandbox` CLI a newcomer
//! uses: a host starts a meeting in the demo server, members press Join and land in the right
//! Kaltura room (the built-in Kaltura's KAF host) with the role their Discord roles map to.

use std::time::Duration;

use kalcord_test_util::process::{Spawned, binary};
use serde_json::Value;

const BOB: &str = "1284000000000000302";

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

fn link(output: &str) -> String {
    output
        .lines()
        .find_map(|line| line.split_once("→ ").map(|(_, url)| url.trim().to_owned()))
        .unwrap_or_else(|| panic!("a link in: {output}"))
}

async fn last_launch(kaltura: &str) -> Value {
    let launches: Value = reqwest::get(format!("{kaltura}/_emulator/launches")).await.unwrap().json().await.unwrap();
    launches.as_array().and_then(|all| all.last()).cloned().expect("a launch was recorded")
}

async fn kaltura_requests(kaltura: &str) -> usize {
    let requests: Value = reqwest::get(format!("{kaltura}/_emulator/requests")).await.unwrap().json().await.unwrap();
    requests.as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn members_go_from_a_slash_command_to_the_right_kaltura_room() {
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
    let kaltura = kalcord.url("kaltura-sandbox").to_owned();

    // A member without a host mapping cannot start a meeting.
    let refused =
        sandbox(&discord, &["command", "/meeting start kind:meeting_room title:Maths 101", "--as", "dee"]).await;
    assert!(refused.contains("[only you can see this]") && refused.to_lowercase().contains("host"), "{refused}");

    // Kaltura failing: a friendly private answer, and nothing is left behind.
    let http = reqwest::Client::new();
    let fault = serde_json::json!({"kind": "http_503", "count": 50});
    assert!(http.post(format!("{kaltura}/_emulator/faults")).json(&fault).send().await.unwrap().status().is_success());
    let failed =
        sandbox(&discord, &["command", "/meeting start kind:meeting_room title:Broken", "--as", "owner"]).await;
    assert!(failed.contains("[only you can see this]") && failed.contains("Kaltura"), "{failed}");
    http.delete(format!("{kaltura}/_emulator/faults")).send().await.unwrap();
    let none = sandbox(&discord, &["command", "/meeting list status:all", "--as", "owner"]).await;
    assert!(!none.contains("Broken"), "no meeting left from the failure: {none}");

    // The owner (Administrator) is a host by default.
    let started =
        sandbox(&discord, &["command", "/meeting start kind:meeting_room title:Maths 101", "--as", "owner"]).await;
    assert!(started.contains("[posted in the channel]"), "{started}");
    assert!(started.contains("Maths 101") && started.contains("[Join]") && started.contains("[End]"), "{started}");

    // bob (Student, unmapped) presses Join: a personal link into the room as an attendee.
    let joined = sandbox(&discord, &["click", "Join", "--as", "bob"]).await;
    assert!(joined.contains("[only you can see this]"), "{joined}");
    let bob_link = link(&joined);
    assert!(bob_link.starts_with(&kaltura), "the link goes to the sandbox's KAF host: {bob_link}");
    let page = reqwest::get(&bob_link).await.unwrap();
    assert_eq!(page.status(), 200, "{}", page.text().await.unwrap_or_default());
    let launch = last_launch(&kaltura).await;
    assert_eq!(launch["role"], "attendee", "{launch:#}");
    assert_eq!(launch["roomName"], "Maths 101", "{launch:#}");
    assert_eq!(launch["userId"], format!("discord-{BOB}"), "{launch:#}");

    // Joining again as a known member makes no Kaltura call at all.
    let before = kaltura_requests(&kaltura).await;
    let again = sandbox(&discord, &["click", "Join", "--as", "bob"]).await;
    assert_ne!(link(&again), bob_link, "a fresh session per join");
    assert_eq!(kaltura_requests(&kaltura).await, before, "no Kaltura request for a known member's join");

    // ada (Teacher: Manage Events) is a host by default.
    let ada = sandbox(&discord, &["click", "Join", "--as", "ada"]).await;
    let ada_link = link(&ada);
    assert_ne!(ada_link, bob_link, "never a link shared between members");
    assert_eq!(reqwest::get(&ada_link).await.unwrap().status(), 200);
    assert_eq!(last_launch(&kaltura).await["role"], "host");

    // Map Student -> moderator: bob is a moderator from his next click.
    let mapped =
        sandbox(&discord, &["command", "/kaltura roles map role:Student kaltura_role:moderator", "--as", "owner"])
            .await;
    assert!(mapped.to_lowercase().contains("moderator"), "{mapped}");
    let promoted = sandbox(&discord, &["click", "Join", "--as", "bob"]).await;
    assert_eq!(reqwest::get(link(&promoted)).await.unwrap().status(), 200);
    assert_eq!(last_launch(&kaltura).await["role"], "moderator");

    // Only hosts end it, checked at click time.
    let not_yours = sandbox(&discord, &["click", "End", "--as", "dee"]).await;
    assert!(not_yours.contains("[only you can see this]"), "{not_yours}");
    let ended = sandbox(&discord, &["click", "End", "--as", "owner"]).await;
    assert!(ended.contains("updated the message") && !ended.contains("[Join]"), "{ended}");
    let listed = sandbox(&discord, &["command", "/meeting list status:ended", "--as", "bob"]).await;
    assert!(listed.contains("Maths 101"), "{listed}");

    let status = kalcord.terminate(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "{status:?}");

    // Every change is in the hash-chained audit log; `kalcord audit verify` checks it and notices tampering.
    let store_url = env[0].1.clone();
    let verify = || {
        std::process::Command::new(binary("kalcord"))
            .args(["audit", "verify"])
            .env("KALCORD_STORE_URL", &store_url)
            .output()
            .unwrap()
    };
    let intact = verify();
    assert!(intact.status.success(), "{}", String::from_utf8_lossy(&intact.stderr));
    assert!(String::from_utf8_lossy(&intact.stdout).contains("intact"));
    let store = kalcord_store::Store::connect(&store_url).await.unwrap();
    let actions: Vec<String> = <kalcord_store::entity::audit_log::Entity as sea_orm::EntityTrait>::find()
        .all(store.connection())
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.action)
        .collect();
    for expected in ["meeting.create", "role_mapping.map", "meeting.end"] {
        assert!(actions.iter().any(|action| action == expected), "{expected} audited: {actions:?}");
    }
    sea_orm::ConnectionTrait::execute_unprepared(
        store.connection(),
        "UPDATE audit_log SET details = '{\"title\":\"Forged\"}' WHERE seq = 1",
    )
    .await
    .unwrap();
    let broken = verify();
    assert_eq!(broken.status.code(), Some(1), "{}", String::from_utf8_lossy(&broken.stdout));
    assert!(String::from_utf8_lossy(&broken.stdout).contains("BROKEN at entry #1"));
}
