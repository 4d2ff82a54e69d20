#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

mod body;
mod config;
mod cookie;
pub mod discord;
mod error;
mod http_metrics;
pub mod interactions;
pub mod invite;
pub mod launch;
pub mod meetings;
pub mod oauth;
pub mod openapi;
mod service;
mod status;
pub mod token;
pub mod webhook;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::Method;
use actix_web::web;
use async_trait::async_trait;
use kalcord_cache::SharedCache;
use kalcord_discord::egress::Egress;
use kalcord_runtime::{CancellationToken, Deps, Endpoint, Needs, Service};

pub use config::{
    Config, DEFAULT_LISTEN, DEFAULT_MEMBER_CACHE_TTL, DEFAULT_REQUEST_TIMEOUT, DEFAULT_SERVICE_LISTEN,
    DEFAULT_STATUS_TIMEOUT, DEFAULT_TOKEN_TTL,
};
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
    /// The guilds' Kaltura partners (for webhook signatures) cannot be read.
    #[error("cannot open the tenants' Kaltura settings")]
    Tenants(#[source] Box<kalcord_tenant::TenantError>),
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
    /// Signs API tokens and `OAuth2` state.
    pub token_key: token::TokenKey,
    /// Discord sign-in; `None` when not configured.
    pub oauth: Option<discord::OAuth>,
    /// Bot calls (member lookups); `None` without `discord.bot_token` and `discord.application_id`.
    pub egress: Option<Egress>,
    /// Member lookups are cached here (the process cache, or a small one of the gateway's own).
    pub cache: SharedCache,
    /// Guilds' Kaltura partners, whose admin secrets sign webhooks; `None` without a store
    /// (only the `default` tenant is then known).
    pub tenants: Option<kalcord_tenant::Tenants>,
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_seconds() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
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
        let token_key = if let Some(key) = config.token_key.as_ref().filter(|key| !key.is_empty()) {
            token::TokenKey::new(key.expose().as_bytes())
        } else {
            tracing::warn!(
                "api_gateway.token_key is not set: API tokens are signed with a random key and end with this process"
            );
            token::TokenKey::random()
        };
        let discord = &deps.common.discord;
        let oauth = discord::OAuth::from_config(discord, config.request_timeout)
            .inspect_err(|missing| tracing::info!("Discord sign-in for the REST API is off: {missing}"))
            .ok();
        let cache = deps
            .cache
            .clone()
            .unwrap_or_else(|| Arc::new(kalcord_cache::MemoryCache::new("api-gateway", 10_000)) as SharedCache);
        let egress =
            discord.egress(config.request_timeout).map(|egress_config| Egress::new(egress_config, Arc::clone(&cache)));
        Self { config, deps, verifier, token_key, oauth, egress, cache, tenants: None }
    }

    /// The same state resolving guild tenants of webhooks with `tenants`.
    #[must_use]
    pub fn with_tenants(mut self, tenants: kalcord_tenant::Tenants) -> Self {
        self.tenants = Some(tenants);
        self
    }
}

/// One public route: method, path (actix pattern) and handler.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path pattern, e.g. `/api/v1/meetings/{id}`.
    pub path: &'static str,
    handler: fn() -> actix_web::Route,
}

/// Every public route; [`routes`] registers exactly these and the `OpenAPI` document lists them.
pub const ROUTES: &[Route] = &[
    Route { method: "GET", path: "/api/v1/status", handler: || web::route().to(status::get_status) },
    Route { method: "GET", path: "/api/v1/invite", handler: || web::route().to(invite::get_invite) },
    Route { method: "GET", path: "/api/v1/openapi.json", handler: || web::route().to(openapi::get_openapi) },
    Route { method: "GET", path: "/api/v1/meetings", handler: || web::route().to(meetings::list) },
    Route { method: "POST", path: "/api/v1/meetings", handler: || web::route().to(meetings::create) },
    Route { method: "GET", path: "/api/v1/meetings/{id}", handler: || web::route().to(meetings::get) },
    Route { method: "PATCH", path: "/api/v1/meetings/{id}", handler: || web::route().to(meetings::update) },
    Route { method: "DELETE", path: "/api/v1/meetings/{id}", handler: || web::route().to(meetings::cancel) },
    Route { method: "GET", path: "/oauth2/login", handler: || web::route().to(oauth::login) },
    Route { method: "GET", path: "/oauth2/callback", handler: || web::route().to(oauth::callback) },
    Route { method: "GET", path: "/m/{guild_id}/{meeting_id}", handler: || web::route().to(launch::get_launch) },
    Route { method: "POST", path: "/interactions", handler: || web::route().to(interactions::post_interactions) },
    Route { method: "POST", path: "/webhooks/kaltura/{tenant}", handler: || web::route().to(webhook::post_kaltura) },
];

#[expect(clippy::needless_pass_by_value, reason = "the signature actix's QueryConfig::error_handler takes")]
fn query_error(err: actix_web::error::QueryPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::new(Code::BAD_REQUEST, format!("malformed query string: {err}")).into()
}

/// Registers every route of the public HTTP server.
///
/// # Panics
///
/// Never: the methods of [`ROUTES`] are valid (a test calls every one).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(meetings::MAX_JSON_BODY)
            .content_type_required(false)
            .error_handler(meetings::json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(query_error));
    // NOTE: routes are tried in registration order and patterns with parameters cost a regex
    // match each; the route every Discord interaction takes goes first (it overlaps no other).
    let hot = |route: &&Route| route.path == "/interactions";
    for route in ROUTES.iter().filter(hot).chain(ROUTES.iter().filter(|route| !hot(route))) {
        let method = Method::from_bytes(route.method.as_bytes()).expect("route methods are valid");
        cfg.route(route.path, (route.handler)().method(method));
    }
    cfg.default_service(web::to(error::not_found));
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
    // NOTE: the cache carries the bot's shared global rate limit and the member lookups; the
    // store names each guild's Kaltura partner, whose admin secret signs its webhooks.
    const NEEDS: Needs = Needs { cache: true, store: true };
    type Config = Config;
    type Error = Error;

    async fn build(config: Config, deps: Deps) -> Result<Self, Error> {
        let bind = |source| Error::Bind { addr: config.listen, source };
        let listener = TcpListener::bind(config.listen).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        let tenants = match deps.store.clone() {
            Some(store) => Some(
                kalcord_tenant::Tenants::open(&deps.common.kaltura, &deps.common.secrets, store)
                    .map_err(|err| Error::Tenants(Box::new(err)))?,
            ),
            None => None,
        };
        let mut state = AppState::new(config, deps);
        state.tenants = tenants;
        Ok(Self { addr, listener, state })
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
