//! Form bodies and query strings as PHP's `parse_str` reads them (bracket syntax), plus the
//! `json` field of `multipart/form-data` bodies (§1.2).

use super::params::{MAX_DEPTH, Param, Params, from_json, merge};

/// Parses `a=1&filter[objectType]=x&list[]=y` into nested maps.
pub(crate) fn parse_urlencoded(input: &[u8]) -> Params {
    let mut out = Params::new();
    for pair in input.split(|byte| *byte == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (key, value) = match pair.iter().position(|byte| *byte == b'=') {
            Some(split) => (&pair[..split], &pair[split + 1..]),
            None => (pair, &[][..]),
        };
        insert(&mut out, &url_decode(key), Param::Str(url_decode(value)));
    }
    out
}

/// PHP `urldecode`: `+` is a space, `%XX` a byte, a malformed `%` stays; invalid UTF-8 is replaced.
pub(crate) fn url_decode(input: &[u8]) -> String {
    decode(input, true)
}

/// PHP `rawurldecode` (path segments): like [`url_decode`] but `+` stays.
pub(crate) fn raw_url_decode(input: &[u8]) -> String {
    decode(input, false)
}

fn decode(input: &[u8], plus_is_space: bool) -> String {
    let mut bytes = Vec::with_capacity(input.len());
    let mut index = 0;
    while index < input.len() {
        match input[index] {
            b'+' if plus_is_space => bytes.push(b' '),
            b'%' => match input.get(index + 1..index + 3).and_then(|pair| hex_pair(pair[0], pair[1])) {
                Some(byte) => {
                    bytes.push(byte);
                    index += 2;
                }
                None => bytes.push(b'%'),
            },
            byte => bytes.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn hex_pair(high: u8, low: u8) -> Option<u8> {
    let digit = |byte: u8| char::from(byte).to_digit(16);
    let value = digit(high)? * 16 + digit(low)?;
    u8::try_from(value).ok()
}

/// Inserts `name` (with optional `[a][b][]` segments) the way `php_register_variable` does.
pub(crate) fn insert(root: &mut Params, name: &str, value: Param) {
    let Some((base, segments)) = split_name(name) else {
        return;
    };
    if segments.len() > MAX_DEPTH {
        return;
    }
    let mut path = Vec::with_capacity(segments.len() + 1);
    path.push(Some(base));
    path.extend(segments.into_iter().map(|segment| Some(segment).filter(|segment| !segment.is_empty())));
    insert_path(root, &path, value);
}

fn insert_path(map: &mut Params, path: &[Option<String>], value: Param) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let key = first.clone().unwrap_or_else(|| next_index(map));
    if rest.is_empty() {
        map.insert(key, value);
        return;
    }
    let entry = map.entry(key).or_insert_with(|| Param::Map(Params::new()));
    if !matches!(entry, Param::Map(_)) {
        *entry = Param::Map(Params::new());
    }
    if let Param::Map(inner) = entry {
        insert_path(inner, rest, value);
    }
}

/// `[]` appends: the next integer key after the largest one.
fn next_index(map: &Params) -> String {
    map.keys().filter_map(|key| key.parse::<i64>().ok()).max().map_or(0, |max| max.saturating_add(1)).to_string()
}

/// Splits `base[a][b]` into the base (spaces and dots become `_`) and its bracket segments.
fn split_name(name: &str) -> Option<(String, Vec<String>)> {
    let name = name.trim_start_matches(' ');
    let (base, mut rest) = match name.find('[') {
        Some(open) if name[open..].contains(']') => (&name[..open], &name[open..]),
        _ => (name, ""),
    };
    if base.is_empty() {
        return None;
    }
    let base: String = base.chars().map(|ch| if matches!(ch, ' ' | '.' | '[') { '_' } else { ch }).collect();
    let mut segments = Vec::new();
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            break;
        };
        segments.push(stripped[..close].to_owned());
        rest = &stripped[close + 1..];
    }
    Some((base, segments))
}

/// Reads a `multipart/form-data` body: the `json` field is a JSON document, other text fields
/// are form variables; file parts are ignored.
pub(crate) fn parse_multipart(body: &[u8], boundary: &str) -> Params {
    let mut out = Params::new();
    let delimiter = format!("--{boundary}");
    for part in split_bytes(body, delimiter.as_bytes()).into_iter().skip(1) {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(header_end) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..header_end]);
        let content = &part[header_end + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let Some(name) = disposition_name(&headers) else {
            continue;
        };
        if headers.to_ascii_lowercase().contains("filename=") {
            continue;
        }
        if name == "json" {
            if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(content)
                && let Param::Map(map) = from_json(serde_json::Value::Object(fields))
            {
                merge(&mut out, map);
            }
        } else {
            insert(&mut out, &name, Param::Str(String::from_utf8_lossy(content).into_owned()));
        }
    }
    out
}

fn disposition_name(headers: &str) -> Option<String> {
    let line = headers.lines().find(|line| line.to_ascii_lowercase().starts_with("content-disposition"))?;
    let start = line.find("name=\"")? + 6;
    let end = line[start..].find('"')? + start;
    Some(line[start..end].to_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|window| window == needle)
}

fn split_bytes<'a>(mut haystack: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find(haystack, delimiter) {
        parts.push(&haystack[..at]);
        haystack = &haystack[at + delimiter.len()..];
    }
    parts.push(haystack);
    parts
}

#[cfg(test)]
mod tests {
    use super::{parse_multipart, parse_urlencoded, url_decode};
    use crate::api::params::Param;

    fn text(value: &str) -> Param {
        Param::Str(value.to_owned())
    }

    #[test]
    fn brackets_nest_and_append() {
        let params =
            parse_urlencoded(b"filter[objectType]=KalturaUserFilter&filter[idIn]=a%2Cb&ids[]=1&ids[]=2&a.b=c&x");
        let filter = params["filter"].as_map().expect("map");
        assert_eq!(filter["objectType"], text("KalturaUserFilter"));
        assert_eq!(filter["idIn"], text("a,b"));
        let ids = params["ids"].as_map().expect("list");
        assert_eq!((ids["0"].clone(), ids["1"].clone()), (text("1"), text("2")));
        assert_eq!(params["a_b"], text("c"));
        assert_eq!(params["x"], text(""));
    }

    #[test]
    fn decoding_is_lenient() {
        assert_eq!(url_decode(b"a+b%20c%zz%"), "a b c%zz%");
        assert_eq!(url_decode(b"%C3%A9%FF"), "é\u{fffd}");
    }

    #[test]
    fn multipart_json_field() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"json\"\r\n\r\n{\"user\":{\"id\":\"u1\"},\"format\":1}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"clientTag\"\r\n\r\ntest\r\n--XyZ--\r\n";
        let params = parse_multipart(body, "XyZ");
        assert_eq!(params["user"].as_map().expect("user")["id"], text("u1"));
        assert_eq!(params["format"], text("1"));
        assert_eq!(params["clientTag"], text("test"));
    }
}
