//! Property tests: whatever arrives, the HTTP path answers a Kaltura result or error, never a crash.

use proptest::prelude::*;
use serde_json::Value;

use super::common::Harness;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |number| number.is_finite()).prop_map(Value::from),
        "[a-zA-Z0-9:{}_ ]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("KalturaUser"),
            Just("KalturaRecordScheduleEvent"),
            Just("KalturaScheduleResource"),
            Just("{1:result:id}")
        ]
        .prop_map(|text| Value::String(text.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-zA-Z:_]{1,10}",
                    Just("objectType".to_owned()),
                    Just("service".to_owned()),
                    Just("action".to_owned()),
                    Just("1".to_owned()),
                    Just("ks".to_owned()),
                ],
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

const PATHS: &[&str] = &[
    "/api_v3/service/user/action/add",
    "/api_v3/service/user/action/list",
    "/api_v3/service/schedule_scheduleevent/action/add",
    "/api_v3/service/schedule_scheduleresource/action/update",
    "/api_v3/service/session/action/start",
    "/api_v3/service/multirequest",
    "/api_v3/",
];

/// A response is an API answer: HTTP 200, and JSON when JSON was asked for, else XML.
fn assert_api_answer(status: u16, content_type: &str, body: &str) {
    assert_eq!(status, 200, "{body}");
    match content_type {
        "application/json" => {
            serde_json::from_str::<Value>(body).unwrap_or_else(|error| panic!("bad JSON ({error}): {body}"));
        }
        "text/xml" => assert!(
            body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><xml><result>") && body.ends_with("</xml>"),
            "{body}"
        ),
        other => panic!("unexpected content type {other}: {body}"),
    }
}

#[test]
fn arbitrary_json_bodies_get_api_answers() {
    let _trace = kalcord_test_util::trace_init();
    let runtime = runtime();
    let h = runtime.block_on(Harness::start());
    let ks = runtime.block_on(h.admin_ks(super::common::PID));
    let config = ProptestConfig { cases: 96, ..ProptestConfig::default() };
    proptest!(config, |(mut body in json_value(), path in prop::sample::select(PATHS), with_ks in any::<bool>(), json_format in any::<bool>())| {
        if let Value::Object(map) = &mut body {
            if with_ks {
                map.insert("ks".to_owned(), Value::String(ks.clone()));
            }
            map.insert("format".to_owned(), Value::from(if json_format { 1 } else { 2 }));
        }
        let reply = runtime.block_on(h.send("POST", path, Some("application/json"), body.to_string()));
        assert_api_answer(reply.status, &reply.content_type, &reply.body);
    });
    runtime.block_on(h.stop());
}

#[test]
fn arbitrary_bytes_get_api_answers() {
    let _trace = kalcord_test_util::trace_init();
    let runtime = runtime();
    let h = runtime.block_on(Harness::start());
    let config = ProptestConfig { cases: 96, ..ProptestConfig::default() };
    let content_types = prop_oneof![
        Just(None),
        Just(Some("application/json")),
        Just(Some("application/x-www-form-urlencoded")),
        Just(Some("multipart/form-data; boundary=x")),
        Just(Some("text/plain")),
    ];
    let bodies = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400),
        "[a-z0-9\\[\\]:=&%+{}\"]{0,300}".prop_map(String::into_bytes),
    ];
    proptest!(config, |(body in bodies, path in prop::sample::select(PATHS), content_type in content_types, query in "[a-zA-Z0-9=&%:\\[\\]_]{0,60}")| {
        let target = format!("{path}?{query}");
        let reply = runtime.block_on(h.send("POST", &target, content_type, body));
        assert_api_answer(reply.status, &reply.content_type, &reply.body);
    });
    runtime.block_on(h.stop());
}
