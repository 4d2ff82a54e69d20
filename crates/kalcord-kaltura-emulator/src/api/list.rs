//! Listing: filters, ordering and `KalturaFilterPager` (pageSize 30 by default, at most 500).

use std::cmp::Ordering;

use super::object::Record;
use super::params::{Param, Params, php_int};
use super::schema::{Class, find};
use super::value::{Obj, Val};

const DEFAULT_PAGE_SIZE: i64 = 30;
const MAX_PAGE_SIZE: i64 = 500;

/// A page request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pager {
    size: usize,
    index: usize,
}

impl Pager {
    /// Reads the `pager` parameter.
    pub fn read(params: &Params) -> Self {
        let pager = params.get("pager").and_then(Param::as_map);
        let number = |name: &str| pager.and_then(|pager| pager.get(name)).and_then(Param::as_str).map(php_int);
        let size = number("pageSize").filter(|size| *size > 0).unwrap_or(DEFAULT_PAGE_SIZE).min(MAX_PAGE_SIZE);
        let index = number("pageIndex").filter(|index| *index > 0).unwrap_or(1);
        Self { size: usize::try_from(size).unwrap_or(30), index: usize::try_from(index).unwrap_or(1) }
    }

    /// The items of the page.
    pub fn page<T>(&self, items: Vec<T>) -> Vec<T> {
        let skip = (self.index - 1).saturating_mul(self.size);
        items.into_iter().skip(skip).take(self.size).collect()
    }
}

/// `{"objects":[…],"totalCount":N,"objectType":"Kaltura…ListResponse"}`.
pub(crate) fn response(class: &str, records: Vec<&Record>, pager: Pager) -> Val {
    let total = i64::try_from(records.len()).unwrap_or(i64::MAX);
    let objects = pager.page(records).into_iter().map(Record::to_val).collect();
    Val::Obj(Obj::new(class).with("objects", Val::Arr(objects)).with("totalCount", Val::Int(total)))
}

/// The `filter` parameter.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Filter<'a> {
    map: Option<&'a Params>,
}

impl<'a> Filter<'a> {
    /// Reads the `filter` parameter (absent means no conditions).
    pub fn read(params: &'a Params) -> Self {
        Self { map: params.get("filter").and_then(Param::as_map) }
    }

    /// A non-empty text condition.
    pub fn str(self, name: &str) -> Option<&'a str> {
        self.map?.get(name).and_then(Param::as_str).filter(|value| !value.is_empty())
    }

    /// An integer condition.
    pub fn int(self, name: &str) -> Option<i64> {
        self.str(name).map(php_int)
    }

    /// A comma-separated list condition.
    pub fn csv(self, name: &str) -> Option<Vec<String>> {
        self.str(name)
            .map(|list| list.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect())
    }

    /// A comma-separated integer list condition.
    pub fn int_csv(self, name: &str) -> Option<Vec<i64>> {
        self.csv(name).map(|items| items.iter().map(|item| php_int(item)).collect())
    }

    /// The `objectType` of the filter.
    pub fn object_type(self) -> Option<&'a str> {
        self.str("objectType")
    }

    /// `orderBy`, e.g. `-createdAt`.
    pub fn order_by(self) -> Option<&'a str> {
        self.str("orderBy")
    }
}

/// Whether a text property equals `value` (no condition when `value` is `None`).
pub(crate) fn eq_str(record: &Record, name: &str, value: Option<&str>) -> bool {
    value.is_none_or(|value| record.str(name) == Some(value))
}

/// Whether an integer property equals `value`.
pub(crate) fn eq_int(record: &Record, name: &str, value: Option<i64>) -> bool {
    value.is_none_or(|value| record.int(name) == Some(value))
}

/// Whether a text property is one of `values`.
pub(crate) fn in_str(record: &Record, name: &str, values: Option<&[String]>) -> bool {
    values.is_none_or(|values| record.str(name).is_some_and(|value| values.iter().any(|candidate| candidate == value)))
}

/// Whether an integer property is one of `values`.
pub(crate) fn in_int(record: &Record, name: &str, values: Option<&[i64]>) -> bool {
    values.is_none_or(|values| record.int(name).is_some_and(|value| values.contains(&value)))
}

/// A `…Like` condition: case-insensitive substring.
pub(crate) fn like(record: &Record, name: &str, needle: Option<&str>) -> bool {
    needle.is_none_or(|needle| {
        record.str(name).is_some_and(|value| value.to_lowercase().contains(&needle.to_lowercase()))
    })
}

/// A `…MultiLikeOr` condition: any of the comma-separated words.
pub(crate) fn like_any(record: &Record, name: &str, needles: Option<&[String]>) -> bool {
    needles.is_none_or(|needles| needles.iter().any(|needle| like(record, name, Some(needle))))
}

/// The class a typed filter restricts to: `KalturaLocationScheduleResourceFilter` → its class.
pub(crate) fn filter_class(filter: Filter<'_>) -> Option<&'static Class> {
    let object_type = filter.object_type()?;
    let base = object_type.strip_suffix("BaseFilter").or_else(|| object_type.strip_suffix("Filter"))?;
    find(base)
}

/// Sorts by `+prop` / `-prop` (ascending without a sign); ties in creation order (reversed for `-`).
pub(crate) fn sort(records: &mut [&Record], order_by: Option<&str>, default: &str) {
    let order = order_by.unwrap_or(default);
    let (descending, name) = match order.as_bytes().first() {
        Some(b'-') => (true, &order[1..]),
        Some(b'+') => (false, &order[1..]),
        _ => (false, order),
    };
    records.sort_by(|left, right| {
        let ordering = compare(left.get(name), right.get(name)).then(left.seq.cmp(&right.seq));
        if descending { ordering.reverse() } else { ordering }
    });
}

fn compare(left: Option<&Val>, right: Option<&Val>) -> Ordering {
    match (left, right) {
        (Some(Val::Int(left)), Some(Val::Int(right))) => left.cmp(right),
        (Some(Val::Str(left)), Some(Val::Str(right))) => left.to_lowercase().cmp(&right.to_lowercase()),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::Pager;
    use crate::api::params::{Param, from_json};

    #[test]
    fn pager_defaults_and_limits() {
        let params = |json| match from_json(json) {
            Param::Map(map) => map,
            other => panic!("{other:?}"),
        };
        let pager = Pager::read(&params(serde_json::json!({})));
        assert_eq!(pager.page((0..100).collect()).len(), 30);
        let pager = Pager::read(&params(serde_json::json!({"pager": {"pageSize": "1000"}})));
        assert_eq!(pager.page((0..1000).collect()).len(), 500);
        let pager = Pager::read(&params(serde_json::json!({"pager": {"pageSize": 2, "pageIndex": 3}})));
        assert_eq!(pager.page((0..10).collect()), [4, 5]);
    }
}
