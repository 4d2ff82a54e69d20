//! A client pointed at a fresh emulator with one partner.

use std::time::Duration;

use kalcord_kaltura::{BreakerConfig, Client, ClientConfig, RetryPolicy};
use kalcord_kaltura_emulator::{Emulator, EmulatorConfig, EmulatorState, PartnerConfig};

pub const PARTNER: i64 = 1_234_567;
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";

pub struct Harness {
    pub client: Client,
    pub emulator: Emulator,
}

impl Harness {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(adjust: impl FnOnce(&mut ClientConfig)) -> Self {
        let emulator = Emulator::start(EmulatorConfig::default().with_partner(PartnerConfig::new(PARTNER, SECRET)))
            .await
            .expect("emulator starts");
        let base = emulator.base_url();
        let mut config = ClientConfig::new(PARTNER, kalcord_config::Secret::new(SECRET), base.parse().unwrap());
        config.kaf_url = Some(base.parse().unwrap());
        config.retry = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
        };
        config.breaker = BreakerConfig { failure_threshold: 3, cool_down: Duration::from_millis(500) };
        config.timeout = Duration::from_millis(1500);
        adjust(&mut config);
        Self { client: Client::new(config).unwrap(), emulator }
    }

    pub fn state(&self) -> EmulatorState {
        self.emulator.state()
    }

    /// Calls the emulator received for `service.action`.
    pub fn calls(&self, service: &str, action: &str) -> usize {
        self.state()
            .requests()
            .iter()
            .filter(|r| r.service.as_deref() == Some(service) && r.action.as_deref().unwrap_or_default() == action)
            .count()
    }

    pub async fn stop(self) {
        self.emulator.stop().await;
    }
}
