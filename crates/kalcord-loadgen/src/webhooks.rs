//! Signed Kaltura HTTP notifications (`KalturaHttpNotification`, JSON format), as a partner's
//! "entry status changed" template posts them: `X-KALTURA-SIGNATURE` is the hex digest of the
//! partner's admin secret followed by the body, the algorithm named by `X-KALTURA-HASH-ALGO`.

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use kalcord_kaltura::webhook::{HASH_ALGO_HEADER, HashAlgo, SIGNATURE_HEADER, sign};
use serde_json::json;

use crate::run::Prepared;

/// A notification that entry `0_lg{job}` of `partner_id` is READY, with its own dispatch job id
/// (so each is stored: redeliveries of one job are deduplicated).
#[must_use]
pub fn entry_ready(partner_id: i64, job: i64, secret: &str) -> Prepared {
    let entry_id = format!("0_lg{job:06}");
    let body = json!({
        "object": {
            "id": entry_id,
            "name": format!("Recording {job}"),
            "partnerId": partner_id,
            "userId": "kalcord",
            "status": 2,
            "mediaType": 1,
            "duration": 1_800,
            "msDuration": 1_800_000,
            "referenceId": "",
            "createdAt": 1_796_000_000 + job,
            "updatedAt": 1_796_000_600 + job,
            "objectType": "KalturaMediaEntry",
        },
        "eventObjectType": 1,
        "eventNotificationJobId": job,
        "templateId": 7_001,
        "templateName": "Entry Status Changed",
        "templateSystemName": "HTTP_ENTRY_STATUS_CHANGED",
        "eventType": 3,
        "objectType": "KalturaHttpNotification",
    })
    .to_string();
    let signature = sign(secret, body.as_bytes(), HashAlgo::Sha256);
    Prepared {
        body: Bytes::from(body),
        headers: vec![
            (
                HeaderName::from_static(SIGNATURE_HEADER),
                HeaderValue::from_str(&signature).expect("hex is a header value"),
            ),
            (HeaderName::from_static(HASH_ALGO_HEADER), HeaderValue::from_static("sha256")),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_covers_secret_then_body() {
        let prepared = entry_ready(4_200_001, 17, "secret");
        let signature = prepared.headers[0].1.to_str().unwrap();
        assert_eq!(signature, sign("secret", &prepared.body, HashAlgo::Sha256));
        assert_ne!(signature, sign("other", &prepared.body, HashAlgo::Sha256));
        assert!(std::str::from_utf8(&prepared.body).unwrap().contains("\"eventNotificationJobId\":17"));
    }
}
