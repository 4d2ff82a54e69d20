//! A raw gateway websocket client (tests read every frame the emulator sends).

use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A raw gateway client.
pub struct Client {
    ws: Socket,
    zlib: Option<flate2::Decompress>,
}

impl Client {
    pub async fn connect(base: &str, query: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(format!("{base}/?{query}")).await.expect("websocket");
        let zlib = query.contains("zlib-stream").then(|| flate2::Decompress::new(true));
        Self { ws, zlib }
    }

    async fn next(&mut self) -> Option<Message> {
        tokio::time::timeout(Duration::from_secs(5), self.ws.next()).await.expect("no gateway message within 5 s")?.ok()
    }

    /// The next JSON payload (panics on close).
    pub async fn recv(&mut self) -> Value {
        loop {
            match self.next().await {
                Some(Message::Text(text)) => return serde_json::from_str(text.as_str()).expect("json"),
                Some(Message::Binary(bytes)) => return self.inflate(&bytes),
                Some(Message::Close(frame)) => panic!("closed: {frame:?}"),
                Some(_) => {}
                None => panic!("connection ended"),
            }
        }
    }

    /// Reads `count` text frames without parsing them (one timeout for all: a per-frame timer would be what is
    /// measured); returns when the first one came, and the first `keep` frames and the last one.
    pub async fn count_text_frames(&mut self, count: usize, keep: usize) -> (std::time::Instant, Vec<String>) {
        let read = async {
            let mut first = None;
            let mut kept = Vec::with_capacity(keep + 1);
            for n in 0..count {
                match self.ws.next().await {
                    Some(Ok(Message::Text(text))) => {
                        first.get_or_insert_with(std::time::Instant::now);
                        if n < keep || n + 1 == count {
                            kept.push(text.as_str().to_owned());
                        }
                    }
                    other => panic!("frame {n}: {other:?}"),
                }
            }
            (first.unwrap_or_else(std::time::Instant::now), kept)
        };
        tokio::time::timeout(Duration::from_secs(60), read).await.expect("frames within 60 s")
    }

    fn inflate(&mut self, bytes: &[u8]) -> Value {
        let zlib = self.zlib.as_mut().expect("binary frames only with zlib-stream");
        assert!(bytes.ends_with(&[0, 0, 0xff, 0xff]), "a zlib-stream message ends with a sync flush");
        let mut out = Vec::with_capacity(bytes.len() * 8 + 1024);
        let start = zlib.total_in();
        while usize::try_from(zlib.total_in() - start).expect("size") < bytes.len() {
            let consumed = usize::try_from(zlib.total_in() - start).expect("size");
            out.reserve(4096);
            zlib.decompress_vec(&bytes[consumed..], &mut out, flate2::FlushDecompress::Sync).expect("inflate");
        }
        serde_json::from_slice(&out).expect("json")
    }

    /// Reads until a dispatch named `event`.
    pub async fn until(&mut self, event: &str) -> Value {
        loop {
            let payload = self.recv().await;
            if payload["t"] == event {
                return payload;
            }
        }
    }

    /// Waits for the close code (or `None` when the connection just ends).
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match self.next().await {
                Some(Message::Close(frame)) => return frame.map(|frame| u16::from(frame.code)),
                Some(_) => {}
                None => return None,
            }
        }
    }

    pub async fn send(&mut self, payload: Value) {
        self.send_text(&payload.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    pub async fn identify(&mut self, token: &str, intents: u64, shard: Option<[u32; 2]>) {
        let mut data = json!({"token": format!("Bot {token}"), "intents": intents,
                              "properties": {"os": "linux", "browser": "kalcord", "device": "kalcord"}});
        if let Some(shard) = shard {
            data["shard"] = json!(shard);
        }
        self.send(json!({"op": 2, "d": data})).await;
    }

    pub async fn close(mut self, code: u16) {
        let frame = tokio_tungstenite::tungstenite::protocol::CloseFrame { code: code.into(), reason: "bye".into() };
        let _ = self.ws.close(Some(frame)).await;
    }
}
