//! Rooms and events: `schedule_*` and `livestream` (§3).

use serde_json::json;

use super::common::{Harness, PID, assert_error};

#[tokio::test]
async fn resources_lifecycle_and_filters() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let ks = h.admin_ks(PID).await;
    let first = h.add_room(&ks, "Room-1").await;
    let second = h.add_room(&ks, "Room-2").await;
    let updated = h
        .call(
            "schedule_scheduleresource",
            "update",
            json!({"ks": ks, "scheduleResourceId": first,
            "scheduleResource": {"objectType": "KalturaLocationScheduleResource", "description": "Updated",
            "tags": "vcprovider:newrow,custom_rec_auto_start:1"}}),
        )
        .await;
    assert_eq!((updated["description"].as_str(), updated["name"].as_str()), (Some("Updated"), Some("Room-1")));
    let status = h
        .call(
            "schedule_scheduleresource",
            "update",
            json!({"ks": ks, "scheduleResourceId": first,
            "scheduleResource": {"objectType": "KalturaLocationScheduleResource", "status": 1}}),
        )
        .await;
    assert_eq!(
        assert_error(&status, "PROPERTY_VALIDATION_NOT_UPDATABLE")["args"]["PROP_NAME"],
        "KalturaLocationScheduleResource::status"
    );
    let by_tag = h.call("schedule_scheduleresource", "list", json!({"ks": ks, "filter": {"objectType": "KalturaScheduleResourceFilter", "tagsLike": "custom_rec_auto_start"}})).await;
    assert_eq!((by_tag["totalCount"].as_i64(), by_tag["objects"][0]["id"].as_i64()), (Some(1), Some(first)));
    let by_name =
        h.call("schedule_scheduleresource", "list", json!({"ks": ks, "filter": {"nameEqual": "Room-2"}})).await;
    assert_eq!(by_name["objects"][0]["id"], second);
    let live_only = h
        .call(
            "schedule_scheduleresource",
            "list",
            json!({"ks": ks, "filter": {"objectType": "KalturaLiveEntryScheduleResourceFilter"}}),
        )
        .await;
    assert_eq!(live_only["totalCount"], 0);
    let deleted = h.call("schedule_scheduleresource", "delete", json!({"ks": ks, "scheduleResourceId": second})).await;
    assert_eq!(deleted["status"], 3);
    let gone = h.call("schedule_scheduleresource", "get", json!({"ks": ks, "scheduleResourceId": second})).await;
    assert_eq!(assert_error(&gone, "INVALID_OBJECT_ID")["message"], format!("Invalid object id [{second}]"));
    assert_eq!(h.call("schedule_scheduleresource", "list", json!({"ks": ks})).await["totalCount"], 1);
    let unnamed = h
        .call(
            "schedule_scheduleresource",
            "add",
            json!({"ks": ks, "scheduleResource": {"objectType": "KalturaLocationScheduleResource", "tags": "x"}}),
        )
        .await;
    assert_eq!(
        assert_error(&unnamed, "PROPERTY_VALIDATION_CANNOT_BE_NULL")["message"],
        "The property \"KalturaLocationScheduleResource::name\" cannot be null"
    );
    let abstract_type =
        h.call("schedule_scheduleresource", "add", json!({"ks": ks, "scheduleResource": {"name": "x"}})).await;
    assert_eq!(
        assert_error(&abstract_type, "OBJECT_TYPE_ABSTRACT")["message"],
        "The object type \"KalturaScheduleResource\" is abstract, use one of the object implementations"
    );
    h.stop().await;
}

#[tokio::test]
async fn event_validation() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let ks = h.admin_ks(PID).await;
    let add = |event: serde_json::Value| json!({"ks": ks, "scheduleEvent": event});
    let base = || json!({"objectType": "KalturaRecordScheduleEvent", "summary": "S", "startDate": 2_000_000_000, "endDate": 2_000_003_600, "recurrenceType": 0});
    let mut missing = base();
    missing.as_object_mut().expect("object").remove("summary");
    let reply = h.call("schedule_scheduleevent", "add", add(missing)).await;
    assert_eq!(
        assert_error(&reply, "PROPERTY_VALIDATION_CANNOT_BE_NULL")["args"]["PROP_NAME"],
        "KalturaRecordScheduleEvent::summary"
    );
    let mut backwards = base();
    backwards["endDate"] = json!(1_999_999_000);
    let reply = h.call("schedule_scheduleevent", "add", add(backwards)).await;
    assert_eq!(
        assert_error(&reply, "INVALID_SCHEDULE_END_BEFORE_START")["message"],
        "End time [1999999000] must be after start time [2000000000]"
    );
    assert_eq!(reply["args"], json!({"START": "2000000000", "END": "1999999000"}));
    let mut no_end = base();
    no_end.as_object_mut().expect("object").remove("endDate");
    let reply = h.call("schedule_scheduleevent", "add", add(no_end.clone())).await;
    assert_eq!(assert_error(&reply, "PROPERTY_VALIDATION_CANNOT_BE_NULL")["args"]["PROP_NAME"], "endDate/duration");
    no_end["duration"] = json!(1800);
    let reply = h.call("schedule_scheduleevent", "add", add(no_end)).await;
    assert_eq!((reply["endDate"].as_i64(), reply["duration"].as_i64()), (Some(2_000_001_800), Some(1800)));
    let mut recurrence = base();
    recurrence["recurrenceType"] = json!("2");
    let reply = h.call("schedule_scheduleevent", "add", add(recurrence)).await;
    assert_eq!(assert_error(&reply, "INVALID_ENUM_VALUE")["args"]["PARAM_NAME"], "recurrenceType");
    let mut read_only = base();
    read_only["status"] = json!(1);
    let reply = h.call("schedule_scheduleevent", "add", add(read_only)).await;
    assert_error(&reply, "PROPERTY_VALIDATION_NOT_UPDATABLE");
    let mut unknown = base();
    unknown["objectType"] = json!("KalturaNoSuchEvent");
    assert_error(&h.call("schedule_scheduleevent", "add", add(unknown)).await, "INVALID_OBJECT_TYPE");
    let mut relative = base();
    relative["startDate"] = json!(3600);
    relative["endDate"] = json!(7200);
    let now = h.state().now();
    let reply = h.call("schedule_scheduleevent", "add", add(relative)).await;
    let start = reply["startDate"].as_i64().expect("start");
    assert!((now + 3600..=now + 3660).contains(&start), "relative times are offsets from now: {reply}");
    h.stop().await;
}

#[tokio::test]
async fn event_lifecycle_and_links() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let ks = h.admin_ks(PID).await;
    let room = h.add_room(&ks, "Room-1").await;
    let event = h.add_event(&ks, "Class").await;
    let update = json!({"ks": ks, "scheduleEventId": event, "scheduleEvent": {"objectType": "KalturaRecordScheduleEvent", "summary": "Class 2", "duration": 600}});
    let updated = h.call("schedule_scheduleevent", "update", update).await;
    assert_eq!(
        (updated["summary"].as_str(), updated["sequence"].as_i64(), updated["duration"].as_i64()),
        (Some("Class 2"), Some(2), Some(600))
    );
    let change_type = json!({"ks": ks, "scheduleEventId": event, "scheduleEvent": {"objectType": "KalturaRecordScheduleEvent", "recurrenceType": 1}});
    assert_error(&h.call("schedule_scheduleevent", "update", change_type).await, "PROPERTY_VALIDATION_NOT_UPDATABLE");
    let link = json!({"ks": ks, "scheduleEventResource": {"objectType": "KalturaScheduleEventResource", "eventId": event, "resourceId": room}});
    assert_eq!(h.call("schedule_scheduleeventresource", "add", link.clone()).await["eventId"], event);
    let duplicate = h.call("schedule_scheduleeventresource", "add", link).await;
    assert_eq!(
        assert_error(&duplicate, "SCHEDULE_EVENT_RESOURCE_ALREADY_EXISTS")["message"],
        format!("Schedule event resource already exists with eventId[{event}] and resourceId ({room})")
    );
    let bad_link = json!({"ks": ks, "scheduleEventResource": {"eventId": 1, "resourceId": room}});
    assert_eq!(
        assert_error(&h.call("schedule_scheduleeventresource", "add", bad_link).await, "INVALID_OBJECT_ID")["args"]["ID"],
        "1"
    );
    let by_room = h
        .call(
            "schedule_scheduleevent",
            "list",
            json!({"ks": ks, "filter": {"objectType": "KalturaScheduleEventFilter", "resourceIdEqual": room}}),
        )
        .await;
    assert_eq!(by_room["objects"][0]["id"], event);
    let links =
        h.call("schedule_scheduleeventresource", "list", json!({"ks": ks, "filter": {"eventIdEqual": event}})).await;
    assert_eq!(
        (links["totalCount"].as_i64(), links["objectType"].as_str()),
        (Some(1), Some("KalturaScheduleEventResourceListResponse"))
    );
    let ids = json!({"ks": ks, "scheduleEventId": event, "scheduleResourceId": room});
    assert_eq!(h.raw("schedule_scheduleeventresource", "delete", ids.clone()).await, "null");
    let again = h.call("schedule_scheduleeventresource", "delete", ids).await;
    assert_eq!(assert_error(&again, "INVALID_OBJECT_ID")["args"]["ID"], format!("{event},{room}"));
    let cancelled = h.call("schedule_scheduleevent", "cancel", json!({"ks": ks, "scheduleEventId": event})).await;
    assert_eq!(cancelled["status"], 1);
    assert_eq!(h.call("schedule_scheduleevent", "get", json!({"ks": ks, "scheduleEventId": event})).await["status"], 1);
    let deleted = h.call("schedule_scheduleevent", "delete", json!({"ks": ks, "scheduleEventId": event})).await;
    assert_eq!(deleted["status"], 3);
    assert_error(
        &h.call("schedule_scheduleevent", "get", json!({"ks": ks, "scheduleEventId": event})).await,
        "INVALID_OBJECT_ID",
    );
    h.stop().await;
}

#[tokio::test]
async fn webinars_use_live_stream_entries() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let ks = h.admin_ks(PID).await;
    let live = h
        .call("livestream", "add", json!({"ks": ks, "sourceType": "32", "liveStreamEntry": {"objectType": "KalturaLiveStreamEntry",
            "name": "Webinar", "mediaType": 201, "recordStatus": 1, "dvrStatus": 0, "viewMode": 1, "adminTags": "kms-webcast-event,kwebcast"}}))
        .await;
    let id = live["id"].as_str().expect("entry id").to_owned();
    assert!(
        id.len() == 10
            && id.starts_with("1_")
            && id[2..].chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(
        (live["type"].as_i64(), live["mediaType"].as_i64(), live["sourceType"].as_str()),
        (Some(7), Some(201), Some("32"))
    );
    assert_eq!((live["recordStatus"].as_i64(), live["objectType"].as_str()), (Some(1), Some("KalturaLiveStreamEntry")));
    let event = json!({"ks": ks, "scheduleEvent": {"objectType": "KalturaLiveStreamScheduleEvent", "templateEntryId": id,
        "summary": "Webinar", "startDate": 86_400, "endDate": 90_000, "recurrenceType": 0}});
    let event = h.raw("schedule_scheduleevent", "add", event).await;
    assert!(event.starts_with(&format!("{{\"templateEntryId\":\"{id}\",\"blackoutConflicts\":[],\"id\":")), "{event}");
    assert_eq!(h.call("livestream", "get", json!({"ks": ks, "entryId": id})).await["name"], "Webinar");
    let as_media = h.call("media", "get", json!({"ks": ks, "entryId": id})).await;
    assert_eq!(assert_error(&as_media, "ENTRY_ID_NOT_FOUND")["message"], format!("Entry id \"{id}\" not found"));
    assert_eq!(h.raw("livestream", "delete", json!({"ks": ks, "entryId": id})).await, "null");
    assert_error(&h.call("livestream", "get", json!({"ks": ks, "entryId": id})).await, "ENTRY_ID_NOT_FOUND");
    h.stop().await;
}
