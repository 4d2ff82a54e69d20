//! Public records and knobs of the emulator (also the JSON of the admin API, in camelCase).

use serde::{Deserialize, Serialize};

/// A failure to inject into the next matching `api_v3` calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// Only calls to this service (case-insensitive); any when absent.
    #[serde(default)]
    pub service: Option<String>,
    /// Only calls to this action (case-insensitive); any when absent.
    #[serde(default)]
    pub action: Option<String>,
    /// How many calls fail (then the fault is gone).
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// The next call, whatever it is, fails with `kind`.
    #[must_use]
    pub fn new(kind: FaultKind) -> Self {
        Self { kind, service: None, action: None, count: 1 }
    }

    /// Only calls to `service.action` (`None` for any action of the service).
    #[must_use]
    pub fn on(mut self, service: &str, action: Option<&str>) -> Self {
        self.service = Some(service.to_owned());
        self.action = action.map(str::to_owned);
        self
    }

    /// The next `count` matching calls fail.
    #[must_use]
    pub fn times(mut self, count: u32) -> Self {
        self.count = count;
        self
    }
}

/// Kinds of injected failures.
///
/// API-level kinds apply to each call (every sub-request of a multirequest is a call);
/// HTTP-level kinds apply to each HTTP request (a multirequest is service `multirequest`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FaultKind {
    /// API error `ACTION_BLOCKED` (what the server's rate limiter answers), HTTP 200.
    #[serde(rename = "action_blocked")]
    ActionBlocked,
    /// API error `INVALID_KS` as for an expired KS, HTTP 200.
    #[serde(rename = "invalid_ks")]
    InvalidKs,
    /// HTTP 502 with an HTML body.
    #[serde(rename = "http_502")]
    Http502,
    /// HTTP 503 with an HTML body.
    #[serde(rename = "http_503")]
    Http503,
    /// Never answers (until the client gives up or the emulator stops).
    #[serde(rename = "hang")]
    Hang,
}

impl FaultKind {
    /// Whether the fault is an HTTP-level one.
    #[must_use]
    pub fn is_http(self) -> bool {
        matches!(self, Self::Http502 | Self::Http503 | Self::Hang)
    }
}

/// One logged `api_v3` HTTP request.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// Order of arrival, from 1.
    pub seq: u64,
    /// Emulator clock (Unix seconds) at arrival.
    pub at: i64,
    /// HTTP method.
    pub method: String,
    /// Path, as sent.
    pub path: String,
    /// Query string, as sent.
    pub query: String,
    /// Service id, lowercased (`multirequest` for multirequests).
    pub service: Option<String>,
    /// Action, lowercased.
    pub action: Option<String>,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// Merged parameters; values of keys containing `secret` or `password` are `***`, the KS is kept.
    pub params: serde_json::Value,
}

/// The in-room role a KAF launch resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomRole {
    /// `role:adminRole` with `userContextualRole:0`.
    Host,
    /// `role:adminRole` with any other contextual role.
    Moderator,
    /// `role:viewerRole`.
    Attendee,
}

impl RoomRole {
    /// `host`, `moderator` or `attendee`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Moderator => "moderator",
            Self::Attendee => "attendee",
        }
    }
}

/// One `GET /virtualEvent/launch` on the fake KAF host, successful or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KafLaunch {
    /// Order, from 1.
    pub seq: u64,
    /// Emulator clock at the launch.
    pub at: i64,
    /// HTTP status answered (200 on success).
    pub status: u16,
    /// Machine-readable reason of a refusal (`ks-expired`, `room-not-found`, ...).
    pub error: Option<String>,
    /// Partner of the KS, when it could be read.
    pub partner_id: Option<i64>,
    /// User id of the KS.
    pub user_id: Option<String>,
    /// `firstName lastName`, or the user id.
    pub display_name: Option<String>,
    /// The `role` privilege (`adminRole`, `viewerRole`).
    pub kaltura_role: Option<String>,
    /// The `userContextualRole` privilege.
    pub user_contextual_role: Option<i64>,
    /// The role the user got in the room.
    pub role: Option<RoomRole>,
    /// `eventId` privilege.
    pub event_id: Option<i64>,
    /// `resourceId` privilege, or the resource linked to the event.
    pub resource_id: Option<i64>,
    /// Room name (resource name, else event summary).
    pub room_name: Option<String>,
}

/// Hash of webhook signatures (`X-KALTURA-HASH-ALGO`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgo {
    /// SHA-1 (the server's default).
    #[default]
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl HashAlgo {
    /// Header value: `sha1`, `sha256`, `sha512`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }
}

/// Body of webhook notifications.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// `KalturaHttpNotificationObjectData` with JSON format: the raw `KalturaHttpNotification` JSON.
    #[default]
    Object,
    /// `KalturaHttpNotificationDataFields`: `entry_id=..&entry_name=..&entry_status=..&entry_reference_id=..`.
    Fields,
}

/// A webhook subscription: an `HTTP_ENTRY_STATUS_CHANGED` HTTP notification template.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSubscription {
    /// Partner whose entries are watched.
    pub partner_id: i64,
    /// Target; must be `http://127.0.0.1:PORT/...`.
    pub url: String,
    /// Signature hash.
    #[serde(default)]
    pub hash_algo: HashAlgo,
    /// Signing secret; the partner's first admin secret when absent.
    #[serde(default)]
    pub secret: Option<String>,
    /// Body format.
    #[serde(default)]
    pub format: WebhookFormat,
    /// Template name (`templateName` in object bodies).
    #[serde(default)]
    pub name: Option<String>,
}

impl WebhookSubscription {
    /// A JSON-object, SHA-1, admin-secret subscription.
    #[must_use]
    pub fn new(partner_id: i64, url: &str) -> Self {
        Self {
            partner_id,
            url: url.to_owned(),
            hash_algo: HashAlgo::Sha1,
            secret: None,
            format: WebhookFormat::Object,
            name: None,
        }
    }
}

impl std::fmt::Debug for WebhookSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSubscription")
            .field("partner_id", &self.partner_id)
            .field("url", &self.url)
            .field("hash_algo", &self.hash_algo)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("format", &self.format)
            .field("name", &self.name)
            .finish()
    }
}

/// A subscription as listed (secret not shown).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookInfo {
    /// Subscription (template) id.
    pub id: i64,
    /// Partner.
    pub partner_id: i64,
    /// Target.
    pub url: String,
    /// Signature hash.
    pub hash_algo: HashAlgo,
    /// Whether a per-template secret replaces the admin secret.
    pub custom_secret: bool,
    /// Body format.
    pub format: WebhookFormat,
}

/// One webhook delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    /// Order, from 1.
    pub seq: u64,
    /// Emulator clock at the attempt.
    pub at: i64,
    /// Subscription.
    pub subscription_id: i64,
    /// Partner.
    pub partner_id: i64,
    /// Target.
    pub url: String,
    /// Entry whose status changed.
    pub entry_id: String,
    /// Its new status.
    pub entry_status: i64,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// HTTP status received, if any.
    pub http_status: Option<u16>,
    /// Transport error, if any.
    pub error: Option<String>,
    /// Whether the target answered 200 or 204.
    pub success: bool,
    /// `X-KALTURA-HASH-ALGO`.
    pub hash_algo: HashAlgo,
    /// `X-KALTURA-SIGNATURE`.
    pub signature: String,
    /// `Content-Type` sent.
    pub content_type: String,
    /// Exact body sent.
    pub body: String,
}

/// What to record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingRequest {
    /// Partner.
    pub partner_id: i64,
    /// Room (schedule resource) that was recorded.
    #[serde(default)]
    pub resource_id: Option<i64>,
    /// Scheduled event that was recorded (its first linked resource names the room).
    #[serde(default)]
    pub event_id: Option<i64>,
    /// Entry name; `"{room name} - Recording {n}"` by default.
    #[serde(default)]
    pub name: Option<String>,
    /// Duration once ready, seconds (60 by default).
    #[serde(default)]
    pub duration_seconds: Option<i64>,
}
