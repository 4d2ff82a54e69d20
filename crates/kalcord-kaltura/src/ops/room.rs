//! Meeting rooms and virtual classrooms on the schedule plugin (Kaltura Meetings, "newrow").
//!
//! A room is a `KalturaLocationScheduleResource` tagged `vcprovider:newrow`; a scheduled room
//! adds a `KalturaRecordScheduleEvent` linked to it by a `KalturaScheduleEventResource`, in one
//! multirequest. Members join through KAF with a USER KS naming the event (or the resource).

use serde_json::{Value, json};

use crate::client::{Call, Client, Idempotency};
use crate::error::KalturaError;
use crate::join::JoinTarget;
use crate::model::{ScheduleEvent, ScheduleEventResource, ScheduleResource};
use crate::ops::sub_result;

const RESOURCE: &str = "schedule_scheduleresource";
const EVENT: &str = "schedule_scheduleevent";
const EVENT_RESOURCE: &str = "schedule_scheduleeventresource";

/// Which Kaltura Meetings experience a room gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomKind {
    /// Interactive Meeting Room: everyone may speak.
    MeetingRoom,
    /// Virtual Classroom: an instructor leads, attendees join in.
    VirtualClassroom,
}

impl RoomKind {
    /// Room tags: the provider tag every Kaltura Meetings room needs, plus the class mode.
    #[must_use]
    pub fn tags(self) -> &'static str {
        match self {
            Self::MeetingRoom => "vcprovider:newrow",
            Self::VirtualClassroom => "vcprovider:newrow,custom_rs_class_mode:virtual_classroom",
        }
    }
}

/// When a scheduled room takes place, Unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Start.
    pub start: i64,
    /// End; must be after the start.
    pub end: i64,
}

/// What to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomSpec {
    /// Description.
    pub description: Option<String>,
    /// Kind.
    pub kind: RoomKind,
    /// Room name (shown to participants).
    pub name: String,
    /// Kaltura user who owns recordings.
    pub owner_id: Option<String>,
    /// Our reference (the meeting id), on the event.
    pub reference_id: String,
    /// Start and end; `None` creates an always-open room without an event.
    pub schedule: Option<Schedule>,
    /// Record automatically once the session starts.
    pub auto_record: bool,
}

/// A created room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    /// Its event, when scheduled.
    pub event: Option<ScheduleEvent>,
    /// The room itself.
    pub resource: ScheduleResource,
}

impl Room {
    /// What join sessions name: the event when there is one, else the resource.
    #[must_use]
    pub fn target(&self) -> JoinTarget {
        self.event.as_ref().map_or(JoinTarget::Resource(self.resource.id), |event| JoinTarget::Event(event.id))
    }
}

fn resource_object(spec: &RoomSpec) -> Value {
    let mut tags = spec.kind.tags().to_owned();
    if spec.auto_record {
        tags.push_str(",custom_rec_auto_start:1");
    }
    json!({
        "objectType": "KalturaLocationScheduleResource",
        "name": spec.name,
        "description": spec.description,
        "tags": tags,
    })
}

fn event_object(spec: &RoomSpec, schedule: Schedule) -> Value {
    json!({
        "objectType": "KalturaRecordScheduleEvent",
        "summary": spec.name,
        "description": spec.description,
        "startDate": schedule.start,
        "endDate": schedule.end,
        "recurrenceType": 0,
        "referenceId": spec.reference_id,
        "ownerId": spec.owner_id,
        "tags": spec.kind.tags(),
    })
}

impl Client {
    /// Creates a room (and, when scheduled, its event and the link) in one round trip.
    ///
    /// When part of a scheduled creation fails, what was created is deleted again.
    ///
    /// # Errors
    ///
    /// An end before the start before anything is sent; API and transport errors.
    pub async fn create_room(&self, spec: &RoomSpec) -> Result<Room, KalturaError> {
        let Some(schedule) = spec.schedule else {
            let params = json!({ "scheduleResource": resource_object(spec) });
            let resource = self.call(RESOURCE, "add", params, Idempotency::Unsafe).await?;
            return Ok(Room { event: None, resource });
        };
        if schedule.end <= schedule.start {
            return Err(KalturaError::InvalidArgument("a room's end must be after its start".to_owned()));
        }
        let calls = [
            Call { service: RESOURCE, action: "add", params: json!({ "scheduleResource": resource_object(spec) }) },
            Call { service: EVENT, action: "add", params: json!({ "scheduleEvent": event_object(spec, schedule) }) },
            Call {
                service: EVENT_RESOURCE,
                action: "add",
                params: json!({ "scheduleEventResource": {
                    "objectType": "KalturaScheduleEventResource",
                    "eventId": "{2:result:id}",
                    "resourceId": "{1:result:id}",
                }}),
            },
        ];
        let mut results = self.multirequest(&calls, Idempotency::Unsafe).await?.into_iter();
        let mut next = || results.next().expect("one result per call");
        let resource: Result<ScheduleResource, _> = sub_result(next(), RESOURCE, "add");
        let event: Result<ScheduleEvent, _> = sub_result(next(), EVENT, "add");
        let link: Result<ScheduleEventResource, _> = sub_result(next(), EVENT_RESOURCE, "add");
        let created = (resource.as_ref().ok().map(|r| r.id), event.as_ref().ok().map(|e| e.id));
        match (resource, event, link) {
            (Ok(resource), Ok(event), Ok(_)) => Ok(Room { event: Some(event), resource }),
            (resource, event, link) => {
                self.undo_room(created.0, created.1).await;
                let first_error = [resource.err(), event.err(), link.err()].into_iter().flatten().next();
                Err(first_error.expect("at least one part failed"))
            }
        }
    }

    async fn undo_room(&self, resource: Option<i64>, event: Option<i64>) {
        if let Some(event) = event
            && let Err(err) = self.delete_event(event).await
        {
            tracing::warn!(event, error = %err, "cleaning up a half-created room failed");
        }
        if let Some(resource) = resource
            && let Err(err) = self.delete_resource(resource).await
        {
            tracing::warn!(resource, error = %err, "cleaning up a half-created room failed");
        }
    }

    /// `scheduleEvent.cancel`: the event stays, with status cancelled (1); KAF refuses entry.
    ///
    /// # Errors
    ///
    /// `INVALID_OBJECT_ID` when there is no such event.
    pub async fn cancel_event(&self, event_id: i64) -> Result<ScheduleEvent, KalturaError> {
        self.call(EVENT, "cancel", json!({ "scheduleEventId": event_id }), Idempotency::Safe).await
    }

    /// `scheduleEvent.delete`.
    ///
    /// # Errors
    ///
    /// `INVALID_OBJECT_ID` when there is no such event.
    pub async fn delete_event(&self, event_id: i64) -> Result<ScheduleEvent, KalturaError> {
        self.call(EVENT, "delete", json!({ "scheduleEventId": event_id }), Idempotency::Safe).await
    }

    /// `scheduleResource.delete`.
    ///
    /// # Errors
    ///
    /// `INVALID_OBJECT_ID` when there is no such resource.
    pub async fn delete_resource(&self, resource_id: i64) -> Result<ScheduleResource, KalturaError> {
        self.call(RESOURCE, "delete", json!({ "scheduleResourceId": resource_id }), Idempotency::Safe).await
    }

    /// `scheduleEvent.get`.
    ///
    /// # Errors
    ///
    /// `INVALID_OBJECT_ID` when there is no such event.
    pub async fn get_event(&self, event_id: i64) -> Result<ScheduleEvent, KalturaError> {
        self.call(EVENT, "get", json!({ "scheduleEventId": event_id }), Idempotency::Safe).await
    }

    /// `scheduleResource.get`.
    ///
    /// # Errors
    ///
    /// `INVALID_OBJECT_ID` when there is no such resource.
    pub async fn get_resource(&self, resource_id: i64) -> Result<ScheduleResource, KalturaError> {
        self.call(RESOURCE, "get", json!({ "scheduleResourceId": resource_id }), Idempotency::Safe).await
    }

    /// Deletes a room: its event (if any) then the resource.
    ///
    /// # Errors
    ///
    /// The first deletion that fails.
    pub async fn delete_room(&self, room: &Room) -> Result<(), KalturaError> {
        if let Some(event) = &room.event {
            self.delete_event(event.id).await?;
        }
        self.delete_resource(room.resource.id).await.map(drop)
    }
}
