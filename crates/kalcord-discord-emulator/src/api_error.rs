//! Discord's JSON error answers: `{code, message[, errors]}` (REST) and RFC 6749 errors (OAuth2 token).

use serde_json::{Map, Value, json};

/// An error answer of the emulated API.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub body: Value,
}

impl ApiError {
    /// `{"message", "code"}` with this status.
    pub(crate) fn new(status: u16, code: u64, message: &str) -> Self {
        Self { status, body: json!({"message": message, "code": code}) }
    }

    /// An OAuth2 token-endpoint error: `{"error", "error_description"?}`.
    pub(crate) fn oauth(status: u16, error: &str, description: Option<&str>) -> Self {
        let mut body = json!({"error": error});
        if let Some(description) = description {
            body["error_description"] = json!(description);
        }
        Self { status, body }
    }

    /// The JSON error code (0 for OAuth2 errors).
    #[cfg(test)]
    pub(crate) fn code(&self) -> u64 {
        self.body.get("code").and_then(Value::as_u64).unwrap_or(0)
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(401, 0, "401: Unauthorized")
    }

    pub(crate) fn not_found() -> Self {
        Self::new(404, 0, "404: Not Found")
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(405, 0, "405: Method Not Allowed")
    }

    pub(crate) fn unknown_application() -> Self {
        Self::new(404, 10002, "Unknown Application")
    }

    pub(crate) fn unknown_channel() -> Self {
        Self::new(404, 10003, "Unknown Channel")
    }

    pub(crate) fn unknown_guild() -> Self {
        Self::new(404, 10004, "Unknown Guild")
    }

    pub(crate) fn unknown_member() -> Self {
        Self::new(404, 10007, "Unknown Member")
    }

    pub(crate) fn unknown_message() -> Self {
        Self::new(404, 10008, "Unknown Message")
    }

    pub(crate) fn unknown_role() -> Self {
        Self::new(404, 10011, "Unknown Role")
    }

    pub(crate) fn unknown_user() -> Self {
        Self::new(404, 10013, "Unknown User")
    }

    pub(crate) fn unknown_webhook() -> Self {
        Self::new(404, 10015, "Unknown Webhook")
    }

    pub(crate) fn unknown_interaction() -> Self {
        Self::new(404, 10062, "Unknown interaction")
    }

    pub(crate) fn unknown_command() -> Self {
        Self::new(404, 10063, "Unknown application command")
    }

    pub(crate) fn unknown_event() -> Self {
        Self::new(404, 10070, "Unknown Guild Scheduled Event")
    }

    pub(crate) fn already_acknowledged() -> Self {
        Self::new(400, 40060, "Interaction has already been acknowledged.")
    }

    pub(crate) fn missing_access() -> Self {
        Self::new(403, 50001, "Missing Access")
    }

    pub(crate) fn missing_permissions() -> Self {
        Self::new(403, 50013, "Missing Permissions")
    }

    pub(crate) fn empty_message() -> Self {
        Self::new(400, 50006, "Cannot send an empty message")
    }

    pub(crate) fn invalid_webhook_token() -> Self {
        Self::new(401, 50027, "Invalid Webhook Token")
    }

    pub(crate) fn invalid_json() -> Self {
        Self::new(400, 50109, "The request body contains invalid JSON.")
    }

    /// 50035 with a request-level error (`errors._errors`).
    pub(crate) fn form_root(code: &str, message: &str) -> Self {
        let mut errors = FormErrors::default();
        errors.add(&[], code, message);
        errors.into_error().unwrap_or_else(|| Self::new(400, 50035, "Invalid Form Body"))
    }

    /// 50035 with one field error.
    pub(crate) fn form_field(path: &[&str], code: &str, message: &str) -> Self {
        let mut errors = FormErrors::default();
        errors.add(path, code, message);
        errors.into_error().unwrap_or_else(|| Self::new(400, 50035, "Invalid Form Body"))
    }
}

/// Collects field errors into Discord's nested `errors` object (`{"field": {"_errors": [...]}}`, arrays by index).
#[derive(Debug, Default)]
pub(crate) struct FormErrors {
    root: Map<String, Value>,
}

impl FormErrors {
    /// Adds an error at `path` (empty: the request itself).
    pub(crate) fn add(&mut self, path: &[&str], code: &str, message: &str) {
        let mut node = &mut self.root;
        for key in path {
            let entry = node.entry((*key).to_owned()).or_insert_with(|| json!({}));
            if !entry.is_object() {
                *entry = json!({});
            }
            let Value::Object(next) = entry else { return };
            node = next;
        }
        let errors = node.entry("_errors").or_insert_with(|| json!([]));
        if let Value::Array(list) = errors {
            list.push(json!({"code": code, "message": message}));
        }
    }

    /// Adds an error at a path of owned segments.
    pub(crate) fn add_owned(&mut self, path: &[String], code: &str, message: &str) {
        let borrowed: Vec<&str> = path.iter().map(String::as_str).collect();
        self.add(&borrowed, code, message);
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.root.is_empty()
    }

    /// The 400 50035 answer, if any error was added.
    pub(crate) fn into_error(self) -> Option<ApiError> {
        (!self.root.is_empty()).then(|| ApiError {
            status: 400,
            body: json!({"code": 50035, "errors": Value::Object(self.root), "message": "Invalid Form Body"}),
        })
    }

    /// Checks a string's length in characters (`1..=max` when `required`).
    pub(crate) fn check_len(&mut self, path: &[&str], value: Option<&Value>, min: usize, max: usize, required: bool) {
        match value {
            None | Some(Value::Null) if required => self.add(path, "BASE_TYPE_REQUIRED", "This field is required"),
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => {
                let len = text.chars().count();
                if len < min || len > max {
                    if min == 0 {
                        self.add(path, "BASE_TYPE_MAX_LENGTH", &format!("Must be {max} or fewer in length."));
                    } else {
                        self.add(path, "BASE_TYPE_BAD_LENGTH", &format!("Must be between {min} and {max} in length."));
                    }
                }
            }
            Some(_) => self.add(path, "STRING_TYPE_CONVERT", "Could not interpret the value as string."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_form_errors() {
        let mut errors = FormErrors::default();
        errors.add(&["embeds", "0", "title"], "BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer in length.");
        errors.add(&[], "CONTENT_TYPE_INVALID", "bad");
        let error = errors.into_error().expect("errors");
        assert_eq!(error.status, 400);
        assert_eq!(error.body["errors"]["embeds"]["0"]["title"]["_errors"][0]["code"], "BASE_TYPE_MAX_LENGTH");
        assert_eq!(error.body["errors"]["_errors"][0]["code"], "CONTENT_TYPE_INVALID");
        assert_eq!(error.body["message"], "Invalid Form Body");
    }
}
