//! Gateway sessions: sequence numbers, replay buffers, resumability, and the connection each is on.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::dispatch::Dispatch;

/// What a connection task is told to do.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// Send this JSON text.
    Frame(Arc<str>),
    /// Send a close frame with this code, then end.
    Close(u16),
    /// End without a close frame (a TCP drop).
    Drop,
}

/// A connection's mailbox.
#[derive(Clone, Debug)]
pub(crate) struct ConnLink {
    pub id: u64,
    pub tx: mpsc::UnboundedSender<Outbound>,
}

#[derive(Debug)]
struct Session {
    shard: [u32; 2],
    intents: u64,
    seq: u64,
    buffer: VecDeque<(u64, Arc<str>)>,
    link: Option<ConnLink>,
    detached_at: Option<Instant>,
    heartbeats: u64,
}

/// A gateway session as the admin API shows it.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct SessionInfo {
    /// `session_id` of READY.
    pub session_id: String,
    /// `[shard_id, num_shards]`.
    pub shard: [u32; 2],
    /// Intents identified with.
    pub intents: u64,
    /// Last sequence number sent.
    pub seq: u64,
    /// Whether a connection is attached (otherwise it waits for a RESUME).
    pub connected: bool,
    /// Heartbeats (op 1) the client sent, including answers to the server's op 1.
    pub heartbeats: u64,
}

/// Result of a RESUME.
#[derive(Debug, Eq, PartialEq)]
pub(crate) enum Resume {
    /// Replayed; the connection is attached.
    Resumed,
    /// Unknown, expired or not replayable: answer op 9 `false`.
    Invalid,
    /// `seq` is ahead of the session: close 4007.
    BadSeq,
}

/// Every session.
#[derive(Debug)]
pub(crate) struct Hub {
    sessions: HashMap<String, Session>,
    capacity: usize,
    resume_window: Duration,
    next_conn: u64,
    /// IDENTIFYs so far (for `session_start_limit.remaining`).
    pub identifies: u32,
}

/// `{"op", "d", "s": null, "t": null}`.
pub(crate) fn frame(op: u8, d: &Value) -> Arc<str> {
    Arc::from(json!({"t": null, "s": null, "op": op, "d": d}).to_string())
}

impl Hub {
    pub(crate) fn new(capacity: usize, resume_window: Duration) -> Self {
        Self { sessions: HashMap::new(), capacity: capacity.max(1), resume_window, next_conn: 0, identifies: 0 }
    }

    /// A connection id.
    pub(crate) fn next_conn_id(&mut self) -> u64 {
        self.next_conn += 1;
        self.next_conn
    }

    /// Starts a session on a connection.
    pub(crate) fn create(&mut self, session_id: &str, shard: [u32; 2], intents: u64, link: ConnLink) {
        self.prune();
        self.identifies += 1;
        let session = Session {
            shard,
            intents,
            seq: 0,
            buffer: VecDeque::new(),
            link: Some(link),
            detached_at: None,
            heartbeats: 0,
        };
        self.sessions.insert(session_id.to_owned(), session);
    }

    /// Sends a dispatch to one session (READY, GUILD_CREATE, RESUMED...).
    pub(crate) fn push(&mut self, session_id: &str, event: &str, data: &Value) {
        let capacity = self.capacity;
        if let Some(session) = self.sessions.get_mut(session_id) {
            session.push(event, data, capacity);
        }
    }

    /// Hands world changes to every session that should see them.
    pub(crate) fn deliver(&mut self, dispatches: &[Dispatch]) {
        self.prune();
        let capacity = self.capacity;
        for dispatch in dispatches {
            for session in self.sessions.values_mut() {
                if dispatch.routes_to(session.shard, session.intents) {
                    session.push(dispatch.event, dispatch.data_for(session.intents), capacity);
                }
            }
        }
    }

    /// Attaches a connection to a session after `seq`, replaying what it missed, then `RESUMED`.
    pub(crate) fn resume(&mut self, session_id: &str, seq: u64, link: &ConnLink) -> Resume {
        self.prune();
        let capacity = self.capacity;
        let Some(session) = self.sessions.get_mut(session_id) else { return Resume::Invalid };
        if seq > session.seq {
            return Resume::BadSeq;
        }
        let oldest = session.buffer.front().map_or(session.seq + 1, |(first, _)| *first);
        if seq + 1 < oldest {
            self.sessions.remove(session_id);
            return Resume::Invalid;
        }
        if let Some(old) = session.link.replace(link.clone()) {
            let _ = old.tx.send(Outbound::Drop);
        }
        session.detached_at = None;
        for (_, text) in session.buffer.iter().filter(|(number, _)| *number > seq) {
            let _ = link.tx.send(Outbound::Frame(Arc::clone(text)));
        }
        session.push("RESUMED", &json!({"_trace": ["kalcord-discord-emulator"]}), capacity);
        Resume::Resumed
    }

    /// A connection ended: the session waits for a RESUME (`resumable`) or is gone.
    pub(crate) fn detach(&mut self, session_id: &str, conn_id: u64, resumable: bool) {
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        if session.link.as_ref().is_none_or(|link| link.id != conn_id) {
            return;
        }
        session.link = None;
        if resumable {
            session.detached_at = Some(Instant::now());
        } else {
            self.sessions.remove(session_id);
        }
    }

    /// Counts a client heartbeat.
    pub(crate) fn heartbeat(&mut self, session_id: &str) {
        if let Some(session) = self.sessions.get_mut(session_id) {
            session.heartbeats += 1;
        }
    }

    /// Forgets a session (op 9 `false`).
    pub(crate) fn invalidate(&mut self, session_id: &str) {
        self.sessions.remove(session_id);
    }

    /// Sends `make(session_id)` to the connected sessions (all, or one); returns how many.
    pub(crate) fn command(&mut self, target: Option<&str>, mut make: impl FnMut(&str) -> Vec<Outbound>) -> usize {
        let mut count = 0;
        for (id, session) in &self.sessions {
            if target.is_some_and(|wanted| wanted != id) {
                continue;
            }
            if let Some(link) = &session.link {
                for outbound in make(id) {
                    let _ = link.tx.send(outbound);
                }
                count += 1;
            }
        }
        count
    }

    /// Sessions (connected or resumable).
    pub(crate) fn list(&mut self) -> Vec<SessionInfo> {
        self.prune();
        let mut list: Vec<SessionInfo> = self
            .sessions
            .iter()
            .map(|(id, session)| SessionInfo {
                session_id: id.clone(),
                shard: session.shard,
                intents: session.intents,
                seq: session.seq,
                connected: session.link.is_some(),
                heartbeats: session.heartbeats,
            })
            .collect();
        list.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        list
    }

    fn prune(&mut self) {
        let window = self.resume_window;
        self.sessions.retain(|_, session| session.detached_at.is_none_or(|at| at.elapsed() < window));
    }
}

impl Session {
    fn push(&mut self, event: &str, data: &Value, capacity: usize) {
        self.seq += 1;
        let text: Arc<str> = Arc::from(json!({"t": event, "s": self.seq, "op": 0, "d": data}).to_string());
        if self.buffer.len() >= capacity {
            self.buffer.pop_front();
        }
        self.buffer.push_back((self.seq, Arc::clone(&text)));
        if let Some(link) = &self.link {
            let _ = link.tx.send(Outbound::Frame(text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: u64) -> (ConnLink, mpsc::UnboundedReceiver<Outbound>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (ConnLink { id, tx }, rx)
    }

    fn texts(rx: &mut mpsc::UnboundedReceiver<Outbound>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(item) = rx.try_recv() {
            if let Outbound::Frame(text) = item {
                out.push(text.to_string());
            }
        }
        out
    }

    #[test]
    fn resume_replays_missed_events() {
        let mut hub = Hub::new(16, Duration::from_mins(1));
        let (first, mut first_rx) = link(1);
        hub.create("s", [0, 1], 1, first);
        hub.push("s", "READY", &json!({}));
        hub.detach("s", 1, true);
        hub.deliver(&[Dispatch::new("GUILD_ROLE_CREATE", Some(1 << 22), 1, json!({"n": 1}))]);
        assert_eq!(texts(&mut first_rx).len(), 1);
        let (second, mut second_rx) = link(2);
        assert_eq!(hub.resume("s", 9, &second), Resume::BadSeq);
        assert_eq!(hub.resume("s", 1, &second), Resume::Resumed);
        let replay = texts(&mut second_rx);
        assert_eq!(replay.len(), 2);
        assert!(replay[0].contains("GUILD_ROLE_CREATE") && replay[0].contains("\"s\":2"));
        assert!(replay[1].contains("RESUMED") && replay[1].contains("\"s\":3"));
        hub.detach("s", 2, false);
        let (third, _rx) = link(3);
        assert_eq!(hub.resume("s", 3, &third), Resume::Invalid);
    }
}
