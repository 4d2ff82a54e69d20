//! Wire format: JSON/XML shapes byte-checked against the spec's samples, parameter sources.

use serde_json::json;

use super::common::{Harness, PID, SECRET, assert_error};

#[tokio::test]
async fn schedule_objects_match_the_spec_samples_byte_for_byte() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    h.state().set_now(Some(1_586_100_234));
    let ks = h.admin_ks(PID).await;
    let room = json!({"ks": ks, "scheduleResource": {"objectType": "KalturaLocationScheduleResource",
        "name": "Room-1", "description": "My first meeting room", "tags": "vcprovider:newrow"}});
    assert_eq!(
        h.raw("schedule_scheduleresource", "add", room).await,
        r#"{"id":1100601,"partnerId":1234567,"name":"Room-1","description":"My first meeting room","status":2,"tags":"vcprovider:newrow","createdAt":1586100234,"updatedAt":1586100234,"objectType":"KalturaLocationScheduleResource"}"#
    );
    h.state().set_now(Some(1_586_113_200));
    let event = json!({"ks": ks, "scheduleEvent": {"objectType": "KalturaRecordScheduleEvent",
        "summary": "Tomorrow's Event ", "startDate": 1_586_186_820, "endDate": 1_586_190_420, "recurrenceType": 0,
        "classificationType": 1, "ownerId": "vpaas@kaltura.com", "sequence": 11}});
    assert_eq!(
        h.raw("schedule_scheduleevent", "add", event).await,
        r#"{"blackoutConflicts":[],"id":3371011,"partnerId":1234567,"summary":"Tomorrow's Event ","status":2,"startDate":1586186820,"endDate":1586190420,"classificationType":1,"ownerId":"vpaas@kaltura.com","sequence":11,"recurrenceType":0,"duration":3600,"createdAt":1586113200,"updatedAt":1586113200,"objectType":"KalturaRecordScheduleEvent"}"#
    );
    let link = json!({"ks": ks, "scheduleEventResource": {"objectType": "KalturaScheduleEventResource",
        "eventId": 3_371_011, "resourceId": 1_100_601}});
    assert_eq!(
        h.raw("schedule_scheduleeventresource", "add", link).await,
        r#"{"eventId":3371011,"resourceId":1100601,"partnerId":1234567,"createdAt":1586113200,"updatedAt":1586113200,"objectType":"KalturaScheduleEventResource"}"#
    );
    h.stop().await;
}

#[tokio::test]
async fn xml_is_the_default_format() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let ks = h.admin_ks(PID).await;
    let id = h.add_room(&ks, "R&D <Room>").await;
    for query in ["", "&format=2"] {
        let reply = h
            .get(&format!(
                "/api_v3/service/schedule_scheduleresource/action/get?ks={ks}&scheduleResourceId={id}{query}"
            ))
            .await;
        assert_eq!((reply.status, reply.content_type.as_str()), (200, "text/xml"));
        let prefix = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><xml><result><objectType>KalturaLocationScheduleResource</objectType><id>{id}</id><parentId></parentId><partnerId>{PID}</partnerId><name>R&amp;D &lt;Room&gt;</name><systemName></systemName><description></description><status>2</status><tags>vcprovider:newrow</tags><createdAt>"
        );
        assert!(reply.body.starts_with(&prefix), "{}", reply.body);
        assert!(reply.body.contains("</updatedAt></result><executionTime>"), "{}", reply.body);
        assert!(reply.body.ends_with("</executionTime></xml>"));
    }
    let lean = h
        .get(&format!(
            "/api_v3/service/schedule_scheduleresource/action/get?ks={ks}&scheduleResourceId={id}&ignoreNull=1"
        ))
        .await;
    assert!(!lean.body.contains("<parentId>"), "{}", lean.body);
    let ks_xml = h.get(&format!("/api_v3/service/session/action/start?secret={SECRET}&partnerId={PID}&type=2")).await;
    assert!(ks_xml.body.contains("<result>djJ8"), "{}", ks_xml.body);
    let void = h.get(&format!("/api_v3/service/session/action/end?ks={ks}")).await;
    assert!(void.body.contains("<xml><result></result><executionTime>"), "{}", void.body);
    h.stop().await;
}

#[tokio::test]
async fn errors_have_the_server_shapes() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let user_ks = h.user_ks("discord-1111", "").await;
    let reply = h.post_json("elasticsearch_esearch", "searchEntry", &json!({"ks": user_ks, "format": 1})).await;
    assert_eq!(
        reply.body,
        r#"{"code":"SERVICE_FORBIDDEN","message":"The access to service [elasticsearch_esearch->searchEntry] is forbidden","objectType":"KalturaAPIException","args":{"SERVICE":"elasticsearch_esearch->searchEntry"}}"#
    );
    assert_eq!((reply.status, reply.headers["x-kaltura"].to_str().ok()), (200, Some("error-SERVICE_FORBIDDEN")));
    let ks = h.admin_ks(PID).await;
    assert_eq!(
        h.raw("user", "get", json!({"ks": ks, "userId": "nobody"})).await,
        r#"{"code":"INVALID_USER_ID","message":"Invalid user id","objectType":"KalturaAPIException","args":[]}"#
    );
    let xml = h.get(&format!("/api_v3/service/user/action/get?ks={ks}&userId=nobody")).await;
    assert!(
        xml.body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><xml><result><error><code>INVALID_USER_ID</code><message>Invalid user id</message><objectType>KalturaAPIException</objectType><args></args></error></result>"),
        "{}",
        xml.body
    );
    let xml =
        h.get(&format!("/api_v3/service/schedule_scheduleresource/action/get?ks={ks}&scheduleResourceId=42")).await;
    assert!(xml.body.contains("<error><code>INVALID_OBJECT_ID</code><message>Invalid object id [42]</message><objectType>KalturaAPIException</objectType><args><item><objectType>KalturaApiExceptionArg</objectType><name>ID</name><value>42</value></item></args></error>"), "{}", xml.body);
    let unknown = h.get("/api_v3/service/system/action/ping?format=3").await;
    assert_eq!(unknown.content_type, "text/xml");
    assert!(unknown.body.contains("<code>UNKNOWN_RESPONSE_FORMAT</code><message>Response format provided [3] is not recognized by server</message>"), "{}", unknown.body);
    h.stop().await;
}

#[tokio::test]
async fn service_and_action_names() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let ks = h.admin_ks(PID).await;
    let id = h.add_room(&ks, "Room-Case").await;
    let reply = h
        .get(&format!("/api_v3/service/Schedule_ScheduleResource/action/GET?ks={ks}&format=1&scheduleResourceId={id}"))
        .await;
    assert_eq!(reply.json()["name"], "Room-Case");
    let missing = h.call("virtualevent", "add", json!({"ks": ks})).await;
    assert_eq!(
        assert_error(&missing, "SERVICE_DOES_NOT_EXISTS")["message"],
        "Service \"virtualevent\" does not exists"
    );
    let missing = h.call("schedule_scheduleevent", "end", json!({"ks": ks})).await;
    assert_eq!(
        assert_error(&missing, "ACTION_DOES_NOT_EXISTS")["message"],
        "Action \"end\" does not exists for service \"schedule_scheduleevent\""
    );
    let reply = h.send("POST", "/api_v3/?format=1", Some("application/x-www-form-urlencoded"), "action=ping").await;
    assert_error(&reply.json(), "SERVICE_NOT_SPECIFIED");
    let reply = h.send("POST", "/api_v3/?format=1", Some("application/x-www-form-urlencoded"), "service=system").await;
    assert_error(&reply.json(), "ACTION_NOT_SPECIFIED");
    let reply = h
        .send("POST", "/api_v3/", Some("application/x-www-form-urlencoded"), "service=system&action=ping&format=1")
        .await;
    assert_eq!(reply.body, "true");
    let missing = h.call("schedule_scheduleresource", "get", json!({"ks": ks})).await;
    assert_eq!(
        assert_error(&missing, "MISSING_MANDATORY_PARAMETER")["message"],
        "Missing parameter \"scheduleResourceId\""
    );
    h.stop().await;
}

#[tokio::test]
async fn parameters_come_from_path_query_and_every_body_encoding() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let ks = h.admin_ks(PID).await;
    let form = "application/x-www-form-urlencoded";
    let brackets = format!(
        "ks={ks}&format=1&scheduleResource[objectType]=KalturaLocationScheduleResource&scheduleResource[name]=Form+Room&scheduleResource[tags]=vcprovider%3Anewrow"
    );
    let added =
        h.send("POST", "/api_v3/service/schedule_scheduleresource/action/add", Some(form), brackets).await.json();
    assert_eq!((added["name"].as_str(), added["tags"].as_str()), (Some("Form Room"), Some("vcprovider:newrow")));
    let colons = format!(
        "ks={ks}&format=1&scheduleResource:objectType=KalturaLocationScheduleResource&scheduleResource:name=Colon"
    );
    let added = h.send("POST", "/api_v3/service/schedule_scheduleresource/action/add", Some(form), colons).await.json();
    assert_eq!(added["name"], "Colon");
    let id = added["id"].as_i64().expect("id");
    let path = format!("/api_v3/service/schedule_scheduleresource/action/get/ks/{ks}/format/1/scheduleResourceId/{id}");
    assert_eq!(h.get(&path).await.json()["name"], "Colon");
    // NOTE: the query overrides the body.
    let overridden = h
        .send(
            "POST",
            &format!("/api_v3/service/schedule_scheduleresource/action/get?scheduleResourceId={id}&format=1"),
            Some(form),
            format!("ks={ks}&scheduleResourceId=1&format=2"),
        )
        .await;
    assert_eq!(overridden.json()["id"], id);
    // NOTE: `application/json; charset=utf-8` is not JSON to the server: the body is ignored.
    let body = json!({"secret": SECRET, "partnerId": PID, "type": 2}).to_string();
    let reply = h
        .send(
            "POST",
            "/api_v3/service/session/action/start?format=1",
            Some("application/json; charset=utf-8"),
            body.clone(),
        )
        .await;
    assert_eq!(assert_error(&reply.json(), "MISSING_MANDATORY_PARAMETER")["args"]["PARAM_NAME"], "secret");
    let reply = h.send("POST", "/api_v3/service/session/action/start?format=1", Some("Application/JSON"), body).await;
    assert!(reply.json().as_str().is_some_and(|ks| ks.starts_with("djJ8")), "{}", reply.body);
    let multipart = format!(
        "--BOUNDARY\r\nContent-Disposition: form-data; name=\"json\"\r\n\r\n{{\"ks\":\"{ks}\",\"format\":1,\"scheduleResourceId\":{id}}}\r\n--BOUNDARY--\r\n"
    );
    let reply = h
        .send(
            "POST",
            "/api_v3/service/schedule_scheduleresource/action/get",
            Some("multipart/form-data; boundary=BOUNDARY"),
            multipart,
        )
        .await;
    assert_eq!(reply.json()["id"], id);
    h.stop().await;
}

#[tokio::test]
async fn python_client_requests_get_xml_lists() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let ks = h.admin_ks(PID).await;
    let body = json!({"clientTag": "python-26-10-22", "apiVersion": "23.10.0", "format": "2",
        "filter": {"objectType": "KalturaMediaEntryFilter", "orderBy": "-createdAt", "rootEntryIdEqual": "0_room"},
        "pager": {"objectType": "KalturaFilterPager", "pageIndex": "1", "pageSize": "50"}, "ks": ks, "kalsig": "x"});
    let reply = h.post_json("media", "list", &body).await;
    assert_eq!(reply.content_type, "text/xml");
    assert!(
        reply.body.contains("<result><objectType>KalturaMediaListResponse</objectType><objects></objects><totalCount>0</totalCount></result>"),
        "{}",
        reply.body
    );
    h.stop().await;
}

#[tokio::test]
async fn lists_page_and_keep_their_shape() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let ks = h.admin_ks(PID).await;
    for index in 0..35 {
        h.call(
            "user",
            "add",
            json!({"ks": ks, "user": {"objectType": "KalturaUser", "id": format!("user-{index:02}")}}),
        )
        .await;
    }
    let page = h.raw("user", "list", json!({"ks": ks, "filter": {"objectType": "KalturaUserFilter"}})).await;
    assert!(page.starts_with("{\"objects\":[{\"type\":0,"), "{page}");
    assert!(page.ends_with("],\"totalCount\":35,\"objectType\":\"KalturaUserListResponse\"}"), "{page}");
    let page: serde_json::Value = serde_json::from_str(&page).expect("json");
    assert_eq!(page["objects"].as_array().map(Vec::len), Some(30));
    let second = h.call("user", "list", json!({"ks": ks, "pager": {"pageIndex": 2}})).await;
    assert_eq!(second["objects"].as_array().map(Vec::len), Some(5));
    assert_eq!(second["objects"][0]["id"], "user-30");
    let desc =
        h.call("user", "list", json!({"ks": ks, "filter": {"orderBy": "-createdAt", "idIn": "user-01,user-02"}})).await;
    assert_eq!((desc["objects"][0]["id"].as_str(), desc["totalCount"].as_i64()), (Some("user-02"), Some(2)));
    h.stop().await;
}
