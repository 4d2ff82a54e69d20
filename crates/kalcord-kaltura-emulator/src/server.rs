//! The running emulator: one actix-web server for `api_v3`, the KAF host and the admin API.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};

use crate::api::handler;
use crate::config::EmulatorConfig;
use crate::error::EmulatorError;
use crate::state::{EmulatorState, Inner, Settings};
use crate::{admin, kaf};

/// Largest request body read (bigger ones get HTTP 413).
const MAX_BODY: usize = 32 << 20;

/// A running emulator.
#[derive(Debug)]
pub struct Emulator {
    state: EmulatorState,
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Emulator {
    /// Binds `config.listen` and serves until [`Emulator::stop`].
    ///
    /// # Errors
    ///
    /// [`EmulatorError::Bind`] when the address cannot be bound, [`EmulatorError::InvalidPartner`]
    /// or [`EmulatorError::DuplicatePartner`] for a bad partner list.
    #[allow(clippy::unused_async)] // NOTE: async by contract: it must run inside a Tokio runtime.
    pub async fn start(config: EmulatorConfig) -> Result<Self, EmulatorError> {
        // NOTE: reqwest is built without a crypto provider; an Err means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let bind = |source| EmulatorError::Bind { addr: config.listen, source };
        let listener = TcpListener::bind(config.listen).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| EmulatorError::Internal(error.to_string()))?;
        let settings = Settings {
            webhook_retry_delay: config.webhook_retry_delay,
            webhook_max_attempts: config.webhook_max_attempts,
            recording_step_delay: config.recording_step_delay,
        };
        let inner = Arc::new(Inner::new(settings, format!("http://{addr}"), tokio::runtime::Handle::current(), http));
        let state = EmulatorState { inner };
        for partner in config.partners {
            state.add_partner(partner)?;
        }
        let data = web::Data::from(Arc::clone(&state.inner));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .app_data(admin::json_config())
                .configure(routes)
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .map_err(bind)?
        .run();
        let handle = server.handle();
        let task = tokio::spawn(server);
        tracing::info!(%addr, "kaltura emulator listening");
        Ok(Self { state, addr, handle, task })
    }

    /// `http://127.0.0.1:PORT`: the `api_v3` service URL and the KAF host.
    #[must_use]
    pub fn base_url(&self) -> String {
        self.state.base_url()
    }

    /// Address bound.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle on the state (faults, logs, partners, clock, ...).
    #[must_use]
    pub fn state(&self) -> EmulatorState {
        self.state.clone()
    }

    /// Stops serving (hung requests are dropped) and background work (recordings, webhooks).
    pub async fn stop(self) {
        self.state.inner.abort_tasks();
        self.handle.stop(false).await;
        let _ = self.task.await;
        tracing::info!(addr = %self.addr, "kaltura emulator stopped");
    }
}

fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/api_v3", web::route().to(handler::api))
        .route("/api_v3/{tail:.*}", web::route().to(handler::api))
        .route("/virtualEvent/launch", web::get().to(kaf::launch))
        .configure(admin::configure)
        .default_service(web::to(not_found));
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("not found\n")
}
