//! The in-process broker's state: streams, dedup windows and durable consumer cursors.

use std::collections::{BTreeMap, HashMap, VecDeque};

use tokio::time::Instant;

use crate::error::BusError;
use crate::message::Message;
use crate::spec::{ConsumerSpec, StreamSpec};
use crate::subject::matches;

/// One stored message.
pub(super) struct Stored {
    pub(super) message: Message,
    pub(super) at: Instant,
    pub(super) subject: String,
}

/// One stream.
pub(super) struct Stream {
    dedup: HashMap<String, u64>,
    dedup_order: VecDeque<(Instant, String)>,
    pub(super) messages: BTreeMap<u64, Stored>,
    next_sequence: u64,
    pub(super) spec: StreamSpec,
}

impl Stream {
    fn new(spec: StreamSpec) -> Self {
        Self { dedup: HashMap::new(), dedup_order: VecDeque::new(), messages: BTreeMap::new(), next_sequence: 1, spec }
    }

    /// Stores a message unless its dedup id was seen within the window; returns
    /// `(sequence, duplicate)`.
    fn store(&mut self, subject: &str, dedup_id: &str, message: Message, now: Instant) -> (u64, bool) {
        self.expire(now);
        if let Some(sequence) = self.dedup.get(dedup_id).filter(|_| !dedup_id.is_empty()) {
            return (*sequence, true);
        }
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.messages.insert(sequence, Stored { message, at: now, subject: subject.to_owned() });
        if !dedup_id.is_empty() {
            self.dedup.insert(dedup_id.to_owned(), sequence);
            self.dedup_order.push_back((now, dedup_id.to_owned()));
        }
        (sequence, false)
    }

    /// Drops dedup ids past the window and messages past the retention limits.
    fn expire(&mut self, now: Instant) {
        while let Some((at, id)) = self.dedup_order.front() {
            if now.duration_since(*at) < self.spec.duplicate_window {
                break;
            }
            self.dedup.remove(id);
            self.dedup_order.pop_front();
        }
        loop {
            let too_many = self.messages.len() as u64 > self.spec.max_messages;
            let Some(entry) = self.messages.first_entry() else { break };
            let too_old = now.duration_since(entry.get().at) >= self.spec.max_age;
            if !(too_old || too_many) {
                break;
            }
            entry.remove();
        }
    }
}

/// One delivery in flight: its attempt count and when it may be delivered again.
struct Pending {
    attempt: u32,
    due: Instant,
}

/// A durable consumer's cursor and in-flight deliveries.
pub(super) struct Cursor {
    next: u64,
    pending: BTreeMap<u64, Pending>,
    pub(super) spec: ConsumerSpec,
}

/// What a consumer should do next.
pub(super) enum Next {
    /// Deliver this message.
    Deliver { attempt: u32, message: Message, sequence: u64, subject: String },
    /// Nothing now; look again at this instant (or when woken).
    Wait(Option<Instant>),
}

/// Every stream and consumer of one in-process bus.
#[derive(Default)]
pub(super) struct State {
    pub(super) closed: bool,
    consumers: HashMap<(String, String), Cursor>,
    streams: HashMap<String, Stream>,
}

impl State {
    pub(super) fn ensure_stream(&mut self, spec: &StreamSpec) -> Result<(), BusError> {
        for (name, stream) in &self.streams {
            let overlaps =
                spec.subjects.iter().any(|s| stream.spec.subjects.iter().any(|t| matches(s, t) || matches(t, s)));
            if name != &spec.name && overlaps {
                return Err(BusError::broker(
                    "create stream",
                    &spec.name,
                    format!("subjects overlap with stream {name}"),
                ));
            }
        }
        match self.streams.get_mut(&spec.name) {
            Some(stream) => stream.spec = spec.clone(),
            None => {
                self.streams.insert(spec.name.clone(), Stream::new(spec.clone()));
            }
        }
        Ok(())
    }

    pub(super) fn publish(
        &mut self,
        subject: &str,
        dedup_id: &str,
        message: Message,
        now: Instant,
    ) -> Result<(u64, bool), BusError> {
        let stream = self
            .streams
            .values_mut()
            .find(|stream| stream.spec.subjects.iter().any(|pattern| matches(pattern, subject)))
            .ok_or_else(|| BusError::NoStream(subject.to_owned()))?;
        Ok(stream.store(subject, dedup_id, message, now))
    }

    pub(super) fn bind(&mut self, spec: &ConsumerSpec) -> Result<(), BusError> {
        if !self.streams.contains_key(&spec.stream) {
            return Err(BusError::broker(
                "create consumer",
                &spec.durable,
                format!("stream {} not found", spec.stream),
            ));
        }
        let key = (spec.stream.clone(), spec.durable.clone());
        self.consumers.entry(key).and_modify(|cursor| cursor.spec = spec.clone()).or_insert_with(|| Cursor {
            next: 1,
            pending: BTreeMap::new(),
            spec: spec.clone(),
        });
        Ok(())
    }

    /// Picks the next delivery for a consumer: an overdue in-flight message first, then
    /// the next new message matching its filter, within its in-flight limit.
    pub(super) fn next(&mut self, key: &(String, String), now: Instant) -> Next {
        let (Some(cursor), Some(stream)) = (self.consumers.get_mut(key), self.streams.get(&key.0)) else {
            return Next::Wait(None);
        };
        cursor.pending.retain(|sequence, _| stream.messages.contains_key(sequence));
        let ack_wait = cursor.spec.ack_wait;
        if let Some((sequence, pending)) = cursor.pending.iter_mut().find(|(_, pending)| pending.due <= now) {
            pending.attempt += 1;
            pending.due = now + ack_wait;
            let stored = &stream.messages[sequence];
            return Next::Deliver {
                attempt: pending.attempt,
                message: stored.message.clone(),
                sequence: *sequence,
                subject: stored.subject.clone(),
            };
        }
        if cursor.pending.len() < cursor.spec.max_in_flight {
            let filter = &cursor.spec.filter;
            if let Some((sequence, stored)) =
                stream.messages.range(cursor.next..).find(|(_, stored)| matches(filter, &stored.subject))
            {
                cursor.next = sequence + 1;
                cursor.pending.insert(*sequence, Pending { attempt: 1, due: now + ack_wait });
                return Next::Deliver {
                    attempt: 1,
                    message: stored.message.clone(),
                    sequence: *sequence,
                    subject: stored.subject.clone(),
                };
            }
            cursor.next = stream.messages.last_key_value().map_or(cursor.next, |(last, _)| cursor.next.max(last + 1));
        }
        Next::Wait(cursor.pending.values().map(|pending| pending.due).min())
    }

    /// Applies an acknowledgement: `None` removes the delivery, `Some(at)` makes it due at `at`.
    pub(super) fn settle(&mut self, key: &(String, String), sequence: u64, due: Option<Instant>) {
        let Some(cursor) = self.consumers.get_mut(key) else { return };
        match due {
            None => {
                cursor.pending.remove(&sequence);
            }
            Some(at) => {
                if let Some(pending) = cursor.pending.get_mut(&sequence) {
                    pending.due = at;
                }
            }
        }
    }

    /// The ack wait of a consumer.
    pub(super) fn ack_wait(&self, key: &(String, String)) -> Option<std::time::Duration> {
        self.consumers.get(key).map(|cursor| cursor.spec.ack_wait)
    }
}
