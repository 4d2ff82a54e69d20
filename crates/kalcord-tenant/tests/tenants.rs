//! Guild partners: `/kaltura setup` checks the secret against a real (emulated) Kaltura,
//! keeps it in the tenant secret store, and the guild's next client uses it.

use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use kalcord_config::{Secret, TenantSecretStore};
use kalcord_kaltura::KalturaConfig;
use kalcord_kaltura_emulator::{Emulator, EmulatorConfig, PartnerConfig};
use kalcord_store::Store;
use kalcord_tenant::{TenantError, TenantSetup, TenantSource, Tenants, secret_key};
use url::Url;

const DEFAULT_PARTNER: i64 = 1_000_001;
const DEFAULT_SECRET: &str = "default-secret-0123456789abcdef";
const GUILD_PARTNER: i64 = 2_000_002;
const GUILD_SECRET: &str = "guild-secret-0123456789abcdef";
const GUILD: u64 = 424_242_424_242;

struct Harness {
    emulator: Emulator,
    store: Store,
    file: std::path::PathBuf,
    _dir: tempfile::TempDir,
    tenants: Tenants,
}

fn kaltura_config(base: &Url) -> KalturaConfig {
    KalturaConfig {
        partner_id: Some(DEFAULT_PARTNER),
        admin_secret: Some(Secret::new(DEFAULT_SECRET)),
        service_url: base.clone(),
        kaf_url: Some(base.clone()),
        ks_ttl: Duration::from_hours(48),
        timeout: Duration::from_secs(3),
        setup_hosts: Vec::new(),
        setup_allow_http: false,
    }
}

async fn harness() -> Harness {
    kalcord_test_util::install_crypto();
    let emulator = Emulator::start(
        EmulatorConfig::default()
            .with_partner(PartnerConfig::new(DEFAULT_PARTNER, DEFAULT_SECRET))
            .with_partner(PartnerConfig::new(GUILD_PARTNER, GUILD_SECRET)),
    )
    .await
    .unwrap();
    let store = Store::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant-secrets.toml");
    let base = Url::parse(&emulator.base_url()).unwrap();
    let tenants =
        Tenants::with_secret_store(&kaltura_config(&base), store.clone(), TenantSecretStore::file(file.clone()))
            .unwrap();
    Harness { emulator, store, file, _dir: dir, tenants }
}

fn setup(base: &str, secret: &str) -> TenantSetup {
    TenantSetup {
        partner_id: GUILD_PARTNER,
        service_url: Some(Url::parse(base).unwrap()),
        kaf_url: None,
        admin_secret: Secret::new(secret),
        notification_channel_id: Some(77),
        time_zone: Some("Europe/Paris".to_owned()),
    }
}

#[tokio::test]
async fn a_guild_without_setup_uses_the_default_partner() {
    let _trace = kalcord_test_util::trace_init();
    let h = harness().await;
    let (client, source) = h.tenants.client(GUILD).await.unwrap();
    assert_eq!((client.partner_id(), source), (DEFAULT_PARTNER, TenantSource::Default));
    let settings = h.tenants.settings(GUILD).await.unwrap();
    assert!(settings.configured());
    assert_eq!(settings.source, Some(TenantSource::Default));
    assert_eq!(settings.time_zone, "UTC", "a guild without a time zone reads times in UTC");
    assert_eq!(h.tenants.ks_ttl(), Duration::from_hours(24), "never more than a day");
    h.emulator.stop().await;
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_nothing_is_stored() {
    let _trace = kalcord_test_util::trace_init();
    let h = harness().await;
    let err = h.tenants.configure(GUILD, setup(&h.emulator.base_url(), "wrong-secret-value")).await.unwrap_err();
    assert!(matches!(err, TenantError::SecretRejected), "{err}");
    assert!(!err.to_string().contains("wrong-secret-value"));
    assert!(!h.file.exists(), "no secret was written");
    assert!(
        kalcord_store::repo::guilds::get(h.store.connection(), i64::try_from(GUILD).unwrap()).await.unwrap().is_none()
    );
    assert_eq!(h.tenants.client(GUILD).await.unwrap().1, TenantSource::Default);

    let err = h.tenants.configure(GUILD, TenantSetup { partner_id: 0, ..setup("http://x", "y") }).await.unwrap_err();
    assert!(matches!(err, TenantError::InvalidPartner), "{err}");
    h.emulator.stop().await;
}

#[tokio::test]
async fn an_unreachable_kaltura_is_reported_and_nothing_is_stored() {
    let _trace = kalcord_test_util::trace_init();
    let h = harness().await;
    let err = h.tenants.configure(GUILD, setup("http://127.0.0.1:9", GUILD_SECRET)).await.unwrap_err();
    assert!(matches!(err, TenantError::Unreachable(_)), "{err}");
    assert!(!h.file.exists());
    h.emulator.stop().await;
}

#[tokio::test]
async fn setup_stores_the_secret_and_the_next_client_uses_it() {
    let _trace = kalcord_test_util::trace_init();
    let h = harness().await;
    // A cached default client must not outlive the setup.
    assert_eq!(h.tenants.client(GUILD).await.unwrap().1, TenantSource::Default);

    let settings = h.tenants.configure(GUILD, setup(&h.emulator.base_url(), GUILD_SECRET)).await.unwrap();
    assert_eq!(settings.source, Some(TenantSource::Guild));
    assert_eq!(settings.partner_id, Some(GUILD_PARTNER));
    assert_eq!(settings.notification_channel_id, Some(77));
    assert_eq!(settings.time_zone, "Europe/Paris");
    assert_eq!(std::fs::metadata(&h.file).unwrap().permissions().mode() & 0o777, 0o600);
    let stored = TenantSecretStore::file(h.file.clone()).get(&secret_key(GUILD)).await.unwrap().unwrap();
    assert_eq!(stored.expose(), GUILD_SECRET);

    let row =
        kalcord_store::repo::guilds::get(h.store.connection(), i64::try_from(GUILD).unwrap()).await.unwrap().unwrap();
    assert_eq!(row.kaltura_partner_id, Some(i32::try_from(GUILD_PARTNER).unwrap()));
    assert!(!format!("{row:?}").contains(GUILD_SECRET), "the secret never reaches the database");

    let (client, source) = h.tenants.client(GUILD).await.unwrap();
    assert_eq!((client.partner_id(), source), (GUILD_PARTNER, TenantSource::Guild));
    assert_eq!(client.config().admin_secret.expose(), GUILD_SECRET);
    assert_eq!(h.tenants.check(GUILD).await.unwrap(), TenantSource::Guild);
    assert!(!format!("{:?}", h.tenants).contains(GUILD_SECRET));

    // Setting up again without a time zone keeps the current one.
    let again = TenantSetup { time_zone: None, ..setup(&h.emulator.base_url(), GUILD_SECRET) };
    assert_eq!(h.tenants.configure(GUILD, again).await.unwrap().time_zone, "Europe/Paris");

    // Another guild still gets the default.
    assert_eq!(h.tenants.client(GUILD + 1).await.unwrap().1, TenantSource::Default);
    h.emulator.stop().await;
}

#[tokio::test]
async fn a_guild_secret_missing_from_the_store_is_reported() {
    let _trace = kalcord_test_util::trace_init();
    let h = harness().await;
    h.tenants.configure(GUILD, setup(&h.emulator.base_url(), GUILD_SECRET)).await.unwrap();
    let base = Url::parse(&h.emulator.base_url()).unwrap();
    // Without a tenant secret store (the compatibility constructor) the guild's secret is unknown.
    let plain = Tenants::new(&kaltura_config(&base), h.store.clone()).unwrap();
    assert!(matches!(plain.client(GUILD).await, Err(TenantError::SecretMissing)));
    TenantSecretStore::file(h.file.clone()).remove(&secret_key(GUILD)).await.unwrap();
    h.tenants.forget(GUILD);
    assert!(matches!(h.tenants.client(GUILD).await, Err(TenantError::SecretMissing)));
    h.emulator.stop().await;
}
