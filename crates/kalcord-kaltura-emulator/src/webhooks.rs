//! HTTP event notifications (§6): `HTTP_ENTRY_STATUS_CHANGED` templates, signed, retried.

use std::fmt::Write as _;
use std::sync::{Arc, Weak};

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use tokio::sync::mpsc;

use crate::api::json;
use crate::api::value::{Obj, Val};
use crate::error::EmulatorError;
use crate::model::{HashAlgo, WebhookDelivery, WebhookFormat, WebhookInfo, WebhookSubscription};
use crate::state::{Inner, push_capped};

/// An entry status change to notify.
#[derive(Clone, Debug)]
pub(crate) struct Notification {
    /// The entry as `media.get` returns it.
    pub entry: Val,
    pub entry_id: String,
    pub name: String,
    pub status: i64,
    pub reference_id: String,
}

/// A live subscription: its configuration and its delivery queue (one worker, in order).
pub(crate) struct Hook {
    pub config: WebhookSubscription,
    sender: mpsc::UnboundedSender<Notification>,
}

impl Hook {
    /// How it is listed.
    pub fn info(&self, id: i64) -> WebhookInfo {
        WebhookInfo {
            id,
            partner_id: self.config.partner_id,
            url: self.config.url.clone(),
            hash_algo: self.config.hash_algo,
            custom_secret: self.config.secret.is_some(),
            format: self.config.format,
        }
    }
}

/// `lowercase_hex(H(secret || body))`: a plain hash, not an HMAC.
pub(crate) fn sign(algo: HashAlgo, secret: &str, body: &[u8]) -> String {
    match algo {
        HashAlgo::Sha1 => hex::encode(Sha1::new().chain_update(secret.as_bytes()).chain_update(body).finalize()),
        HashAlgo::Sha256 => hex::encode(Sha256::new().chain_update(secret.as_bytes()).chain_update(body).finalize()),
        HashAlgo::Sha512 => hex::encode(Sha512::new().chain_update(secret.as_bytes()).chain_update(body).finalize()),
    }
}

/// Only `http://127.0.0.1[:port]/...` targets.
fn loopback_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|parsed| parsed.scheme() == "http" && parsed.host_str() == Some("127.0.0.1"))
}

/// Registers a subscription and starts its delivery worker.
pub(crate) fn subscribe(inner: &Arc<Inner>, config: WebhookSubscription) -> Result<i64, EmulatorError> {
    if !loopback_url(&config.url) {
        return Err(EmulatorError::WebhookUrl(config.url));
    }
    if !inner.world.lock().partners.contains_key(&config.partner_id) {
        return Err(EmulatorError::UnknownPartner(config.partner_id));
    }
    let id = inner.next_hook_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (sender, receiver) = mpsc::unbounded_channel();
    inner.hooks.lock().insert(id, Hook { config, sender });
    inner.spawn(worker(Arc::downgrade(inner), id, receiver));
    Ok(id)
}

/// Queues a notification on every subscription of the partner.
pub(crate) fn notify(inner: &Inner, partner_id: i64, notification: &Notification) {
    for hook in inner.hooks.lock().values().filter(|hook| hook.config.partner_id == partner_id) {
        let _ = hook.sender.send(notification.clone());
    }
}

async fn worker(inner: Weak<Inner>, hook_id: i64, mut receiver: mpsc::UnboundedReceiver<Notification>) {
    while let Some(notification) = receiver.recv().await {
        let Some(inner) = inner.upgrade() else {
            return;
        };
        deliver(&inner, hook_id, &notification).await;
    }
}

/// The body and its content type.
fn body_for(
    config: &WebhookSubscription,
    hook_id: i64,
    job_id: i64,
    notification: &Notification,
) -> (String, &'static str) {
    match config.format {
        WebhookFormat::Object => {
            let message = Obj::new("KalturaHttpNotification")
                .with("object", notification.entry.clone())
                .with("eventObjectType", Val::Int(1))
                .with("eventNotificationJobId", Val::Int(job_id))
                .with("templateId", Val::Int(hook_id))
                .with(
                    "templateName",
                    Val::Str(config.name.clone().unwrap_or_else(|| "Entry Status Changed".to_owned())),
                )
                .with("templateSystemName", Val::Str("HTTP_ENTRY_STATUS_CHANGED".to_owned()))
                .with("eventType", Val::Int(3));
            (json::render(&Ok(Val::Obj(message))), "application/json")
        }
        WebhookFormat::Fields => {
            let fields = [
                ("entry_id", notification.entry_id.clone()),
                ("entry_name", notification.name.clone()),
                ("entry_status", notification.status.to_string()),
                ("entry_reference_id", notification.reference_id.clone()),
            ];
            let body: Vec<String> =
                fields.iter().map(|(name, value)| format!("{name}={}", php_urlencode(value))).collect();
            (body.join("&"), "application/x-www-form-urlencoded")
        }
    }
}

/// PHP `urlencode` (what `http_build_query` uses): alphanumerics and `-_.` stay, space is `+`.
fn php_urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(char::from(byte)),
            b' ' => out.push('+'),
            other => {
                let _ = write!(out, "%{other:02X}");
            }
        }
    }
    out
}

/// Posts one notification, retrying with a doubling delay until 200/204 or the attempt limit.
async fn deliver(inner: &Inner, hook_id: i64, notification: &Notification) {
    let Some((config, secret)) = target(inner, hook_id) else {
        return;
    };
    let job_id = inner.next_job_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (body, content_type) = body_for(&config, hook_id, job_id, notification);
    let signature = if secret.is_empty() { String::new() } else { sign(config.hash_algo, &secret, body.as_bytes()) };
    let mut delay = inner.settings.webhook_retry_delay;
    let attempts = inner.settings.webhook_max_attempts.max(1);
    for attempt in 1..=attempts {
        let mut request = inner.http.post(&config.url).header("Content-Type", content_type).body(body.clone());
        if !signature.is_empty() {
            request = request
                .header("X-KALTURA-SIGNATURE", &signature)
                .header("X-KALTURA-HASH-ALGO", config.hash_algo.as_str());
        }
        let (http_status, error) = match request.send().await {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(error) => (None, Some(error.to_string())),
        };
        let success = matches!(http_status, Some(200 | 204));
        record(
            inner,
            WebhookDelivery {
                seq: 0,
                at: inner.now(),
                subscription_id: hook_id,
                partner_id: config.partner_id,
                url: config.url.clone(),
                entry_id: notification.entry_id.clone(),
                entry_status: notification.status,
                attempt,
                http_status,
                error,
                success,
                hash_algo: config.hash_algo,
                signature: signature.clone(),
                content_type: content_type.to_owned(),
                body: body.clone(),
            },
        );
        tracing::debug!(hook_id, attempt, ?http_status, success, "webhook delivery attempt");
        if success {
            return;
        }
        if attempt < attempts {
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2);
        }
    }
}

fn record(inner: &Inner, delivery: WebhookDelivery) {
    let mut deliveries = inner.deliveries.lock();
    let seq = deliveries.last().map_or(1, |last| last.seq + 1);
    push_capped(&mut deliveries, WebhookDelivery { seq, ..delivery });
}

/// The subscription and the secret that signs for it (custom, else the partner's first admin secret).
fn target(inner: &Inner, hook_id: i64) -> Option<(WebhookSubscription, String)> {
    let config = inner.hooks.lock().get(&hook_id)?.config.clone();
    let secret = match &config.secret {
        Some(secret) => secret.clone(),
        None => inner.world.lock().partners.get(&config.partner_id)?.config.signing_secret()?.to_owned(),
    };
    Some((config, secret))
}

#[cfg(test)]
mod tests {
    use super::{loopback_url, php_urlencode, sign};
    use crate::model::HashAlgo;

    /// §6 worked example.
    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const BODY: &str = r#"{"object":{"id":"0_abc12345","name":"Rec","status":2,"objectType":"KalturaMediaEntry"},"eventObjectType":1,"eventNotificationJobId":123,"templateId":456,"templateName":"Entry Ready","templateSystemName":"HTTP_ENTRY_STATUS_EQUALS","eventType":3,"objectType":"KalturaHttpNotification"}"#;

    #[test]
    fn signature_matches_the_spec_vector() {
        assert_eq!(BODY.len(), 283);
        assert_eq!(sign(HashAlgo::Sha1, SECRET, BODY.as_bytes()), "b451c7190873e1edcd75146dbacbffb609570f4e");
        assert_eq!(
            sign(HashAlgo::Sha256, SECRET, BODY.as_bytes()),
            "c1fad898682fec53425e57b08accf38c25b0c19740a45710229fb619e72106b5"
        );
        assert_eq!(sign(HashAlgo::Sha512, SECRET, BODY.as_bytes()).len(), 128);
    }

    #[test]
    fn only_loopback_http_targets() {
        assert!(loopback_url("http://127.0.0.1:8080/hook"));
        assert!(!loopback_url("https://127.0.0.1:8080/hook"));
        assert!(!loopback_url("http://localhost:8080/hook"));
        assert!(!loopback_url("http://10.0.0.1/hook"));
        assert!(!loopback_url("http://127.0.0.1.evil.com/hook"));
        assert!(!loopback_url("not a url"));
    }

    #[test]
    fn fields_are_url_encoded_like_php() {
        assert_eq!(php_urlencode("Room 1 - Recording *1*"), "Room+1+-+Recording+%2A1%2A");
    }
}
