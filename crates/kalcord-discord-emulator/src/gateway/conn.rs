//! One gateway connection: handshake parameters, client opcodes, limits, outbound frames.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::compress::ZlibStream;
use super::identify;
use super::session::{ConnLink, Outbound, Resume, frame};
use super::{close_reason, ends_session};
use crate::state::Inner;

/// Most outbound frames written between two flushes (keeps the loop answering client frames during a burst).
const MAX_BATCH: usize = 1024;

/// Members per `GUILD_MEMBERS_CHUNK` (Discord: 1000).
const CHUNK_SIZE: usize = 1000;

/// Query parameters of the websocket URL.
#[derive(Debug, Default)]
struct Params {
    version: Option<String>,
    encoding: Option<String>,
    compress: Option<String>,
}

impl Params {
    fn parse(query: &str) -> Self {
        let mut params = Self::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "v" => params.version = Some(value.into_owned()),
                "encoding" => params.encoding = Some(value.into_owned()),
                "compress" => params.compress = Some(value.into_owned()),
                _ => {}
            }
        }
        params
    }

    /// Close code for unsupported parameters.
    fn refusal(&self) -> Option<u16> {
        let version_ok = self.version.as_deref().is_none_or(|version| matches!(version, "9" | "10"));
        let encoding_ok = self.encoding.as_deref().is_none_or(|encoding| encoding == "json");
        (!version_ok || !encoding_ok).then_some(4012)
    }
}

/// What the loop does next.
enum Flow {
    Continue,
    /// Close with a code (the session ends or waits per the code).
    Close(u16),
    /// End without a close frame.
    Drop,
    /// The peer closed (with this code).
    PeerClosed(Option<u16>),
}

struct Conn {
    ws: WebSocketStream<TcpStream>,
    inner: Arc<Inner>,
    link: ConnLink,
    rx: mpsc::UnboundedReceiver<Outbound>,
    zlib: Option<ZlibStream>,
    session: Option<String>,
    recent: VecDeque<Instant>,
    last_heartbeat: Instant,
}

/// Serves one accepted TCP connection.
pub(crate) async fn handle(stream: TcpStream, inner: Arc<Inner>) {
    let query = Arc::new(parking_lot::Mutex::new(String::new()));
    let seen = Arc::clone(&query);
    #[allow(clippy::result_large_err)] // NOTE: tungstenite's callback signature.
    let callback = move |request: &Request, response: Response| {
        request.uri().query().unwrap_or_default().clone_into(&mut seen.lock());
        Ok(response)
    };
    let ws = match tokio_tungstenite::accept_hdr_async(stream, callback).await {
        Ok(ws) => ws,
        Err(error) => {
            tracing::debug!(%error, "websocket handshake failed");
            return;
        }
    };
    let params = Params::parse(&query.lock());
    let (tx, rx) = mpsc::unbounded_channel();
    let id = inner.hub.lock().next_conn_id();
    let zlib = (params.compress.as_deref() == Some("zlib-stream")).then(ZlibStream::new);
    let mut conn = Conn {
        ws,
        inner,
        link: ConnLink { id, tx },
        rx,
        zlib,
        session: None,
        recent: VecDeque::new(),
        last_heartbeat: Instant::now(),
    };
    if let Some(code) = params.refusal() {
        conn.close(code).await;
        return;
    }
    conn.run().await;
}

impl Conn {
    async fn run(&mut self) {
        let settings = self.inner.settings.gateway.clone();
        let interval = u64::try_from(settings.heartbeat_interval.as_millis()).unwrap_or(41_250);
        let hello = frame(10, &json!({"heartbeat_interval": interval, "_trace": ["[\"kalcord-discord-emulator\"]"]}));
        if self.send_text(&hello).await.is_err() {
            return;
        }
        let cancel = self.inner.cancel.clone();
        let flow = loop {
            let deadline = settings.heartbeat_timeout.map(|timeout| self.last_heartbeat + timeout);
            let flow = tokio::select! {
                () = cancel.cancelled() => Flow::Close(1001),
                () = sleep_until(deadline) => Flow::Close(4009),
                incoming = self.ws.next() => match incoming {
                    Some(Ok(message)) => self.on_message(message),
                    Some(Err(_)) | None => Flow::PeerClosed(None),
                },
                outbound = self.rx.recv() => self.on_outbound(outbound).await,
            };
            if !matches!(flow, Flow::Continue) {
                break flow;
            }
        };
        self.finish(flow).await;
    }

    async fn finish(&mut self, flow: Flow) {
        let resumable = match flow {
            Flow::Close(code) => {
                self.close(code).await;
                !ends_session(code)
            }
            Flow::PeerClosed(code) => code.is_none_or(|code| code != 1000 && code != 1001),
            Flow::Drop | Flow::Continue => true,
        };
        if let Some(session) = self.session.take() {
            self.inner.hub.lock().detach(&session, self.link.id, resumable);
        }
    }

    /// Sends `first` and whatever else is queued already (up to [`MAX_BATCH`] frames) with one flush.
    async fn on_outbound(&mut self, first: Option<Outbound>) -> Flow {
        let mut next = first;
        let mut fed = 0;
        let flow = loop {
            match next.take() {
                Some(Outbound::Frame(text)) => {
                    if self.feed_text(&text).await.is_err() {
                        return Flow::PeerClosed(None);
                    }
                    fed += 1;
                }
                Some(Outbound::Close(code)) => break Flow::Close(code),
                Some(Outbound::Drop) | None => break Flow::Drop,
            }
            if fed >= MAX_BATCH {
                break Flow::Continue;
            }
            match self.rx.try_recv() {
                Ok(outbound) => next = Some(outbound),
                // NOTE: a closed mailbox is seen by the next `recv()` in the loop.
                Err(_) => break Flow::Continue,
            }
        };
        // NOTE: frames fed before a Close or Drop still go out, as they did when every frame was flushed.
        if fed > 0 && self.ws.flush().await.is_err() {
            return Flow::PeerClosed(None);
        }
        flow
    }

    fn on_message(&mut self, message: Message) -> Flow {
        let text = match message {
            Message::Text(text) => text.as_str().to_owned(),
            Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Message::Close(frame) => return Flow::PeerClosed(frame.map(|frame| u16::from(frame.code))),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return Flow::Continue,
        };
        let settings = &self.inner.settings.gateway;
        if text.len() > settings.max_payload {
            return Flow::Close(4002);
        }
        let now = Instant::now();
        self.recent.push_back(now);
        while self.recent.front().is_some_and(|at| now.duration_since(*at) > Duration::from_mins(1)) {
            self.recent.pop_front();
        }
        if self.recent.len() > usize::try_from(settings.events_per_minute).unwrap_or(usize::MAX) {
            return Flow::Close(4008);
        }
        let Ok(payload) = serde_json::from_str::<Value>(&text) else { return Flow::Close(4002) };
        let Some(op) = payload.get("op").and_then(Value::as_u64) else { return Flow::Close(4002) };
        self.on_op(op, payload.get("d").unwrap_or(&Value::Null))
    }

    fn on_op(&mut self, op: u64, data: &Value) -> Flow {
        match op {
            1 => {
                self.last_heartbeat = Instant::now();
                if let Some(session) = &self.session {
                    self.inner.hub.lock().heartbeat(session);
                }
                let _ = self.link.tx.send(Outbound::Frame(frame(11, &Value::Null)));
                Flow::Continue
            }
            2 | 6 if self.session.is_some() => Flow::Close(4005),
            2 => match identify::identify(&self.inner, data, self.link.clone()) {
                Ok(Some(session)) => {
                    self.session = Some(session);
                    Flow::Continue
                }
                Ok(None) => {
                    // NOTE: Discord answers an IDENTIFY over the concurrency limit with op 9 `false` and keeps the
                    // socket open; clients reconnect and identify again after a few seconds.
                    let _ = self.link.tx.send(Outbound::Frame(frame(9, &json!(false))));
                    Flow::Continue
                }
                Err(code) => Flow::Close(code),
            },
            6 => self.on_resume(data),
            3 | 4 | 8 | 31 | 43 if self.session.is_none() => Flow::Close(4003),
            8 => {
                self.request_members(data);
                Flow::Continue
            }
            3 | 4 | 31 | 43 => Flow::Continue,
            _ => Flow::Close(4001),
        }
    }

    fn on_resume(&mut self, data: &Value) -> Flow {
        match identify::resume(&self.inner, data, &self.link) {
            Ok((session, Resume::Resumed)) => {
                self.session = Some(session);
                Flow::Continue
            }
            Ok((_, Resume::Invalid)) => {
                let _ = self.link.tx.send(Outbound::Frame(frame(9, &json!(false))));
                Flow::Continue
            }
            Ok((_, Resume::BadSeq)) => Flow::Close(4007),
            Err(code) => Flow::Close(code),
        }
    }

    /// op 8: `GUILD_MEMBERS_CHUNK`s of up to 1000 members with every member (needs `GUILD_MEMBERS`).
    fn request_members(&mut self, data: &Value) {
        let Some(session) = self.session.clone() else { return };
        let guild_id = data.get("guild_id").and_then(Value::as_str).and_then(crate::ids::parse_id);
        let world = self.inner.world.lock();
        let Some(guild) = guild_id.and_then(|id| world.guilds.get(&id)) else { return };
        let members: Vec<Value> =
            guild.members.values().map(|member| crate::world::json::member(&world, member)).collect();
        let count = members.len().div_ceil(CHUNK_SIZE).max(1);
        let mut hub = self.inner.hub.lock();
        for (index, chunk) in members.chunks(CHUNK_SIZE).enumerate() {
            let chunk = json!({
                "guild_id": guild.id.to_string(), "members": chunk, "chunk_index": index, "chunk_count": count,
                "not_found": [], "nonce": data.get("nonce"),
            });
            hub.push(&session, "GUILD_MEMBERS_CHUNK", &chunk);
        }
    }

    fn message(&mut self, text: &str) -> Message {
        match &mut self.zlib {
            Some(zlib) => Message::Binary(zlib.compress(text.as_bytes()).into()),
            None => Message::text(text),
        }
    }

    /// Sends one frame and flushes.
    async fn send_text(&mut self, text: &str) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        let message = self.message(text);
        self.ws.send(message).await
    }

    /// Queues one frame without flushing (`on_outbound` flushes once per batch).
    async fn feed_text(&mut self, text: &str) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        let message = self.message(text);
        self.ws.feed(message).await
    }

    async fn close(&mut self, code: u16) {
        let frame = CloseFrame { code: CloseCode::from(code), reason: close_reason(code).into() };
        let _ = self.ws.send(Message::Close(Some(frame))).await;
        let _ = tokio::time::timeout(Duration::from_millis(200), self.ws.close(None)).await;
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => futures::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    #[test]
    fn query_parameters() {
        assert_eq!(Params::parse("v=10&encoding=json&compress=zlib-stream").refusal(), None);
        assert_eq!(Params::parse("v=6").refusal(), Some(4012));
        assert_eq!(Params::parse("encoding=etf").refusal(), Some(4012));
        assert_eq!(Params::parse("").compress, None);
    }
}
