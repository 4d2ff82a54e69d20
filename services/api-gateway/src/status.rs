//! `GET /api/v1/status`: every service's health, asked over the bus.

use actix_web::{HttpResponse, web};
use kalcord_runtime::status_report;

use crate::AppState;

/// Reports every service, each asked within `api_gateway.status_timeout`; 200 when all are
/// ready, 503 otherwise.
pub async fn get_status(state: web::Data<AppState>) -> HttpResponse {
    let report = status_report(&state.deps.bus, state.config.status_timeout).await;
    if report.status == "ok" {
        HttpResponse::Ok().json(report)
    } else {
        HttpResponse::ServiceUnavailable().json(report)
    }
}
