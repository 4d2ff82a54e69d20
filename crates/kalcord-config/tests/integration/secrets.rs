use std::os::unix::fs::PermissionsExt;

use kalcord_config::{ConfigError, LoadOptions, Origin, Sources, load};

use super::common::Root;

fn write_secrets(dir: &std::path::Path, mode: u32) -> std::path::PathBuf {
    let path = dir.join("secrets.toml");
    std::fs::write(&path, "[demo]\napi_key = \"from-file\"\ntoken = \"file-token\"\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[tokio::test]
async fn secrets_file_must_be_private() {
    let _trace = kalcord_test_util::trace_init();
    let dir = tempfile::tempdir().unwrap();
    let path = write_secrets(dir.path(), 0o644);
    let sources = Sources::empty().with_env([("KALCORD_SECRETS_FILE", path.to_str().unwrap())]);
    let err = load::<Root>(&sources, LoadOptions::default()).await.unwrap_err();
    assert!(matches!(err, ConfigError::InsecureSecretsFile { mode: 0o644, .. }), "{err}");
    assert!(err.to_string().contains("chmod 600"), "{err}");
}

#[tokio::test]
async fn env_beats_the_private_secrets_file() {
    let _trace = kalcord_test_util::trace_init();
    let dir = tempfile::tempdir().unwrap();
    let path = write_secrets(dir.path(), 0o600);
    let sources = Sources::empty()
        .with_env([("KALCORD_SECRETS_FILE", path.to_str().unwrap()), ("KALCORD_DEMO_TOKEN", "env-token")]);
    let root = load::<Root>(&sources, LoadOptions::default()).await.unwrap();
    assert_eq!(root.demo.api_key.expose(), "from-file");
    assert_eq!(root.demo.token.unwrap().expose(), "env-token");

    let store = kalcord_config::SecretStore::open(&root.secrets, &sources).await.unwrap();
    assert_eq!(store.get("demo.api_key").unwrap().1, Origin::SecretsFile(path));
}
