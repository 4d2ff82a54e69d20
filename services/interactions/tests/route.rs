//! Routing of real interaction payloads (as the Discord emulator sends them) and the polite
//! answers for everything no handler takes.

use kalcord_discord::custom_id::CustomIdError;
use kalcord_interactions::route::{Route, route};
use serde_json::{Value, json};
use twilight_model::application::interaction::Interaction;

fn interaction(kind: u8, data: Value) -> Interaction {
    let payload = json!({
        "app_permissions": "18153018084417", "application_id": "1573913297667883008", "attachment_size_limit": 8_388_608,
        "authorizing_integration_owners": {"0": "1284000000000000001"}, "channel_id": "1284000000000000201", "context": 0,
        "data": data, "entitlements": [], "guild_id": "1284000000000000001", "guild_locale": "en-US", "id": "1573913314478653440",
        "locale": "en-US", "token": "aW50ZXJhY3Rpb24", "type": kind, "version": 1,
        "member": {"deaf": false, "flags": 0, "joined_at": "2026-11-22T04:09:32.059000+00:00", "mute": false, "pending": false,
            "permissions": "2048", "roles": ["1284000000000000102"],
            "user": {"avatar": null, "discriminator": "0", "global_name": null, "id": "1284000000000000302", "username": "student"}}
    });
    serde_json::from_value(payload).expect("twilight parses the payload")
}

#[test]
fn slash_commands_route_by_command_and_subcommand() {
    let _trace = kalcord_test_util::trace_init();
    let data = json!({"id": "1", "name": "meeting", "type": 1, "options": [
        {"name": "join", "type": 1, "options": [{"name": "meeting", "type": 3, "value": "m-1"}]}
    ]});
    let route = route(&interaction(2, data));
    assert_eq!(route.key().as_deref(), Some("command:meeting join"));
    let Route::Command { options, .. } = route else { panic!("a command") };
    assert_eq!(options[0].name, "meeting");
}

#[test]
fn autocomplete_knows_the_focused_option() {
    let _trace = kalcord_test_util::trace_init();
    let data = json!({"id": "1", "name": "meeting", "type": 1, "options": [
        {"name": "info", "type": 1, "options": [{"name": "meeting", "type": 3, "value": "tea", "focused": true}]}
    ]});
    let route = route(&interaction(4, data));
    assert_eq!(route.key().as_deref(), Some("autocomplete:meeting info"));
    assert!(
        matches!(route, Route::Autocomplete { focused: Some((name, typed)), .. } if name == "meeting" && typed == "tea")
    );
}

#[test]
fn components_and_modals_route_by_action() {
    let _trace = kalcord_test_util::trace_init();
    let button = route(&interaction(3, json!({"custom_id": "kc1:join:m-1", "component_type": 2})));
    assert_eq!(button.key().as_deref(), Some("component:join"));
    let old = route(&interaction(3, json!({"custom_id": "kc0:join:m-1", "component_type": 2})));
    assert_eq!(old, Route::Component(Err(CustomIdError::Outdated(0))));
    let modal = route(&interaction(
        5,
        json!({"custom_id": "kc1:setup", "components": [
            {"type": 18, "id": 1, "component": {"type": 4, "id": 2, "custom_id": "secret", "value": "s3cret"}}
        ]}),
    ));
    let Route::Modal(Ok(id), fields) = modal else { panic!("a modal") };
    assert_eq!((id.action.as_str(), fields.get("secret").map(String::as_str)), ("setup", Some("s3cret")));
}
