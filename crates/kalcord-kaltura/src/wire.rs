//! Decoding `api_v3` JSON answers: API exceptions, and values that are numbers or numeric strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::ApiError;

/// The API error carried by `value`, if it is a `KalturaAPIException`.
#[must_use]
pub fn api_error(value: &Value) -> Option<ApiError> {
    let object = value.as_object()?;
    let is_exception = object.get("objectType").and_then(Value::as_str) == Some("KalturaAPIException");
    let code = object.get("code").and_then(Value::as_str)?;
    let message = object.get("message").and_then(Value::as_str)?;
    // NOTE: like the official Node client, `code` + `message` is enough to call it an error.
    if !is_exception && object.contains_key("id") {
        return None;
    }
    let args = match object.get("args") {
        Some(Value::Object(args)) => args.iter().map(|(name, value)| (name.clone(), text(value))).collect(),
        _ => BTreeMap::new(),
    };
    Some(ApiError::from_wire(code, message, args))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// An integer sent as a number or as a numeric string.
///
/// # Errors
///
/// Anything else.
pub fn lenient_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Number(number) => number.as_i64().ok_or_else(|| serde::de::Error::custom("integer out of range")),
        Value::String(text) => text.trim().parse().map_err(serde::de::Error::custom),
        Value::Bool(flag) => Ok(i64::from(flag)),
        other => Err(serde::de::Error::custom(format!("expected an integer, found {other}"))),
    }
}

/// An optional integer sent as a number, a numeric string, null or an empty string.
///
/// # Errors
///
/// Anything else.
pub fn lenient_opt_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(value) => lenient_i64(value).map(Some).map_err(serde::de::Error::custom),
    }
}

/// A string sent as a string or as a number (ids, enum values).
///
/// # Errors
///
/// Objects and arrays.
pub fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(serde::de::Error::custom(format!("expected a string, found {other}"))),
    }
}

/// A boolean sent as `true`/`false`, `1`/`0` or their string forms.
///
/// # Errors
///
/// Anything else.
pub fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Bool(flag) => Ok(flag),
        Value::Number(number) => Ok(number.as_i64() != Some(0)),
        Value::String(text) => Ok(!matches!(text.as_str(), "" | "0" | "false")),
        Value::Null => Ok(false),
        other => Err(serde::de::Error::custom(format!("expected a boolean, found {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::api_error;
    use crate::error::ApiError;

    #[test]
    fn exceptions_decode_with_object_or_empty_array_args() {
        let forbidden = json!({"code":"SERVICE_FORBIDDEN","message":"The access to service [x->y] is forbidden","objectType":"KalturaAPIException","args":{"SERVICE":"x->y"}});
        assert_eq!(api_error(&forbidden), Some(ApiError::ServiceForbidden { service: "x->y".into() }));
        let invalid_user =
            json!({"code":"INVALID_USER_ID","message":"Invalid user id","objectType":"KalturaAPIException","args":[]});
        assert_eq!(api_error(&invalid_user), Some(ApiError::InvalidUserId));
        let ks = json!({"code":"INVALID_KS","message":"Invalid KS \"x\", Error \"-1,INVALID_STR\"","objectType":"KalturaAPIException","args":{"KSID":"x","ERR_CODE":"-1","ERR_DESC":"INVALID_STR"}});
        assert_eq!(api_error(&ks), Some(ApiError::InvalidKs { code: "-1".into(), description: "INVALID_STR".into() }));
        let unknown = json!({"code":"SOMETHING_NEW","message":"m","objectType":"KalturaAPIException","args":{"A":1}});
        assert!(
            matches!(api_error(&unknown), Some(ApiError::Other { code, args, .. }) if code == "SOMETHING_NEW" && args["A"] == "1")
        );
        assert_eq!(api_error(&json!({"id":"0_abc","name":"x","objectType":"KalturaMediaEntry"})), None);
        assert_eq!(api_error(&json!("djJ8")), None);
    }
}
