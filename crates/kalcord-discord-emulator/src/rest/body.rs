//! Request bodies: `Content-Type` rules, JSON, forms, and `multipart/form-data` with `payload_json`.

use serde_json::{Map, Value, json};

use crate::api_error::ApiError;

/// How the body was sent.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Kind {
    /// No body.
    Empty,
    Json,
    Form,
    Multipart,
}

const CONTENT_TYPE_MESSAGE: &str = "Expected \"Content-Type\" header to be one of {'application/json', \
                                    'application/x-www-form-urlencoded', 'multipart/form-data'}.";

/// Parses a body by its `Content-Type` (50035 for another type, 50109 for bad JSON).
pub(crate) fn parse(content_type: &str, bytes: &[u8]) -> Result<(Kind, Option<Value>), ApiError> {
    if bytes.is_empty() {
        return Ok((Kind::Empty, None));
    }
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/json" => {
            let value = serde_json::from_slice(bytes).map_err(|_| ApiError::invalid_json())?;
            Ok((Kind::Json, Some(value)))
        }
        "application/x-www-form-urlencoded" => Ok((Kind::Form, Some(form(bytes)))),
        "multipart/form-data" => {
            let boundary = boundary(content_type)
                .ok_or_else(|| ApiError::form_root("CONTENT_TYPE_INVALID", CONTENT_TYPE_MESSAGE))?;
            Ok((Kind::Multipart, Some(multipart(bytes, &boundary)?)))
        }
        _ => Err(ApiError::form_root("CONTENT_TYPE_INVALID", CONTENT_TYPE_MESSAGE)),
    }
}

/// A form as a JSON object of strings.
pub(crate) fn form(bytes: &[u8]) -> Value {
    let map: Map<String, Value> = url::form_urlencoded::parse(bytes)
        .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
        .collect();
    Value::Object(map)
}

fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.trim().split_once('=')?;
        key.eq_ignore_ascii_case("boundary")
            .then(|| value.trim_matches('"').to_owned())
            .filter(|value| !value.is_empty())
    })
}

/// `payload_json` (or the text fields) plus `files`: the file parts' names and sizes.
fn multipart(bytes: &[u8], boundary: &str) -> Result<Value, ApiError> {
    let delimiter = format!("--{boundary}");
    let mut body = Value::Object(Map::new());
    let mut files = Vec::new();
    for part in split(bytes, delimiter.as_bytes()).into_iter().skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let Some((head, content)) = split_once(part, b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(head);
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let name = disposition(&head, "name").unwrap_or_default();
        if let Some(filename) = disposition(&head, "filename") {
            files.push(json!({"name": name, "filename": filename, "size": content.len()}));
        } else if name == "payload_json" {
            let payload: Value = serde_json::from_slice(content).map_err(|_| ApiError::invalid_json())?;
            if let (Value::Object(into), Value::Object(from)) = (&mut body, payload) {
                into.extend(from);
            }
        } else if !name.is_empty() {
            body[name] = Value::String(String::from_utf8_lossy(content).into_owned());
        }
    }
    if !files.is_empty() {
        body["files"] = Value::Array(files);
    }
    Ok(body)
}

fn disposition(head: &str, key: &str) -> Option<String> {
    let line = head.lines().find(|line| line.to_ascii_lowercase().starts_with("content-disposition"))?;
    line.split(';').skip(1).find_map(|param| {
        let (name, value) = param.trim().split_once('=')?;
        (name == key).then(|| value.trim_matches('"').to_owned())
    })
}

fn split<'a>(bytes: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = bytes;
    while let Some((head, tail)) = split_once(rest, delimiter) {
        parts.push(head);
        rest = tail;
    }
    parts.push(rest);
    parts
}

fn split_once<'a>(bytes: &'a [u8], needle: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    if needle.is_empty() || bytes.len() < needle.len() {
        return None;
    }
    let at = bytes.windows(needle.len()).position(|window| window == needle)?;
    Some((&bytes[..at], &bytes[at + needle.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(parse("application/json", b"").expect("empty").0, Kind::Empty);
        assert_eq!(parse("application/json; charset=utf-8", b"{\"a\":1}").expect("json").1, Some(json!({"a": 1})));
        assert_eq!(parse("application/json", b"{").unwrap_err().code(), 50109);
        assert_eq!(parse("text/plain", b"x").unwrap_err().code(), 50035);
        assert_eq!(
            parse("application/x-www-form-urlencoded", b"a=1&b=x+y").expect("form").1,
            Some(json!({"a": "1", "b": "x y"}))
        );
    }

    #[test]
    fn multipart_payload_json_and_files() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"payload_json\"\r\nContent-Type: application/json\r\n\r\n{\"content\":\"hi\"}\r\n--XX\r\nContent-Disposition: form-data; name=\"files[0]\"; filename=\"a.txt\"\r\n\r\nabc\r\n--XX--\r\n";
        let (kind, value) = parse("multipart/form-data; boundary=XX", body).expect("multipart");
        assert_eq!(kind, Kind::Multipart);
        let value = value.expect("body");
        assert_eq!(value["content"], "hi");
        assert_eq!(value["files"][0]["size"], 3);
    }
}
