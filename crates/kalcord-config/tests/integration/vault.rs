//! Reads secrets from a real OpenBao dev server (`make services` starts one).

use std::collections::HashMap;

use kalcord_config::{ConfigError, LoadOptions, Origin, SecretStore, Sources, load};
use kalcord_test_util::env::{unique_suffix, vault_addr, vault_token};
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};

use super::common::Root;

async fn write_secret(path: &str, data: &HashMap<&str, &str>) {
    let settings = VaultClientSettingsBuilder::default().address(vault_addr()).token(vault_token()).build().unwrap();
    let client = VaultClient::new(settings).unwrap();
    vaultrs::kv2::set(&client, "secret", path, data)
        .await
        .unwrap_or_else(|err| panic!("cannot write to OpenBao at {} (run `make services`): {err}", vault_addr()));
}

fn vault_env(path: &str, token: &str) -> Sources {
    Sources::empty().with_env([
        ("KALCORD_SECRETS_BACKEND", "vault".to_owned()),
        ("KALCORD_SECRETS_VAULT_ADDR", vault_addr()),
        ("KALCORD_SECRETS_VAULT_PATH", path.to_owned()),
        ("KALCORD_SECRETS_VAULT_TOKEN", token.to_owned()),
        // NOTE: with the vault backend the environment must not be able to override Vault.
        ("KALCORD_DEMO_TOKEN", "env-token-ignored".to_owned()),
    ])
}

#[tokio::test]
async fn secrets_come_from_openbao_kv2() {
    let _trace = kalcord_test_util::trace_init();
    let path = format!("kalcord-test-{}", unique_suffix());
    write_secret(&path, &HashMap::from([("demo.api_key", "vault-key"), ("demo.token", "vault-token")])).await;
    let sources = vault_env(&path, &vault_token());
    let root = load::<Root>(&sources, LoadOptions::default()).await.unwrap();
    assert_eq!(root.demo.api_key.expose(), "vault-key");
    assert_eq!(root.demo.token.as_ref().unwrap().expose(), "vault-token");
    let store = SecretStore::open(&root.secrets, &sources).await.unwrap();
    assert_eq!(store.get("demo.api_key").unwrap().1, Origin::Vault);
    assert!(!format!("{root:?}").contains("vault-"), "debug output leaks a secret");
}

#[tokio::test]
async fn a_bad_token_is_a_clear_error_without_the_token() {
    let _trace = kalcord_test_util::trace_init();
    let sources = vault_env("kalcord-test-missing", "not-a-real-token");
    let err = load::<Root>(&sources, LoadOptions::default()).await.unwrap_err();
    assert!(matches!(err, ConfigError::Vault { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("permission denied"), "{text}");
    assert!(!text.contains("not-a-real-token"), "{text}");
}

#[tokio::test]
async fn a_missing_path_is_reported() {
    let _trace = kalcord_test_util::trace_init();
    let sources = vault_env(&format!("kalcord-test-absent-{}", unique_suffix()), &vault_token());
    let err = load::<Root>(&sources, LoadOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("no secret at this path"), "{err}");
}

#[tokio::test]
async fn vault_backend_needs_a_token() {
    let _trace = kalcord_test_util::trace_init();
    let sources = Sources::empty().with_env([("KALCORD_SECRETS_BACKEND", "vault")]);
    let err = load::<Root>(&sources, LoadOptions::default()).await.unwrap_err();
    assert_eq!(err.fields()[0].key, "secrets.vault.token", "{err}");
}
