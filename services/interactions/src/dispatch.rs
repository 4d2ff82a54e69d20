//! One interaction from the bus to its answer: in time inline, or deferred then delivered as a
//! follow-up.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kalcord_discord::command::is_ephemeral;
use kalcord_discord::response::{EPHEMERAL, InteractionResponse, MessageData, ResponseData, kind};
use kalcord_proto::v1::InteractionRequest;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;
use twilight_model::application::interaction::Interaction;

use crate::fallback;
use crate::handler::{App, Ctx, Registry};
use crate::route::{Route, route};

fn unix_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn count(outcome: &'static str) {
    metrics::counter!("kalcord_interactions_handled_total", "outcome" => outcome).increment(1);
}

/// Runs the handler of `request`; answers inline when it finishes `margin` before the edge's
/// deadline, else answers with a deferral and delivers the handler's answer as a follow-up.
pub async fn dispatch(
    app: Arc<App>,
    registry: &Registry,
    request: InteractionRequest,
    margin: Duration,
    tracker: &TaskTracker,
) -> InteractionResponse {
    let interaction: Interaction = match serde_json::from_slice(&request.body) {
        Ok(interaction) => interaction,
        Err(err) => {
            count("unreadable");
            tracing::warn!(error = %err, "interaction does not parse");
            return fallback::unreadable();
        }
    };
    let route = route(&interaction);
    let Some(handler) = registry.get(&route) else {
        count("unhandled");
        return fallback::unhandled(&route);
    };
    let token = interaction.token.clone();
    let span = tracing::info_span!("interaction", id = %interaction.id, route = route.key().unwrap_or_default());
    let ctx = Ctx { app: Arc::clone(&app), interaction, route: route.clone() };
    let work = tokio::spawn(
        async move {
            handler.handle(&ctx).await.unwrap_or_else(|err| {
                tracing::error!(error = %kalcord_runtime::chain(&err), "interaction handler failed");
                fallback::failed(&ctx.route)
            })
        }
        .instrument(span.clone()),
    );
    let remaining = request.deadline_unix_ms - unix_millis() - i64::try_from(margin.as_millis()).unwrap_or(500);
    let budget = Duration::from_millis(u64::try_from(remaining).unwrap_or(0));
    // NOTE: a span guard held across an await corrupts the span stack of whatever else runs on
    // this thread; the span follows the future instead.
    let mut work = work;
    match tokio::time::timeout(budget, &mut work).instrument(span).await {
        Ok(Ok(response)) => {
            count("inline");
            response
        }
        Ok(Err(join)) => {
            count("panicked");
            tracing::error!(error = %join, "interaction handler panicked");
            fallback::failed(&route)
        }
        Err(_) => defer(app, &route, token, work, tracker),
    }
}

fn defer(
    app: Arc<App>,
    route: &Route,
    token: String,
    work: tokio::task::JoinHandle<InteractionResponse>,
    tracker: &TaskTracker,
) -> InteractionResponse {
    if matches!(route, Route::Autocomplete { .. }) {
        count("autocomplete_late");
        work.abort();
        return InteractionResponse::choices(Vec::new());
    }
    count("deferred");
    // NOTE: a button is acknowledged without a new message (type 6), so a late answer can
    // still edit the message the button is on (End) or arrive as an ephemeral follow-up (Join).
    let deferral = match route {
        Route::Command { name, sub, .. } => InteractionResponse::deferred(is_ephemeral(name, sub.as_deref())),
        Route::Component(_) => InteractionResponse::deferred_update(),
        _ => InteractionResponse::deferred(true),
    };
    let updates_message = deferral.kind == kind::DEFERRED_UPDATE_MESSAGE;
    let public = deferral.kind == kind::DEFERRED_CHANNEL_MESSAGE && deferral.data.is_none();
    tracker.spawn(async move {
        let response = match work.await {
            Ok(response) => response,
            Err(_) => InteractionResponse::ephemeral("Something went wrong on our side. Please try again."),
        };
        follow_up(&app, &token, response, updates_message, public).await;
    });
    deferral
}

/// Delivers a late answer by editing the deferred response; after a component's deferred
/// update (`updates_message`), only an update edits the message, anything else follows up. A
/// private answer (an error, a refusal) to a public deferral (`public`) never lands in the
/// channel: the public "thinking…" is deleted and the answer follows privately.
async fn follow_up(app: &App, token: &str, response: InteractionResponse, updates_message: bool, public: bool) {
    let Some(egress) = &app.egress else {
        tracing::error!("a deferred interaction cannot be answered: discord.bot_token is not set");
        return;
    };
    let (edit, message) = match (response.kind, response.data) {
        (kind::UPDATE_MESSAGE, Some(ResponseData::Message(message))) => (true, message),
        (kind::CHANNEL_MESSAGE, Some(ResponseData::Message(message))) => (!updates_message, message),
        _ => (!updates_message, MessageData::text("That took too long. Please try again.").ephemeral()),
    };
    let private = message.flags.unwrap_or(0) & EPHEMERAL != 0;
    let edit = edit && !(public && private);
    if public
        && private
        && let Err(err) = egress.delete_original(token).await
    {
        tracing::warn!(error = %kalcord_runtime::chain(&err), "removing a public deferral failed");
    }
    let delivered =
        if edit { egress.edit_original(token, &message).await } else { egress.create_followup(token, &message).await };
    match delivered {
        Ok(_) => count("followed_up"),
        Err(err) => {
            count("follow_up_failed");
            tracing::warn!(error = %kalcord_runtime::chain(&err), "delivering a deferred interaction answer failed");
        }
    }
}
