//! What an action returns, before it is serialised to JSON or XML.

use std::fmt::Write as _;

/// A result value with PHP runtime types (the JSON type follows them, §1.4).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val {
    /// `null` (dropped from JSON objects, an empty element in XML).
    Null,
    /// A boolean (`true`/`false` in JSON, `1`/`0` in XML).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A list (`[...]` / `<item>`s).
    Arr(Vec<Val>),
    /// A Kaltura object (`objectType` last in JSON, first in XML).
    Obj(Obj),
}

/// A Kaltura object: its class and its properties in serialisation order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Obj {
    /// The PHP class, e.g. `KalturaUser`.
    pub class: String,
    /// Properties, most-derived class's own first (§1.4), nulls included.
    pub fields: Vec<(String, Val)>,
}

impl Obj {
    /// An object without properties.
    pub fn new(class: &str) -> Self {
        Self { class: class.to_owned(), fields: Vec::new() }
    }

    /// Appends a property.
    #[must_use]
    pub fn with(mut self, name: &str, value: Val) -> Self {
        self.fields.push((name.to_owned(), value));
        self
    }

    /// A property by name.
    pub fn get(&self, name: &str) -> Option<&Val> {
        self.fields.iter().find(|(key, _)| key == name).map(|(_, value)| value)
    }
}

impl Val {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(number) => Some(*number),
            _ => None,
        }
    }

    /// Follows a `prop:sub:0` path through objects and lists.
    pub fn path(&self, segments: &[&str]) -> Option<&Val> {
        let Some((first, rest)) = segments.split_first() else {
            return Some(self);
        };
        let next = match self {
            Self::Obj(obj) => obj.get(first),
            Self::Arr(items) => first.parse::<usize>().ok().and_then(|index| items.get(index)),
            _ => None,
        }?;
        next.path(rest)
    }

    /// PHP's `(string)` of a scalar; `None` for objects, lists and null.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Self::Bool(true) => Some("1".to_owned()),
            Self::Bool(false) => Some(String::new()),
            Self::Int(number) => Some(number.to_string()),
            Self::Float(number) => Some(php_float(*number)),
            Self::Str(text) => Some(text.clone()),
            Self::Null | Self::Arr(_) | Self::Obj(_) => None,
        }
    }
}

/// PHP 7.1+ float to string (`serialize_precision = -1`): shortest round trip, `2.0` as `2.0` in JSON.
pub(crate) fn php_float(number: f64) -> String {
    if !number.is_finite() {
        return "0".to_owned();
    }
    let mut text = String::new();
    let _ = write!(text, "{number}");
    text
}

#[cfg(test)]
mod tests {
    use super::{Obj, Val};

    #[test]
    fn paths_follow_objects_and_lists() {
        let value = Val::Obj(
            Obj::new("KalturaX")
                .with("id", Val::Int(5))
                .with("objects", Val::Arr(vec![Val::Obj(Obj::new("KalturaY").with("name", Val::Str("n".into())))])),
        );
        assert_eq!(value.path(&["id"]), Some(&Val::Int(5)));
        assert_eq!(value.path(&["objects", "0", "name"]).and_then(Val::as_str), Some("n"));
        assert_eq!(value.path(&["missing"]), None);
        assert_eq!(Val::Bool(true).scalar_text().as_deref(), Some("1"));
    }
}
