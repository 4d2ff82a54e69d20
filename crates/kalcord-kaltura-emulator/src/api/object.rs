//! Stored objects and request objects (`KalturaRequestDeserializer::buildObject` and the
//! `validateForInsert` / `validateForUpdate` rules of `KalturaObject`).

use std::collections::HashMap;

use super::errors::ApiError;
use super::params::{Param, Params, is_numeric, php_bool, php_float, php_int};
use super::schema::{Access, Class, Kind, Prop, find};
use super::value::{Obj, Val};

/// `configurations/base.ini max_relative_time`: ten years.
const MAX_RELATIVE_TIME: i64 = 315_360_000;

/// A stored API object.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    /// Its class.
    pub class: &'static Class,
    /// Non-null property values.
    values: HashMap<&'static str, Val>,
    /// Creation order, for stable listing.
    pub seq: u64,
}

impl Record {
    /// An empty object of `class`.
    pub fn new(class: &'static Class, seq: u64) -> Self {
        Self { class, values: HashMap::new(), seq }
    }

    /// A property value (never `Val::Null`).
    pub fn get(&self, name: &str) -> Option<&Val> {
        self.values.get(name)
    }

    /// A string property.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Val::as_str)
    }

    /// An integer property.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Val::as_int)
    }

    /// Sets a property of the class (others are ignored); `Val::Null` removes it.
    pub fn set(&mut self, name: &str, value: Val) {
        let Some(prop) = self.class.prop(name) else {
            tracing::debug!(class = self.class.name, name, "ignoring a property the class does not have");
            return;
        };
        if value == Val::Null {
            self.values.remove(prop.name);
        } else {
            self.values.insert(prop.name, value);
        }
    }

    /// The response object: every property in serialisation order, unset ones null.
    pub fn to_val(&self) -> Val {
        let fields = self
            .class
            .props()
            .into_iter()
            .map(|prop| (prop.name.to_owned(), self.values.get(prop.name).cloned().unwrap_or(Val::Null)))
            .collect();
        Val::Obj(Obj { class: self.class.name.to_owned(), fields })
    }
}

/// An object parameter of a request, typed by its class.
#[derive(Debug)]
pub(crate) struct Input {
    /// The class the request named (or the declared one).
    pub class: &'static Class,
    /// Properties given, in class order; `None` is an explicit `__null`.
    values: Vec<(&'static Prop, Option<Val>)>,
}

impl Input {
    /// A given, non-null value.
    pub fn get(&self, name: &str) -> Option<&Val> {
        self.values.iter().find(|(prop, _)| prop.name == name).and_then(|(_, value)| value.as_ref())
    }

    /// A given integer value.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Val::as_int)
    }

    /// A given string value.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Val::as_str)
    }

    /// `Class::prop`, as validation errors name a property.
    pub fn prop_name(&self, name: &str) -> String {
        format!("{}::{name}", self.class.name)
    }

    /// `validatePropertyNotNull`.
    pub fn require(&self, name: &str) -> Result<(), ApiError> {
        if self.get(name).is_some() {
            Ok(())
        } else {
            Err(ApiError::new("PROPERTY_VALIDATION_CANNOT_BE_NULL", &[&self.prop_name(name)]))
        }
    }

    /// `validateForInsert`: no read-only property may be given.
    pub fn validate_insert(&self) -> Result<(), ApiError> {
        match self.values.iter().find(|(prop, value)| prop.access == Access::ReadOnly && value.is_some()) {
            Some((prop, _)) => Err(ApiError::new("PROPERTY_VALIDATION_NOT_UPDATABLE", &[&self.prop_name(prop.name)])),
            None => Ok(()),
        }
    }

    /// `validateForUpdate`: read-only and insert-only properties may only repeat their value.
    pub fn validate_update(&self, existing: &Record) -> Result<(), ApiError> {
        let changed = self.values.iter().find(|(prop, value)| {
            prop.access != Access::ReadWrite
                && value.as_ref().is_some_and(|value| existing.get(prop.name) != Some(value))
        });
        match changed {
            Some((prop, _)) => Err(ApiError::new("PROPERTY_VALIDATION_NOT_UPDATABLE", &[&self.prop_name(prop.name)])),
            None => Ok(()),
        }
    }

    /// Copies the settable values into `record`; explicit nulls clear.
    pub fn apply(&self, record: &mut Record) {
        for (prop, value) in &self.values {
            if prop.access != Access::ReadOnly {
                record.set(prop.name, value.clone().unwrap_or(Val::Null));
            }
        }
    }
}

/// Reads the object parameter `name` declared as `declared`; `Ok(None)` when absent.
///
/// # Errors
///
/// `INVALID_OBJECT_TYPE`, `OBJECT_TYPE_ABSTRACT`, `INVALID_ENUM_VALUE`.
pub(crate) fn read_object(
    params: &Params,
    name: &str,
    declared: &'static Class,
    now: i64,
) -> Result<Option<Input>, ApiError> {
    let Some(Param::Map(map)) = params.get(name) else {
        return Ok(None);
    };
    let class = match map.get("objectType").and_then(Param::as_str).filter(|name| !name.is_empty()) {
        Some(object_type) => match find(object_type) {
            Some(class) if class.derives_from(declared) => class,
            _ => return Err(ApiError::new("INVALID_OBJECT_TYPE", &[object_type])),
        },
        None => declared,
    };
    if class.is_abstract {
        return Err(ApiError::new("OBJECT_TYPE_ABSTRACT", &[class.name]));
    }
    let mut values = Vec::new();
    for prop in class.props() {
        if map.contains_key(&format!("{}__null", prop.name)) {
            values.push((prop, None));
        } else if let Some(param) = map.get(prop.name)
            && let Some(value) = cast(prop, param, now)?
        {
            values.push((prop, Some(value)));
        }
    }
    Ok(Some(Input { class, values }))
}

fn cast(prop: &Prop, param: &Param, now: i64) -> Result<Option<Val>, ApiError> {
    Ok(match (prop.kind, param) {
        (Kind::Array, Param::Map(map)) => Some(Val::Arr(list_items(map))),
        (Kind::Object, Param::Map(map)) => Some(generic_object(map)),
        (_, Param::Null | Param::Map(_)) | (Kind::Array | Kind::Object, Param::Str(_)) => None,
        (kind, Param::Str(text)) => Some(scalar(prop.name, kind, text, now)?),
    })
}

/// Casts a scalar as `castSimpleType` does.
pub(crate) fn scalar(name: &str, kind: Kind, text: &str, now: i64) -> Result<Val, ApiError> {
    Ok(match kind {
        Kind::Int => Val::Int(php_int(text)),
        Kind::Bool => Val::Bool(php_bool(text)),
        Kind::Float => Val::Float(php_float(text)),
        Kind::Time => Val::Int(relative_time(php_int(text), now)),
        Kind::IntEnum(type_name, allowed) => {
            let value = php_int(text);
            if !is_numeric(text) || !allowed.contains(&value) {
                return Err(ApiError::new("INVALID_ENUM_VALUE", &[text, name, type_name]));
            }
            Val::Int(value)
        }
        Kind::Str | Kind::Array | Kind::Object => Val::Str(text.to_owned()),
    })
}

/// `kTime::getRelativeTime`: small values are offsets from now.
pub(crate) fn relative_time(value: i64, now: i64) -> i64 {
    if value.unsigned_abs() <= MAX_RELATIVE_TIME.unsigned_abs() { now.saturating_add(value) } else { value }
}

fn list_items(map: &Params) -> Vec<Val> {
    let mut items: Vec<(i64, &Param)> = map.iter().map(|(key, value)| (php_int(key), value)).collect();
    items.sort_by_key(|(index, _)| *index);
    items
        .into_iter()
        .filter_map(|(_, value)| match value {
            Param::Null => None,
            Param::Str(text) => Some(Val::Str(text.clone())),
            Param::Map(inner) => Some(generic_object(inner)),
        })
        .collect()
}

/// A nested object kept as given; property names that could not be XML element names are dropped.
fn generic_object(map: &Params) -> Val {
    let class =
        map.get("objectType").and_then(Param::as_str).filter(|name| is_identifier(name)).unwrap_or("KalturaObject");
    let fields = map
        .iter()
        .filter(|(key, _)| key.as_str() != "objectType" && is_identifier(key))
        .filter_map(|(key, value)| {
            let value = match value {
                Param::Null => return None,
                Param::Str(text) => Val::Str(text.clone()),
                Param::Map(inner) if inner.keys().all(|key| key.parse::<u32>().is_ok()) => Val::Arr(list_items(inner)),
                Param::Map(inner) => generic_object(inner),
            };
            Some((key.clone(), value))
        })
        .collect();
    Val::Obj(Obj { class: class.to_owned(), fields })
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

#[cfg(test)]
mod tests {
    use super::{Record, read_object};
    use crate::api::params::{Param, Params, from_json};
    use crate::api::schema::{LOCATION_RESOURCE, SCHEDULE_EVENT, SCHEDULE_RESOURCE};
    use crate::api::value::Val;

    fn params(json: serde_json::Value) -> Params {
        match from_json(json) {
            Param::Map(map) => map,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn object_types_must_be_concrete_subclasses() {
        let abstract_only = params(serde_json::json!({"r": {"name": "x"}}));
        let error = read_object(&abstract_only, "r", &SCHEDULE_RESOURCE, 0).expect_err("abstract");
        assert_eq!(
            error.message,
            "The object type \"KalturaScheduleResource\" is abstract, use one of the object implementations"
        );
        let foreign = params(serde_json::json!({"r": {"objectType": "KalturaUser"}}));
        assert_eq!(read_object(&foreign, "r", &SCHEDULE_RESOURCE, 0).expect_err("foreign").code, "INVALID_OBJECT_TYPE");
        let good = params(
            serde_json::json!({"r": {"objectType": "KalturaLocationScheduleResource", "name": "Room", "bogus": 1}}),
        );
        let input = read_object(&good, "r", &SCHEDULE_RESOURCE, 0).expect("ok").expect("present");
        assert_eq!(input.class.name, LOCATION_RESOURCE.name);
        assert_eq!(input.str("name"), Some("Room"));
    }

    #[test]
    fn casts_enums_times_and_read_only_checks() {
        let event =
            params(serde_json::json!({"e": {"objectType": "KalturaRecordScheduleEvent", "recurrenceType": "7"}}));
        let error = read_object(&event, "e", &SCHEDULE_EVENT, 0).expect_err("enum");
        assert_eq!(error.args[0].1, "7");
        let event =
            params(serde_json::json!({"e": {"objectType": "KalturaRecordScheduleEvent", "startDate": 60, "id": 5}}));
        let input = read_object(&event, "e", &SCHEDULE_EVENT, 1000).expect("ok").expect("present");
        assert_eq!(input.int("startDate"), Some(1060));
        assert_eq!(
            input.validate_insert().expect_err("ro").message,
            "The property \"KalturaRecordScheduleEvent::id\" cannot be updated"
        );
        let mut record = Record::new(input.class, 1);
        record.set("id", Val::Int(5));
        assert!(input.validate_update(&record).is_ok());
    }
}
