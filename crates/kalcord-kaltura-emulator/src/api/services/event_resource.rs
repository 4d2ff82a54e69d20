//! `schedule_scheduleeventresource`: which room an event takes place in (§3.1).

use super::{event, resource};
use crate::api::dispatch::{Ctx, Outcome};
use crate::api::errors::ApiError;
use crate::api::list::{self, Filter, Pager};
use crate::api::object::Record;
use crate::api::schema::EVENT_RESOURCE;
use crate::api::value::Val;
use crate::state::PartnerData;

fn links(record: &Record, event_id: i64, resource_id: i64) -> bool {
    record.int("eventId") == Some(event_id) && record.int("resourceId") == Some(resource_id)
}

fn position(partner: &PartnerData, event_id: i64, resource_id: i64) -> Result<usize, ApiError> {
    partner
        .links
        .iter()
        .position(|link| links(link, event_id, resource_id))
        .ok_or_else(|| ApiError::invalid_id(&format!("{event_id},{resource_id}")))
}

/// `scheduleEventResource.add(scheduleEventResource{eventId, resourceId})`.
pub(crate) fn add(ctx: &Ctx<'_>) -> Outcome {
    let input = ctx.req_object("scheduleEventResource", &EVENT_RESOURCE)?;
    input.require("eventId")?;
    input.require("resourceId")?;
    input.validate_insert()?;
    let event_id = input.int("eventId").unwrap_or_default();
    let resource_id = input.int("resourceId").unwrap_or_default();
    ctx.with_partner(|partner| {
        event::find_mut(partner, event_id)?;
        resource::find_mut(partner, resource_id)?;
        if partner.links.iter().any(|link| links(link, event_id, resource_id)) {
            return Err(ApiError::new(
                "SCHEDULE_EVENT_RESOURCE_ALREADY_EXISTS",
                &[&event_id.to_string(), &resource_id.to_string()],
            ));
        }
        let mut record = Record::new(&EVENT_RESOURCE, ctx.inner.next_seq());
        for (name, value) in [
            ("eventId", Val::Int(event_id)),
            ("resourceId", Val::Int(resource_id)),
            ("partnerId", Val::Int(partner.config.id)),
            ("createdAt", Val::Int(ctx.now)),
            ("updatedAt", Val::Int(ctx.now)),
        ] {
            record.set(name, value);
        }
        partner.links.push(record.clone());
        Ok(record.to_val())
    })
}

/// `scheduleEventResource.get(scheduleEventId, scheduleResourceId)`.
pub(crate) fn get(ctx: &Ctx<'_>) -> Outcome {
    let event_id = ctx.req_int("scheduleEventId")?;
    let resource_id = ctx.req_int("scheduleResourceId")?;
    ctx.with_partner(|partner| {
        let index = position(partner, event_id, resource_id)?;
        Ok(partner.links[index].to_val())
    })
}

/// `scheduleEventResource.delete(scheduleEventId, scheduleResourceId)` → `null`.
pub(crate) fn delete(ctx: &Ctx<'_>) -> Outcome {
    let event_id = ctx.req_int("scheduleEventId")?;
    let resource_id = ctx.req_int("scheduleResourceId")?;
    ctx.with_partner(|partner| {
        let index = position(partner, event_id, resource_id)?;
        partner.links.remove(index);
        Ok(Val::Null)
    })
}

/// `scheduleEventResource.list(filter, pager)` → `KalturaScheduleEventResourceListResponse`.
pub(crate) fn list(ctx: &Ctx<'_>) -> Outcome {
    let filter = Filter::read(ctx.params);
    let pager = Pager::read(ctx.params);
    let (event_in, resource_in) = (filter.int_csv("eventIdIn"), filter.int_csv("resourceIdIn"));
    ctx.with_partner(|partner| {
        let mut found: Vec<&Record> = partner
            .links
            .iter()
            .filter(|link| list::eq_int(link, "eventId", filter.int("eventIdEqual")))
            .filter(|link| list::in_int(link, "eventId", event_in.as_deref()))
            .filter(|link| list::eq_int(link, "resourceId", filter.int("resourceIdEqual")))
            .filter(|link| list::in_int(link, "resourceId", resource_in.as_deref()))
            .collect();
        list::sort(&mut found, filter.order_by(), "+createdAt");
        Ok(list::response("KalturaScheduleEventResourceListResponse", found, pager))
    })
}
