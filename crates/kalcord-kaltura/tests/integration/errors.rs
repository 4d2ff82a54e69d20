use kalcord_kaltura::{ApiError, Client, ClientConfig, KalturaError};

use super::common::{Harness, PARTNER};

#[tokio::test]
async fn a_wrong_secret_is_invalid_ks_and_not_retried_forever() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let mut config = ClientConfig::new(
        PARTNER,
        kalcord_config::Secret::new("not the secret"),
        h.emulator.base_url().parse().unwrap(),
    );
    config.retry.base_delay = std::time::Duration::from_millis(1);
    let wrong = Client::new(config).unwrap();
    let err = wrong.get_user("discord-1").await.unwrap_err();
    assert!(
        matches!(err.api(), Some(ApiError::InvalidKs { code, description }) if code == "-1" && description == "INVALID_STR"),
        "{err:?}"
    );
    assert_eq!(h.calls("user", "get"), 2, "one retry with a freshly minted KS, then the error");
    h.stop().await;
}

#[tokio::test]
async fn missing_objects_are_typed_errors() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let err = h.client.get_media("0_nothere").await.unwrap_err();
    assert!(matches!(err.api(), Some(ApiError::EntryIdNotFound { entry_id }) if entry_id == "0_nothere"), "{err:?}");
    let err = h.client.get_event(999_999).await.unwrap_err();
    assert!(matches!(err.api(), Some(ApiError::InvalidObjectId { id }) if id == "999999"), "{err:?}");
    let err = h
        .client
        .call_value("nosuch", "thing", serde_json::json!({}), kalcord_kaltura::Idempotency::Safe)
        .await
        .unwrap_err();
    assert!(matches!(err.api(), Some(ApiError::Other { code, .. }) if code == "SERVICE_DOES_NOT_EXISTS"), "{err:?}");
    let err = h
        .client
        .call_value("schedule_scheduleresource", "add", serde_json::json!({"scheduleResource": {"objectType": "KalturaLocationScheduleResource", "tags": "vcprovider:newrow"}}), kalcord_kaltura::Idempotency::Unsafe)
        .await
        .unwrap_err();
    assert!(
        matches!(err.api(), Some(ApiError::PropertyValidation { code, property }) if code == "PROPERTY_VALIDATION_CANNOT_BE_NULL" && property == "KalturaLocationScheduleResource::name"),
        "{err:?}"
    );
    assert!(matches!(err, KalturaError::Api { .. }));
    h.stop().await;
}
