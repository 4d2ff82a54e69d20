//! `user` (§4).

use serde_json::json;

use super::common::{Harness, PID, assert_error};

#[tokio::test]
async fn user_lifecycle() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    h.state().set_now(Some(1_718_467_200));
    let ks = h.admin_ks(PID).await;
    let user = json!({"objectType": "KalturaUser", "id": "jane.doe@example.com", "firstName": "Jane", "lastName": "Doe",
        "email": "jane.doe@example.com"});
    assert_eq!(
        h.raw("user", "add", json!({"ks": ks, "user": user})).await,
        r#"{"type":0,"isAdmin":false,"roleIds":"","roleNames":"","firstName":"Jane","lastName":"Doe","loginEnabled":false,"id":"jane.doe@example.com","partnerId":1234567,"screenName":"jane.doe@example.com","fullName":"Jane Doe","email":"jane.doe@example.com","tags":"","status":1,"createdAt":1718467200,"updatedAt":1718467200,"objectType":"KalturaUser"}"#
    );
    let duplicate = h.call("user", "add", json!({"ks": ks, "user": {"id": "jane.doe@example.com"}})).await;
    assert_eq!(
        assert_error(&duplicate, "DUPLICATE_USER_BY_ID")["message"],
        "User with id [jane.doe@example.com] already exists in system"
    );
    h.state().advance_clock(60);
    let updated = h
        .call(
            "user",
            "update",
            json!({"ks": ks, "userId": "jane.doe@example.com",
            "user": {"objectType": "KalturaUser", "lastName": "Roe", "email__null": "", "isAdmin": "true"}}),
        )
        .await;
    assert_eq!(updated["fullName"], "Jane Roe");
    assert_eq!(updated["isAdmin"], true);
    assert!(updated.get("email").is_none(), "email cleared with __null: {updated}");
    assert_eq!(
        (updated["createdAt"].as_i64(), updated["updatedAt"].as_i64()),
        (Some(1_718_467_200), Some(1_718_467_260))
    );
    let fetched = h.call("user", "get", json!({"ks": ks, "userId": "jane.doe@example.com"})).await;
    assert_eq!(fetched["lastName"], "Roe");
    let deleted = h.call("user", "delete", json!({"ks": ks, "userId": "jane.doe@example.com"})).await;
    assert_eq!(deleted["status"], 2);
    assert_error(&h.call("user", "get", json!({"ks": ks, "userId": "jane.doe@example.com"})).await, "INVALID_USER_ID");
    assert_error(
        &h.call("user", "delete", json!({"ks": ks, "userId": "jane.doe@example.com"})).await,
        "INVALID_USER_ID",
    );
    assert_eq!(h.call("user", "list", json!({"ks": ks})).await["totalCount"], 0);
    let with_deleted = h.call("user", "list", json!({"ks": ks, "filter": {"statusIn": "1,2"}})).await;
    assert_eq!(with_deleted["totalCount"], 1);
    let again = h.call("user", "add", json!({"ks": ks, "user": {"id": "jane.doe@example.com"}})).await;
    assert_eq!(again["status"], 1, "a deleted id may be added again: {again}");
    h.stop().await;
}

#[tokio::test]
async fn user_validation() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::start().await;
    let ks = h.admin_ks(PID).await;
    for bad in [json!({"id": "discord:123"}), json!({"id": "has space"}), json!({"firstName": "No id"})] {
        let reply = h.call("user", "add", json!({"ks": ks, "user": bad})).await;
        assert_eq!(assert_error(&reply, "INVALID_FIELD_VALUE")["message"], "value in field [id] is not valid");
        assert_eq!(reply["args"], json!({"FIELD_NAME": "id"}));
    }
    let read_only = h.call("user", "add", json!({"ks": ks, "user": {"id": "u1", "createdAt": 5}})).await;
    assert_eq!(
        assert_error(&read_only, "PROPERTY_VALIDATION_NOT_UPDATABLE")["args"]["PROP_NAME"],
        "KalturaUser::createdAt"
    );
    let enum_value = h.call("user", "add", json!({"ks": ks, "user": {"id": "u1", "type": 9}})).await;
    assert_eq!(assert_error(&enum_value, "INVALID_ENUM_VALUE")["args"]["ENUM_TYPE"], "KalturaUserType");
    let missing = h.call("user", "add", json!({"ks": ks})).await;
    assert_eq!(assert_error(&missing, "MISSING_MANDATORY_PARAMETER")["args"]["PARAM_NAME"], "user");
    let wrong_type =
        h.call("user", "add", json!({"ks": ks, "user": {"objectType": "KalturaMediaEntry", "id": "u1"}})).await;
    assert_eq!(assert_error(&wrong_type, "INVALID_OBJECT_TYPE")["args"]["INVALID_OBJ_TYPE"], "KalturaMediaEntry");
    h.call("user", "add", json!({"ks": ks, "user": {"id": "a", "email": "x@example.com", "loginEnabled": true}})).await;
    let login = h
        .call("user", "add", json!({"ks": ks, "user": {"id": "b", "email": "X@example.com", "loginEnabled": 1}}))
        .await;
    assert_eq!(assert_error(&login, "DUPLICATE_USER_BY_LOGIN_ID")["args"]["EMAIL"], "X@example.com");
    let update_missing =
        h.call("user", "update", json!({"ks": ks, "userId": "ghost", "user": {"firstName": "x"}})).await;
    assert_eq!(assert_error(&update_missing, "INVALID_USER_ID")["args"], json!([]));
    h.stop().await;
}
