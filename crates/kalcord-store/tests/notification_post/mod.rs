//! Notification posts: a claim is insert-or-get, marking happens once, rows go with their guild.

use kalcord_store::entity::notification_post::PostState;
use kalcord_store::repo::guilds;
use kalcord_store::repo::notification_posts::{self, NewPost};

use crate::common::{GUILD, TestDb, backend_tests};

backend_tests!(
    Migrated: a_claim_is_made_once_and_settled_once,
    posts_go_with_their_guild,
);

fn post(key: &str, channel: i64) -> NewPost {
    NewPost { idempotency_key: key.to_owned(), guild_id: GUILD, channel_id: channel, kind: "started".to_owned() }
}

async fn a_claim_is_made_once_and_settled_once(db: &TestDb) -> anyhow::Result<()> {
    let conn = db.conn();
    guilds::create(conn, GUILD, "Guild").await?;
    let first = notification_posts::claim(conn, post("event-1", 10)).await?;
    assert_eq!((first.state, first.message_id, first.sent_at), (PostState::Pending, None, None));
    // A second claim (a redelivery, another replica) gets the stored row, channel included.
    let again = notification_posts::claim(conn, post("event-1", 99)).await?;
    assert_eq!(again, first);

    assert!(notification_posts::mark_sent(conn, "event-1", 42).await?);
    assert!(!notification_posts::mark_sent(conn, "event-1", 43).await?, "marked once");
    assert!(!notification_posts::mark_failed(conn, "event-1").await?, "a sent post never fails");
    let sent = notification_posts::get(conn, "event-1").await?.ok_or_else(|| anyhow::anyhow!("row lost"))?;
    assert_eq!((sent.state, sent.message_id, sent.channel_id), (PostState::Sent, Some(42), 10));
    assert!(sent.sent_at.is_some_and(|at| at >= sent.created_at));
    assert_eq!(notification_posts::claim(conn, post("event-1", 10)).await?.state, PostState::Sent);

    notification_posts::claim(conn, post("event-2", 10)).await?;
    assert!(notification_posts::mark_failed(conn, "event-2").await?);
    let failed = notification_posts::get(conn, "event-2").await?.ok_or_else(|| anyhow::anyhow!("row lost"))?;
    assert_eq!((failed.state, failed.message_id), (PostState::Failed, None));
    assert!(notification_posts::claim(conn, post("", 10)).await.is_err(), "an empty key is refused");
    Ok(())
}

async fn posts_go_with_their_guild(db: &TestDb) -> anyhow::Result<()> {
    let conn = db.conn();
    guilds::create(conn, GUILD, "Guild").await?;
    notification_posts::claim(conn, post("event-1", 10)).await?;
    assert!(guilds::delete(conn, GUILD).await?);
    assert_eq!(notification_posts::get(conn, "event-1").await?, None);
    Ok(())
}
