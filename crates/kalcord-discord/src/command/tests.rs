use serde_json::{Value, json};

use super::{SyncPlan, all, is_ephemeral, plan};

/// What Discord answers to a GET after registering the definitions: ids, versions and
/// defaults added.
fn as_registered() -> Vec<Value> {
    all()
        .iter()
        .enumerate()
        .map(|(n, definition)| {
            let mut value = serde_json::to_value(definition).unwrap();
            let map = value.as_object_mut().unwrap();
            map.insert("id".into(), json!(format!("12{n}")));
            map.insert("application_id".into(), json!("99"));
            map.insert("version".into(), json!("1"));
            map.insert("dm_permission".into(), json!(false));
            map.insert("nsfw".into(), json!(false));
            value
        })
        .collect()
}

#[test]
fn definitions_respect_discord_rules() {
    for command in all() {
        assert!(command.name.len() <= 32 && command.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        assert!(!command.description.is_empty() && command.description.len() <= 100);
        for sub in &command.options {
            assert!(sub.description.len() <= 100, "{}", sub.name);
            let mut seen_optional = false;
            for option in &sub.options {
                assert!(option.description.len() <= 100, "{}", option.name);
                assert!(
                    !option.autocomplete || option.choices.is_empty(),
                    "autocomplete and choices exclude each other"
                );
                assert!(!(option.required && seen_optional), "required options come first in {}", sub.name);
                seen_optional |= !option.required;
            }
        }
    }
    let names: Vec<String> =
        all().iter().flat_map(|c| c.options.iter().map(move |o| format!("{} {}", c.name, o.name))).collect();
    assert_eq!(
        names,
        [
            "meeting start",
            "meeting schedule",
            "meeting join",
            "meeting list",
            "meeting info",
            "meeting end",
            "kaltura setup",
            "kaltura roles",
            "kaltura notifications",
            "kaltura status",
            "kaltura sync"
        ]
    );
    assert_eq!(all()[1].default_member_permissions.as_deref(), Some("32"), "/kaltura needs MANAGE_GUILD");
}

#[test]
fn nothing_to_write_when_registered_matches() {
    assert_eq!(plan(&as_registered(), &all()), SyncPlan::UpToDate);
}

#[test]
fn a_changed_or_missing_command_means_overwrite() {
    let mut registered = as_registered();
    registered[0]["description"] = json!("old text");
    assert!(matches!(plan(&registered, &all()), SyncPlan::Overwrite(_)));
    assert!(matches!(plan(&[], &all()), SyncPlan::Overwrite(_)));
}

#[test]
fn the_entry_point_command_is_kept() {
    let mut registered = as_registered();
    registered.push(json!({"id": "555", "application_id": "99", "version": "2", "type": 4, "name": "launch", "description": "", "handler": 2, "integration_types": [0, 1], "contexts": [0, 1, 2]}));
    assert_eq!(plan(&registered, &all()), SyncPlan::UpToDate, "the entry point does not count as a difference");
    registered[0]["description"] = json!("old text");
    let SyncPlan::Overwrite(Value::Array(body)) = plan(&registered, &all()) else { panic!("overwrite expected") };
    let entry = body.iter().find(|c| c["type"] == 4).expect("entry point kept");
    assert_eq!((entry["handler"].as_u64(), entry["id"].as_str(), entry.get("version")), (Some(2), Some("555"), None));
}

#[test]
fn role_mapping_is_a_group_of_subcommands() {
    let kaltura = &all()[1];
    let roles = kaltura.options.iter().find(|o| o.name == "roles").unwrap();
    assert_eq!(roles.kind, super::option_kind::SUB_COMMAND_GROUP);
    let subs: Vec<&str> = roles.options.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(subs, ["map", "unmap", "list"]);
    for sub in &roles.options {
        assert_eq!(sub.kind, super::option_kind::SUB_COMMAND);
        let mut seen_optional = false;
        for option in &sub.options {
            assert!(option.description.len() <= 100 && !(option.required && seen_optional), "{}", option.name);
            seen_optional |= !option.required;
        }
    }
    let map: Vec<(&str, bool)> = roles.options[0].options.iter().map(|o| (o.name.as_str(), o.required)).collect();
    assert_eq!(map, [("role", true), ("kaltura_role", true), ("priority", false)]);
    let meeting = &all()[0];
    let join = meeting.options.iter().find(|o| o.name == "join").unwrap();
    assert!(!join.options[0].required && join.options[0].autocomplete, "join defaults to the channel's live meeting");
}

#[test]
fn ephemeral_replies() {
    assert!(is_ephemeral("meeting", Some("end")));
    assert!(!is_ephemeral("meeting", Some("schedule")));
    assert!(is_ephemeral("meeting", Some("join")));
    assert!(!is_ephemeral("meeting", Some("start")));
    assert!(is_ephemeral("kaltura", Some("setup")));
    assert!(is_ephemeral("unknown", None));
}
