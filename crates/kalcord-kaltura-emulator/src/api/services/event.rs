//! `schedule_scheduleevent`: scheduled meetings and webcasts (§3.1, §3.3).

use crate::api::dispatch::{Ctx, Outcome};
use crate::api::errors::ApiError;
use crate::api::list::{self, Filter, Pager};
use crate::api::object::Record;
use crate::api::schema::{ENTRY_EVENT, SCHEDULE_EVENT};
use crate::api::value::Val;
use crate::state::PartnerData;

/// `KalturaScheduleEventStatus::CANCELLED`.
pub(crate) const CANCELLED: i64 = 1;
/// `KalturaScheduleEventStatus::ACTIVE`.
pub(crate) const ACTIVE: i64 = 2;
/// `KalturaScheduleEventStatus::DELETED`.
const DELETED: i64 = 3;
/// `KalturaScheduleEventRecurrenceType::RECURRING`.
const RECURRING: i64 = 1;
/// `KalturaScheduleEventRecurrenceType::RECURRENCE` (instances only, never given).
const RECURRENCE: i64 = 2;

/// An event that is not deleted, else `INVALID_OBJECT_ID`.
pub(crate) fn find_mut(partner: &mut PartnerData, id: i64) -> Result<&mut Record, ApiError> {
    partner
        .events
        .get_mut(&id)
        .filter(|event| event.int("status") != Some(DELETED))
        .ok_or_else(|| ApiError::invalid_id(&id.to_string()))
}

/// `KalturaScheduleEvent::validate`.
fn validate_dates(recurrence_type: Option<i64>, start: i64, end: i64) -> Result<(), ApiError> {
    if recurrence_type == Some(RECURRENCE) {
        return Err(ApiError::new(
            "INVALID_ENUM_VALUE",
            &[&RECURRENCE.to_string(), "recurrenceType", "KalturaScheduleEventRecurrenceType"],
        ));
    }
    if start > end {
        return Err(ApiError::new("INVALID_SCHEDULE_END_BEFORE_START", &[&start.to_string(), &end.to_string()]));
    }
    Ok(())
}

/// `scheduleEvent.add(scheduleEvent)`: `recurrenceType`, `summary`, `startDate` and `endDate`
/// (or `duration`) required; status ACTIVE; `duration = endDate - startDate`.
pub(crate) fn add(ctx: &Ctx<'_>) -> Outcome {
    let input = ctx.req_object("scheduleEvent", &SCHEDULE_EVENT)?;
    input.require("recurrenceType")?;
    input.require("summary")?;
    input.require("startDate")?;
    let start = input.int("startDate").unwrap_or_default();
    let end = match (input.int("endDate"), input.int("duration")) {
        (Some(end), _) => end,
        (None, Some(duration)) => start.saturating_add(duration),
        (None, None) => return Err(ApiError::new("PROPERTY_VALIDATION_CANNOT_BE_NULL", &["endDate/duration"])),
    };
    validate_dates(input.int("recurrenceType"), start, end)?;
    if input.int("recurrenceType") == Some(RECURRING) {
        input.require("recurrence")?;
    }
    input.validate_insert()?;
    let owner = ctx.caller.user_id().to_owned();
    ctx.with_partner(|partner| {
        let id = ctx.inner.next_event_id();
        let mut record = Record::new(input.class, ctx.inner.next_seq());
        record.set("classificationType", Val::Int(1));
        record.set("sequence", Val::Int(1));
        if !owner.is_empty() {
            record.set("ownerId", Val::Str(owner));
        }
        input.apply(&mut record);
        for (name, value) in [
            ("id", Val::Int(id)),
            ("partnerId", Val::Int(partner.config.id)),
            ("status", Val::Int(ACTIVE)),
            ("endDate", Val::Int(end)),
            ("duration", Val::Int(end.saturating_sub(start))),
            ("createdAt", Val::Int(ctx.now)),
            ("updatedAt", Val::Int(ctx.now)),
        ] {
            record.set(name, value);
        }
        if record.class.derives_from(&ENTRY_EVENT) {
            record.set("blackoutConflicts", Val::Arr(Vec::new()));
        }
        partner.events.insert(id, record.clone());
        Ok(record.to_val())
    })
}

/// `scheduleEvent.get(scheduleEventId)`.
pub(crate) fn get(ctx: &Ctx<'_>) -> Outcome {
    let id = ctx.req_int("scheduleEventId")?;
    ctx.with_partner(|partner| find_mut(partner, id).map(|record| record.to_val()))
}

/// `scheduleEvent.update(scheduleEventId, scheduleEvent)`: dates revalidated, `sequence` bumped.
pub(crate) fn update(ctx: &Ctx<'_>) -> Outcome {
    let id = ctx.req_int("scheduleEventId")?;
    let input = ctx.req_object("scheduleEvent", &SCHEDULE_EVENT)?;
    ctx.with_partner(|partner| {
        let record = find_mut(partner, id)?;
        let start = input.int("startDate").or_else(|| record.int("startDate")).unwrap_or_default();
        let end = match (input.int("endDate"), input.int("duration")) {
            (Some(end), _) => end,
            (None, Some(duration)) => start.saturating_add(duration),
            (None, None) => record.int("endDate").unwrap_or(start),
        };
        validate_dates(input.int("recurrenceType"), start, end)?;
        let current = record.int("sequence").unwrap_or_default();
        let sequence =
            input.int("sequence").filter(|sequence| *sequence > current).unwrap_or(current.saturating_add(1));
        input.validate_update(record)?;
        input.apply(record);
        for (name, value) in [
            ("endDate", Val::Int(end)),
            ("duration", Val::Int(end.saturating_sub(start))),
            ("sequence", Val::Int(sequence)),
            ("updatedAt", Val::Int(ctx.now)),
        ] {
            record.set(name, value);
        }
        Ok(record.to_val())
    })
}

fn set_status(ctx: &Ctx<'_>, status: i64) -> Outcome {
    let id = ctx.req_int("scheduleEventId")?;
    ctx.with_partner(|partner| {
        let record = find_mut(partner, id)?;
        record.set("status", Val::Int(status));
        record.set("updatedAt", Val::Int(ctx.now));
        Ok(record.to_val())
    })
}

/// `scheduleEvent.cancel(scheduleEventId)` → the event, `status=1`.
pub(crate) fn cancel(ctx: &Ctx<'_>) -> Outcome {
    set_status(ctx, CANCELLED)
}

/// `scheduleEvent.delete(scheduleEventId)` → the event, `status=3`.
pub(crate) fn delete(ctx: &Ctx<'_>) -> Outcome {
    set_status(ctx, DELETED)
}

fn bound(record: &Record, name: &str, limit: Option<i64>, at_least: bool) -> bool {
    limit.is_none_or(|limit| {
        record.int(name).is_some_and(|value| if at_least { value >= limit } else { value <= limit })
    })
}

/// `scheduleEvent.list(filter, pager)` → `KalturaScheduleEventListResponse`.
pub(crate) fn list(ctx: &Ctx<'_>) -> Outcome {
    let filter = Filter::read(ctx.params);
    let pager = Pager::read(ctx.params);
    let class = list::filter_class(filter);
    let (id_in, status_in, reference_in) =
        (filter.int_csv("idIn"), filter.int_csv("statusIn"), filter.csv("referenceIdIn"));
    let tags_or = filter.csv("tagsMultiLikeOr");
    let status_given = filter.int("statusEqual").is_some() || status_in.is_some();
    let resource = filter.int("resourceIdEqual");
    ctx.with_partner(|partner| {
        let linked = |event: &Record| {
            resource.is_none_or(|resource| {
                partner
                    .links
                    .iter()
                    .any(|link| link.int("resourceId") == Some(resource) && link.int("eventId") == event.int("id"))
            })
        };
        let mut found: Vec<&Record> = partner
            .events
            .values()
            .filter(|event| class.is_none_or(|class| event.class.derives_from(class)))
            .filter(|event| status_given || event.int("status") != Some(DELETED))
            .filter(|event| {
                list::eq_int(event, "id", filter.int("idEqual")) && list::in_int(event, "id", id_in.as_deref())
            })
            .filter(|event| list::eq_int(event, "status", filter.int("statusEqual")))
            .filter(|event| list::in_int(event, "status", status_in.as_deref()))
            .filter(|event| list::eq_str(event, "referenceId", filter.str("referenceIdEqual")))
            .filter(|event| list::in_str(event, "referenceId", reference_in.as_deref()))
            .filter(|event| list::eq_str(event, "ownerId", filter.str("ownerIdEqual")))
            .filter(|event| list::eq_str(event, "templateEntryId", filter.str("templateEntryIdEqual")))
            .filter(|event| list::eq_int(event, "parentId", filter.int("parentIdEqual")))
            .filter(|event| bound(event, "startDate", filter.int("startDateGreaterThanOrEqual"), true))
            .filter(|event| bound(event, "startDate", filter.int("startDateLessThanOrEqual"), false))
            .filter(|event| bound(event, "endDate", filter.int("endDateGreaterThanOrEqual"), true))
            .filter(|event| bound(event, "endDate", filter.int("endDateLessThanOrEqual"), false))
            .filter(|event| {
                list::like(event, "tags", filter.str("tagsLike")) && list::like_any(event, "tags", tags_or.as_deref())
            })
            .filter(|event| linked(event))
            .collect();
        list::sort(&mut found, filter.order_by(), "+createdAt");
        Ok(list::response("KalturaScheduleEventListResponse", found, pager))
    })
}
