//! The consumer and request streams handed to services, with dead-lettering built in.

use std::fmt;
use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::BoxStream;

use crate::spec::ConsumerSpec;
use crate::subject::dead_letter;
use crate::{BusError, Delivery, Event, Request, SharedBus};

/// Header naming the subject a dead letter was first published on.
pub const HEADER_DLQ_SUBJECT: &str = "Kalcord-Dlq-Subject";
/// Header naming the consumer that gave up on a dead letter (`STREAM/durable`).
pub const HEADER_DLQ_CONSUMER: &str = "Kalcord-Dlq-Consumer";
/// Header giving how many times a dead letter had been delivered.
pub const HEADER_DLQ_ATTEMPTS: &str = "Kalcord-Dlq-Attempts";
/// Header giving the stream sequence of a dead letter in its first stream.
pub const HEADER_DLQ_SEQUENCE: &str = "Kalcord-Dlq-Sequence";

/// Deliveries of one durable consumer.
pub struct Consumer {
    bus: SharedBus,
    deliveries: BoxStream<'static, Result<Delivery, BusError>>,
    spec: ConsumerSpec,
}

impl fmt::Debug for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer").field("spec", &self.spec).finish_non_exhaustive()
    }
}

impl Consumer {
    /// Wraps a backend's raw deliveries.
    pub(crate) fn new(
        spec: ConsumerSpec,
        deliveries: BoxStream<'static, Result<Delivery, BusError>>,
        bus: SharedBus,
    ) -> Self {
        Self { bus, deliveries, spec }
    }

    /// The consumer's declaration.
    #[must_use]
    pub fn spec(&self) -> &ConsumerSpec {
        &self.spec
    }

    /// Waits for the next delivery to handle.
    ///
    /// Messages already delivered `max_deliveries` times are moved to the dead-letter subject
    /// on the way and never returned. `None` means the bus closed.
    pub async fn next(&mut self) -> Option<Result<Delivery, BusError>> {
        loop {
            let delivery = match self.deliveries.next().await? {
                Ok(delivery) => delivery,
                Err(err) => return Some(Err(err)),
            };
            if delivery.attempt <= self.spec.max_deliveries {
                return Some(Ok(delivery));
            }
            if let Err(err) = move_to_dead_letter(&self.bus, &self.spec, delivery).await {
                return Some(Err(err));
            }
        }
    }
}

/// Moves an over-delivered message to its dead-letter subject, then terminates it.
// NOTE: a free function borrowing fields, so `Consumer::next` stays `Send` without `Sync`.
async fn move_to_dead_letter(bus: &SharedBus, spec: &ConsumerSpec, delivery: Delivery) -> Result<(), BusError> {
    let consumer = format!("{}/{}", spec.stream, spec.durable);
    let mut message = delivery.message.clone();
    message.headers.insert(HEADER_DLQ_SUBJECT.to_owned(), delivery.subject.clone());
    message.headers.insert(HEADER_DLQ_CONSUMER.to_owned(), consumer.clone());
    message.headers.insert(HEADER_DLQ_ATTEMPTS.to_owned(), (delivery.attempt - 1).to_string());
    message.headers.insert(HEADER_DLQ_SEQUENCE.to_owned(), delivery.sequence.to_string());
    let event = Event {
        subject: dead_letter(&delivery.subject),
        dedup_id: format!("dlq:{consumer}:{}", delivery.sequence),
        message,
    };
    match bus.publish(event).await {
        Ok(_) => {
            tracing::warn!(subject = %delivery.subject, consumer = %consumer, attempts = delivery.attempt - 1, "message dead-lettered after too many deliveries");
            metrics::counter!("kalcord_bus_dead_lettered_total", "consumer" => consumer).increment(1);
            delivery.term().await
        }
        Err(err) => {
            // NOTE: keep the message; it comes back and the dead-lettering is retried.
            let _ = delivery.nak(Some(Duration::from_secs(1))).await;
            Err(err)
        }
    }
}

/// Requests arriving on a served subject. Dropping it stops serving.
pub struct Requests {
    requests: BoxStream<'static, Request>,
    subject: String,
}

impl fmt::Debug for Requests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requests").field("subject", &self.subject).finish_non_exhaustive()
    }
}

impl Requests {
    pub(crate) fn new(subject: &str, requests: BoxStream<'static, Request>) -> Self {
        Self { requests, subject: subject.to_owned() }
    }

    /// Subject served.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Waits for the next request; `None` means the bus closed.
    pub async fn next(&mut self) -> Option<Request> {
        self.requests.next().await
    }
}
