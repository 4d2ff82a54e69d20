//! Gateway sessions: sequence numbers, replay buffers, resumability, and the connection each is on.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::dispatch::{Dispatch, routes};
use crate::perms::INTENT_GUILD_PRESENCES;

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

/// An IDENTIFY that passed the token, intent and shard checks, as the admin API shows it.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct IdentifyRecord {
    /// When it came (Unix milliseconds on the emulator's clock).
    pub at_unix_ms: u64,
    /// `[shard_id, num_shards]`.
    pub shard: [u32; 2],
    /// `shard_id % max_concurrency`.
    pub rate_limit_key: u32,
    /// Whether it started a session (otherwise it got op 9 `false`).
    pub accepted: bool,
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
    /// IDENTIFYs accepted so far (for `session_start_limit.remaining`).
    pub identifies: u32,
    /// Every IDENTIFY that reached the concurrency check.
    identify_log: Vec<IdentifyRecord>,
    /// When the last accepted IDENTIFY of each rate-limit key came (emulator clock, Unix ms).
    identify_buckets: HashMap<u32, u64>,
}

/// `{"op", "d", "s": null, "t": null}`.
pub(crate) fn frame(op: u8, d: &Value) -> Arc<str> {
    Arc::from(json!({"t": null, "s": null, "op": op, "d": d}).to_string())
}

impl Hub {
    pub(crate) fn new(capacity: usize, resume_window: Duration) -> Self {
        Self {
            sessions: HashMap::new(),
            capacity: capacity.max(1),
            resume_window,
            next_conn: 0,
            identifies: 0,
            identify_log: Vec::new(),
            identify_buckets: HashMap::new(),
        }
    }

    /// Applies the IDENTIFY concurrency limit: accepted when no IDENTIFY with the same rate-limit key
    /// (`shard_id % max_concurrency`) was accepted within `window` before `now_ms`. Records the attempt.
    pub(crate) fn admit_identify(
        &mut self,
        shard: [u32; 2],
        max_concurrency: u32,
        window: Duration,
        now_ms: u64,
    ) -> bool {
        let rate_limit_key = shard[0] % max_concurrency.max(1);
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let accepted =
            self.identify_buckets.get(&rate_limit_key).is_none_or(|at| now_ms.saturating_sub(*at) >= window_ms);
        if accepted {
            self.identify_buckets.insert(rate_limit_key, now_ms);
        }
        self.identify_log.push(IdentifyRecord { at_unix_ms: now_ms, shard, rate_limit_key, accepted });
        accepted
    }

    /// IDENTIFYs that reached the concurrency check, oldest first.
    pub(crate) fn identify_log(&self) -> Vec<IdentifyRecord> {
        self.identify_log.clone()
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
    pub(crate) fn push(&mut self, session_id: &str, event: &'static str, data: &Value) {
        let capacity = self.capacity;
        if let Some(session) = self.sessions.get_mut(session_id) {
            session.push(event, &data.to_string(), capacity);
        }
    }

    /// Hands world changes to every session that should see them.
    pub(crate) fn deliver(&mut self, dispatches: &[Dispatch]) {
        self.prune();
        let capacity = self.capacity;
        for dispatch in dispatches {
            // NOTE: `d` is serialized once per dispatch (and variant), not once per session.
            let (mut plain, mut full): (Option<String>, Option<String>) = (None, None);
            for session in self.sessions.values_mut() {
                if !dispatch.routes_to(session.shard, session.intents) {
                    continue;
                }
                let with_presences =
                    dispatch.data_with_presences.is_some() && session.intents & INTENT_GUILD_PRESENCES != 0;
                let slot = if with_presences { &mut full } else { &mut plain };
                let text = slot.get_or_insert_with(|| dispatch.data_for(session.intents).to_string());
                session.push(dispatch.event, text, capacity);
            }
        }
    }

    /// Hands `count` dispatches of `event` in `guild_id` to every session that should see them, cycling through
    /// `payloads` (each an intent and a serialized `d`). Returns how many frames were queued.
    pub(crate) fn deliver_cycle(
        &mut self,
        event: &'static str,
        guild_id: u64,
        payloads: &[(u64, Arc<str>)],
        range: std::ops::Range<usize>,
    ) -> usize {
        if payloads.is_empty() {
            return 0;
        }
        self.prune();
        let capacity = self.capacity;
        let mut queued = 0;
        for index in range {
            let (intent, data) = &payloads[index % payloads.len()];
            for session in self.sessions.values_mut() {
                if routes(Some(guild_id), *intent, session.shard, session.intents) {
                    session.push(event, data, capacity);
                    queued += 1;
                }
            }
        }
        queued
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
        session.push("RESUMED", r#"{"_trace":["kalcord-discord-emulator"]}"#, capacity);
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
    /// Numbers and sends a dispatch whose `d` is already JSON text.
    fn push(&mut self, event: &'static str, data: &str, capacity: usize) {
        debug_assert!(event.bytes().all(|byte| byte.is_ascii_uppercase() || byte == b'_'), "{event}");
        self.seq += 1;
        // NOTE: written by hand so a burst does not clone the payload's JSON tree per session; event names are
        // Discord's upper-case constants and need no escaping.
        let text: Arc<str> = Arc::from(format!(r#"{{"t":"{event}","s":{},"op":0,"d":{data}}}"#, self.seq));
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

    #[test]
    fn identify_buckets_by_rate_limit_key_and_window() {
        let mut hub = Hub::new(16, Duration::from_mins(1));
        let window = Duration::from_secs(5);
        assert!(hub.admit_identify([0, 4], 2, window, 1_000));
        assert!(hub.admit_identify([1, 4], 2, window, 1_000), "another key");
        assert!(!hub.admit_identify([2, 4], 2, window, 5_999), "2 % 2 shares shard 0's key");
        assert!(hub.admit_identify([2, 4], 2, window, 6_000), "the window passed");
        let keys: Vec<(u32, bool)> = hub.identify_log().iter().map(|r| (r.rate_limit_key, r.accepted)).collect();
        assert_eq!(keys, [(0, true), (1, true), (0, false), (0, true)]);
        assert_eq!(hub.identifies, 0, "session_start_limit counts sessions created");
    }

    #[test]
    fn bursts_cycle_payloads_and_keep_the_replay_buffer_bounded() {
        let mut hub = Hub::new(4, Duration::from_mins(1));
        let (first, mut rx) = link(1);
        hub.create("s", [0, 1], crate::perms::INTENT_GUILD_MEMBERS, first);
        let payloads: Vec<(u64, Arc<str>)> = vec![(2, Arc::from("{\"n\":0}")), (2, Arc::from("{\"n\":1}"))];
        assert_eq!(hub.deliver_cycle("GUILD_MEMBER_UPDATE", 1 << 22, &payloads, 0..5), 5);
        let sent = texts(&mut rx);
        assert_eq!(sent.len(), 5);
        let parsed: Vec<Value> = sent.iter().map(|text| serde_json::from_str(text).expect("json")).collect();
        assert_eq!(parsed[2], json!({"t": "GUILD_MEMBER_UPDATE", "s": 3, "op": 0, "d": {"n": 0}}));
        assert_eq!(parsed[3]["d"]["n"], 1);
        hub.detach("s", 1, true);
        let (second, mut second_rx) = link(2);
        assert_eq!(hub.resume("s", 0, &second), Resume::Invalid, "seq 1 left the buffer of 4");
        hub.create("t", [0, 1], 0, second);
        assert_eq!(hub.deliver_cycle("GUILD_MEMBER_UPDATE", 1 << 22, &payloads, 0..3), 0, "no GUILD_MEMBERS intent");
        assert!(texts(&mut second_rx).is_empty());
    }
}
