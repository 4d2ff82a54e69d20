//! `identity.notifications`: members read, only managers change, every change is audited, bad
//! values are refused with the field.

use kalcord_proto::subject;
use kalcord_proto::v1::{Actor, NotificationSettingsReply, NotificationSettingsRequest};
use kalcord_store::repo::guilds;

use super::common::{GUILD_A, Harness, MANAGE_GUILD, audit_rows, db, member};

fn read(actor: &Actor) -> NotificationSettingsRequest {
    NotificationSettingsRequest { actor: Some(actor.clone()), ..NotificationSettingsRequest::default() }
}

#[tokio::test]
async fn managers_change_the_notification_settings_and_each_change_is_audited() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let plain = member(GUILD_A, 10);
    let manager = Actor { permissions: MANAGE_GUILD, ..member(GUILD_A, 11) };

    let reply: NotificationSettingsReply = h.ask(subject::IDENTITY_NOTIFICATIONS, &read(&plain)).await;
    let settings = reply.settings.expect("defaults for a new guild");
    assert_eq!((settings.channel_id, settings.scheduled_events, settings.muted_posts.len()), (0, true, 0));

    let change = NotificationSettingsRequest {
        channel_id: Some(4242),
        mention_role_id: Some(777),
        reminder_minutes: Some(30),
        scheduled_events: Some(false),
        mute: vec!["updated".to_owned(), "ended".to_owned()],
        ..read(&plain)
    };
    let reply: NotificationSettingsReply = h.ask(subject::IDENTITY_NOTIFICATIONS, &change).await;
    assert_eq!(reply.error.map(|error| error.code).as_deref(), Some("forbidden"));
    assert!(audit_rows(&h.store).await.is_empty(), "a refused change writes nothing");

    let reply: NotificationSettingsReply = h
        .ask(subject::IDENTITY_NOTIFICATIONS, &NotificationSettingsRequest { actor: Some(manager.clone()), ..change })
        .await;
    assert_eq!(reply.error, None);
    let settings = reply.settings.unwrap();
    assert_eq!(
        (settings.channel_id, settings.mention_role_id, settings.reminder_minutes, settings.scheduled_events),
        (4242, 777, 30, false)
    );
    assert_eq!(settings.muted_posts, ["updated", "ended"]);
    let row = guilds::get(h.store.connection(), db(GUILD_A)).await.unwrap().unwrap();
    assert_eq!(
        (row.notification_channel_id, row.reminder_minutes, row.muted_posts.as_str()),
        (Some(4242), Some(30), "updated,ended")
    );

    // Unmute one, stop pinging, back to the default lead: the rest stays.
    let change = NotificationSettingsRequest {
        mention_role_id: Some(0),
        reminder_minutes: Some(0),
        unmute: vec!["ended".to_owned()],
        ..read(&manager)
    };
    let reply: NotificationSettingsReply = h.ask(subject::IDENTITY_NOTIFICATIONS, &change).await;
    let settings = reply.settings.unwrap();
    assert_eq!((settings.channel_id, settings.mention_role_id, settings.reminder_minutes), (4242, 0, 0));
    assert_eq!(settings.muted_posts, ["updated"]);

    let rows = audit_rows(&h.store).await;
    let actions: Vec<_> = rows.iter().map(|row| (row.action.as_str(), row.actor.as_str())).collect();
    assert_eq!(actions, [("notifications.update", "discord:11"), ("notifications.update", "discord:11")]);
    assert_eq!(rows[0].details["channel_id"], "4242");
    assert_eq!(rows[1].details["muted_posts"], "updated");
    kalcord_store::audit::verify_chain(h.store.connection()).await.unwrap();
    h.stop().await;
}

#[tokio::test]
async fn bad_notification_settings_are_refused_with_the_field() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let manager = Actor { permissions: MANAGE_GUILD, ..member(GUILD_A, 11) };
    for (request, field) in [
        (NotificationSettingsRequest { mute: vec!["gossip".to_owned()], ..read(&manager) }, "mute"),
        (NotificationSettingsRequest { reminder_minutes: Some(20_000), ..read(&manager) }, "reminder_minutes"),
    ] {
        let reply: NotificationSettingsReply = h.ask(subject::IDENTITY_NOTIFICATIONS, &request).await;
        assert_eq!(reply.error.map(|error| error.field).as_deref(), Some(field));
    }
    let reply: NotificationSettingsReply = h.ask_raw(subject::IDENTITY_NOTIFICATIONS, b"\x0a\xff".to_vec()).await;
    assert_eq!(reply.error.unwrap().code, "invalid");
    assert!(audit_rows(&h.store).await.is_empty());
    h.stop().await;
}
