//! Harness: an emulator with two partners, raw HTTP helpers and a webhook receiver.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use kalcord_kaltura_emulator::{Emulator, EmulatorConfig, EmulatorState, PartnerConfig};
use parking_lot::Mutex;
use serde_json::{Value, json};

/// First partner (the spec's sample account).
pub const PID: i64 = 1_234_567;
/// Its admin secret (the spec's test-vector secret).
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";
/// Its second admin secret.
pub const SECRET_B: &str = "second-admin-secret";
/// Its user secret.
pub const USER_SECRET: &str = "user-secret-1";
/// Second partner.
pub const PID2: i64 = 7_654_321;
/// Its admin secret.
pub const SECRET2: &str = "fedcba9876543210fedcba9876543210";

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }
}

/// A running emulator and a client.
pub struct Harness {
    pub emulator: Emulator,
    pub http: reqwest::Client,
    pub base: String,
}

impl Harness {
    /// Two partners; partner 2 caps sessions at one hour; short delays.
    pub async fn start() -> Self {
        Self::with(|config| config).await
    }

    /// Like [`Harness::start`] with the configuration adjusted.
    pub async fn with(adjust: impl FnOnce(EmulatorConfig) -> EmulatorConfig) -> Self {
        let mut first = PartnerConfig::new(PID, SECRET).with_user_secret(USER_SECRET);
        first.admin_secrets.push(SECRET_B.to_owned());
        let mut second = PartnerConfig::new(PID2, SECRET2);
        second.ks_max_expiry_seconds = 3600;
        let config = EmulatorConfig {
            webhook_retry_delay: Duration::from_millis(10),
            webhook_max_attempts: 3,
            recording_step_delay: Duration::from_millis(20),
            ..EmulatorConfig::default()
        }
        .with_partner(first)
        .with_partner(second);
        let emulator = Emulator::start(adjust(config)).await.expect("emulator starts");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
        let base = emulator.base_url();
        Self { emulator, http, base }
    }

    pub fn state(&self) -> EmulatorState {
        self.emulator.state()
    }

    pub async fn stop(self) {
        self.emulator.stop().await;
    }

    /// Any request; `content_type` `None` sends none.
    pub async fn send(&self, method: &str, path: &str, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, format!("{}{path}", self.base)).body(body.into());
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let response = request.send().await.expect("request answered");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type =
            headers.get("content-type").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
        let body = response.text().await.expect("body");
        Reply { status, content_type, headers, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, Vec::new()).await
    }

    /// POSTs `body` as exact `application/json` to `service.action`.
    pub async fn post_json(&self, service: &str, action: &str, body: &Value) -> Reply {
        let path = format!("/api_v3/service/{service}/action/{action}");
        self.send("POST", &path, Some("application/json"), serde_json::to_vec(body).expect("json")).await
    }

    /// Calls `service.action` with `format=1` and returns the raw JSON text.
    pub async fn raw(&self, service: &str, action: &str, mut body: Value) -> String {
        body["format"] = json!(1);
        let reply = self.post_json(service, action, &body).await;
        assert_eq!(reply.status, 200, "{service}.{action}: {}", reply.body);
        assert_eq!(reply.content_type, "application/json");
        reply.body
    }

    /// Calls `service.action` with `format=1` and parses the result.
    pub async fn call(&self, service: &str, action: &str, body: Value) -> Value {
        let text = self.raw(service, action, body).await;
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
    }

    /// An ADMIN KS from `session.start`.
    pub async fn admin_ks(&self, partner_id: i64) -> String {
        let secret = if partner_id == PID2 { SECRET2 } else { SECRET };
        let body = json!({"secret": secret, "userId": "admin@example.com", "type": 2, "partnerId": partner_id});
        self.session(body).await
    }

    /// A USER KS from `session.start` (with the user secret on partner 1).
    pub async fn user_ks(&self, user_id: &str, privileges: &str) -> String {
        let body =
            json!({"secret": USER_SECRET, "userId": user_id, "type": 0, "partnerId": PID, "privileges": privileges});
        self.session(body).await
    }

    async fn session(&self, body: Value) -> String {
        let result = self.call("session", "start", body).await;
        result.as_str().unwrap_or_else(|| panic!("session.start failed: {result}")).to_owned()
    }

    /// Adds a `vcprovider:newrow` room; returns its id.
    pub async fn add_room(&self, ks: &str, name: &str) -> i64 {
        let body = json!({"ks": ks, "scheduleResource": {
            "objectType": "KalturaLocationScheduleResource", "name": name, "tags": "vcprovider:newrow"}});
        let room = self.call("schedule_scheduleresource", "add", body).await;
        room["id"].as_i64().unwrap_or_else(|| panic!("room not added: {room}"))
    }

    /// Adds a one-hour record event starting in a day; returns its id.
    pub async fn add_event(&self, ks: &str, summary: &str) -> i64 {
        let body = json!({"ks": ks, "scheduleEvent": {"objectType": "KalturaRecordScheduleEvent",
            "summary": summary, "startDate": 86_400, "endDate": 90_000, "recurrenceType": 0}});
        let event = self.call("schedule_scheduleevent", "add", body).await;
        event["id"].as_i64().unwrap_or_else(|| panic!("event not added: {event}"))
    }
}

/// Asserts a JSON API error and returns it.
pub fn assert_error(value: &Value, code: &str) -> Value {
    assert_eq!(value["objectType"], "KalturaAPIException", "expected {code}, got {value}");
    assert_eq!(value["code"], code, "{value}");
    value.clone()
}

/// Polls `check` until it returns `Some` (5 s at most).
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..500 {
        if let Some(found) = check() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// One request a [`Receiver`] got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct ReceiverState {
    statuses: VecDeque<u16>,
    received: Vec<Received>,
}

/// A local webhook target answering the given statuses in order, then 200.
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<ReceiverState>>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    pub async fn start(statuses: &[u16]) -> Self {
        let state =
            Arc::new(Mutex::new(ReceiverState { statuses: statuses.iter().copied().collect(), ..Default::default() }));
        let shared = web::Data::from(Arc::clone(&state));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new().app_data(shared.clone()).route("/hook", web::post().to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, state, handle }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().received.clone()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn receive(request: HttpRequest, body: web::Bytes, state: web::Data<Mutex<ReceiverState>>) -> HttpResponse {
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_ascii_lowercase(), value.to_str().unwrap_or_default().to_owned()))
        .collect();
    let mut state = state.lock();
    state.received.push(Received { headers, body: body.to_vec() });
    let status = state.statuses.pop_front().unwrap_or(200);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status")).finish()
}
