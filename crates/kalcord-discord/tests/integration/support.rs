//! Shared pieces: the Node fidelity directory, the emulator with the schema validator, an egress on it, and a
//! tiny interactions endpoint that checks signatures with our `Verifier`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kalcord_cache::{MemoryCache, SharedCache};
use kalcord_discord::egress::{DEFAULT_GLOBAL_PER_SECOND, DEFAULT_INVALID_LIMIT, Egress, EgressConfig};
use kalcord_discord::signature::{SIGNATURE_HEADER, SignatureError, TIMESTAMP_HEADER, Verifier};
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, ValidatorConfig, seed};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// `tests/fidelity/discord` of the workspace.
pub fn fidelity_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fidelity/discord")
}

/// The fidelity directory, after checking that the npm package `name` is installed (fails, never skips).
pub fn require_node_package(name: &str) -> PathBuf {
    let dir = fidelity_dir();
    assert!(
        dir.join("node_modules").join(name).join("package.json").is_file(),
        "the npm package {name} is not installed in {}: run make fidelity-deps",
        dir.display()
    );
    dir
}

/// An emulator with the demo guild and the schema validator on, configured further by `adjust`.
pub async fn emulator(adjust: impl FnOnce(EmulatorConfig) -> EmulatorConfig) -> DiscordEmulator {
    require_node_package("discord-api-spec");
    require_node_package("zod");
    let validator = ValidatorConfig::new(fidelity_dir().join("validator.mjs"));
    let config = adjust(EmulatorConfig::default().with_guild(seed::demo_guild()).with_validator(validator));
    DiscordEmulator::start(config).await.expect("the emulator starts")
}

/// A key prefix no other test (or earlier run) uses.
pub fn unique_prefix(what: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("kalcord-test:{what}:{}:{nanos}:{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A fresh in-memory cache.
pub fn memory_cache() -> SharedCache {
    Arc::new(MemoryCache::new(&unique_prefix("discord-egress"), 10_000))
}

/// The application id of the emulator.
pub fn application_id(emulator: &DiscordEmulator) -> u64 {
    emulator.application().id.parse().expect("the application id is a snowflake")
}

/// Egress settings for the emulator's application with Discord's defaults.
pub fn egress_config(emulator: &DiscordEmulator) -> EgressConfig {
    EgressConfig {
        api_base: Some(emulator.api_authority()),
        application_id: application_id(emulator),
        bot_token: kalcord_config::Secret::new(emulator.application().bot_token),
        global_per_second: DEFAULT_GLOBAL_PER_SECOND,
        invalid_limit: DEFAULT_INVALID_LIMIT,
        timeout: Duration::from_secs(10),
    }
}

/// An egress with Discord's defaults and its own memory cache.
pub fn egress(emulator: &DiscordEmulator) -> Egress {
    Egress::new(egress_config(emulator), memory_cache())
}

/// Asserts the validator found nothing wrong with what we sent.
pub fn assert_no_schema_violations(emulator: &DiscordEmulator) {
    let violations = emulator.state().schema_violations();
    assert!(violations.is_empty(), "Discord's published schemas reject bodies we sent: {violations:#?}");
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    i64::try_from(seconds).expect("seconds fit")
}

/// A request the endpoint received, with our verifier's verdict.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `X-Signature-Ed25519`.
    pub signature: Option<String>,
    /// `X-Signature-Timestamp`.
    pub timestamp: Option<String>,
    /// Raw body.
    pub body: Vec<u8>,
    /// What `Verifier::verify` said.
    pub verdict: Result<(), SignatureError>,
}

/// An Interactions Endpoint URL as an app serves it: 401 unless our `Verifier` accepts the signature, `{"type":1}`
/// to a PING, `reply` to anything else. Raw HTTP/1.1 on a tokio listener, one request per connection.
pub struct Endpoint {
    /// `http://127.0.0.1:PORT/interactions`.
    pub url: reqwest::Url,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Endpoint {
    /// Serves on 127.0.0.1, verifying with `public_key_hex`.
    pub async fn start(public_key_hex: &str, reply: Value) -> Self {
        let verifier = Verifier::from_hex(public_key_hex).expect("the application's public key");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the endpoint");
        let addr = listener.local_addr().expect("endpoint address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(serve(listener, verifier, reply, Arc::clone(&seen)));
        let url = reqwest::Url::parse(&format!("http://{addr}/interactions")).expect("endpoint URL");
        Self { url, seen, task }
    }

    /// Every request received so far.
    pub async fn seen(&self) -> Vec<Seen> {
        self.seen.lock().await.clone()
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, verifier: Verifier, reply: Value, seen: Arc<Mutex<Vec<Seen>>>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(answer(stream, verifier.clone(), reply.clone(), Arc::clone(&seen)));
    }
}

async fn answer(mut stream: TcpStream, verifier: Verifier, reply: Value, seen: Arc<Mutex<Vec<Seen>>>) {
    let Some((headers, body)) = read_request(&mut stream).await else { return };
    let header = |name: &str| headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
    let (signature, timestamp) = (header(SIGNATURE_HEADER), header(TIMESTAMP_HEADER));
    let verdict = verifier.verify(signature.as_deref(), timestamp.as_deref(), &body, unix_now());
    let (status, text) = match verdict {
        Err(_) => ("401 Unauthorized", "invalid request signature".to_owned()),
        Ok(()) if serde_json::from_slice::<Value>(&body).is_ok_and(|payload| payload["type"] == 1) => {
            ("200 OK", r#"{"type":1}"#.to_owned())
        }
        Ok(()) => ("200 OK", reply.to_string()),
    };
    seen.lock().await.push(Seen { signature, timestamp, body, verdict });
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Headers (names in lower case) and body of one request.
async fn read_request(stream: &mut TcpStream) -> Option<(Vec<(String, String)>, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break at;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = std::str::from_utf8(&buffer[..head_end]).ok()?;
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    body.truncate(length);
    Some((headers, body))
}
