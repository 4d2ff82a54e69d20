//! The interaction sender: signs `timestamp + body` with the application's Ed25519 key, POSTs it to the
//! Interactions Endpoint URL, enforces the 3 s deadline, applies an inline response; and bad-signature probes.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::{Signer as _, SigningKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use crate::error::EmulatorError;
use crate::interaction::{ATTACHMENT_SIZE_LIMIT, InteractionSpec, build};
use crate::rest::interactions::apply_callback;
use crate::state::{EmulatorState, Inner};

/// What came back from the endpoint.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct InteractionOutcome {
    /// Interaction id.
    pub interaction_id: String,
    /// Interaction token (for follow-ups: `/webhooks/{app}/{token}`).
    pub token: String,
    /// The payload sent.
    pub payload: Value,
    /// HTTP status, if the endpoint answered in time.
    pub status: Option<u16>,
    /// Response body text.
    pub body: String,
    /// Response body as JSON, if it was JSON.
    pub json: Option<Value>,
    /// Time until the full response was read (or the deadline).
    pub elapsed: Duration,
    /// No complete answer within the deadline ("The application did not respond").
    pub deadline_missed: bool,
    /// Transport error, if any.
    pub error: Option<String>,
    /// Discord's error for an inline response it refused (e.g. 40060 after a callback).
    pub callback_error: Option<Value>,
}

impl InteractionOutcome {
    /// Answered in time with a 2xx.
    #[must_use]
    pub fn responded(&self) -> bool {
        !self.deadline_missed && self.status.is_some_and(|status| (200..300).contains(&status))
    }
}

/// A bad-signature probe (Discord's routine security checks): the endpoint must answer 401.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProbeKind {
    /// Signed with another key.
    WrongKey,
    /// Body changed after signing.
    TamperedBody,
    /// Correctly signed, timestamp an hour old.
    StaleTimestamp,
    /// No signature headers.
    MissingHeaders,
    /// A correct PING (expects 200 `{"type":1}`).
    ValidPing,
}

impl ProbeKind {
    /// Every probe.
    pub const ALL: [Self; 5] =
        [Self::WrongKey, Self::TamperedBody, Self::StaleTimestamp, Self::MissingHeaders, Self::ValidPing];
}

/// A probe's result.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct ProbeOutcome {
    /// Probe.
    pub kind: ProbeKind,
    /// Status answered (if any).
    pub status: Option<u16>,
    /// Body answered.
    pub body: String,
    /// 401 for bad signatures; 200 with `{"type":1}` for the valid PING.
    pub passed: bool,
}

/// `X-Signature-Ed25519` for `timestamp + body`, lowercase hex.
#[must_use]
pub fn sign(key: &SigningKey, timestamp: &str, body: &[u8]) -> String {
    let mut message = Vec::with_capacity(timestamp.len() + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(body);
    hex::encode(key.sign(&message).to_bytes())
}

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

struct Answer {
    status: u16,
    body: String,
}

async fn post(
    inner: &Inner,
    url: &Url,
    body: String,
    signature: Option<(String, String)>,
    deadline: Duration,
) -> Result<Answer, String> {
    let mut request = inner
        .http
        .post(url.clone())
        .header("content-type", "application/json")
        .header("user-agent", "Discord-Interactions/1.0 (+https://discord.com)");
    if let Some((signature, timestamp)) = signature {
        request = request.header("x-signature-ed25519", signature).header("x-signature-timestamp", timestamp);
    }
    let exchange = async {
        let response = request.body(body).send().await.map_err(|error| error.to_string())?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|error| error.to_string())?;
        Ok(Answer { status, body })
    };
    tokio::time::timeout(deadline, exchange).await.unwrap_or_else(|_| Err("The application did not respond".to_owned()))
}

pub(crate) async fn send(inner: &Inner, spec: &InteractionSpec) -> Result<InteractionOutcome, EmulatorError> {
    let (url, key) = {
        let world = inner.world.lock();
        (world.app.interactions_url.clone().ok_or(EmulatorError::NoInteractionsUrl)?, world.app.signing_key.clone())
    };
    let (record, payload) = inner.with_world(|world| build(world, spec))?;
    let body = payload.to_string();
    let timestamp = unix_seconds().to_string();
    let signature = sign(&key, &timestamp, body.as_bytes());
    let deadline = inner.settings.interaction_deadline;
    let started = Instant::now();
    let answer = post(inner, &url, body, Some((signature, timestamp)), deadline).await;
    let elapsed = started.elapsed();
    let mut outcome = InteractionOutcome {
        interaction_id: record.id.to_string(),
        token: record.token.clone(),
        payload,
        status: None,
        body: String::new(),
        json: None,
        elapsed,
        deadline_missed: elapsed >= deadline,
        error: None,
        callback_error: None,
    };
    match answer {
        Ok(answer) if !outcome.deadline_missed => {
            outcome.status = Some(answer.status);
            outcome.json = serde_json::from_str(&answer.body).ok();
            outcome.body = answer.body;
        }
        Ok(_) => outcome.error = Some("The application did not respond".to_owned()),
        Err(error) => {
            outcome.deadline_missed |= error == "The application did not respond";
            outcome.error = Some(error);
        }
    }
    apply_inline(inner, &record, &mut outcome);
    Ok(outcome)
}

/// A 200 with `{"type": ...}` is the first response, as if sent to the callback route.
fn apply_inline(inner: &Inner, record: &crate::world::model::Interaction, outcome: &mut InteractionOutcome) {
    if outcome.status != Some(200) || record.kind == 1 {
        return;
    }
    let Some(json) = outcome.json.clone().filter(|json| json.get("type").is_some()) else { return };
    if let Err(error) = inner.with_world(|world| apply_callback(world, record.id, &record.token, &json)) {
        outcome.callback_error = Some(error.body);
    }
}

fn ping_body(inner: &Inner) -> String {
    let world = inner.world.lock();
    json!({
        "id": world.next_id().to_string(), "application_id": world.app.id.to_string(), "type": 1,
        "token": format!("ping-{}", crate::ids::random_token(100)), "version": 1, "entitlements": [],
        "authorizing_integration_owners": {}, "attachment_size_limit": ATTACHMENT_SIZE_LIMIT, "app_permissions": "0",
    })
    .to_string()
}

pub(crate) async fn probe(inner: &Inner, kind: ProbeKind) -> Result<ProbeOutcome, EmulatorError> {
    let (url, key) = {
        let world = inner.world.lock();
        (world.app.interactions_url.clone().ok_or(EmulatorError::NoInteractionsUrl)?, world.app.signing_key.clone())
    };
    let body = ping_body(inner);
    let now = unix_seconds();
    let (sent, signature) = match kind {
        ProbeKind::WrongKey => {
            let other = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
            (body.clone(), Some((sign(&other, &now.to_string(), body.as_bytes()), now.to_string())))
        }
        ProbeKind::TamperedBody => {
            let signature = sign(&key, &now.to_string(), body.as_bytes());
            (body.replacen("\"version\":1", "\"version\":2", 1), Some((signature, now.to_string())))
        }
        ProbeKind::StaleTimestamp => {
            let stale = now.saturating_sub(3600).to_string();
            (body.clone(), Some((sign(&key, &stale, body.as_bytes()), stale)))
        }
        ProbeKind::MissingHeaders => (body, None),
        ProbeKind::ValidPing => (body.clone(), Some((sign(&key, &now.to_string(), body.as_bytes()), now.to_string()))),
    };
    let answer = post(inner, &url, sent, signature, inner.settings.interaction_deadline).await;
    let (status, text) = match answer {
        Ok(answer) => (Some(answer.status), answer.body),
        Err(error) => (None, error),
    };
    let passed = match kind {
        ProbeKind::ValidPing => {
            status == Some(200) && serde_json::from_str::<Value>(&text).is_ok_and(|json| json["type"] == 1)
        }
        _ => status == Some(401),
    };
    Ok(ProbeOutcome { kind, status, body: text, passed })
}

impl EmulatorState {
    /// Sends an interaction to the endpoint and returns what it answered (a 200 inline response is applied).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::NoInteractionsUrl`], or [`EmulatorError::Interaction`] when the spec names an unknown
    /// guild, member, channel, message or command.
    pub async fn send_interaction(&self, spec: &InteractionSpec) -> Result<InteractionOutcome, EmulatorError> {
        send(&self.inner, spec).await
    }

    /// The payload Discord would send for `spec`, without sending it: the interaction is
    /// recorded (so its token takes callbacks and follow-ups) and the caller delivers it, e.g.
    /// a load generator that signs thousands of them ahead of a run.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::Interaction`] when the spec names an unknown guild, member, channel,
    /// message or command.
    pub fn build_interaction(&self, spec: &InteractionSpec) -> Result<Value, EmulatorError> {
        let (_, payload) = self.inner.with_world(|world| build(world, spec))?;
        Ok(payload)
    }

    /// Sends one bad-signature probe (or a valid PING).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::NoInteractionsUrl`].
    pub async fn probe(&self, kind: ProbeKind) -> Result<ProbeOutcome, EmulatorError> {
        probe(&self.inner, kind).await
    }

    /// Sends every probe.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::NoInteractionsUrl`].
    pub async fn probe_all(&self) -> Result<Vec<ProbeOutcome>, EmulatorError> {
        let mut outcomes = Vec::new();
        for kind in ProbeKind::ALL {
            outcomes.push(probe(&self.inner, kind).await?);
        }
        Ok(outcomes)
    }
}
