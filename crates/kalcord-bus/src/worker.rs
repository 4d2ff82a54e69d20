//! Drives a consumer until shutdown: the loop every event-handling service runs.

use std::future::Future;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use tokio_util::sync::CancellationToken;

use crate::{Consumer, Delivery};

/// Hands each delivery of `consumer` to `handler`, at most `concurrency` at a time, until
/// `shutdown` is cancelled or the bus closes.
///
/// The handler acks, naks or terms its delivery. On shutdown no new delivery is taken; the
/// ones being handled are awaited (the host bounds the wait with `shutdown.timeout`).
/// Anything not acked by then, including deliveries the broker had already sent ahead, is
/// delivered again after the consumer's `ack_wait`, to another replica or after a restart.
pub async fn drive<F, Fut>(mut consumer: Consumer, shutdown: CancellationToken, concurrency: usize, handler: F)
where
    F: Fn(Delivery) -> Fut,
    Fut: Future<Output = ()>,
{
    let durable = consumer.spec().durable.clone();
    let mut in_flight = FuturesUnordered::new();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
            next = consumer.next(), if in_flight.len() < concurrency.max(1) => match next {
                Some(Ok(delivery)) => in_flight.push(handler(delivery)),
                Some(Err(err)) => {
                    tracing::warn!(consumer = %durable, error = %err, "consumer error; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                None => break,
            },
        }
    }
    if !in_flight.is_empty() {
        tracing::info!(consumer = %durable, in_flight = in_flight.len(), "stopping: finishing in-flight messages");
    }
    while in_flight.next().await.is_some() {}
}
