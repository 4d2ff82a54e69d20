//! The writable tenant secret store: a `0600` TOML file and Vault/OpenBao KV v2.

use std::os::unix::fs::PermissionsExt as _;

use kalcord_config::{LoadOptions, Secret, SecretsBackend, Sources, TenantSecretError, TenantSecretStore, load};
use kalcord_test_util::env::{unique_suffix, vault_addr, vault_token};

use super::common::Root;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn file_round_trip_is_private_and_atomic() {
    let _trace = kalcord_test_util::trace_init();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/tenant-secrets.toml");
    let store = TenantSecretStore::file(path.clone());
    assert!(store.get("guild-1").await.unwrap().is_none(), "a missing file is an empty store");

    store.put("guild-1", &Secret::new("first-secret")).await.unwrap();
    store.put("guild-2", &Secret::new("second \"quoted\" secret")).await.unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(store.get("guild-1").await.unwrap().unwrap().expose(), "first-secret");
    assert_eq!(store.get("guild-2").await.unwrap().unwrap().expose(), "second \"quoted\" secret");

    store.put("guild-1", &Secret::new("replaced")).await.unwrap();
    assert_eq!(store.get("guild-1").await.unwrap().unwrap().expose(), "replaced");
    assert_eq!(mode(&path), 0o600, "rewrites keep the mode");
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["tenant-secrets.toml"], "no temporary file is left behind");

    assert!(store.remove("guild-1").await.unwrap());
    assert!(!store.remove("guild-1").await.unwrap());
    assert!(store.get("guild-1").await.unwrap().is_none());

    let reopened = TenantSecretStore::file(path.clone());
    assert_eq!(reopened.get("guild-2").await.unwrap().unwrap().expose(), "second \"quoted\" secret");
    assert!(!format!("{reopened:?}").contains("quoted"), "debug output leaks a secret");
}

#[tokio::test]
async fn a_group_readable_file_is_refused() {
    let _trace = kalcord_test_util::trace_init();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant-secrets.toml");
    std::fs::write(&path, "guild-1 = \"leaky\"\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = TenantSecretStore::file(path.clone());
    let err = store.get("guild-1").await.unwrap_err();
    assert!(matches!(err, TenantSecretError::Insecure { mode: 0o644, .. }), "{err}");
    let err = store.put("guild-2", &Secret::new("x")).await.unwrap_err();
    assert!(matches!(err, TenantSecretError::Insecure { .. }), "a write does not trust it either: {err}");
    assert!(!err.to_string().contains("leaky"));
}

#[tokio::test]
async fn a_broken_file_is_reported_without_its_content() {
    let _trace = kalcord_test_util::trace_init();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant-secrets.toml");
    std::fs::write(&path, "guild-1 = \"unterminated-secret\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = TenantSecretStore::file(path).get("guild-1").await.unwrap_err();
    assert!(matches!(err, TenantSecretError::Parse { .. }), "{err}");
    assert!(!err.to_string().contains("unterminated-secret"), "{err}");
}

#[tokio::test]
async fn keys_are_checked() {
    let _trace = kalcord_test_util::trace_init();
    let dir = tempfile::tempdir().unwrap();
    let store = TenantSecretStore::file(dir.path().join("t.toml"));
    for key in ["", "../x", "a/b", ".hidden", "a b"] {
        assert!(matches!(store.get(key).await, Err(TenantSecretError::InvalidKey(_))), "{key:?}");
    }
}

#[tokio::test]
async fn the_standalone_default_is_under_the_data_directory() {
    let _trace = kalcord_test_util::trace_init();
    let sources = Sources::empty().with_env([("KALCORD_DEMO_API_KEY", "k".to_owned())]);
    let root = load::<Root>(&sources, LoadOptions::default()).await.unwrap();
    assert_eq!(root.secrets.tenant_file, std::path::Path::new("data/tenant-secrets.toml"));
}

#[tokio::test]
async fn vault_round_trip() {
    let _trace = kalcord_test_util::trace_init();
    let path = format!("kalcord-test-{}", unique_suffix());
    let sources = Sources::empty().with_env([
        ("KALCORD_DEMO_API_KEY", "k".to_owned()),
        ("KALCORD_SECRETS_VAULT_ADDR", vault_addr()),
        ("KALCORD_SECRETS_VAULT_PATH", path.clone()),
        ("KALCORD_SECRETS_VAULT_TOKEN", vault_token()),
    ]);
    let mut root = load::<Root>(&sources, LoadOptions::default()).await.unwrap();
    root.secrets.backend = SecretsBackend::Vault;
    let store = TenantSecretStore::open(&root.secrets).unwrap();
    assert!(store.get("guild-7").await.unwrap().is_none());
    store.put("guild-7", &Secret::new("vault-tenant-secret")).await.unwrap();
    assert_eq!(store.get("guild-7").await.unwrap().unwrap().expose(), "vault-tenant-secret");
    store.put("guild-7", &Secret::new("rotated")).await.unwrap();
    assert_eq!(store.get("guild-7").await.unwrap().unwrap().expose(), "rotated");

    // Stored where an operator would look: <path>/tenants/<key>, field `value`.
    let settings = vaultrs::client::VaultClientSettingsBuilder::default()
        .address(vault_addr())
        .token(vault_token())
        .build()
        .unwrap();
    let client = vaultrs::client::VaultClient::new(settings).unwrap();
    let raw: serde_json::Value =
        vaultrs::kv2::read(&client, "secret", &format!("{path}/tenants/guild-7")).await.unwrap();
    assert_eq!(raw["value"], "rotated");

    assert!(store.remove("guild-7").await.unwrap());
    assert!(store.get("guild-7").await.unwrap().is_none());
    assert!(!format!("{store:?}").contains("rotated"));
}

#[tokio::test]
async fn vault_with_a_bad_token_fails_without_echoing_it() {
    let _trace = kalcord_test_util::trace_init();
    let mut root = load::<Root>(
        &Sources::empty().with_env([
            ("KALCORD_DEMO_API_KEY", "k".to_owned()),
            ("KALCORD_SECRETS_VAULT_ADDR", vault_addr()),
            ("KALCORD_SECRETS_VAULT_TOKEN", "not-a-real-token".to_owned()),
        ]),
        LoadOptions::default(),
    )
    .await
    .unwrap();
    root.secrets.backend = SecretsBackend::Vault;
    let store = TenantSecretStore::open(&root.secrets).unwrap();
    let err = store.put("guild-1", &Secret::new("value-here")).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("permission denied"), "{text}");
    assert!(!text.contains("not-a-real-token") && !text.contains("value-here"), "{text}");
}
