//! The outbox relay: publishes the events committed to the outbox, in order, and marks them.
//!
//! It runs at start (so events committed just before a crash still go out), whenever this
//! replica commits a change ([`MeetingsApi`](crate::MeetingsApi) wakes it), and on a periodic
//! sweep that picks up rows other replicas wrote. Replicas may relay the same rows at once:
//! each event carries its id as the bus dedup id, so the stream stores it once, and marking a
//! row published is idempotent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use kalcord_bus::{BusError, Event, SharedBus};
use kalcord_runtime::CancellationToken;
use kalcord_store::repo::outbox;
use kalcord_store::{Store, StoreError};
use tokio::sync::Notify;
use uuid::Uuid;

/// Most outbox rows read and published at a time.
pub const BATCH: u64 = 100;
/// How often published rows older than the retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_hours(1);
/// How long the last pass at shutdown may take.
const FINAL_PASS: Duration = Duration::from_secs(5);

/// A relay pass failed; the rows stay unpublished and the next pass tries again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The outbox cannot be read or marked.
    #[error("cannot read or mark the event outbox")]
    Store(#[from] StoreError),
    /// The bus did not store an event.
    #[error("cannot publish an outbox event")]
    Bus(#[from] BusError),
}

/// Publishes outbox rows to the bus.
#[derive(Debug)]
pub struct Relay {
    bus: SharedBus,
    retention: Duration,
    store: Store,
    sweep: Duration,
    wake: Arc<Notify>,
}

impl Relay {
    /// A relay woken by `wake`, sweeping every `sweep`, keeping published rows for `retention`.
    #[must_use]
    pub fn new(bus: SharedBus, store: Store, wake: Arc<Notify>, sweep: Duration, retention: Duration) -> Self {
        Self { bus, retention, store, sweep, wake }
    }

    /// Publishes every unpublished row, oldest first, and marks each one the bus stored; returns
    /// how many it marked. Stops at the first event the bus refuses, so none is published ahead
    /// of an earlier one.
    ///
    /// # Errors
    ///
    /// When the outbox cannot be read or marked, or the bus refuses an event.
    pub async fn publish_pending(&self) -> Result<u64, RelayError> {
        let db = self.store.connection();
        let mut marked: u64 = 0;
        loop {
            let rows = outbox::unpublished(db, BATCH).await?;
            let full = u64::try_from(rows.len()).is_ok_and(|len| len == BATCH);
            let events: Vec<Event> =
                rows.iter().map(|row| Event::new(&row.subject, row.id.to_string(), row.payload.clone())).collect();
            let results = self.bus.publish_batch(events).await;
            let mut published: Vec<Uuid> = Vec::with_capacity(rows.len());
            let mut refused = None;
            for (row, result) in rows.iter().zip(results) {
                match result {
                    Ok(ack) if ack.duplicate => {
                        tracing::debug!(event = %row.id, "outbox event was published already");
                        published.push(row.id);
                    }
                    Ok(_) => published.push(row.id),
                    Err(err) => {
                        refused = Some(err);
                        break;
                    }
                }
            }
            // NOTE: counts only the rows this relay marked first (another may have been quicker).
            marked += outbox::mark_published(db, &published).await?;
            if let Some(err) = refused {
                return Err(err.into());
            }
            if !full {
                return Ok(marked);
            }
        }
    }

    /// Runs until `shutdown` is cancelled, then makes one last pass (bounded in time).
    #[tracing::instrument(name = "outbox_relay", skip_all)]
    pub async fn run(self, shutdown: CancellationToken) {
        let mut pruned: Option<Instant> = None;
        loop {
            self.pass().await;
            if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                self.prune().await;
                pruned = Some(Instant::now());
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.sweep) => {}
            }
        }
        if tokio::time::timeout(FINAL_PASS, self.pass()).await.is_err() {
            tracing::warn!("outbox relay stopped with events left; the next start publishes them");
        }
    }

    async fn pass(&self) {
        match self.publish_pending().await {
            Ok(0) => {}
            Ok(count) => tracing::debug!(count, "outbox events published"),
            Err(err) => {
                let source = std::error::Error::source(&err).map(ToString::to_string);
                tracing::warn!(error = %err, source = ?source, "outbox relay pass failed; retrying on the next sweep");
            }
        }
    }

    async fn prune(&self) {
        let age = TimeDelta::from_std(self.retention).unwrap_or(TimeDelta::MAX);
        match outbox::prune_published(self.store.connection(), age).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "published outbox events pruned"),
            Err(err) => tracing::warn!(error = %err, "cannot prune the event outbox"),
        }
    }
}
