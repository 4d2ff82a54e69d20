//! Webinars: a live stream entry plus a `KalturaLiveStreamScheduleEvent` about it.

use serde_json::json;

use crate::client::{Call, Client, Idempotency};
use crate::error::KalturaError;
use crate::join::JoinTarget;
use crate::model::{LiveStreamEntry, ScheduleEvent};
use crate::ops::room::Schedule;
use crate::ops::sub_result;

/// `KalturaSourceType::LIVE_STREAM`: Kaltura hosts the live stream.
const SOURCE_LIVE_STREAM: &str = "32";

/// What to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebinarSpec {
    /// Description.
    pub description: Option<String>,
    /// Title.
    pub name: String,
    /// Kaltura user who owns the event and its recording.
    pub owner_id: Option<String>,
    /// Our reference (the meeting id).
    pub reference_id: String,
    /// When it takes place.
    pub schedule: Schedule,
    /// Keep a recording of each session.
    pub record: bool,
}

/// A created webinar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webinar {
    /// The live stream.
    pub entry: LiveStreamEntry,
    /// Its scheduled event.
    pub event: ScheduleEvent,
}

impl Webinar {
    /// What join sessions name.
    #[must_use]
    pub fn target(&self) -> JoinTarget {
        JoinTarget::Event(self.event.id)
    }
}

impl Client {
    /// Creates the live stream and its scheduled event in one round trip; when the event
    /// cannot be created, the live stream is deleted again.
    ///
    /// # Errors
    ///
    /// An end before the start before anything is sent; API and transport errors.
    pub async fn create_webinar(&self, spec: &WebinarSpec) -> Result<Webinar, KalturaError> {
        if spec.schedule.end <= spec.schedule.start {
            return Err(KalturaError::InvalidArgument("a webinar's end must be after its start".to_owned()));
        }
        let entry = json!({
            "objectType": "KalturaLiveStreamEntry",
            "name": spec.name,
            "description": spec.description,
            "mediaType": 201,
            "recordStatus": if spec.record { 2 } else { 0 },
            "dvrStatus": 0,
            "referenceId": spec.reference_id,
            "adminTags": "kms-webcast-event,kwebcast",
        });
        let event = json!({
            "objectType": "KalturaLiveStreamScheduleEvent",
            "summary": spec.name,
            "description": spec.description,
            "startDate": spec.schedule.start,
            "endDate": spec.schedule.end,
            "recurrenceType": 0,
            "classificationType": 1,
            "referenceId": spec.reference_id,
            "ownerId": spec.owner_id,
            "templateEntryId": "{1:result:id}",
        });
        let calls = [
            Call {
                service: "livestream",
                action: "add",
                params: json!({ "liveStreamEntry": entry, "sourceType": SOURCE_LIVE_STREAM }),
            },
            Call { service: "schedule_scheduleevent", action: "add", params: json!({ "scheduleEvent": event }) },
        ];
        let mut results = self.multirequest(&calls, Idempotency::Unsafe).await?.into_iter();
        let mut next = || results.next().expect("one result per call");
        let entry: Result<LiveStreamEntry, _> = sub_result(next(), "livestream", "add");
        let event: Result<ScheduleEvent, _> = sub_result(next(), "schedule_scheduleevent", "add");
        match (entry, event) {
            (Ok(entry), Ok(event)) => Ok(Webinar { entry, event }),
            (Ok(entry), Err(err)) => {
                if let Err(cleanup) = self.delete_live_stream(&entry.id).await {
                    tracing::warn!(entry = %entry.id, error = %cleanup, "cleaning up a half-created webinar failed");
                }
                Err(err)
            }
            (Err(err), _) => Err(err),
        }
    }

    /// `liveStream.delete`.
    ///
    /// # Errors
    ///
    /// `ENTRY_ID_NOT_FOUND` when there is no such entry.
    pub async fn delete_live_stream(&self, entry_id: &str) -> Result<(), KalturaError> {
        let _: serde_json::Value =
            self.call("livestream", "delete", json!({ "entryId": entry_id }), Idempotency::Safe).await?;
        Ok(())
    }

    /// `liveStream.get`.
    ///
    /// # Errors
    ///
    /// `ENTRY_ID_NOT_FOUND` when there is no such entry.
    pub async fn get_live_stream(&self, entry_id: &str) -> Result<LiveStreamEntry, KalturaError> {
        self.call("livestream", "get", json!({ "entryId": entry_id }), Idempotency::Safe).await
    }

    /// Deletes a webinar: its event, then its live stream.
    ///
    /// # Errors
    ///
    /// The first deletion that fails.
    pub async fn delete_webinar(&self, webinar: &Webinar) -> Result<(), KalturaError> {
        self.delete_event(webinar.event.id).await?;
        self.delete_live_stream(&webinar.entry.id).await
    }
}
