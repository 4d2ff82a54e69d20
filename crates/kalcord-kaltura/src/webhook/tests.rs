//! The spec's worked signature example, and every body form.

use super::{HashAlgo, Notification, WebhookError, parse, sign, verify};

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const BODY: &str = r#"{"object":{"id":"0_abc12345","name":"Rec","status":2,"objectType":"KalturaMediaEntry"},"eventObjectType":1,"eventNotificationJobId":123,"templateId":456,"templateName":"Entry Ready","templateSystemName":"HTTP_ENTRY_STATUS_EQUALS","eventType":3,"objectType":"KalturaHttpNotification"}"#;

#[test]
fn worked_example_signatures() {
    assert_eq!(BODY.len(), 283);
    assert_eq!(sign(SECRET, BODY.as_bytes(), HashAlgo::Sha1), "b451c7190873e1edcd75146dbacbffb609570f4e");
    assert_eq!(
        sign(SECRET, BODY.as_bytes(), HashAlgo::Sha256),
        "c1fad898682fec53425e57b08accf38c25b0c19740a45710229fb619e72106b5"
    );
    assert_eq!(verify(SECRET, BODY.as_bytes(), Some("b451c7190873e1edcd75146dbacbffb609570f4e"), None), Ok(()));
    assert_eq!(
        verify(
            SECRET,
            BODY.as_bytes(),
            Some("C1FAD898682FEC53425E57B08ACCF38C25B0C19740A45710229FB619E72106B5"),
            Some("SHA256")
        ),
        Ok(())
    );
    let sha512 = sign(SECRET, BODY.as_bytes(), HashAlgo::Sha512);
    assert_eq!(sha512.len(), 128);
    assert_eq!(verify(SECRET, BODY.as_bytes(), Some(&sha512), Some("sha512")), Ok(()));
}

#[test]
fn wrong_missing_or_foreign_signatures_are_refused() {
    let good = sign(SECRET, BODY.as_bytes(), HashAlgo::Sha1);
    assert_eq!(verify("other secret", BODY.as_bytes(), Some(&good), None), Err(WebhookError::BadSignature));
    assert_eq!(verify(SECRET, b"tampered", Some(&good), None), Err(WebhookError::BadSignature));
    assert_eq!(verify(SECRET, BODY.as_bytes(), None, None), Err(WebhookError::MissingSignature));
    assert_eq!(verify(SECRET, BODY.as_bytes(), Some(" "), None), Err(WebhookError::MissingSignature));
    assert_eq!(verify(SECRET, BODY.as_bytes(), Some(&good), Some("sha256")), Err(WebhookError::BadSignature));
    assert!(matches!(verify(SECRET, BODY.as_bytes(), Some(&good), Some("md5")), Err(WebhookError::UnsupportedAlgo(_))));
}

#[test]
fn every_body_form_parses() {
    let Notification::Object(object) = parse(BODY.as_bytes()).unwrap() else { panic!("object form") };
    assert_eq!((object.event_type, object.event_object_type.as_str(), object.event_notification_job_id), (3, "1", 123));
    let entry = parse(BODY.as_bytes()).unwrap().entry().unwrap();
    assert_eq!((entry.entry_id.as_str(), entry.status), ("0_abc12345", Some(2)));

    let strings = BODY
        .replace("\"eventType\":3", "\"eventType\":\"3\"")
        .replace("\"eventObjectType\":1", "\"eventObjectType\":\"1\"");
    let Notification::Object(object) = parse(strings.as_bytes()).unwrap() else { panic!("object form") };
    assert_eq!((object.event_type, object.event_object_type.as_str()), (3, "1"), "enums as strings");

    let encoded: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("data", BODY).finish();
    assert!(matches!(parse(encoded.as_bytes()).unwrap(), Notification::Object(_)), "data=<url-encoded JSON>");

    let fields = parse(b"entry_id=0_abc&entry_name=My+Rec&entry_status=2&entry_reference_id=").unwrap();
    let entry = fields.entry().unwrap();
    assert_eq!(entry.entry_id, "0_abc");
    assert_eq!(entry.name.as_deref(), Some("My Rec"));
    assert_eq!((entry.status, entry.reference_id), (Some(2), None));
}

#[test]
fn junk_is_malformed_not_a_panic() {
    for junk in [&b""[..], b"{", b"{\"object\":", b"\xff\xfe", b"[1,2]", b"{\"eventType\":{}}"] {
        assert!(matches!(parse(junk), Err(WebhookError::Malformed(_))), "{junk:?}");
    }
}
