//! The normalised notification the api-gateway stores on `kaltura.webhooks` and the meetings
//! service applies.

use super::{HttpNotification, Notification};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `KalturaEventNotificationEventObjectType`s whose object is an entry (ENTRY, `LIVE_STREAM`).
const ENTRY_OBJECT_TYPES: [&str; 2] = ["1", "38"];

/// Which body variant the notification came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    /// The JSON `KalturaHttpNotification` (raw, or url-encoded in `data=`).
    Object,
    /// `KalturaHttpNotificationDataFields`: form-encoded content parameters.
    Fields,
}

/// A verified Kaltura notification, normalised from either body variant; the JSON payload of
/// `kaltura.webhooks`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// Entry the notification is about: the object's id for entry objects, else its `entryId`;
    /// `entry_id` of a form body.
    pub entry_id: Option<String>,
    /// `KalturaEventNotificationEventObjectType` (`"1"` entry; plugin types are names).
    pub event_object_type: Option<String>,
    /// `KalturaEventNotificationEventType` (3 = object changed); absent from form bodies.
    pub event_type: Option<i64>,
    /// Body variant received.
    pub format: BodyFormat,
    /// Entry or object name (`entry_name` of a form body).
    pub name: Option<String>,
    /// Dispatch job (`eventNotificationJobId`); the same on a redelivery.
    pub notification_job_id: Option<i64>,
    /// The raw object (`object` of the JSON body; every field of a form body).
    pub object: Value,
    /// Id of the object.
    pub object_id: Option<String>,
    /// `objectType` of the object, e.g. `KalturaMediaEntry`.
    pub object_type: Option<String>,
    /// Partner whose admin secret signed the notification.
    pub partner_id: i64,
    /// When the gateway received it, milliseconds since the Unix epoch.
    pub received_at_unix_ms: i64,
    /// The entry's reference id (kalcord puts its meeting reference there), when not empty.
    pub reference_id: Option<String>,
    /// Object status (entry: 2 = ready, 7 = no content, 1 = converting).
    pub status: Option<i64>,
    /// Tenant of the URL: a guild id, or `default`.
    pub tenant: String,
    /// Template id.
    pub template_id: Option<i64>,
    /// Template system name, e.g. `HTTP_ENTRY_STATUS_CHANGED`.
    pub template_system_name: Option<String>,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn positive(value: i64) -> Option<i64> {
    (value > 0).then_some(value)
}

impl WebhookEvent {
    /// Normalises `notification`, signed by `partner_id`'s secret for `tenant`.
    #[must_use]
    pub fn new(tenant: &str, partner_id: i64, notification: &Notification, received_at_unix_ms: i64) -> Self {
        match notification {
            Notification::Object(object) => Self::from_object(tenant, partner_id, object, received_at_unix_ms),
            Notification::Fields(fields) => {
                let field = |name: &str| fields.get(name).filter(|value| !value.is_empty()).cloned();
                let entry_id = field("entry_id");
                Self {
                    entry_id: entry_id.clone(),
                    event_object_type: None,
                    event_type: field("event_type").and_then(|value| value.parse().ok()),
                    format: BodyFormat::Fields,
                    name: field("entry_name"),
                    notification_job_id: None,
                    object: serde_json::to_value(fields).unwrap_or(Value::Null),
                    object_id: entry_id,
                    object_type: None,
                    partner_id,
                    received_at_unix_ms,
                    reference_id: field("entry_reference_id"),
                    status: field("entry_status").and_then(|value| value.parse().ok()),
                    tenant: tenant.to_owned(),
                    template_id: None,
                    template_system_name: None,
                }
            }
        }
    }

    fn from_object(tenant: &str, partner_id: i64, notification: &HttpNotification, received_at: i64) -> Self {
        let object = &notification.object;
        let event_object_type = Some(notification.event_object_type.clone()).filter(|kind| !kind.is_empty());
        let object_type = text(object.get("objectType"));
        let is_entry = event_object_type.as_deref().is_some_and(|kind| ENTRY_OBJECT_TYPES.contains(&kind))
            || (event_object_type.is_none() && object_type.as_deref().is_some_and(|kind| kind.ends_with("Entry")));
        let object_id = text(object.get("id"));
        Self {
            entry_id: if is_entry { object_id.clone() } else { text(object.get("entryId")) },
            event_object_type,
            event_type: positive(notification.event_type),
            format: BodyFormat::Object,
            name: text(object.get("name")),
            notification_job_id: positive(notification.event_notification_job_id),
            object: object.clone(),
            object_id,
            object_type,
            partner_id,
            received_at_unix_ms: received_at,
            reference_id: text(object.get("referenceId")),
            status: text(object.get("status")).and_then(|status| status.parse().ok()),
            tenant: tenant.to_owned(),
            template_id: positive(notification.template_id),
            template_system_name: notification.template_system_name.clone().filter(|name| !name.is_empty()),
        }
    }

    /// Value of the `Kaltura-Event-Type` header: the event type number, else `unknown`.
    #[must_use]
    pub fn event_type_header(&self) -> String {
        self.event_type.map_or_else(|| "unknown".to_owned(), |kind| kind.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::{BodyFormat, WebhookEvent};
    use crate::webhook::parse;

    const BODY: &str = r#"{"object":{"id":"0_abc12345","name":"Rec","status":2,"referenceId":"","objectType":"KalturaMediaEntry"},"eventObjectType":1,"eventNotificationJobId":123,"templateId":456,"templateName":"Entry Ready","templateSystemName":"HTTP_ENTRY_STATUS_EQUALS","eventType":3,"objectType":"KalturaHttpNotification"}"#;

    #[test]
    fn object_bodies_keep_the_notification_fields() {
        let event = WebhookEvent::new("default", 42, &parse(BODY.as_bytes()).unwrap(), 7);
        assert_eq!(event.format, BodyFormat::Object);
        assert_eq!((event.event_type, event.event_object_type.as_deref()), (Some(3), Some("1")));
        assert_eq!((event.entry_id.as_deref(), event.object_id.as_deref()), (Some("0_abc12345"), Some("0_abc12345")));
        assert_eq!((event.status, event.reference_id.as_deref()), (Some(2), None));
        assert_eq!((event.notification_job_id, event.template_id), (Some(123), Some(456)));
        assert_eq!(event.object_type.as_deref(), Some("KalturaMediaEntry"));
        assert_eq!(event.object["name"], "Rec");
        assert_eq!(event.event_type_header(), "3");
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(serde_json::from_value::<WebhookEvent>(json).unwrap(), event);
    }

    #[test]
    fn non_entry_objects_name_their_entry() {
        let body = r#"{"object":{"id":"0_flavor","entryId":"0_entry","objectType":"KalturaFlavorAsset"},"eventObjectType":4,"eventType":3}"#;
        let event = WebhookEvent::new("1", 42, &parse(body.as_bytes()).unwrap(), 7);
        assert_eq!((event.entry_id.as_deref(), event.object_id.as_deref()), (Some("0_entry"), Some("0_flavor")));
    }

    #[test]
    fn form_bodies_are_read_as_entry_fields() {
        let body = b"entry_id=0_abc&entry_name=Room+1+-+Recording+1&entry_status=2&entry_reference_id=";
        let event = WebhookEvent::new("9", 42, &parse(body).unwrap(), 7);
        assert_eq!(event.format, BodyFormat::Fields);
        assert_eq!((event.entry_id.as_deref(), event.status), (Some("0_abc"), Some(2)));
        assert_eq!((event.name.as_deref(), event.reference_id.as_deref()), (Some("Room 1 - Recording 1"), None));
        assert_eq!((event.event_type, event.event_type_header().as_str()), (None, "unknown"));
        assert_eq!(event.object["entry_status"], "2");
    }
}
