//! Nothing Kaltura (or an attacker posing as Kaltura) sends can make the client panic.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::time::Duration;

use kalcord_kaltura::ks::{self, Privileges};
use kalcord_kaltura::model::{ListResponse, MediaEntry, ScheduleEvent, User};
use kalcord_kaltura::{Client, ClientConfig, Idempotency, RetryPolicy, webhook};
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![Just("objectType"), Just("code"), Just("message"), Just("args"), Just("id"), Just("status")]
            .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("objectType".to_owned()),
                    Just("code".to_owned()),
                    Just("message".to_owned()),
                    Just("args".to_owned()),
                    Just("objects".to_owned()),
                    Just("status".to_owned()),
                    "[a-zA-Z]{1,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn ks_decoding_never_panics(text in ".{0,300}", bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = ks::decode(&text, &["secret"]);
        let _ = ks::peek_partner(&text);
        let encoded = base64_url(&bytes);
        let _ = ks::decode(&encoded, &["secret"]);
        let _ = ks::decode(&format!("djJ8MXw{encoded}"), &["secret"]);
    }

    #[test]
    fn privileges_parse_is_stable(text in ".{0,200}") {
        let once = Privileges::parse(&text).to_string();
        prop_assert_eq!(Privileges::parse(&once).to_string(), once);
    }

    #[test]
    fn webhook_parsing_never_panics(body in prop::collection::vec(any::<u8>(), 0..400), signature in ".{0,80}", algo in ".{0,10}") {
        let _ = webhook::parse(&body);
        let _ = webhook::verify("secret", &body, Some(&signature), Some(&algo));
        if let Ok(notification) = webhook::parse(&body) {
            let _ = notification.entry();
        }
    }

    #[test]
    fn models_decode_any_json_without_panicking(value in json_value()) {
        let _ = serde_json::from_value::<User>(value.clone());
        let _ = serde_json::from_value::<ScheduleEvent>(value.clone());
        let _ = serde_json::from_value::<ListResponse<MediaEntry>>(value.clone());
        let text = value.to_string();
        let _ = webhook::parse(text.as_bytes());
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    // NOTE: a cheap, dependency-free stand-in: hex is valid base64 input of the same alphabet.
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Serves each accepted connection one canned HTTP response with `body`.
fn canned_server(body: Vec<u8>, status: u16) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { return };
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            let mut request = [0u8; 8192];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

fn client(url: &str) -> Client {
    let mut config = ClientConfig::new(42, kalcord_config::Secret::new("secret"), url.parse().unwrap());
    config.retry =
        RetryPolicy { max_attempts: 1, base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(1) };
    config.timeout = Duration::from_secs(2);
    Client::new(config).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_answer_is_a_result_not_a_panic(body in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        json_value().prop_map(|v| v.to_string().into_bytes()),
    ], status in prop_oneof![Just(200u16), Just(500), Just(404)]) {
        kalcord_test_util::install_crypto();
        let url = canned_server(body, status);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let client = client(&url);
            let _ = client.get_user("discord-1").await;
            let _ = client.list_media(&kalcord_kaltura::MediaFilter::default(), 10, 1).await;
            let _ = client.call_value("session", "get", serde_json::json!({}), Idempotency::Safe).await;
        });
    }
}
