//! Request parameters as PHP sees them: nested string maps (§1.1, §1.2).

use std::collections::BTreeMap;

/// One parameter value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Param {
    /// JSON `null`: treated as absent.
    Null,
    /// A scalar; numbers and booleans arrive as their text.
    Str(String),
    /// A nested object or list (lists have index keys, like PHP arrays).
    Map(Params),
}

/// A parameter map.
pub(crate) type Params = BTreeMap<String, Param>;

/// Deepest nesting kept (PHP's `max_input_nesting_level`).
pub(crate) const MAX_DEPTH: usize = 64;

impl Param {
    /// The text of a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The nested map.
    pub fn as_map(&self) -> Option<&Params> {
        match self {
            Self::Map(map) => Some(map),
            _ => None,
        }
    }
}

/// `array_replace_recursive($base, $over)`: maps merge, anything else is replaced.
pub(crate) fn merge(base: &mut Params, over: Params) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Param::Map(existing)), Param::Map(incoming)) => merge(existing, incoming),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// `KalturaRequestDeserializer::groupParams`: `filter:objectType` becomes `filter[objectType]`.
pub(crate) fn group(params: Params) -> Params {
    let mut out = Params::new();
    for (key, value) in params {
        if key.contains(':') {
            let path: Vec<&str> = key.split(':').collect();
            // NOTE: like PHP's max_input_nesting_level; also keeps recursion shallow.
            if path.len() <= MAX_DEPTH {
                set_element(&mut out, &path, value);
            }
        } else {
            match (out.get_mut(&key), value) {
                (Some(Param::Map(existing)), Param::Map(incoming)) => merge(existing, incoming),
                (_, value) => {
                    out.insert(key, value);
                }
            }
        }
    }
    out
}

fn set_element(map: &mut Params, path: &[&str], value: Param) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        map.insert((*first).to_owned(), value);
        return;
    }
    let entry = map.entry((*first).to_owned()).or_insert_with(|| Param::Map(Params::new()));
    if !matches!(entry, Param::Map(_)) {
        *entry = Param::Map(Params::new());
    }
    if let Param::Map(inner) = entry {
        set_element(inner, rest, value);
    }
}

/// A JSON document as PHP `json_decode($body, true)` then sees it.
pub(crate) fn from_json(value: serde_json::Value) -> Param {
    match value {
        serde_json::Value::Null => Param::Null,
        serde_json::Value::Bool(true) => Param::Str("1".to_owned()),
        serde_json::Value::Bool(false) => Param::Str(String::new()),
        serde_json::Value::Number(number) => Param::Str(number.to_string()),
        serde_json::Value::String(text) => Param::Str(text),
        serde_json::Value::Array(items) => Param::Map(
            items.into_iter().enumerate().map(|(index, item)| (index.to_string(), from_json(item))).collect(),
        ),
        serde_json::Value::Object(fields) => {
            Param::Map(fields.into_iter().map(|(key, item)| (key, from_json(item))).collect())
        }
    }
}

/// Parameters as JSON for the request log, with secrets masked.
pub(crate) fn to_json(params: &Params) -> serde_json::Value {
    let fields = params
        .iter()
        .map(|(key, value)| {
            let lower = key.to_ascii_lowercase();
            let masked = lower.contains("secret") || lower.contains("password");
            let json = match value {
                Param::Null => serde_json::Value::Null,
                Param::Str(_) if masked => serde_json::Value::String("***".to_owned()),
                Param::Str(text) => serde_json::Value::String(text.clone()),
                Param::Map(map) => to_json(map),
            };
            (key.clone(), json)
        })
        .collect();
    serde_json::Value::Object(fields)
}

/// PHP `(int)$text`: optional whitespace and sign, leading digits (a float's integer part); else 0.
pub(crate) fn php_int(text: &str) -> i64 {
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\r', '\u{b}', '\u{c}']);
    if let Ok(number) = trimmed.trim_end().parse::<i64>() {
        return number;
    }
    if let Ok(number) = trimmed.trim_end().parse::<f64>()
        && number.is_finite()
    {
        // NOTE: saturating, like PHP 8 on 64-bit for out-of-range floats (close enough).
        #[allow(clippy::cast_possible_truncation)]
        return number as i64;
    }
    let bytes = trimmed.as_bytes();
    let sign_len = usize::from(matches!(bytes.first(), Some(b'-' | b'+')));
    let digits = bytes[sign_len..].iter().take_while(|byte| byte.is_ascii_digit()).count();
    trimmed[..sign_len + digits].parse::<i64>().unwrap_or(0)
}

/// PHP `(float)$text`.
pub(crate) fn php_float(text: &str) -> f64 {
    text.trim().parse::<f64>().ok().filter(|number| number.is_finite()).unwrap_or_else(|| {
        #[allow(clippy::cast_precision_loss)]
        let number = php_int(text) as f64;
        number
    })
}

/// Whether `text` is numeric as PHP's `is_numeric` sees it (close enough).
pub(crate) fn is_numeric(text: &str) -> bool {
    let trimmed = text.trim();
    !trimmed.is_empty() && trimmed.parse::<f64>().is_ok_and(f64::is_finite)
}

/// The server's bool cast: false iff `"false"`, else PHP `(bool)`.
pub(crate) fn php_bool(text: &str) -> bool {
    !(text.eq_ignore_ascii_case("false") || text.is_empty() || text == "0")
}

#[cfg(test)]
mod tests {
    use super::{Param, Params, from_json, group, merge, php_bool, php_int};

    fn text(value: &str) -> Param {
        Param::Str(value.to_owned())
    }

    #[test]
    fn colon_syntax_nests_and_merges() {
        let mut params = Params::new();
        params.insert("filter:objectType".into(), text("KalturaUserFilter"));
        params.insert("filter:idEqual".into(), text("u1"));
        params.insert("1:service".into(), text("user"));
        params.insert("ks".into(), text("abc"));
        let grouped = group(params);
        let filter = grouped["filter"].as_map().expect("filter map");
        assert_eq!(filter["objectType"], text("KalturaUserFilter"));
        assert_eq!(filter["idEqual"], text("u1"));
        assert_eq!(grouped["1"].as_map().expect("sub-request")["service"], text("user"));
        assert_eq!(grouped["ks"], text("abc"));
    }

    #[test]
    fn later_sources_override_recursively() {
        let mut base = match from_json(serde_json::json!({"a": {"x": 1, "y": 2}, "ks": "body"})) {
            Param::Map(map) => map,
            other => panic!("{other:?}"),
        };
        let over = match from_json(serde_json::json!({"a": {"y": 3}, "ks": "query"})) {
            Param::Map(map) => map,
            other => panic!("{other:?}"),
        };
        merge(&mut base, over);
        let a = base["a"].as_map().expect("map");
        assert_eq!((a["x"].clone(), a["y"].clone(), base["ks"].clone()), (text("1"), text("3"), text("query")));
    }

    #[test]
    fn php_casts() {
        assert_eq!(php_int("42"), 42);
        assert_eq!(php_int(" -7abc"), -7);
        assert_eq!(php_int("3.9"), 3);
        assert_eq!(php_int("abc"), 0);
        assert_eq!(php_int(""), 0);
        assert!(!php_bool("false") && !php_bool("0") && !php_bool(""));
        assert!(php_bool("true") && php_bool("1") && php_bool("yes"));
    }
}
