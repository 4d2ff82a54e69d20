#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

mod config;
mod consumer;
mod error;
mod memory;
mod message;
mod nats;
pub mod spec;
pub mod subject;
mod typed;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use config::{BusBackend, BusConfig, DEFAULT_NATS_URL, DEFAULT_REQUEST_TIMEOUT, connect};
pub use consumer::{
    Consumer, HEADER_DLQ_ATTEMPTS, HEADER_DLQ_CONSUMER, HEADER_DLQ_SEQUENCE, HEADER_DLQ_SUBJECT, Requests,
};
pub use error::BusError;
pub use memory::MemoryBus;
pub use message::{Acker, Delivery, Event, Headers, Message, PublishAck, Replier, Request};
pub use nats::NatsBus;
pub use spec::{ConsumerSpec, StreamSpec};
pub use typed::{BusExt, decode};

/// A bus shared by every task of a process.
pub type SharedBus = Arc<dyn Bus>;

/// Durable events and request-reply; see the crate documentation for the guarantees.
#[async_trait]
pub trait Bus: Send + Sync + std::fmt::Debug + 'static {
    /// Declares a stream; a no-op when it exists with the same subjects.
    async fn ensure_stream(&self, spec: &StreamSpec) -> Result<(), BusError>;

    /// Stores an event durably and returns once the broker has it.
    async fn publish(&self, event: Event) -> Result<PublishAck, BusError>;

    /// Stores events in order, pipelined: every event is sent before any acknowledgement is
    /// awaited. One result per event, in the same order; after the first event that could not
    /// be sent, the rest are not sent (so retrying from the first failure keeps the order).
    async fn publish_batch(&self, events: Vec<Event>) -> Vec<Result<PublishAck, BusError>> {
        let mut results = Vec::with_capacity(events.len());
        for event in events {
            if results.last().is_some_and(Result::is_err) {
                results.push(Err(BusError::broker(
                    "publish",
                    event.subject,
                    "an earlier event of the batch was not stored",
                )));
                continue;
            }
            results.push(self.publish(event).await);
        }
        results
    }

    /// Binds to a durable consumer, creating it on first use.
    async fn consume(&self, spec: &ConsumerSpec) -> Result<Consumer, BusError>;

    /// Sends a request to one server of `subject` and waits up to `timeout` for its reply.
    async fn request(&self, subject: &str, message: Message, timeout: Duration) -> Result<Message, BusError>;

    /// Serves requests on `subject`, load-balanced across every server in `group`.
    async fn serve(&self, subject: &str, group: &str) -> Result<Requests, BusError>;

    /// Checks the broker answers (readiness).
    async fn check(&self) -> Result<(), BusError>;

    /// Flushes pending work and disconnects.
    async fn close(&self) -> Result<(), BusError>;
}

#[cfg(test)]
mod tests {
    use futures::StreamExt as _;
    use static_assertions::assert_impl_all;

    use super::{Consumer, Delivery, Event, MemoryBus, Message, NatsBus, Request, Requests, SharedBus};

    assert_impl_all!(SharedBus: Send, Sync);
    assert_impl_all!(MemoryBus: Send, Sync, Clone);
    assert_impl_all!(NatsBus: Send, Sync, Clone);
    assert_impl_all!(Consumer: Send);
    assert_impl_all!(Requests: Send);
    assert_impl_all!(Delivery: Send);
    assert_impl_all!(Request: Send);
    assert_impl_all!(Event: Send, Sync);
    assert_impl_all!(Message: Send, Sync);

    #[test]
    fn consumer_next_is_send() {
        fn is_send<T: Send>(_: &T) {}
        let spec = crate::ConsumerSpec::new("S", "d", "a.>");
        let bus: SharedBus = std::sync::Arc::new(MemoryBus::new(""));
        let mut consumer = Consumer::new(spec, futures::stream::empty().boxed(), bus);
        is_send(&consumer.next());
    }
}
