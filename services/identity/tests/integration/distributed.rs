//! Two replicas on Redis and OpenBao: the guild's secret lives in Vault KV v2, and a member
//! known to one replica is known to the other (no Kaltura call, whichever answers).

use kalcord_config::{Secret, TenantSecretStore, VaultConfig};
use kalcord_proto::subject;
use kalcord_proto::v1::{Actor, SetupRequest, TenantReply};
use kalcord_store::entity::MeetingStatus;

use super::common::{GUILD_A, Harness, MANAGE_GUILD, OTHER_PARTNER, OTHER_SECRET, ks_of, launch, member};

#[tokio::test]
async fn replicas_share_the_vault_secret_and_the_redis_memory() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::distributed().await;
    let manager = Actor { permissions: MANAGE_GUILD, ..member(GUILD_A, 1) };
    let request = SetupRequest {
        actor: Some(manager),
        partner_id: OTHER_PARTNER,
        service_url: h.emulator.base_url(),
        kaf_url: h.emulator.base_url(),
        admin_secret: OTHER_SECRET.to_owned(),
        notification_channel_id: 0,
        time_zone: String::new(),
    };
    let reply: TenantReply = h.ask(subject::IDENTITY_SETUP, &request).await;
    assert_eq!(reply.error, None);
    assert!(!h.tenant_file.exists(), "the vault backend writes no file");

    let vault = VaultConfig {
        addr: kalcord_test_util::env::vault_addr().parse().unwrap(),
        mount: "secret".into(),
        namespace: None,
        path: h.vault_path.clone(),
        timeout: std::time::Duration::from_secs(5),
        token: Some(Secret::new(kalcord_test_util::env::vault_token())),
        token_file: None,
    };
    let store = TenantSecretStore::vault(vault).unwrap();
    let stored = store.get(&kalcord_tenant::secret_key(GUILD_A)).await.unwrap().unwrap();
    assert_eq!(stored.expose(), OTHER_SECRET);

    let client = h.client(OTHER_PARTNER, OTHER_SECRET);
    let meeting = h.meeting(&client, GUILD_A, MeetingStatus::Live, true).await;
    let actor = member(GUILD_A, 77);
    let first = h.join(&actor, &meeting).await.unwrap();
    assert_eq!(
        kalcord_kaltura::ks::decode(&ks_of(&first.launch_url), &[OTHER_SECRET]).unwrap().partner_id,
        OTHER_PARTNER
    );
    assert_eq!(launch(&first.launch_url).await, 200);
    let calls = h.state().requests().len();
    for _ in 0..6 {
        h.join(&actor, &meeting).await.unwrap();
    }
    assert_eq!(h.state().requests().len(), calls, "known members cost no Kaltura call on any replica");

    store.remove(&kalcord_tenant::secret_key(GUILD_A)).await.unwrap();
    h.stop().await;
}
