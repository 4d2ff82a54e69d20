//! The NATS JetStream bus for distributed mode.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer, stream};
use async_nats::{HeaderMap, client::RequestErrorKind, jetstream::context::PublishErrorKind};
use async_trait::async_trait;
use futures::StreamExt as _;

use crate::config::BusConfig;
use crate::message::{Acker, Delivery, Event, Headers, Message, PublishAck, Replier, Request};
use crate::spec::{ConsumerSpec, StreamSpec};
use crate::subject::Namespace;
use crate::{Bus, BusError, Consumer, Requests};

/// Header JetStream deduplicates on.
const MSG_ID: &str = "Nats-Msg-Id";
/// Timeout of the readiness check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Bus on NATS: core request-reply plus JetStream streams and durable pull consumers.
#[derive(Clone)]
pub struct NatsBus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    namespace: Namespace,
    replicas: usize,
    url: String,
}

impl fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsBus")
            .field("url", &self.url)
            .field("prefix", &self.namespace.prefix())
            .finish_non_exhaustive()
    }
}

impl NatsBus {
    /// Connects to NATS.
    ///
    /// # Errors
    ///
    /// [`BusError::Connect`] when the server cannot be reached or refuses the credentials.
    pub async fn connect(config: &BusConfig, client_name: &str) -> Result<Self, BusError> {
        let mut redacted = config.url.clone();
        let _ = redacted.set_username("");
        let _ = redacted.set_password(None);
        let url = redacted.to_string();
        let mut options = async_nats::ConnectOptions::new()
            .name(client_name)
            .connection_timeout(config.connect_timeout)
            .request_timeout(Some(config.request_timeout));
        if let Some(token) = &config.token {
            options = options.token(token.expose().to_owned());
        }
        if !config.url.username().is_empty() {
            let password = config.url.password().unwrap_or_default().to_owned();
            options = options.user_and_password(config.url.username().to_owned(), password);
        }
        let server = format!("{}:{}", config.url.host_str().unwrap_or("127.0.0.1"), config.url.port().unwrap_or(4222));
        let server = if config.url.scheme() == "tls" { format!("tls://{server}") } else { format!("nats://{server}") };
        let client = options
            .connect(server)
            .await
            .map_err(|err| BusError::Connect { url: url.clone(), message: err.to_string() })?;
        let jetstream = jetstream::new(client.clone());
        Ok(Self { client, jetstream, namespace: Namespace::new(&config.prefix), replicas: config.stream_replicas, url })
    }

    /// Deletes the given streams under this bus's prefix, best effort (test clean-up).
    pub async fn delete_streams(&self, specs: &[StreamSpec]) {
        for spec in specs {
            let _ = self.jetstream.delete_stream(self.namespace.stream(&spec.name)).await;
        }
    }

    fn stream_config(&self, spec: &StreamSpec) -> stream::Config {
        stream::Config {
            name: self.namespace.stream(&spec.name),
            subjects: spec.subjects.iter().map(|subject| self.namespace.subject(subject)).collect(),
            max_age: spec.max_age,
            max_messages: i64::try_from(spec.max_messages).unwrap_or(i64::MAX),
            duplicate_window: spec.duplicate_window,
            num_replicas: self.replicas,
            storage: stream::StorageType::File,
            ..stream::Config::default()
        }
    }
}

fn to_nats(headers: &Headers) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(name.as_str(), value.as_str());
    }
    map
}

fn from_nats(headers: Option<&HeaderMap>) -> Headers {
    let Some(headers) = headers else { return Headers::new() };
    headers
        .iter()
        .filter_map(|(name, values)| values.first().map(|value| (name.to_string(), value.as_str().to_owned())))
        .collect()
}

struct NatsAcker(jetstream::message::Acker);

#[async_trait]
impl Acker for NatsAcker {
    async fn ack(&self) -> Result<(), BusError> {
        self.0.ack().await.map_err(|err| BusError::broker("ack", "delivery", err))
    }

    async fn nak(&self, delay: Option<Duration>) -> Result<(), BusError> {
        self.0.ack_with(AckKind::Nak(delay)).await.map_err(|err| BusError::broker("nak", "delivery", err))
    }

    async fn in_progress(&self) -> Result<(), BusError> {
        self.0.ack_with(AckKind::Progress).await.map_err(|err| BusError::broker("progress", "delivery", err))
    }

    async fn term(&self) -> Result<(), BusError> {
        self.0.ack_with(AckKind::Term).await.map_err(|err| BusError::broker("term", "delivery", err))
    }
}

struct NatsReplier {
    client: async_nats::Client,
    reply: async_nats::Subject,
}

#[async_trait]
impl Replier for NatsReplier {
    async fn reply(self: Box<Self>, reply: Message) -> Result<(), BusError> {
        self.client
            .publish_with_headers(self.reply.clone(), to_nats(&reply.headers), reply.payload)
            .await
            .map_err(|err| BusError::broker("reply", self.reply.as_str(), err))
    }
}

fn publish_error(subject: &str, err: &jetstream::context::PublishError) -> BusError {
    match err.kind() {
        PublishErrorKind::StreamNotFound => BusError::NoStream(subject.to_owned()),
        _ => BusError::broker("publish", subject, err.to_string()),
    }
}

impl NatsBus {
    /// Looks the stream up, creating it when missing.
    ///
    /// NOTE: services start together and each ensures every stream. When two create the same
    /// stream at once, JetStream refuses the slower create (a name clash, or "subjects overlap
    /// with an existing stream", error 10065) although the stream now exists; so a failed
    /// create is followed by a lookup, and the whole step is tried a few times before it fails.
    async fn open_stream(&self, config: &stream::Config) -> Result<stream::Stream, BusError> {
        const ATTEMPTS: u32 = 4;
        let mut attempt = 1;
        loop {
            let err = match self.jetstream.get_or_create_stream(config.clone()).await {
                Ok(stream) => return Ok(stream),
                Err(err) => err,
            };
            if let Ok(stream) = self.jetstream.get_stream(&config.name).await {
                return Ok(stream);
            }
            if attempt == ATTEMPTS {
                return Err(BusError::broker("create stream", &config.name, err));
            }
            tokio::time::sleep(Duration::from_millis(50) * attempt).await;
            attempt += 1;
        }
    }

    /// Hands an event to the connection; the returned future resolves to the broker's ack.
    async fn send_event(&self, mut event: Event) -> Result<jetstream::context::PublishAckFuture, BusError> {
        event.message.stamp_trace();
        let subject = self.namespace.subject(&event.subject);
        let mut headers = to_nats(&event.message.headers);
        if !event.dedup_id.is_empty() {
            headers.insert(MSG_ID, event.dedup_id.as_str());
        }
        self.jetstream
            .publish_with_headers(subject, headers, event.message.payload)
            .await
            .map_err(|err| publish_error(&event.subject, &err))
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn ensure_stream(&self, spec: &StreamSpec) -> Result<(), BusError> {
        let config = self.stream_config(spec);
        let name = config.name.clone();
        let stream = self.open_stream(&config).await?;
        let current = &stream.cached_info().config;
        let differs = current.subjects != config.subjects
            || current.max_age != config.max_age
            || current.duplicate_window != config.duplicate_window
            || current.max_messages != config.max_messages;
        if differs {
            self.jetstream.update_stream(config).await.map_err(|err| BusError::broker("update stream", &name, err))?;
        }
        Ok(())
    }

    async fn publish(&self, event: Event) -> Result<PublishAck, BusError> {
        let subject = event.subject.clone();
        let ack = self.send_event(event).await?;
        let ack = ack.await.map_err(|err| publish_error(&subject, &err))?;
        Ok(PublishAck { sequence: ack.sequence, duplicate: ack.duplicate })
    }

    async fn publish_batch(&self, events: Vec<Event>) -> Vec<Result<PublishAck, BusError>> {
        let mut pending = Vec::with_capacity(events.len());
        let mut failed = false;
        for event in events {
            let subject = event.subject.clone();
            if failed {
                // NOTE: nothing is sent after a failed send, so a retry keeps the order.
                pending.push((
                    subject.clone(),
                    Err(BusError::broker("publish", subject, "an earlier event of the batch was not sent")),
                ));
                continue;
            }
            let sent = self.send_event(event).await;
            failed = sent.is_err();
            pending.push((subject, sent));
        }
        let mut results = Vec::with_capacity(pending.len());
        for (subject, sent) in pending {
            results.push(match sent {
                Ok(ack) => ack
                    .await
                    .map(|ack| PublishAck { sequence: ack.sequence, duplicate: ack.duplicate })
                    .map_err(|err| publish_error(&subject, &err)),
                Err(err) => Err(err),
            });
        }
        results
    }

    async fn consume(&self, spec: &ConsumerSpec) -> Result<Consumer, BusError> {
        let stream_name = self.namespace.stream(&spec.stream);
        let stream = self.jetstream.get_stream(&stream_name).await.map_err(|err| {
            BusError::broker("create consumer", &spec.durable, format!("stream {stream_name}: {err}"))
        })?;
        let config = consumer::pull::Config {
            durable_name: Some(spec.durable.clone()),
            filter_subject: self.namespace.subject(&spec.filter),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: spec.ack_wait,
            // NOTE: unlimited here; the Consumer wrapper dead-letters past max_deliveries, which
            // also covers a message whose handler crashed the process every time.
            max_deliver: -1,
            max_ack_pending: i64::try_from(spec.max_in_flight).unwrap_or(i64::MAX),
            deliver_policy: consumer::DeliverPolicy::All,
            ..consumer::pull::Config::default()
        };
        let pull: consumer::PullConsumer = stream
            .get_or_create_consumer(&spec.durable, config)
            .await
            .map_err(|err| BusError::broker("create consumer", &spec.durable, err))?;
        let messages = pull
            .stream()
            .max_messages_per_batch(spec.max_in_flight.clamp(1, 256))
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await
            .map_err(|err| BusError::broker("consume", &spec.durable, err))?;
        let namespace = self.namespace.clone();
        let durable = spec.durable.clone();
        let deliveries = messages
            .map(move |item| {
                let message = item.map_err(|err| BusError::broker("consume", &durable, err))?;
                let info = message.info().map_err(|err| BusError::broker("consume", &durable, err))?;
                let (attempt, sequence) = (u32::try_from(info.delivered).unwrap_or(u32::MAX), info.stream_sequence);
                let (message, acker) = message.split();
                Ok(Delivery {
                    subject: namespace.local(message.subject.as_str()).to_owned(),
                    message: Message { headers: from_nats(message.headers.as_ref()), payload: message.payload },
                    attempt,
                    sequence,
                    acker: Box::new(NatsAcker(acker)),
                })
            })
            .boxed();
        Ok(Consumer::new(spec.clone(), deliveries, Arc::new(self.clone())))
    }

    async fn request(&self, subject: &str, mut message: Message, timeout: Duration) -> Result<Message, BusError> {
        message.stamp_trace();
        let request = async_nats::Request::new()
            .headers(to_nats(&message.headers))
            .payload(message.payload)
            .timeout(Some(timeout));
        match self.client.send_request(self.namespace.subject(subject), request).await {
            Ok(reply) => Ok(Message { headers: from_nats(reply.headers.as_ref()), payload: reply.payload }),
            Err(err) => Err(match err.kind() {
                RequestErrorKind::TimedOut => BusError::Timeout { subject: subject.to_owned(), after: timeout },
                RequestErrorKind::NoResponders => BusError::NoResponders { subject: subject.to_owned() },
                _ => BusError::broker("request", subject, err),
            }),
        }
    }

    async fn serve(&self, subject: &str, group: &str) -> Result<Requests, BusError> {
        let subscriber = self
            .client
            .queue_subscribe(self.namespace.subject(subject), group.to_owned())
            .await
            .map_err(|err| BusError::broker("serve", subject, err))?;
        let (client, namespace) = (self.client.clone(), self.namespace.clone());
        let requests = subscriber
            .filter_map(move |message| {
                let request = message.reply.clone().map(|reply| Request {
                    subject: namespace.local(message.subject.as_str()).to_owned(),
                    message: Message { headers: from_nats(message.headers.as_ref()), payload: message.payload },
                    replier: Box::new(NatsReplier { client: client.clone(), reply }),
                });
                std::future::ready(request)
            })
            .boxed();
        Ok(Requests::new(subject, requests))
    }

    async fn check(&self) -> Result<(), BusError> {
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return Err(BusError::Connect { url: self.url.clone(), message: "not connected".to_owned() });
        }
        // NOTE: asks for a stream every process declares: proves JetStream answers and the
        // streams exist (the account-info reply of older servers does not parse everywhere).
        let stream = self.namespace.stream(crate::spec::DEAD_LETTER_STREAM);
        tokio::time::timeout(CHECK_TIMEOUT, self.jetstream.get_stream(&stream))
            .await
            .map_err(|_| BusError::broker("check", &stream, "no answer within 2s"))?
            .map_err(|err| BusError::broker("check", &stream, err))?;
        Ok(())
    }

    async fn close(&self) -> Result<(), BusError> {
        self.client.drain().await.map_err(|err| BusError::broker("close", &self.url, err))
    }
}
