//! Requests to the services behind the gateway over the bus, and their failures as HTTP errors.

use kalcord_bus::BusExt as _;
use kalcord_proto::v1::Error as BusReplyError;

use crate::AppState;
use crate::error::{ApiError, Code, ErrorCode as _};

/// What clients are told to wait when Kaltura or a service is down.
const RETRY_AFTER_SECONDS: u32 = 5;

/// Maps a service's refusal (the meetings or identity service) to HTTP.
#[must_use]
pub fn bus_reply_error(error: &BusReplyError) -> ApiError {
    let message = error.message.clone();
    match error.code.as_str() {
        "invalid" => ApiError::new(Code::INVALID, message).with_field(error.field.clone()),
        "forbidden" => ApiError::new(Code::FORBIDDEN, message),
        "not_found" => ApiError::new(Code::NOT_FOUND, message),
        "conflict" => ApiError::new(Code::CONFLICT, message),
        "not_configured" => ApiError::new(Code::GUILD_NOT_CONFIGURED, message),
        "kaltura_unavailable" => {
            ApiError::new(Code::KALTURA_UNAVAILABLE, message).with_retry_after(RETRY_AFTER_SECONDS)
        }
        "kaltura_refused" => ApiError::new(Code::KALTURA_REFUSED, message),
        other => {
            tracing::warn!(code = other, "service failed");
            ApiError::new(Code::INTERNAL, "the request failed on our side; try again later")
        }
    }
}

/// Maps a failed bus request on `subject` to HTTP, naming the service (the subject's first part).
fn bus_error(subject: &str, err: &kalcord_bus::BusError) -> ApiError {
    let service = subject.split('.').next().unwrap_or(subject);
    let code = err.error_code();
    tracing::warn!(error = %err, service, "service unavailable");
    if code == Code::SERVICE_UNAVAILABLE {
        ApiError::new(code, format!("the {service} service did not answer; try again")).with_retry_after(1)
    } else {
        ApiError::new(code, format!("the {service} service answered something unexpected"))
    }
}

/// Sends `request` on `subject` and decodes the reply, within `api_gateway.request_timeout`.
///
/// # Errors
///
/// 503 `service_unavailable` when no service answers in time, 500 `internal` for an unreadable reply.
pub(crate) async fn request_reply<Q, R>(state: &AppState, subject: &str, request: &Q) -> Result<R, ApiError>
where
    Q: prost::Message,
    R: prost::Message + Default,
{
    state
        .deps
        .bus
        .request_proto(subject, request, state.config.request_timeout)
        .await
        .map_err(|err| bus_error(subject, &err))
}
