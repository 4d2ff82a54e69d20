//! Typed operations on top of [`Client`](crate::Client), one module per Kaltura area.

pub mod media;
pub mod room;
pub mod session;
pub mod user;
pub mod webinar;

use serde_json::Value;

use crate::error::{ApiError, KalturaError};

/// Decodes one multirequest result.
pub(crate) fn sub_result<T: serde::de::DeserializeOwned>(
    result: Result<Value, ApiError>,
    service: &str,
    action: &str,
) -> Result<T, KalturaError> {
    let value =
        result.map_err(|error| KalturaError::Api { service: service.to_owned(), action: action.to_owned(), error })?;
    serde_json::from_value(value).map_err(|err| KalturaError::Decode {
        service: service.to_owned(),
        action: action.to_owned(),
        reason: err.to_string(),
    })
}
