//! Where request parameters come from: path segments, query string and body (§1.1, §1.2).

use super::form::{parse_multipart, parse_urlencoded, raw_url_decode};
use super::params::{Param, Params, from_json, group, merge};

/// `array_replace_recursive($post, $params)` with `$params` = query + path pairs, then the
/// colon syntax grouped. Never fails: whatever cannot be read is simply absent.
pub(crate) fn collect(path: &str, query: &str, content_type: Option<&str>, body: &[u8]) -> Params {
    let mut params = body_params(content_type, body);
    let mut url = parse_urlencoded(query.as_bytes());
    merge(&mut url, path_params(path));
    merge(&mut params, url);
    group(params)
}

/// `/api_v3/service/x/action/y/ks/abc` → `service=x, action=y, ks=abc` (raw keys, no brackets).
fn path_params(path: &str) -> Params {
    let tail = path.strip_prefix("/api_v3").unwrap_or(path);
    let segments: Vec<String> = tail
        .split('/')
        .filter(|segment| !segment.is_empty() && !segment.eq_ignore_ascii_case("index.php"))
        .map(|segment| raw_url_decode(segment.as_bytes()))
        .collect();
    segments
        .chunks_exact(2)
        .filter(|pair| !pair[0].is_empty())
        .map(|pair| (pair[0].clone(), Param::Str(pair[1].clone())))
        .collect()
}

/// The body as PHP would populate `$post`.
fn body_params(content_type: Option<&str>, body: &[u8]) -> Params {
    let Some(content_type) = content_type else {
        return Params::new();
    };
    // NOTE: the exact, parameterless compare of infraRequestUtils: `application/json; charset=utf-8`
    // is not JSON, and PHP leaves `$_POST` empty for it.
    if content_type.eq_ignore_ascii_case("application/json") {
        return json_body(body);
    }
    let media_type = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match media_type.as_str() {
        "application/x-www-form-urlencoded" => parse_urlencoded(body),
        "multipart/form-data" => boundary(content_type).map(|b| parse_multipart(body, &b)).unwrap_or_default(),
        _ => Params::new(),
    }
}

fn json_body(body: &[u8]) -> Params {
    let trimmed = trim_php(body);
    if !(trimmed.starts_with(b"{") && trimmed.ends_with(b"}")) {
        return Params::new();
    }
    match serde_json::from_slice::<serde_json::Value>(trimmed).map(from_json) {
        Ok(Param::Map(map)) => map,
        _ => Params::new(),
    }
}

/// PHP `trim`: `" \t\n\r\0\x0B"`.
fn trim_php(bytes: &[u8]) -> &[u8] {
    let blank = |byte: &u8| matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0 | 0x0b);
    let start = bytes.iter().position(|byte| !blank(byte)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|byte| !blank(byte)).map_or(start, |last| last + 1);
    &bytes[start..end.max(start)]
}

fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|part| {
        let (name, value) = part.split_once('=')?;
        name.trim().eq_ignore_ascii_case("boundary").then(|| value.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::collect;
    use crate::api::params::Param;

    fn text(value: &str) -> Param {
        Param::Str(value.to_owned())
    }

    #[test]
    fn path_and_query_override_body() {
        let params = collect(
            "/api_v3/service/user/action/get/ks/PATH",
            "format=1&ks=QUERY&clientTag=q",
            Some("application/json"),
            br#" {"ks":"BODY","userId":"u1","filter":{"a":1}} "#,
        );
        assert_eq!(params["service"], text("user"));
        assert_eq!(params["action"], text("get"));
        assert_eq!(params["ks"], text("PATH"));
        assert_eq!(params["userId"], text("u1"));
        assert_eq!(params["format"], text("1"));
        assert_eq!(params["filter"].as_map().expect("filter")["a"], text("1"));
    }

    #[test]
    fn json_needs_the_exact_content_type() {
        let body = br#"{"userId":"u1"}"#;
        let charset = collect("/api_v3/service/user/action/get", "", Some("application/json; charset=utf-8"), body);
        assert!(!charset.contains_key("userId"));
        assert!(collect("/api_v3/service/user/action/get", "", Some("APPLICATION/JSON"), body).contains_key("userId"));
        assert!(collect("/api_v3/", "", Some("application/json"), b"[1]").is_empty());
    }

    #[test]
    fn form_bodies_take_both_syntaxes() {
        let params = collect(
            "/api_v3/service/multirequest",
            "",
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            b"1:service=user&1:action=get&1:userId=a&filter[objectType]=X&filter:idEqual=5",
        );
        let first = params["1"].as_map().expect("sub-request");
        assert_eq!((first["service"].clone(), first["userId"].clone()), (text("user"), text("a")));
        let filter = params["filter"].as_map().expect("filter");
        assert_eq!((filter["objectType"].clone(), filter["idEqual"].clone()), (text("X"), text("5")));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(
            path in ".{0,64}",
            query in proptest::collection::vec(any::<u8>(), 0..128),
            body in proptest::collection::vec(any::<u8>(), 0..512),
            content_type in prop_oneof![
                Just(None),
                Just(Some("application/json".to_owned())),
                Just(Some("application/x-www-form-urlencoded".to_owned())),
                Just(Some("multipart/form-data; boundary=b".to_owned())),
                ".{0,40}".prop_map(Some),
            ],
        ) {
            let query = String::from_utf8_lossy(&query);
            let _ = collect(&path, &query, content_type.as_deref(), &body);
        }

        #[test]
        fn never_panics_on_bracket_soup(body in "[a-z\\[\\]:=&%+0-9]{0,200}") {
            let _ = collect("/api_v3/service/multirequest", "", Some("application/x-www-form-urlencoded"), body.as_bytes());
        }
    }
}
