//! Sessions: `session.*`, KS validation and permissions (§2).

use kalcord_kaltura::ks::{self, KsSpec, Privileges, SessionType};
use serde_json::json;

use super::common::{Harness, PID, PID2, SECRET, SECRET_B, SECRET2, USER_SECRET, assert_error};

#[tokio::test]
async fn session_start_checks_secrets_and_signs_with_the_first_admin_secret() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let start = |secret: &str, session_type: i64, partner: serde_json::Value| json!({"secret": secret, "userId": "u1", "type": session_type, "partnerId": partner, "privileges": "role:viewerRole"});
    for (secret, session_type) in [(SECRET, 0), (SECRET, 2), (SECRET_B, 2), (USER_SECRET, 0)] {
        let minted = h.call("session", "start", start(secret, session_type, json!(PID))).await;
        let minted = minted.as_str().unwrap_or_else(|| panic!("{secret}/{session_type}: {minted}"));
        let parsed = ks::decode(minted, &[SECRET]).expect("signed with the first admin secret");
        assert_eq!((parsed.partner_id, parsed.user_id.as_str()), (PID, "u1"));
        assert_eq!(parsed.privileges.get("role"), Some("viewerRole"));
    }
    let refused = h.call("session", "start", start(USER_SECRET, 2, json!(PID))).await;
    assert_eq!(
        assert_error(&refused, "START_SESSION_ERROR")["message"],
        "Error while starting session for partner [1234567]"
    );
    assert_error(&h.call("session", "start", start("wrong", 0, json!(PID))).await, "START_SESSION_ERROR");
    let unknown = h.call("session", "start", start(SECRET, 2, json!("999"))).await;
    assert_eq!(assert_error(&unknown, "START_SESSION_ERROR")["args"]["PID"], "999");
    let no_partner = h.call("session", "start", json!({"secret": SECRET})).await;
    assert_eq!(assert_error(&no_partner, "START_SESSION_ERROR")["args"]["PID"], "");
    let widget = h.call("session", "start", start(SECRET, 1, json!(PID))).await;
    assert_eq!(
        assert_error(&widget, "INVALID_ENUM_VALUE")["message"],
        "Invalid enumeration value \"1\" for parameter \"type\", expecting enumeration type \"KalturaSessionType\""
    );
    h.stop().await;
}

#[tokio::test]
async fn expiry_is_clamped_and_reported_by_session_get() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    h.state().set_now(Some(1_700_000_000));
    let body = json!({"secret": SECRET2, "userId": "admin", "type": 2, "partnerId": PID2, "expiry": 86_400, "privileges": "sessionid:s1,disableentitlement"});
    let minted = h.call("session", "start", body).await;
    let minted = minted.as_str().expect("ks").to_owned();
    let info = h.raw("session", "get", json!({"ks": minted})).await;
    assert_eq!(
        info,
        format!(
            "{{\"ks\":\"{minted}\",\"sessionType\":2,\"partnerId\":7654321,\"userId\":\"admin\",\"expiry\":1700003600,\"privileges\":\"sessionid:s1,disableentitlement\",\"objectType\":\"KalturaSessionInfo\"}}"
        )
    );
    h.stop().await;
}

#[tokio::test]
async fn bad_sessions_get_invalid_ks() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    h.state().set_now(Some(1_700_000_000));
    let admin = h.admin_ks(PID).await;
    let swapped = if admin.as_bytes()[20] == b'A' { "B" } else { "A" };
    let tampered = format!("{}{swapped}{}", &admin[..20], &admin[21..]);
    let reply = h.call("user", "list", json!({"ks": tampered})).await;
    assert_eq!(reply["message"], format!("Invalid KS \"{tampered}\", Error \"-1,INVALID_STR\""));
    assert_eq!(reply["args"], json!({"KSID": tampered, "ERR_CODE": "-1", "ERR_DESC": "INVALID_STR"}));
    // NOTE: partner 2's id with partner 1's secret does not verify.
    let forged = ks::mint_v2(SECRET, &spec(PID2, SessionType::Admin, 1_700_086_400, &Privileges::new()), [7; 16]);
    assert_eq!(
        assert_error(&h.call("user", "list", json!({"ks": forged})).await, "INVALID_KS")["args"]["KSID"],
        forged
    );
    let unknown_v2 =
        ks::mint_v2(SECRET, &spec(424_242, SessionType::Admin, 1_700_086_400, &Privileges::new()), [7; 16]);
    assert_eq!(
        assert_error(&h.call("user", "list", json!({"ks": unknown_v2})).await, "INVALID_KS")["args"]["KSID"],
        unknown_v2
    );
    let unknown_v1 = ks::mint_v1(SECRET, &spec(424_242, SessionType::Admin, 1_700_086_400, &Privileges::new()), 42);
    let reply = h.call("user", "list", json!({"ks": unknown_v1})).await;
    assert_eq!(
        assert_error(&reply, "INVALID_KS")["message"],
        "Invalid KS \"INVALID_PARTNER\", Error \"-1,INVALID_STR\""
    );
    h.state().advance_clock(86_401);
    assert_eq!(
        h.raw("user", "list", json!({"ks": admin})).await,
        r#"{"code":"INVALID_KS","message":"Invalid KS \"EXPIRED\", Error \"-1,INVALID_STR\"","objectType":"KalturaAPIException","args":{"KSID":"EXPIRED","ERR_CODE":"-1","ERR_DESC":"INVALID_STR"}}"#
    );
    h.stop().await;
}

fn spec<'a>(partner_id: i64, session_type: SessionType, expiry: i64, privileges: &'a Privileges) -> KsSpec<'a> {
    KsSpec { expiry, partner_id, privileges, session_type, user_id: "admin" }
}

#[tokio::test]
async fn v1_sessions_and_every_admin_secret_verify() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let expiry = h.state().now() + 600;
    for secret in [SECRET, SECRET_B] {
        let legacy = ks::mint_v1(secret, &spec(PID, SessionType::Admin, expiry, &Privileges::new()), 4242);
        let list = h.call("user", "list", json!({"ks": legacy})).await;
        assert_eq!(list["objectType"], "KalturaUserListResponse", "{list}");
    }
    h.stop().await;
}

#[tokio::test]
async fn session_end_revokes_the_ks_and_its_session_id() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let start = |privileges: &str| json!({"secret": SECRET, "userId": "admin", "type": 2, "partnerId": PID, "privileges": privileges});
    let first = h.call("session", "start", start("sessionid:abc")).await.as_str().expect("ks").to_owned();
    let sibling = h.call("session", "start", start("sessionid:abc")).await.as_str().expect("ks").to_owned();
    let other = h.call("session", "start", start("sessionid:xyz")).await.as_str().expect("ks").to_owned();
    assert_eq!(h.raw("session", "end", json!({"ks": first})).await, "null");
    for revoked in [&first, &sibling] {
        let reply = h.call("user", "list", json!({"ks": revoked})).await;
        assert_eq!(assert_error(&reply, "INVALID_KS")["args"]["KSID"], "LOGOUT");
    }
    assert_eq!(h.call("user", "list", json!({"ks": other})).await["objectType"], "KalturaUserListResponse");
    assert_eq!(h.raw("session", "end", json!({})).await, "null", "session.end without a KS is a no-op");
    h.stop().await;
}

#[tokio::test]
async fn who_may_call_what() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let no_ks = h.call("user", "list", json!({"partnerId": PID})).await;
    assert_eq!(assert_error(&no_ks, "SERVICE_FORBIDDEN")["args"]["SERVICE"], "user->list");
    let no_partner = h.call("user", "list", json!({})).await;
    assert_eq!(assert_error(&no_partner, "MISSING_KS")["args"], json!([]));
    let user_ks = h.user_ks("discord-1111", "").await;
    let forbidden = h.call("schedule_scheduleresource", "list", json!({"ks": user_ks})).await;
    assert_eq!(
        assert_error(&forbidden, "SERVICE_FORBIDDEN")["message"],
        "The access to service [schedule_scheduleresource->list] is forbidden"
    );
    let other = h.call("user", "get", json!({"ks": user_ks, "userId": "someone-else"})).await;
    assert_eq!(
        assert_error(&other, "CANNOT_RETRIEVE_ANOTHER_USER_USING_NON_ADMIN_SESSION")["message"],
        "cannot retrieve another user \"someone-else\" using non-admin session"
    );
    let admin = h.admin_ks(PID).await;
    h.call("user", "add", json!({"ks": admin, "user": {"id": "discord-1111", "firstName": "Max"}})).await;
    let me = h.call("user", "get", json!({"ks": user_ks})).await;
    assert_eq!((me["id"].as_str(), me["firstName"].as_str()), (Some("discord-1111"), Some("Max")));
    let info = h.call("session", "get", json!({"ks": user_ks})).await;
    assert_eq!((info["sessionType"].as_i64(), info["userId"].as_str()), (Some(0), Some("discord-1111")));
    let other_info = h.call("session", "get", json!({"ks": admin, "session": user_ks})).await;
    assert_eq!(other_info["ks"], user_ks);
    h.stop().await;
}

#[tokio::test]
async fn partners_are_isolated() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let first = h.admin_ks(PID).await;
    let second = h.admin_ks(PID2).await;
    let room = h.add_room(&first, "Private").await;
    let foreign = h.call("schedule_scheduleresource", "get", json!({"ks": second, "scheduleResourceId": room})).await;
    assert_eq!(assert_error(&foreign, "INVALID_OBJECT_ID")["args"]["ID"], room.to_string());
    let listed = h.call("schedule_scheduleresource", "list", json!({"ks": second})).await;
    assert_eq!(listed["totalCount"], 0);
    let own = h.call("schedule_scheduleresource", "list", json!({"ks": first})).await;
    assert_eq!(own["totalCount"], 1);
    h.stop().await;
}
