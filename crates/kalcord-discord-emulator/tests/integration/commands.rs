//! Application commands: bulk overwrite, upsert, get/patch/delete, validation, the Entry Point rule.

use kalcord_discord_emulator::{APPLICATION_FLAG_EMBEDDED, seed};
use serde_json::{Value, json};

use super::common::Harness;

fn meet() -> Value {
    json!({"name": "meet", "description": "Meetings", "options": [
        {"type": 1, "name": "start", "description": "Start a meeting", "options": [
            {"type": 3, "name": "title", "description": "Title", "required": true},
            {"type": 3, "name": "kind", "description": "Kind", "choices": [{"name": "Meeting", "value": "meeting"}]}
        ]}
    ]})
}

#[tokio::test]
async fn bulk_overwrite_keeps_ids_and_versions() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let path = format!("/applications/{}/commands", harness.app.id);
    let first = harness.bot("PUT", &path, Some(json!([meet(), {"type": 2, "name": "Profile"}]))).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let list = first.json();
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let meet_cmd = list.as_array().expect("list").iter().find(|cmd| cmd["name"] == "meet").expect("meet").clone();
    assert_eq!(meet_cmd["application_id"], harness.app.id);
    assert!(meet_cmd["version"].is_string() && meet_cmd["id"].is_string());
    assert_eq!(meet_cmd["type"], 1);
    let again = harness.bot("PUT", &path, Some(json!([meet()]))).await.json();
    assert_eq!(again.as_array().map(Vec::len), Some(1));
    assert_eq!((&again[0]["id"], &again[0]["version"]), (&meet_cmd["id"], &meet_cmd["version"]));
    let mut changed = meet();
    changed["description"] = json!("Meetings, changed");
    let third = harness.bot("PUT", &path, Some(json!([changed]))).await.json();
    assert_eq!(third[0]["id"], meet_cmd["id"]);
    assert_ne!(third[0]["version"], meet_cmd["version"]);
    let listed = harness.bot("GET", &path, None).await.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    harness.stop().await;
}

#[tokio::test]
async fn upsert_get_patch_delete_and_guild_scope() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let guild_path = format!("/applications/{}/guilds/{}/commands", harness.app.id, seed::GUILD_ID);
    let created = harness.bot("POST", &guild_path, Some(meet())).await;
    assert_eq!(created.status, 201);
    let id = created.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(created.json()["guild_id"], seed::GUILD_ID.to_string());
    let upserted = harness.bot("POST", &guild_path, Some(meet())).await;
    assert_eq!((upserted.status, upserted.json()["id"].as_str()), (200, Some(id.as_str())));
    let patched = harness.bot("PATCH", &format!("{guild_path}/{id}"), Some(json!({"description": "New"}))).await.json();
    assert_eq!(patched["description"], "New");
    assert_eq!(harness.bot("GET", &format!("{guild_path}/{id}"), None).await.json()["description"], "New");
    let global = format!("/applications/{}/commands/{id}", harness.app.id);
    assert_eq!(harness.bot("GET", &global, None).await.json()["code"], 10063);
    assert_eq!(harness.bot("DELETE", &format!("{guild_path}/{id}"), None).await.status, 204);
    assert_eq!(harness.bot("DELETE", &format!("{guild_path}/{id}"), None).await.json()["code"], 10063);
    let other_app = harness.bot("GET", "/applications/123/commands", None).await;
    assert_eq!(other_app.json()["code"], 10002);
    harness.stop().await;
}

#[tokio::test]
async fn invalid_commands_get_nested_form_errors() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let path = format!("/applications/{}/commands", harness.app.id);
    let body = json!([meet(), {"name": "Bad Name", "description": ""}]);
    let reply = harness.bot("PUT", &path, Some(body)).await;
    assert_eq!(reply.status, 400);
    let errors = &reply.json()["errors"];
    assert_eq!(errors["1"]["name"]["_errors"][0]["code"], "APPLICATION_COMMAND_INVALID_NAME");
    assert_eq!(errors["1"]["description"]["_errors"][0]["code"], "BASE_TYPE_BAD_LENGTH");
    let duplicate = harness.bot("PUT", &path, Some(json!([meet(), meet()]))).await;
    assert_eq!(duplicate.json()["errors"]["_errors"][0]["code"], "APPLICATION_COMMANDS_DUPLICATE_NAME");
    let mut misordered = meet();
    misordered["options"][0]["options"] = json!([
        {"type": 3, "name": "a", "description": "a"},
        {"type": 3, "name": "b", "description": "b", "required": true}
    ]);
    let reply = harness.bot("POST", &path, Some(misordered)).await;
    assert!(reply.json()["errors"]["options"]["0"]["options"]["1"]["required"].is_object(), "{}", reply.body);
    harness.stop().await;
}

#[tokio::test]
async fn entry_point_command_survives_bulk_overwrite_only_when_included() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::with(|mut config| {
        config.application.flags = APPLICATION_FLAG_EMBEDDED;
        config
    })
    .await;
    let path = format!("/applications/{}/commands", harness.app.id);
    let existing = harness.bot("GET", &path, None).await.json();
    let entry = existing.as_array().expect("list").iter().find(|cmd| cmd["type"] == 4).expect("entry point").clone();
    assert_eq!(entry["handler"], 2);
    let refused = harness.bot("PUT", &path, Some(json!([meet()]))).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json(),
        json!({"message": "You cannot remove this app's Entry Point command in a bulk update operation. Please include the Entry Point command in your update request or delete it separately.", "code": 50240})
    );
    let kept = harness.bot("PUT", &path, Some(json!([meet(), entry.clone()]))).await.json();
    assert_eq!(kept.as_array().map(Vec::len), Some(2));
    assert!(kept.as_array().expect("list").iter().any(|cmd| cmd["id"] == entry["id"]));
    let guild_entry = harness
        .bot(
            "POST",
            &format!("/applications/{}/guilds/{}/commands", harness.app.id, seed::GUILD_ID),
            Some(json!({"type": 4, "name": "launch"})),
        )
        .await;
    assert_eq!(guild_entry.status, 400);
    let entry_id = entry["id"].as_str().expect("id");
    assert_eq!(harness.bot("DELETE", &format!("{path}/{entry_id}"), None).await.status, 204);
    assert_eq!(harness.bot("PUT", &path, Some(json!([meet()]))).await.status, 200);
    harness.stop().await;
}
