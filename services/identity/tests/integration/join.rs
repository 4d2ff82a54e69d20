//! `identity.join`: personal launch links, minted locally, accepted by the KAF host.

use kalcord_kaltura::ks::SessionType;
use kalcord_kaltura_emulator::{Fault, FaultKind, RoomRole};
use kalcord_proto::subject;
use kalcord_proto::v1::{JoinReply, MeetingRole, RoleMapping, RoleMappingReply, RoleMappingRequest, join_reply};
use kalcord_store::entity::MeetingStatus;
use kalcord_store::repo::{identity_links, participants};

use super::common::{
    ADMINISTRATOR, DEFAULT_PARTNER, DEFAULT_SECRET, GUILD_A, GUILD_B, Harness, MANAGE_EVENTS, MANAGE_GUILD, ks_of,
    launch, member,
};

#[tokio::test]
async fn a_member_joins_a_live_meeting_as_attendee_with_a_user_ks() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let client = h.client(DEFAULT_PARTNER, DEFAULT_SECRET);
    let meeting = h.meeting(&client, GUILD_A, MeetingStatus::Live, true).await;
    let actor = member(GUILD_A, 501);

    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let join = h.join(&actor, &meeting).await.unwrap();
    assert_eq!(join.role(), MeetingRole::Attendee);
    assert_eq!((join.meeting_id.as_str(), join.meeting_title.as_str()), (meeting.as_str(), "Weekly Sync"));
    let expected = i64::try_from(before.as_millis()).unwrap() + 3_600_000;
    assert!((join.expires_at_unix_ms - expected).abs() < 10_000, "one hour (kaltura.ks_ttl default)");

    let ks = kalcord_kaltura::ks::decode(&ks_of(&join.launch_url), &[DEFAULT_SECRET]).unwrap();
    assert_eq!(ks.session_type, SessionType::User, "never an admin KS");
    assert_eq!((ks.partner_id, ks.user_id.as_str()), (DEFAULT_PARTNER, "discord-501"));
    assert!(ks.privileges.get("eventId").is_some());
    assert_eq!(ks.privileges.get("role"), Some("viewerRole"));
    assert_eq!(ks.privileges.get("userContextualRole"), Some("3"));
    assert_eq!(ks.privileges.get("firstName"), Some("Member 501"));

    assert_eq!(launch(&join.launch_url).await, 200);
    let launches = h.state().launches();
    let last = launches.last().unwrap();
    assert_eq!(last.role, Some(RoomRole::Attendee));
    assert_eq!(last.room_name.as_deref(), Some("Weekly Sync"));
    assert_eq!(last.user_id.as_deref(), Some("discord-501"));

    let link = identity_links::get(h.store.connection(), 501).await.unwrap().unwrap();
    assert_eq!(link.kaltura_user_id, "discord-501");
    let uuid = meeting.parse().unwrap();
    let participant = participants::get(h.store.connection(), uuid, 501).await.unwrap().unwrap();
    assert_eq!(participant.role, kalcord_store::entity::MeetingRole::Attendee);
    h.stop().await;
}

#[tokio::test]
async fn a_known_member_joins_again_without_any_kaltura_call() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let client = h.client(DEFAULT_PARTNER, DEFAULT_SECRET);
    let meeting = h.meeting(&client, GUILD_A, MeetingStatus::Live, true).await;
    let actor = member(GUILD_A, 502);
    h.join(&actor, &meeting).await.unwrap();
    let calls = h.state().requests().len();
    let again = h.join(&actor, &meeting).await.unwrap();
    assert_eq!(h.state().requests().len(), calls, "the second join made Kaltura calls");
    assert_eq!(launch(&again.launch_url).await, 200);
    let uuid = meeting.parse().unwrap();
    assert_eq!(participants::list(h.store.connection(), uuid).await.unwrap().len(), 1);

    // The same member in another meeting still needs no Kaltura call.
    let other = h.meeting(&client, GUILD_A, MeetingStatus::Live, false).await;
    let calls = h.state().requests().len();
    let join = h.join(&actor, &other).await.unwrap();
    assert_eq!(h.state().requests().len(), calls);
    let ks = kalcord_kaltura::ks::decode(&ks_of(&join.launch_url), &[DEFAULT_SECRET]).unwrap();
    assert!(ks.privileges.get("resourceId").is_some(), "an open room is named by its resource");
    assert!(ks.privileges.get("eventId").is_none());
    h.stop().await;
}

#[tokio::test]
async fn mapped_moderators_and_admin_hosts_get_their_roles_in_the_room() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let client = h.client(DEFAULT_PARTNER, DEFAULT_SECRET);
    let meeting = h.meeting(&client, GUILD_A, MeetingStatus::Live, true).await;
    let admin = kalcord_proto::v1::Actor { permissions: MANAGE_GUILD, ..member(GUILD_A, 1) };
    for (role_id, role, priority) in [(700, MeetingRole::Moderator, 5), (701, MeetingRole::Attendee, 1)] {
        let request = RoleMappingRequest {
            actor: Some(admin.clone()),
            mapping: Some(RoleMapping { discord_role_id: role_id, role: role.into(), priority }),
        };
        let reply: RoleMappingReply = h.ask(subject::IDENTITY_ROLES_MAP, &request).await;
        assert_eq!(reply.error, None);
    }

    let moderator = kalcord_proto::v1::Actor { role_ids: vec![701, 700], ..member(GUILD_A, 503) };
    let join = h.join(&moderator, &meeting).await.unwrap();
    assert_eq!(join.role(), MeetingRole::Moderator);
    let ks = kalcord_kaltura::ks::decode(&ks_of(&join.launch_url), &[DEFAULT_SECRET]).unwrap();
    assert_eq!((ks.privileges.get("role"), ks.privileges.get("userContextualRole")), (Some("adminRole"), Some("1")));
    assert_eq!(launch(&join.launch_url).await, 200);
    assert_eq!(h.state().launches().last().unwrap().role, Some(RoomRole::Moderator));

    // An administrator stays host even with a role mapped to attendee.
    let administrator =
        kalcord_proto::v1::Actor { role_ids: vec![701], permissions: ADMINISTRATOR, ..member(GUILD_A, 504) };
    let join = h.join(&administrator, &meeting).await.unwrap();
    assert_eq!(join.role(), MeetingRole::Host);
    assert_eq!(launch(&join.launch_url).await, 200);
    assert_eq!(h.state().launches().last().unwrap().role, Some(RoomRole::Host));

    let events = kalcord_proto::v1::Actor { permissions: MANAGE_EVENTS, ..member(GUILD_A, 505) };
    assert_eq!(h.join(&events, &meeting).await.unwrap().role(), MeetingRole::Host);

    // A role change counts from the next join: same member, role removed in Discord.
    let demoted = kalcord_proto::v1::Actor { role_ids: vec![], ..moderator.clone() };
    assert_eq!(h.join(&demoted, &meeting).await.unwrap().role(), MeetingRole::Attendee);
    let uuid = meeting.parse().unwrap();
    let row = participants::get(h.store.connection(), uuid, 503).await.unwrap().unwrap();
    assert_eq!(row.role, kalcord_store::entity::MeetingRole::Attendee, "the participant's role follows");
    h.stop().await;
}

#[tokio::test]
async fn meetings_of_other_guilds_unknown_and_ended_meetings_are_refused() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let client = h.client(DEFAULT_PARTNER, DEFAULT_SECRET);
    let meeting = h.meeting(&client, GUILD_A, MeetingStatus::Live, true).await;
    let outsider = member(GUILD_B, 601);
    assert_eq!(h.join(&outsider, &meeting).await.unwrap_err().code, "not_found");
    assert_eq!(h.join(&outsider, &uuid::Uuid::now_v7().to_string()).await.unwrap_err().code, "not_found");
    assert_eq!(h.join(&outsider, "not-a-uuid").await.unwrap_err().code, "not_found");

    let ended = h.meeting(&client, GUILD_A, MeetingStatus::Ended, true).await;
    let err = h.join(&member(GUILD_A, 602), &ended).await.unwrap_err();
    assert_eq!((err.code.as_str(), err.message.as_str()), ("conflict", "This meeting has ended."));
    let cancelled = h.meeting(&client, GUILD_A, MeetingStatus::Cancelled, true).await;
    assert_eq!(h.join(&member(GUILD_A, 602), &cancelled).await.unwrap_err().code, "conflict");

    // Garbage never panics the service; it answers `invalid`.
    let reply: JoinReply = h.ask_raw(subject::IDENTITY_JOIN, vec![0xff, 0xff, 0xff]).await;
    let Some(join_reply::Result::Error(err)) = reply.result else { panic!("expected an error") };
    assert_eq!(err.code, "invalid");
    let reply: JoinReply = h.ask_raw(subject::IDENTITY_JOIN, Vec::new()).await;
    let Some(join_reply::Result::Error(err)) = reply.result else { panic!("expected an error") };
    assert_eq!((err.code.as_str(), err.field.as_str()), ("invalid", "actor"));
    assert!(h.state().launches().is_empty());
    h.stop().await;
}

#[tokio::test]
async fn kaltura_failing_on_a_new_member_is_a_friendly_error() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let client = h.client(DEFAULT_PARTNER, DEFAULT_SECRET);
    let meeting = h.meeting(&client, GUILD_A, MeetingStatus::Live, true).await;
    h.state().inject_fault(Fault::new(FaultKind::Http503).on("user", Some("add")).times(100));
    let err = h.join(&member(GUILD_A, 701), &meeting).await.unwrap_err();
    assert_eq!(err.code, "kaltura_unavailable");
    assert!(identity_links::get(h.store.connection(), 701).await.unwrap().is_none());
    h.stop().await;
}

#[tokio::test]
async fn without_any_partner_joins_are_not_configured() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start(false).await;
    let client = h.client(DEFAULT_PARTNER, DEFAULT_SECRET);
    let meeting = h.meeting(&client, GUILD_A, MeetingStatus::Live, true).await;
    let err = h.join(&member(GUILD_A, 801), &meeting).await.unwrap_err();
    assert_eq!(err.code, "not_configured");
    h.stop().await;
}
