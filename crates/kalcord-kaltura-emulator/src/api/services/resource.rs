//! `schedule_scheduleresource`: rooms (§3.1).

use crate::api::dispatch::{Ctx, Outcome};
use crate::api::errors::ApiError;
use crate::api::list::{self, Filter, Pager};
use crate::api::object::Record;
use crate::api::schema::SCHEDULE_RESOURCE;
use crate::api::value::Val;
use crate::state::PartnerData;

/// `KalturaScheduleResourceStatus::ACTIVE`.
pub(crate) const ACTIVE: i64 = 2;
/// `KalturaScheduleResourceStatus::DELETED`.
const DELETED: i64 = 3;

/// A resource that is not deleted, else `INVALID_OBJECT_ID`.
pub(crate) fn find_mut(partner: &mut PartnerData, id: i64) -> Result<&mut Record, ApiError> {
    partner
        .resources
        .get_mut(&id)
        .filter(|resource| resource.int("status") != Some(DELETED))
        .ok_or_else(|| ApiError::invalid_id(&id.to_string()))
}

/// `scheduleResource.add(scheduleResource)`: `name` required, status ACTIVE.
pub(crate) fn add(ctx: &Ctx<'_>) -> Outcome {
    let input = ctx.req_object("scheduleResource", &SCHEDULE_RESOURCE)?;
    input.require("name")?;
    input.validate_insert()?;
    ctx.with_partner(|partner| {
        let id = ctx.inner.next_resource_id();
        let mut record = Record::new(input.class, ctx.inner.next_seq());
        input.apply(&mut record);
        for (name, value) in [
            ("id", Val::Int(id)),
            ("partnerId", Val::Int(partner.config.id)),
            ("status", Val::Int(ACTIVE)),
            ("createdAt", Val::Int(ctx.now)),
            ("updatedAt", Val::Int(ctx.now)),
        ] {
            record.set(name, value);
        }
        partner.resources.insert(id, record.clone());
        Ok(record.to_val())
    })
}

/// `scheduleResource.get(scheduleResourceId)`.
pub(crate) fn get(ctx: &Ctx<'_>) -> Outcome {
    let id = ctx.req_int("scheduleResourceId")?;
    ctx.with_partner(|partner| find_mut(partner, id).map(|record| record.to_val()))
}

/// `scheduleResource.update(scheduleResourceId, scheduleResource)`.
pub(crate) fn update(ctx: &Ctx<'_>) -> Outcome {
    let id = ctx.req_int("scheduleResourceId")?;
    let input = ctx.req_object("scheduleResource", &SCHEDULE_RESOURCE)?;
    ctx.with_partner(|partner| {
        let record = find_mut(partner, id)?;
        input.validate_update(record)?;
        input.apply(record);
        record.set("updatedAt", Val::Int(ctx.now));
        Ok(record.to_val())
    })
}

/// `scheduleResource.delete(scheduleResourceId)` → the resource, `status=3`.
pub(crate) fn delete(ctx: &Ctx<'_>) -> Outcome {
    let id = ctx.req_int("scheduleResourceId")?;
    ctx.with_partner(|partner| {
        let record = find_mut(partner, id)?;
        record.set("status", Val::Int(DELETED));
        record.set("updatedAt", Val::Int(ctx.now));
        Ok(record.to_val())
    })
}

/// `scheduleResource.list(filter, pager)` → `KalturaScheduleResourceListResponse`.
pub(crate) fn list(ctx: &Ctx<'_>) -> Outcome {
    let filter = Filter::read(ctx.params);
    let pager = Pager::read(ctx.params);
    let class = list::filter_class(filter);
    let (id_in, status_in, tags_or) =
        (filter.int_csv("idIn"), filter.int_csv("statusIn"), filter.csv("tagsMultiLikeOr"));
    let status_given = filter.int("statusEqual").is_some() || status_in.is_some();
    ctx.with_partner(|partner| {
        let mut found: Vec<&Record> = partner
            .resources
            .values()
            .filter(|record| class.is_none_or(|class| record.class.derives_from(class)))
            .filter(|record| status_given || record.int("status") != Some(DELETED))
            .filter(|record| list::eq_int(record, "id", filter.int("idEqual")))
            .filter(|record| list::in_int(record, "id", id_in.as_deref()))
            .filter(|record| list::eq_int(record, "parentId", filter.int("parentIdEqual")))
            .filter(|record| list::eq_str(record, "name", filter.str("nameEqual")))
            .filter(|record| list::eq_str(record, "systemName", filter.str("systemNameEqual")))
            .filter(|record| list::eq_int(record, "status", filter.int("statusEqual")))
            .filter(|record| list::in_int(record, "status", status_in.as_deref()))
            .filter(|record| list::like(record, "tags", filter.str("tagsLike")))
            .filter(|record| list::like_any(record, "tags", tags_or.as_deref()))
            .collect();
        list::sort(&mut found, filter.order_by(), "+createdAt");
        Ok(list::response("KalturaScheduleResourceListResponse", found, pager))
    })
}
