//! `identity.notifications` (`/kaltura notifications`): where and which meeting posts appear,
//! who they mention, how early reminders go out, and whether scheduled meetings become Discord
//! scheduled events.

use kalcord_proto::Message as _;
use kalcord_proto::v1::{Actor, Error, NotificationSettings, NotificationSettingsReply, NotificationSettingsRequest};
use kalcord_store::StoreError;
use kalcord_store::audit::{self, NewAuditEntry};
use kalcord_store::entity::guild::{self, POST_KINDS, muted_posts};
use kalcord_store::repo::guilds;
use sea_orm::{IntoActiveModel as _, Set, TransactionTrait as _};
use serde_json::{Map, Value, json};

use crate::app::{App, audit_actor, can_manage, db_id};
use crate::reply;

/// Longest reminder lead a guild may choose: a week.
pub(crate) const MAX_REMINDER_MINUTES: u32 = 7 * 24 * 60;

fn settings_error(error: Error) -> Vec<u8> {
    NotificationSettingsReply { settings: None, error: Some(error) }.encode_to_vec()
}

/// The bus view of a guild row (defaults when the guild has none yet).
fn settings_of(row: Option<&guild::Model>) -> NotificationSettings {
    let Some(row) = row else {
        return NotificationSettings { scheduled_events: true, ..NotificationSettings::default() };
    };
    let id = |value: Option<i64>| value.and_then(|id| u64::try_from(id).ok()).unwrap_or_default();
    NotificationSettings {
        channel_id: id(row.notification_channel_id),
        mention_role_id: id(row.mention_role_id),
        reminder_minutes: row.reminder_minutes.and_then(|minutes| u32::try_from(minutes).ok()).unwrap_or_default(),
        scheduled_events: row.scheduled_events,
        muted_posts: POST_KINDS.iter().filter(|kind| row.mutes(kind)).map(|kind| (*kind).to_owned()).collect(),
    }
}

/// Whether the request changes anything (else it only reads).
fn changes_something(request: &NotificationSettingsRequest) -> bool {
    request.channel_id.is_some()
        || request.mention_role_id.is_some()
        || request.reminder_minutes.is_some()
        || request.scheduled_events.is_some()
        || !request.mute.is_empty()
        || !request.unmute.is_empty()
}

/// Checks the fields of a change: known post kinds, a reminder within a week.
fn validate(request: &NotificationSettingsRequest) -> Result<(), Error> {
    for (field, kinds) in [("mute", &request.mute), ("unmute", &request.unmute)] {
        if let Some(unknown) = kinds.iter().find(|kind| !POST_KINDS.contains(&kind.as_str())) {
            return Err(reply::invalid(
                field,
                &format!("`{unknown}` is not a kind of post; use one of: {}.", POST_KINDS.join(", ")),
            ));
        }
    }
    if request.mute.iter().any(|kind| request.unmute.contains(kind)) {
        return Err(reply::invalid("unmute", "Turn a kind of post either off or on, not both."));
    }
    if request.reminder_minutes.is_some_and(|minutes| minutes > MAX_REMINDER_MINUTES) {
        return Err(reply::invalid("reminder_minutes", "Reminders go out at most a week (10080 minutes) ahead."));
    }
    Ok(())
}

/// Applies the request to the row; returns what changed (for the audit entry).
fn apply(row: &guild::Model, request: &NotificationSettingsRequest) -> (guild::ActiveModel, Map<String, Value>) {
    let mut audited = Map::new();
    let mut changes = row.clone().into_active_model();
    let snowflake = |id: u64| i64::try_from(id).ok().filter(|id| *id > 0);
    if let Some(channel) = request.channel_id {
        changes.notification_channel_id = Set(snowflake(channel));
        audited.insert("channel_id".to_owned(), json!(channel.to_string()));
    }
    if let Some(role) = request.mention_role_id {
        changes.mention_role_id = Set(snowflake(role));
        audited.insert("mention_role_id".to_owned(), json!(role.to_string()));
    }
    if let Some(minutes) = request.reminder_minutes {
        changes.reminder_minutes = Set(i32::try_from(minutes).ok().filter(|minutes| *minutes > 0));
        audited.insert("reminder_minutes".to_owned(), json!(minutes));
    }
    if let Some(on) = request.scheduled_events {
        changes.scheduled_events = Set(on);
        audited.insert("scheduled_events".to_owned(), json!(on));
    }
    if !request.mute.is_empty() || !request.unmute.is_empty() {
        let muted = POST_KINDS.iter().filter(|kind| {
            request.mute.iter().any(|muted| muted == *kind)
                || (row.mutes(kind) && !request.unmute.iter().any(|on| on == *kind))
        });
        let muted = muted_posts(muted.copied());
        audited.insert("muted_posts".to_owned(), json!(muted));
        changes.muted_posts = Set(muted);
    }
    (changes, audited)
}

impl App {
    /// `identity.notifications`.
    pub(crate) async fn notifications(&self, payload: &[u8]) -> Vec<u8> {
        let Ok(request) = NotificationSettingsRequest::decode(payload) else {
            return settings_error(reply::unreadable());
        };
        let Some(actor) = request.actor.clone().filter(|actor| actor.guild_id != 0) else {
            return settings_error(reply::no_actor());
        };
        let Some(guild) = db_id(actor.guild_id) else {
            return settings_error(reply::invalid("actor", "The server id is not valid."));
        };
        if !changes_something(&request) {
            return match guilds::get(self.store.connection(), guild).await {
                Ok(row) => Self::settings_reply(row.as_ref()),
                Err(err) => settings_error(reply::internal("cannot read the notification settings", &err)),
            };
        }
        if !can_manage(&actor) {
            return settings_error(reply::error(
                "forbidden",
                "You need the Manage Server permission to change where meeting news is posted.",
            ));
        }
        if let Err(error) = validate(&request) {
            return settings_error(error);
        }
        match self.change_notifications(&actor, guild, &request).await {
            Ok(row) => Self::settings_reply(Some(&row)),
            Err(err) => settings_error(reply::internal("cannot change the notification settings", &err)),
        }
    }

    fn settings_reply(row: Option<&guild::Model>) -> Vec<u8> {
        NotificationSettingsReply { settings: Some(settings_of(row)), error: None }.encode_to_vec()
    }

    /// Writes the change and its audit entry in one transaction.
    async fn change_notifications(
        &self,
        actor: &Actor,
        guild: i64,
        request: &NotificationSettingsRequest,
    ) -> Result<guild::Model, StoreError> {
        self.ensure_guild(guild).await?;
        let txn = self.store.connection().begin().await?;
        let result = async {
            let row = guilds::get(&txn, guild)
                .await?
                .ok_or(StoreError::NotFound { entity: "guild", id: guild.to_string() })?;
            let (changes, audited) = apply(&row, request);
            let row = guilds::update(&txn, changes).await?;
            let entry = NewAuditEntry::new(audit_actor(actor), "notifications.update")
                .guild(guild)
                .target(format!("guild:{guild}"))
                .details(Value::Object(audited));
            audit::append(&txn, entry).await?;
            Ok::<_, StoreError>(row)
        }
        .await;
        match result {
            Ok(row) => {
                txn.commit().await?;
                tracing::info!(guild_id = guild, "notification settings changed");
                Ok(row)
            }
            Err(err) => {
                if let Err(rollback) = txn.rollback().await {
                    tracing::warn!(error = %rollback, "rollback failed");
                }
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> NotificationSettingsRequest {
        NotificationSettingsRequest::default()
    }

    #[test]
    fn unknown_kinds_and_long_leads_are_refused_with_the_field() {
        let mut bad = request();
        bad.mute = vec!["gossip".to_owned()];
        let error = validate(&bad).unwrap_err();
        assert_eq!(error.field, "mute");
        assert!(error.message.contains("recording_ready"), "{}", error.message);
        let mut both = request();
        both.mute = vec!["ended".to_owned()];
        both.unmute = vec!["ended".to_owned()];
        assert_eq!(validate(&both).unwrap_err().field, "unmute");
        let mut long = request();
        long.reminder_minutes = Some(MAX_REMINDER_MINUTES + 1);
        assert_eq!(validate(&long).unwrap_err().field, "reminder_minutes");
        long.reminder_minutes = Some(MAX_REMINDER_MINUTES);
        assert!(validate(&long).is_ok());
        assert!(!changes_something(&request()), "an empty request only reads");
    }
}
