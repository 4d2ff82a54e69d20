use kalcord_kaltura::ks::{Privileges, SessionType, decode};

use super::common::{Harness, SECRET};

#[tokio::test]
async fn server_sessions_start_get_and_end() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let privileges = Privileges::new().with("role", "viewerRole");
    let ks = h.client.session_start("discord-1", SessionType::User, 600, &privileges).await.unwrap();
    let decoded = decode(&ks, &[SECRET]).unwrap();
    assert_eq!((decoded.user_id.as_str(), decoded.session_type), ("discord-1", SessionType::User));

    let info = h.client.session_get(&ks).await.unwrap();
    assert_eq!((info.partner_id, info.user_id.as_deref(), info.session_type), (1_234_567, Some("discord-1"), 0));

    h.client.session_end(&ks).await.unwrap();
    let err = h.client.session_get(&ks).await.unwrap_err();
    assert!(err.to_string().contains("session.get"), "{err}");
    h.stop().await;
}

#[tokio::test]
async fn revoked_admin_ks_is_minted_again_transparently() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    h.client.ensure_user("discord-2", &kalcord_kaltura::UserProfile::default()).await.unwrap();
    let admin = h.client.admin_ks();
    assert_eq!(h.client.admin_ks(), admin, "the admin KS is cached");
    h.client.session_end(&admin).await.unwrap();

    let user = h.client.get_user("discord-2").await.unwrap();
    assert_eq!(user.id, "discord-2");
    assert_ne!(h.client.admin_ks(), admin, "a fresh admin KS replaced the revoked one");
    assert_eq!(h.calls("user", "get"), 2, "one refused call, one retried with the new KS");
    h.stop().await;
}
