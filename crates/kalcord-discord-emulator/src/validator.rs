//! Client of the Node schema validator (`tests/fidelity/discord/validator.mjs`, npm `discord-api-spec`).
//!
//! Newline-delimited JSON over the child's stdin/stdout: `{"ready":true,...}` once loaded, then one
//! `{id, ok, operation, schema, issues}` answer per `{id, method, path, body}` request.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::oneshot;

use crate::config::ValidatorConfig;
use crate::error::EmulatorError;

/// How long one validation may take before the request is answered 500.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// The validator's answer.
#[derive(Debug)]
pub(crate) struct Verdict {
    pub ok: bool,
    pub operation: Option<String>,
    pub issues: Vec<Value>,
}

/// A running validator process.
#[derive(Debug)]
pub(crate) struct Validator {
    stdin: tokio::sync::Mutex<ChildStdin>,
    pending: Pending,
    next: AtomicU64,
    child: Mutex<Option<Child>>,
}

fn start_error(config: &ValidatorConfig, reason: &str) -> EmulatorError {
    EmulatorError::Validator(format!(
        "cannot start the schema validator `{} {}`: {reason} (run npm ci --prefix tests/fidelity/discord)",
        config.node.display(),
        config.script.display()
    ))
}

impl Validator {
    /// Spawns the validator and waits until it has loaded the schemas.
    pub(crate) async fn start(config: &ValidatorConfig) -> Result<Self, EmulatorError> {
        if !config.script.is_file() {
            return Err(start_error(config, "the script does not exist"));
        }
        let mut child = Command::new(&config.node)
            .arg(&config.script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| start_error(config, &error.to_string()))?;
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(start_error(config, "no pipes"));
        };
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(config.start_timeout, lines.next_line()).await;
        let ready = match first {
            Ok(Ok(Some(line))) => serde_json::from_str::<Value>(&line).ok().filter(|value| value["ready"] == true),
            _ => None,
        };
        if ready.is_none() {
            let _ = child.start_kill();
            let mut text = String::new();
            let _ = tokio::time::timeout(Duration::from_secs(2), stderr.read_to_string(&mut text)).await;
            let tail: String =
                text.lines().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | ");
            return Err(start_error(config, &format!("it did not report ready: {tail}")));
        }
        tokio::spawn(async move {
            let mut sink = String::new();
            let _ = stderr.read_to_string(&mut sink).await;
        });
        let pending: Pending = Arc::default();
        tokio::spawn(read_answers(lines, Arc::clone(&pending)));
        Ok(Self {
            stdin: tokio::sync::Mutex::new(stdin),
            pending,
            next: AtomicU64::new(1),
            child: Mutex::new(Some(child)),
        })
    }

    /// Validates a body sent to `method path` (path without `/api/v10`).
    pub(crate) async fn validate(&self, method: &str, path: &str, body: &Value) -> Result<Verdict, String> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().insert(id, tx);
        let mut line = json!({"id": id, "method": method, "path": path, "body": body}).to_string();
        line.push('\n');
        let written = {
            let mut stdin = self.stdin.lock().await;
            stdin.write_all(line.as_bytes()).await.and(stdin.flush().await)
        };
        if let Err(error) = written {
            self.pending.lock().remove(&id);
            return Err(format!("the schema validator is gone: {error}"));
        }
        let answer = match tokio::time::timeout(ANSWER_TIMEOUT, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => return Err("the schema validator exited".to_owned()),
            Err(_) => {
                self.pending.lock().remove(&id);
                return Err("the schema validator did not answer".to_owned());
            }
        };
        if let Some(error) = answer.get("error").and_then(Value::as_str) {
            return Err(format!("the schema validator failed: {error}"));
        }
        Ok(Verdict {
            ok: answer["ok"].as_bool().unwrap_or(false),
            operation: answer["operation"].as_str().map(str::to_owned),
            issues: answer["issues"].as_array().cloned().unwrap_or_default(),
        })
    }

    /// Kills the process.
    pub(crate) fn stop(&self) {
        if let Some(mut child) = self.child.lock().take() {
            let _ = child.start_kill();
        }
    }
}

async fn read_answers(mut lines: tokio::io::Lines<BufReader<ChildStdout>>, pending: Pending) {
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(answer) = serde_json::from_str::<Value>(&line) else { continue };
        let Some(id) = answer.get("id").and_then(Value::as_u64) else { continue };
        if let Some(waiter) = pending.lock().remove(&id) {
            let _ = waiter.send(answer);
        }
    }
    pending.lock().clear();
}
