//! The admin API under `/_emulator/`: the [`EmulatorState`] operations over HTTP, JSON in and out.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use kalcord_kaltura::ks::SessionType;
use serde::Deserialize;
use serde_json::json;

use crate::config::PartnerConfig;
use crate::error::EmulatorError;
use crate::faults::LatencyRule;
use crate::model::{Fault, RecordingRequest, WebhookSubscription};
use crate::state::{EmulatorState, Inner};

/// Mounts the routes.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/_emulator")
            .route("/health", web::get().to(health))
            .route("/requests", web::get().to(requests))
            .route("/requests", web::delete().to(clear_requests))
            .route("/faults", web::get().to(faults))
            .route("/faults", web::post().to(add_fault))
            .route("/faults", web::delete().to(clear_faults))
            .route("/latency", web::get().to(latency))
            .route("/latency", web::post().to(set_latency))
            .route("/latency", web::delete().to(clear_latency))
            .route("/partners", web::get().to(partners))
            .route("/partners", web::post().to(add_partner))
            .route("/partners/{id}", web::delete().to(remove_partner))
            .route("/webhooks", web::get().to(webhooks))
            .route("/webhooks", web::post().to(subscribe))
            .route("/webhooks/{id}", web::delete().to(unsubscribe))
            .route("/deliveries", web::get().to(deliveries))
            .route("/deliveries", web::delete().to(clear_deliveries))
            .route("/recordings", web::post().to(record))
            .route("/launches", web::get().to(launches))
            .route("/launches", web::delete().to(clear_launches))
            .route("/clock", web::get().to(clock))
            .route("/clock", web::put().to(set_clock))
            .route("/clock/advance", web::post().to(advance_clock))
            .route("/ks", web::post().to(mint_ks))
            .route("/reset", web::post().to(reset)),
    );
}

/// JSON extraction that answers `400 {"error": …}` on bad input and accepts any content type.
pub(crate) fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().content_type_required(false).limit(1 << 20).error_handler(|error, _request| {
        let response = HttpResponse::BadRequest().json(json!({ "error": error.to_string() }));
        actix_web::error::InternalError::from_response(error, response).into()
    })
}

fn state(inner: &web::Data<Inner>) -> EmulatorState {
    EmulatorState { inner: inner.clone().into_inner() }
}

fn failure(error: &EmulatorError) -> HttpResponse {
    let body = json!({ "error": error.to_string() });
    match error {
        EmulatorError::UnknownPartner(_) | EmulatorError::NoSuchRoom { .. } => HttpResponse::NotFound().json(body),
        EmulatorError::DuplicatePartner(_) => HttpResponse::Conflict().json(body),
        _ => HttpResponse::BadRequest().json(body),
    }
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn requests(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(state(&inner).requests())
}

async fn clear_requests(inner: web::Data<Inner>) -> HttpResponse {
    state(&inner).clear_requests();
    HttpResponse::NoContent().finish()
}

async fn faults(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(state(&inner).faults())
}

async fn add_fault(inner: web::Data<Inner>, fault: web::Json<Fault>) -> HttpResponse {
    state(&inner).inject_fault(fault.into_inner());
    HttpResponse::Created().json(state(&inner).faults())
}

async fn clear_faults(inner: web::Data<Inner>) -> HttpResponse {
    state(&inner).clear_faults();
    HttpResponse::NoContent().finish()
}

async fn latency(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(inner.faults.lock().latency.clone())
}

async fn set_latency(inner: web::Data<Inner>, rule: web::Json<LatencyRule>) -> HttpResponse {
    let delay = Duration::from_millis(rule.millis);
    state(&inner).set_latency(rule.service.as_deref(), rule.action.as_deref(), delay);
    HttpResponse::Ok().json(inner.faults.lock().latency.clone())
}

async fn clear_latency(inner: web::Data<Inner>) -> HttpResponse {
    state(&inner).clear_latency();
    HttpResponse::NoContent().finish()
}

async fn partners(inner: web::Data<Inner>) -> HttpResponse {
    let listed: Vec<_> = state(&inner)
        .partners()
        .into_iter()
        .map(|partner| json!({ "id": partner.id, "name": partner.name, "ksMaxExpirySeconds": partner.ks_max_expiry_seconds }))
        .collect();
    HttpResponse::Ok().json(listed)
}

async fn add_partner(inner: web::Data<Inner>, partner: web::Json<PartnerConfig>) -> HttpResponse {
    let id = partner.id;
    match state(&inner).add_partner(partner.into_inner()) {
        Ok(()) => HttpResponse::Created().json(json!({ "id": id })),
        Err(error) => failure(&error),
    }
}

async fn remove_partner(inner: web::Data<Inner>, id: web::Path<i64>) -> HttpResponse {
    if state(&inner).remove_partner(*id) {
        HttpResponse::NoContent().finish()
    } else {
        failure(&EmulatorError::UnknownPartner(*id))
    }
}

async fn webhooks(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(state(&inner).webhooks())
}

async fn subscribe(inner: web::Data<Inner>, subscription: web::Json<WebhookSubscription>) -> HttpResponse {
    match state(&inner).subscribe_webhook(subscription.into_inner()) {
        Ok(id) => HttpResponse::Created().json(json!({ "id": id })),
        Err(error) => failure(&error),
    }
}

async fn unsubscribe(inner: web::Data<Inner>, id: web::Path<i64>) -> HttpResponse {
    if state(&inner).unsubscribe_webhook(*id) {
        HttpResponse::NoContent().finish()
    } else {
        HttpResponse::NotFound().json(json!({ "error": format!("no webhook {id}") }))
    }
}

async fn deliveries(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(state(&inner).deliveries())
}

async fn clear_deliveries(inner: web::Data<Inner>) -> HttpResponse {
    state(&inner).clear_deliveries();
    HttpResponse::NoContent().finish()
}

async fn record(inner: web::Data<Inner>, request: web::Json<RecordingRequest>) -> HttpResponse {
    match state(&inner).simulate_recording(&request) {
        Ok(entry_id) => HttpResponse::Created().json(json!({ "entryId": entry_id })),
        Err(error) => failure(&error),
    }
}

async fn launches(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(state(&inner).launches())
}

async fn clear_launches(inner: web::Data<Inner>) -> HttpResponse {
    state(&inner).clear_launches();
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
struct ClockBody {
    now: Option<i64>,
}

#[derive(Deserialize)]
struct AdvanceBody {
    seconds: i64,
}

async fn clock(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "now": inner.now() }))
}

async fn set_clock(inner: web::Data<Inner>, body: web::Json<ClockBody>) -> HttpResponse {
    state(&inner).set_now(body.now);
    HttpResponse::Ok().json(json!({ "now": inner.now() }))
}

async fn advance_clock(inner: web::Data<Inner>, body: web::Json<AdvanceBody>) -> HttpResponse {
    state(&inner).advance_clock(body.seconds);
    HttpResponse::Ok().json(json!({ "now": inner.now() }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MintBody {
    partner_id: i64,
    #[serde(default)]
    user_id: String,
    #[serde(default, rename = "type")]
    session_type: i64,
    #[serde(default)]
    privileges: String,
    #[serde(default)]
    expires_in: i64,
}

async fn mint_ks(inner: web::Data<Inner>, body: web::Json<MintBody>) -> HttpResponse {
    let Some(session_type) = SessionType::from_code(body.session_type) else {
        return HttpResponse::BadRequest().json(json!({ "error": "type must be 0, 1 or 2" }));
    };
    match state(&inner).mint_ks(body.partner_id, &body.user_id, session_type, &body.privileges, body.expires_in) {
        Ok(ks) => HttpResponse::Ok().json(json!({ "ks": ks })),
        Err(error) => failure(&error),
    }
}

async fn reset(inner: web::Data<Inner>) -> HttpResponse {
    state(&inner).reset();
    HttpResponse::NoContent().finish()
}
