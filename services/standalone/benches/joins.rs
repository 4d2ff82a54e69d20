//! Join storm benchmark (`make bench`): known members pressing Join on a live meeting.
//!
//! The whole standalone system runs in this process on its embedded defaults (SQLite, in-process
//! bus, memory cache) against the Discord and Kaltura emulators. A host starts a meeting with a
//! signed `/meeting start`; every member presses Join once (so they are known); then 64
//! concurrent connections press Join for a few seconds. Each click is a real signed interaction
//! (the Discord emulator's own payload for that member, signed with the application's key) posted
//! to `POST /interactions` and answered with a personal launch link.
//! Prints throughput and latency percentiles; fails under 2,000 joins/s, over 50 ms p99, or when
//! a known member's join reaches Kaltura.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer as _, SigningKey};
use kalcord_config::ConfigArgs;
use kalcord_discord::egress::{Egress, EgressConfig};
use kalcord_discord_emulator::{
    DiscordEmulator, EmulatorConfig, InteractionKind, InteractionSpec, MemberSeed, UserSeed, seed,
};
use kalcord_kaltura_emulator::{Emulator as KalturaEmulator, PartnerConfig};
use serde_json::{Value, json};

const MEMBERS: u64 = 500;
const FIRST_MEMBER: u64 = 1_284_000_000_000_100_000;
const CONNECTIONS: usize = 64;
const DURATION: Duration = Duration::from_secs(5);
const RATE_TARGET: f64 = 2_000.0;
const P99_TARGET: Duration = Duration::from_millis(50);
const PARTNER: i64 = 4_200_001;
const SECRET: &str = "0123456789abcdef0123456789abcdef";
const APP_KEY_SEED: [u8; 32] = [7; 32];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn join_click(message_id: u64, custom_id: &str, user_id: u64) -> InteractionSpec {
    InteractionSpec {
        kind: InteractionKind::Button { custom_id: custom_id.to_owned(), message_id },
        guild_id: Some(seed::GUILD_ID),
        channel_id: Some(seed::GENERAL_CHANNEL),
        user_id,
        locale: None,
    }
}

/// The launch URL of a Join answer, if it is one.
fn launch_url(answer: Option<&Value>) -> Option<String> {
    let data = &answer?["data"];
    data["components"].as_array()?.iter().find_map(|row| {
        row["components"].as_array()?.iter().find_map(|button| button["url"].as_str().map(str::to_owned))
    })
}

async fn kaltura_requests(kaltura: &str) -> usize {
    let requests: Value = reqwest::get(format!("{kaltura}/_emulator/requests")).await.unwrap().json().await.unwrap();
    requests.as_array().map_or(0, Vec::len)
}

#[allow(clippy::too_many_lines)]
fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let kaltura = KalturaEmulator::start(
            kalcord_kaltura_emulator::EmulatorConfig::default().with_partner(PartnerConfig::new(PARTNER, SECRET)),
        )
        .await
        .unwrap();
        let mut guild = seed::demo_guild();
        for n in 0..MEMBERS {
            guild = guild.with_member(MemberSeed::new(UserSeed::new(FIRST_MEMBER + n, &format!("member{n}"))));
        }
        let mut emulator_config = EmulatorConfig::default().with_guild(guild);
        emulator_config.application.signing_key_hex = Some(hex::encode(APP_KEY_SEED));
        let discord = DiscordEmulator::start(emulator_config).await.unwrap();
        let app = discord.application();

        let data = tempfile::tempdir().unwrap();
        let secrets = data.path().join("secrets.toml");
        std::fs::write(
            &secrets,
            format!("[discord]\nbot_token = \"{}\"\n[kaltura]\nadmin_secret = \"{SECRET}\"\n", app.bot_token),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let port = free_port();
        let args = ConfigArgs {
            config: None,
            set: vec![
                format!("store.url=sqlite://{}/bench.db", data.path().display()),
                format!("api_gateway.listen=127.0.0.1:{port}"),
                "admin.listen=127.0.0.1:0".to_owned(),
                "telemetry.log_filter=warn".to_owned(),
                format!("secrets.file={}", secrets.display()),
                format!("secrets.tenant_file={}", data.path().join("tenants.toml").display()),
                format!("discord.api_base={}", discord.api_authority()),
                format!("discord.application_id={}", app.id),
                format!("discord.public_key={}", app.public_key_hex),
                format!("kaltura.partner_id={PARTNER}"),
                format!("kaltura.service_url={}", kaltura.base_url()),
                format!("kaltura.kaf_url={}", kaltura.base_url()),
                "sandbox.discord=off".to_owned(),
                "sandbox.kaltura=off".to_owned(),
            ],
            help_config: false,
        };
        let stop = Arc::new(tokio::sync::Notify::new());
        let system = {
            let stop = Arc::clone(&stop);
            tokio::spawn(async move { kalcord_standalone::run(&args, async move { stop.notified().await }).await })
        };
        let api = format!("http://127.0.0.1:{port}");
        let probe = reqwest::Client::new();
        let started = Instant::now();
        while probe.get(format!("{api}/api/v1/status")).send().await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "kalcord did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        discord.state().set_interactions_url(Some(format!("{api}/interactions").parse().unwrap()));
        let egress = Egress::new(
            EgressConfig {
                api_base: Some(discord.api_authority()),
                application_id: app.id.parse().unwrap(),
                bot_token: kalcord_config::Secret::new(app.bot_token.clone()),
                global_per_second: 50,
                invalid_limit: 100,
                timeout: Duration::from_secs(5),
            },
            Arc::new(kalcord_cache::MemoryCache::new("bench", 100)),
        );
        let commands = serde_json::to_value(kalcord_discord::command::all()).unwrap();
        egress.overwrite_commands(Some(seed::GUILD_ID), &commands).await.unwrap();

        // The owner (Administrator: a host) starts the meeting.
        let start = InteractionSpec::command(
            seed::GUILD_ID,
            seed::OWNER_ID,
            "meeting",
            vec![json!({"type": 1, "name": "start", "options": [
                {"type": 3, "name": "title", "value": "Join storm"},
                {"type": 3, "name": "kind", "value": "meeting_room"}
            ]})],
        );
        let outcome = discord.state().send_interaction(&start).await.unwrap();
        let answer = outcome.json.clone().unwrap_or_default();
        let custom_id = answer["data"]["components"][0]["components"]
            .as_array()
            .and_then(|buttons| {
                buttons.iter().find_map(|b| b["custom_id"].as_str().filter(|id| id.contains("join")).map(str::to_owned))
            })
            .unwrap_or_else(|| panic!("/meeting start answered with a Join button: {answer:#}"));
        let message_id = discord
            .state()
            .messages()
            .into_iter()
            .rev()
            .find(|m| m.components.to_string().contains(&custom_id))
            .map(|m| m.message_id)
            .expect("the meeting post exists");

        // Every member joins once: from now on they are known. Their payloads are kept for the storm.
        let key = SigningKey::from_bytes(&APP_KEY_SEED);
        let timestamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
        let mut clicks = Vec::new();
        for n in 0..MEMBERS {
            let outcome =
                discord.state().send_interaction(&join_click(message_id, &custom_id, FIRST_MEMBER + n)).await.unwrap();
            assert!(launch_url(outcome.json.as_ref()).is_some(), "a first join gives a link: {:?}", outcome.json);
            let body = serde_json::to_vec(&outcome.payload).unwrap();
            let mut signed = timestamp.as_bytes().to_vec();
            signed.extend_from_slice(&body);
            clicks.push((body, hex::encode(key.sign(&signed).to_bytes())));
        }
        let clicks = Arc::new(clicks);
        let kaltura_before = kaltura_requests(&kaltura.base_url()).await;

        let client = reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build().unwrap();
        let url = format!("{api}/interactions");
        let next = Arc::new(AtomicU64::new(0));
        let failures = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + DURATION;
        let measured = Instant::now();
        let workers = (0..CONNECTIONS).map(|_| {
            let (client, url, timestamp, clicks, next, failures) = (
                client.clone(),
                url.clone(),
                timestamp.clone(),
                Arc::clone(&clicks),
                Arc::clone(&next),
                Arc::clone(&failures),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let n = usize::try_from(next.fetch_add(1, Ordering::Relaxed) % MEMBERS).unwrap();
                    let (body, signature) = &clicks[n];
                    let started = Instant::now();
                    let answer = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("X-Signature-Ed25519", signature)
                        .header("X-Signature-Timestamp", &timestamp)
                        .body(body.clone())
                        .send()
                        .await;
                    let answer = match answer {
                        Ok(response) => response.json::<Value>().await.ok(),
                        Err(_) => None,
                    };
                    let elapsed = started.elapsed();
                    if launch_url(answer.as_ref()).is_some() {
                        latencies.push(elapsed);
                    } else {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies
            })
        });
        // NOTE: collected first, so every connection runs at once (a lazy map would run them one by one).
        let workers: Vec<_> = workers.collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await.unwrap());
        }
        let seconds = measured.elapsed().as_secs_f64();
        all.sort_unstable();
        let rate = all.len() as f64 / seconds;
        let (p50, p99, max) = (percentile(&all, 0.50), percentile(&all, 0.99), all[all.len() - 1]);
        let kaltura_calls = kaltura_requests(&kaltura.base_url()).await - kaltura_before;
        let failed = failures.load(Ordering::Relaxed);
        let mut out = std::io::stdout();
        writeln!(
            out,
            "joins (known members, standalone, {CONNECTIONS} concurrent): {} in {seconds:.1} s = {rate:.0}/s, \
             p50 {p50:?}, p99 {p99:?}, max {max:?}, failed {failed}, Kaltura requests {kaltura_calls}",
            all.len()
        )
        .unwrap();
        assert_eq!(failed, 0, "every join got a link");
        assert_eq!(kaltura_calls, 0, "known members' joins never reach Kaltura");
        assert!(rate >= RATE_TARGET, "{rate:.0} joins/s is under the {RATE_TARGET} target");
        assert!(p99 <= P99_TARGET, "p99 {p99:?} is over the {P99_TARGET:?} target");

        stop.notify_one();
        system.await.unwrap().unwrap();
        discord.stop().await;
        kaltura.stop().await;
    });
}
