//! What the emulator saw: requests (with their answers and schema violations) and messages.

use serde::Serialize;
use serde_json::Value;

/// One HTTP request received on the REST/OAuth2 routes.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// Sequence number (from 1).
    pub seq: u64,
    /// Unix milliseconds (emulator clock).
    pub at_ms: u64,
    /// HTTP method.
    pub method: String,
    /// Path as requested (with `/api/v10`).
    pub path: String,
    /// Matched route template (`/channels/{channel_id}/messages`), if any.
    pub route: Option<String>,
    /// Raw query string.
    pub query: String,
    /// Headers; the `Authorization` value is reduced to its scheme (`Bot <redacted>`).
    pub headers: Vec<(String, String)>,
    /// `User-Agent` (Discord requires one; the emulator only records it).
    pub user_agent: Option<String>,
    /// Parsed body (JSON, the `payload_json` of a multipart body, or a form as an object).
    pub body: Option<Value>,
    /// Status answered.
    pub status: u16,
    /// JSON `code` of an error answer.
    pub error_code: Option<u64>,
    /// Schema violations found by the validator (empty when valid or not validated).
    pub schema_violations: Vec<SchemaViolation>,
}

/// A body the published schema rejects.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SchemaViolation {
    /// HTTP method.
    pub method: String,
    /// Path requested (without `/api/v10`).
    pub path: String,
    /// The spec's path template the request matched.
    pub operation: Option<String>,
    /// Issues: `{path: [...], code, message}` as mapped from zod.
    pub issues: Vec<Value>,
}

/// What happened to a message.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageAction {
    /// Created.
    Created,
    /// Edited.
    Edited,
    /// Deleted.
    Deleted,
}

/// Which API produced the change.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageSource {
    /// `POST/PATCH/DELETE /channels/{id}/messages...` with the bot token.
    Rest,
    /// An interaction callback (inline or `/interactions/{id}/{token}/callback`).
    InteractionResponse,
    /// `/webhooks/{app}/{token}...` (follow-ups and `@original`).
    Webhook,
}

/// A message created, edited or deleted.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct MessageRecord {
    /// What happened.
    pub action: MessageAction,
    /// Through which API.
    pub source: MessageSource,
    /// Message id.
    #[serde(with = "crate::ids::string")]
    pub message_id: u64,
    /// Channel id.
    #[serde(with = "crate::ids::string")]
    pub channel_id: u64,
    /// Content after the change.
    pub content: String,
    /// Embeds after the change.
    pub embeds: Value,
    /// Components after the change.
    pub components: Value,
    /// Flags after the change.
    pub flags: u64,
    /// Unix milliseconds.
    pub at_ms: u64,
}
