//! `/kaltura status` checks the bot's permissions in the notification channel, overwrites
//! applied. Discord is a small HTTP stand-in answering by path; identity is a stand-in.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kalcord_bus::{BusError, MemoryBus, Message, SharedBus};
use kalcord_interactions::{Config, Interactions, SUBJECT, handlers};
use kalcord_proto::Message as _;
use kalcord_proto::subject;
use kalcord_proto::v1::{InteractionReply, InteractionRequest, TenantReply, TenantSummary};
use kalcord_runtime::{CancellationToken, CommonConfig, Deps, Service as _};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const APPLICATION: u64 = 1_573_913_297_667_883_008;
const GUILD: u64 = 1_284_000_000_000_000_001;
const CHANNEL: u64 = 1_284_000_000_000_000_201;
const NOTIFY: u64 = 1_284_000_000_000_000_202;
const USER: u64 = 1_284_000_000_000_000_302;
const BOT: u64 = 1_284_000_000_000_000_303;
const BOT_ROLE: u64 = 1_284_000_000_000_000_401;
const OWNER: u64 = 1_284_000_000_000_000_304;

/// What the stand-in answers for a request path: status and JSON body.
type Answer = fn(&str) -> (u16, Value);

/// A healthy server where the notification channel's `@everyone` overwrite denies Embed Links
/// and a role overwrite of the bot's role re-allows Send Messages only.
fn embed_links_denied(path: &str) -> (u16, Value) {
    let bot_bits = (1u64 << 10) | (1 << 11) | (1 << 14) | (1 << 33) | (1 << 44);
    if path.ends_with("/users/@me") {
        (200, json!({"id": BOT.to_string(), "username": "kalcord", "bot": true}))
    } else if path.ends_with(&format!("/guilds/{GUILD}/members/{BOT}")) {
        (200, json!({"roles": [BOT_ROLE.to_string()], "user": {"id": BOT.to_string()}}))
    } else if path.ends_with(&format!("/guilds/{GUILD}")) {
        (
            200,
            json!({"id": GUILD.to_string(), "owner_id": OWNER.to_string(), "roles": [
                {"id": GUILD.to_string(), "permissions": "3072"},
                {"id": BOT_ROLE.to_string(), "permissions": bot_bits.to_string()}
            ]}),
        )
    } else if path.ends_with(&format!("/channels/{NOTIFY}")) {
        (
            200,
            json!({"id": NOTIFY.to_string(), "type": 0, "permission_overwrites": [
                {"id": GUILD.to_string(), "type": 0, "allow": "0", "deny": ((1u64 << 14) | (1 << 11)).to_string()},
                {"id": BOT_ROLE.to_string(), "type": 0, "allow": (1u64 << 11).to_string(), "deny": "0"}
            ]}),
        )
    } else {
        (404, json!({"message": "Unknown", "code": 0}))
    }
}

/// Discord refusing everything.
fn refusing(_: &str) -> (u16, Value) {
    (403, json!({"message": "Missing Access", "code": 50001}))
}

async fn discord(answer: Answer) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let authority = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let path = line.split_whitespace().nth(1).unwrap_or_default().to_owned();
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).await.unwrap();
                    let header = header.trim();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).await.unwrap();
                let (status, answer) = answer(&path);
                let answer = answer.to_string();
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = reader.get_mut().write_all(response.as_bytes()).await;
            });
        }
    });
    authority
}

/// Runs interactions against the stand-in and answers `/kaltura status` as a server manager.
async fn status(answer: Answer) -> Value {
    kalcord_test_util::install_crypto();
    let authority = discord(answer).await;
    let bus: SharedBus = Arc::new(MemoryBus::new(""));
    let mut requests = bus.serve(subject::IDENTITY_TENANT, "test").await.unwrap();
    tokio::spawn(async move {
        let tenant = TenantSummary { configured: true, notification_channel_id: NOTIFY, ..TenantSummary::default() };
        let reply = TenantReply { tenant: Some(tenant), error: None }.encode_to_vec();
        while let Some(request) = requests.next().await {
            request.respond(Message::new(reply.clone())).await.unwrap();
        }
    });
    let mut common = CommonConfig::defaults();
    common.discord.api_base = Some(authority);
    common.discord.application_id = Some(APPLICATION);
    common.discord.bot_token = Some(kalcord_config::Secret::new("bot-token".to_owned()));
    let cache: kalcord_cache::SharedCache = Arc::new(kalcord_cache::MemoryCache::new("status", 100));
    let deps = Deps {
        bus: Arc::clone(&bus),
        cache: Some(cache),
        common: Arc::new(common),
        instance: "test".into(),
        started: Instant::now(),
        store: None,
    };
    let config =
        Config { answer_margin: Duration::from_millis(500), max_in_flight: 16, rest_timeout: Duration::from_secs(5) };
    let shutdown = CancellationToken::new();
    tokio::spawn(Interactions::with_registry(config, deps, handlers::registry()).run(shutdown.clone()));
    let payload = json!({
        "app_permissions": "18153018084417", "application_id": APPLICATION.to_string(), "attachment_size_limit": 8_388_608,
        "authorizing_integration_owners": {"0": GUILD.to_string()},
        "channel": {"id": CHANNEL.to_string(), "type": 0, "guild_id": GUILD.to_string(), "name": "general", "nsfw": false, "position": 0, "flags": 0},
        "channel_id": CHANNEL.to_string(), "context": 0, "entitlements": [], "guild_id": GUILD.to_string(),
        "id": "1573913314478653440", "locale": "en-US", "token": "aW50ZXJhY3Rpb24", "type": 2, "version": 1,
        "data": {"id": "1", "name": "kaltura", "type": 1, "options": [{"name": "status", "type": 1, "options": []}]},
        "member": {"deaf": false, "flags": 0, "joined_at": "2026-11-22T04:09:32.059000+00:00", "mute": false, "pending": false,
            "permissions": "32", "roles": [], "user": {"avatar": null, "discriminator": "0", "global_name": null, "id": USER.to_string(), "username": "ada"}}
    });
    let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap();
    let request = InteractionRequest {
        body: serde_json::to_vec(&payload).unwrap(),
        received_at_unix_ms: now,
        deadline_unix_ms: now + 2500,
    };
    let started = Instant::now();
    let response = loop {
        match bus.request(SUBJECT, Message::new(request.encode_to_vec()), Duration::from_secs(10)).await {
            Ok(reply) => {
                let reply = InteractionReply::decode(reply.payload.as_ref()).unwrap();
                break serde_json::from_slice::<Value>(&reply.response).unwrap();
            }
            Err(BusError::NoResponders { .. }) if started.elapsed() < Duration::from_secs(5) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(err) => panic!("no answer: {err}"),
        }
    };
    shutdown.cancel();
    response
}

fn permissions_field(response: &Value) -> String {
    let fields = response["data"]["embeds"][0]["fields"].as_array().unwrap_or_else(|| panic!("{response}"));
    let field = fields.iter().find(|f| f["name"] == "Bot permissions").unwrap_or_else(|| panic!("{response}"));
    field["value"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_channel_overwrite_taking_embed_links_away_is_reported() {
    let _trace = kalcord_test_util::trace_init();
    let response = status(embed_links_denied).await;
    let value = permissions_field(&response);
    assert!(value.contains(&format!("<#{NOTIFY}>")), "{value}");
    assert!(value.contains("**Embed Links**: needed to show meeting announcements as embeds"), "{value}");
    assert!(!value.contains("Send Messages"), "the bot role's overwrite allows it back: {value}");
    assert!(!value.contains("View Channels"), "{value}");
    assert!(!value.contains('✅'), "{value}");
}

#[tokio::test]
async fn discord_refusing_is_said_in_the_field() {
    let _trace = kalcord_test_util::trace_init();
    let response = status(refusing).await;
    let value = permissions_field(&response);
    assert!(value.starts_with(&format!("⚠️ could not check the bot's permissions in <#{NOTIFY}>")), "{value}");
}
