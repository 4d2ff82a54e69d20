//! `POST /webhooks/kaltura/{tenant}`: Kaltura HTTP event notifications, stored durably.
//!
//! `{tenant}` names whose admin secret signs the notification: a guild id linked to its own
//! partner with `/kaltura setup`, or `default` for the configured default partner. Nothing is
//! stored before `X-KALTURA-SIGNATURE` verifies (`H(admin secret || raw body)`, hash from
//! `X-KALTURA-HASH-ALGO`): a missing or wrong signature and an unknown tenant get 401, a body
//! over 1 MiB 413, a body that is neither a JSON `KalturaHttpNotification` nor form fields 400.
//! The notification is normalised into a [`WebhookEvent`] and published to
//! `kaltura.webhooks`; the answer is 200 only once JetStream acknowledged it, 503 otherwise so
//! Kaltura retries. Redeliveries carry the same dedup id and are stored once.

mod tenant;

use actix_web::{HttpRequest, HttpResponse, web};
use kalcord_bus::Event;
use kalcord_kaltura::webhook::{self as kaltura, HASH_ALGO_HEADER, Notification, SIGNATURE_HEADER, WebhookError};
use sha2::{Digest as _, Sha256};

pub use kalcord_kaltura::webhook::{BodyFormat, WebhookEvent};
pub use tenant::DEFAULT_TENANT;

use crate::AppState;
use crate::error::{ApiError, Code};

/// Largest notification body accepted.
pub const MAX_BODY: usize = 1 << 20;
/// Subject notifications are stored on (stream `KALTURA_WEBHOOKS`).
pub const SUBJECT: &str = "kaltura.webhooks";
/// Header naming the tenant of the URL.
pub const TENANT_HEADER: &str = "Kaltura-Tenant";
/// Header naming the partner whose secret signed the notification.
pub const PARTNER_HEADER: &str = "Kaltura-Partner-Id";
/// Header carrying the event type number (`unknown` for form bodies without one).
pub const EVENT_TYPE_HEADER: &str = "Kaltura-Event-Type";

/// Longest tenant echoed into logs.
const MAX_LOGGED_TENANT: usize = 24;

fn count(outcome: &'static str) {
    metrics::counter!("kalcord_kaltura_webhooks_total", "outcome" => outcome).increment(1);
}

fn unauthorized(outcome: &'static str, message: impl Into<String>) -> ApiError {
    count(outcome);
    ApiError::new(Code::UNAUTHORIZED, message)
}

/// The dedup id of a notification: its dispatch job when it carries one (the same on every
/// redelivery), else a hash of the signed body; both scoped by tenant.
#[must_use]
pub fn dedup_id(tenant: &str, notification: &Notification, body: &[u8]) -> String {
    match notification {
        Notification::Object(object) if object.event_notification_job_id > 0 => {
            format!("kaltura:{tenant}:job:{}", object.event_notification_job_id)
        }
        _ => format!("kaltura:{tenant}:sha256:{}", hex::encode(Sha256::digest(body))),
    }
}

/// `POST /webhooks/kaltura/{tenant}`.
///
/// # Errors
///
/// 401 for a missing or wrong signature or an unknown tenant, 413 for a body over 1 MiB, 400
/// for a body that is not a notification, 503 when it could not be stored.
pub async fn post_kaltura(
    request: HttpRequest,
    tenant: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tenant = tenant.into_inner();
    let logged_tenant: String = tenant.chars().take(MAX_LOGGED_TENANT).collect();
    let body = crate::body::read_limited(&request, payload, MAX_BODY, "notification")
        .await
        .inspect_err(|_| count("too_large"))?;
    let header = |name: &str| request.headers().get(name).and_then(|value| value.to_str().ok());
    let signature = header(SIGNATURE_HEADER).map(str::trim).filter(|value| !value.is_empty());
    if signature.is_none() {
        tracing::info!(tenant = %logged_tenant, "refused a Kaltura notification without a signature");
        return Err(unauthorized("unauthorized", WebhookError::MissingSignature.to_string()));
    }
    let signer = tenant::signer(&state, &tenant).await.map_err(|err| match err {
        tenant::SignerError::Unknown(message) => {
            tracing::info!(tenant = %logged_tenant, reason = message, "refused a Kaltura notification");
            unauthorized("unknown_tenant", message)
        }
        tenant::SignerError::Unavailable(ref source) => {
            count("unavailable");
            tracing::warn!(tenant = %logged_tenant, error = %source, "cannot read the tenant's Kaltura settings");
            ApiError::new(Code::SERVICE_UNAVAILABLE, err.to_string())
        }
    })?;
    if let Err(err) = kaltura::verify(signer.secret.expose(), &body, signature, header(HASH_ALGO_HEADER)) {
        tracing::info!(tenant = %logged_tenant, reason = %err, "refused a Kaltura notification");
        return Err(unauthorized("unauthorized", err.to_string()));
    }
    let notification = kaltura::parse(&body).map_err(|err| {
        count("malformed");
        tracing::info!(tenant = %logged_tenant, reason = %err, "malformed Kaltura notification");
        ApiError::new(Code::BAD_REQUEST, err.to_string())
    })?;
    let event = WebhookEvent::new(&tenant, signer.partner_id, &notification, crate::unix_seconds() * 1000);
    store(&state, &event, dedup_id(&tenant, &notification, &body)).await
}

/// Publishes `event` and answers once the broker acknowledged it.
async fn store(state: &AppState, event: &WebhookEvent, dedup_id: String) -> Result<HttpResponse, ApiError> {
    let payload = serde_json::to_vec(event).map_err(|err| {
        count("internal");
        ApiError::new(Code::INTERNAL, format!("cannot encode the notification: {err}"))
    })?;
    let mut message = Event::new(SUBJECT, dedup_id, payload);
    message.message = message
        .message
        .with_header(TENANT_HEADER, event.tenant.as_str())
        .with_header(PARTNER_HEADER, event.partner_id.to_string())
        .with_header(EVENT_TYPE_HEADER, event.event_type_header())
        .with_header("Content-Type", "application/json");
    match state.deps.bus.publish(message).await {
        Ok(ack) => {
            count(if ack.duplicate { "duplicate" } else { "stored" });
            tracing::info!(
                tenant = %event.tenant,
                partner_id = event.partner_id,
                event_type = ?event.event_type,
                entry_id = event.entry_id.as_deref().unwrap_or_default(),
                status = ?event.status,
                sequence = ack.sequence,
                duplicate = ack.duplicate,
                "Kaltura notification stored"
            );
            Ok(HttpResponse::Ok().json(serde_json::json!({"stored": true, "duplicate": ack.duplicate})))
        }
        Err(err) => {
            count("unavailable");
            tracing::warn!(tenant = %event.tenant, error = %err, "cannot store a Kaltura notification");
            Err(ApiError::new(Code::SERVICE_UNAVAILABLE, "the notification could not be stored; retry later"))
        }
    }
}
