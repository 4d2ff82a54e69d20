//! The `api_v3` client: JSON requests, typed errors, retries, a circuit breaker and a cached
//! admin session.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use url::Url;

use crate::breaker::{Admission, Breaker, BreakerConfig};
use crate::error::{ApiError, KalturaError};
use crate::ks::{KsSpec, Minter, Privileges, SessionType};
use crate::retry::{Attempt, RetryPolicy};
use crate::wire::api_error;

/// Default Kaltura service URL (SaaS).
pub const DEFAULT_SERVICE_URL: &str = "https://www.kaltura.com";

/// How to reach one partner.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Partner's admin secret; signs every KS (never sent over the wire by the client).
    pub admin_secret: kalcord_config::Secret,
    /// Lifetime of the cached admin KS.
    pub admin_ks_ttl: Duration,
    /// Breaker settings.
    pub breaker: BreakerConfig,
    /// `clientTag` sent with every call.
    pub client_tag: String,
    /// Timeout of establishing a connection.
    pub connect_timeout: Duration,
    /// Base URL of the KAF host rooms are launched on; `https://{partnerId}.kaf.kaltura.com` when `None`.
    pub kaf_url: Option<Url>,
    /// Partner id.
    pub partner_id: i64,
    /// Retry settings.
    pub retry: RetryPolicy,
    /// Service URL, e.g. `https://www.kaltura.com`.
    pub service_url: Url,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
}

impl ClientConfig {
    /// Sensible defaults for a partner.
    #[must_use]
    pub fn new(partner_id: i64, admin_secret: kalcord_config::Secret, service_url: Url) -> Self {
        Self {
            admin_secret,
            admin_ks_ttl: Duration::from_hours(1),
            breaker: BreakerConfig::default(),
            client_tag: format!("kalcord:{}", env!("CARGO_PKG_VERSION")),
            connect_timeout: Duration::from_secs(3),
            kaf_url: None,
            partner_id,
            retry: RetryPolicy::default(),
            service_url,
            timeout: Duration::from_secs(10),
        }
    }
}

/// One call in a multirequest.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Service id, e.g. `schedule_scheduleresource`.
    pub service: &'static str,
    /// Action.
    pub action: &'static str,
    /// Parameters; `{N:result:prop}` strings refer to the N-th result (1-based).
    pub params: Value,
}

/// Whether a call may be sent twice without harm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, deletes by id: retried after any infrastructure failure.
    Safe,
    /// Creations: retried only when the request surely did not reach the server.
    Unsafe,
}

struct Inner {
    admin_ks: RwLock<Option<(String, i64)>>,
    breaker: Breaker,
    config: ClientConfig,
    http: reqwest::Client,
    minter: Minter,
}

/// Client for one partner; cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("partner_id", &self.inner.config.partner_id)
            .field("service_url", &self.inner.config.service_url.as_str())
            .finish_non_exhaustive()
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs().try_into().unwrap_or(i64::MAX))
}

impl Client {
    /// A client for the partner in `config`.
    ///
    /// # Errors
    ///
    /// [`KalturaError::InvalidArgument`] when the HTTP client cannot be built.
    pub fn new(config: ClientConfig) -> Result<Self, KalturaError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .build()
            .map_err(|err| KalturaError::InvalidArgument(format!("http client: {err}")))?;
        let minter = Minter::new(config.partner_id, config.admin_secret.expose());
        let inner = Inner { admin_ks: RwLock::new(None), breaker: Breaker::new(config.breaker), config, http, minter };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The partner id.
    #[must_use]
    pub fn partner_id(&self) -> i64 {
        self.inner.config.partner_id
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The admin KS used for API calls, minted locally and reused until 5 minutes (or a
    /// tenth of its life) before it expires. Never hand it to a user.
    #[must_use]
    pub fn admin_ks(&self) -> String {
        let now = now();
        let ttl = i64::try_from(self.inner.config.admin_ks_ttl.as_secs()).unwrap_or(3600).max(60);
        let margin = (ttl / 10).min(300);
        if let Some((ks, expiry)) = self.inner.admin_ks.read().as_ref()
            && *expiry - margin > now
        {
            return ks.clone();
        }
        let expiry = now + ttl;
        let privileges = Privileges::new().with_flag("disableentitlement");
        let spec = KsSpec {
            expiry,
            partner_id: self.partner_id(),
            privileges: &privileges,
            session_type: SessionType::Admin,
            user_id: "",
        };
        let ks = self.inner.minter.mint(&spec);
        *self.inner.admin_ks.write() = Some((ks.clone(), expiry));
        ks
    }

    fn forget_admin_ks(&self) {
        *self.inner.admin_ks.write() = None;
    }

    /// Mints a USER KS locally (no round trip) for `user_id` with `privileges`, valid for `ttl`.
    #[must_use]
    pub fn mint_user_ks(&self, user_id: &str, privileges: &Privileges, ttl: Duration) -> String {
        let expiry = now() + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let spec =
            KsSpec { expiry, partner_id: self.partner_id(), privileges, session_type: SessionType::User, user_id };
        self.inner.minter.mint(&spec)
    }

    /// Calls `service.action` with the admin KS and decodes the result.
    ///
    /// # Errors
    ///
    /// Any [`KalturaError`]; an API error is [`KalturaError::Api`].
    pub async fn call<T: DeserializeOwned>(
        &self,
        service: &str,
        action: &str,
        params: Value,
        idempotency: Idempotency,
    ) -> Result<T, KalturaError> {
        let value = self.call_value(service, action, params, idempotency).await?;
        serde_json::from_value(value).map_err(|err| KalturaError::Decode {
            service: service.to_owned(),
            action: action.to_owned(),
            reason: err.to_string(),
        })
    }

    /// Like [`Client::call`], returning the raw JSON result.
    ///
    /// # Errors
    ///
    /// Any [`KalturaError`].
    pub async fn call_value(
        &self,
        service: &str,
        action: &str,
        params: Value,
        idempotency: Idempotency,
    ) -> Result<Value, KalturaError> {
        let path = format!("api_v3/service/{service}/action/{action}");
        let value = self.send(service, action, &path, params, idempotency).await?;
        match api_error(&value) {
            Some(error) => Err(KalturaError::Api { service: service.to_owned(), action: action.to_owned(), error }),
            None => Ok(value),
        }
    }

    /// Sends several calls in one request; each gets its own result or API error.
    ///
    /// # Errors
    ///
    /// When the request as a whole fails, or the answer is not one result per call.
    pub async fn multirequest(
        &self,
        calls: &[Call],
        idempotency: Idempotency,
    ) -> Result<Vec<Result<Value, ApiError>>, KalturaError> {
        let mut params = Map::new();
        for (index, call) in calls.iter().enumerate() {
            let mut sub = call.params.as_object().cloned().unwrap_or_default();
            sub.insert("service".to_owned(), json!(call.service));
            sub.insert("action".to_owned(), json!(call.action));
            params.insert(index.to_string(), Value::Object(sub));
        }
        let value =
            self.send("multirequest", "", "api_v3/service/multirequest", Value::Object(params), idempotency).await?;
        let decode = |reason: &str| KalturaError::Decode {
            service: "multirequest".to_owned(),
            action: String::new(),
            reason: reason.to_owned(),
        };
        if let Some(error) = api_error(&value) {
            return Err(KalturaError::Api { service: "multirequest".to_owned(), action: String::new(), error });
        }
        let Value::Array(items) = value else { return Err(decode("expected an array")) };
        if items.len() != calls.len() {
            return Err(decode(&format!("expected {} results, got {}", calls.len(), items.len())));
        }
        Ok(items.into_iter().map(|item| api_error(&item).map_or(Ok(item), Err)).collect())
    }

    /// One logical call with retries, breaker and admin KS renewal.
    async fn send(
        &self,
        service: &str,
        action: &str,
        path: &str,
        params: Value,
        idempotency: Idempotency,
    ) -> Result<Value, KalturaError> {
        let mut attempt = Attempt::new(self.inner.config.retry);
        let mut renewed_ks = false;
        loop {
            if let Admission::Rejected(remaining) = self.inner.breaker.admit() {
                return Err(KalturaError::CircuitOpen { partner_id: self.partner_id(), remaining });
            }
            let result = self.send_once(service, action, path, &params).await;
            let retryable = match &result {
                Ok(value) => {
                    self.inner.breaker.record_success();
                    match api_error(value) {
                        Some(ApiError::ActionBlocked { .. }) => true,
                        Some(ApiError::InvalidKs { .. }) if !renewed_ks && params.get("ks").is_none() => {
                            // NOTE: our cached admin KS may have been revoked or the clocks drift.
                            self.forget_admin_ks();
                            renewed_ks = true;
                            continue;
                        }
                        _ => return result,
                    }
                }
                Err(err) => {
                    self.inner.breaker.record_failure();
                    is_retryable(err, idempotency)
                }
            };
            match attempt.next_delay() {
                Some(delay) if retryable => {
                    tracing::debug!(service, action, ?delay, "retrying kaltura call");
                    tokio::time::sleep(delay).await;
                }
                _ => return result,
            }
        }
    }

    async fn send_once(&self, service: &str, action: &str, path: &str, params: &Value) -> Result<Value, KalturaError> {
        let config = &self.inner.config;
        let mut body = params.as_object().cloned().unwrap_or_default();
        body.insert("format".to_owned(), json!(1));
        body.insert("clientTag".to_owned(), json!(config.client_tag));
        body.entry("ks".to_owned()).or_insert_with(|| json!(self.admin_ks()));
        let url = config.service_url.join(path).map_err(|err| KalturaError::InvalidArgument(err.to_string()))?;
        let response =
            self.inner.http.post(url).header("Accept", "application/json").json(&Value::Object(body)).send().await;
        let response = response.map_err(|err| self.transport_error(service, action, err))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(KalturaError::Http { service: service.to_owned(), action: action.to_owned(), status });
        }
        let bytes = response.bytes().await.map_err(|err| self.transport_error(service, action, err))?;
        serde_json::from_slice(&bytes).map_err(|err| KalturaError::Decode {
            service: service.to_owned(),
            action: action.to_owned(),
            reason: format!("not JSON: {err}"),
        })
    }

    fn transport_error(&self, service: &str, action: &str, err: reqwest::Error) -> KalturaError {
        if err.is_timeout() {
            KalturaError::Timeout {
                service: service.to_owned(),
                action: action.to_owned(),
                after: self.inner.config.timeout,
            }
        } else {
            KalturaError::Transport { url: self.inner.config.service_url.to_string(), source: err }
        }
    }

    /// Base URL of the partner's KAF host.
    #[must_use]
    pub fn kaf_url(&self) -> Url {
        self.inner.config.kaf_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("https://{}.kaf.kaltura.com/", self.partner_id())).expect("valid KAF URL")
        })
    }
}

/// Whether an infrastructure failure may be retried for a call of this kind.
fn is_retryable(err: &KalturaError, idempotency: Idempotency) -> bool {
    match err {
        KalturaError::Transport { source, .. } if source.is_connect() => true,
        KalturaError::Http { status, .. } => {
            matches!(status, 429 | 502 | 503 | 504) || (*status >= 500 && idempotency == Idempotency::Safe)
        }
        KalturaError::Transport { .. } | KalturaError::Timeout { .. } => idempotency == Idempotency::Safe,
        _ => false,
    }
}
