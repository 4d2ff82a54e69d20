//! Messages, deliveries and requests as the handlers see them.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::BusError;

/// Message headers (single-valued, case-sensitive names).
pub type Headers = BTreeMap<String, String>;

/// A payload and its headers.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// Headers, including `traceparent` once sent.
    pub headers: Headers,
    /// Encoded payload (protobuf for everything kalcord sends).
    pub payload: Bytes,
}

impl fmt::Debug for Message {
    // NOTE: payloads can carry personal data; Debug shows their size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message").field("headers", &self.headers).field("payload_len", &self.payload.len()).finish()
    }
}

impl Message {
    /// A message without headers.
    #[must_use]
    pub fn new(payload: impl Into<Bytes>) -> Self {
        Self { headers: Headers::new(), payload: payload.into() }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Writes the current span's trace context into the headers.
    pub fn stamp_trace(&mut self) {
        kalcord_telemetry::propagation::inject(|name, value| {
            self.headers.insert(name.to_owned(), value);
        });
    }

    /// Makes `span` a child of the trace this message was sent in.
    pub fn follow(&self, span: &tracing::Span) {
        kalcord_telemetry::propagation::set_parent(span, |name| self.headers.get(name).map(String::as_str));
    }
}

/// A durable event to publish.
#[derive(Clone, Debug)]
pub struct Event {
    /// Subject, without the bus prefix (e.g. `meetings.events.started`).
    pub subject: String,
    /// Id that makes a re-publish of the same event a no-op within the duplicate window.
    pub dedup_id: String,
    /// Headers and payload.
    pub message: Message,
}

impl Event {
    /// A new event.
    #[must_use]
    pub fn new(subject: impl Into<String>, dedup_id: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        Self { subject: subject.into(), dedup_id: dedup_id.into(), message: Message::new(payload) }
    }
}

/// The broker stored an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishAck {
    /// Stream sequence of the stored message (of the original, for a duplicate).
    pub sequence: u64,
    /// Whether the dedup id had been seen within the duplicate window.
    pub duplicate: bool,
}

/// Acknowledgement of one delivery, implemented by each backend.
#[async_trait]
pub trait Acker: Send + Sync {
    /// Done: never deliver again.
    async fn ack(&self) -> Result<(), BusError>;
    /// Not done: deliver again after `delay` (at once when `None`).
    async fn nak(&self, delay: Option<Duration>) -> Result<(), BusError>;
    /// Still working: restart the ack timer.
    async fn in_progress(&self) -> Result<(), BusError>;
    /// Give up: never deliver again, without success.
    async fn term(&self) -> Result<(), BusError>;
}

/// One delivery of a durable event to a consumer.
///
/// Dropping it without [`Delivery::ack`] leaves it pending: it is delivered again once the
/// consumer's `ack_wait` runs out.
pub struct Delivery {
    /// Subject, without the bus prefix.
    pub subject: String,
    /// Headers and payload.
    pub message: Message,
    /// Which delivery of this message this is, starting at 1.
    pub attempt: u32,
    /// Stream sequence of the message.
    pub sequence: u64,
    pub(crate) acker: Box<dyn Acker>,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("subject", &self.subject)
            .field("attempt", &self.attempt)
            .field("sequence", &self.sequence)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// Acknowledges the message: it is done.
    ///
    /// # Errors
    ///
    /// When the broker cannot be told (the message will then be redelivered).
    pub async fn ack(self) -> Result<(), BusError> {
        self.acker.ack().await
    }

    /// Hands the message back for redelivery after `delay` (at once when `None`).
    ///
    /// # Errors
    ///
    /// When the broker cannot be told (the message will still be redelivered after `ack_wait`).
    pub async fn nak(self, delay: Option<Duration>) -> Result<(), BusError> {
        self.acker.nak(delay).await
    }

    /// Tells the broker work is ongoing, restarting the `ack_wait` timer.
    ///
    /// # Errors
    ///
    /// When the broker cannot be told.
    pub async fn in_progress(&self) -> Result<(), BusError> {
        self.acker.in_progress().await
    }

    /// Stops redelivery without acknowledging success.
    ///
    /// # Errors
    ///
    /// When the broker cannot be told.
    pub async fn term(self) -> Result<(), BusError> {
        self.acker.term().await
    }
}

/// Sends the reply to one request, implemented by each backend.
#[async_trait]
pub trait Replier: Send + Sync {
    /// Sends `reply` to the requester.
    async fn reply(self: Box<Self>, reply: Message) -> Result<(), BusError>;
}

/// One request received by a service.
pub struct Request {
    /// Subject, without the bus prefix.
    pub subject: String,
    /// Headers and payload.
    pub message: Message,
    pub(crate) replier: Box<dyn Replier>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("subject", &self.subject)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// Answers the request; the reply carries the current span's trace context.
    ///
    /// # Errors
    ///
    /// When the reply cannot be sent (the requester then times out).
    pub async fn respond(self, mut reply: Message) -> Result<(), BusError> {
        reply.stamp_trace();
        self.replier.reply(reply).await
    }
}
