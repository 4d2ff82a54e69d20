//! `identity.setup` and `identity.tenant`: a guild linked to its own partner.

use std::os::unix::fs::PermissionsExt as _;

use kalcord_config::TenantSecretStore;
use kalcord_proto::subject;
use kalcord_proto::v1::{Actor, SetupRequest, TenantReply, TenantRequest};
use kalcord_store::entity::MeetingStatus;
use kalcord_store::repo::guilds;

use super::common::{
    DEFAULT_PARTNER, DEFAULT_SECRET, GUILD_A, GUILD_B, Harness, MANAGE_GUILD, OTHER_PARTNER, OTHER_SECRET, audit_rows,
    db, ks_of, launch, member,
};

fn setup(h: &Harness, actor: &Actor, secret: &str) -> SetupRequest {
    SetupRequest {
        actor: Some(actor.clone()),
        partner_id: OTHER_PARTNER,
        service_url: h.emulator.base_url(),
        kaf_url: h.emulator.base_url(),
        admin_secret: secret.to_owned(),
        notification_channel_id: 4242,
        time_zone: String::new(),
    }
}

async fn tenant(h: &Harness, guild: u64, check: bool) -> TenantReply {
    h.ask(subject::IDENTITY_TENANT, &TenantRequest { actor: Some(member(guild, 3)), check }).await
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_nothing_is_stored() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let manager = Actor { permissions: MANAGE_GUILD, ..member(GUILD_A, 1) };
    let reply: TenantReply = h.ask(subject::IDENTITY_SETUP, &setup(&h, &manager, "not-the-secret")).await;
    let error = reply.error.unwrap();
    assert_eq!(error.code, "kaltura_refused");
    assert!(!error.message.contains("not-the-secret"));
    assert!(!h.tenant_file.exists(), "no secret stored");
    let row = guilds::get(h.store.connection(), db(GUILD_A)).await.unwrap().unwrap();
    assert_eq!(row.kaltura_partner_id, None);
    assert!(audit_rows(&h.store).await.is_empty());

    let plain = member(GUILD_A, 2);
    let reply: TenantReply = h.ask(subject::IDENTITY_SETUP, &setup(&h, &plain, OTHER_SECRET)).await;
    assert_eq!(reply.error.unwrap().code, "forbidden");
    let mut bad = setup(&h, &manager, OTHER_SECRET);
    bad.service_url = "ftp://example.com".into();
    let reply: TenantReply = h.ask(subject::IDENTITY_SETUP, &bad).await;
    assert_eq!(reply.error.unwrap().field, "service_url");
    let mut bad = setup(&h, &manager, OTHER_SECRET);
    bad.kaf_url = "https://user:pass@kaf.example.com".into();
    let reply: TenantReply = h.ask(subject::IDENTITY_SETUP, &bad).await;
    assert_eq!(reply.error.unwrap().field, "kaf_url");
    // Server managers cannot aim kalcord at internal addresses (only allowed Kaltura hosts).
    for internal in ["https://127.0.0.1:8200/", "http://169.254.169.254/latest", "https://kaltura.com.evil.example"] {
        let requests_before = h.emulator.state().requests().len();
        let mut bad = setup(&h, &manager, OTHER_SECRET);
        bad.service_url = internal.into();
        let reply: TenantReply = h.ask(subject::IDENTITY_SETUP, &bad).await;
        let error = reply.error.unwrap();
        assert_eq!((error.code.as_str(), error.field.as_str()), ("invalid", "service_url"), "{internal}");
        assert!(error.message.contains("kaltura.setup_hosts"), "{}", error.message);
        assert_eq!(h.emulator.state().requests().len(), requests_before, "nothing was called");
    }
    let mut bad = setup(&h, &manager, OTHER_SECRET);
    bad.partner_id = 0;
    let reply: TenantReply = h.ask(subject::IDENTITY_SETUP, &bad).await;
    assert_eq!(reply.error.unwrap().field, "partner_id");
    assert!(!h.tenant_file.exists());

    // Still on the default partner.
    let reply = tenant(&h, GUILD_A, true).await;
    let summary = reply.tenant.unwrap();
    assert_eq!((summary.source.as_str(), summary.partner_id, summary.reachable), ("default", DEFAULT_PARTNER, true));
    h.stop().await;
}

#[tokio::test]
async fn the_right_secret_is_stored_and_used_by_the_next_join() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let manager = Actor { permissions: MANAGE_GUILD, ..member(GUILD_A, 1) };
    let reply: TenantReply = h.ask(subject::IDENTITY_SETUP, &setup(&h, &manager, OTHER_SECRET)).await;
    assert_eq!(reply.error, None);
    let summary = reply.tenant.unwrap();
    assert!(summary.configured && summary.reachable);
    assert_eq!((summary.source.as_str(), summary.partner_id), ("guild", OTHER_PARTNER));
    assert_eq!(summary.notification_channel_id, 4242);
    assert_eq!(summary.time_zone, "UTC", "no time zone given: UTC");

    assert_eq!(std::fs::metadata(&h.tenant_file).unwrap().permissions().mode() & 0o777, 0o600);
    let stored =
        TenantSecretStore::file(h.tenant_file.clone()).get(&kalcord_tenant::secret_key(GUILD_A)).await.unwrap();
    assert_eq!(stored.unwrap().expose(), OTHER_SECRET);
    let row = guilds::get(h.store.connection(), db(GUILD_A)).await.unwrap().unwrap();
    assert_eq!(row.kaltura_partner_id, Some(i32::try_from(OTHER_PARTNER).unwrap()));
    assert_eq!(row.notification_channel_id, Some(4242));

    let rows = audit_rows(&h.store).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].action.as_str(), rows[0].actor.as_str()), ("kaltura.setup", "discord:1"));
    assert_eq!(rows[0].details["partner_id"], OTHER_PARTNER);
    assert!(!rows[0].details.to_string().contains(OTHER_SECRET), "the audit log never holds the secret");

    // The guild's meetings now run on its own partner.
    let client = h.client(OTHER_PARTNER, OTHER_SECRET);
    let meeting = h.meeting(&client, GUILD_A, MeetingStatus::Live, true).await;
    let join = h.join(&member(GUILD_A, 55), &meeting).await.unwrap();
    let ks = kalcord_kaltura::ks::decode(&ks_of(&join.launch_url), &[OTHER_SECRET]).unwrap();
    assert_eq!(ks.partner_id, OTHER_PARTNER);
    assert!(kalcord_kaltura::ks::decode(&ks_of(&join.launch_url), &[DEFAULT_SECRET]).is_err());
    assert_eq!(launch(&join.launch_url).await, 200);
    let adds: Vec<_> = h
        .state()
        .requests()
        .into_iter()
        .filter(|r| r.service.as_deref() == Some("user") && r.action.as_deref() == Some("add"))
        .collect();
    assert_eq!(adds.len(), 1, "the member's user is created on the guild's partner");

    let reply = tenant(&h, GUILD_A, true).await;
    let summary = reply.tenant.unwrap();
    assert_eq!((summary.source.as_str(), summary.partner_id, summary.reachable), ("guild", OTHER_PARTNER, true));
    // Other guilds keep the default.
    let summary = tenant(&h, GUILD_B, false).await.tenant.unwrap();
    assert_eq!((summary.source.as_str(), summary.partner_id), ("default", DEFAULT_PARTNER));

    // A lost secret is reported by /kaltura status rather than failing silently.
    TenantSecretStore::file(h.tenant_file.clone()).remove(&kalcord_tenant::secret_key(GUILD_A)).await.unwrap();
    h.state().remove_partner(OTHER_PARTNER);
    let summary = tenant(&h, GUILD_A, true).await.tenant.unwrap();
    assert!(!summary.reachable);
    assert!(!summary.problem.is_empty());
    h.stop().await;
}

#[tokio::test]
async fn a_time_zone_is_checked_stored_and_reported() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let manager = Actor { permissions: MANAGE_GUILD, ..member(GUILD_A, 1) };
    assert_eq!(tenant(&h, GUILD_A, false).await.tenant.unwrap().time_zone, "UTC", "UTC until set");

    // Not a zone: refused before anything is stored.
    let mut bad = setup(&h, &manager, OTHER_SECRET);
    bad.time_zone = "Mars/Olympus".into();
    let reply: TenantReply = h.ask(subject::IDENTITY_SETUP, &bad).await;
    let error = reply.error.unwrap();
    assert_eq!((error.code.as_str(), error.field.as_str()), ("invalid", "time_zone"));
    assert!(reply.tenant.is_none());
    assert!(!h.tenant_file.exists(), "no secret stored");
    let row = guilds::get(h.store.connection(), db(GUILD_A)).await.unwrap().unwrap();
    assert_eq!((row.kaltura_partner_id, row.time_zone), (None, None));

    // A zone, in any case: stored in its canonical spelling.
    let mut good = setup(&h, &manager, OTHER_SECRET);
    good.time_zone = " europe/paris ".into();
    let reply: TenantReply = h.ask(subject::IDENTITY_SETUP, &good).await;
    assert_eq!(reply.error, None);
    assert_eq!(reply.tenant.unwrap().time_zone, "Europe/Paris");
    let row = guilds::get(h.store.connection(), db(GUILD_A)).await.unwrap().unwrap();
    assert_eq!(row.time_zone.as_deref(), Some("Europe/Paris"));
    assert_eq!(audit_rows(&h.store).await[0].details["time_zone"], "Europe/Paris");
    assert_eq!(tenant(&h, GUILD_A, false).await.tenant.unwrap().time_zone, "Europe/Paris");

    // Setting up again without a zone keeps it; another guild stays on UTC.
    let reply: TenantReply = h.ask(subject::IDENTITY_SETUP, &setup(&h, &manager, OTHER_SECRET)).await;
    assert_eq!(reply.tenant.unwrap().time_zone, "Europe/Paris");
    assert_eq!(tenant(&h, GUILD_B, false).await.tenant.unwrap().time_zone, "UTC");
    h.stop().await;
}
