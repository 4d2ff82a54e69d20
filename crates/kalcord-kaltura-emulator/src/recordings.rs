//! Simulated meeting recordings: a media entry per recording, 7 → 1 → 2, webhooks at each change.

use std::sync::{Arc, Weak};

use crate::api::object::Record;
use crate::api::schema::MEDIA_ENTRY;
use crate::api::services::entry::{self, LIVE_STREAM, MEDIA_CLIP, NO_CONTENT, PRECONVERT, READY};
use crate::api::value::Val;
use crate::error::EmulatorError;
use crate::model::RecordingRequest;
use crate::state::{Inner, PartnerData};
use crate::webhooks::{Notification, notify};

const DEFAULT_DURATION_SECONDS: i64 = 60;
const DELETED: i64 = 3;

/// What was recorded, resolved from the request.
struct Target {
    room_key: String,
    room_name: String,
    root_entry_id: Option<String>,
    reference_id: Option<String>,
    owner: Option<String>,
}

/// Creates the entry (status 7) and starts its lifecycle; returns the entry id.
pub(crate) fn simulate(inner: &Arc<Inner>, request: &RecordingRequest) -> Result<String, EmulatorError> {
    let now = inner.now();
    let entry_id = {
        let mut world = inner.world.lock();
        let partner =
            world.partners.get_mut(&request.partner_id).ok_or(EmulatorError::UnknownPartner(request.partner_id))?;
        let target = resolve(partner, request)?;
        let count = partner.recordings_per_room.entry(target.room_key.clone()).or_insert(0);
        *count += 1;
        let name = request.name.clone().unwrap_or_else(|| format!("{} - Recording {count}", target.room_name));
        let mut record = entry::new_entry(&MEDIA_ENTRY, inner.next_seq(), request.partner_id, now, &inner.base_url);
        let entry_id = record.str("id").unwrap_or_default().to_owned();
        let live_root = target
            .root_entry_id
            .as_ref()
            .and_then(|root| partner.entries.get_mut(root))
            .filter(|root| root.int("type") == Some(LIVE_STREAM));
        let source_type = if live_root.is_some() { "36" } else { "1" };
        if let Some(live) = live_root {
            live.set("recordedEntryId", Val::Str(entry_id.clone()));
        }
        for (field, value) in [
            ("mediaType", Val::Int(1)),
            ("sourceType", Val::Str(source_type.to_owned())),
            ("name", Val::Str(name)),
            ("status", Val::Int(NO_CONTENT)),
            ("type", Val::Int(MEDIA_CLIP)),
            ("userId", target.owner.clone().map_or(Val::Null, Val::Str)),
            ("creatorId", target.owner.map_or(Val::Null, Val::Str)),
            ("referenceId", target.reference_id.map_or(Val::Null, Val::Str)),
        ] {
            record.set(field, value);
        }
        if let Some(root) = target.root_entry_id {
            record.set("rootEntryId", Val::Str(root));
        }
        partner.entries.insert(entry_id.clone(), record);
        entry_id
    };
    let duration = request.duration_seconds.filter(|seconds| *seconds > 0).unwrap_or(DEFAULT_DURATION_SECONDS);
    inner.spawn(lifecycle(Arc::downgrade(inner), request.partner_id, entry_id.clone(), duration));
    Ok(entry_id)
}

/// The room of the request: an event (named after its linked room, else its summary) or a resource.
fn resolve(partner: &PartnerData, request: &RecordingRequest) -> Result<Target, EmulatorError> {
    let partner_id = request.partner_id;
    let resource = |id: i64| partner.resources.get(&id).filter(|resource| resource.int("status") != Some(DELETED));
    let entry_exists = |id: &str| partner.entries.contains_key(id);
    if let Some(event_id) = request.event_id {
        let event = partner
            .events
            .get(&event_id)
            .filter(|event| event.int("status") != Some(DELETED))
            .ok_or(EmulatorError::NoSuchRoom { kind: "event", id: event_id, partner_id })?;
        let linked = request.resource_id.and_then(resource).or_else(|| {
            partner
                .links
                .iter()
                .filter(|link| link.int("eventId") == Some(event_id))
                .find_map(|link| resource(link.int("resourceId")?))
        });
        let room_name = linked.and_then(|room| room.str("name")).or_else(|| event.str("summary")).unwrap_or_default();
        return Ok(Target {
            room_key: format!("event:{event_id}"),
            room_name: room_name.to_owned(),
            root_entry_id: event.str("templateEntryId").filter(|id| entry_exists(id)).map(str::to_owned),
            reference_id: event.str("referenceId").map(str::to_owned),
            owner: event.str("ownerId").map(str::to_owned),
        });
    }
    let resource_id = request.resource_id.ok_or(EmulatorError::RecordingTarget)?;
    let room =
        resource(resource_id).ok_or(EmulatorError::NoSuchRoom { kind: "resource", id: resource_id, partner_id })?;
    Ok(Target {
        room_key: format!("resource:{resource_id}"),
        room_name: room.str("name").unwrap_or_default().to_owned(),
        root_entry_id: room.str("entryId").filter(|id| entry_exists(id)).map(str::to_owned),
        reference_id: None,
        owner: None,
    })
}

async fn lifecycle(inner: Weak<Inner>, partner_id: i64, entry_id: String, duration: i64) {
    let Some(step) = inner.upgrade().map(|inner| inner.settings.recording_step_delay) else {
        return;
    };
    tokio::time::sleep(step).await;
    if !transition(&inner, partner_id, &entry_id, PRECONVERT, &[]) {
        return;
    }
    tokio::time::sleep(step).await;
    let ready = [
        ("duration", Val::Int(duration)),
        ("msDuration", Val::Int(duration.saturating_mul(1000))),
        ("width", Val::Int(1280)),
        ("height", Val::Int(720)),
        ("flavorParamsIds", Val::Str("0".to_owned())),
    ];
    transition(&inner, partner_id, &entry_id, READY, &ready);
}

/// Moves the entry to `status` and notifies; false when the entry is gone.
fn transition(inner: &Weak<Inner>, partner_id: i64, entry_id: &str, status: i64, extra: &[(&str, Val)]) -> bool {
    let Some(inner) = inner.upgrade() else {
        return false;
    };
    let now = inner.now();
    let notification = {
        let mut world = inner.world.lock();
        let Some(record) = world.partners.get_mut(&partner_id).and_then(|partner| partner.entries.get_mut(entry_id))
        else {
            return false;
        };
        if record.int("status") == Some(DELETED) {
            return false;
        }
        record.set("status", Val::Int(status));
        record.set("updatedAt", Val::Int(now));
        for (name, value) in extra {
            record.set(name, value.clone());
        }
        notification_for(record, status)
    };
    notify(&inner, partner_id, &notification);
    true
}

fn notification_for(record: &Record, status: i64) -> Notification {
    Notification {
        entry: record.to_val(),
        entry_id: record.str("id").unwrap_or_default().to_owned(),
        name: record.str("name").unwrap_or_default().to_owned(),
        status,
        reference_id: record.str("referenceId").unwrap_or_default().to_owned(),
    }
}
