//! `/meeting start|schedule|join|list|info|end`, the Join, End and Cancel buttons, and the
//! autocomplete of meetings and start times.

use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use kalcord_discord::egress::Method;
use kalcord_discord::response::{ButtonStyle, Choice, Component, Embed, InteractionResponse, MessageData};
use kalcord_proto::v1::{
    Actor, AttachMessageRequest, CreateMeetingRequest, EndMeetingRequest, GetMeetingRequest, JoinRequest,
    ListMeetingsRequest, Meeting, MeetingStatus, TenantRequest,
};

use super::{actor_of, services};
use crate::client::{Failure, Outcome};
use crate::handler::Ctx;
use crate::when::{parse_duration, parse_when, uses_zone};
use kalcord_view::{announcement, ended, kind_of, meeting_embed, role_label, short_id, stamp, start_ms, status_label};

/// Meetings members can still join.
const OPEN: [MeetingStatus; 2] = [MeetingStatus::Live, MeetingStatus::Scheduled];

fn statuses(list: &[MeetingStatus]) -> Vec<i32> {
    list.iter().map(|status| *status as i32).collect()
}

fn text_option(ctx: &Ctx, name: &str) -> Option<String> {
    ctx.option_str(name).map(str::trim).filter(|text| !text.is_empty()).map(str::to_owned)
}

fn title(ctx: &Ctx) -> Outcome<String> {
    text_option(ctx, "title").ok_or_else(|| Failure::say("Give the meeting a title."))
}

/// `/meeting start`: starts a meeting now and posts it publicly with Join and End buttons.
pub async fn start(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    let request = CreateMeetingRequest {
        kind: kind_of(ctx.option_str("kind")) as i32,
        title: title(&ctx)?,
        description: text_option(&ctx, "description").unwrap_or_default(),
        scheduled_start_unix_ms: 0,
        duration_minutes: 0,
        channel_id: actor.channel_id,
        idempotency_key: ctx.interaction.id.get().to_string(),
        custom_fields_json: String::new(),
        actor: Some(actor.clone()),
    };
    let (meeting, _replayed) = services(&ctx).create(&request).await?;
    remember_post(&ctx, actor, &meeting);
    Ok(InteractionResponse::message(announcement(&meeting)))
}

/// `/meeting schedule`: schedules a meeting and posts it publicly with Join and Cancel buttons.
pub async fn schedule(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    let when = text_option(&ctx, "when")
        .ok_or_else(|| Failure::say("Say when it starts, e.g. `tomorrow 18:00` or `in 2h`."))?;
    let (start, zone) = start_of(&ctx, &actor, &when).await?;
    let duration_minutes = match (text_option(&ctx, "duration"), ctx.option_i64("duration")) {
        (Some(text), _) => parse_duration(&text).map_err(|err| Failure::say(err.to_string()))?,
        (None, Some(minutes)) => parse_duration(&minutes.to_string()).map_err(|err| Failure::say(err.to_string()))?,
        (None, None) => 0,
    };
    let request = CreateMeetingRequest {
        kind: kind_of(ctx.option_str("kind")) as i32,
        title: title(&ctx)?,
        description: text_option(&ctx, "description").unwrap_or_default(),
        scheduled_start_unix_ms: start.timestamp_millis(),
        duration_minutes,
        channel_id: actor.channel_id,
        idempotency_key: ctx.interaction.id.get().to_string(),
        custom_fields_json: String::new(),
        actor: Some(actor.clone()),
    };
    let (meeting, _replayed) = services(&ctx).create(&request).await?;
    remember_post(&ctx, actor, &meeting);
    let mut message = announcement(&meeting);
    if let Some(zone) = zone {
        message.content = Some(format!("Start time read as {} time.", zone.name()));
    }
    Ok(InteractionResponse::message(message))
}

/// The guild's time zone (`identity.tenant`, without checking Kaltura); UTC when identity names
/// none.
async fn guild_zone(ctx: &Ctx, actor: &Actor) -> Outcome<Tz> {
    let request = TenantRequest { actor: Some(actor.clone()), check: false };
    let tenant = services(ctx).tenant(&request).await?;
    let name = tenant.time_zone.trim();
    if name.is_empty() {
        return Ok(Tz::UTC);
    }
    Ok(name.parse().unwrap_or_else(|_| {
        tracing::warn!(time_zone = name, "identity named an unknown time zone; reading times in UTC");
        Tz::UTC
    }))
}

/// The start `when` names, and the guild's time zone when it was needed to read it (a local
/// time, or a refusal whose explanation names the zone). Relative times and times with an
/// offset are read without asking identity.
async fn start_of(ctx: &Ctx, actor: &Actor, when: &str) -> Outcome<(DateTime<Utc>, Option<Tz>)> {
    let now = Utc::now();
    if !uses_zone(when)
        && let Ok(start) = parse_when(when, now, Tz::UTC)
    {
        return Ok((start, None));
    }
    let zone = guild_zone(ctx, actor).await?;
    let start = parse_when(when, now, zone).map_err(|err| Failure::say(err.to_string()))?;
    Ok((start, uses_zone(when).then_some(zone)))
}

/// Once Discord shows the answer, records which message announces the meeting (best effort).
fn remember_post(ctx: &Ctx, actor: Actor, meeting: &Meeting) {
    let (Some(egress), Some(application_id)) = (ctx.app.egress.clone(), ctx.app.deps.common.discord.application_id)
    else {
        return;
    };
    if meeting.discord_message_id != 0 {
        return;
    }
    let path = format!("webhooks/{application_id}/{}/messages/@original", ctx.interaction.token);
    let services = services(ctx);
    let meeting_id = meeting.id.clone();
    tokio::spawn(async move {
        for delay in [1, 2, 4, 8] {
            tokio::time::sleep(Duration::from_secs(delay)).await;
            let original = egress.request::<serde_json::Value>(Method::Get, &path, None::<&()>).await;
            let Ok(original) = original else { continue };
            let id = |key: &str| original.get(key).and_then(serde_json::Value::as_str).and_then(|id| id.parse().ok());
            let Some(message_id) = id("id") else { continue };
            let request = AttachMessageRequest {
                channel_id: id("channel_id").unwrap_or(actor.channel_id),
                message_id,
                meeting_id,
                actor: Some(actor),
            };
            if let Err(failure) = services.attach_message(&request).await {
                tracing::warn!(problem = failure.text(), "recording the announcement of a meeting failed");
            }
            return;
        }
        tracing::warn!("the announcement of a meeting could not be read back from Discord");
    });
}

/// Whether `text` is a meeting id rather than a title typed without picking a suggestion.
fn is_id(text: &str) -> bool {
    text.len() == 36 && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// The meeting an option names: its id (picked from the suggestions), or a title matching
/// exactly one open meeting.
async fn resolve(ctx: &Ctx, actor: &Actor, text: &str) -> Outcome<String> {
    if is_id(text) {
        return Ok(text.to_owned());
    }
    let request = ListMeetingsRequest {
        actor: Some(actor.clone()),
        statuses: statuses(&OPEN),
        limit: 2,
        title_contains: text.to_owned(),
        ..ListMeetingsRequest::default()
    };
    let found = services(ctx).list(&request).await?;
    match found.as_slice() {
        [meeting] => Ok(meeting.id.clone()),
        [] => Err(Failure::say("No live or scheduled meeting matches that; pick one from the suggestions.")),
        _ => Err(Failure::say("Several meetings match that; pick one from the suggestions.")),
    }
}

/// `/meeting join [meeting]`: the member's personal link, into the meeting named or the one
/// live in this channel.
pub async fn join_command(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    let meeting_id = match text_option(&ctx, "meeting") {
        Some(text) => resolve(&ctx, &actor, &text).await?,
        None => live_here(&ctx, &actor).await?,
    };
    join(&ctx, actor, meeting_id).await
}

/// The Join button: the clicking member's own link, only for them.
pub async fn join_button(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    let meeting_id = meeting_arg(&ctx)?;
    join(&ctx, actor, meeting_id).await
}

fn meeting_arg(ctx: &Ctx) -> Outcome<String> {
    ctx.custom_args()
        .first()
        .filter(|id| !id.is_empty())
        .cloned()
        .ok_or_else(|| Failure::say("This button doesn't say which meeting it is for. Use `/meeting list`."))
}

async fn live_here(ctx: &Ctx, actor: &Actor) -> Outcome<String> {
    let request = ListMeetingsRequest {
        actor: Some(actor.clone()),
        statuses: statuses(&[MeetingStatus::Live]),
        limit: 2,
        channel_id: actor.channel_id,
        ..ListMeetingsRequest::default()
    };
    let live = services(ctx).list(&request).await?;
    match live.as_slice() {
        [meeting] => Ok(meeting.id.clone()),
        [] => Err(Failure::say("No live meeting in this channel; pick one with the meeting option.")),
        _ => Err(Failure::say("Several meetings are live in this channel; pick one with the meeting option.")),
    }
}

async fn join(ctx: &Ctx, actor: Actor, meeting_id: String) -> Outcome {
    let join = services(ctx).join(&JoinRequest { actor: Some(actor), meeting_id }).await?;
    let title = if join.meeting_title.trim().is_empty() { "the meeting" } else { join.meeting_title.trim() };
    let expiry = if join.expires_at_unix_ms > 0 {
        format!(" and expires {}", stamp(join.expires_at_unix_ms, 'R'))
    } else {
        String::new()
    };
    let text = format!(
        "You join **{title}** as {}. This link is personal{expiry}; don't share it — everyone gets their own with the Join button.",
        role_label(join.role)
    );
    let message = match Component::link(&format!("Open {title} in Kaltura"), &join.launch_url) {
        Some(button) => MessageData::text(&text).row(Component::row(vec![button])),
        None if join.launch_url.starts_with("https://") => MessageData::text(&format!("{text}\n{}", join.launch_url)),
        None => return Err(Failure::say("Kaltura didn't give a usable link. Please try again.")),
    };
    Ok(InteractionResponse::message(message.ephemeral()))
}

/// Autocomplete of `meeting` options (open meetings whose title contains what was typed) and
/// of `when` (how the typed time reads).
pub async fn autocomplete(ctx: Ctx) -> Outcome {
    let Some((name, typed)) = ctx.focused() else { return Ok(InteractionResponse::choices(Vec::new())) };
    let Ok(actor) = actor_of(&ctx).await else { return Ok(InteractionResponse::choices(Vec::new())) };
    if name == "when" {
        return Ok(InteractionResponse::choices(when_choices(&ctx, &actor, typed).await));
    }
    let request = ListMeetingsRequest {
        actor: Some(actor),
        statuses: statuses(&OPEN),
        limit: 25,
        title_contains: typed.trim().to_owned(),
        ..ListMeetingsRequest::default()
    };
    let choices = services(&ctx).list(&request).await.map(|meetings| {
        meetings
            .iter()
            .take(25)
            .map(|m| Choice { name: format!("{} ({})", m.title, status_label(m.status)), value: m.id.clone() })
            .collect()
    });
    Ok(crate::client::choices(choices))
}

/// How the typed start time reads: local times in the guild's time zone (named), others in
/// UTC; the examples when nothing is typed yet.
async fn when_choices(ctx: &Ctx, actor: &Actor, typed: &str) -> Vec<Choice> {
    let now = Utc::now();
    if typed.trim().is_empty() {
        let zone = guild_zone(ctx, actor).await.ok();
        return ["in 30m", "in 1h", "tomorrow 18:00"]
            .iter()
            .map(|example| {
                let name = match zone {
                    Some(zone) if uses_zone(example) => format!("{example} ({})", zone.name()),
                    _ => (*example).to_owned(),
                };
                Choice { name, value: (*example).to_owned() }
            })
            .collect();
    }
    let zone = if uses_zone(typed) {
        match guild_zone(ctx, actor).await {
            Ok(zone) => zone,
            Err(_) => return Vec::new(),
        }
    } else {
        Tz::UTC
    };
    match parse_when(typed, now, zone) {
        Ok(start) => {
            let local = start.with_timezone(&zone);
            let mut name = format!("{} {}", local.format("%a %-d %b %Y %H:%M"), zone.name());
            if zone != Tz::UTC {
                let _ = write!(name, " ({} UTC)", start.format("%H:%M"));
            }
            vec![Choice { name, value: local.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) }]
        }
        Err(_) => Vec::new(),
    }
}

/// `/meeting list [status]`: up to ten meetings, only for the member.
pub async fn list(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    let (wanted, label): (&[MeetingStatus], &str) = match ctx.option_str("status") {
        Some("live") => (&[MeetingStatus::Live], "Live meetings"),
        Some("ended") => (&[MeetingStatus::Ended, MeetingStatus::Cancelled], "Past meetings"),
        Some("all") => (&[], "Meetings"),
        _ => (&OPEN, "Live and upcoming meetings"),
    };
    let request = ListMeetingsRequest {
        actor: Some(actor),
        statuses: statuses(wanted),
        limit: 10,
        ..ListMeetingsRequest::default()
    };
    let meetings = services(&ctx).list(&request).await?;
    if meetings.is_empty() {
        return Ok(InteractionResponse::ephemeral(&format!(
            "{label}: none. Start one with `/meeting start` or plan one with `/meeting schedule`."
        )));
    }
    let mut embed = Embed::titled(label).color(0x0058_65F2);
    for meeting in meetings.iter().take(10) {
        let start = start_ms(meeting);
        let when = if start > 0 { stamp(start, 'R') } else { "—".to_owned() };
        embed = embed.field(
            &meeting.title,
            &format!("{} · {when} · `{}`", status_label(meeting.status), short_id(&meeting.id)),
            false,
        );
    }
    Ok(InteractionResponse::message(MessageData::embed(embed).ephemeral()))
}

/// `/meeting info meeting`: the meeting's details, only for the member.
pub async fn info(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    let text = text_option(&ctx, "meeting").ok_or_else(|| Failure::say("Pick a meeting."))?;
    let meeting_id = resolve(&ctx, &actor, &text).await?;
    let meeting = services(&ctx).get(&GetMeetingRequest { actor: Some(actor), meeting_id }).await?;
    let mut embed = meeting_embed(&meeting);
    if meeting.discord_channel_id != 0 {
        embed = embed.field("Channel", &format!("<#{}>", meeting.discord_channel_id), true);
    }
    if meeting.actual_end_unix_ms > 0 {
        embed = embed.field("Ended", &stamp(meeting.actual_end_unix_ms, 'F'), true);
    }
    let mut message = MessageData::embed(embed).ephemeral();
    if OPEN.iter().any(|status| *status as i32 == meeting.status)
        && let Ok(id) = kalcord_discord::custom_id::CustomId::new("join", &[&meeting.id]).encode()
    {
        message = message.row(Component::row(vec![Component::button(ButtonStyle::Primary, "Join", id)]));
    }
    Ok(InteractionResponse::message(message))
}

/// `/meeting end meeting`: ends a live meeting or cancels a scheduled one (hosts only, as the
/// meetings service decides); the notifications service then removes its announcement's buttons.
pub async fn end_command(ctx: Ctx) -> Outcome {
    let actor = actor_of(&ctx).await?;
    let text = text_option(&ctx, "meeting").ok_or_else(|| Failure::say("Pick a meeting."))?;
    let meeting_id = resolve(&ctx, &actor, &text).await?;
    let client = services(&ctx);
    let meeting = client.get(&GetMeetingRequest { actor: Some(actor.clone()), meeting_id: meeting_id.clone() }).await?;
    let cancel = match MeetingStatus::try_from(meeting.status) {
        Ok(MeetingStatus::Live) => false,
        Ok(MeetingStatus::Scheduled) => true,
        _ => return Err(Failure::say(format!("**{}** is already over.", meeting.title))),
    };
    // NOTE: the notifications service edits the announcement (buttons off) from the event.
    client.end(&EndMeetingRequest { actor: Some(actor), meeting_id }, cancel).await?;
    Ok(InteractionResponse::ephemeral(if cancel { "Cancelled." } else { "Ended." }))
}

/// The End button (`cancel` false) and the Cancel button: the announcement turns into its
/// ended form, without buttons.
async fn end_button(ctx: Ctx, cancel: bool) -> Outcome {
    let actor = actor_of(&ctx).await?;
    let meeting_id = meeting_arg(&ctx)?;
    let meeting = services(&ctx).end(&EndMeetingRequest { actor: Some(actor), meeting_id }, cancel).await?;
    Ok(InteractionResponse::update(ended(&meeting)))
}

/// The End button.
pub async fn end_click(ctx: Ctx) -> Outcome {
    end_button(ctx, false).await
}

/// The Cancel button.
pub async fn cancel_click(ctx: Ctx) -> Outcome {
    end_button(ctx, true).await
}
