//! Harness: an emulator with the demo guild, raw HTTP helpers and an interactions endpoint that verifies signatures.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use kalcord_discord_emulator::{ApplicationInfo, DiscordEmulator, EmulatorConfig, EmulatorState, seed};
use parking_lot::Mutex;
use serde_json::{Value, json};

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
    }
}

/// A running emulator and a client.
pub struct Harness {
    pub emulator: DiscordEmulator,
    pub http: reqwest::Client,
    pub base: String,
    pub app: ApplicationInfo,
}

impl Harness {
    /// The demo guild, default configuration.
    pub async fn start() -> Self {
        Self::with(|config| config).await
    }

    /// The demo guild, configuration adjusted.
    pub async fn with(adjust: impl FnOnce(EmulatorConfig) -> EmulatorConfig) -> Self {
        let config = adjust(EmulatorConfig::default().with_guild(seed::demo_guild()));
        let emulator = DiscordEmulator::start(config).await.expect("emulator starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let base = emulator.api_base();
        let app = emulator.application();
        Self { emulator, http, base, app }
    }

    pub fn state(&self) -> EmulatorState {
        self.emulator.state()
    }

    /// `Bot <token>`.
    pub fn bot_auth(&self) -> String {
        format!("Bot {}", self.app.bot_token)
    }

    /// A raw request to `/api/v10{path}`.
    pub async fn call(&self, method: &str, path: &str, auth: Option<&str>, body: Option<Value>) -> Reply {
        let url = format!("{}/api/v10{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request =
            self.http.request(method, url).header("user-agent", "DiscordBot (https://kalcord.test, 1) tests");
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    /// A request with the bot token.
    pub async fn bot(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let auth = self.bot_auth();
        self.call(method, path, Some(&auth), body).await
    }

    /// A request with a Bearer token.
    pub async fn bearer(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Reply {
        self.call(method, path, Some(&format!("Bearer {token}")), body).await
    }

    pub async fn stop(self) {
        self.emulator.stop().await;
    }
}

/// Sends and reads a request.
pub async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.expect("body");
    Reply { status, headers, body }
}

/// What the endpoint answers: status, JSON body, delay.
pub type Behaviour = Arc<dyn Fn(&Value) -> (u16, Value, Duration) + Send + Sync>;

/// A request the endpoint received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub signature: Option<String>,
    pub timestamp: Option<String>,
    pub body: Vec<u8>,
    pub verified: bool,
}

struct EndpointState {
    key: VerifyingKey,
    behaviour: Behaviour,
    seen: Mutex<Vec<Seen>>,
}

/// An interactions endpoint that verifies Ed25519 signatures like a real app (401 when they fail).
pub struct Endpoint {
    pub url: url::Url,
    state: Arc<EndpointState>,
    handle: actix_web::dev::ServerHandle,
}

fn verify(key: &VerifyingKey, signature: Option<&str>, timestamp: Option<&str>, body: &[u8]) -> bool {
    let (Some(signature), Some(timestamp)) = (signature, timestamp) else { return false };
    let Ok(bytes) = hex::decode(signature) else { return false };
    let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else { return false };
    let fresh = timestamp.parse::<u64>().is_ok_and(|ts| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        now.abs_diff(ts) < 300
    });
    let message = [timestamp.as_bytes(), body].concat();
    fresh && key.verify(&message, &Signature::from_bytes(&bytes)).is_ok()
}

async fn endpoint(request: HttpRequest, body: web::Bytes, state: web::Data<EndpointState>) -> HttpResponse {
    let header = |name: &str| request.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let (signature, timestamp) = (header("x-signature-ed25519"), header("x-signature-timestamp"));
    let verified = verify(&state.key, signature.as_deref(), timestamp.as_deref(), &body);
    state.seen.lock().push(Seen { signature, timestamp, body: body.to_vec(), verified });
    if !verified {
        return HttpResponse::Unauthorized().body("invalid request signature");
    }
    let payload: Value = serde_json::from_slice(&body).unwrap_or_default();
    if payload["type"] == 1 {
        return HttpResponse::Ok().json(json!({"type": 1}));
    }
    let (status, reply, delay) = (state.behaviour)(&payload);
    tokio::time::sleep(delay).await;
    let status = actix_web::http::StatusCode::from_u16(status).expect("status");
    if reply.is_null() { HttpResponse::build(status).finish() } else { HttpResponse::build(status).json(reply) }
}

impl Endpoint {
    /// Serves on 127.0.0.1 with the application's public key.
    pub async fn start(public_key_hex: &str, behaviour: Behaviour) -> Self {
        let bytes: [u8; 32] = hex::decode(public_key_hex).expect("hex").try_into().expect("32 bytes");
        let key = VerifyingKey::from_bytes(&bytes).expect("public key");
        let state = Arc::new(EndpointState { key, behaviour, seen: Mutex::new(Vec::new()) });
        let data = web::Data::from(Arc::clone(&state));
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new().app_data(data.clone()).route("/interactions", web::post().to(endpoint))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        let url = url::Url::parse(&format!("http://{addr}/interactions")).expect("url");
        Self { url, state, handle }
    }

    /// Always answers `status` with `reply` after `delay`.
    pub async fn answering(public_key_hex: &str, status: u16, reply: Value, delay: Duration) -> Self {
        Self::start(public_key_hex, Arc::new(move |_| (status, reply.clone(), delay))).await
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().clone()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}
