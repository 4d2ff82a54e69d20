//! Rooms, classrooms and webinars created by the client, entered through the emulator's KAF.

use std::time::Duration;

use kalcord_kaltura::{DisplayIdentity, JoinRole, JoinTarget, MediaFilter, RoomKind, RoomSpec, Schedule, WebinarSpec};
use kalcord_kaltura_emulator::{RecordingRequest, RoomRole};

use super::common::{Harness, PARTNER};

const TTL: Duration = Duration::from_secs(300);

fn schedule() -> Schedule {
    let now =
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap();
    Schedule { start: now + 60, end: now + 3660 }
}

fn spec(kind: RoomKind, scheduled: bool) -> RoomSpec {
    RoomSpec {
        description: Some("Weekly sync".into()),
        kind,
        name: "Team Sync".into(),
        owner_id: Some("discord-1".into()),
        reference_id: "meeting-0193".into(),
        schedule: scheduled.then(schedule),
        auto_record: true,
    }
}

async fn enter(url: &url::Url) -> (u16, String) {
    let response = reqwest::get(url.clone()).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn scheduled_classroom_host_and_attendee_enter_with_their_roles() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let room = h.client.create_room(&spec(RoomKind::VirtualClassroom, true)).await.unwrap();
    assert_eq!(h.calls("multirequest", ""), 1, "one round trip for resource, event and link");
    let event = room.event.as_ref().unwrap();
    assert_eq!(
        room.resource.tags.as_deref(),
        Some("vcprovider:newrow,custom_rs_class_mode:virtual_classroom,custom_rec_auto_start:1")
    );
    assert_eq!((event.status, event.reference_id.as_deref()), (2, Some("meeting-0193")));
    assert_eq!(room.target(), JoinTarget::Event(event.id));

    let host = DisplayIdentity {
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        ..DisplayIdentity::default()
    };
    let url = h.client.join_url("discord-1", room.target(), JoinRole::Host, &host, TTL);
    assert_eq!(enter(&url).await.0, 200);
    let attendee = DisplayIdentity { first_name: Some("Max,role:adminRole".into()), ..DisplayIdentity::default() };
    let url = h.client.join_url("discord-2", room.target(), JoinRole::Attendee, &attendee, TTL);
    assert_eq!(enter(&url).await.0, 200);

    let launches = h.state().launches();
    let roles: Vec<_> = launches.iter().map(|l| (l.user_id.clone().unwrap(), l.role)).collect();
    assert_eq!(
        roles,
        [("discord-1".to_owned(), Some(RoomRole::Host)), ("discord-2".to_owned(), Some(RoomRole::Attendee))]
    );
    assert_eq!(launches[0].room_name.as_deref(), Some("Team Sync"));

    h.client.cancel_event(event.id).await.unwrap();
    let url = h.client.join_url("discord-2", room.target(), JoinRole::Attendee, &attendee, TTL);
    assert_ne!(enter(&url).await.0, 200, "a cancelled meeting cannot be entered");
    assert_eq!(h.client.delete_event(event.id).await.unwrap().status, 3, "deleted");
    assert_eq!(h.client.delete_resource(room.resource.id).await.unwrap().status, 3, "deleted");
    h.stop().await;
}

#[tokio::test]
async fn open_meeting_room_is_joined_by_resource() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let room = h.client.create_room(&spec(RoomKind::MeetingRoom, false)).await.unwrap();
    assert!(room.event.is_none());
    assert_eq!(room.target(), JoinTarget::Resource(room.resource.id));
    let url = h.client.join_url("discord-3", room.target(), JoinRole::Moderator, &DisplayIdentity::default(), TTL);
    assert_eq!(enter(&url).await.0, 200);
    assert_eq!(h.state().launches()[0].role, Some(RoomRole::Moderator));
    h.client.delete_room(&room).await.unwrap();
    assert_ne!(enter(&url).await.0, 200, "a deleted room cannot be entered");
    h.stop().await;
}

#[tokio::test]
async fn an_expired_join_link_is_refused() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let room = h.client.create_room(&spec(RoomKind::MeetingRoom, false)).await.unwrap();
    let url = h.client.join_url(
        "discord-4",
        room.target(),
        JoinRole::Attendee,
        &DisplayIdentity::default(),
        Duration::from_secs(60),
    );
    h.state().advance_clock(120);
    let (status, page) = enter(&url).await;
    assert_ne!(status, 200, "{page}");
    h.stop().await;
}

#[tokio::test]
async fn webinar_is_a_live_stream_with_its_event() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let spec = WebinarSpec {
        description: None,
        name: "Launch Webinar".into(),
        owner_id: Some("discord-1".into()),
        reference_id: "meeting-0200".into(),
        schedule: schedule(),
        record: true,
    };
    let webinar = h.client.create_webinar(&spec).await.unwrap();
    assert_eq!(webinar.event.template_entry_id.as_deref(), Some(webinar.entry.id.as_str()));
    assert_eq!(webinar.event.object_type, "KalturaLiveStreamScheduleEvent");
    assert_eq!(
        h.client.get_live_stream(&webinar.entry.id).await.unwrap().reference_id.as_deref(),
        Some("meeting-0200")
    );
    let url = h.client.join_url("discord-5", webinar.target(), JoinRole::Attendee, &DisplayIdentity::default(), TTL);
    assert_eq!(enter(&url).await.0, 200);
    h.client.delete_webinar(&webinar).await.unwrap();
    assert!(h.client.get_live_stream(&webinar.entry.id).await.is_err());
    h.stop().await;
}

#[tokio::test]
async fn recordings_are_found_once_ready() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let room = h.client.create_room(&spec(RoomKind::MeetingRoom, true)).await.unwrap();
    let request = RecordingRequest {
        partner_id: PARTNER,
        resource_id: Some(room.resource.id),
        event_id: None,
        name: None,
        duration_seconds: Some(1800),
    };
    let entry_id = h.state().simulate_recording(&request).unwrap();
    let filter = MediaFilter { name_like: Some("Team Sync".into()), ..MediaFilter::default() };
    let ready = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let page = h.client.list_media(&filter, 30, 1).await.unwrap();
            if let Some(entry) = page.objects.iter().find(|e| e.id == entry_id && e.is_ready()) {
                return entry.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the recording becomes ready");
    assert_eq!(ready.duration, Some(1800));
    assert_eq!(h.client.get_media(&entry_id).await.unwrap().id, entry_id);
    h.stop().await;
}
