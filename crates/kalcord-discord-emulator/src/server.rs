//! The running emulator: an actix-web server (REST, OAuth2, admin) and a websocket listener (gateway).

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use crate::config::EmulatorConfig;
use crate::error::EmulatorError;
use crate::gateway::session::Hub;
use crate::ids::Clock;
use crate::ratelimit::RateLimiter;
use crate::state::{ApplicationInfo, EmulatorState, Inner, RequestLog, Settings};
use crate::validator::Validator;
use crate::world::World;
use crate::{admin, gateway, rest};

/// Largest request body read (Discord's upload limit is 25 MiB).
const MAX_BODY: usize = 26 << 20;

/// A running Discord emulator.
#[derive(Debug)]
pub struct DiscordEmulator {
    state: EmulatorState,
    handle: actix_web::dev::ServerHandle,
    http_task: tokio::task::JoinHandle<std::io::Result<()>>,
    gateway_task: tokio::task::JoinHandle<()>,
}

fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), EmulatorError> {
    let error = |source| EmulatorError::Bind { addr, source };
    let listener = TcpListener::bind(addr).map_err(error)?;
    listener.set_nonblocking(true).map_err(error)?;
    let local = listener.local_addr().map_err(error)?;
    Ok((listener, local))
}

impl DiscordEmulator {
    /// Binds both listeners, starts the validator (when configured) and serves until [`DiscordEmulator::stop`].
    ///
    /// # Errors
    ///
    /// [`EmulatorError::Bind`], [`EmulatorError::Config`] for an unusable seed, [`EmulatorError::Validator`] when
    /// the validator is configured but cannot start.
    pub async fn start(config: EmulatorConfig) -> Result<Self, EmulatorError> {
        // NOTE: reqwest is built without a crypto provider; an Err means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        if config.shards == 0 {
            return Err(EmulatorError::Config("shards must be at least 1".to_owned()));
        }
        let validator = match &config.validator {
            Some(validator) => Some(Validator::start(validator).await?),
            None => None,
        };
        let (http_listener, http_addr) = bind(config.listen)?;
        let (ws_listener, ws_addr) = bind(config.gateway_listen)?;
        let inner = make_inner(&config, validator, http_addr, ws_addr)?;
        let ws_listener = tokio::net::TcpListener::from_std(ws_listener)
            .map_err(|source| EmulatorError::Bind { addr: ws_addr, source })?;
        let gateway_task = tokio::spawn(gateway::serve(ws_listener, Arc::clone(&inner)));
        let data = web::Data::from(Arc::clone(&inner));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .configure(admin::configure)
                .configure(rest::configure)
                .default_service(web::to(not_found))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(http_listener)
        .map_err(|source| EmulatorError::Bind { addr: http_addr, source })?
        .run();
        let handle = server.handle();
        let http_task = tokio::spawn(server);
        tracing::info!(api = %inner.api_base, gateway = %inner.gateway_url, "discord emulator listening");
        Ok(Self { state: EmulatorState { inner }, handle, http_task, gateway_task })
    }

    /// `http://127.0.0.1:PORT` (twilight: `ClientBuilder::proxy("127.0.0.1:PORT", true)`).
    #[must_use]
    pub fn api_base(&self) -> String {
        self.state.api_base()
    }

    /// `host:port` of the REST listener, as twilight's `proxy(..)` wants it.
    #[must_use]
    pub fn api_authority(&self) -> String {
        self.state.api_base().trim_start_matches("http://").to_owned()
    }

    /// `ws://127.0.0.1:PORT2`.
    #[must_use]
    pub fn gateway_url(&self) -> String {
        self.state.gateway_url()
    }

    /// The application's identifiers and secrets.
    #[must_use]
    pub fn application(&self) -> ApplicationInfo {
        self.state.application()
    }

    /// A handle on the state (world, faults, records, interactions, clock, gateway actions).
    #[must_use]
    pub fn state(&self) -> EmulatorState {
        self.state.clone()
    }

    /// Stops serving: closes gateway connections, stops the HTTP server and the validator.
    pub async fn stop(self) {
        self.state.inner.cancel.cancel();
        self.handle.stop(false).await;
        let _ = self.http_task.await;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.gateway_task).await;
        if let Some(validator) = &self.state.inner.validator {
            validator.stop();
        }
        tracing::info!("discord emulator stopped");
    }
}

/// The shared state of a configuration.
fn make_inner(
    config: &EmulatorConfig,
    validator: Option<Validator>,
    http_addr: SocketAddr,
    ws_addr: SocketAddr,
) -> Result<Arc<Inner>, EmulatorError> {
    let clock = Arc::new(Clock::default());
    let world = World::new(config, Arc::clone(&clock))?;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| EmulatorError::Internal(error.to_string()))?;
    Ok(Arc::new(Inner {
        world: Mutex::new(world),
        hub: Mutex::new(Hub::new(config.gateway.replay_capacity, config.gateway.resume_window)),
        clock,
        log: Mutex::new(RequestLog::default()),
        faults: Mutex::new(Vec::new()),
        limiter: RateLimiter::new(config.rate_limits.clone()),
        validator,
        settings: Settings {
            shards: config.shards,
            max_concurrency: config.max_concurrency.max(1),
            gateway: config.gateway.clone(),
            interaction_deadline: config.interaction_deadline,
        },
        api_base: format!("http://{http_addr}"),
        gateway_url: format!("ws://{ws_addr}"),
        http,
        cancel: CancellationToken::new(),
    }))
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().content_type("application/json").body(r#"{"message": "404: Not Found", "code": 0}"#)
}
