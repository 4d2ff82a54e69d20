//! Fault injection, latency and the request log.

use std::time::{Duration, Instant};

use kalcord_kaltura_emulator::{Fault, FaultKind};
use serde_json::json;

use super::common::{Harness, PID, SECRET, assert_error};

#[tokio::test]
async fn api_faults_answer_kaltura_errors() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let state = h.state();
    let ks = h.admin_ks(PID).await;
    state.inject_fault(Fault::new(FaultKind::ActionBlocked).on("USER", Some("list")).times(2));
    let unrelated = h.call("schedule_scheduleresource", "list", json!({"ks": ks})).await;
    assert_eq!(unrelated["totalCount"], 0);
    for _ in 0..2 {
        let reply = h.raw("user", "list", json!({"ks": ks})).await;
        assert_eq!(
            reply,
            r#"{"code":"ACTION_BLOCKED","message":"Action \"list\" in service \"user\" is blocked","objectType":"KalturaAPIException","args":{"ACTION_NAME":"list","SERVICE_NAME":"user"}}"#
        );
    }
    assert_eq!(h.call("user", "list", json!({"ks": ks})).await["totalCount"], 0, "two uses only");
    state.inject_fault(Fault::new(FaultKind::InvalidKs));
    let reply = h.call("user", "list", json!({"ks": ks})).await;
    assert_eq!(assert_error(&reply, "INVALID_KS")["args"]["KSID"], "EXPIRED");
    state.inject_fault(Fault::new(FaultKind::ActionBlocked).on("system", None));
    let batch = json!({"1": {"service": "system", "action": "ping"}, "2": {"service": "system", "action": "ping"}, "format": 1});
    let results = h.post_json("multirequest", "null", &batch).await.json();
    assert_error(&results[0], "ACTION_BLOCKED");
    assert_eq!(results[1], true, "api faults apply per sub-request");
    assert!(state.faults().is_empty());
    h.stop().await;
}

#[tokio::test]
async fn http_faults_and_hangs() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let state = h.state();
    state.inject_fault(Fault::new(FaultKind::Http502));
    state.inject_fault(Fault::new(FaultKind::Http503).on("system", Some("ping")));
    let first = h.get("/api_v3/service/system/action/getTime?format=1").await;
    assert_eq!((first.status, first.content_type.as_str()), (502, "text/html"));
    let second = h.get("/api_v3/service/system/action/getTime?format=1").await;
    assert_eq!(second.status, 200, "the 503 only matches system.ping");
    let third = h.get("/api_v3/service/system/action/ping?format=1").await;
    assert_eq!(third.status, 503);
    state.inject_fault(Fault::new(FaultKind::Hang));
    let started = Instant::now();
    let hung = h
        .http
        .get(format!("{}/api_v3/service/system/action/ping?format=1", h.base))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(hung.is_err_and(|error| error.is_timeout()));
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(h.get("/api_v3/service/system/action/ping?format=1").await.body, "true");
    h.stop().await;
}

#[tokio::test]
async fn latency_applies_to_matching_requests() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    h.state().set_latency(Some("system"), Some("ping"), Duration::from_millis(400));
    let started = Instant::now();
    assert_eq!(h.get("/api_v3/service/system/action/ping?format=1").await.body, "true");
    assert!(started.elapsed() >= Duration::from_millis(400));
    let started = Instant::now();
    h.get("/api_v3/service/system/action/getTime?format=1").await;
    assert!(started.elapsed() < Duration::from_millis(400));
    h.state().clear_latency();
    let started = Instant::now();
    h.get("/api_v3/service/system/action/ping?format=1").await;
    assert!(started.elapsed() < Duration::from_millis(400));
    h.stop().await;
}

#[tokio::test]
async fn the_request_log_masks_secrets_but_keeps_sessions() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let ks = h.admin_ks(PID).await;
    h.send(
        "POST",
        "/api_v3/service/user/action/list?clientTag=test",
        Some("application/x-www-form-urlencoded"),
        format!("ks={ks}&filter[idEqual]=x"),
    )
    .await;
    let log = h.state().requests();
    assert_eq!(log.len(), 2);
    assert_eq!((log[0].service.as_deref(), log[0].action.as_deref()), (Some("session"), Some("start")));
    assert_eq!(log[0].params["secret"], "***");
    assert_eq!(log[0].params["partnerId"], PID.to_string());
    assert_eq!(log[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(
        (log[1].method.as_str(), log[1].path.as_str(), log[1].query.as_str()),
        ("POST", "/api_v3/service/user/action/list", "clientTag=test")
    );
    assert_eq!(log[1].params["ks"], ks);
    assert_eq!(log[1].params["filter"]["idEqual"], "x");
    assert!(!serde_json::to_string(&log).expect("json").contains(SECRET));
    h.state().clear_requests();
    assert!(h.state().requests().is_empty());
    h.stop().await;
}
