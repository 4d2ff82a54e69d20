//! `format=1`: PHP `json_encode` of the result after `unsetNull` (§1.4), no envelope.
//!
//! Like PHP's default flags, `/` is escaped as `\/` and non-ASCII characters as `\uXXXX`.

use std::fmt::Write as _;

use super::errors::ApiError;
use super::value::{Val, php_float};

/// Serialises one result (or exception) as the whole response body.
pub(crate) fn render(outcome: &Result<Val, ApiError>) -> String {
    let mut out = String::with_capacity(256);
    match outcome {
        Ok(value) => write_val(&mut out, value),
        Err(error) => write_error(&mut out, error),
    }
    out
}

/// Serialises a multirequest response: a JSON array of results and exceptions.
pub(crate) fn render_multi(outcomes: &[Result<Val, ApiError>]) -> String {
    let mut out = String::with_capacity(256 * outcomes.len().max(1));
    out.push('[');
    for (index, outcome) in outcomes.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        match outcome {
            Ok(value) => write_val(&mut out, value),
            Err(error) => write_error(&mut out, error),
        }
    }
    out.push(']');
    out
}

/// `{"code","message","objectType":"KalturaAPIException","args":{..}|[]}`.
pub(crate) fn write_error(out: &mut String, error: &ApiError) {
    out.push_str("{\"code\":");
    write_str(out, &error.code);
    out.push_str(",\"message\":");
    write_str(out, &error.message);
    out.push_str(",\"objectType\":\"KalturaAPIException\",\"args\":");
    if error.args.is_empty() {
        out.push_str("[]");
    } else {
        out.push('{');
        for (index, (name, value)) in error.args.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            write_str(out, name);
            out.push(':');
            write_str(out, value);
        }
        out.push('}');
    }
    out.push('}');
}

/// Writes a value; nulls inside objects and lists are dropped, `objectType` goes last.
pub(crate) fn write_val(out: &mut String, value: &Val) {
    match value {
        Val::Null => out.push_str("null"),
        Val::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Val::Int(number) => out.push_str(&number.to_string()),
        Val::Float(number) => out.push_str(&json_float(*number)),
        Val::Str(text) => write_str(out, text),
        Val::Arr(items) => {
            out.push('[');
            let mut first = true;
            for item in items.iter().filter(|item| **item != Val::Null) {
                if !first {
                    out.push(',');
                }
                first = false;
                write_val(out, item);
            }
            out.push(']');
        }
        Val::Obj(obj) => {
            out.push('{');
            for (name, field) in obj.fields.iter().filter(|(_, field)| *field != Val::Null) {
                write_str(out, name);
                out.push(':');
                write_val(out, field);
                out.push(',');
            }
            out.push_str("\"objectType\":");
            write_str(out, &obj.class);
            out.push('}');
        }
    }
}

fn json_float(number: f64) -> String {
    let text = php_float(number);
    if number.is_finite() && !text.contains(['.', 'e', 'E']) { format!("{text}.0") } else { text }
}

/// A JSON string with PHP's default escaping.
pub(crate) fn write_str(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if ch.is_ascii() && !ch.is_ascii_control() => out.push(ch),
            ch => {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::{render, render_multi};
    use crate::api::errors::ApiError;
    use crate::api::value::{Obj, Val};

    #[test]
    fn objects_drop_nulls_and_end_with_object_type() {
        let value = Val::Obj(
            Obj::new("KalturaRecordScheduleEvent")
                .with("templateEntryId", Val::Null)
                .with("blackoutConflicts", Val::Arr(vec![]))
                .with("id", Val::Int(3_371_011))
                .with("summary", Val::Str("a/b \"é\" 😀".into())),
        );
        assert_eq!(
            render(&Ok(value)),
            r#"{"blackoutConflicts":[],"id":3371011,"summary":"a\/b \"\u00e9\" \ud83d\ude00","objectType":"KalturaRecordScheduleEvent"}"#
        );
    }

    #[test]
    fn primitives_and_void() {
        assert_eq!(render(&Ok(Val::Null)), "null");
        assert_eq!(render(&Ok(Val::Str("djJ8".into()))), "\"djJ8\"");
        assert_eq!(render(&Ok(Val::Bool(true))), "true");
        assert_eq!(render(&Ok(Val::Float(2.0))), "2.0");
        assert_eq!(render(&Ok(Val::Float(1.5))), "1.5");
    }

    #[test]
    fn errors_have_object_args_or_an_empty_list() {
        let with_args = ApiError::new("SERVICE_FORBIDDEN", &["elasticsearch_esearch->searchEntry"]);
        assert_eq!(
            render(&Err(with_args)),
            r#"{"code":"SERVICE_FORBIDDEN","message":"The access to service [elasticsearch_esearch->searchEntry] is forbidden","objectType":"KalturaAPIException","args":{"SERVICE":"elasticsearch_esearch->searchEntry"}}"#
        );
        let without = ApiError::new("INVALID_USER_ID", &[]);
        assert_eq!(
            render(&Err(without)),
            r#"{"code":"INVALID_USER_ID","message":"Invalid user id","objectType":"KalturaAPIException","args":[]}"#
        );
    }

    #[test]
    fn multirequest_is_an_array() {
        let body = render_multi(&[Ok(Val::Int(1)), Err(ApiError::new("MISSING_KS", &[])), Ok(Val::Null)]);
        assert_eq!(
            body,
            r#"[1,{"code":"MISSING_KS","message":"Missing KS, session not established","objectType":"KalturaAPIException","args":[]},null]"#
        );
    }
}
