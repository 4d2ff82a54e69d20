//! The admin server: liveness, readiness, metrics and the log filter.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::{HttpResponse, web};

use crate::deps::{Deps, Needs, Probe};
use crate::error::RuntimeError;

/// What `/readyz` checks, and whether the process is stopping.
#[derive(Clone, Debug)]
pub struct Readiness {
    deps: Deps,
    needs: Needs,
    probes: Vec<Arc<dyn Probe>>,
    stopping: Arc<AtomicBool>,
}

impl Readiness {
    /// Readiness of `deps` restricted to `needs`.
    #[must_use]
    pub fn new(deps: Deps, needs: Needs) -> Self {
        Self { deps, needs, probes: Vec::new(), stopping: Arc::new(AtomicBool::new(false)) }
    }

    /// Adds the checks of the services' own probes.
    #[must_use]
    pub fn with_probes(mut self, probes: Vec<Arc<dyn Probe>>) -> Self {
        self.probes = probes;
        self
    }

    /// From now on `/readyz` answers 503 so load balancers stop sending work.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Whether the process is stopping.
    #[must_use]
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Runs the checks.
    pub async fn check(&self) -> Vec<crate::deps::CheckResult> {
        let mut checks = self.deps.check(self.needs).await;
        checks.extend(self.probes.iter().flat_map(|probe| probe.checks()));
        checks
    }
}

/// A running admin server.
#[derive(Debug)]
pub struct AdminServer {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl AdminServer {
    /// Binds `listen` and serves the admin endpoints.
    ///
    /// # Errors
    ///
    /// [`RuntimeError::Bind`] when the address is taken or not allowed.
    pub fn start(listen: SocketAddr, readiness: Readiness) -> Result<Self, RuntimeError> {
        let bind = |source| RuntimeError::Bind { addr: listen, source };
        let listener = TcpListener::bind(listen).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(web::Data::new(readiness.clone()))
                .route("/healthz", web::get().to(healthz))
                .route("/readyz", web::get().to(readyz))
                .route("/metrics", web::get().to(metrics))
                .route("/log-filter", web::get().to(get_log_filter))
                .route("/log-filter", web::put().to(put_log_filter))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .map_err(bind)?
        .run();
        let handle = server.handle();
        Ok(Self { addr, handle, task: tokio::spawn(server) })
    }

    /// Address actually bound.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("ok\n")
}

async fn readyz(readiness: web::Data<Readiness>) -> HttpResponse {
    if readiness.is_stopping() {
        return HttpResponse::ServiceUnavailable().json(serde_json::json!({ "status": "stopping", "checks": [] }));
    }
    let checks = readiness.check().await;
    let ready = checks.iter().all(|check| check.ok);
    let body = serde_json::json!({ "status": if ready { "ready" } else { "not ready" }, "checks": checks });
    if ready { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(kalcord_telemetry::render_metrics())
}

async fn get_log_filter() -> HttpResponse {
    match kalcord_telemetry::log_filter() {
        Some(filter) => HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(format!("{filter}\n")),
        None => HttpResponse::NotFound().body("the log filter is not managed by this process\n"),
    }
}

async fn put_log_filter(body: String) -> HttpResponse {
    match kalcord_telemetry::set_log_filter(body.trim()) {
        Ok(()) => {
            tracing::info!(filter = %body.trim(), "log filter changed");
            HttpResponse::NoContent().finish()
        }
        Err(err @ kalcord_telemetry::TelemetryError::Filter { .. }) => {
            HttpResponse::BadRequest().body(format!("{err}\n"))
        }
        Err(err) => HttpResponse::Conflict().body(format!("{err}\n")),
    }
}
