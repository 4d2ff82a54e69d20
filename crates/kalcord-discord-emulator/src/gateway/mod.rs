//! The gateway websocket: HELLO, IDENTIFY/READY, GUILD_CREATE, dispatches, heartbeats, RESUME, op 7/9, close codes.

pub(crate) mod compress;
pub(crate) mod conn;
pub(crate) mod dispatch;
mod identify;
pub(crate) mod session;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::state::Inner;
use session::{Outbound, frame};

/// Something to do to gateway connections (admin API / [`crate::EmulatorState::gateway_action`]).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum GatewayAction {
    /// Drop the TCP connection without a close frame (the session stays resumable).
    Drop,
    /// Send a close frame with this code (1000/1001 and non-reconnectable codes end the session).
    Close {
        /// Close code (e.g. 4000).
        code: u16,
    },
    /// Send op 7 Reconnect.
    Reconnect,
    /// Send op 9 Invalid Session (`resumable: false` also forgets the session).
    InvalidSession {
        /// `d` of op 9.
        resumable: bool,
    },
    /// Send op 1 Heartbeat (the client must answer at once).
    RequestHeartbeat,
}

/// Close codes after which the session cannot be resumed.
pub(crate) fn ends_session(code: u16) -> bool {
    matches!(code, 1000 | 1001 | 4004 | 4007 | 4009 | 4010 | 4011 | 4012 | 4013 | 4014)
}

/// Reason text of a close code.
pub(crate) fn close_reason(code: u16) -> &'static str {
    match code {
        4000 => "Unknown error.",
        4001 => "Unknown opcode.",
        4002 => "Decode error.",
        4003 => "Not authenticated.",
        4004 => "Authentication failed.",
        4005 => "Already authenticated.",
        4007 => "Invalid seq.",
        4008 => "Rate limited.",
        4009 => "Session timed out.",
        4010 => "Invalid shard.",
        4011 => "Sharding required.",
        4012 => "Invalid API version.",
        4013 => "Invalid intent(s).",
        4014 => "Disallowed intent(s).",
        _ => "",
    }
}

/// Applies an action to the connected sessions (all, or `target`); returns how many were reached.
pub(crate) fn act(inner: &Inner, target: Option<&str>, action: &GatewayAction) -> usize {
    let mut hub = inner.hub.lock();
    let mut forget = Vec::new();
    let count = hub.command(target, |session_id| match action {
        GatewayAction::Drop => vec![Outbound::Drop],
        GatewayAction::Close { code } => vec![Outbound::Close(*code)],
        GatewayAction::Reconnect => vec![Outbound::Frame(frame(7, &Value::Null))],
        GatewayAction::InvalidSession { resumable } => {
            if !resumable {
                forget.push(session_id.to_owned());
            }
            vec![Outbound::Frame(frame(9, &json!(resumable)))]
        }
        GatewayAction::RequestHeartbeat => vec![Outbound::Frame(frame(1, &Value::Null))],
    });
    for session_id in forget {
        hub.invalidate(&session_id);
    }
    count
}

/// Accepts websocket connections until cancelled.
pub(crate) async fn serve(listener: tokio::net::TcpListener, inner: Arc<Inner>) {
    let cancel = inner.cancel.clone();
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tracing::debug!(%peer, "gateway connection");
                    tokio::spawn(conn::handle(stream, Arc::clone(&inner)));
                }
                Err(error) => tracing::warn!(%error, "gateway accept failed"),
            },
        }
    }
}
