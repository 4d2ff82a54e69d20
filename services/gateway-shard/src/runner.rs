//! One shard: connect (resuming a saved session when there is one), republish every dispatch to
//! JetStream in order, save the session and the last published sequence, close resumably at
//! shutdown.
//!
//! The saved sequence is the last one the broker acknowledged, never one only received: after a
//! crash the shard resumes from there, Discord replays what follows, and the replayed dispatches
//! that had reached the broker carry the same dedup id, so the stream drops them. Nothing is
//! lost and nothing is delivered twice (within the stream's duplicate window).

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt as _, StreamExt as _};
use kalcord_bus::{Event, SharedBus};
use kalcord_cache::SharedCache;
use kalcord_runtime::CancellationToken;
use serde::{Deserialize, Serialize};
use twilight_gateway::error::{ReceiveMessageError, ReceiveMessageErrorType};
use twilight_gateway::queue::Queue;
use twilight_gateway::{CloseFrame, ConfigBuilder, Intents, Message, Shard, ShardId, ShardState};
use twilight_model::gateway::payload::outgoing::identify::IdentifyProperties;

use crate::config::Config;
use crate::dispatch::{self, Skip};
use crate::queue::CacheQueue;
use crate::status::{Phase, ShardStatus};

/// How long a closing shard waits for Discord's close answer.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Longest pause between two attempts to publish a failed batch.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

/// What every shard of the replica shares.
#[derive(Debug)]
pub struct Shared {
    /// The bus dispatches go to.
    pub bus: SharedBus,
    /// Where sessions are saved and identify permits taken.
    pub cache: SharedCache,
    /// The service configuration.
    pub config: Config,
    /// The bot token (with or without `Bot `).
    pub token: kalcord_config::Secret,
    /// Intents to identify with.
    pub intents: Intents,
    /// Gateway URL to connect to.
    pub gateway_url: String,
    /// Total shards.
    pub total: u32,
    /// The identify queue.
    pub queue: CacheQueue,
    /// Phase of each shard.
    pub status: ShardStatus,
}

/// A session saved for a RESUME after a restart.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct SavedSession {
    /// `session_id` of READY.
    pub session_id: String,
    /// Last sequence the broker acknowledged.
    pub sequence: u64,
    /// `resume_gateway_url` of READY.
    pub resume_url: Option<String>,
}

/// Cache key of a shard's saved session (the shard count is part of it: a reshard starts afresh).
#[must_use]
pub fn session_key(total: u32, shard: u32) -> String {
    format!("gateway:session:{total}:{shard}")
}

/// Reads a shard's saved session.
pub async fn load_session(cache: &SharedCache, total: u32, shard: u32) -> Option<SavedSession> {
    match cache.get(&session_key(total, shard)).await {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).ok(),
        Ok(None) => None,
        Err(err) => {
            tracing::warn!(error = %err, shard, "saved gateway session unreadable; identifying afresh");
            None
        }
    }
}

/// Why Discord closed a shard for good, in words an operator can act on.
fn fatal_reason(code: Option<u16>) -> String {
    match code {
        Some(4004) => "Discord refused the bot token (close 4004): check discord.bot_token".to_owned(),
        Some(4010) => "invalid shard (close 4010): check gateway_shard.shards".to_owned(),
        Some(4011) => "Discord requires more shards (close 4011): raise gateway_shard.shards or set it to 0".to_owned(),
        Some(4012) => "invalid gateway API version (close 4012)".to_owned(),
        Some(4013) => "invalid intents (close 4013)".to_owned(),
        Some(4014) => "disallowed intents (close 4014): enable Server Members Intent in the developer portal, \
                       or set gateway_shard.members_intent = false"
            .to_owned(),
        Some(code) => format!("closed by Discord with code {code}"),
        None => "closed by Discord".to_owned(),
    }
}

/// One shard's loop.
struct Runner {
    shared: Arc<Shared>,
    id: u32,
    shard: Shard<CacheQueue>,
    /// Session and sequence of the last dispatch the broker acknowledged.
    published: Option<(String, u64)>,
    /// Whether `published` changed since it was saved.
    dirty: bool,
    /// A session started (READY or RESUMED): save as soon as its first dispatch is stored.
    save_now: bool,
    /// Shutdown abandoned a batch that was not stored: nothing after it may be published or
    /// saved, so the next start resumes from before the gap and Discord replays it.
    gap: bool,
}

/// Runs shard `id` until `shutdown`, then closes it resumably and saves its session.
pub async fn run(shared: Arc<Shared>, id: u32, shutdown: CancellationToken) {
    let saved = load_session(&shared.cache, shared.total, id).await;
    let mut builder = ConfigBuilder::new(shared.token.expose().to_owned(), shared.intents)
        .queue(shared.queue.clone())
        .proxy_url(shared.gateway_url.clone())
        .identify_properties(IdentifyProperties::new("kalcord", "kalcord", std::env::consts::OS));
    if let Some(saved) = &saved {
        tracing::info!(shard = id, sequence = saved.sequence, "resuming the saved gateway session");
        builder = builder.session(twilight_gateway::Session::new(saved.sequence, saved.session_id.clone()));
        if let Some(url) = &saved.resume_url {
            builder = builder.resume_url(url.clone());
        }
    }
    shared.status.set(id, Phase::Connecting);
    let gateway = Shard::with_config(ShardId::new(id, shared.total), builder.build());
    let published = saved.map(|saved| (saved.session_id, saved.sequence));
    let mut runner = Runner { shared, id, shard: gateway, published, dirty: false, save_now: false, gap: false };
    runner.run(shutdown).await;
}

impl Runner {
    async fn run(&mut self, shutdown: CancellationToken) {
        let mut persist = tokio::time::interval(self.shared.config.persist_interval);
        persist.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = persist.tick() => self.save().await,
                item = self.shard.next() => {
                    let Some(item) = item else {
                        // NOTE: the stream has ended (fatally closed); it must not be polled again.
                        self.save().await;
                        return;
                    };
                    let mut batch = Vec::new();
                    self.take(item, &mut batch);
                    let mut ended = false;
                    while batch.len() < self.shared.config.publish_batch {
                        match self.shard.next().now_or_never() {
                            Some(Some(item)) => self.take(item, &mut batch),
                            Some(None) => {
                                ended = true;
                                break;
                            }
                            None => break,
                        }
                    }
                    let stored = self.publish(batch, &shutdown).await;
                    if std::mem::take(&mut self.save_now) {
                        // NOTE: a new session is saved at once, so a crash before the next tick
                        // still resumes it rather than identifying again.
                        self.save().await;
                    }
                    if ended {
                        self.save().await;
                        return;
                    }
                    if !stored {
                        break;
                    }
                }
            }
        }
        self.close().await;
    }

    /// Turns a gateway item into a bus event (or a phase change).
    fn take(&mut self, item: Result<Message, ReceiveMessageError>, batch: &mut Vec<(Event, String, u64)>) {
        match item {
            Ok(Message::Text(text)) => match dispatch::parse(&text) {
                Ok(dispatch) => {
                    match dispatch.event {
                        "READY" => {
                            metrics::counter!("kalcord_gateway_sessions_total", "shard" => self.id.to_string(), "kind" => "identify").increment(1);
                            self.shared.status.set(self.id, Phase::Active);
                            self.save_now = true;
                            tracing::info!(shard = self.id, "gateway session identified");
                        }
                        "RESUMED" => {
                            metrics::counter!("kalcord_gateway_sessions_total", "shard" => self.id.to_string(), "kind" => "resume").increment(1);
                            self.shared.status.set(self.id, Phase::Active);
                            self.save_now = true;
                            tracing::info!(shard = self.id, "gateway session resumed");
                        }
                        _ => {}
                    }
                    let Some(session_id) = self.shard.session().map(|session| session.id().to_owned()) else {
                        tracing::warn!(shard = self.id, event = dispatch.event, "dispatch outside a session; dropped");
                        return;
                    };
                    metrics::counter!("kalcord_gateway_events_total", "shard" => self.id.to_string(), "event" => dispatch.event.to_owned()).increment(1);
                    let event = dispatch.to_event(self.id, self.shared.total, &session_id);
                    batch.push((event, session_id, dispatch.sequence));
                }
                Err(Skip::NotDispatch) => {}
                Err(Skip::Malformed(why)) => {
                    tracing::warn!(shard = self.id, why, "gateway message not republished");
                }
            },
            Ok(Message::Close(frame)) => {
                let code = frame.as_ref().map(|frame| frame.code);
                if self.shard.state() == ShardState::FatallyClosed {
                    let reason = fatal_reason(code);
                    tracing::error!(shard = self.id, %reason, "gateway shard closed for good");
                    self.shared.status.set(self.id, Phase::Failed(reason));
                } else {
                    let why =
                        code.map_or_else(|| "connection closed".to_owned(), |code| format!("closed with code {code}"));
                    tracing::info!(shard = self.id, %why, "gateway connection closed; reconnecting");
                    self.shared.status.set(self.id, Phase::Reconnecting(why));
                }
            }
            Err(err) => match err.kind() {
                // NOTE: twilight's message for this kind holds the whole event; it is neither
                // logged nor shown, and the connection goes on.
                ReceiveMessageErrorType::Deserializing { .. } => {
                    tracing::warn!(shard = self.id, "a gateway event could not be read; skipped");
                }
                ReceiveMessageErrorType::Reconnect => {
                    tracing::warn!(shard = self.id, error = %err, "gateway connection failed; reconnecting");
                    self.shared.status.set(self.id, Phase::Reconnecting("connection failed".to_owned()));
                }
                _ => {
                    tracing::warn!(shard = self.id, kind = ?err.kind(), "gateway receive failed; reconnecting");
                    self.shared.status.set(self.id, Phase::Reconnecting("receive failed".to_owned()));
                }
            },
        }
    }

    /// Publishes a batch in order, retrying the unacknowledged part until it is stored; `false`
    /// when shutdown interrupted the retries (what is not stored will be replayed after a resume).
    async fn publish(&mut self, batch: Vec<(Event, String, u64)>, shutdown: &CancellationToken) -> bool {
        let mut pending = batch;
        let mut delay = Duration::from_millis(100);
        while !pending.is_empty() {
            let events: Vec<Event> = pending.iter().map(|(event, _, _)| event.clone()).collect();
            let results = self.shared.bus.publish_batch(events).await;
            let stored = results.iter().take_while(|result| result.is_ok()).count();
            if let Some((_, session, sequence)) = stored.checked_sub(1).and_then(|last| pending.get(last)) {
                self.published = Some((session.clone(), *sequence));
                self.dirty = true;
            }
            if let Some(Err(err)) = results.into_iter().nth(stored) {
                metrics::counter!("kalcord_gateway_publish_failures_total").increment(1);
                tracing::warn!(shard = self.id, error = %err, left = pending.len() - stored, "publishing dispatches failed; retrying");
                pending.drain(..stored);
                tokio::select! {
                    () = shutdown.cancelled() => {
                        self.gap = true;
                        return false;
                    }
                    () = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            } else {
                pending.clear();
            }
        }
        true
    }

    /// Saves the session when it changed.
    async fn save(&mut self) {
        if !self.dirty {
            return;
        }
        let Some((session_id, sequence)) = self.published.clone() else { return };
        let saved = SavedSession { session_id, sequence, resume_url: self.shard.resume_url().map(str::to_owned) };
        let Ok(bytes) = serde_json::to_vec(&saved) else { return };
        let key = session_key(self.shared.total, self.id);
        match self.shared.cache.set(&key, bytes.into(), self.shared.config.session_ttl).await {
            Ok(()) => self.dirty = false,
            Err(err) => tracing::warn!(shard = self.id, error = %err, "saving the gateway session failed"),
        }
    }

    /// Closes resumably (close code 4000), publishes what arrives meanwhile, and saves the session.
    async fn close(&mut self) {
        self.shard.close(CloseFrame::RESUME);
        let never = CancellationToken::new();
        let drain = async {
            while let Some(item) = self.shard.next().await {
                if matches!(item, Ok(Message::Close(_))) {
                    break;
                }
                if self.gap {
                    // NOTE: publishing past an unstored batch would save a sequence beyond it.
                    continue;
                }
                let mut batch = Vec::new();
                self.take(item, &mut batch);
                self.publish(batch, &never).await;
            }
        };
        let _ = tokio::time::timeout(CLOSE_WAIT, drain).await;
        self.save().await;
        self.shared.status.set(self.id, Phase::Stopped);
        tracing::info!(shard = self.id, "gateway shard closed; session saved");
    }
}

/// Asserts the queue type satisfies twilight's bound.
const _: fn() = || {
    fn is_queue<Q: Queue>() {}
    is_queue::<CacheQueue>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fatal_reasons_say_what_to_do() {
        assert!(fatal_reason(Some(4014)).contains("Server Members Intent"));
        assert!(fatal_reason(Some(4004)).contains("discord.bot_token"));
        assert!(fatal_reason(Some(4999)).contains("4999"));
        assert_eq!(session_key(4, 1), "gateway:session:4:1");
    }
}
