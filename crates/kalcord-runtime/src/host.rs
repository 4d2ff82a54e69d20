//! Runs one or more services on shared dependencies, with the admin server, status replies
//! and graceful shutdown.

use futures::FutureExt as _;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt as _};
use kalcord_bus::Message;
use kalcord_proto::Message as _;
use kalcord_proto::v1::{Check, StatusReply};
use tokio_util::sync::CancellationToken;

use crate::admin::{AdminServer, Readiness};
use crate::config::CommonConfig;
use crate::deps::{Deps, Needs};
use crate::error::{BoxError, RuntimeError};
use crate::service::{Endpoint, Service, status_subject};

type RunFn = Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, Result<(), BoxError>> + Send>;

struct Built {
    name: &'static str,
    needs: Needs,
    run: RunFn,
}

/// Services sharing one set of dependencies in one process.
pub struct Host {
    common: CommonConfig,
    deps: Deps,
    endpoints: Vec<Endpoint>,
    probes: Vec<std::sync::Arc<dyn crate::deps::Probe>>,
    services: Vec<Built>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.services.iter().map(|service| service.name).collect();
        f.debug_struct("Host").field("services", &names).field("endpoints", &self.endpoints).finish_non_exhaustive()
    }
}

impl Host {
    /// A host with no service yet.
    #[must_use]
    pub fn new(common: CommonConfig, deps: Deps) -> Self {
        Self { common, deps, endpoints: Vec::new(), probes: Vec::new(), services: Vec::new() }
    }

    /// Builds a service and adds it.
    ///
    /// # Errors
    ///
    /// [`RuntimeError::Service`] when the service cannot be built.
    pub async fn add<S: Service>(&mut self, config: S::Config) -> Result<(), RuntimeError> {
        let service = S::build(config, self.deps.clone())
            .await
            .map_err(|err| RuntimeError::Service { service: S::NAME, source: Box::new(err) })?;
        self.endpoints.extend(service.endpoints());
        self.probes.extend(service.probe());
        let run: RunFn = Box::new(move |token| service.run(token).map(|result| result.map_err(BoxError::from)).boxed());
        self.services.push(Built { name: S::NAME, needs: S::NEEDS, run });
        Ok(())
    }

    /// Listeners announced so far by the added services.
    #[must_use]
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// Runs every service until `stop` resolves or one of them ends, then shuts down:
    /// `/readyz` turns 503, services are cancelled and get `shutdown.timeout` to finish,
    /// then the admin server and the dependencies close.
    ///
    /// `on_ready` receives every listener (admin included) once all are up.
    ///
    /// # Errors
    ///
    /// The admin listener cannot be bound, or a service failed.
    pub async fn run(
        self,
        stop: impl Future<Output = ()>,
        on_ready: impl FnOnce(&[Endpoint]),
    ) -> Result<(), RuntimeError> {
        let needs = self.services.iter().fold(Needs::default(), |all, service| all.union(service.needs));
        let readiness = Readiness::new(self.deps.clone(), needs).with_probes(self.probes);
        let admin = AdminServer::start(self.common.admin.listen, readiness.clone())?;
        let token = CancellationToken::new();
        let mut running = FuturesUnordered::new();
        for service in self.services {
            let status =
                tokio::spawn(serve_status(service.name, service.needs, self.deps.clone(), token.child_token()));
            let task = tokio::spawn((service.run)(token.child_token()));
            running.push(async move { (service.name, task.await, status) });
        }
        let mut endpoints = self.endpoints;
        endpoints.push(Endpoint { name: "admin", url: format!("http://{}", admin.local_addr()) });
        on_ready(&endpoints);
        tracing::info!(services = running.len(), "started");

        tokio::pin!(stop);
        let mut failure = None;
        tokio::select! {
            () = &mut stop => tracing::info!("stop requested; shutting down"),
            Some((name, result, _)) = running.next() => failure = Some(ended_early(name, result)),
        }
        readiness.set_stopping();
        token.cancel();
        let timeout = self.common.shutdown.timeout;
        let drained = tokio::time::timeout(timeout, async {
            while let Some((name, result, status)) = running.next().await {
                let _ = status.await;
                if let Some(err) = finished(name, result) {
                    failure.get_or_insert(err);
                }
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(timeout = ?timeout, "services did not stop within the shutdown timeout; exiting anyway");
        }
        admin.stop().await;
        self.deps.close().await;
        tracing::info!("stopped");
        failure.map_or(Ok(()), Err)
    }
}

fn finished(name: &'static str, result: Result<Result<(), BoxError>, tokio::task::JoinError>) -> Option<RuntimeError> {
    match result {
        Ok(Ok(())) => None,
        Ok(Err(source)) => Some(RuntimeError::Service { service: name, source }),
        Err(join) => Some(RuntimeError::Service { service: name, source: Box::new(join) }),
    }
}

fn ended_early(name: &'static str, result: Result<Result<(), BoxError>, tokio::task::JoinError>) -> RuntimeError {
    let err = finished(name, result)
        .unwrap_or_else(|| RuntimeError::Service { service: name, source: "stopped on its own".into() });
    tracing::error!(service = name, error = %crate::error::chain(&err), "service ended; shutting down the process");
    err
}

/// Answers `<service>.status` until cancelled.
async fn serve_status(service: &'static str, needs: Needs, deps: Deps, token: CancellationToken) {
    let subject = status_subject(service);
    let mut requests = match deps.bus.serve(&subject, service).await {
        Ok(requests) => requests,
        Err(err) => {
            tracing::error!(service, error = %err, "cannot serve status requests");
            return;
        }
    };
    loop {
        let request = tokio::select! {
            () = token.cancelled() => return,
            request = requests.next() => match request {
                Some(request) => request,
                None => return,
            },
        };
        let checks = deps.check(needs).await;
        let reply = StatusReply {
            service: service.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            instance: deps.instance.to_string(),
            ready: checks.iter().all(|check| check.ok),
            uptime_seconds: deps.started.elapsed().as_secs(),
            checks: checks
                .into_iter()
                .map(|c| Check { name: c.name.into_owned(), ok: c.ok, detail: c.detail })
                .collect(),
        };
        if let Err(err) = request.respond(Message::new(reply.encode_to_vec())).await {
            tracing::debug!(service, error = %err, "status reply not delivered");
        }
    }
}

/// Waits for SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = terminate => tracing::info!("received SIGTERM"),
        _ = tokio::signal::ctrl_c() => tracing::info!("received SIGINT"),
    }
}
