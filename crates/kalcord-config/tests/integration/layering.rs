use std::path::Path;
use std::time::Duration;

use kalcord_config::{ConfigArgs, ConfigError, LoadOptions, Origin, SecretStore, Sources, read};

use super::common::Root;

const FILE: &str = r#"
[demo]
listen = "127.0.0.1:1000"
workers = 1
name = "from-file"
tags = ["a", "b"]
timeout = "1s"
"#;

fn store(sources: &Sources) -> SecretStore {
    SecretStore::env_only(sources)
}

#[test]
fn file_then_env_then_cli() {
    let _trace = kalcord_test_util::trace_init();
    let sources = Sources::empty()
        .with_file_text(Path::new("kalcord.toml"), FILE)
        .unwrap()
        .with_env([("KALCORD_DEMO_WORKERS", "2"), ("KALCORD_DEMO_NAME", "from-env"), ("KALCORD_DEMO_API_KEY", "k")])
        .with_cli(["demo.name=from-cli", "demo.timeout=250ms"])
        .unwrap();
    let root: Root = read(&sources, &store(&sources), LoadOptions::default()).unwrap();
    assert_eq!(root.demo.listen, "127.0.0.1:1000".parse().unwrap(), "file beats default");
    assert_eq!(root.demo.workers, 2, "env beats file");
    assert_eq!(root.demo.name, "from-cli", "cli beats env");
    assert_eq!(root.demo.timeout, Duration::from_millis(250), "cli beats file");
    assert_eq!(root.demo.tags, ["a", "b"]);
}

#[test]
fn defaults_apply_when_nothing_is_set() {
    let _trace = kalcord_test_util::trace_init();
    let sources = Sources::empty().with_env([("KALCORD_DEMO_API_KEY", "k")]);
    let root: Root = read(&sources, &store(&sources), LoadOptions::default()).unwrap();
    assert_eq!(root.demo.workers, 4);
    assert_eq!(root.demo.timeout, Duration::from_secs(10));
    assert!(root.demo.tags.is_empty());
    assert!(root.demo.token.is_none());
}

#[test]
fn every_bad_field_is_reported_at_once() {
    let _trace = kalcord_test_util::trace_init();
    let file = "[demo]\nlisten = \"not an address\"\ntimeout = \"soon\"\ncolour = \"blue\"\n[nonsense]\nx = 1\n[other_service]\ny = 2\n";
    let sources = Sources::empty()
        .with_file_text(Path::new("k.toml"), file)
        .unwrap()
        .with_env([("KALCORD_DEMO_WORKERS", "0"), ("KALCORD_DEMO_TYPO", "1")])
        .with_cli(["demo.nmae=x"])
        .unwrap();
    let err = read::<Root>(
        &sources,
        &store(&sources),
        LoadOptions { other_sections: &["other_service"], ..LoadOptions::default() },
    )
    .unwrap_err();
    let mut keys: Vec<&str> = err.fields().iter().map(|field| field.key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "demo.api_key",
            "demo.colour",
            "demo.listen",
            "demo.nmae",
            "demo.timeout",
            "demo.typo",
            "demo.workers",
            "nonsense.x"
        ]
    );
    let text = err.to_string();
    assert!(text.starts_with("8 invalid configuration fields:"), "{text}");
    assert!(text.contains("demo.listen (from file k.toml): cannot parse \"not an address\""), "{text}");
    assert!(text.contains("demo.workers (from env KALCORD_DEMO_WORKERS): must be at least 1"), "{text}");
    assert!(text.contains("demo.nmae (from --set): unknown key"), "{text}");
    assert!(text.contains("nonsense.x (from file k.toml): unknown section"), "{text}");
    assert!(
        text.contains("demo.api_key (from default): required secret is missing; set KALCORD_DEMO_API_KEY"),
        "{text}"
    );
    let listen = err.fields().iter().find(|field| field.key == "demo.listen").unwrap();
    assert_eq!(listen.origin, Origin::File("k.toml".into()));
}

#[test]
fn secrets_are_refused_in_file_and_cli() {
    let _trace = kalcord_test_util::trace_init();
    let sources = Sources::empty()
        .with_file_text(Path::new("k.toml"), "[demo]\napi_key = \"leaked\"\n")
        .unwrap()
        .with_cli(["demo.token=also-leaked"])
        .unwrap();
    let err = read::<Root>(&sources, &store(&sources), LoadOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("demo.api_key (from file k.toml): is a secret"), "{text}");
    assert!(text.contains("demo.token (from --set): is a secret"), "{text}");
    assert!(!text.contains("leaked"), "the value must not be echoed: {text}");
}

#[test]
fn debug_never_shows_a_secret() {
    let _trace = kalcord_test_util::trace_init();
    let sources = Sources::empty().with_env([
        ("KALCORD_DEMO_API_KEY", "very-secret-key"),
        ("KALCORD_DEMO_TOKEN", "very-secret-token"),
        ("KALCORD_SECRETS_VAULT_TOKEN", "very-secret-vault-token"),
    ]);
    let root: Root = read(&sources, &store(&sources), LoadOptions::default()).unwrap();
    assert_eq!(root.demo.api_key.expose(), "very-secret-key");
    let debug = format!("{root:?} {root:#?} {:?}", store(&sources));
    assert!(!debug.contains("very-secret"), "{debug}");
    assert!(debug.contains("Secret([redacted])"), "{debug}");
}

#[test]
fn args_read_the_file_named_by_env_and_flags() {
    let _trace = kalcord_test_util::trace_init();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kalcord.toml");
    std::fs::write(&path, FILE).unwrap();
    let args = ConfigArgs { config: None, set: vec!["demo.workers=9".into()], help_config: false };
    let env = [("KALCORD_CONFIG", path.to_str().unwrap()), ("KALCORD_DEMO_API_KEY", "k")];
    let sources = args.sources(env).unwrap();
    let root: Root = read(&sources, &store(&sources), LoadOptions::default()).unwrap();
    assert_eq!((root.demo.name.as_str(), root.demo.workers), ("from-file", 9));

    let missing = ConfigArgs { config: Some(dir.path().join("nope.toml")), ..ConfigArgs::default() };
    let err = missing.sources(Vec::<(String, String)>::new()).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err}");
}

#[test]
fn docs_list_every_key() {
    let keys = kalcord_config::describe::<Root>();
    let names: Vec<&str> = keys.iter().map(|key| key.key.as_str()).collect();
    assert!(names.contains(&"demo.listen") && names.contains(&"secrets.vault.addr"), "{names:?}");
    let markdown = kalcord_config::render_markdown(&keys);
    assert!(
        markdown.contains("| `demo.listen` | `KALCORD_DEMO_LISTEN` | `127.0.0.1:8080` | Listen address. |"),
        "{markdown}"
    );
    assert!(markdown.contains("| `demo.api_key` | `KALCORD_DEMO_API_KEY` | *secret* |"), "{markdown}");
    assert!(kalcord_config::render_text(&keys).contains("demo.timeout  [KALCORD_DEMO_TIMEOUT]  (default 10s)"));
}
