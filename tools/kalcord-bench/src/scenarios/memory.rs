//! Memory: the standalone process on `make run`'s defaults, and every distributed service,
//! idle and after load.

use std::time::Duration;

use kalcord_discord_emulator::{
    DiscordEmulator, EmulatorConfig, InteractionKind, InteractionSpec, MemberSeed, UserSeed, seed,
};
use kalcord_kaltura_emulator::{Emulator as KalturaEmulator, PartnerConfig};
use kalcord_loadgen::Mode;
use kalcord_loadgen::interactions::{self, Signer};
use kalcord_test_util::distributed::DistributedEnv;
use serde_json::json;

use super::{Ctx, load, run_line};
use crate::procs::{Cores, Proc, binary};
use crate::report::{Section, thousands};

const SERVICES: [&str; 6] = ["api-gateway", "interactions", "identity", "meetings", "notifications", "gateway-shard"];
const STANDALONE_TARGET_MIB: f64 = 60.0;
const SERVICE_TARGET_MIB: f64 = 30.0;
const PARTNER: i64 = 4_300_001;
const SECRET: &str = "fedcba9876543210fedcba9876543210";
const KEY: [u8; 32] = [5; 32];
const FIRST_MEMBER: u64 = 1_284_000_000_002_000_000;
/// How long a process is left alone before its idle RSS is read.
const SETTLE: Duration = Duration::from_secs(5);

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `make run`: the standalone binary with nothing configured (SQLite, in-process bus, the
/// built-in Discord and Kaltura sandboxes).
async fn standalone(ctx: &Ctx, section: &mut Section) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let env = vec![
        ("KALCORD_API_GATEWAY_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_ADMIN_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
    ];
    let kalcord = Proc::start_in(Some(dir.path()), &binary("kalcord")?, &[], &env, ctx.cores, "admin").await?;
    kalcord.wait_ready().await?;
    tokio::time::sleep(SETTLE).await;
    let idle = mib(kalcord.rss_kib());
    section.runs.push(format!("standalone (`make run` defaults, sandboxes inside): {idle:.1} MiB RSS idle"));
    section.at_most(
        "Standalone process idle (`make run`: SQLite, in-process bus, built-in Discord and Kaltura sandboxes)"
            .to_owned(),
        format!("{idle:.1} MiB"),
        idle,
        STANDALONE_TARGET_MIB,
        " MiB",
        ctx.judge(),
    );
    kalcord.stop().await;
    Ok(())
}

/// Every service its own process on PostgreSQL, NATS JetStream and Redis.
#[allow(clippy::too_many_lines)]
async fn distributed(ctx: &Ctx, section: &mut Section) -> anyhow::Result<()> {
    let members: u64 = ctx.pick(2_000, 200);
    let kaltura = KalturaEmulator::start(
        kalcord_kaltura_emulator::EmulatorConfig::default().with_partner(PartnerConfig::new(PARTNER, SECRET)),
    )
    .await?;
    let mut guild = seed::demo_guild();
    for n in 0..members {
        guild = guild.with_member(MemberSeed::new(UserSeed::new(FIRST_MEMBER + n, &format!("member{n}"))));
    }
    let mut config = EmulatorConfig::default().with_guild(guild);
    config.application.signing_key_hex = Some(hex::encode(KEY));
    config.gateway.replay_capacity = 50_000;
    let discord = DiscordEmulator::start(config).await?;
    let app = discord.application();
    let env = DistributedEnv::new(true).await?;
    let data = tempfile::tempdir()?;
    let mut vars = env.vars();
    vars.extend(
        [
            ("KALCORD_DISCORD_API_BASE", discord.api_authority()),
            ("KALCORD_DISCORD_APPLICATION_ID", app.id.clone()),
            ("KALCORD_DISCORD_PUBLIC_KEY", app.public_key_hex.clone()),
            ("KALCORD_DISCORD_BOT_TOKEN", app.bot_token.clone()),
            ("KALCORD_KALTURA_PARTNER_ID", PARTNER.to_string()),
            ("KALCORD_KALTURA_ADMIN_SECRET", SECRET.to_owned()),
            ("KALCORD_KALTURA_SERVICE_URL", kaltura.base_url()),
            ("KALCORD_KALTURA_KAF_URL", kaltura.base_url()),
            ("KALCORD_TELEMETRY_LOG_FILTER", "warn".to_owned()),
            ("KALCORD_SECRETS_TENANT_FILE", format!("{}/tenants.toml", data.path().display())),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    // NOTE: memory does not depend on placement; the services share every CPU here.
    let unpinned = Cores { server: None, pinned: false };
    let mut processes = Vec::new();
    for service in SERVICES {
        processes.push(Proc::start(&binary(&format!("kalcord-{service}"))?, &[], &vars, unpinned, "admin").await?);
    }
    for process in &processes {
        process.wait_ready().await?;
    }
    tokio::time::sleep(SETTLE).await;
    let idle: Vec<f64> = processes.iter().map(|process| mib(process.rss_kib())).collect();

    // Load: a live meeting, every member joining twice (new, then known), and a burst of
    // member updates through the gateway.
    let api = processes[0].url("api")?.to_owned();
    discord.state().set_interactions_url(Some(format!("{api}/interactions").parse()?));
    let egress = kalcord_discord::egress::Egress::new(
        kalcord_discord::egress::EgressConfig {
            api_base: Some(discord.api_authority()),
            application_id: app.id.parse()?,
            bot_token: kalcord_config::Secret::new(app.bot_token.clone()),
            global_per_second: 50,
            invalid_limit: 100,
            timeout: Duration::from_secs(5),
        },
        std::sync::Arc::new(kalcord_cache::MemoryCache::new("bench", 100)),
    );
    egress.overwrite_commands(Some(seed::GUILD_ID), &serde_json::to_value(kalcord_discord::command::all())?).await?;
    let start = InteractionSpec::command(
        seed::GUILD_ID,
        seed::OWNER_ID,
        "meeting",
        vec![json!({"type": 1, "name": "start", "options": [
            {"type": 3, "name": "title", "value": "Memory"}, {"type": 3, "name": "kind", "value": "meeting_room"}
        ]})],
    )
    .in_channel(seed::GENERAL_CHANNEL);
    let outcome = discord.state().send_interaction(&start).await?;
    let answer = outcome.json.clone().unwrap_or_default();
    let custom_id = answer["data"]["components"][0]["components"]
        .as_array()
        .and_then(|buttons| {
            buttons.iter().find_map(|b| b["custom_id"].as_str().filter(|id| id.contains("join")).map(str::to_owned))
        })
        .ok_or_else(|| anyhow::anyhow!("/meeting start answered without a Join button: {answer}"))?;
    let message_id = discord
        .state()
        .messages()
        .into_iter()
        .rev()
        .find(|m| m.components.to_string().contains(&custom_id))
        .map(|m| m.message_id)
        .ok_or_else(|| anyhow::anyhow!("the meeting post is missing"))?;
    let signer = Signer::new(KEY);
    let rate: f64 = ctx.pick(400.0, 200.0);
    for label in ["new members", "known members"] {
        let mut requests = Vec::new();
        for user in FIRST_MEMBER..FIRST_MEMBER + members {
            let spec = InteractionSpec {
                kind: InteractionKind::Button { custom_id: custom_id.clone(), message_id },
                guild_id: Some(seed::GUILD_ID),
                channel_id: Some(seed::GENERAL_CHANNEL),
                user_id: user,
                locale: None,
            };
            requests.push(signer.sign(&discord.state().build_interaction(&spec)?));
        }
        let duration = Duration::from_secs_f64(members as f64 / rate);
        let report = load(
            &format!("{api}/interactions"),
            Mode::Open { rate, connections: 256 },
            duration,
            requests,
            true,
            interactions::launch_link(),
        )
        .await?;
        section.runs.push(format!("distributed load, {}", run_line(label, &report)));
        section.check(report.failed() == 0, format!("distributed joins by {label}: {} failed", report.failed()));
    }
    let updates: usize = ctx.pick(20_000, 2_000);
    discord.state().emit_member_updates(seed::GUILD_ID, updates)?;
    tokio::time::sleep(Duration::from_secs(3)).await;

    for ((service, process), idle) in SERVICES.iter().zip(&processes).zip(idle) {
        let (now, peak) = (mib(process.rss_kib()), mib(process.peak_kib()));
        section.runs.push(format!("{service}: {idle:.1} MiB idle, {now:.1} MiB after load, peak {peak:.1} MiB"));
        section.at_most(
            format!("{service} idle (distributed) → peak under load"),
            format!("{idle:.1} MiB → {peak:.1} MiB"),
            idle,
            SERVICE_TARGET_MIB,
            " MiB idle",
            ctx.judge(),
        );
    }
    for process in processes {
        process.stop().await;
    }
    let _ = env.cleanup().await;
    discord.stop().await;
    kaltura.stop().await;
    section.runs.push(format!(
        "distributed load: {} members joined twice over the api-gateway at {}/s, then {} GUILD_MEMBER_UPDATE dispatches",
        thousands(members as f64),
        thousands(rate),
        thousands(updates as f64)
    ));
    Ok(())
}

/// Runs the scenario.
///
/// # Errors
///
/// When a process does not start.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Section> {
    let mut section = Section::new(
        "Memory",
        format!(
            "Resident set size (`VmRSS` of `/proc/PID/status`) of release binaries, read after {SETTLE:?} idle once \
             ready, and their peak (`VmHWM`) after load. Standalone: the `kalcord` binary with nothing configured, \
             as `make run` starts it (SQLite, in-process bus, the built-in Discord and Kaltura sandboxes inside the \
             process). Distributed: the six service binaries on PostgreSQL, NATS JetStream and Redis with the \
             emulators in the benchmark process; the load is every member of a guild pressing Join twice through \
             the api-gateway and a burst of member updates through the gateway shard."
        ),
    );
    standalone(ctx, &mut section).await?;
    distributed(ctx, &mut section).await?;
    Ok(section)
}
