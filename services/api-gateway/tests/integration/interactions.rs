//! `POST /interactions` at the edge: nothing processed before the signature verifies.

use std::time::Duration;

use actix_web::{App, test};
use kalcord_api_gateway::routes;
use kalcord_bus::Message;
use kalcord_proto::Message as _;
use kalcord_proto::v1::{InteractionReply, InteractionRequest};
use serde_json::{Value, json};

use super::common::Edge;

const COMMAND: &str = r#"{"type":2,"id":"1","application_id":"2","token":"t","version":1,"data":{"id":"3","name":"meeting","type":1,"options":[{"name":"join","type":1,"options":[]}]}}"#;

async fn post(edge: &Edge, body: &[u8], signature: Option<(&str, &str)>) -> (u16, Value) {
    let app = test::init_service(App::new().app_data(edge.state.clone()).configure(routes)).await;
    let mut request = test::TestRequest::post().uri("/interactions").set_payload(body.to_vec());
    if let Some((signature, timestamp)) = signature {
        request = request
            .insert_header(("X-Signature-Ed25519", signature))
            .insert_header(("X-Signature-Timestamp", timestamp));
    }
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    let body = test::read_body(response).await;
    if status == 200 {
        assert_eq!(content_type.as_deref(), Some("application/json"), "Discord needs a valid Content-Type");
    }
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn signed(edge: &Edge, body: &[u8]) -> (u16, Value) {
    let (signature, timestamp) = edge.sign(body);
    post(edge, body, Some((&signature, &timestamp))).await
}

/// A stand-in interactions service on the bus that answers `reply` after `delay`.
async fn serve(edge: &Edge, delay: Duration, reply: Value) -> tokio::task::JoinHandle<Vec<InteractionRequest>> {
    let bus = edge.bus.clone();
    let (ready_tx, ready) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move {
        let mut requests = bus.serve("interactions.handle", "interactions").await.unwrap();
        ready_tx.send(()).unwrap();
        let mut seen = Vec::new();
        if let Some(request) = requests.next().await {
            let decoded = InteractionRequest::decode(request.message.payload.as_ref()).unwrap();
            seen.push(decoded);
            tokio::time::sleep(delay).await;
            let reply = InteractionReply { response: serde_json::to_vec(&reply).unwrap() };
            let _ = request.respond(Message::new(reply.encode_to_vec())).await;
        }
        seen
    });
    ready.await.unwrap();
    handle
}

#[actix_web::test]
async fn ping_is_answered_with_pong_without_the_bus() {
    let _trace = kalcord_test_util::trace_init();
    let edge = Edge::new(Duration::from_millis(300));
    let (status, body) = signed(&edge, br#"{"type":1,"id":"1","token":"t","version":1}"#).await;
    assert_eq!((status, body), (200, json!({"type": 1})));
}

#[actix_web::test]
async fn bad_signatures_are_401_and_nothing_is_forwarded() {
    let _trace = kalcord_test_util::trace_init();
    let edge = Edge::new(Duration::from_millis(300));
    let body = COMMAND.as_bytes();
    let (signature, timestamp) = edge.sign(body);
    let mut tampered = body.to_vec();
    tampered[10] ^= 1;
    let stale =
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 301).to_string();
    let (stale_signature, _) = edge.sign_at(&stale, body);
    type Case = (Vec<u8>, Option<(String, String)>);
    let cases: Vec<Case> = vec![
        (body.to_vec(), None),
        (tampered, Some((signature.clone(), timestamp.clone()))),
        (body.to_vec(), Some(("00".repeat(64), timestamp.clone()))),
        (body.to_vec(), Some(("not hex".into(), timestamp.clone()))),
        (body.to_vec(), Some((signature.clone(), "12".into()))),
        (body.to_vec(), Some((stale_signature, stale))),
    ];
    for (body, headers) in cases {
        let (status, error) = post(&edge, &body, headers.as_ref().map(|(s, t)| (s.as_str(), t.as_str()))).await;
        assert_eq!(status, 401, "{headers:?}");
        assert_eq!(error["code"], "unauthorized");
    }
    let err = edge.bus.request("interactions.handle", Message::default(), Duration::from_millis(50)).await.unwrap_err();
    assert!(matches!(err, kalcord_bus::BusError::NoResponders { .. }), "nothing served, nothing sent");
}

#[actix_web::test]
async fn oversized_and_malformed_bodies() {
    let _trace = kalcord_test_util::trace_init();
    let edge = Edge::new(Duration::from_millis(300));
    let big = vec![b' '; (1 << 20) + 1];
    let (status, error) = signed(&edge, &big).await;
    assert_eq!((status, error["code"].as_str()), (413, Some("payload_too_large")));
    let (status, error) = signed(&edge, b"{not json").await;
    assert_eq!((status, error["code"].as_str()), (400, Some("bad_request")));
    let (status, _) = signed(&edge, br#"{"type":"one"}"#).await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn commands_cross_the_bus_and_the_answer_comes_back() {
    let _trace = kalcord_test_util::trace_init();
    let edge = Edge::new(Duration::from_millis(1000));
    let server = serve(&edge, Duration::ZERO, json!({"type": 4, "data": {"content": "hello", "flags": 64}})).await;
    let (status, body) = signed(&edge, COMMAND.as_bytes()).await;
    assert_eq!((status, body), (200, json!({"type": 4, "data": {"content": "hello", "flags": 64}})));
    let seen = server.await.unwrap();
    assert_eq!(seen[0].body, COMMAND.as_bytes(), "the raw, verified body is forwarded unchanged");
    assert!(seen[0].deadline_unix_ms - seen[0].received_at_unix_ms == 1000);
}

#[actix_web::test]
async fn a_slow_service_gets_a_deferral_matching_the_command() {
    let _trace = kalcord_test_util::trace_init();
    let edge = Edge::new(Duration::from_millis(100));
    let _server = serve(&edge, Duration::from_millis(400), json!({"type": 4})).await;
    let (_, body) = signed(&edge, COMMAND.as_bytes()).await;
    assert_eq!(body, json!({"type": 5, "data": {"flags": 64}}), "/meeting join answers privately");

    let start = COMMAND.replace(r#""name":"join""#, r#""name":"start""#);
    let _server = serve(&edge, Duration::from_millis(400), json!({"type": 4})).await;
    let (_, body) = signed(&edge, start.as_bytes()).await;
    assert_eq!(body, json!({"type": 5}), "/meeting start answers publicly");

    let autocomplete = COMMAND.replace(r#""type":2"#, r#""type":4"#);
    let _server = serve(&edge, Duration::from_millis(400), json!({"type": 8})).await;
    let (_, body) = signed(&edge, autocomplete.as_bytes()).await;
    assert_eq!(body, json!({"type": 8, "data": {"choices": []}}), "autocomplete cannot be deferred");
}

#[actix_web::test]
async fn an_absent_service_gets_a_polite_ephemeral_answer() {
    let _trace = kalcord_test_util::trace_init();
    let edge = Edge::new(Duration::from_millis(300));
    let (status, body) = signed(&edge, COMMAND.as_bytes()).await;
    assert_eq!(status, 200);
    assert_eq!((body["type"].as_u64(), body["data"]["flags"].as_u64()), (Some(4), Some(64)));
    assert!(body["data"]["content"].as_str().unwrap().contains("try again"));
}

#[actix_web::test]
async fn without_a_public_key_interactions_are_503() {
    let _trace = kalcord_test_util::trace_init();
    let edge = Edge::without_discord();
    let (status, error) = signed(&edge, br#"{"type":1}"#).await;
    assert_eq!((status, error["code"].as_str()), (503, Some("not_configured")));
}

#[actix_web::test]
async fn ten_thousand_random_signatures_are_all_refused() {
    let _trace = kalcord_test_util::trace_init();
    let edge = Edge::new(Duration::from_millis(300));
    let app = test::init_service(App::new().app_data(edge.state.clone()).configure(routes)).await;
    let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    for n in 0u32..10_000 {
        let mut signature = [0u8; 64];
        signature[..4].copy_from_slice(&n.to_le_bytes());
        let request = test::TestRequest::post()
            .uri("/interactions")
            .insert_header(("X-Signature-Ed25519", hex::encode(signature)))
            .insert_header(("X-Signature-Timestamp", timestamp.as_str()))
            .set_payload(COMMAND)
            .to_request();
        assert_eq!(test::call_service(&app, request).await.status(), 401);
    }
}
