#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

mod config;
mod error;
mod http_metrics;
pub mod interactions;
mod status;

use std::net::{SocketAddr, TcpListener};

use actix_web::web;
use async_trait::async_trait;
use kalcord_runtime::{CancellationToken, Deps, Endpoint, Needs, Service};

pub use config::{Config, DEFAULT_LISTEN, DEFAULT_SERVICE_LISTEN, DEFAULT_STATUS_TIMEOUT};
pub use error::{ApiError, Code, ErrorCode, ErrorType};

/// Time in-flight HTTP requests get to finish once shutdown starts.
const HTTP_DRAIN_SECONDS: u64 = 10;

/// The gateway could not start or failed while running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The public listener could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// Address asked for.
        addr: SocketAddr,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("http server failed")]
    Server(#[source] std::io::Error),
}

/// State shared by every request handler.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Configuration.
    pub config: Config,
    /// Dependencies.
    pub deps: Deps,
    /// Verifies Discord interactions; `None` when `discord.public_key` is not set.
    pub verifier: Option<kalcord_discord::signature::Verifier>,
}

impl AppState {
    /// The state for `config` and `deps`, with the verifier from `discord.public_key`.
    #[must_use]
    pub fn new(config: Config, deps: Deps) -> Self {
        let verifier = deps
            .common
            .discord
            .public_key
            .as_deref()
            .and_then(|key| kalcord_discord::signature::Verifier::from_hex(key).ok());
        if verifier.is_none() {
            tracing::warn!("discord.public_key is not set: POST /interactions answers 503 until it is");
        }
        Self { config, deps, verifier }
    }
}

/// Registers every route of the public HTTP server.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/api/v1").route("/status", web::get().to(status::get_status)))
        .route("/interactions", web::post().to(interactions::post_interactions))
        .default_service(web::to(error::not_found));
}

/// The HTTP edge, bound and ready to run.
#[derive(Debug)]
pub struct ApiGateway {
    addr: SocketAddr,
    listener: TcpListener,
    state: AppState,
}

impl ApiGateway {
    /// Address the public listener is bound to.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

#[async_trait]
impl Service for ApiGateway {
    const NAME: &'static str = "api-gateway";
    const NEEDS: Needs = Needs { cache: false, store: false };
    type Config = Config;
    type Error = Error;

    async fn build(config: Config, deps: Deps) -> Result<Self, Error> {
        let bind = |source| Error::Bind { addr: config.listen, source };
        let listener = TcpListener::bind(config.listen).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        Ok(Self { addr, listener, state: AppState::new(config, deps) })
    }

    fn endpoints(&self) -> Vec<Endpoint> {
        vec![Endpoint { name: "api", url: format!("http://{}", self.addr) }]
    }

    async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let state = web::Data::new(self.state.clone());
        let workers = match self.state.config.workers {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            n => n,
        };
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(state.clone())
                .wrap(actix_web::middleware::from_fn(http_metrics::record))
                .wrap(tracing_actix_web::TracingLogger::default())
                .configure(routes)
        })
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(HTTP_DRAIN_SECONDS)
        .listen(self.listener)
        .map_err(Error::Server)?
        .run();
        let handle = server.handle();
        let mut task = tokio::spawn(server);
        tokio::select! {
            () = shutdown.cancelled() => {
                // NOTE: graceful: stop accepting, let in-flight requests finish.
                handle.stop(true).await;
                task.await.map_err(|err| Error::Server(std::io::Error::other(err)))?.map_err(Error::Server)
            }
            result = &mut task => result.map_err(|err| Error::Server(std::io::Error::other(err)))?.map_err(Error::Server),
        }
    }
}

/// Builds the gateway and runs it until `shutdown` is cancelled.
///
/// # Errors
///
/// When the listener cannot be bound or the HTTP server fails.
pub async fn run(config: Config, deps: Deps, shutdown: CancellationToken) -> Result<(), Error> {
    ApiGateway::build(config, deps).await?.run(shutdown).await
}
