//! The fake KAF host: `/virtualEvent/launch?ks=…` (§3.1).

use kalcord_kaltura_emulator::{RoomRole, SessionType};
use serde_json::json;

use super::common::{Harness, PID, PID2};

fn meta(page: &str, name: &str) -> Option<String> {
    let marker = format!("<meta name=\"{name}\" content=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_owned())
}

#[tokio::test]
async fn hosts_moderators_and_attendees_enter_rooms() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let admin = h.admin_ks(PID).await;
    let room = h.add_room(&admin, "Room-1").await;
    let early = h.user_ks("discord-3333", &format!("resourceId:{room},role:viewerRole,userContextualRole:3")).await;
    let page = h.get(&format!("/virtualEvent/launch?ks={early}")).await;
    assert_eq!((page.status, meta(&page.body, "kaltura-waiting").as_deref()), (200, Some("true")), "{}", page.body);
    let host = h
        .user_ks(
            "discord-1111",
            &format!("resourceId:{room},role:adminRole,userContextualRole:0,firstName:Max,lastName:Speaker"),
        )
        .await;
    let page = h.get(&format!("/virtualEvent/launch?ks={host}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.content_type.starts_with("text/html"));
    assert!(page.body.contains("<title>Kaltura Room: Room-1</title>"), "{}", page.body);
    assert!(page.body.contains("data-role=\"host\""));
    assert_eq!(meta(&page.body, "kaltura-room-id"), Some(room.to_string()));
    assert_eq!(meta(&page.body, "kaltura-user-id").as_deref(), Some("discord-1111"));
    assert_eq!(meta(&page.body, "kaltura-display-name").as_deref(), Some("Max Speaker"));
    assert_eq!(meta(&page.body, "kaltura-role").as_deref(), Some("host"));
    let moderator = h.user_ks("discord-2222", &format!("resourceId:{room},role:adminRole,userContextualRole:1")).await;
    assert_eq!(
        meta(&h.get(&format!("/virtualEvent/launch?ks={moderator}")).await.body, "kaltura-role").as_deref(),
        Some("moderator")
    );
    let page = h.get(&format!("/virtualEvent/launch?ks={early}")).await;
    assert_eq!(meta(&page.body, "kaltura-waiting").as_deref(), Some("false"), "a host is in now");
    let launches = h.state().launches();
    let roles: Vec<_> = launches.iter().map(|launch| (launch.user_id.as_deref(), launch.role)).collect();
    assert_eq!(
        roles,
        [
            (Some("discord-3333"), Some(RoomRole::Attendee)),
            (Some("discord-1111"), Some(RoomRole::Host)),
            (Some("discord-2222"), Some(RoomRole::Moderator)),
            (Some("discord-3333"), Some(RoomRole::Attendee)),
        ]
    );
    assert!(launches.iter().all(|launch| launch.status == 200 && launch.resource_id == Some(room)));
    h.stop().await;
}

#[tokio::test]
async fn event_launches_name_the_linked_room() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let admin = h.admin_ks(PID).await;
    let room = h.add_room(&admin, "Linked Room").await;
    let event = h.add_event(&admin, "Lecture").await;
    let attendee =
        h.user_ks("discord-4444", &format!("eventId:{event},role:viewerRole,userContextualRole:3,firstName:Max")).await;
    let page = h.get(&format!("/virtualEvent/launch?ks={attendee}")).await;
    assert_eq!(meta(&page.body, "kaltura-room-name").as_deref(), Some("Lecture"), "no room linked yet");
    let link = json!({"ks": admin, "scheduleEventResource": {"eventId": event, "resourceId": room}});
    h.call("schedule_scheduleeventresource", "add", link).await;
    let page = h.get(&format!("/virtualEvent/launch?ks={attendee}")).await;
    assert!(page.body.contains("<title>Kaltura Room: Linked Room</title>"), "{}", page.body);
    assert_eq!(meta(&page.body, "kaltura-room-kind").as_deref(), Some("event"));
    assert_eq!(meta(&page.body, "kaltura-room-id"), Some(event.to_string()));
    assert_eq!(meta(&page.body, "kaltura-role").as_deref(), Some("attendee"));
    let last = h.state().launches().pop().expect("recorded");
    assert_eq!((last.event_id, last.resource_id, last.display_name.as_deref()), (Some(event), Some(room), Some("Max")));
    h.stop().await;
}

#[tokio::test]
async fn launches_are_refused_with_clear_pages() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let admin = h.admin_ks(PID).await;
    let room = h.add_room(&admin, "Room").await;
    let event = h.add_event(&admin, "Cancelled").await;
    h.call("schedule_scheduleevent", "cancel", json!({"ks": admin, "scheduleEventId": event})).await;
    let plain = h.call("schedule_scheduleresource", "add", json!({"ks": admin, "scheduleResource": {"objectType": "KalturaLocationScheduleResource", "name": "Not KME"}})).await;
    let state = h.state();
    let mint = |privileges: String| state.mint_ks(PID, "discord-1", SessionType::User, &privileges, 600).expect("ks");
    let revoked = mint(format!("resourceId:{room}"));
    h.call("session", "end", json!({"ks": revoked})).await;
    let other_partner =
        state.mint_ks(PID2, "discord-1", SessionType::User, &format!("resourceId:{room}"), 600).expect("ks");
    let admin_session =
        state.mint_ks(PID, "admin", SessionType::Admin, &format!("resourceId:{room}"), 600).expect("ks");
    let expiring = mint(format!("resourceId:{room}"));
    let cases = [
        (String::new(), 400, "missing-ks"),
        ("?ks=garbage".to_owned(), 403, "invalid-ks"),
        (format!("?ks={revoked}"), 403, "ks-revoked"),
        (format!("?ks={admin_session}"), 403, "not-user-session"),
        (format!("?ks={}", mint("role:viewerRole".to_owned())), 400, "missing-room-privilege"),
        (format!("?ks={}", mint("resourceId:999".to_owned())), 400, "room-not-found"),
        (format!("?ks={other_partner}"), 400, "room-not-found"),
        (format!("?ks={}", mint(format!("eventId:{event}"))), 400, "event-cancelled"),
        (format!("?ks={}", mint(format!("resourceId:{}", plain["id"]))), 400, "not-a-meeting-room"),
        (format!("?ks={}", mint(format!("resourceId:{room},role:superRole"))), 400, "invalid-role"),
    ];
    for (query, status, code) in cases {
        let page = h.get(&format!("/virtualEvent/launch{query}")).await;
        assert_eq!(
            (page.status, meta(&page.body, "kaltura-error").as_deref()),
            (status, Some(code)),
            "{query}: {}",
            page.body
        );
    }
    state.advance_clock(601);
    let page = h.get(&format!("/virtualEvent/launch?ks={expiring}")).await;
    assert_eq!((page.status, meta(&page.body, "kaltura-error").as_deref()), (403, Some("ks-expired")));
    let launches = state.launches();
    assert_eq!(launches.len(), 11);
    assert!(launches.iter().all(|launch| launch.status != 200 && launch.error.is_some()));
    h.stop().await;
}
