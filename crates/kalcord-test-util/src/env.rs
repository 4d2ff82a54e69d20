//! Addresses of the real backing services used by tests.
//!
//! Each can be overridden by an environment variable; the defaults are what `make services`
//! starts on 127.0.0.1.

/// Environment variable naming the PostgreSQL server used by tests.
pub const ENV_POSTGRES_URL: &str = "KALCORD_TEST_POSTGRES_URL";
/// Environment variable naming the NATS server used by tests.
pub const ENV_NATS_URL: &str = "KALCORD_TEST_NATS_URL";
/// Environment variable naming the Redis server used by tests.
pub const ENV_REDIS_URL: &str = "KALCORD_TEST_REDIS_URL";
/// Environment variable naming the OpenBao (Vault-compatible) dev server used by tests.
pub const ENV_VAULT_ADDR: &str = "KALCORD_TEST_VAULT_ADDR";
/// Environment variable holding the root token of that dev server.
pub const ENV_VAULT_TOKEN: &str = "KALCORD_TEST_VAULT_TOKEN";

/// Default PostgreSQL admin URL (trust authentication on loopback).
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Default NATS URL.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";
/// Default Redis URL.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// Default OpenBao address, as started by `make services`.
pub const DEFAULT_VAULT_ADDR: &str = "http://127.0.0.1:8200";
/// Default OpenBao dev root token, as started by `make services`.
pub const DEFAULT_VAULT_TOKEN: &str = "kalcord-dev-root";

fn var_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// PostgreSQL admin URL for tests.
#[must_use]
pub fn postgres_url() -> String {
    var_or(ENV_POSTGRES_URL, DEFAULT_POSTGRES_URL)
}

/// NATS URL for tests.
#[must_use]
pub fn nats_url() -> String {
    var_or(ENV_NATS_URL, DEFAULT_NATS_URL)
}

/// Redis URL for tests.
#[must_use]
pub fn redis_url() -> String {
    var_or(ENV_REDIS_URL, DEFAULT_REDIS_URL)
}

/// OpenBao address for tests.
#[must_use]
pub fn vault_addr() -> String {
    var_or(ENV_VAULT_ADDR, DEFAULT_VAULT_ADDR)
}

/// OpenBao root token for tests.
#[must_use]
pub fn vault_token() -> String {
    var_or(ENV_VAULT_TOKEN, DEFAULT_VAULT_TOKEN)
}

/// A short random identifier for naming per-test resources (databases, prefixes).
#[must_use]
pub fn unique_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}
