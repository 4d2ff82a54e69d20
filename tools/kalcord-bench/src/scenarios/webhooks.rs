//! Kaltura webhook ingestion: signed notifications into the api-gateway, stored in JetStream.

use std::collections::HashSet;
use std::time::Duration;

use kalcord_bus::ConsumerSpec;
use kalcord_loadgen::{Mode, status_is, webhooks};
use kalcord_test_util::distributed::DistributedEnv;

use super::{Ctx, load, nats_bus, run_line};
use crate::procs::{self, Stats as _};
use crate::report::{Section, median, ms, thousands};

const PARTNER: i64 = 4_200_001;
const SECRET: &str = "0123456789abcdef0123456789abcdef";
const CONNECTIONS: usize = 64;

/// Runs the scenario.
///
/// # Errors
///
/// When the api-gateway or NATS does not start.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Section> {
    let duration = ctx.pick(Duration::from_secs(5), Duration::from_secs(1));
    let per_run: i64 = ctx.pick(80_000, 5_000);
    let env = DistributedEnv::new(true).await?;
    let mut vars = env.vars();
    vars.extend(
        [
            ("KALCORD_KALTURA_PARTNER_ID", PARTNER.to_string()),
            ("KALCORD_KALTURA_ADMIN_SECRET", SECRET.to_owned()),
            ("KALCORD_KALTURA_SERVICE_URL", "http://127.0.0.1:9".to_owned()),
            ("KALCORD_API_GATEWAY_WORKERS", "1".to_owned()),
            ("KALCORD_TELEMETRY_LOG_FILTER", "warn".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let gateway = procs::start("kalcord-api-gateway", &[], &vars, ctx.cores, "admin", None).await?;
    let url = format!("{}/webhooks/kaltura/default", gateway.url("api"));
    let mut section = Section::new(
        "Kaltura webhook ingestion",
        format!(
            "Signed `KalturaHttpNotification`s (JSON, entry READY, SHA-256 `X-KALTURA-SIGNATURE`, each with its own \
             dispatch job id) posted by `kalcord-loadgen` over {CONNECTIONS} connections (closed loop, up to \
             {duration:?} or {} notifications per run, {} run(s)) to `POST /webhooks/kaltura/default` of the \
             `kalcord-api-gateway` binary (server core, one worker), which answers 200 only once JetStream on the \
             machine's NATS has stored the notification. Afterwards a consumer reads the stream back and every \
             answered notification must be there once.",
            thousands(per_run as f64),
            ctx.runs
        ),
    );
    let warm: Vec<_> = (1..=500).map(|job| webhooks::entry_ready(PARTNER, job, SECRET)).collect();
    let report = load(&url, Mode::Closed { connections: CONNECTIONS }, duration, warm, true, status_is(200)).await?;
    let mut stored = report.ok;
    let (mut rates, mut p99s) = (Vec::new(), Vec::new());
    for run in 0..ctx.runs {
        let first = 1_000 + i64::try_from(run)? * per_run;
        let requests: Vec<_> =
            (first..first + per_run).map(|job| webhooks::entry_ready(PARTNER, job, SECRET)).collect();
        let cpu = gateway.cpu_seconds();
        let report =
            load(&url, Mode::Closed { connections: CONNECTIONS }, duration, requests, true, status_is(200)).await?;
        let per_request = (gateway.cpu_seconds() - cpu) / report.ok.max(1) as f64 * 1e6;
        section.runs.push(format!(
            "run {} {}; api-gateway CPU {per_request:.1} µs/notification",
            run + 1,
            run_line("webhooks", &report)
        ));
        section.check(
            report.failed() == 0,
            format!("run {}: every notification stored ({} failed)", run + 1, report.failed()),
        );
        stored += report.ok;
        rates.push(report.throughput);
        p99s.push(report.latency.p99_ms);
    }

    let bus = nats_bus(env.prefix(), "webhook-bench").await?;
    let mut spec = ConsumerSpec::new("KALTURA_WEBHOOKS", "bench", kalcord_proto::subject::KALTURA_WEBHOOKS);
    spec.max_in_flight = 4_096;
    let mut consumer = bus.consume(&spec).await?;
    let (mut seen, mut total) = (HashSet::new(), 0u64);
    while let Ok(Some(Ok(delivery))) = tokio::time::timeout(Duration::from_secs(2), consumer.next()).await {
        total += 1;
        seen.insert(delivery.message.payload.to_vec());
        let _ = delivery.ack().await;
    }
    section
        .runs
        .push(format!("read back: {total} stored notifications, {} distinct, {stored} answered 200", seen.len()));
    section.check(
        total == stored && seen.len() as u64 == stored,
        format!("{stored} answered 200 but {total} stored ({} distinct)", seen.len()),
    );
    let _ = bus.close().await;

    section.info(
        "Kaltura webhook ingestion, stored in JetStream before the 200".to_owned(),
        format!("{}/s; p99 {}", thousands(median(&rates)), ms(median(&p99s))),
    );
    procs::stop(gateway).await;
    let _ = env.cleanup().await;
    Ok(section)
}
