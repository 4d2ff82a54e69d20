//! Reading request bodies with a size limit, without buffering more than the limit.

use actix_web::{HttpRequest, web};
use futures::StreamExt as _;

use crate::error::{ApiError, Code};

/// Reads the body, refusing more than `limit` bytes (413) before buffering them; `what` names
/// the body in the error (e.g. `interaction`).
pub(crate) async fn read_limited(
    request: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    what: &str,
) -> Result<web::BytesMut, ApiError> {
    let too_large = || ApiError::new(Code::PAYLOAD_TOO_LARGE, format!("{what} bodies are limited to {limit} bytes"));
    let declared =
        request.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::new(Code::BAD_REQUEST, "the request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
