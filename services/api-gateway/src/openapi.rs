//! `GET /api/v1/openapi.json`: the `OpenAPI` 3.1 description of the public routes.
//!
//! Written here next to [`crate::ROUTES`]; a test fails when a route is missing from it (or
//! described but not served) and checks real responses against its schemas.

use actix_web::HttpResponse;
use serde_json::{Value, json};

use crate::meetings::{KINDS, STATUSES};

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn meeting_response(description: &str) -> Value {
    json!({
        "description": description,
        "headers": {"ETag": {"description": "The meeting's version, for If-Match.", "schema": {"type": "string"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Meeting"}}},
    })
}

/// The errors every meetings route may answer.
fn meeting_errors(responses: &mut Value) {
    let errors = [
        ("400", "Invalid request; `field` names the offending field."),
        ("401", "Missing, invalid or expired bearer token."),
        ("403", "The member may not do this (same rules as the slash commands)."),
        ("404", "No such meeting, or a guild the token does not list."),
        ("409", "Conflict (version mismatch, wrong state) or the guild is not linked to Kaltura."),
        ("413", "Body over 64 KiB."),
        ("502", "Discord or Kaltura answered unexpectedly."),
        ("503", "The meetings service, Discord or Kaltura is unavailable; see Retry-After."),
        ("500", "Unexpected failure."),
    ];
    for (status, description) in errors {
        responses[status] = error_response(description);
    }
}

fn guild_query() -> Value {
    json!({"name": "guild_id", "in": "query", "required": true, "description": "Guild (server) id; must be one of the token's guilds.", "schema": {"$ref": "#/components/schemas/Snowflake"}})
}

fn id_path() -> Value {
    json!({"name": "id", "in": "path", "required": true, "description": "Meeting id.", "schema": {"type": "string", "format": "uuid"}})
}

fn meeting_paths() -> (Value, Value) {
    let mut list = json!({"200": {"description": "One page of meetings, newest first.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MeetingPage"}}}}});
    meeting_errors(&mut list);
    let mut create = json!({"201": meeting_response("Created."), "200": meeting_response("Replayed: this Idempotency-Key already created the meeting.")});
    meeting_errors(&mut create);
    let mut one = json!({"200": meeting_response("The meeting.")});
    meeting_errors(&mut one);
    let collection = json!({
        "get": {
            "operationId": "listMeetings", "summary": "List a guild's meetings", "tags": ["meetings"],
            "parameters": [
                guild_query(),
                {"name": "status", "in": "query", "description": "Comma-separated statuses.", "schema": {"type": "string"}, "example": "scheduled,live"},
                {"name": "from", "in": "query", "description": "Only meetings starting at or after (RFC 3339).", "schema": {"type": "string", "format": "date-time"}},
                {"name": "to", "in": "query", "description": "Only meetings starting before (RFC 3339).", "schema": {"type": "string", "format": "date-time"}},
                {"name": "limit", "in": "query", "description": "Page size (default 25).", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                {"name": "cursor", "in": "query", "description": "`next_cursor` of the previous page.", "schema": {"type": "string"}},
                {"name": "title", "in": "query", "description": "Only titles containing this, case-insensitively.", "schema": {"type": "string"}},
                {"name": "channel_id", "in": "query", "description": "Only meetings announced in this channel.", "schema": {"$ref": "#/components/schemas/Snowflake"}}
            ],
            "responses": list,
        },
        "post": {
            "operationId": "createMeeting", "summary": "Start a meeting now or schedule one", "tags": ["meetings"],
            "parameters": [{"name": "Idempotency-Key", "in": "header", "description": "Repeat a creation safely; generated when absent (echoed back).", "schema": {"type": "string", "maxLength": 160}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateMeeting"}}}},
            "responses": create,
        },
    });
    let item = json!({
        "parameters": [id_path(), guild_query()],
        "get": {"operationId": "getMeeting", "summary": "One meeting", "tags": ["meetings"], "responses": one.clone()},
        "patch": {
            "operationId": "updateMeeting", "summary": "Change a meeting's fields", "tags": ["meetings"],
            "parameters": [{"name": "If-Match", "in": "header", "description": "The ETag the change is based on; 409 when the meeting changed since.", "schema": {"type": "string"}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UpdateMeeting"}}}},
            "responses": one.clone(),
        },
        "delete": {"operationId": "cancelMeeting", "summary": "Cancel a scheduled meeting", "tags": ["meetings"], "responses": one},
    });
    (collection, item)
}

/// The launch page a meeting's scheduled event links to.
fn launch_path() -> Value {
    let page = |description: &str| json!({"description": description, "content": {"text/html": {"schema": {"type": "string"}}}});
    json!({"get": {
        "operationId": "launchMeeting", "summary": "Open a meeting in Kaltura as the signed-in member (an HTML page)", "tags": ["meetings"],
        "security": [{"session": []}, {}],
        "parameters": [
            {"name": "guild_id", "in": "path", "required": true, "description": "Guild (server) id.", "schema": {"$ref": "#/components/schemas/Snowflake"}},
            {"name": "meeting_id", "in": "path", "required": true, "description": "Meeting id.", "schema": {"type": "string", "format": "uuid"}}
        ],
        "responses": {
            "302": {
                "description": "With a valid session: to the member's own, short-lived Kaltura launch URL (never cached, no referrer). Without one: to `/oauth2/login?next=…`.",
                "headers": {
                    "Location": {"schema": {"type": "string"}},
                    "Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}},
                    "Referrer-Policy": {"schema": {"type": "string", "enum": ["no-referrer"]}}
                }
            },
            "400": page("The path is not a guild id and a meeting id, or the identity service found the request invalid."),
            "403": page("Not a member of the server, or the member may not join."),
            "404": page("No such meeting in this server."),
            "409": page("The meeting ended, was cancelled or has no room yet, or the server is not linked to Kaltura."),
            "500": page("Unexpected failure."),
            "502": page("Kaltura refused or answered an unexpected link."),
            "503": page("Discord, the identity service or Kaltura did not answer (Retry-After), or sign-in or the bot token is not configured.")
        }
    }})
}

/// `GET /api/v1/invite`'s answer.
fn invite_schema() -> Value {
    json!({
        "type": "object", "required": ["url", "permissions", "scopes", "reasons"],
        "properties": {
            "url": {"type": "string", "format": "uri"},
            "permissions": {"type": "string", "description": "The permissions bitfield, decimal.", "example": "17592186063872"},
            "scopes": {"type": "array", "items": {"type": "string"}, "example": ["bot", "applications.commands"]},
            "reasons": {"type": "array", "items": {
                "type": "object", "required": ["permission", "bit", "why"],
                "properties": {
                    "permission": {"type": "string", "example": "Embed Links"},
                    "bit": {"type": "integer", "minimum": 0, "maximum": 63, "example": 14},
                    "why": {"type": "string"}
                }
            }}
        }
    })
}

fn schemas() -> Value {
    let nullable_time = json!({"type": ["string", "null"], "format": "date-time"});
    let nullable_id = json!({"oneOf": [{"$ref": "#/components/schemas/Snowflake"}, {"type": "null"}]});
    json!({
        "Snowflake": {"type": "string", "pattern": "^[0-9]{1,20}$", "description": "A Discord id, as a decimal string."},
        "Error": {
            "type": "object", "required": ["message", "code", "type", "link"],
            "properties": {
                "message": {"type": "string", "description": "Safe to show; never holds a secret."},
                "code": {"type": "string", "description": "Stable machine-readable name (see docs/api.md)."},
                "type": {"type": "string", "enum": ["invalid_request", "auth", "refused", "internal"]},
                "link": {"type": "string", "format": "uri"},
                "field": {"type": "string", "description": "The offending field, for `invalid`."}
            }
        },
        "Meeting": {
            "type": "object",
            "required": ["id", "guild_id", "kind", "title", "description", "status", "host_user_id", "scheduled_start", "scheduled_end", "actual_start", "actual_end", "kaltura_resource_id", "kaltura_event_id", "kaltura_entry_id", "channel_id", "message_id", "custom_fields", "created_at", "updated_at", "version"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "guild_id": {"$ref": "#/components/schemas/Snowflake"},
                "kind": {"type": "string", "enum": ["virtual_classroom", "meeting_room", "webinar", "unspecified"]},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "status": {"type": "string", "enum": ["scheduled", "live", "ended", "cancelled", "unspecified"]},
                "host_user_id": nullable_id.clone(),
                "scheduled_start": nullable_time.clone(),
                "scheduled_end": nullable_time.clone(),
                "actual_start": nullable_time.clone(),
                "actual_end": nullable_time.clone(),
                "kaltura_resource_id": {"type": ["string", "null"]},
                "kaltura_event_id": {"type": ["string", "null"]},
                "kaltura_entry_id": {"type": ["string", "null"]},
                "channel_id": nullable_id.clone(),
                "message_id": nullable_id,
                "custom_fields": {"type": "object"},
                "created_at": nullable_time.clone(),
                "updated_at": nullable_time,
                "version": {"type": "integer"}
            }
        },
        "MeetingPage": {
            "type": "object", "required": ["meetings", "next_cursor"],
            "properties": {
                "meetings": {"type": "array", "items": {"$ref": "#/components/schemas/Meeting"}},
                "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last."}
            }
        },
        "CreateMeeting": {
            "type": "object", "required": ["guild_id", "kind", "title"], "additionalProperties": false,
            "properties": {
                "guild_id": {"$ref": "#/components/schemas/Snowflake"},
                "kind": {"type": "string", "enum": KINDS},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "scheduled_start": {"type": "string", "format": "date-time", "description": "Absent: start now."},
                "duration_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
                "channel_id": {"$ref": "#/components/schemas/Snowflake"},
                "custom_fields": {"type": "object"}
            }
        },
        "UpdateMeeting": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "title": {"type": "string"},
                "description": {"type": "string"},
                "scheduled_start": {"type": "string", "format": "date-time"},
                "duration_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
                "custom_fields": {"type": "object"},
                "version": {"type": "integer", "minimum": 1, "description": "Like If-Match."}
            }
        },
        "SignIn": {
            "type": "object", "required": ["token", "token_type", "expires_at", "user_id", "guilds"],
            "properties": {
                "token": {"type": "string", "description": "Send as `Authorization: Bearer <token>`."},
                "token_type": {"type": "string", "enum": ["Bearer"]},
                "expires_at": {"type": "string", "format": "date-time"},
                "user_id": {"$ref": "#/components/schemas/Snowflake"},
                "guilds": {"type": "array", "items": {"$ref": "#/components/schemas/Snowflake"}}
            }
        },
        "Invite": invite_schema(),
        "Status": {
            "type": "object", "required": ["status", "services"],
            "properties": {"status": {"type": "string"}, "services": {"type": "array", "items": {"type": "object"}}}
        }
    })
}

/// `/oauth2/login` and `/oauth2/callback`.
fn auth_paths() -> (Value, Value) {
    let login = json!({"get": {
        "operationId": "login", "summary": "Sign in with Discord", "tags": ["auth"], "security": [],
        "parameters": [
            {"name": "next", "in": "query", "description": "A launch page to return to once signed in; only `/m/{guild_id}/{meeting_id}` is accepted.", "schema": {"type": "string", "pattern": "^/m/[0-9]{1,20}/[0-9a-f-]{36}$"}}
        ],
        "responses": {
            "302": {"description": "To Discord's consent page, with `state`; sets the HttpOnly state cookie (which also binds `next`).", "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}, "Set-Cookie": {"schema": {"type": "string"}}}},
            "400": error_response("`invalid` (`field`: `next`): `next` is not a launch page path."),
            "503": error_response("Discord sign-in is not configured.")
        }
    }});
    let callback = json!({"get": {
        "operationId": "callback", "summary": "Where Discord sends the browser back; answers an API token", "tags": ["auth"], "security": [],
        "parameters": [
            {"name": "code", "in": "query", "schema": {"type": "string"}},
            {"name": "state", "in": "query", "required": true, "schema": {"type": "string"}}
        ],
        "responses": {
            "200": {"description": "Signed in.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SignIn"}}}},
            "302": {"description": "Signed in from a launch page: back to it (`next`), with the token as the `kalcord_session` cookie.", "headers": {"Location": {"schema": {"type": "string"}}, "Set-Cookie": {"schema": {"type": "string"}}}},
            "400": error_response("`invalid_state` (missing or not this browser's), `oauth_failed` (Discord refused) or `invalid` (no code)."),
            "502": error_response("Discord answered unexpectedly."),
            "503": error_response("Discord sign-in is not configured.")
        }
    }});
    (login, callback)
}

/// The whole document.
#[must_use]
pub fn document() -> Value {
    let (collection, item) = meeting_paths();
    let (login, callback) = auth_paths();
    let statuses = STATUSES.join(", ");
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "kalcord",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!("Kaltura meetings for Discord communities. Sign in at /oauth2/login; meeting statuses: {statuses}."),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "security": [{"bearer": []}],
        "tags": [{"name": "meetings"}, {"name": "auth"}, {"name": "system"}],
        "paths": {
            "/api/v1/status": {"get": {
                "operationId": "getStatus", "summary": "Every service's health", "tags": ["system"], "security": [],
                "responses": {
                    "200": {"description": "Every service is ok.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}},
                    "503": {"description": "Some service is not ok.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}
                }
            }},
            "/api/v1/invite": {"get": {
                "operationId": "getInvite", "summary": "The URL that adds the bot to a server, each permission explained", "tags": ["system"], "security": [],
                "responses": {
                    "200": {"description": "The invite.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Invite"}}}},
                    "503": error_response("discord.application_id is not set.")
                }
            }},
            "/api/v1/openapi.json": {"get": {
                "operationId": "getOpenApi", "summary": "This document", "tags": ["system"], "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1.", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }},
            "/api/v1/meetings": collection,
            "/api/v1/meetings/{id}": item,
            "/oauth2/login": login,
            "/oauth2/callback": callback,
            "/m/{guild_id}/{meeting_id}": launch_path(),
            "/interactions": {"post": {
                "operationId": "interactions", "summary": "Discord's Interactions Endpoint (Ed25519-signed)", "tags": ["system"], "security": [],
                "parameters": [
                    {"name": "X-Signature-Ed25519", "in": "header", "required": true, "schema": {"type": "string"}},
                    {"name": "X-Signature-Timestamp", "in": "header", "required": true, "schema": {"type": "string"}}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {
                    "200": {"description": "An interaction response.", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": error_response("Not an interaction."),
                    "401": error_response("Bad signature or stale timestamp."),
                    "413": error_response("Body over 1 MiB."),
                    "503": error_response("discord.public_key is not set.")
                }
            }},
            "/webhooks/kaltura/{tenant}": {"post": {
                "operationId": "kalturaWebhook", "summary": "Kaltura HTTP event notifications (signed with the partner's admin secret)", "tags": ["system"], "security": [],
                "parameters": [
                    {"name": "tenant", "in": "path", "required": true, "description": "Guild id linked to its own partner with /kaltura setup, or `default` for the configured default partner.", "schema": {"type": "string"}},
                    {"name": "X-KALTURA-SIGNATURE", "in": "header", "required": true, "description": "Lowercase hex of H(admin secret || raw body).", "schema": {"type": "string"}},
                    {"name": "X-KALTURA-HASH-ALGO", "in": "header", "description": "sha1 (default), sha256 or sha512.", "schema": {"type": "string", "enum": ["sha1", "sha256", "sha512"]}}
                ],
                "requestBody": {"required": true, "content": {
                    "application/json": {"schema": {"type": "object", "description": "A KalturaHttpNotification."}},
                    "application/x-www-form-urlencoded": {"schema": {"type": "object", "description": "Content parameters (entry_id, entry_name, entry_status, entry_reference_id), or data=<KalturaHttpNotification JSON>."}}
                }},
                "responses": {
                    "200": {"description": "Stored durably (or a redelivery of a stored notification).", "content": {"application/json": {"schema": {"type": "object", "properties": {"stored": {"type": "boolean"}, "duplicate": {"type": "boolean"}}}}}},
                    "400": error_response("Neither a JSON KalturaHttpNotification nor form fields."),
                    "401": error_response("Missing or wrong signature, unsupported hash, or unknown tenant."),
                    "413": error_response("Body over 1 MiB."),
                    "503": error_response("Could not be stored; Kaltura retries.")
                }
            }}
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "The token from /oauth2/callback (HS256, 1 hour by default)."},
                "session": {"type": "apiKey", "in": "cookie", "name": "kalcord_session", "description": "The same token, set by /oauth2/callback for a sign-in started at a launch page (Path=/m)."}
            },
            "schemas": schemas()
        }
    })
}

/// `GET /api/v1/openapi.json`.
pub async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok().json(document())
}
