//! The `kaltura.webhooks` consumer: verified Kaltura notifications, stored by the api-gateway,
//! applied to meetings ([`MeetingsApi::apply_webhook`]).
//!
//! One durable consumer is shared by every replica, with explicit acks: an applied or ignored
//! notification is acked, one that is not JSON of a [`WebhookEvent`] is terminated (a retry
//! cannot help), and one that failed for now (store or partner settings unavailable) is handed
//! back to come again after [`RETRY_DELAY`]. Applying is idempotent, so a redelivery after a
//! crash between the commit and the ack changes nothing.

use std::sync::Arc;
use std::time::Duration;

use kalcord_bus::spec::{self, ConsumerSpec, StreamSpec};
use kalcord_bus::{BusError, Consumer, Delivery, SharedBus};
use kalcord_kaltura::webhook::WebhookEvent;
use kalcord_proto::subject;
use kalcord_runtime::CancellationToken;

use crate::api::{Applied, MeetingsApi};

/// Stream the api-gateway stores notifications in.
pub const STREAM: &str = "KALTURA_WEBHOOKS";
/// Durable consumer every meetings replica shares (each notification is applied by one).
pub const DURABLE: &str = "meetings-kaltura-webhooks";
/// Delay before a notification that failed for now comes back.
pub const RETRY_DELAY: Duration = Duration::from_secs(5);
/// Notifications one replica applies at once.
const CONCURRENCY: usize = 8;

/// Binds the meetings consumer of `kaltura.webhooks` (declaring the stream when the bus has not).
///
/// # Errors
///
/// When the bus refuses the stream or the consumer.
pub async fn bind(bus: &SharedBus) -> Result<Consumer, BusError> {
    let stream = spec::streams()
        .into_iter()
        .find(|stream| stream.name == STREAM)
        .unwrap_or_else(|| StreamSpec::new(STREAM, &[subject::KALTURA_WEBHOOKS]));
    bus.ensure_stream(&stream).await?;
    bus.consume(&ConsumerSpec::new(STREAM, DURABLE, subject::KALTURA_WEBHOOKS)).await
}

/// Applies notifications until `shutdown`; the ones in flight are finished first.
pub async fn run(api: Arc<MeetingsApi>, consumer: Consumer, shutdown: CancellationToken) {
    kalcord_bus::worker::drive(consumer, shutdown, CONCURRENCY, |delivery| {
        let api = Arc::clone(&api);
        async move { handle(&api, delivery).await }
    })
    .await;
}

/// Applies one delivery and settles it: ack, term (malformed) or nak (failed for now).
#[tracing::instrument(name = "kaltura_webhook", skip_all, fields(sequence = delivery.sequence, attempt = delivery.attempt))]
async fn handle(api: &MeetingsApi, delivery: Delivery) {
    let event: WebhookEvent = match serde_json::from_slice(&delivery.message.payload) {
        Ok(event) => event,
        Err(err) => {
            // NOTE: where it broke, never what it held.
            tracing::warn!(category = ?err.classify(), line = err.line(), column = err.column(), "malformed kaltura notification dropped");
            settle(delivery.term().await, "term");
            return;
        }
    };
    match api.apply_webhook(&event).await {
        Ok(applied) => {
            // NOTE: this partner's notifications arrive: its recordings need no polling.
            if let Err(err) = api.note_notification(event.partner_id, kalcord_store::now()).await {
                tracing::warn!(error = %kalcord_runtime::chain(&err), "cannot note a partner's notification");
            }
            match applied {
                Applied::Ignored(why) => tracing::debug!(entry = ?event.entry_id, why, "kaltura notification ignored"),
                Applied::Duplicate => tracing::debug!(entry = ?event.entry_id, "kaltura notification applied already"),
                Applied::Recorded { .. } => {}
            }
            settle(delivery.ack().await, "ack");
        }
        Err(err) => {
            tracing::warn!(entry = ?event.entry_id, error = %kalcord_runtime::chain(&err), "kaltura notification not applied; retrying");
            settle(delivery.nak(Some(RETRY_DELAY)).await, "nak");
        }
    }
}

fn settle(result: Result<(), BusError>, what: &'static str) {
    if let Err(err) = result {
        // NOTE: an unsettled notification comes back after ack_wait; applying is idempotent.
        tracing::warn!(error = %err, what, "kaltura notification not settled");
    }
}
