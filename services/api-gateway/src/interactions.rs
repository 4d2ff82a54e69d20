//! `POST /interactions`: Discord's signed HTTP interactions.
//!
//! Nothing is processed before the Ed25519 signature over timestamp + raw body verifies:
//! bad or missing signatures and stale timestamps get 401, bodies over 1 MiB 413, malformed
//! JSON 400. PING is answered with PONG right here; everything else crosses the bus to the
//! interactions service. When no answer comes before the deadline (~2.5 s, Discord allows 3),
//! the edge answers with a deferral and the interactions service finishes with a follow-up.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::{HttpRequest, HttpResponse, web};
use kalcord_bus::{BusError, BusExt as _};
use kalcord_discord::command::is_ephemeral;
use kalcord_discord::response::{Choice, InteractionResponse};
use kalcord_discord::signature::{SIGNATURE_HEADER, SignatureError, TIMESTAMP_HEADER};
use kalcord_proto::v1::{InteractionReply, InteractionRequest};
use serde::Deserialize;

use crate::AppState;
use crate::error::{ApiError, Code};

/// Largest interaction body accepted.
pub const MAX_BODY: usize = 1 << 20;
/// Bus subject the interactions service serves.
pub const SUBJECT: &str = "interactions.handle";

/// Interaction types.
const PING: u8 = 1;
const APPLICATION_COMMAND: u8 = 2;
const AUTOCOMPLETE: u8 = 4;

/// Just enough of an interaction to route it before any typed parse.
#[derive(Deserialize)]
struct Peek {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    data: Option<PeekData>,
}

#[derive(Deserialize)]
struct PeekData {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    options: Vec<PeekOption>,
}

#[derive(Deserialize)]
struct PeekOption {
    name: String,
    #[serde(rename = "type")]
    kind: u8,
}

fn unix_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn json(response: &InteractionResponse) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(response.to_json())
}

fn count(outcome: &'static str) {
    metrics::counter!("kalcord_interactions_total", "outcome" => outcome).increment(1);
}

/// `POST /interactions`.
///
/// # Errors
///
/// 401 for a bad signature or stale timestamp, 413 for a body over 1 MiB, 400 for malformed
/// JSON, 503 when `discord.public_key` is not set.
pub async fn post_interactions(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(verifier) = &state.verifier else {
        count("not_configured");
        return Err(ApiError::new(Code::NOT_CONFIGURED, "Discord is not configured: set discord.public_key"));
    };
    let body = crate::body::read_limited(&request, payload, MAX_BODY, "interaction")
        .await
        .inspect_err(|_| count("too_large"))?;
    let header = |name: &str| request.headers().get(name).and_then(|value| value.to_str().ok());
    let now = unix_millis() / 1000;
    if let Err(err) = verifier.verify_batched(header(SIGNATURE_HEADER), header(TIMESTAMP_HEADER), &body, now).await {
        count("unauthorized");
        tracing::debug!(reason = %err, "refused an interaction");
        let message = match err {
            SignatureError::Stale { .. } => "stale request timestamp",
            _ => "invalid request signature",
        };
        return Err(ApiError::new(Code::UNAUTHORIZED, message));
    }
    let peek: Peek = serde_json::from_slice(&body).map_err(|err| {
        count("malformed");
        ApiError::new(Code::BAD_REQUEST, format!("malformed interaction: {err}"))
    })?;
    if peek.kind == PING {
        count("ping");
        return Ok(json(&InteractionResponse::pong()));
    }
    Ok(forward(&state, body.freeze(), &peek).await)
}

async fn forward(state: &AppState, body: web::Bytes, peek: &Peek) -> HttpResponse {
    let received = unix_millis();
    let budget = state.config.interaction_timeout;
    let deadline = received + i64::try_from(budget.as_millis()).unwrap_or(2500);
    let request = InteractionRequest { body: body.to_vec(), received_at_unix_ms: received, deadline_unix_ms: deadline };
    let started = std::time::Instant::now();
    let result = state.deps.bus.request_proto::<InteractionRequest, InteractionReply>(SUBJECT, &request, budget).await;
    metrics::histogram!("kalcord_interaction_edge_seconds").record(started.elapsed().as_secs_f64());
    match result {
        Ok(reply) => {
            count("answered");
            HttpResponse::Ok().content_type("application/json").body(reply.response)
        }
        Err(BusError::Timeout { .. }) => {
            count("deferred");
            tracing::info!(budget_ms = budget.as_millis(), "interaction deferred at the edge");
            json(&deferral(peek))
        }
        Err(err) => {
            count("unavailable");
            tracing::warn!(error = %err, "interactions service unavailable");
            json(&unavailable(peek))
        }
    }
}

/// What the edge answers when the interactions service is too slow.
fn deferral(peek: &Peek) -> InteractionResponse {
    match peek.kind {
        AUTOCOMPLETE => InteractionResponse::choices(Vec::<Choice>::new()),
        APPLICATION_COMMAND => {
            let data = peek.data.as_ref();
            let name = data.and_then(|d| d.name.as_deref()).unwrap_or_default();
            let sub = data.and_then(|d| d.options.iter().find(|o| o.kind == 1 || o.kind == 2)).map(|o| o.name.as_str());
            InteractionResponse::deferred(is_ephemeral(name, sub))
        }
        _ => InteractionResponse::deferred(true),
    }
}

/// What the edge answers when the interactions service cannot be reached at all.
fn unavailable(peek: &Peek) -> InteractionResponse {
    if peek.kind == AUTOCOMPLETE {
        return InteractionResponse::choices(Vec::new());
    }
    InteractionResponse::ephemeral("kalcord can't handle this right now. Please try again in a minute.")
}

/// Default time the edge waits for the interactions service.
pub const DEFAULT_INTERACTION_TIMEOUT: Duration = Duration::from_millis(2500);
