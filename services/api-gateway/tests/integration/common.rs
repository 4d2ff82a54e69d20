//! The gateway's app, in process, on an in-process bus, with a Discord signing key.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use ed25519_dalek::{Signer as _, SigningKey};
use kalcord_api_gateway::{AppState, Config};
use kalcord_bus::{MemoryBus, SharedBus};
use kalcord_runtime::{CommonConfig, Deps};

pub struct Edge {
    pub bus: SharedBus,
    pub key: SigningKey,
    pub state: web::Data<AppState>,
}

impl Edge {
    pub fn new(interaction_timeout: Duration) -> Self {
        Self::build(interaction_timeout, true)
    }

    pub fn without_discord() -> Self {
        Self::build(Duration::from_millis(300), false)
    }

    fn build(interaction_timeout: Duration, with_key: bool) -> Self {
        let key = SigningKey::from_bytes(&[42u8; 32]);
        let mut common = CommonConfig::defaults();
        if with_key {
            common.discord.public_key = Some(hex::encode(key.verifying_key().to_bytes()));
        }
        let bus: SharedBus = Arc::new(MemoryBus::new(""));
        let deps = Deps {
            bus: Arc::clone(&bus),
            cache: None,
            common: Arc::new(common),
            instance: "test".into(),
            started: std::time::Instant::now(),
            store: None,
        };
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            interaction_timeout,
            status_timeout: Duration::from_millis(200),
            workers: 1,
            ..Config::default()
        };
        Self { bus, key, state: web::Data::new(AppState::new(config, deps)) }
    }

    /// Signature and timestamp headers for `body` signed now.
    pub fn sign(&self, body: &[u8]) -> (String, String) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
        self.sign_at(&now, body)
    }

    pub fn sign_at(&self, timestamp: &str, body: &[u8]) -> (String, String) {
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(body);
        (hex::encode(self.key.sign(&message).to_bytes()), timestamp.to_owned())
    }
}
