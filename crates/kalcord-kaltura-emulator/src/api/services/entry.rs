//! `media` and `livestream`: entries (§3.3, §5).

use crate::api::dispatch::{Ctx, Outcome};
use crate::api::errors::ApiError;
use crate::api::list::{self, Filter, Pager};
use crate::api::object::Record;
use crate::api::schema::{Class, LIVE_STREAM_ENTRY};
use crate::api::value::Val;
use crate::state::PartnerData;

/// `KalturaEntryStatus::PRECONVERT`.
pub(crate) const PRECONVERT: i64 = 1;
/// `KalturaEntryStatus::READY`.
pub(crate) const READY: i64 = 2;
/// `KalturaEntryStatus::DELETED`.
const DELETED: i64 = 3;
/// `KalturaEntryStatus::NO_CONTENT`.
pub(crate) const NO_CONTENT: i64 = 7;
/// `KalturaEntryType::MEDIA_CLIP`.
pub(crate) const MEDIA_CLIP: i64 = 1;
/// `KalturaEntryType::LIVE_STREAM`.
pub(crate) const LIVE_STREAM: i64 = 7;

/// `<dc>_<8 lowercase alphanumerics>`, like `1_9vga7lbm`.
pub(crate) fn new_entry_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = (0..8).map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())])).collect();
    format!("1_{suffix}")
}

/// A fresh entry with the server's defaults and URLs shaped like the real ones (on the emulator host).
pub(crate) fn new_entry(class: &'static Class, seq: u64, partner_id: i64, now: i64, base_url: &str) -> Record {
    let id = new_entry_id();
    let prefix = format!("{base_url}/p/{partner_id}/sp/{partner_id}00");
    let mut record = Record::new(class, seq);
    for (name, value) in [
        ("plays", Val::Int(0)),
        ("views", Val::Int(0)),
        ("dataUrl", Val::Str(format!("{prefix}/playManifest/entryId/{id}/format/url/protocol/http"))),
        ("flavorParamsIds", Val::Str(String::new())),
        ("id", Val::Str(id.clone())),
        ("partnerId", Val::Int(partner_id)),
        ("tags", Val::Str(String::new())),
        ("categories", Val::Str(String::new())),
        ("categoriesIds", Val::Str(String::new())),
        ("moderationStatus", Val::Int(6)),
        ("moderationCount", Val::Int(0)),
        ("createdAt", Val::Int(now)),
        ("updatedAt", Val::Int(now)),
        ("totalRank", Val::Int(0)),
        ("votes", Val::Int(0)),
        (
            "downloadUrl",
            Val::Str(format!("{prefix}/playManifest/entryId/{id}/format/download/protocol/http/flavorParamIds/0")),
        ),
        ("licenseType", Val::Int(-1)),
        ("version", Val::Int(0)),
        ("thumbnailUrl", Val::Str(format!("{prefix}/thumbnail/entry_id/{id}/version/100001"))),
        ("partnerSortValue", Val::Int(0)),
        ("rootEntryId", Val::Str(id)),
        ("operationAttributes", Val::Arr(Vec::new())),
        ("entitledUsersEdit", Val::Str(String::new())),
        ("entitledUsersPublish", Val::Str(String::new())),
        ("entitledUsersView", Val::Str(String::new())),
        ("capabilities", Val::Str(String::new())),
        ("displayInSearch", Val::Int(1)),
        ("blockAutoTranscript", Val::Bool(false)),
    ] {
        record.set(name, value);
    }
    record
}

/// An entry of `entry_type` that is not deleted, else `ENTRY_ID_NOT_FOUND`.
fn find_mut<'a>(partner: &'a mut PartnerData, id: &str, entry_type: i64) -> Result<&'a mut Record, ApiError> {
    partner
        .entries
        .get_mut(id)
        .filter(|entry| entry.int("type") == Some(entry_type) && entry.int("status") != Some(DELETED))
        .ok_or_else(|| ApiError::new("ENTRY_ID_NOT_FOUND", &[id]))
}

fn get_typed(ctx: &Ctx<'_>, entry_type: i64) -> Outcome {
    let id = ctx.req_str("entryId")?;
    ctx.with_partner(|partner| find_mut(partner, &id, entry_type).map(|entry| entry.to_val()))
}

fn delete_typed(ctx: &Ctx<'_>, entry_type: i64) -> Outcome {
    let id = ctx.req_str("entryId")?;
    ctx.with_partner(|partner| {
        let entry = find_mut(partner, &id, entry_type)?;
        entry.set("status", Val::Int(DELETED));
        entry.set("updatedAt", Val::Int(ctx.now));
        Ok(Val::Null)
    })
}

/// `media.get(entryId, version=-1)`.
pub(crate) fn media_get(ctx: &Ctx<'_>) -> Outcome {
    get_typed(ctx, MEDIA_CLIP)
}

/// `media.delete(entryId)` → `null`.
pub(crate) fn media_delete(ctx: &Ctx<'_>) -> Outcome {
    delete_typed(ctx, MEDIA_CLIP)
}

/// `media.list(filter, pager)` → `KalturaMediaListResponse`.
pub(crate) fn media_list(ctx: &Ctx<'_>) -> Outcome {
    list_typed(ctx, MEDIA_CLIP, "KalturaMediaListResponse")
}

/// `liveStream.get(entryId)`.
pub(crate) fn live_get(ctx: &Ctx<'_>) -> Outcome {
    get_typed(ctx, LIVE_STREAM)
}

/// `liveStream.delete(entryId)` → `null`.
pub(crate) fn live_delete(ctx: &Ctx<'_>) -> Outcome {
    delete_typed(ctx, LIVE_STREAM)
}

/// `liveStream.list(filter, pager)` → `KalturaLiveStreamListResponse`.
pub(crate) fn live_list(ctx: &Ctx<'_>) -> Outcome {
    list_typed(ctx, LIVE_STREAM, "KalturaLiveStreamListResponse")
}

/// `liveStream.add(liveStreamEntry, sourceType)`: type 7, mediaType 201, status READY.
pub(crate) fn live_add(ctx: &Ctx<'_>) -> Outcome {
    let input = ctx.req_object("liveStreamEntry", &LIVE_STREAM_ENTRY)?;
    input.validate_insert()?;
    let source_type = ctx.opt_str("sourceType").or_else(|| input.str("sourceType").map(str::to_owned));
    let user_id = ctx.caller.user_id().to_owned();
    ctx.with_partner(|partner| {
        let mut entry = new_entry(input.class, ctx.inner.next_seq(), partner.config.id, ctx.now, &ctx.inner.base_url);
        let id = entry.str("id").unwrap_or_default().to_owned();
        let mut password = [0u8; 4];
        rand::fill(&mut password);
        let publish =
            format!("rtmp://{}.p.kpublish.emulator:1935/kLive/?p={}&e={id}", partner.config.id, partner.config.id);
        for (name, value) in [
            ("mediaType", Val::Int(201)),
            ("sourceType", Val::Str(source_type.unwrap_or_else(|| "32".to_owned()))),
            ("type", Val::Int(LIVE_STREAM)),
            ("status", Val::Int(READY)),
            ("userId", Val::Str(user_id.clone())),
            ("creatorId", Val::Str(user_id)),
            ("recordStatus", Val::Int(0)),
            ("dvrStatus", Val::Int(0)),
            ("dvrWindow", Val::Int(120)),
            ("liveStatus", Val::Int(0)),
            ("explicitLive", Val::Bool(false)),
            ("primaryBroadcastingUrl", Val::Str(format!("{publish}&i=0"))),
            ("secondaryBroadcastingUrl", Val::Str(format!("{publish}&i=1"))),
            ("streamName", Val::Str(format!("{id}_%i"))),
            ("streamPassword", Val::Str(hex::encode(password))),
        ] {
            entry.set(name, value);
        }
        input.apply(&mut entry);
        entry.set("type", Val::Int(LIVE_STREAM));
        partner.entries.insert(id, entry.clone());
        Ok(entry.to_val())
    })
}

/// Lists entries of one type; without a status condition only READY ones (the server's default).
fn list_typed(ctx: &Ctx<'_>, entry_type: i64, response_class: &str) -> Outcome {
    let filter = Filter::read(ctx.params);
    let pager = Pager::read(ctx.params);
    let (id_in, status_in, tags_or) = (filter.csv("idIn"), filter.int_csv("statusIn"), filter.csv("tagsMultiLikeOr"));
    let (reference_in, root_in) = (filter.csv("referenceIdIn"), filter.csv("rootEntryIdIn"));
    let status_given = filter.int("statusEqual").is_some() || status_in.is_some();
    let (created_from, created_to) =
        (filter.int("createdAtGreaterThanOrEqual"), filter.int("createdAtLessThanOrEqual"));
    ctx.with_partner(|partner| {
        let mut found: Vec<&Record> = partner
            .entries
            .values()
            .filter(|entry| entry.int("type") == Some(entry_type))
            .filter(|entry| status_given || entry.int("status") == Some(READY))
            .filter(|entry| {
                list::eq_str(entry, "id", filter.str("idEqual")) && list::in_str(entry, "id", id_in.as_deref())
            })
            .filter(|entry| list::eq_int(entry, "status", filter.int("statusEqual")))
            .filter(|entry| list::in_int(entry, "status", status_in.as_deref()))
            .filter(|entry| list::like(entry, "name", filter.str("nameLike")))
            .filter(|entry| list::eq_str(entry, "name", filter.str("nameEqual")))
            .filter(|entry| list::eq_str(entry, "referenceId", filter.str("referenceIdEqual")))
            .filter(|entry| list::in_str(entry, "referenceId", reference_in.as_deref()))
            .filter(|entry| list::eq_str(entry, "rootEntryId", filter.str("rootEntryIdEqual")))
            .filter(|entry| list::in_str(entry, "rootEntryId", root_in.as_deref()))
            .filter(|entry| list::eq_str(entry, "parentEntryId", filter.str("parentEntryIdEqual")))
            .filter(|entry| list::eq_str(entry, "userId", filter.str("userIdEqual")))
            .filter(|entry| list::eq_int(entry, "mediaType", filter.int("mediaTypeEqual")))
            .filter(|entry| list::like(entry, "tags", filter.str("tagsLike")))
            .filter(|entry| list::like_any(entry, "tags", tags_or.as_deref()))
            .filter(|entry| created_from.is_none_or(|from| entry.int("createdAt").is_some_and(|at| at >= from)))
            .filter(|entry| created_to.is_none_or(|to| entry.int("createdAt").is_some_and(|at| at <= to)))
            .collect();
        list::sort(&mut found, filter.order_by(), "-createdAt");
        Ok(list::response(response_class, found, pager))
    })
}
