//! `/kaltura setup` (a form, never an option, for the secret), `/kaltura roles map|unmap|list`
//! and `/kaltura sync`.

use std::fmt::Write as _;

use kalcord_discord::custom_id::CustomId;
use kalcord_discord::permission::Permissions;
use kalcord_discord::response::{Component, InteractionResponse, TextInput};
use kalcord_proto::subject;
use kalcord_proto::v1::{
    MeetingRole, NotificationSettings, NotificationSettingsRequest, RoleMapping, RoleMappingRequest, SetupRequest,
    SyncReport, SyncRequest, TenantSummary,
};

use super::{actor_of, services};
use crate::client::{Failure, Outcome};
use crate::handler::Ctx;
use kalcord_view::role_label;

/// Modal field ids.
const PARTNER_ID: &str = "partner_id";
const SERVICE_URL: &str = "service_url";
const KAF_URL: &str = "kaf_url";
const ADMIN_SECRET: &str = "admin_secret";
const TIME_ZONE: &str = "time_zone";

fn manage_server(ctx: &Ctx, what: &str) -> Outcome<()> {
    if ctx.permissions().contains(Permissions::MANAGE_GUILD) {
        Ok(())
    } else {
        Err(Failure::say(format!("You need the Manage Server permission to {what}.")))
    }
}

fn field(id: &str, label: &str, required: bool, placeholder: &str, max_length: u16) -> Component {
    let input = TextInput {
        placeholder: Some(placeholder.to_owned()),
        max_length: Some(max_length),
        ..TextInput::short(id, required)
    };
    Component::text_field(label, input)
}

/// The optional time zone field. NOTE: Discord caps a label at 45 characters, so the hint
/// "Time zone (IANA, e.g. Europe/Paris; default UTC)" is split into label and description.
fn time_zone_field() -> Component {
    let mut component = field(TIME_ZONE, "Time zone (optional)", false, "Europe/Paris", 64);
    if let Component::Label { description, .. } = &mut component {
        *description = Some("IANA name, e.g. Europe/Paris or America/New_York; default UTC".to_owned());
    }
    component
}

/// `/kaltura setup`: opens the form asking for the partner, its URLs, its admin secret and the
/// server's time zone (empty: keep the current one, UTC until set).
pub async fn setup(ctx: Ctx) -> Outcome {
    actor_of(&ctx).await?;
    manage_server(&ctx, "connect kalcord to Kaltura")?;
    let channel = ctx.option_channel("notifications").map(|id| id.to_string());
    let args: Vec<&str> = channel.as_deref().into_iter().collect();
    let custom_id = CustomId::new("setup", &args).encode().map_err(|_| Failure::say("That channel can't be used."))?;
    let fields = vec![
        field(PARTNER_ID, "Partner ID", true, "e.g. 1234567", 12),
        field(SERVICE_URL, "Service URL (optional)", false, "https://www.kaltura.com", 200),
        field(KAF_URL, "KAF URL (optional)", false, "https://1234567.kaf.kaltura.com", 200),
        field(ADMIN_SECRET, "Admin secret", true, "KMC → Settings → Integration Settings", 128),
        time_zone_field(),
    ];
    Ok(InteractionResponse::modal(custom_id, "Connect Kaltura", fields))
}

/// The setup form submitted: links the guild and answers with a summary, never the secret.
pub async fn setup_submit(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    manage_server(&ctx, "connect kalcord to Kaltura")?;
    let partner_id =
        ctx.modal_field(PARTNER_ID).and_then(|text| text.parse::<i64>().ok()).filter(|id| *id > 0).ok_or_else(
            || Failure::say("The partner ID is a number, e.g. 1234567 (KMC → Settings → Integration Settings)."),
        )?;
    let admin_secret = ctx.modal_field(ADMIN_SECRET).ok_or_else(|| Failure::say("The admin secret is required."))?;
    let request = SetupRequest {
        actor: Some(actor),
        partner_id,
        service_url: ctx.modal_field(SERVICE_URL).unwrap_or_default().to_owned(),
        kaf_url: ctx.modal_field(KAF_URL).unwrap_or_default().to_owned(),
        admin_secret: admin_secret.to_owned(),
        notification_channel_id: ctx.custom_args().first().and_then(|id| id.parse().ok()).unwrap_or(0),
        time_zone: ctx.modal_field(TIME_ZONE).unwrap_or_default().trim().to_owned(),
    };
    let outcome = services(&ctx).setup(&request).await;
    let redact = |text: String| text.replace(admin_secret, "[secret]");
    match outcome {
        Ok(tenant) => {
            let partner = if tenant.partner_id > 0 { tenant.partner_id } else { partner_id };
            let zone = if tenant.time_zone.is_empty() { "UTC" } else { tenant.time_zone.as_str() };
            Ok(InteractionResponse::ephemeral(&redact(format!(
                "Linked to Kaltura partner {partner} ({}). Times without an offset are read in {zone}.",
                reachability(&tenant)
            ))))
        }
        Err(failure) => Err(Failure::say(redact(failure.text()))),
    }
}

fn reachability(tenant: &TenantSummary) -> String {
    match (tenant.reachable, tenant.problem.trim()) {
        (true, _) => "reachable".to_owned(),
        (false, "") => "not checked yet".to_owned(),
        (false, problem) => format!("not reachable: {problem}"),
    }
}

/// One line of the `/kaltura status` report about the guild's Kaltura link.
#[must_use]
pub fn tenant_line(tenant: &TenantSummary) -> String {
    if !tenant.configured {
        return "Not connected: run `/kaltura setup`.".to_owned();
    }
    let mark = if tenant.reachable { "✅" } else { "❌" };
    let source = match tenant.source.as_str() {
        "guild" => "set with /kaltura setup",
        "default" => "kalcord's default partner",
        "sandbox" => "built-in sandbox",
        other => other,
    };
    format!("{mark} Partner {} ({source}), {}", tenant.partner_id, reachability(tenant))
}

fn meeting_role(value: Option<&str>) -> Option<MeetingRole> {
    match value {
        Some("host") => Some(MeetingRole::Host),
        Some("moderator") => Some(MeetingRole::Moderator),
        Some("attendee") => Some(MeetingRole::Attendee),
        _ => None,
    }
}

fn mapping_text(headline: &str, mappings: &[RoleMapping]) -> InteractionResponse {
    let mut text = headline.to_owned();
    if mappings.is_empty() {
        text.push_str("\nNo Discord role is mapped; members get their default meeting role.");
    } else {
        text.push_str("\n**Role mapping**");
        for mapping in mappings {
            let _ = write!(
                text,
                "\n<@&{}> → {} (priority {})",
                mapping.discord_role_id,
                role_label(mapping.role),
                mapping.priority
            );
        }
    }
    InteractionResponse::ephemeral(text.trim_start())
}

/// `/kaltura roles map role kaltura_role [priority]`.
pub async fn roles_map(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    manage_server(&ctx, "map roles")?;
    let role_id = ctx.option_role("role").ok_or_else(|| Failure::say("Pick a Discord role."))?;
    let role = meeting_role(ctx.option_str("kaltura_role"))
        .ok_or_else(|| Failure::say("Pick a meeting role: host, moderator or attendee."))?;
    let priority = ctx.option_i64("priority").unwrap_or(0).clamp(i64::from(i32::MIN), i64::from(i32::MAX));
    let mapping =
        RoleMapping { discord_role_id: role_id, role: role as i32, priority: i32::try_from(priority).unwrap_or(0) };
    let request = RoleMappingRequest { actor: Some(actor), mapping: Some(mapping) };
    let mappings = services(&ctx).roles(subject::IDENTITY_ROLES_MAP, &request).await?;
    Ok(mapping_text(&format!("Members with <@&{role_id}> are now {} in meetings.", role_label(role as i32)), &mappings))
}

/// `/kaltura roles unmap role`.
pub async fn roles_unmap(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    manage_server(&ctx, "map roles")?;
    let role_id = ctx.option_role("role").ok_or_else(|| Failure::say("Pick a Discord role."))?;
    let mapping = RoleMapping { discord_role_id: role_id, role: MeetingRole::Unspecified as i32, priority: 0 };
    let request = RoleMappingRequest { actor: Some(actor), mapping: Some(mapping) };
    let mappings = services(&ctx).roles(subject::IDENTITY_ROLES_UNMAP, &request).await?;
    Ok(mapping_text(&format!("<@&{role_id}> is no longer mapped."), &mappings))
}

/// `/kaltura roles list`.
pub async fn roles_list(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    let request = RoleMappingRequest { actor: Some(actor), mapping: None };
    let mappings = services(&ctx).roles(subject::IDENTITY_ROLES_LIST, &request).await?;
    Ok(mapping_text("", &mappings))
}

/// `/kaltura notifications [channel] [mention] [no_mention] [reminder_minutes] [scheduled_events]
/// [mute] [unmute]`: changes what is given (Manage Server), then shows the settings.
pub async fn notifications(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    let mention_role_id = match (ctx.option_role("mention"), ctx.option_bool("no_mention")) {
        (Some(_), Some(true)) => return Err(Failure::say("Pick a role to ping, or stop pinging one, not both.")),
        (Some(role), _) => Some(role),
        (None, Some(true)) => Some(0),
        (None, _) => None,
    };
    let request = NotificationSettingsRequest {
        actor: Some(actor),
        channel_id: ctx.option_channel("channel"),
        mention_role_id,
        reminder_minutes: ctx.option_i64("reminder_minutes").and_then(|minutes| u32::try_from(minutes).ok()),
        scheduled_events: ctx.option_bool("scheduled_events"),
        mute: ctx.option_str("mute").map(str::to_owned).into_iter().collect(),
        unmute: ctx.option_str("unmute").map(str::to_owned).into_iter().collect(),
    };
    let changing = request.channel_id.is_some()
        || request.mention_role_id.is_some()
        || request.reminder_minutes.is_some()
        || request.scheduled_events.is_some()
        || !request.mute.is_empty()
        || !request.unmute.is_empty();
    if changing {
        manage_server(&ctx, "change where meeting news is posted")?;
    }
    let settings = services(&ctx).notifications(&request).await?;
    let headline = if changing { "Saved." } else { "" };
    Ok(InteractionResponse::ephemeral(&notifications_text(headline, &settings)))
}

/// Post kinds as members read them.
fn post_label(kind: &str) -> &str {
    match kind {
        "scheduled" => "scheduled",
        "updated" => "rescheduled or renamed",
        "reminder" => "starting soon",
        "started" => "live now",
        "ended" => "ended",
        "cancelled" => "cancelled",
        "recording_ready" => "recording ready",
        other => other,
    }
}

/// What `/kaltura notifications` shows.
#[must_use]
pub fn notifications_text(headline: &str, settings: &NotificationSettings) -> String {
    let mut text = headline.to_owned();
    text.push_str("\n**Meeting news**");
    if settings.channel_id == 0 {
        text.push_str("\nChannel: none, so nothing is posted. Pick one with the `channel` option.");
    } else {
        let _ = write!(text, "\nChannel: <#{}>", settings.channel_id);
    }
    let muted: Vec<&str> = settings.muted_posts.iter().map(|kind| post_label(kind)).collect();
    if muted.is_empty() {
        text.push_str("\nPosts: every kind");
    } else {
        let _ = write!(text, "\nPosts: all but {}", muted.join(", "));
    }
    if settings.mention_role_id == 0 {
        text.push_str("\nPings: nobody");
    } else {
        let _ = write!(
            text,
            "\nPings: <@&{}> when a meeting is scheduled, about to start or live",
            settings.mention_role_id
        );
    }
    if settings.reminder_minutes == 0 {
        text.push_str("\nReminder: the default time before the start (15 minutes unless the operator changed it)");
    } else {
        let _ = write!(text, "\nReminder: {} minutes before the start", settings.reminder_minutes);
    }
    let events = if settings.scheduled_events { "shown as Discord events" } else { "not shown as Discord events" };
    let _ = write!(text, "\nScheduled meetings: {events}");
    text.trim_start().to_owned()
}

/// `/kaltura sync`: reads every member from Discord (identity.sync, which can take many seconds:
/// the interaction is deferred and this answer edits the deferral) and reports the counts.
pub async fn sync(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    manage_server(&ctx, "sync members")?;
    let report = services(&ctx).sync(&SyncRequest { actor: Some(actor) }).await?;
    Ok(InteractionResponse::ephemeral(&sync_text(&report)))
}

/// `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// `1 host`, `2,000 hosts`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// What `/kaltura sync` answers.
#[must_use]
pub fn sync_text(report: &SyncReport) -> String {
    let mut text = format!(
        "Synced {} ({}, {}): {}, {}, {}.",
        count(report.members, "member", "members"),
        count(report.humans, "person", "people"),
        count(report.bots, "bot", "bots"),
        count(report.hosts, "host", "hosts"),
        count(report.moderators, "moderator", "moderators"),
        count(report.attendees, "attendee", "attendees"),
    );
    match report.stale_mappings_removed {
        0 => {}
        1 => text.push_str(" Removed 1 mapping of a deleted role."),
        n => {
            let _ = write!(text, " Removed {n} mappings of deleted roles.");
        }
    }
    let tenths = report.elapsed_ms.saturating_add(50) / 100;
    let _ = write!(text, " Took {}.{} s.", thousands(tenths / 10), tenths % 10);
    text
}

#[cfg(test)]
mod tests {
    use kalcord_proto::v1::{NotificationSettings, SyncReport};

    use super::{notifications_text, sync_text};

    #[test]
    fn notification_settings_read_naturally() {
        let fresh = NotificationSettings { scheduled_events: true, ..NotificationSettings::default() };
        let text = notifications_text("", &fresh);
        assert!(text.starts_with("**Meeting news**\nChannel: none, so nothing is posted."), "{text}");
        assert!(
            text.contains("Posts: every kind")
                && text.contains("Pings: nobody")
                && text.contains("shown as Discord events")
        );
        let set = NotificationSettings {
            channel_id: 7,
            mention_role_id: 9,
            reminder_minutes: 30,
            scheduled_events: false,
            muted_posts: vec!["updated".to_owned(), "recording_ready".to_owned()],
        };
        let text = notifications_text("Saved.", &set);
        assert!(text.starts_with("Saved.\n**Meeting news**\nChannel: <#7>"), "{text}");
        assert!(text.contains("Posts: all but rescheduled or renamed, recording ready"), "{text}");
        assert!(
            text.contains("Pings: <@&9>") && text.contains("30 minutes before") && text.contains("not shown"),
            "{text}"
        );
    }

    #[test]
    fn sync_counts_read_naturally() {
        let report = SyncReport {
            members: 10_000,
            humans: 9_990,
            bots: 10,
            hosts: 3,
            moderators: 12,
            attendees: 9_975,
            pages: 10,
            stale_mappings_removed: 1,
            elapsed_ms: 2_340,
        };
        assert_eq!(
            sync_text(&report),
            "Synced 10,000 members (9,990 people, 10 bots): 3 hosts, 12 moderators, 9,975 attendees. Removed 1 mapping of a deleted role. Took 2.3 s."
        );
        let small = SyncReport { members: 2, humans: 1, bots: 1, hosts: 1, elapsed_ms: 40, ..SyncReport::default() };
        assert_eq!(
            sync_text(&small),
            "Synced 2 members (1 person, 1 bot): 1 host, 0 moderators, 0 attendees. Took 0.0 s."
        );
        let many = SyncReport { members: 1_234_567, stale_mappings_removed: 3, ..SyncReport::default() };
        assert!(sync_text(&many).contains("1,234,567 members") && sync_text(&many).contains("Removed 3 mappings"));
    }
}
