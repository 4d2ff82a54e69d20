use serde_json::json;

use super::{ButtonStyle, Choice, Component, Embed, InteractionResponse, MessageData, TextInput, truncate};

fn json_of(response: &InteractionResponse) -> serde_json::Value {
    serde_json::from_slice(&response.to_json()).unwrap()
}

#[test]
fn shapes_match_discord() {
    assert_eq!(json_of(&InteractionResponse::pong()), json!({"type": 1}));
    assert_eq!(json_of(&InteractionResponse::deferred(true)), json!({"type": 5, "data": {"flags": 64}}));
    assert_eq!(json_of(&InteractionResponse::deferred(false)), json!({"type": 5}));
    assert_eq!(json_of(&InteractionResponse::launch_activity()), json!({"type": 12}));
    assert_eq!(
        json_of(&InteractionResponse::ephemeral("Only you")),
        json!({"type": 4, "data": {"content": "Only you", "flags": 64, "allowed_mentions": {"parse": []}}})
    );
}

#[test]
fn link_and_custom_buttons() {
    let data =
        MessageData::embed(Embed::titled("Team Sync").field("Starts", "<t:1700000000:R>", true).color(0x0058_65F2))
            .row(Component::row(vec![
                Component::link("Join", "https://1.kaf.kaltura.com/virtualEvent/launch?ks=abc").unwrap(),
                Component::button(ButtonStyle::Danger, "End", "kc1:end:m1".into()),
            ]));
    let value = json_of(&InteractionResponse::message(data));
    assert_eq!(
        value["data"]["components"],
        json!([{"type": 1, "components": [
            {"type": 2, "style": 5, "label": "Join", "url": "https://1.kaf.kaltura.com/virtualEvent/launch?ks=abc"},
            {"type": 2, "style": 4, "label": "End", "custom_id": "kc1:end:m1"}
        ]}])
    );
    assert_eq!(value["data"]["embeds"][0]["fields"][0]["inline"], true);
    assert!(Component::link("x", &format!("https://a/{}", "b".repeat(600))).is_none(), "Discord caps URLs at 512");
    assert!(Component::link("x", "javascript:alert(1)").is_none());
}

#[test]
fn modal_with_labelled_inputs() {
    let modal = InteractionResponse::modal(
        "kc1:setup".into(),
        "Connect Kaltura",
        vec![Component::text_field("Admin secret", TextInput::short("secret", true))],
    );
    assert_eq!(
        json_of(&modal),
        json!({"type": 9, "data": {"custom_id": "kc1:setup", "title": "Connect Kaltura", "components": [
            {"type": 18, "label": "Admin secret", "component": {"type": 4, "custom_id": "secret", "style": 1, "required": true}}
        ]}})
    );
}

#[test]
fn limits_are_enforced() {
    assert_eq!(truncate("abcdef", 4), "abc…");
    assert_eq!(truncate("abc", 4), "abc");
    let long = MessageData::text(&"x".repeat(3000));
    assert_eq!(long.content.unwrap().chars().count(), 2000);
    let choices = (0..40).map(|n| Choice { name: format!("Meeting {n}"), value: n.to_string() }).collect();
    let value = json_of(&InteractionResponse::choices(choices));
    assert_eq!(value["data"]["choices"].as_array().unwrap().len(), 25);
    assert_eq!(value["type"], 8);
}
