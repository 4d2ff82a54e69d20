//! A small service-shaped configuration used by every test.

use std::net::SocketAddr;
use std::time::Duration;

use kalcord_config::{Reader, Secret, SecretsConfig, Section};

#[derive(Debug)]
pub struct Root {
    pub demo: Demo,
    pub secrets: SecretsConfig,
}

impl Section for Root {
    fn read(r: &mut Reader<'_>) -> Self {
        Self { demo: r.section("demo"), secrets: r.section("secrets") }
    }
}

#[derive(Debug)]
pub struct Demo {
    pub listen: SocketAddr,
    pub workers: u16,
    pub timeout: Duration,
    pub name: String,
    pub tags: Vec<String>,
    pub token: Option<Secret>,
    pub api_key: Secret,
}

impl Section for Demo {
    fn read(r: &mut Reader<'_>) -> Self {
        let demo = Self {
            listen: r.get("listen", "127.0.0.1:8080".parse().unwrap(), "Listen address."),
            workers: r.get("workers", 4, "Worker count."),
            timeout: r.duration("timeout", Duration::from_secs(10), "Timeout."),
            name: r.get("name", "kalcord".to_owned(), "Name."),
            tags: r.list("tags", Vec::new(), "Tags."),
            token: r.secret("token", "Optional token."),
            api_key: r.required_secret("api_key", "Required key."),
        };
        if demo.workers == 0 {
            r.invalid("workers", "must be at least 1");
        }
        demo
    }
}
