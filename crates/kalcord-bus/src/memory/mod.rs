//! The in-process bus for standalone mode, with the same semantics as the NATS one.
//!
//! Events live in memory: they survive a consumer's crash or restart inside the process,
//! not a restart of the process itself.

mod state;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt as _;
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use self::state::{Next, State};
use crate::message::{Acker, Delivery, Event, Message, PublishAck, Replier, Request};
use crate::spec::{ConsumerSpec, StreamSpec};
use crate::subject::{Namespace, matches};
use crate::{Bus, BusError, Consumer, Requests};

/// Requests a server may have queued before requesters wait.
const SERVER_QUEUE: usize = 1024;

struct Server {
    pattern: String,
    sender: mpsc::Sender<Request>,
}

struct Inner {
    changed: Notify,
    next_server: AtomicUsize,
    servers: Mutex<Vec<Server>>,
    state: Mutex<State>,
}

/// In-process bus; cheap to clone, every clone is the same bus.
#[derive(Clone)]
pub struct MemoryBus {
    inner: Arc<Inner>,
    namespace: Namespace,
}

impl fmt::Debug for MemoryBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBus").field("prefix", &self.namespace.prefix()).finish_non_exhaustive()
    }
}

impl MemoryBus {
    /// A new, empty bus. The prefix only matters for parity with NATS subjects.
    #[must_use]
    pub fn new(prefix: &str) -> Self {
        let inner = Inner {
            changed: Notify::new(),
            next_server: AtomicUsize::new(0),
            servers: Mutex::new(Vec::new()),
            state: Mutex::new(State::default()),
        };
        Self { inner: Arc::new(inner), namespace: Namespace::new(prefix) }
    }

    fn deliveries(&self, spec: &ConsumerSpec) -> futures::stream::BoxStream<'static, Result<Delivery, BusError>> {
        let key = (spec.stream.clone(), spec.durable.clone());
        let bus = self.clone();
        futures::stream::unfold((bus, key), |(bus, key)| async move {
            let inner = Arc::clone(&bus.inner);
            loop {
                let changed = inner.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                let next = {
                    let mut state = bus.inner.state.lock();
                    if state.closed {
                        return None;
                    }
                    state.next(&key, Instant::now())
                };
                match next {
                    Next::Deliver { attempt, message, sequence, subject } => {
                        let acker = MemoryAcker { bus: bus.clone(), key: key.clone(), sequence };
                        let subject = bus.namespace.local(&subject).to_owned();
                        let delivery = Delivery { subject, message, attempt, sequence, acker: Box::new(acker) };
                        return Some((Ok(delivery), (bus, key)));
                    }
                    Next::Wait(Some(at)) => {
                        tokio::select! {
                            () = &mut changed => {}
                            () = tokio::time::sleep_until(at) => {}
                        }
                    }
                    Next::Wait(None) => changed.await,
                }
            }
        })
        .boxed()
    }

    fn pick_server(&self, subject: &str) -> Option<mpsc::Sender<Request>> {
        let mut servers = self.inner.servers.lock();
        servers.retain(|server| !server.sender.is_closed());
        let candidates: Vec<&Server> = servers.iter().filter(|server| matches(&server.pattern, subject)).collect();
        if candidates.is_empty() {
            return None;
        }
        // NOTE: like a NATS queue group, one server answers; servers take turns.
        let turn = self.inner.next_server.fetch_add(1, Ordering::Relaxed);
        Some(candidates[turn % candidates.len()].sender.clone())
    }
}

struct MemoryAcker {
    bus: MemoryBus,
    key: (String, String),
    sequence: u64,
}

impl MemoryAcker {
    fn settle(&self, due: Option<Instant>) {
        self.bus.inner.state.lock().settle(&self.key, self.sequence, due);
        self.bus.inner.changed.notify_waiters();
    }
}

#[async_trait]
impl Acker for MemoryAcker {
    async fn ack(&self) -> Result<(), BusError> {
        self.settle(None);
        Ok(())
    }

    async fn nak(&self, delay: Option<Duration>) -> Result<(), BusError> {
        self.settle(Some(Instant::now() + delay.unwrap_or_default()));
        Ok(())
    }

    async fn in_progress(&self) -> Result<(), BusError> {
        let ack_wait = self.bus.inner.state.lock().ack_wait(&self.key).unwrap_or_default();
        self.settle(Some(Instant::now() + ack_wait));
        Ok(())
    }

    async fn term(&self) -> Result<(), BusError> {
        self.settle(None);
        Ok(())
    }
}

struct MemoryReplier(oneshot::Sender<Message>);

#[async_trait]
impl Replier for MemoryReplier {
    async fn reply(self: Box<Self>, reply: Message) -> Result<(), BusError> {
        // NOTE: a requester that gave up (timed out) is not an error for the server.
        let _ = self.0.send(reply);
        Ok(())
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn ensure_stream(&self, spec: &StreamSpec) -> Result<(), BusError> {
        self.inner.state.lock().ensure_stream(&self.wire_stream(spec))
    }

    async fn publish(&self, mut event: Event) -> Result<PublishAck, BusError> {
        event.message.stamp_trace();
        let subject = self.namespace.subject(&event.subject);
        let (sequence, duplicate) = {
            let mut state = self.inner.state.lock();
            if state.closed {
                return Err(BusError::Closed);
            }
            state.publish(&subject, &event.dedup_id, event.message, Instant::now())?
        };
        if !duplicate {
            self.inner.changed.notify_waiters();
        }
        Ok(PublishAck { sequence, duplicate })
    }

    async fn consume(&self, spec: &ConsumerSpec) -> Result<Consumer, BusError> {
        let wire = ConsumerSpec {
            stream: self.namespace.stream(&spec.stream),
            filter: self.namespace.subject(&spec.filter),
            ..spec.clone()
        };
        self.inner.state.lock().bind(&wire)?;
        let deliveries = self.deliveries(&wire);
        Ok(Consumer::new(spec.clone(), deliveries, Arc::new(self.clone())))
    }

    async fn request(&self, subject: &str, mut message: Message, timeout: Duration) -> Result<Message, BusError> {
        message.stamp_trace();
        let wire = self.namespace.subject(subject);
        let no_responders = || BusError::NoResponders { subject: subject.to_owned() };
        let server = self.pick_server(&wire).ok_or_else(no_responders)?;
        let (reply, answer) = oneshot::channel();
        let request = Request { subject: subject.to_owned(), message, replier: Box::new(MemoryReplier(reply)) };
        let exchange = async {
            server.send(request).await.map_err(|_| no_responders())?;
            answer.await.map_err(|_| no_responders())
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| BusError::Timeout { subject: subject.to_owned(), after: timeout })?
    }

    async fn serve(&self, subject: &str, _group: &str) -> Result<Requests, BusError> {
        let (sender, receiver) = mpsc::channel(SERVER_QUEUE);
        let pattern = self.namespace.subject(subject);
        self.inner.servers.lock().push(Server { pattern, sender });
        let stream = tokio_stream_from(receiver);
        Ok(Requests::new(subject, stream))
    }

    async fn check(&self) -> Result<(), BusError> {
        if self.inner.state.lock().closed { Err(BusError::Closed) } else { Ok(()) }
    }

    async fn close(&self) -> Result<(), BusError> {
        self.inner.state.lock().closed = true;
        self.inner.servers.lock().clear();
        self.inner.changed.notify_waiters();
        Ok(())
    }
}

impl MemoryBus {
    fn wire_stream(&self, spec: &StreamSpec) -> StreamSpec {
        StreamSpec {
            name: self.namespace.stream(&spec.name),
            subjects: spec.subjects.iter().map(|subject| self.namespace.subject(subject)).collect(),
            ..spec.clone()
        }
    }
}

fn tokio_stream_from(mut receiver: mpsc::Receiver<Request>) -> futures::stream::BoxStream<'static, Request> {
    futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).boxed()
}
