//! Reminders as persisted schedules: a `SCHEDULED` meeting whose start is within the lead time
//! gets `reminder_sent_at` stamped and a `reminder` event written in one transaction.
//!
//! Nothing is kept in memory: every poll reads the due meetings from the store, so a reminder
//! whose time came while no replica ran fires at the next start, and the version check of the
//! stamp lets only one of several replicas write it. Moving the start time clears the stamp
//! (the meeting is reminded again); cancelled, live and ended meetings are never reminded.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use kalcord_store::StoreError;
use kalcord_store::entity::{MeetingStatus, guild, meeting};
use kalcord_store::repo::meetings;
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, IntoActiveModel as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, Set,
    TransactionTrait as _,
};

use super::MeetingsApi;
use crate::event::{self, Change, EventKind};

/// Most reminders written per poll.
const REMINDER_BATCH: u64 = 50;

/// Which guilds a lead time applies to.
#[derive(Clone, Copy, Debug)]
enum Guilds {
    /// Guilds that chose no lead of their own (the service default applies).
    Default,
    /// Guilds that chose this many minutes.
    Minutes(i32),
}

impl MeetingsApi {
    /// Writes the reminder of every scheduled meeting starting within its guild's lead time of
    /// `now` and not reminded yet; returns how many this call wrote. A guild's own lead
    /// (`/kaltura notifications reminder_minutes`) wins over `default_lead`; a zero default
    /// reminds only the guilds that chose a lead. A meeting another replica reminded first is
    /// skipped.
    ///
    /// # Errors
    ///
    /// When the store fails; reminders written before the failure stay written.
    pub async fn send_due_reminders(&self, now: DateTime<Utc>, default_lead: Duration) -> Result<u64, StoreError> {
        let chosen: Vec<i32> = guild::Entity::find()
            .select_only()
            .column(guild::Column::ReminderMinutes)
            .distinct()
            .filter(guild::Column::ReminderMinutes.gt(0))
            .into_tuple::<Option<i32>>()
            .all(self.store.connection())
            .await?
            .into_iter()
            .flatten()
            .collect();
        let mut sent = 0;
        if !default_lead.is_zero() {
            sent += self.remind_within(now, default_lead, Guilds::Default).await?;
        }
        for minutes in chosen {
            let lead = Duration::from_secs(u64::try_from(minutes).unwrap_or_default() * 60);
            sent += self.remind_within(now, lead, Guilds::Minutes(minutes)).await?;
        }
        if sent > 0 {
            self.wake_relay();
        }
        Ok(sent)
    }

    /// Reminds the due meetings of `guilds`, whose lead is `lead`.
    async fn remind_within(&self, now: DateTime<Utc>, lead: Duration, guilds: Guilds) -> Result<u64, StoreError> {
        use meeting::Column;

        let horizon = TimeDelta::from_std(lead)
            .ok()
            .and_then(|lead| now.checked_add_signed(lead))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut of_guilds = Query::select().column(guild::Column::Id).from(guild::Entity).to_owned();
        match guilds {
            Guilds::Default => of_guilds.and_where(guild::Column::ReminderMinutes.is_null()),
            Guilds::Minutes(minutes) => of_guilds.and_where(guild::Column::ReminderMinutes.eq(minutes)),
        };
        let due = meeting::Entity::find()
            .filter(Column::Status.eq(MeetingStatus::Scheduled))
            .filter(Column::ReminderSentAt.is_null())
            .filter(Column::ScheduledStart.gt(now))
            .filter(Column::ScheduledStart.lte(horizon))
            .filter(Column::GuildId.in_subquery(of_guilds))
            .order_by_asc(Column::ScheduledStart)
            .limit(REMINDER_BATCH)
            .all(self.store.connection())
            .await?;
        let lead_seconds = u32::try_from(lead.as_secs()).unwrap_or(u32::MAX);
        let mut sent = 0;
        for model in due {
            if self.remind(model, now, lead_seconds).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Stamps one meeting and writes its reminder; false when someone changed it first.
    async fn remind(&self, model: meeting::Model, now: DateTime<Utc>, lead_seconds: u32) -> Result<bool, StoreError> {
        let id = model.id;
        let txn = self.store.connection().begin_with_options(self.txn_options()).await?;
        let result = async {
            let mut changes = model.into_active_model();
            changes.reminder_sent_at = Set(Some(now));
            let row = meetings::update(&txn, changes).await?;
            let change = Change { reminder_lead_seconds: lead_seconds, ..Change::default() };
            event::record(&txn, EventKind::Reminder, &row, change).await?;
            Ok::<_, StoreError>(row)
        }
        .await;
        match result {
            Ok(row) => {
                txn.commit().await?;
                tracing::info!(guild = row.guild_id, meeting = %id, "meeting reminder written");
                Ok(true)
            }
            Err(err) => {
                if let Err(rollback) = txn.rollback().await {
                    tracing::warn!(error = %rollback, "rollback failed");
                }
                match err {
                    // NOTE: another replica reminded it, or it was changed (e.g. cancelled): the
                    // next poll looks at it again as it is now.
                    StoreError::StaleVersion { .. } | StoreError::NotFound { .. } => {
                        tracing::debug!(meeting = %id, "meeting changed meanwhile; not reminded here");
                        Ok(false)
                    }
                    other => Err(other),
                }
            }
        }
    }
}
