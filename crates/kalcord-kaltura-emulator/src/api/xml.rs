//! `format=2` (the default): `KalturaXmlSerializer` (§1.4, §1.5).
//!
//! `<?xml version="1.0" encoding="utf-8"?><xml><result>…</result><executionTime>…</executionTime></xml>`;
//! objects start with `<objectType>`, then one element per property (null ones empty unless
//! `ignoreNull=1`), lists are `<item>`s, booleans `1`/`0`.

use super::errors::ApiError;
use super::value::{Val, php_float};

const HEADER: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><xml><result>";

/// Serialises one result (or exception) as the whole response body.
pub(crate) fn render(outcome: &Result<Val, ApiError>, ignore_null: bool, seconds: f64) -> String {
    let mut out = String::from(HEADER);
    write_outcome(&mut out, outcome, ignore_null);
    footer(&mut out, seconds);
    out
}

/// Serialises a multirequest response: one `<item>` per sub-request.
pub(crate) fn render_multi(outcomes: &[Result<Val, ApiError>], ignore_null: bool, seconds: f64) -> String {
    let mut out = String::from(HEADER);
    for outcome in outcomes {
        out.push_str("<item>");
        write_outcome(&mut out, outcome, ignore_null);
        out.push_str("</item>");
    }
    footer(&mut out, seconds);
    out
}

fn footer(out: &mut String, seconds: f64) {
    out.push_str("</result><executionTime>");
    out.push_str(&php_float(seconds));
    out.push_str("</executionTime></xml>");
}

fn write_outcome(out: &mut String, outcome: &Result<Val, ApiError>, ignore_null: bool) {
    match outcome {
        Ok(value) => write_val(out, value, ignore_null),
        Err(error) => write_error(out, error),
    }
}

/// `<error><code/><message/><objectType>KalturaAPIException</objectType><args>…</args></error>`.
fn write_error(out: &mut String, error: &ApiError) {
    out.push_str("<error><code>");
    escape(out, &error.code);
    out.push_str("</code><message>");
    escape(out, &error.message);
    out.push_str("</message><objectType>KalturaAPIException</objectType><args>");
    for (name, value) in &error.args {
        out.push_str("<item><objectType>KalturaApiExceptionArg</objectType><name>");
        escape(out, name);
        out.push_str("</name><value>");
        escape(out, value);
        out.push_str("</value></item>");
    }
    out.push_str("</args></error>");
}

fn write_val(out: &mut String, value: &Val, ignore_null: bool) {
    match value {
        Val::Null => {}
        Val::Bool(flag) => out.push(if *flag { '1' } else { '0' }),
        Val::Int(number) => out.push_str(&number.to_string()),
        Val::Float(number) => out.push_str(&php_float(*number)),
        Val::Str(text) => escape(out, text),
        Val::Arr(items) => {
            for item in items {
                out.push_str("<item>");
                write_val(out, item, ignore_null);
                out.push_str("</item>");
            }
        }
        Val::Obj(obj) => {
            out.push_str("<objectType>");
            escape(out, &obj.class);
            out.push_str("</objectType>");
            for (name, field) in &obj.fields {
                if ignore_null && *field == Val::Null {
                    continue;
                }
                out.push('<');
                out.push_str(name);
                out.push('>');
                write_val(out, field, ignore_null);
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
        }
    }
}

/// `kString::xmlEncode`: entities for markup characters, characters XML 1.0 forbids dropped.
fn escape(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            ch if (ch as u32) < 0x20 || ch == '\u{fffe}' || ch == '\u{ffff}' => {}
            ch => out.push(ch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{render, render_multi};
    use crate::api::errors::ApiError;
    use crate::api::value::{Obj, Val};

    #[test]
    fn objects_start_with_object_type_and_keep_null_elements() {
        let value = Val::Obj(
            Obj::new("KalturaLocationScheduleResource")
                .with("id", Val::Int(7))
                .with("parentId", Val::Null)
                .with("name", Val::Str("R&D <1>".into())),
        );
        assert_eq!(
            render(&Ok(value.clone()), false, 0.0),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><xml><result><objectType>KalturaLocationScheduleResource</objectType><id>7</id><parentId></parentId><name>R&amp;D &lt;1&gt;</name></result><executionTime>0</executionTime></xml>"
        );
        assert!(!render(&Ok(value), true, 0.0).contains("parentId"));
    }

    #[test]
    fn errors_and_multirequests() {
        let body = render_multi(
            &[Ok(Val::Str("djJ8".into())), Err(ApiError::new("INVALID_OBJECT_ID", &["5"])), Ok(Val::Bool(false))],
            false,
            0.5,
        );
        assert_eq!(
            body,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><xml><result><item>djJ8</item><item><error><code>INVALID_OBJECT_ID</code><message>Invalid object id [5]</message><objectType>KalturaAPIException</objectType><args><item><objectType>KalturaApiExceptionArg</objectType><name>ID</name><value>5</value></item></args></error></item><item>0</item></result><executionTime>0.5</executionTime></xml>"
        );
    }
}
