//! The `/_emulator/` admin API and the binary.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::common::{Harness, PID, Receiver, eventually};

async fn admin(h: &Harness, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|body| body.to_string()).unwrap_or_default();
    let reply = h.send(method, &format!("/_emulator{path}"), Some("application/json"), body).await;
    let value = if reply.body.is_empty() { Value::Null } else { reply.json() };
    (reply.status, value)
}

#[tokio::test]
async fn admin_api_drives_the_emulator() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    assert_eq!(admin(&h, "GET", "/health", None).await, (200, json!({"status": "ok"})));
    let partner = json!({"id": 555, "adminSecrets": ["s555"], "userSecret": "u555", "name": "Sandbox"});
    assert_eq!(admin(&h, "POST", "/partners", Some(partner.clone())).await.0, 201);
    assert_eq!(admin(&h, "POST", "/partners", Some(partner)).await.0, 409);
    let (_, partners) = admin(&h, "GET", "/partners", None).await;
    assert!(partners.as_array().expect("list").iter().any(|p| p["id"] == 555 && p.get("adminSecrets").is_none()));
    let (status, minted) = admin(&h, "POST", "/ks", Some(json!({"partnerId": 555, "userId": "u", "type": 2}))).await;
    assert_eq!(status, 200);
    let ks = minted["ks"].as_str().expect("ks").to_owned();
    assert_eq!(h.call("user", "list", json!({"ks": ks})).await["totalCount"], 0);
    assert_eq!(admin(&h, "POST", "/faults", Some(json!({"kind": "http_503", "count": 1}))).await.0, 201);
    assert_eq!(h.get("/api_v3/service/system/action/ping").await.status, 503);
    assert_eq!(admin(&h, "POST", "/faults", Some(json!({"kind": "nope"}))).await.0, 400);
    assert_eq!(admin(&h, "POST", "/latency", Some(json!({"service": "system", "millis": 5}))).await.0, 200);
    assert_eq!(admin(&h, "DELETE", "/latency", None).await.0, 204);
    let (_, clock) = admin(&h, "PUT", "/clock", Some(json!({"now": 1_700_000_000}))).await;
    assert_eq!(clock["now"], 1_700_000_000);
    assert_eq!(admin(&h, "POST", "/clock/advance", Some(json!({"seconds": 10}))).await.1["now"], 1_700_000_010);
    let (_, requests) = admin(&h, "GET", "/requests", None).await;
    assert_eq!(requests.as_array().map(Vec::len), Some(2));
    assert_eq!(requests[0]["service"], "user");
    assert_eq!(admin(&h, "DELETE", "/partners/555", None).await.0, 204);
    assert_eq!(admin(&h, "DELETE", "/partners/555", None).await.0, 404);
    assert_eq!(admin(&h, "POST", "/reset", None).await.0, 204);
    assert_eq!(admin(&h, "GET", "/requests", None).await.1, json!([]));
    h.stop().await;
}

#[tokio::test]
async fn admin_api_webhooks_recordings_and_launches() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let receiver = Receiver::start(&[]).await;
    let refused = admin(&h, "POST", "/webhooks", Some(json!({"partnerId": PID, "url": "http://192.168.1.1/x"}))).await;
    assert_eq!(refused.0, 400);
    let (status, hook) = admin(
        &h,
        "POST",
        "/webhooks",
        Some(json!({"partnerId": PID, "url": receiver.url, "hashAlgo": "sha512", "secret": "s"})),
    )
    .await;
    assert_eq!(status, 201);
    let (_, hooks) = admin(&h, "GET", "/webhooks", None).await;
    assert_eq!(hooks[0]["id"], hook["id"]);
    assert_eq!((hooks[0]["hashAlgo"].as_str(), hooks[0]["customSecret"].as_bool()), (Some("sha512"), Some(true)));
    let ks = h.admin_ks(PID).await;
    let room = h.add_room(&ks, "Admin Room").await;
    let (status, recording) =
        admin(&h, "POST", "/recordings", Some(json!({"partnerId": PID, "resourceId": room, "name": "Custom"}))).await;
    assert_eq!(status, 201);
    assert_eq!(admin(&h, "POST", "/recordings", Some(json!({"partnerId": PID, "resourceId": 1}))).await.0, 404);
    let state = h.state();
    eventually("two deliveries", || Some(state.deliveries()).filter(|found| found.len() == 2)).await;
    let (_, deliveries) = admin(&h, "GET", "/deliveries", None).await;
    assert_eq!(deliveries[1]["entryId"], recording["entryId"]);
    assert_eq!((deliveries[1]["hashAlgo"].as_str(), deliveries[1]["entryStatus"].as_i64()), (Some("sha512"), Some(2)));
    assert_eq!(receiver.received()[0].headers["x-kaltura-hash-algo"], "sha512");
    let host = format!("resourceId:{room},role:adminRole,userContextualRole:0");
    let (_, user_ks) = admin(
        &h,
        "POST",
        "/ks",
        Some(json!({"partnerId": PID, "userId": "d-1", "type": 0, "privileges": host, "expiresIn": 60})),
    )
    .await;
    let page = h.get(&format!("/virtualEvent/launch?ks={}", user_ks["ks"].as_str().expect("ks"))).await;
    assert_eq!(page.status, 200);
    let (_, launches) = admin(&h, "GET", "/launches", None).await;
    assert_eq!((launches[0]["role"].as_str(), launches[0]["roomName"].as_str()), (Some("host"), Some("Admin Room")));
    assert_eq!(admin(&h, "DELETE", &format!("/webhooks/{}", hook["id"]), None).await.0, 204);
    receiver.stop().await;
    h.stop().await;
}

#[test]
fn the_binary_serves_until_sigterm() {
    let _trace = kalcord_test_util::trace_init();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kalcord-kaltura-emulator"))
        .args(["--listen", "127.0.0.1:0", "--partner", "1234567:cli-admin-secret:cli-user"])
        .env("KALCORD_EMULATOR_PARTNERS", "7654321:env-secret")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("first line");
    let base = line
        .trim()
        .strip_prefix("listening api ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let client = reqwest::Client::new();
    for (partner, secret) in [(1_234_567, "cli-admin-secret"), (7_654_321, "env-secret")] {
        let url =
            format!("{base}/api_v3/service/session/action/start?format=1&type=2&partnerId={partner}&secret={secret}");
        let body =
            runtime.block_on(async { client.get(&url).send().await.expect("answer").text().await.expect("body") });
        assert!(body.starts_with("\"djJ8"), "{partner}: {body}");
    }
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let exit = child.wait().expect("exits");
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
}
