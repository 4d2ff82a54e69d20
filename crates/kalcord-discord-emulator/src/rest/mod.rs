//! REST API v10 (`/api/v10/...`, `/api/v9/...` and unversioned `/api/...`): one pipeline for every route —
//! route match, auth, scripted faults, rate limits, body parsing, schema validation, handler, recording.

pub(crate) mod auth;
pub(crate) mod body;
mod commands;
mod events;
mod gateway_info;
mod guilds;
pub(crate) mod interactions;
mod members;
pub(crate) mod messages;
pub(crate) mod oauth;
mod pipeline;
mod roles;
pub(crate) mod route;
mod users;

use std::collections::HashMap;

use actix_web::web;
use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::state::Inner;
use auth::Caller;
use route::Params;

/// A route handler (synchronous: it works on the world under its lock).
pub(crate) type Handler = for<'a> fn(&Ctx<'a>) -> Result<Reply, ApiError>;

/// What a handler gets.
pub(crate) struct Ctx<'a> {
    pub inner: &'a Inner,
    pub params: &'a Params,
    pub query: &'a HashMap<String, String>,
    pub body: Option<&'a Value>,
    pub kind: body::Kind,
    pub caller: &'a Caller,
}

impl Ctx<'_> {
    /// The body, or `{}`.
    pub(crate) fn body(&self) -> Value {
        self.body.cloned().unwrap_or_else(|| json!({}))
    }

    /// A boolean query parameter (`True/true/1`).
    pub(crate) fn query_flag(&self, name: &str) -> bool {
        self.query.get(name).is_some_and(|value| matches!(value.as_str(), "True" | "true" | "1"))
    }

    /// An integer query parameter within `min..=max` (default when absent), else 50035.
    pub(crate) fn query_int(&self, name: &'static str, default: u64, min: u64, max: u64) -> Result<u64, ApiError> {
        let Some(text) = self.query.get(name) else { return Ok(default) };
        let value: u64 = text.parse().map_err(|_| {
            ApiError::form_field(&[name], "NUMBER_TYPE_COERCE", &format!("Value \"{text}\" is not int."))
        })?;
        if value < min {
            return Err(ApiError::form_field(
                &[name],
                "NUMBER_TYPE_MIN",
                &format!("int value should be greater than or equal to {min}."),
            ));
        }
        if value > max {
            return Err(ApiError::form_field(
                &[name],
                "NUMBER_TYPE_MAX",
                &format!("int value should be less than or equal to {max}."),
            ));
        }
        Ok(value)
    }

    /// The application id path parameter, which must be this application's.
    pub(crate) fn application_id(&self) -> Result<u64, ApiError> {
        let id = self.params.id("application_id")?;
        if id == self.inner.world.lock().app.id { Ok(id) } else { Err(ApiError::unknown_application()) }
    }
}

/// A handler's answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Value>,
}

impl Reply {
    /// 200 with JSON.
    pub(crate) fn json(body: Value) -> Self {
        Self { status: 200, body: Some(body) }
    }

    /// 201 with JSON.
    pub(crate) fn created(body: Value) -> Self {
        Self { status: 201, body: Some(body) }
    }

    /// 204.
    pub(crate) fn no_content() -> Self {
        Self { status: 204, body: None }
    }
}

/// Mounts the REST routes and the OAuth2 authorize page.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/oauth2/authorize", web::get().to(oauth::authorize))
        .route("/api/oauth2/authorize", web::get().to(oauth::authorize))
        .route("/api", web::route().to(pipeline::handle))
        .route("/api/{tail:.*}", web::route().to(pipeline::handle));
}
