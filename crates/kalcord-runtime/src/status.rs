//! Every service's health, asked over the bus (`<service>.status`): what `GET /api/v1/status`
//! and `/kaltura status` report.

use std::time::Duration;

use futures::future::join_all;
use kalcord_bus::BusExt as _;
use kalcord_bus::SharedBus;
use kalcord_proto::v1::{StatusReply, StatusRequest};
use serde::Serialize;

use crate::service::{SERVICES, status_subject};

/// One service's line in the status report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceStatus {
    /// Service name.
    pub service: String,
    /// `ok`, `not_ready` or `unavailable`.
    pub status: &'static str,
    /// Version of the replica that answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Instance that answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Seconds since that instance started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime_seconds: Option<u64>,
    /// Dependency checks that failed, or why the service did not answer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    /// `ok` when every service is ready, `degraded` otherwise.
    pub status: &'static str,
    /// One entry per service.
    pub services: Vec<ServiceStatus>,
}

impl ServiceStatus {
    fn from_reply(service: &str, reply: StatusReply) -> Self {
        let problems = reply
            .checks
            .iter()
            .filter(|check| !check.ok)
            .map(|check| format!("{}: {}", check.name, check.detail))
            .collect();
        Self {
            service: service.to_owned(),
            status: if reply.ready { "ok" } else { "not_ready" },
            version: Some(reply.version),
            instance: Some(reply.instance),
            uptime_seconds: Some(reply.uptime_seconds),
            problems,
        }
    }

    fn unavailable(service: &str, problem: String) -> Self {
        Self {
            service: service.to_owned(),
            status: "unavailable",
            version: None,
            instance: None,
            uptime_seconds: None,
            problems: vec![problem],
        }
    }
}

/// Asks every service for its status, all at once, each within `timeout`.
pub async fn status_report(bus: &SharedBus, timeout: Duration) -> StatusReport {
    let asks = SERVICES.iter().map(|service| {
        let bus = bus.clone();
        async move {
            let subject = status_subject(service);
            match bus.request_proto::<StatusRequest, StatusReply>(&subject, &StatusRequest {}, timeout).await {
                Ok(reply) => ServiceStatus::from_reply(service, reply),
                Err(err) => ServiceStatus::unavailable(service, err.to_string()),
            }
        }
    });
    let services = join_all(asks).await;
    let healthy = services.iter().all(|service| service.status == "ok");
    StatusReport { status: if healthy { "ok" } else { "degraded" }, services }
}
