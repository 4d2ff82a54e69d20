//! `service=multirequest` (§1.7).

use serde_json::json;

use super::common::{Harness, PID, SECRET, assert_error};

#[tokio::test]
async fn nested_json_with_result_references() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let body = json!({
        "0": {"service": "session", "action": "start", "secret": SECRET, "type": 2, "partnerId": PID, "userId": "admin", "format": 2},
        "1": {"service": "schedule_scheduleresource", "action": "add", "ks": "{1:result}",
              "scheduleResource": {"name": "Room-1", "tags": "vcprovider:newrow", "objectType": "KalturaLocationScheduleResource"}},
        "2": {"service": "schedule_scheduleevent", "action": "add", "ks": "{1:result}",
              "scheduleEvent": {"objectType": "KalturaMeetingScheduleEvent", "summary": "Meet in {2:result:name}",
                                "startDate": 86_400, "endDate": 90_000, "recurrenceType": 0}},
        "3": {"service": "schedule_scheduleeventresource", "action": "add", "ks": "{1:result}",
              "scheduleEventResource": {"objectType": "KalturaScheduleEventResource", "eventId": "{3:result:id}", "resourceId": "{2:result:id}"}},
        "4": {"service": "schedule_scheduleresource", "action": "get", "ks": "{1:result}", "scheduleResourceId": "{9:result:id}"},
        "5": {"service": "schedule_scheduleevent", "action": "get", "ks": "{1:result}", "scheduleEventId": "{3:result:id}"},
        "format": 1, "apiVersion": "21.20.0", "clientTag": "node:25-07-20", "kalsig": "x"
    });
    let reply = h.post_json("multirequest", "null", &body).await;
    let results = reply.json();
    let results = results.as_array().unwrap_or_else(|| panic!("an array: {}", reply.body));
    assert_eq!(results.len(), 6);
    assert!(results[0].as_str().is_some_and(|ks| ks.starts_with("djJ8")), "{}", results[0]);
    assert_eq!(results[1]["name"], "Room-1");
    assert_eq!(results[2]["summary"], "Meet in Room-1");
    assert_eq!(results[2]["objectType"], "KalturaMeetingScheduleEvent");
    assert_eq!(
        (results[3]["eventId"].clone(), results[3]["resourceId"].clone()),
        (results[2]["id"].clone(), results[1]["id"].clone())
    );
    assert_error(&results[4], "INVALID_OBJECT_ID");
    assert_eq!(results[5]["id"], results[2]["id"]);
    h.stop().await;
}

#[tokio::test]
async fn flat_form_keys_inherit_the_top_level_ks_and_answer_xml_items() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let ks = h.admin_ks(PID).await;
    let room = h.add_room(&ks, "Flat").await;
    let form = format!(
        "ks={ks}&1:service=schedule_scheduleresource&1:action=get&1:scheduleResourceId={room}\
         &2:service=user&2:action=get&2:userId=nobody\
         &3:service=schedule_scheduleresource&3:action=get&3:scheduleResourceId=%7B1%3Aresult%3Aid%7D\
         &5:service=system&5:action=ping"
    );
    let reply = h.send("POST", "/api_v3/service/multirequest", Some("application/x-www-form-urlencoded"), form).await;
    assert_eq!(reply.content_type, "text/xml");
    let body = &reply.body;
    assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><xml><result><item><objectType>KalturaLocationScheduleResource</objectType>"), "{body}");
    assert!(body.contains("</item><item><error><code>INVALID_USER_ID</code>"), "{body}");
    assert_eq!(body.matches("<item><objectType>KalturaLocationScheduleResource</objectType>").count(), 2, "{body}");
    assert!(!body.contains("<item>1</item>"), "index 4 is missing so 5 never runs: {body}");
    h.stop().await;
}

#[tokio::test]
async fn sub_request_errors_do_not_stop_the_batch() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let body = json!({
        "1": {"service": "user", "action": "get", "userId": "x"},
        "2": {"service": "nosuch", "action": "get"},
        "3": {"service": "system", "action": "ping"},
        "4": {"service": "system", "action": "getTime", "ks": "{1:result:id}"},
        "format": 1
    });
    let reply = h.post_json("multirequest", "null", &body).await;
    let results = reply.json();
    assert_error(&results[0], "MISSING_KS");
    assert_error(&results[1], "SERVICE_DOES_NOT_EXISTS");
    assert_eq!(results[2], true);
    assert!(results[3].is_i64(), "{}", reply.body);
    assert!(reply.body.starts_with("[{\"code\":\"MISSING_KS\""), "{}", reply.body);
    h.stop().await;
}
