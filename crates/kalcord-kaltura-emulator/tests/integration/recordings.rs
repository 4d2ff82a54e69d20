//! Recordings and signed webhooks (§5, §6).

use std::time::Duration;

use kalcord_kaltura_emulator::{
    EmulatorConfig, EmulatorError, HashAlgo, RecordingRequest, WebhookFormat, WebhookSubscription, webhook_signature,
};
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use super::common::{Harness, PID, PID2, Received, Receiver, SECRET, assert_error, eventually};

/// What a receiver does: recompute `H(secret || body)` and compare in constant time.
fn verify(received: &Received, secret: &str) -> bool {
    let body = &received.body;
    let expected = match received.headers.get("x-kaltura-hash-algo").map(String::as_str) {
        Some("sha1") => hex::encode(Sha1::new().chain_update(secret).chain_update(body).finalize()),
        Some("sha256") => hex::encode(Sha256::new().chain_update(secret).chain_update(body).finalize()),
        _ => return false,
    };
    let signature = received.headers.get("x-kaltura-signature").map(String::as_bytes).unwrap_or_default();
    bool::from(expected.as_bytes().ct_eq(signature))
}

#[tokio::test]
async fn recordings_go_ready_and_notify_signed_webhooks() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let state = h.state();
    let (object_hook, fields_hook, other_hook) =
        (Receiver::start(&[]).await, Receiver::start(&[]).await, Receiver::start(&[]).await);
    state.subscribe_webhook(WebhookSubscription::new(PID, &object_hook.url)).expect("object hook");
    let fields = WebhookSubscription {
        hash_algo: HashAlgo::Sha256,
        format: WebhookFormat::Fields,
        secret: Some("template-secret".to_owned()),
        ..WebhookSubscription::new(PID, &fields_hook.url)
    };
    state.subscribe_webhook(fields).expect("fields hook");
    state.subscribe_webhook(WebhookSubscription::new(PID2, &other_hook.url)).expect("other partner's hook");
    let ks = h.admin_ks(PID).await;
    let room = h.add_room(&ks, "Room-Rec").await;
    let event = h
        .call("schedule_scheduleevent", "add", json!({"ks": ks, "scheduleEvent": {"objectType": "KalturaRecordScheduleEvent",
            "summary": "Lecture", "referenceId": "discord-event-1", "startDate": 60, "endDate": 3660, "recurrenceType": 0}}))
        .await["id"]
        .as_i64()
        .expect("event");
    h.call(
        "schedule_scheduleeventresource",
        "add",
        json!({"ks": ks, "scheduleEventResource": {"eventId": event, "resourceId": room}}),
    )
    .await;
    let request = RecordingRequest {
        partner_id: PID,
        event_id: Some(event),
        duration_seconds: Some(95),
        ..RecordingRequest::default()
    };
    let entry_id = state.simulate_recording(&request).expect("recording");
    assert_eq!(state.entry_status(PID, &entry_id), Some(7));
    let objects =
        eventually("two object notifications", || Some(object_hook.received()).filter(|got| got.len() == 2)).await;
    let forms =
        eventually("two field notifications", || Some(fields_hook.received()).filter(|got| got.len() == 2)).await;
    for (index, received) in objects.iter().enumerate() {
        assert!(verify(received, SECRET), "sha1 with the admin secret: {:?}", received.headers);
        assert_eq!(received.headers["content-type"], "application/json");
        let text = String::from_utf8_lossy(&received.body);
        assert!(
            text.starts_with("{\"object\":{\"mediaType\":1,\"sourceType\":\"1\",\"dataUrl\":\"http:\\/\\/127.0.0.1:"),
            "{text}"
        );
        assert!(text.ends_with(",\"templateSystemName\":\"HTTP_ENTRY_STATUS_CHANGED\",\"eventType\":3,\"objectType\":\"KalturaHttpNotification\"}"), "{text}");
        let message: Value = serde_json::from_slice(&received.body).expect("json");
        assert_eq!(
            (message["eventObjectType"].as_i64(), message["object"]["id"].as_str()),
            (Some(1), Some(entry_id.as_str()))
        );
        assert_eq!(message["object"]["status"], json!(index + 1), "7 -> 1 -> 2, in order");
    }
    for (index, received) in forms.iter().enumerate() {
        assert!(verify(received, "template-secret"));
        assert!(!verify(received, SECRET));
        assert_eq!(received.headers["content-type"], "application/x-www-form-urlencoded");
        let expected = format!(
            "entry_id={entry_id}&entry_name=Room-Rec+-+Recording+1&entry_status={}&entry_reference_id=discord-event-1",
            index + 1
        );
        assert_eq!(String::from_utf8_lossy(&received.body), expected);
    }
    let entry = h.call("media", "get", json!({"ks": ks, "entryId": entry_id})).await;
    assert_eq!(
        (entry["status"].as_i64(), entry["duration"].as_i64(), entry["msDuration"].as_i64()),
        (Some(2), Some(95), Some(95_000))
    );
    assert_eq!(
        (entry["name"].as_str(), entry["referenceId"].as_str()),
        (Some("Room-Rec - Recording 1"), Some("discord-event-1"))
    );
    assert_eq!((entry["rootEntryId"].as_str(), entry["type"].as_i64()), (Some(entry_id.as_str()), Some(1)));
    // NOTE: the emulator records an attempt once the answer is in, just after the receiver saw it.
    let deliveries =
        eventually("four recorded deliveries", || Some(state.deliveries()).filter(|found| found.len() == 4)).await;
    assert!(
        deliveries
            .iter()
            .all(|delivery| delivery.success && delivery.attempt == 1 && delivery.http_status == Some(200))
    );
    let sha1 = deliveries.iter().find(|delivery| delivery.hash_algo == HashAlgo::Sha1).expect("a sha1 delivery");
    assert_eq!(sha1.signature, webhook_signature(HashAlgo::Sha1, SECRET, sha1.body.as_bytes()));
    assert!(other_hook.received().is_empty(), "partner 2 sees nothing of partner 1");
    for receiver in [object_hook, fields_hook, other_hook] {
        receiver.stop().await;
    }
    h.stop().await;
}

#[tokio::test]
async fn media_list_finds_recordings() {
    let _trace = kalcord_test_util::trace_init();
    // NOTE: slow steps, so the first listing surely happens before READY.
    let h = Harness::with(|config| EmulatorConfig { recording_step_delay: Duration::from_millis(250), ..config }).await;
    let state = h.state();
    let ks = h.admin_ks(PID).await;
    let room = h.add_room(&ks, "Physics-101").await;
    let other = h.add_room(&ks, "Chemistry").await;
    let first = state
        .simulate_recording(&RecordingRequest {
            partner_id: PID,
            resource_id: Some(room),
            ..RecordingRequest::default()
        })
        .expect("first");
    let pending = h
        .call(
            "media",
            "list",
            json!({"ks": ks, "filter": {"objectType": "KalturaMediaEntryFilter", "nameLike": "physics"}}),
        )
        .await;
    if state.entry_status(PID, &first) != Some(2) {
        assert_eq!(pending["totalCount"], 0, "only READY entries are listed by default");
    }
    let any = h.call("media", "list", json!({"ks": ks, "filter": {"nameLike": "physics", "statusIn": "7,1,2"}})).await;
    assert_eq!(any["objects"][0]["id"].as_str(), Some(first.as_str()));
    eventually("first recording ready", || (state.entry_status(PID, &first) == Some(2)).then_some(())).await;
    let second = state
        .simulate_recording(&RecordingRequest {
            partner_id: PID,
            resource_id: Some(room),
            ..RecordingRequest::default()
        })
        .expect("second");
    state
        .simulate_recording(&RecordingRequest {
            partner_id: PID,
            resource_id: Some(other),
            ..RecordingRequest::default()
        })
        .expect("third");
    eventually("second recording ready", || (state.entry_status(PID, &second) == Some(2)).then_some(())).await;
    let listed = h
        .call("media", "list", json!({"ks": ks, "filter": {"nameLike": "Physics-101", "orderBy": "+createdAt"}}))
        .await;
    let names: Vec<_> = listed["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|entry| entry["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, ["Physics-101 - Recording 1", "Physics-101 - Recording 2"]);
    let by_id = h
        .call("media", "list", json!({"ks": ks, "filter": {"idIn": format!("{first},{second}"), "statusEqual": 2}}))
        .await;
    assert_eq!(by_id["totalCount"], 2);
    let by_root = h.call("media", "list", json!({"ks": ks, "filter": {"rootEntryIdEqual": second}})).await;
    assert_eq!(by_root["totalCount"], 1);
    assert_eq!(h.raw("media", "delete", json!({"ks": ks, "entryId": first})).await, "null");
    assert_error(&h.call("media", "get", json!({"ks": ks, "entryId": first})).await, "ENTRY_ID_NOT_FOUND");
    let none = state.simulate_recording(&RecordingRequest {
        partner_id: PID,
        resource_id: Some(1),
        ..RecordingRequest::default()
    });
    assert!(matches!(none, Err(EmulatorError::NoSuchRoom { kind: "resource", id: 1, .. })), "{none:?}");
    assert!(matches!(
        state.simulate_recording(&RecordingRequest { partner_id: PID, ..RecordingRequest::default() }),
        Err(EmulatorError::RecordingTarget)
    ));
    h.stop().await;
}

#[tokio::test]
async fn webhooks_retry_until_success_then_give_up() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let state = h.state();
    let flaky = Receiver::start(&[500, 503]).await;
    let hook = state.subscribe_webhook(WebhookSubscription::new(PID, &flaky.url)).expect("hook");
    let ks = h.admin_ks(PID).await;
    let room = h.add_room(&ks, "Retry").await;
    let entry = state
        .simulate_recording(&RecordingRequest {
            partner_id: PID,
            resource_id: Some(room),
            ..RecordingRequest::default()
        })
        .expect("recording");
    let deliveries = eventually("4 attempts", || Some(state.deliveries()).filter(|found| found.len() == 4)).await;
    let summary: Vec<_> = deliveries
        .iter()
        .map(|delivery| (delivery.entry_status, delivery.attempt, delivery.http_status, delivery.success))
        .collect();
    assert_eq!(
        summary,
        [(1, 1, Some(500), false), (1, 2, Some(503), false), (1, 3, Some(200), true), (2, 1, Some(200), true)]
    );
    assert!(deliveries.iter().all(|delivery| delivery.entry_id == entry && delivery.subscription_id == hook));
    assert_eq!(flaky.received().len(), 4);
    assert!(state.unsubscribe_webhook(hook));
    let broken = Receiver::start(&[500; 10]).await;
    state.subscribe_webhook(WebhookSubscription::new(PID, &broken.url)).expect("hook");
    state.clear_deliveries();
    state
        .simulate_recording(&RecordingRequest {
            partner_id: PID,
            resource_id: Some(room),
            ..RecordingRequest::default()
        })
        .expect("recording");
    let failed = eventually("6 failed attempts", || Some(state.deliveries()).filter(|found| found.len() == 6)).await;
    assert!(failed.iter().all(|delivery| !delivery.success && delivery.http_status == Some(500)));
    assert_eq!(failed.iter().map(|delivery| delivery.attempt).collect::<Vec<_>>(), [1, 2, 3, 1, 2, 3]);
    assert_eq!(broken.received().len(), 6);
    let refused = state.subscribe_webhook(WebhookSubscription::new(PID, "http://example.com/hook"));
    assert!(matches!(refused, Err(EmulatorError::WebhookUrl(_))));
    assert!(matches!(
        state.subscribe_webhook(WebhookSubscription::new(99, &broken.url)),
        Err(EmulatorError::UnknownPartner(99))
    ));
    flaky.stop().await;
    broken.stop().await;
    h.stop().await;
}

#[tokio::test]
async fn webcast_recordings_hang_off_the_live_entry() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let state = h.state();
    let ks = h.admin_ks(PID).await;
    let live = h.call("livestream", "add", json!({"ks": ks, "liveStreamEntry": {"objectType": "KalturaLiveStreamEntry", "name": "Town Hall", "mediaType": 201}})).await;
    let live_id = live["id"].as_str().expect("live id").to_owned();
    let event = h
        .call("schedule_scheduleevent", "add", json!({"ks": ks, "scheduleEvent": {"objectType": "KalturaLiveStreamScheduleEvent",
            "templateEntryId": live_id, "summary": "Town Hall", "startDate": 60, "endDate": 3660, "recurrenceType": 0}}))
        .await["id"]
        .as_i64()
        .expect("event");
    let entry = state
        .simulate_recording(&RecordingRequest { partner_id: PID, event_id: Some(event), ..RecordingRequest::default() })
        .expect("recording");
    eventually("ready", || (state.entry_status(PID, &entry) == Some(2)).then_some(())).await;
    let recorded = h.call("media", "get", json!({"ks": ks, "entryId": entry})).await;
    assert_eq!(
        (recorded["rootEntryId"].as_str(), recorded["sourceType"].as_str()),
        (Some(live_id.as_str()), Some("36"))
    );
    assert_eq!(recorded["name"], "Town Hall - Recording 1");
    let live = h.call("livestream", "get", json!({"ks": ks, "entryId": live_id})).await;
    assert_eq!(live["recordedEntryId"].as_str(), Some(entry.as_str()));
    let by_root = h.call("media", "list", json!({"ks": ks, "filter": {"rootEntryIdEqual": live_id}})).await;
    assert_eq!(by_root["totalCount"], 1);
    h.stop().await;
}
