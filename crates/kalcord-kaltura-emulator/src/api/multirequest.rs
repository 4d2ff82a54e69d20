//! `service=multirequest` (§1.7): numbered sub-requests, shared KS, `{N:result:prop}` references.

use std::collections::BTreeMap;

use super::dispatch::{Outcome, call};
use super::params::{Param, Params, php_int};
use super::value::Val;
use crate::state::Inner;

/// Parameters copied from the top level into sub-requests that lack them.
const INHERITED: [&str; 3] = ["ks", "clientTag", "partnerId"];

/// Runs the sub-requests in index order, stopping at the first index without `service`/`action`.
pub(crate) fn run(inner: &Inner, params: &Params) -> Vec<Outcome> {
    let mut requests: BTreeMap<i64, Option<&Params>> = BTreeMap::new();
    for (key, value) in params {
        if let Some(index) = numeric_key(key) {
            requests.insert(index, value.as_map());
        }
    }
    let start = requests.keys().next().copied().unwrap_or(1).min(1);
    let end = requests.keys().next_back().copied().unwrap_or(1).max(1);
    let mut results: Vec<Outcome> = Vec::new();
    let mut index = start;
    while index <= end {
        let Some(Some(request)) = requests.get(&index) else {
            break;
        };
        let has = |name: &str| request.get(name).and_then(Param::as_str).is_some_and(|value| !value.trim().is_empty());
        if !has("service") || !has("action") {
            break;
        }
        let mut sub = (*request).clone();
        for name in INHERITED {
            if !sub.contains_key(name)
                && let Some(value) = params.get(name)
            {
                sub.insert(name.to_owned(), value.clone());
            }
        }
        sub.remove("format");
        replace_references(&mut sub, &results);
        results.push(call(inner, &sub));
        let Some(next) = index.checked_add(1) else {
            break;
        };
        index = next;
    }
    results
}

/// PHP `is_numeric($key)` then `intval`.
fn numeric_key(key: &str) -> Option<i64> {
    let trimmed = key.trim();
    let numeric = !trimmed.is_empty() && trimmed.parse::<f64>().is_ok_and(f64::is_finite);
    numeric.then(|| php_int(trimmed))
}

fn replace_references(params: &mut Params, results: &[Outcome]) {
    for value in params.values_mut() {
        match value {
            Param::Str(text) if text.contains(":result") => *text = substitute(text, results),
            Param::Map(inner) => replace_references(inner, results),
            _ => {}
        }
    }
}

/// Replaces each `{N:result[:prop[:sub]]}` whose N names an executed sub-request (1-based);
/// a missing value becomes `""`.
pub(crate) fn substitute(text: &str, results: &[Outcome]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let candidate = &rest[open..];
        match parse_reference(candidate) {
            Some((length, index, path)) if (1..=results.len()).contains(&index) => {
                out.push_str(&lookup(&results[index - 1], &path));
                rest = &candidate[length..];
            }
            _ => {
                out.push('{');
                rest = &candidate[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `{N:result:a:b}` → (length, N, [a, b]).
fn parse_reference(text: &str) -> Option<(usize, usize, Vec<&str>)> {
    let close = text.find('}')?;
    let (index, tail) = text.get(1..close)?.split_once(':')?;
    if index.is_empty() || !index.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let path = tail.strip_prefix("result")?;
    let segments = if path.is_empty() {
        Vec::new()
    } else {
        path.strip_prefix(':')?.split(':').filter(|segment| !segment.is_empty()).collect()
    };
    Some((close + 1, index.parse().ok()?, segments))
}

fn lookup(outcome: &Outcome, path: &[&str]) -> String {
    match outcome {
        Ok(value) => value.path(path).and_then(Val::scalar_text).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::substitute;
    use crate::api::errors::ApiError;
    use crate::api::value::{Obj, Val};

    #[test]
    fn references_use_one_based_execution_order() {
        let results = vec![
            Ok(Val::Str("KS1".into())),
            Ok(Val::Obj(
                Obj::new("KalturaX")
                    .with("id", Val::Int(42))
                    .with("sub", Val::Obj(Obj::new("Y").with("n", Val::Str("deep".into())))),
            )),
            Err(ApiError::new("MISSING_KS", &[])),
        ];
        assert_eq!(substitute("{1:result}", &results), "KS1");
        assert_eq!(substitute("id={2:result:id}!", &results), "id=42!");
        assert_eq!(substitute("{2:result:sub:n}", &results), "deep");
        assert_eq!(substitute("{2:result:nope}", &results), "");
        assert_eq!(substitute("{3:result:id}", &results), "");
        assert_eq!(substitute("{4:result}", &results), "{4:result}");
        assert_eq!(substitute("{0:result} {:result} {x", &results), "{0:result} {:result} {x");
    }
}
