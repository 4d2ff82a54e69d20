//! `POST /webhooks/kaltura/{tenant}` on real NATS JetStream, against the Kaltura emulator:
//! signed notifications are stored once on `kaltura.webhooks`, everything else nothing.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use kalcord_api_gateway::webhook::{BodyFormat, MAX_BODY, WebhookEvent};
use kalcord_api_gateway::{AppState, Config, routes};
use kalcord_bus::{BusBackend, BusConfig, NatsBus, SharedBus, spec};
use kalcord_config::{Secret, TenantSecretStore};
use kalcord_kaltura::webhook::{HashAlgo, sign};
use kalcord_kaltura::{KalturaConfig, RoomKind, RoomSpec};
use kalcord_kaltura_emulator::{
    Emulator, EmulatorConfig, PartnerConfig, RecordingRequest, WebhookFormat, WebhookSubscription,
};
use kalcord_runtime::{CommonConfig, Deps};
use kalcord_store::Store;
use kalcord_tenant::{TenantSetup, Tenants};
use kalcord_test_util::env::{nats_url, unique_suffix};
use serde_json::{Value, json};
use url::Url;

const DEFAULT_PARTNER: i64 = 1_000_001;
const DEFAULT_SECRET: &str = "default-secret-0123456789abcdef";
const GUILD_PARTNER: i64 = 2_000_002;
const GUILD_SECRET: &str = "guild-secret-0123456789abcdef";
const GUILD: u64 = 424_242_424_242;
/// A guild that never ran `/kaltura setup` (it uses the default partner).
const OTHER_GUILD: u64 = 515_151_515_151;

/// The §6 worked example, on the guild's partner.
const BODY: &str = r#"{"object":{"id":"0_abc12345","name":"Rec","status":2,"objectType":"KalturaMediaEntry"},"eventObjectType":1,"eventNotificationJobId":123,"templateId":456,"templateName":"Entry Ready","templateSystemName":"HTTP_ENTRY_STATUS_EQUALS","eventType":3,"objectType":"KalturaHttpNotification"}"#;

struct Hook {
    base: String,
    emulator: Emulator,
    handle: actix_web::dev::ServerHandle,
    http: reqwest::Client,
    jetstream: async_nats::jetstream::Context,
    nats: NatsBus,
    prefix: String,
    tenants: Tenants,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: u16,
    body: Value,
}

fn bus_config(prefix: &str) -> BusConfig {
    BusConfig {
        backend: BusBackend::Nats,
        connect_timeout: Duration::from_secs(5),
        prefix: prefix.to_owned(),
        request_timeout: Duration::from_secs(2),
        stream_replicas: 1,
        token: None,
        url: nats_url().parse().unwrap(),
    }
}

fn kaltura_config(base: &Url) -> KalturaConfig {
    KalturaConfig {
        partner_id: Some(DEFAULT_PARTNER),
        admin_secret: Some(Secret::new(DEFAULT_SECRET)),
        service_url: base.clone(),
        kaf_url: Some(base.clone()),
        ks_ttl: Duration::from_hours(1),
        timeout: Duration::from_secs(3),
        setup_hosts: Vec::new(),
        setup_allow_http: false,
    }
}

impl Hook {
    /// The gateway on a fresh NATS prefix (its streams declared unless `with_streams` is
    /// false), the emulator, and a guild linked to its own partner.
    async fn start(with_streams: bool) -> Self {
        kalcord_test_util::install_crypto();
        let emulator = Emulator::start(
            EmulatorConfig { webhook_retry_delay: Duration::from_millis(20), ..EmulatorConfig::default() }
                .with_partner(PartnerConfig::new(DEFAULT_PARTNER, DEFAULT_SECRET))
                .with_partner(PartnerConfig::new(GUILD_PARTNER, GUILD_SECRET)),
        )
        .await
        .unwrap();
        let emulator_url = Url::parse(&emulator.base_url()).unwrap();
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let secrets = TenantSecretStore::file(dir.path().join("tenant-secrets.toml"));
        let kaltura = kaltura_config(&emulator_url);
        let tenants = Tenants::with_secret_store(&kaltura, store.clone(), secrets).unwrap();
        let setup = TenantSetup {
            partner_id: GUILD_PARTNER,
            service_url: Some(emulator_url.clone()),
            kaf_url: None,
            admin_secret: Secret::new(GUILD_SECRET),
            notification_channel_id: None,
            time_zone: None,
        };
        tenants.configure(GUILD, setup).await.unwrap();

        let prefix = format!("test{}", unique_suffix());
        let nats = NatsBus::connect(&bus_config(&prefix), "api-gateway-webhook-tests").await.unwrap();
        let bus: SharedBus = if with_streams {
            kalcord_bus::connect(&bus_config(&prefix), "api-gateway-webhook-tests").await.unwrap()
        } else {
            Arc::new(nats.clone())
        };
        let mut common = CommonConfig::defaults();
        common.kaltura = kaltura;
        let deps = Deps {
            bus,
            cache: None,
            common: Arc::new(common),
            instance: "test".into(),
            started: std::time::Instant::now(),
            store: Some(store),
        };
        let config = Config { listen: "127.0.0.1:0".parse().unwrap(), workers: 1, ..Config::default() };
        let state = web::Data::new(AppState::new(config, deps).with_tenants(tenants.clone()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server =
            actix_web::HttpServer::new(move || actix_web::App::new().app_data(state.clone()).configure(routes))
                .workers(1)
                .disable_signals()
                .listen(listener)
                .unwrap()
                .run();
        let handle = server.handle();
        tokio::spawn(server);
        let client = async_nats::connect(nats_url()).await.unwrap();
        Self {
            base,
            emulator,
            handle,
            http: reqwest::Client::new(),
            jetstream: async_nats::jetstream::new(client),
            nats,
            prefix,
            tenants,
            _dir: dir,
        }
    }

    fn url(&self, tenant: &str) -> String {
        format!("{}/webhooks/kaltura/{tenant}", self.base)
    }

    /// POSTs `body`; `signature` is `(algo, hex)`.
    async fn post(&self, tenant: &str, content_type: &str, body: &[u8], signature: Option<(&str, &str)>) -> Reply {
        let mut request = self.http.post(self.url(tenant)).header("Content-Type", content_type).body(body.to_vec());
        if let Some((algo, signature)) = signature {
            request = request.header("X-KALTURA-HASH-ALGO", algo).header("X-KALTURA-SIGNATURE", signature);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        Reply { status, body }
    }

    /// Signed as Kaltura signs with `secret` (SHA-1).
    async fn post_signed(&self, tenant: &str, secret: &str, body: &str) -> Reply {
        let signature = sign(secret, body.as_bytes(), HashAlgo::Sha1);
        self.post(tenant, "application/json", body.as_bytes(), Some(("sha1", &signature))).await
    }

    /// Every message of `KALTURA_WEBHOOKS`: headers and normalised event.
    async fn stored(&self) -> Vec<(async_nats::HeaderMap, WebhookEvent)> {
        let Ok(mut stream) = self.jetstream.get_stream(format!("{}_KALTURA_WEBHOOKS", self.prefix)).await else {
            return Vec::new();
        };
        let state = stream.info().await.unwrap().state.clone();
        let mut messages = Vec::new();
        for sequence in state.first_sequence..=state.last_sequence {
            if state.messages == 0 {
                break;
            }
            let message = stream.get_raw_message(sequence).await.unwrap();
            messages.push((message.headers, serde_json::from_slice(&message.payload).unwrap()));
        }
        messages
    }

    async fn stop(self) {
        self.handle.stop(false).await;
        self.emulator.stop().await;
        self.nats.delete_streams(&spec::streams()).await;
    }
}

fn header<'a>(headers: &'a async_nats::HeaderMap, name: &str) -> &'a str {
    headers.get(name).map_or("", |value| value.as_str())
}

#[tokio::test]
async fn a_notification_delivered_three_times_is_stored_once() {
    let _trace = kalcord_test_util::trace_init();
    let hook = Hook::start(true).await;
    let tenant = GUILD.to_string();
    let first = hook.post_signed(&tenant, GUILD_SECRET, BODY).await;
    assert_eq!((first.status, &first.body), (200, &json!({"stored": true, "duplicate": false})));
    for _ in 0..2 {
        let again = hook.post_signed(&tenant, GUILD_SECRET, BODY).await;
        assert_eq!((again.status, &again.body), (200, &json!({"stored": true, "duplicate": true})));
    }
    let stored = hook.stored().await;
    assert_eq!(stored.len(), 1, "one message for three deliveries");
    let (headers, event) = &stored[0];
    assert_eq!(header(headers, "Kaltura-Tenant"), tenant);
    assert_eq!(header(headers, "Kaltura-Partner-Id"), GUILD_PARTNER.to_string());
    assert_eq!(header(headers, "Kaltura-Event-Type"), "3");
    assert_eq!(header(headers, "Nats-Msg-Id"), format!("kaltura:{GUILD}:job:123"));
    assert_eq!(
        (event.tenant.as_str(), event.partner_id, event.format),
        (tenant.as_str(), GUILD_PARTNER, BodyFormat::Object)
    );
    assert_eq!((event.entry_id.as_deref(), event.status, event.event_type), (Some("0_abc12345"), Some(2), Some(3)));
    assert_eq!(event.template_system_name.as_deref(), Some("HTTP_ENTRY_STATUS_EQUALS"));
    assert_eq!(event.object["name"], "Rec");
    hook.stop().await;
}

#[tokio::test]
async fn unsigned_wrongly_signed_and_unknown_tenants_get_401_and_nothing_is_stored() {
    let _trace = kalcord_test_util::trace_init();
    let hook = Hook::start(true).await;
    let guild = GUILD.to_string();
    let refused = [
        ("missing signature", hook.post(&guild, "application/json", BODY.as_bytes(), None).await),
        ("wrong secret", hook.post_signed(&guild, DEFAULT_SECRET, BODY).await),
        ("garbage signature", hook.post(&guild, "application/json", BODY.as_bytes(), Some(("sha1", "00ff"))).await),
        ("unsupported hash", hook.post(&guild, "application/json", BODY.as_bytes(), Some(("md5", "00ff"))).await),
        ("guild on the default partner", hook.post_signed(&OTHER_GUILD.to_string(), DEFAULT_SECRET, BODY).await),
        ("not a tenant", hook.post_signed("nope", DEFAULT_SECRET, BODY).await),
    ];
    for (case, reply) in &refused {
        assert_eq!(reply.status, 401, "{case}: {}", reply.body);
        assert_eq!(
            (reply.body["code"].as_str(), reply.body["type"].as_str()),
            (Some("unauthorized"), Some("auth")),
            "{case}"
        );
    }
    assert_eq!(refused[0].1.body["message"], "missing X-KALTURA-SIGNATURE header");
    assert_eq!(refused[1].1.body["message"], "signature does not match");
    assert!(refused[4].1.body["message"].as_str().unwrap().contains("/webhooks/kaltura/default"));
    let messages = refused.iter().map(|(_, reply)| reply.body.to_string()).collect::<String>();
    assert!(!messages.contains(GUILD_SECRET) && !messages.contains(DEFAULT_SECRET));
    assert!(hook.stored().await.is_empty(), "nothing stored");
    hook.stop().await;
}

#[tokio::test]
async fn form_encoded_notifications_of_the_default_partner_are_understood() {
    let _trace = kalcord_test_util::trace_init();
    let hook = Hook::start(true).await;
    let body = "entry_id=0_form1&entry_name=Room+1+-+Recording+1&entry_status=2&entry_reference_id=meeting-7";
    let signature = sign(DEFAULT_SECRET, body.as_bytes(), HashAlgo::Sha256);
    let reply =
        hook.post("default", "application/x-www-form-urlencoded", body.as_bytes(), Some(("sha256", &signature))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let stored = hook.stored().await;
    assert_eq!(stored.len(), 1);
    let (headers, event) = &stored[0];
    assert_eq!(
        (
            header(headers, "Kaltura-Tenant"),
            header(headers, "Kaltura-Partner-Id"),
            header(headers, "Kaltura-Event-Type")
        ),
        ("default", DEFAULT_PARTNER.to_string().as_str(), "unknown")
    );
    assert_eq!(event.format, BodyFormat::Fields);
    assert_eq!((event.entry_id.as_deref(), event.status), (Some("0_form1"), Some(2)));
    assert_eq!(
        (event.name.as_deref(), event.reference_id.as_deref()),
        (Some("Room 1 - Recording 1"), Some("meeting-7"))
    );
    hook.stop().await;
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused() {
    let _trace = kalcord_test_util::trace_init();
    let hook = Hook::start(true).await;
    let body = "this is not a notification";
    let signature = sign(DEFAULT_SECRET, body.as_bytes(), HashAlgo::Sha1);
    let malformed = hook.post("default", "application/json", body.as_bytes(), Some(("sha1", &signature))).await;
    assert_eq!((malformed.status, malformed.body["code"].as_str()), (400, Some("bad_request")));
    assert!(malformed.body["message"].as_str().unwrap().starts_with("malformed notification"), "{}", malformed.body);
    let huge = vec![b'a'; MAX_BODY + 1];
    let signature = sign(DEFAULT_SECRET, &huge, HashAlgo::Sha1);
    let too_large = hook.post("default", "application/json", &huge, Some(("sha1", &signature))).await;
    assert_eq!((too_large.status, too_large.body["code"].as_str()), (413, Some("payload_too_large")));
    assert!(hook.stored().await.is_empty());
    hook.stop().await;
}

#[tokio::test]
async fn a_bus_that_cannot_store_answers_503_so_kaltura_retries() {
    let _trace = kalcord_test_util::trace_init();
    let hook = Hook::start(false).await;
    let reply = hook.post_signed(&GUILD.to_string(), GUILD_SECRET, BODY).await;
    assert_eq!((reply.status, reply.body["code"].as_str()), (503, Some("service_unavailable")), "{}", reply.body);
    hook.stop().await;
}

#[tokio::test]
async fn the_emulator_delivers_entry_status_changes_that_are_stored() {
    let _trace = kalcord_test_util::trace_init();
    let hook = Hook::start(true).await;
    let state = hook.emulator.state();
    let url = hook.url(&GUILD.to_string());
    state.subscribe_webhook(WebhookSubscription::new(GUILD_PARTNER, &url)).unwrap();
    let fields = WebhookSubscription {
        format: WebhookFormat::Fields,
        hash_algo: kalcord_kaltura_emulator::HashAlgo::Sha512,
        ..WebhookSubscription::new(GUILD_PARTNER, &url)
    };
    state.subscribe_webhook(fields).unwrap();
    let (client, _) = hook.tenants.client(GUILD).await.unwrap();
    let room = client
        .create_room(&RoomSpec {
            description: None,
            kind: RoomKind::MeetingRoom,
            name: "Weekly sync".to_owned(),
            owner_id: None,
            reference_id: "meeting-1".to_owned(),
            schedule: None,
            auto_record: true,
        })
        .await
        .unwrap();
    let request = RecordingRequest {
        partner_id: GUILD_PARTNER,
        resource_id: Some(room.resource.id),
        ..RecordingRequest::default()
    };
    let entry_id = state.simulate_recording(&request).unwrap();
    let mut stored = Vec::new();
    for _ in 0..200 {
        stored = hook.stored().await;
        if stored.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(stored.len(), 4, "7 -> 1 -> 2: two changes, each in both formats");
    let deliveries = state.deliveries();
    assert!(deliveries.iter().all(|delivery| delivery.http_status == Some(200)), "{deliveries:?}");
    for format in [BodyFormat::Object, BodyFormat::Fields] {
        let statuses: Vec<Option<i64>> =
            stored.iter().filter(|(_, event)| event.format == format).map(|(_, event)| event.status).collect();
        assert_eq!(statuses, [Some(1), Some(2)], "{format:?}");
    }
    for (headers, event) in &stored {
        assert_eq!(event.entry_id.as_deref(), Some(entry_id.as_str()));
        assert_eq!(header(headers, "Kaltura-Partner-Id"), GUILD_PARTNER.to_string());
    }
    hook.stop().await;
}
