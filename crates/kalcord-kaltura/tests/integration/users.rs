use kalcord_kaltura::{ApiError, KalturaError, UserProfile, discord_user_id};

use super::common::Harness;

#[tokio::test]
async fn user_lifecycle_and_duplicate_add_means_exists() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let id = discord_user_id(80_351_110_224_678_912);
    let profile =
        UserProfile { screen_name: Some("Max".into()), first_name: Some("Max".into()), ..UserProfile::default() };
    let created = h.client.ensure_user(&id, &profile).await.unwrap();
    assert_eq!((created.id.as_str(), created.status, created.partner_id), (id.as_str(), 1, 1_234_567));
    let again = h.client.ensure_user(&id, &profile).await.unwrap();
    assert_eq!(again.id, id, "DUPLICATE_USER_BY_ID is treated as exists");

    let err = h.client.add_user(&id, &profile).await.unwrap_err();
    assert!(matches!(err.api(), Some(ApiError::DuplicateUserById { user_id }) if *user_id == id), "{err:?}");

    let renamed = UserProfile { screen_name: Some("Maxine".into()), ..UserProfile::default() };
    assert_eq!(h.client.update_user(&id, &renamed).await.unwrap().screen_name.as_deref(), Some("Maxine"));
    assert_eq!(h.client.get_user(&id).await.unwrap().screen_name.as_deref(), Some("Maxine"));

    h.client.delete_user(&id).await.unwrap();
    let err = h.client.get_user(&id).await.unwrap_err();
    assert!(matches!(err.api(), Some(ApiError::InvalidUserId)), "{err:?}");
    h.stop().await;
}

#[tokio::test]
async fn invalid_user_ids_never_leave_the_process() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let err = h.client.get_user("discord:1").await.unwrap_err();
    assert!(matches!(err, KalturaError::InvalidArgument(_)), "{err:?}");
    assert_eq!(h.calls("user", "get"), 0);
    h.stop().await;
}
