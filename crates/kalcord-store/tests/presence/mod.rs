//! The bot's presence in a guild: join, removal, return, and the one-time onboarding claim.

use kalcord_store::entity::MeetingRole;
use kalcord_store::repo::guilds::{self, JoinOutcome};
use kalcord_store::repo::role_mappings;
use sea_orm::{IntoActiveModel as _, Set, TransactionTrait as _};

use crate::common::{GUILD, OTHER_GUILD, TestDb, backend_tests};

backend_tests!(
    Migrated: join_leave_and_return_keep_the_settings,
    a_guild_known_from_a_command_is_active,
    concurrent_arrivals_see_one_new_guild,
    onboarding_is_claimed_once,
    presence_events_apply_in_bus_order,
    a_removal_before_the_first_join_outlives_its_late_delivery,
    a_new_guild_joined_and_removed_at_once_ends_removed,
);

async fn presence_events_apply_in_bus_order(db: &TestDb) -> anyhow::Result<()> {
    let conn = db.conn();
    assert!(guilds::order_presence_event(conn, GUILD, 5).await?, "an unknown guild takes any event");
    assert_eq!(guilds::bot_joined(conn, GUILD, "School").await?, JoinOutcome::New);
    assert!(guilds::order_presence_event(conn, GUILD, 5).await?, "the new row records the join's sequence");
    assert!(guilds::order_presence_event(conn, GUILD, 9).await?, "a later removal applies");
    assert!(!guilds::order_presence_event(conn, GUILD, 7).await?, "an older join delivered late is ignored");
    assert!(guilds::order_presence_event(conn, GUILD, 9).await?, "a redelivery of the same event applies again");
    assert!(guilds::order_presence_event(conn, GUILD, 12).await?);
    let row = guilds::get(conn, GUILD).await?.ok_or_else(|| anyhow::anyhow!("no row"))?;
    assert_eq!(row.presence_seq, Some(12));
    Ok(())
}

/// Applies a `GUILD_CREATE` (`join`) or `GUILD_DELETE` of bus position `sequence` as identity
/// does: ordering and change in one transaction. Whether it applied.
async fn apply(db: &sea_orm::DatabaseConnection, guild: i64, sequence: i64, join: bool) -> anyhow::Result<bool> {
    let txn = db.begin().await?;
    let applied = guilds::order_presence_event(&txn, guild, sequence).await?;
    if applied && join {
        guilds::bot_joined(&txn, guild, "School").await?;
    } else if applied {
        guilds::bot_left(&txn, guild).await?;
    }
    txn.commit().await?;
    Ok(applied)
}

async fn a_removal_before_the_first_join_outlives_its_late_delivery(db: &TestDb) -> anyhow::Result<()> {
    let conn = db.conn();
    // The bot's removal (bus position 9) is handled before its arrival (5) in a guild never seen.
    assert!(apply(conn, GUILD, 9, false).await?);
    assert!(!guilds::is_active(conn, GUILD).await?, "the removal is remembered");
    assert!(!apply(conn, GUILD, 5, true).await?, "the older arrival is ignored");
    assert!(!guilds::is_active(conn, GUILD).await?);

    // A later arrival is the first join seen.
    assert!(guilds::order_presence_event(conn, GUILD, 12).await?);
    assert_eq!(guilds::bot_joined(conn, GUILD, "School").await?, JoinOutcome::New);
    let row = guilds::get(conn, GUILD).await?.ok_or_else(|| anyhow::anyhow!("no row"))?;
    assert!(row.active && row.bot_joined_at.is_some(), "{row:?}");
    assert_eq!((row.name.as_str(), row.bot_left_at, row.presence_seq), ("School", None, Some(12)));
    assert_eq!(guilds::bot_joined(conn, GUILD, "School").await?, JoinOutcome::Known);
    Ok(())
}

async fn a_new_guild_joined_and_removed_at_once_ends_removed(db: &TestDb) -> anyhow::Result<()> {
    let replicas: Vec<kalcord_store::Store> =
        futures::future::try_join_all((0..2).map(|_| kalcord_store::Store::connect(&db.url))).await?;
    // NOTE: several guilds, so that both orders (and on PostgreSQL the insert race) happen.
    for guild in (0..8).map(|n| OTHER_GUILD + 10 * n) {
        let (join, leave) = (replicas[0].connection(), replicas[1].connection());
        let (joined, left) =
            futures::future::try_join(apply(join, guild, 1, true), apply(leave, guild, 2, false)).await?;
        assert!(left, "the later removal always applies (guild {guild})");
        assert!(!guilds::is_active(db.conn(), guild).await?, "guild {guild} (join applied: {joined})");
        let row = guilds::get(db.conn(), guild).await?.ok_or_else(|| anyhow::anyhow!("no row"))?;
        assert_eq!(row.presence_seq, Some(2));
    }
    for replica in replicas {
        replica.close().await?;
    }
    Ok(())
}

async fn join_leave_and_return_keep_the_settings(db: &TestDb) -> anyhow::Result<()> {
    let conn = db.conn();
    assert!(guilds::is_active(conn, GUILD).await?, "an unknown guild counts as active");
    assert!(!guilds::bot_left(conn, GUILD).await?, "leaving an unknown guild records nothing");
    assert_eq!(guilds::get(conn, GUILD).await?, None);

    assert_eq!(guilds::bot_joined(conn, GUILD, "School").await?, JoinOutcome::New);
    let joined = guilds::get(conn, GUILD).await?.ok_or_else(|| anyhow::anyhow!("no row"))?;
    assert!(joined.active);
    assert!(joined.bot_joined_at.is_some());
    assert_eq!((joined.bot_left_at, joined.onboarded_at), (None, None));
    assert_eq!(guilds::bot_joined(conn, GUILD, "School renamed").await?, JoinOutcome::Known);
    let known = guilds::get(conn, GUILD).await?.ok_or_else(|| anyhow::anyhow!("no row"))?;
    assert_eq!(known.name, "School renamed");
    assert_eq!(known.bot_joined_at, joined.bot_joined_at, "a reconnect is not a new join");

    // Configure the guild, then the bot is removed: nothing is deleted.
    let mut changes = known.into_active_model();
    changes.kaltura_partner_id = Set(Some(2_503_451));
    changes.notification_channel_id = Set(Some(1_180_000_000_000_000_777));
    guilds::update(conn, changes).await?;
    let mapping = role_mappings::NewRoleMapping {
        guild_id: GUILD,
        discord_role_id: 11,
        meeting_role: MeetingRole::Host,
        priority: 1,
    };
    role_mappings::create(conn, mapping).await?;
    assert!(guilds::bot_left(conn, GUILD).await?);
    assert!(!guilds::bot_left(conn, GUILD).await?, "a repeated removal changes nothing");
    assert!(!guilds::is_active(conn, GUILD).await?);
    let left = guilds::get(conn, GUILD).await?.ok_or_else(|| anyhow::anyhow!("no row"))?;
    assert!(!left.active);
    assert!(left.bot_left_at.is_some());
    assert_eq!(left.kaltura_partner_id, Some(2_503_451));

    // Re-added: active again, with the old configuration.
    assert_eq!(guilds::bot_joined(conn, GUILD, "School again").await?, JoinOutcome::Returned);
    assert_eq!(guilds::bot_joined(conn, GUILD, "School again").await?, JoinOutcome::Known);
    let back = guilds::get(conn, GUILD).await?.ok_or_else(|| anyhow::anyhow!("no row"))?;
    assert!(back.active);
    assert_eq!(back.name, "School again");
    assert_eq!(back.kaltura_partner_id, Some(2_503_451));
    assert_eq!(back.notification_channel_id, Some(1_180_000_000_000_000_777));
    assert!(back.bot_joined_at >= joined.bot_joined_at);
    assert_eq!(role_mappings::list_for_guild(conn, GUILD).await?.len(), 1);
    assert!(guilds::is_active(conn, GUILD).await?);
    Ok(())
}

async fn a_guild_known_from_a_command_is_active(db: &TestDb) -> anyhow::Result<()> {
    let conn = db.conn();
    let created = guilds::create(conn, GUILD, "").await?;
    assert!(created.active);
    assert_eq!(created.bot_joined_at, None);
    assert!(guilds::is_active(conn, GUILD).await?);
    assert_eq!(guilds::bot_joined(conn, GUILD, "Named").await?, JoinOutcome::Known);
    let seen = guilds::get(conn, GUILD).await?.ok_or_else(|| anyhow::anyhow!("no row"))?;
    assert_eq!(seen.name, "Named");
    assert!(seen.bot_joined_at.is_some(), "the first sight of the bot there is its join time");
    Ok(())
}

async fn concurrent_arrivals_see_one_new_guild(db: &TestDb) -> anyhow::Result<()> {
    let replicas: Vec<kalcord_store::Store> =
        futures::future::try_join_all((0..4).map(|_| kalcord_store::Store::connect(&db.url))).await?;
    let arrivals = replicas.iter().map(|store| guilds::bot_joined(store.connection(), OTHER_GUILD, "Busy"));
    let outcomes = futures::future::try_join_all(arrivals).await?;
    assert_eq!(outcomes.iter().filter(|outcome| **outcome == JoinOutcome::New).count(), 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|outcome| *outcome != JoinOutcome::Returned), "{outcomes:?}");

    assert!(guilds::bot_left(db.conn(), OTHER_GUILD).await?);
    let arrivals = replicas.iter().map(|store| guilds::bot_joined(store.connection(), OTHER_GUILD, "Busy"));
    let outcomes = futures::future::try_join_all(arrivals).await?;
    assert_eq!(outcomes.iter().filter(|outcome| **outcome == JoinOutcome::Returned).count(), 1, "{outcomes:?}");
    for replica in replicas {
        replica.close().await?;
    }
    Ok(())
}

async fn onboarding_is_claimed_once(db: &TestDb) -> anyhow::Result<()> {
    let conn = db.conn();
    assert!(!guilds::claim_onboarding(conn, GUILD).await?, "an unknown guild cannot be claimed");
    guilds::bot_joined(conn, GUILD, "School").await?;
    let claims = futures::future::try_join_all((0..4).map(|_| guilds::claim_onboarding(conn, GUILD))).await?;
    assert_eq!(claims.iter().filter(|won| **won).count(), 1, "{claims:?}");
    assert!(guilds::get(conn, GUILD).await?.and_then(|guild| guild.onboarded_at).is_some());

    // Given back (the post failed for now): claimable once more.
    assert!(guilds::release_onboarding(conn, GUILD).await?);
    assert!(!guilds::release_onboarding(conn, GUILD).await?);
    assert!(guilds::claim_onboarding(conn, GUILD).await?);

    // An inactive guild is never claimed.
    guilds::bot_joined(conn, OTHER_GUILD, "Gone").await?;
    guilds::bot_left(conn, OTHER_GUILD).await?;
    assert!(!guilds::claim_onboarding(conn, OTHER_GUILD).await?);
    Ok(())
}
