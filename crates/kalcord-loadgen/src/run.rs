//! Sending: connections, the closed and the open loop.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1;
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;
use url::Url;

use crate::report::{Latencies, Report};

/// One request, ready to send: body and headers, signatures included.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Body bytes, sent as they are.
    pub body: Bytes,
    /// Headers besides `host` and `content-type: application/json`.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Decides whether an answer counts: `Ok` or the reason it does not.
pub type Check = Arc<dyn Fn(u16, &[u8]) -> Result<(), String> + Send + Sync>;

/// How requests are paced.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// `connections` senders, each sending again as soon as it has its answer.
    Closed {
        /// Concurrent connections.
        connections: usize,
    },
    /// `rate` requests per second whatever the target does, over up to `connections` connections
    /// (a request due while every connection is busy waits, and its wait counts as latency).
    Open {
        /// Requests per second offered.
        rate: f64,
        /// Most requests in flight at once.
        connections: usize,
    },
}

impl Mode {
    fn label(self) -> String {
        match self {
            Self::Closed { connections } => format!("closed loop, {connections} connections"),
            Self::Open { rate, connections } => {
                format!("open loop, {rate:.0}/s offered, up to {connections} in flight")
            }
        }
    }

    fn connections(self) -> usize {
        match self {
            Self::Closed { connections } | Self::Open { connections, .. } => connections.max(1),
        }
    }
}

/// A run: what to send where, and how.
#[derive(Clone)]
pub struct Plan {
    /// `http://127.0.0.1:PORT/path`.
    pub url: Url,
    /// Pacing.
    pub mode: Mode,
    /// Longest the run lasts (an open loop offers `rate × duration` requests).
    pub duration: Duration,
    /// The requests, used in order.
    pub requests: Arc<[Prepared]>,
    /// Each request at most once (the run ends when they are used up); else they cycle.
    pub once: bool,
    /// Which answers count.
    pub check: Check,
    /// Longest wait for one answer (it then fails as `timeout`).
    pub timeout: Duration,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Only `http://` URLs with a host and port are supported.
    #[error("unsupported URL {0}: expected http://HOST:PORT/PATH")]
    Url(String),
    /// The host does not resolve.
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// Nothing to send.
    #[error("no requests to send")]
    Empty,
}

struct Target {
    addr: SocketAddr,
    authority: HeaderValue,
    path: String,
}

impl Target {
    async fn of(url: &Url) -> Result<Self, RunError> {
        if url.scheme() != "http" {
            return Err(RunError::Url(url.to_string()));
        }
        let host = url.host_str().ok_or_else(|| RunError::Url(url.to_string()))?;
        let port = url.port_or_known_default().ok_or_else(|| RunError::Url(url.to_string()))?;
        let addr = tokio::net::lookup_host((host, port))
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| RunError::Resolve(format!("{host}:{port}")))?;
        let authority = HeaderValue::from_str(&format!("{host}:{port}")).map_err(|_| RunError::Url(url.to_string()))?;
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        Ok(Self { addr, authority, path })
    }
}

/// One keep-alive connection, reopened after a failure.
struct Connection {
    target: Arc<Target>,
    sender: Option<http1::SendRequest<Full<Bytes>>>,
}

impl Connection {
    async fn open(&mut self) -> Result<&mut http1::SendRequest<Full<Bytes>>, String> {
        if self.sender.as_ref().is_some_and(http1::SendRequest::is_closed) {
            self.sender = None;
        }
        if self.sender.is_none() {
            let stream = TcpStream::connect(self.target.addr).await.map_err(|error| format!("connect: {error}"))?;
            let _ = stream.set_nodelay(true);
            let (sender, connection) =
                http1::handshake(TokioIo::new(stream)).await.map_err(|error| format!("handshake: {error}"))?;
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        self.sender.as_mut().ok_or_else(|| "no connection".to_owned())
    }

    async fn exchange(&mut self, prepared: &Prepared) -> Result<(u16, Bytes), String> {
        let target = Arc::clone(&self.target);
        let sender = self.open().await?;
        sender.ready().await.map_err(|error| format!("http: {error}"))?;
        let mut request = hyper::Request::post(target.path.as_str())
            .header(HOST, target.authority.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in &prepared.headers {
            request = request.header(name, value);
        }
        let request = request.body(Full::new(prepared.body.clone())).map_err(|error| format!("request: {error}"))?;
        let response = sender.send_request(request).await.map_err(|error| format!("http: {error}"))?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.map_err(|error| format!("body: {error}"))?.to_bytes();
        Ok((status, body))
    }

    /// Sends `prepared`; `Err` carries the failure reason.
    async fn send(&mut self, prepared: &Prepared, timeout: Duration, check: &Check) -> Result<(), String> {
        let answer = match tokio::time::timeout(timeout, self.exchange(prepared)).await {
            Ok(answer) => answer,
            Err(_) => Err("timeout".to_owned()),
        };
        match answer {
            Ok((status, body)) => check(status, &body)
                .map_err(|reason| if reason.starts_with("status") { reason } else { format!("check: {reason}") }),
            Err(reason) => {
                // NOTE: a connection that failed mid-exchange cannot carry the next request.
                self.sender = None;
                Err(reason)
            }
        }
    }
}

/// What one sender saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: BTreeMap<String, u64>,
    sent: u64,
    last: Option<Instant>,
}

impl Tally {
    fn record(&mut self, outcome: Result<(), String>, latency: Duration) {
        self.sent += 1;
        self.last = Some(Instant::now());
        match outcome {
            Ok(()) => self.latencies.push(latency),
            Err(reason) => {
                let reason: String = reason.chars().take(160).collect();
                *self.errors.entry(reason).or_default() += 1;
            }
        }
    }

    fn merge(&mut self, other: Self) {
        self.latencies.extend(other.latencies);
        for (reason, count) in other.errors {
            *self.errors.entry(reason).or_default() += count;
        }
        self.sent += other.sent;
        self.last = self.last.max(other.last);
    }
}

/// Runs `plan` to the end and reports.
///
/// # Errors
///
/// [`RunError`] when the URL is not a loopback-style `http://HOST:PORT/PATH` that resolves, or
/// there is nothing to send. Failures of single requests are counted in the report, never errors.
pub async fn run(plan: Plan) -> Result<Report, RunError> {
    if plan.requests.is_empty() {
        return Err(RunError::Empty);
    }
    let target = Arc::new(Target::of(&plan.url).await?);
    let plan = Arc::new(plan);
    let started = Instant::now();
    let (tally, offered) = match plan.mode {
        Mode::Closed { .. } => (closed(&plan, &target, started).await, None),
        Mode::Open { rate, .. } => (open(&plan, &target, started, rate).await, Some(rate)),
    };
    let Tally { mut latencies, errors, sent, last } = tally;
    let elapsed = last.map_or(Duration::ZERO, |last| last.saturating_duration_since(started)).as_secs_f64();
    let ok = latencies.len() as u64;
    Ok(Report {
        mode: plan.mode.label(),
        sent,
        ok,
        errors,
        elapsed_s: elapsed,
        throughput: if elapsed > 0.0 { ok as f64 / elapsed } else { 0.0 },
        offered_rate: offered,
        latency: Latencies::of(&mut latencies),
    })
}

async fn closed(plan: &Arc<Plan>, target: &Arc<Target>, started: Instant) -> Tally {
    let deadline = started + plan.duration;
    let next = Arc::new(AtomicUsize::new(0));
    // NOTE: every sender is spawned before any is awaited, so all connections run at once.
    let senders: Vec<_> = (0..plan.mode.connections())
        .map(|_| {
            let (plan, next) = (Arc::clone(plan), Arc::clone(&next));
            let mut connection = Connection { target: Arc::clone(target), sender: None };
            tokio::spawn(async move {
                let mut tally = Tally::default();
                while Instant::now() < deadline {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if plan.once && index >= plan.requests.len() {
                        break;
                    }
                    let prepared = &plan.requests[index % plan.requests.len()];
                    let sent = Instant::now();
                    let outcome = connection.send(prepared, plan.timeout, &plan.check).await;
                    tally.record(outcome, sent.elapsed());
                }
                tally
            })
        })
        .collect();
    gather(senders).await
}

async fn open(plan: &Arc<Plan>, target: &Arc<Target>, started: Instant, rate: f64) -> Tally {
    let rate = rate.max(0.001);
    let mut total = (rate * plan.duration.as_secs_f64()).round() as usize;
    if plan.once {
        total = total.min(plan.requests.len());
    }
    let (due, queue) = mpsc::unbounded_channel::<usize>();
    let queue = Arc::new(Mutex::new(queue));
    let senders: Vec<_> = (0..plan.mode.connections().min(total.max(1)))
        .map(|_| {
            let (plan, queue) = (Arc::clone(plan), Arc::clone(&queue));
            let mut connection = Connection { target: Arc::clone(target), sender: None };
            tokio::spawn(async move {
                let mut tally = Tally::default();
                loop {
                    let Some(index) = queue.lock().await.recv().await else { break };
                    // NOTE: latency runs from when the request was due, not from when a connection took it.
                    let due_at = started + Duration::from_secs_f64(index as f64 / rate);
                    let prepared = &plan.requests[index % plan.requests.len()];
                    let outcome = connection.send(prepared, plan.timeout, &plan.check).await;
                    tally.record(outcome, due_at.elapsed());
                }
                tally
            })
        })
        .collect();
    let mut offered = 0;
    while offered < total {
        let now_due = ((started.elapsed().as_secs_f64() * rate).floor() as usize + 1).min(total);
        while offered < now_due {
            if due.send(offered).is_err() {
                break;
            }
            offered += 1;
        }
        if offered < total {
            let next_at = started + Duration::from_secs_f64(offered as f64 / rate);
            tokio::time::sleep_until(next_at).await;
        }
    }
    drop(due);
    gather(senders).await
}

async fn gather(senders: Vec<tokio::task::JoinHandle<Tally>>) -> Tally {
    let mut all = Tally::default();
    for sender in senders {
        if let Ok(tally) = sender.await {
            all.merge(tally);
        }
    }
    all
}

/// A check passing 2xx answers whose body contains `needle`.
#[must_use]
pub fn body_contains(needle: &'static str) -> Check {
    Arc::new(move |status, body| {
        if !(200..300).contains(&status) {
            return Err(format!("status {status}"));
        }
        if body.windows(needle.len()).any(|window| window == needle.as_bytes()) {
            Ok(())
        } else {
            Err(format!("no {needle} in {}", String::from_utf8_lossy(&body[..body.len().min(120)])))
        }
    })
}

/// A check passing any answer with exactly this status.
#[must_use]
pub fn status_is(expected: u16) -> Check {
    Arc::new(move |status, _| if status == expected { Ok(()) } else { Err(format!("status {status}")) })
}
