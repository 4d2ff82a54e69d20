//! The bus contract: every test runs against the in-process bus and against NATS JetStream.

use std::time::Duration;

use kalcord_bus::{
    BusError, ConsumerSpec, Delivery, Event, HEADER_DLQ_ATTEMPTS, HEADER_DLQ_CONSUMER, HEADER_DLQ_SUBJECT, Message,
};
use kalcord_telemetry::propagation::trace_id;
use tracing::Instrument as _;

use super::common::{Backend, Harness, contract};

const STREAM: &str = "MEETINGS_EVENTS";
const WAIT: Duration = Duration::from_secs(10);

contract!(
    every_event_is_delivered_in_order,
    unacked_delivery_comes_back_to_a_new_consumer,
    nak_redelivers_at_once,
    duplicate_dedup_id_is_stored_once,
    a_batch_is_stored_in_order_without_duplicates,
    dead_letter_after_max_deliveries,
    acked_message_is_not_redelivered,
    request_reply_round_trip,
    request_times_out_with_a_typed_error,
    request_without_server_has_no_responders,
    trace_context_crosses_publish_and_request,
    shutdown_finishes_in_flight_and_leaves_the_rest,
);

fn spec(durable: &str, ack_wait: Duration, max_deliveries: u32) -> ConsumerSpec {
    let mut spec = ConsumerSpec::new(STREAM, durable, "meetings.events.>");
    spec.ack_wait = ack_wait;
    spec.max_deliveries = max_deliveries;
    spec
}

async fn next(consumer: &mut kalcord_bus::Consumer) -> Delivery {
    tokio::time::timeout(WAIT, consumer.next()).await.expect("no delivery in time").expect("bus closed").unwrap()
}

async fn nothing_within(consumer: &mut kalcord_bus::Consumer, wait: Duration) {
    if let Ok(Some(delivery)) = tokio::time::timeout(wait, consumer.next()).await {
        panic!("unexpected delivery {delivery:?}");
    }
}

async fn publish(h: &Harness, subject: &str, dedup: &str, body: &str) -> kalcord_bus::PublishAck {
    h.bus.publish(Event::new(subject, dedup, body.as_bytes().to_vec())).await.unwrap()
}

async fn every_event_is_delivered_in_order(backend: Backend) {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new(backend).await;
    for n in 1..=3 {
        publish(&h, &format!("meetings.events.e{n}"), &format!("id-{n}"), &format!("body-{n}")).await;
    }
    let mut consumer = h.bus.consume(&spec("in-order", Duration::from_secs(30), 5)).await.unwrap();
    for n in 1..=3 {
        let delivery = next(&mut consumer).await;
        assert_eq!(delivery.subject, format!("meetings.events.e{n}"));
        assert_eq!(delivery.message.payload, format!("body-{n}").into_bytes());
        assert_eq!(delivery.attempt, 1);
        delivery.ack().await.unwrap();
    }
    h.cleanup().await;
}

async fn unacked_delivery_comes_back_to_a_new_consumer(backend: Backend) {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new(backend).await;
    publish(&h, "meetings.events.crash", "crash-1", "payload").await;
    let spec = spec("crashy", Duration::from_secs(1), 5);
    {
        let mut doomed = h.bus.consume(&spec).await.unwrap();
        let first = next(&mut doomed).await;
        assert_eq!(first.attempt, 1);
        // NOTE: the consumer "crashes": the delivery and the consumer go away without an ack.
    }
    let mut survivor = h.bus.consume(&spec).await.unwrap();
    let again = next(&mut survivor).await;
    assert_eq!((again.subject.as_str(), again.attempt), ("meetings.events.crash", 2));
    assert_eq!(again.message.payload, b"payload".to_vec());
    again.ack().await.unwrap();
    h.cleanup().await;
}

async fn nak_redelivers_at_once(backend: Backend) {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new(backend).await;
    let ack = publish(&h, "meetings.events.retry", "retry-1", "x").await;
    let mut consumer = h.bus.consume(&spec("nak", Duration::from_secs(30), 5)).await.unwrap();
    let first = next(&mut consumer).await;
    first.nak(None).await.unwrap();
    let second = next(&mut consumer).await;
    assert_eq!((second.sequence, second.attempt), (ack.sequence, 2));
    second.ack().await.unwrap();
    h.cleanup().await;
}

async fn duplicate_dedup_id_is_stored_once(backend: Backend) {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new(backend).await;
    let first = publish(&h, "meetings.events.started", "meeting-42-started", "one").await;
    let second = publish(&h, "meetings.events.started", "meeting-42-started", "two").await;
    assert!(!first.duplicate);
    assert!(second.duplicate);
    assert_eq!(first.sequence, second.sequence);
    let other = publish(&h, "meetings.events.started", "meeting-43-started", "three").await;
    assert!(!other.duplicate);
    let mut consumer = h.bus.consume(&spec("dedup", Duration::from_secs(30), 5)).await.unwrap();
    let only = next(&mut consumer).await;
    assert_eq!(only.message.payload, b"one".to_vec());
    only.ack().await.unwrap();
    let third = next(&mut consumer).await;
    assert_eq!(third.message.payload, b"three".to_vec());
    third.ack().await.unwrap();
    nothing_within(&mut consumer, Duration::from_millis(500)).await;
    h.cleanup().await;
}

async fn a_batch_is_stored_in_order_without_duplicates(backend: Backend) {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new(backend).await;
    let event =
        |n: u32, dedup: &str| Event::new(format!("meetings.events.b{n}"), dedup, format!("body-{n}").into_bytes());
    let first = h.bus.publish_batch((1..=50).map(|n| event(n, &format!("batch-{n}"))).collect()).await;
    assert_eq!(first.len(), 50);
    assert!(first.iter().all(|ack| ack.as_ref().is_ok_and(|ack| !ack.duplicate)));
    // A replayed suffix plus new events: the replay is acknowledged as duplicates.
    let second = h.bus.publish_batch((41..=60).map(|n| event(n, &format!("batch-{n}"))).collect()).await;
    let duplicates: Vec<bool> = second.iter().map(|ack| ack.as_ref().unwrap().duplicate).collect();
    assert_eq!(duplicates, (41..=60).map(|n| n <= 50).collect::<Vec<_>>());
    let mut consumer = h.bus.consume(&spec("batch", Duration::from_secs(30), 5)).await.unwrap();
    for n in 1..=60 {
        let delivery = next(&mut consumer).await;
        assert_eq!(delivery.subject, format!("meetings.events.b{n}"), "in publish order, once each");
        delivery.ack().await.unwrap();
    }
    nothing_within(&mut consumer, Duration::from_millis(300)).await;
    h.cleanup().await;
}

async fn dead_letter_after_max_deliveries(backend: Backend) {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new(backend).await;
    publish(&h, "meetings.events.poison", "poison-1", "bad").await;
    publish(&h, "meetings.events.fine", "fine-1", "good").await;
    let mut consumer = h.bus.consume(&spec("poisoned", Duration::from_secs(30), 2)).await.unwrap();
    let mut handled = Vec::new();
    while handled.iter().filter(|(subject, _)| subject == "meetings.events.poison").count() < 2
        || !handled.iter().any(|(subject, _)| subject == "meetings.events.fine")
    {
        let delivery = next(&mut consumer).await;
        handled.push((delivery.subject.clone(), delivery.attempt));
        if delivery.subject == "meetings.events.poison" {
            delivery.nak(None).await.unwrap();
        } else {
            delivery.ack().await.unwrap();
        }
    }
    nothing_within(&mut consumer, Duration::from_millis(700)).await;
    let poison: Vec<u32> = handled
        .iter()
        .filter(|(subject, _)| subject == "meetings.events.poison")
        .map(|(_, attempt)| *attempt)
        .collect();
    assert_eq!(poison, [1, 2], "the handler sees the poison message max_deliveries times");

    let mut dlq = h.bus.consume(&ConsumerSpec::new("DEAD_LETTER", "dlq-reader", "dlq.>")).await.unwrap();
    let dead = next(&mut dlq).await;
    assert_eq!(dead.subject, "dlq.meetings.events.poison");
    assert_eq!(dead.message.payload, b"bad".to_vec());
    assert_eq!(dead.message.headers[HEADER_DLQ_SUBJECT], "meetings.events.poison");
    assert_eq!(dead.message.headers[HEADER_DLQ_CONSUMER], "MEETINGS_EVENTS/poisoned");
    assert_eq!(dead.message.headers[HEADER_DLQ_ATTEMPTS], "2");
    dead.ack().await.unwrap();
    nothing_within(&mut dlq, Duration::from_millis(300)).await;
    h.cleanup().await;
}

async fn acked_message_is_not_redelivered(backend: Backend) {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new(backend).await;
    publish(&h, "meetings.events.once", "once-1", "x").await;
    let spec = spec("acker", Duration::from_millis(500), 5);
    let mut consumer = h.bus.consume(&spec).await.unwrap();
    next(&mut consumer).await.ack().await.unwrap();
    nothing_within(&mut consumer, Duration::from_millis(1500)).await;
    drop(consumer);
    let mut rebound = h.bus.consume(&spec).await.unwrap();
    nothing_within(&mut rebound, Duration::from_millis(700)).await;
    h.cleanup().await;
}

async fn request_reply_round_trip(backend: Backend) {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new(backend).await;
    let mut requests = h.bus.serve("identity.echo", "identity").await.unwrap();
    let server = tokio::spawn(async move {
        for _ in 0..2 {
            let request = requests.next().await.unwrap();
            let mut body = request.message.payload.to_vec();
            body.extend_from_slice(b"-pong");
            request.respond(Message::new(body).with_header("served-by", "echo")).await.unwrap();
        }
    });
    for n in 0..2 {
        let reply = h.bus.request("identity.echo", Message::new(format!("ping{n}").into_bytes()), WAIT).await.unwrap();
        assert_eq!(reply.payload, format!("ping{n}-pong").into_bytes());
        assert_eq!(reply.headers["served-by"], "echo");
    }
    server.await.unwrap();
    h.cleanup().await;
}

async fn request_times_out_with_a_typed_error(backend: Backend) {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new(backend).await;
    let mut requests = h.bus.serve("meetings.slow", "meetings").await.unwrap();
    let server = tokio::spawn(async move {
        let request = requests.next().await.unwrap();
        tokio::time::sleep(Duration::from_millis(800)).await;
        drop(request);
    });
    let err = h.bus.request("meetings.slow", Message::new(&b"?"[..]), Duration::from_millis(200)).await.unwrap_err();
    assert!(
        matches!(&err, BusError::Timeout { subject, after } if subject == "meetings.slow" && *after == Duration::from_millis(200)),
        "{err:?}"
    );
    server.await.unwrap();
    h.cleanup().await;
}

async fn request_without_server_has_no_responders(backend: Backend) {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new(backend).await;
    let err = h.bus.request("nobody.home", Message::default(), Duration::from_secs(2)).await.unwrap_err();
    assert!(matches!(&err, BusError::NoResponders { subject } if subject == "nobody.home"), "{err:?}");
    h.cleanup().await;
}

async fn trace_context_crosses_publish_and_request(backend: Backend) {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new(backend).await;
    let bus = h.shared();
    let mut requests = h.bus.serve("interactions.traced", "interactions").await.unwrap();
    let server = tokio::spawn(async move {
        let request = requests.next().await.unwrap();
        let span = tracing::info_span!("serve_traced");
        request.message.follow(&span);
        let seen = trace_id(&span).unwrap();
        request.respond(Message::new(seen.into_bytes())).instrument(span).await.unwrap();
    });

    let origin = tracing::info_span!("edge_request");
    let origin_trace = trace_id(&origin).expect("test subscriber gives spans a context");
    let reply = async {
        bus.publish(Event::new("meetings.events.traced", "traced-1", b"t".to_vec())).await.unwrap();
        bus.request("interactions.traced", Message::default(), WAIT).await.unwrap()
    }
    .instrument(origin)
    .await;
    assert_eq!(String::from_utf8(reply.payload.to_vec()).unwrap(), origin_trace, "request hop lost the trace");
    server.await.unwrap();

    let mut consumer = h.bus.consume(&spec("traced", Duration::from_secs(30), 5)).await.unwrap();
    let delivery = next(&mut consumer).await;
    assert!(delivery.message.headers.contains_key("traceparent"));
    let handler = tracing::info_span!("handle_traced");
    delivery.message.follow(&handler);
    assert_eq!(trace_id(&handler).as_deref(), Some(origin_trace.as_str()), "event hop lost the trace");
    delivery.ack().await.unwrap();
    h.cleanup().await;
}

async fn shutdown_finishes_in_flight_and_leaves_the_rest(backend: Backend) {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new(backend).await;
    for n in 1..=3 {
        publish(&h, &format!("meetings.events.job{n}"), &format!("job-{n}"), "work").await;
    }
    let spec = spec("graceful", Duration::from_secs(1), 5);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    let finished = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    let worker = {
        let (consumer, shutdown, finished) = (h.bus.consume(&spec).await.unwrap(), shutdown.clone(), finished.clone());
        tokio::spawn(kalcord_bus::worker::drive(consumer, shutdown, 1, move |delivery| {
            let (started_tx, finished) = (started_tx.clone(), finished.clone());
            async move {
                started_tx.send(delivery.subject.clone()).unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;
                finished.lock().push(delivery.subject.clone());
                delivery.ack().await.unwrap();
            }
        }))
    };
    let first = started.recv().await.unwrap();
    shutdown.cancel();
    tokio::time::timeout(WAIT, worker).await.expect("worker stops").unwrap();
    assert_eq!(
        finished.lock().as_slice(),
        std::slice::from_ref(&first),
        "the in-flight message is finished, nothing new is taken"
    );

    let mut rest = Vec::new();
    let mut after = h.bus.consume(&spec).await.unwrap();
    while rest.len() < 2 {
        let delivery = next(&mut after).await;
        assert_ne!(delivery.subject, first, "a finished message is not delivered again");
        rest.push(delivery.subject.clone());
        delivery.ack().await.unwrap();
    }
    rest.sort();
    assert_eq!(rest.len(), 2);
    h.cleanup().await;
}
