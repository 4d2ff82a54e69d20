//! The event outbox: insert, unpublished oldest first, idempotent marking, pruning, and rows
//! written in a rolled-back transaction never appear.

use chrono::TimeDelta;
use kalcord_store::entity::event_outbox;
use kalcord_store::repo::outbox::{self, NewEvent};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, TransactionTrait as _};
use uuid::Uuid;

use crate::common::{TestDb, assert_conflict, backend_tests};

backend_tests!(
    Migrated: unpublished_events_come_oldest_first_until_marked,
    a_rolled_back_change_leaves_no_event,
    only_old_published_events_are_pruned,
);

fn event(n: u8) -> NewEvent {
    NewEvent { id: Uuid::now_v7(), subject: format!("meetings.events.e{n}"), payload: vec![n, 0, 255] }
}

async fn unpublished_events_come_oldest_first_until_marked(db: &TestDb) -> anyhow::Result<()> {
    let conn = db.conn();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(outbox::insert(conn, event(n)).await?.id);
    }
    let again = NewEvent { id: ids[0], ..event(9) };
    assert_conflict(outbox::insert(conn, again).await);

    let pending = outbox::unpublished(conn, 3).await?;
    assert_eq!(pending.iter().map(|row| row.id).collect::<Vec<_>>(), ids[..3]);
    assert_eq!(pending[1].subject, "meetings.events.e1");
    assert_eq!(pending[1].payload, [1, 0, 255], "bytes round-trip");
    assert!(pending.iter().all(|row| row.published_at.is_none()));

    assert_eq!(outbox::mark_published(conn, &ids[..2]).await?, 2);
    assert_eq!(outbox::mark_published(conn, &ids[..2]).await?, 0, "marking again changes nothing");
    assert_eq!(outbox::mark_published(conn, &[]).await?, 0);
    let rest: Vec<Uuid> = outbox::unpublished(conn, 100).await?.into_iter().map(|row| row.id).collect();
    assert_eq!(rest, ids[2..]);
    let marked = outbox::get(conn, ids[0]).await?.ok_or_else(|| anyhow::anyhow!("no row"))?;
    assert!(marked.published_at.is_some_and(|at| at >= marked.created_at));
    Ok(())
}

async fn a_rolled_back_change_leaves_no_event(db: &TestDb) -> anyhow::Result<()> {
    let txn = db.conn().begin().await?;
    let id = outbox::insert(&txn, event(1)).await?.id;
    txn.rollback().await?;
    assert_eq!(outbox::get(db.conn(), id).await?, None);

    let txn = db.conn().begin().await?;
    let id = outbox::insert(&txn, event(2)).await?.id;
    txn.commit().await?;
    assert_eq!(outbox::unpublished(db.conn(), 10).await?.into_iter().map(|row| row.id).collect::<Vec<_>>(), [id]);
    Ok(())
}

async fn only_old_published_events_are_pruned(db: &TestDb) -> anyhow::Result<()> {
    let conn = db.conn();
    let old = outbox::insert(conn, event(1)).await?.id;
    let recent = outbox::insert(conn, event(2)).await?.id;
    let waiting = outbox::insert(conn, event(3)).await?.id;
    outbox::mark_published(conn, &[old, recent]).await?;
    // The first was published ten days ago.
    event_outbox::Entity::update_many()
        .col_expr(event_outbox::Column::PublishedAt, Expr::value(kalcord_store::now() - TimeDelta::days(10)))
        .filter(event_outbox::Column::Id.eq(old))
        .exec(conn)
        .await?;

    assert_eq!(outbox::prune_published(conn, TimeDelta::days(7)).await?, 1);
    assert_eq!(outbox::get(conn, old).await?, None);
    assert!(outbox::get(conn, recent).await?.is_some(), "published recently: kept");
    assert!(outbox::get(conn, waiting).await?.is_some(), "unpublished: never pruned");
    assert_eq!(outbox::prune_published(conn, TimeDelta::days(7)).await?, 0);
    Ok(())
}
