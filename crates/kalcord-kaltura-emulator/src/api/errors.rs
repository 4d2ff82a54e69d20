//! API exceptions: the server's `CODE;ARGS;template` table (§8) and its renderer.

/// Templates exactly as the server declares them (`KalturaErrors` wins over `APIErrors`).
const TEMPLATES: &[&str] = &[
    "INVALID_KS;KSID,ERR_CODE,ERR_DESC;Invalid KS \"@KSID@\", Error \"@ERR_CODE@,@ERR_DESC@\"",
    "MISSING_KS;;Missing KS, session not established",
    "SERVICE_FORBIDDEN;SERVICE;The access to service [@SERVICE@] is forbidden",
    "START_SESSION_ERROR;PID;Error while starting session for partner [@PID@]",
    "SERVICE_NOT_SPECIFIED;;Service name was not specified, please specify one",
    "SERVICE_DOES_NOT_EXISTS;SRV_NAME;Service \"@SRV_NAME@\" does not exists",
    "ACTION_NOT_SPECIFIED;;Action name was not specified, please specify one",
    "ACTION_DOES_NOT_EXISTS;ACTION_NAME,SERVICE_NAME;Action \"@ACTION_NAME@\" does not exists for service \"@SERVICE_NAME@\"",
    "ACTION_BLOCKED;ACTION_NAME,SERVICE_NAME;Action \"@ACTION_NAME@\" in service \"@SERVICE_NAME@\" is blocked",
    "MISSING_MANDATORY_PARAMETER;PARAM_NAME;Missing parameter \"@PARAM_NAME@\"",
    "PROPERTY_VALIDATION_CANNOT_BE_NULL;PROP_NAME;The property \"@PROP_NAME@\" cannot be null",
    "PROPERTY_VALIDATION_NOT_UPDATABLE;PROP_NAME;The property \"@PROP_NAME@\" cannot be updated",
    "INVALID_ENUM_VALUE;ENUM_VAL,PARAM_NAME,ENUM_TYPE;Invalid enumeration value \"@ENUM_VAL@\" for parameter \"@PARAM_NAME@\", expecting enumeration type \"@ENUM_TYPE@\"",
    "INVALID_OBJECT_TYPE;INVALID_OBJ_TYPE;Invalid object type \"@INVALID_OBJ_TYPE@\"",
    "OBJECT_TYPE_ABSTRACT;OBJ_TYPE;The object type \"@OBJ_TYPE@\" is abstract, use one of the object implementations",
    "INVALID_OBJECT_ID;ID;Invalid object id [@ID@]",
    "ENTRY_ID_NOT_FOUND;ENTRY_ID;Entry id \"@ENTRY_ID@\" not found",
    "INVALID_USER_ID;;Invalid user id",
    "DUPLICATE_USER_BY_ID;UID;User with id [@UID@] already exists in system",
    "DUPLICATE_USER_BY_LOGIN_ID;EMAIL;Loginable user with email [@EMAIL@] already exists in system",
    "USER_NOT_FOUND;;User was not found",
    "INVALID_FIELD_VALUE;FIELD_NAME;value in field [@FIELD_NAME@] is not valid",
    "INVALID_PARTNER_ID;PID;Invalid partner id \"@PID@\"",
    "INTERNAL_SERVERL_ERROR;;Internal server error occurred",
    "VIRTUAL_EVENT_NOT_FOUND;ID;Virtual Event [@ID@] not found",
    "INVALID_SCHEDULE_END_BEFORE_START;START,END;End time [@END@] must be after start time [@START@]",
    "SCHEDULE_EVENT_RESOURCE_ALREADY_EXISTS;EVENT_ID,RESOURCE_ID;Schedule event resource already exists with eventId[@EVENT_ID@] and resourceId (@RESOURCE_ID@)",
    "CANNOT_RETRIEVE_ANOTHER_USER_USING_NON_ADMIN_SESSION;USER_ID;cannot retrieve another user \"@USER_ID@\" using non-admin session",
    "UNKNOWN_RESPONSE_FORMAT;FORMAT;Response format provided [@FORMAT@] is not recognized by server",
    "USER_ROLE_NOT_FOUND;;User role not found",
];

/// A `KalturaAPIException`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// Error code, e.g. `INVALID_KS`.
    pub code: String,
    /// Rendered message.
    pub message: String,
    /// Named arguments in template order; empty means JSON `[]`.
    pub args: Vec<(String, String)>,
}

impl ApiError {
    /// Renders the template of `code` with positional `values` (missing ones become `N/A`).
    ///
    /// An unknown code renders `INTERNAL_SERVERL_ERROR` (a bug in the emulator, never a panic).
    pub fn new(code: &str, values: &[&str]) -> Self {
        let Some(template) = TEMPLATES.iter().find(|template| template.split(';').next() == Some(code)) else {
            tracing::error!(code, "unknown error code in the emulator");
            return Self::new("INTERNAL_SERVERL_ERROR", &[]);
        };
        let mut parts = template.splitn(3, ';');
        let code = parts.next().unwrap_or_default();
        let names = parts.next().unwrap_or_default();
        let mut message = parts.next().unwrap_or_default().to_owned();
        let mut args = Vec::new();
        for (index, name) in names.split(',').filter(|name| !name.is_empty()).enumerate() {
            let value = values.get(index).map_or_else(|| "N/A".to_owned(), |value| strip_tags(value));
            message = message.replace(&format!("@{name}@"), &value);
            args.push((name.to_owned(), value));
        }
        Self { code: code.to_owned(), message, args }
    }

    /// `INVALID_KS` for a KS that cannot be parsed or verified: the KS itself is the KSID (§2.4).
    pub fn invalid_ks_string(ks: &str) -> Self {
        Self::new("INVALID_KS", &[ks, "-1", "INVALID_STR"])
    }

    /// `INVALID_KS` for a parsed KS that fails validation (`EXPIRED`, `LOGOUT`, ...): the status
    /// name is the KSID and the error stays `-1,INVALID_STR`, as the server's mapping yields (§2.4).
    pub fn invalid_ks_status(status: &str) -> Self {
        Self::new("INVALID_KS", &[status, "-1", "INVALID_STR"])
    }

    /// `MISSING_MANDATORY_PARAMETER`.
    pub fn missing(param: &str) -> Self {
        Self::new("MISSING_MANDATORY_PARAMETER", &[param])
    }

    /// `INVALID_OBJECT_ID`.
    pub fn invalid_id(id: &str) -> Self {
        Self::new("INVALID_OBJECT_ID", &[id])
    }
}

/// `strip_tags((string)$arg)`, close enough: drops anything between `<` and `>`.
fn strip_tags(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut in_tag = false;
    for ch in value.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out
}

/// Every code in the table (for tests and the admin API).
#[cfg(test)]
pub(crate) fn codes() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().filter_map(|template| template.split(';').next())
}

#[cfg(test)]
mod tests {
    use super::{ApiError, codes};

    #[test]
    fn renders_templates_with_named_args() {
        let error = ApiError::new("SERVICE_FORBIDDEN", &["elasticsearch_esearch->searchEntry"]);
        assert_eq!(error.message, "The access to service [elasticsearch_esearch->searchEntry] is forbidden");
        assert_eq!(error.args, [("SERVICE".to_owned(), "elasticsearch_esearch->searchEntry".to_owned())]);
        let error = ApiError::invalid_ks_string("ZTk5");
        assert_eq!(error.message, "Invalid KS \"ZTk5\", Error \"-1,INVALID_STR\"");
        let error = ApiError::new("INVALID_SCHEDULE_END_BEFORE_START", &["20", "10"]);
        assert_eq!(error.message, "End time [10] must be after start time [20]");
    }

    #[test]
    fn missing_args_become_na_and_argless_templates_have_no_args() {
        let error = ApiError::new("ACTION_BLOCKED", &["list"]);
        assert_eq!(error.message, "Action \"list\" in service \"N/A\" is blocked");
        assert_eq!(error.args[1], ("SERVICE_NAME".to_owned(), "N/A".to_owned()));
        let error = ApiError::new("INVALID_USER_ID", &["ignored"]);
        assert_eq!((error.message.as_str(), error.args.len()), ("Invalid user id", 0));
    }

    #[test]
    fn every_template_renders_without_leftover_placeholders() {
        for code in codes() {
            let error = ApiError::new(code, &["a", "b", "c"]);
            assert_eq!(error.code, code);
            assert!(!error.message.contains('@'), "{code}: {}", error.message);
        }
        assert_eq!(ApiError::new("NO_SUCH_CODE", &[]).code, "INTERNAL_SERVERL_ERROR");
    }

    /// The §8 table, rendered with `ARG1`, `ARG2`, … as values.
    #[test]
    fn templates_match_the_spec_table() {
        let cases = [
            ("INVALID_KS", "Invalid KS \"ARG1\", Error \"ARG2,ARG3\""),
            ("MISSING_KS", "Missing KS, session not established"),
            ("SERVICE_FORBIDDEN", "The access to service [ARG1] is forbidden"),
            ("START_SESSION_ERROR", "Error while starting session for partner [ARG1]"),
            ("SERVICE_DOES_NOT_EXISTS", "Service \"ARG1\" does not exists"),
            ("ACTION_DOES_NOT_EXISTS", "Action \"ARG1\" does not exists for service \"ARG2\""),
            ("MISSING_MANDATORY_PARAMETER", "Missing parameter \"ARG1\""),
            ("PROPERTY_VALIDATION_CANNOT_BE_NULL", "The property \"ARG1\" cannot be null"),
            ("PROPERTY_VALIDATION_NOT_UPDATABLE", "The property \"ARG1\" cannot be updated"),
            (
                "INVALID_ENUM_VALUE",
                "Invalid enumeration value \"ARG1\" for parameter \"ARG2\", expecting enumeration type \"ARG3\"",
            ),
            ("INVALID_OBJECT_TYPE", "Invalid object type \"ARG1\""),
            ("OBJECT_TYPE_ABSTRACT", "The object type \"ARG1\" is abstract, use one of the object implementations"),
            ("INVALID_OBJECT_ID", "Invalid object id [ARG1]"),
            ("ENTRY_ID_NOT_FOUND", "Entry id \"ARG1\" not found"),
            ("INVALID_USER_ID", "Invalid user id"),
            ("DUPLICATE_USER_BY_ID", "User with id [ARG1] already exists in system"),
            ("USER_NOT_FOUND", "User was not found"),
            ("INVALID_FIELD_VALUE", "value in field [ARG1] is not valid"),
            ("INVALID_PARTNER_ID", "Invalid partner id \"ARG1\""),
            ("ACTION_BLOCKED", "Action \"ARG1\" in service \"ARG2\" is blocked"),
            ("INTERNAL_SERVERL_ERROR", "Internal server error occurred"),
            ("VIRTUAL_EVENT_NOT_FOUND", "Virtual Event [ARG1] not found"),
            ("INVALID_SCHEDULE_END_BEFORE_START", "End time [ARG2] must be after start time [ARG1]"),
        ];
        for (code, message) in cases {
            let error = ApiError::new(code, &["ARG1", "ARG2", "ARG3"]);
            assert_eq!((error.code.as_str(), error.message.as_str()), (code, message));
        }
    }

    #[test]
    fn args_are_stripped_of_tags() {
        let error = ApiError::new("INVALID_OBJECT_ID", &["<b>5</b>"]);
        assert_eq!(error.message, "Invalid object id [5]");
    }
}
