//! The practical limit of our stack for `POST /interactions`: actix-web plus ed25519-dalek,
//! nothing else. It verifies `X-Signature-Ed25519` over `timestamp + body` (strict
//! verification, as the real edge does), answers a PING with PONG, and 401 to anything whose
//! signature does not verify. No configuration layer, metrics, tracing or bus: the benchmarks
//! run it side by side with kalcord's edge so a ratio to it shows what kalcord adds.
//!
//! `kalcord-bare-pong --listen 127.0.0.1:0 --public-key HEX [--workers 1]` prints
//! `listening api http://ADDR` once it accepts connections.

use std::net::SocketAddr;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use clap::Parser;
use ed25519_dalek::{Signature, VerifyingKey};

#[derive(Debug, Parser)]
#[command(about = "Bare actix-web + ed25519-dalek PONG handler (the benchmarks' baseline)")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The application's public key, 64 hex digits.
    #[arg(long)]
    public_key: String,
    /// actix-web worker threads.
    #[arg(long, default_value_t = 1)]
    workers: usize,
}

fn verified(key: &VerifyingKey, request: &HttpRequest, body: &[u8]) -> bool {
    let header = |name: &str| request.headers().get(name).and_then(|value| value.to_str().ok());
    let (Some(signature), Some(timestamp)) = (header("x-signature-ed25519"), header("x-signature-timestamp")) else {
        return false;
    };
    let mut bytes = [0u8; 64];
    if hex::decode_to_slice(signature, &mut bytes).is_err() {
        return false;
    }
    let mut message = Vec::with_capacity(timestamp.len() + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(body);
    key.verify_strict(&message, &Signature::from_bytes(&bytes)).is_ok()
}

async fn interactions(request: HttpRequest, body: web::Bytes, key: web::Data<VerifyingKey>) -> HttpResponse {
    if !verified(&key, &request, &body) {
        return HttpResponse::Unauthorized().body("invalid request signature");
    }
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "type")]
        kind: u8,
    }
    match serde_json::from_slice::<Peek>(&body) {
        Ok(Peek { kind: 1 }) => HttpResponse::Ok().content_type("application/json").body(r#"{"type":1}"#),
        _ => HttpResponse::BadRequest().body("only PING is answered here"),
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(args.public_key.trim(), &mut bytes)
        .map_err(|_| anyhow::anyhow!("--public-key must be 64 hex digits"))?;
    let key = web::Data::new(VerifyingKey::from_bytes(&bytes)?);
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(key.clone())
                .app_data(web::PayloadConfig::new(1 << 20))
                .route("/interactions", web::post().to(interactions))
        })
        .workers(args.workers.max(1))
        .bind(args.listen)?;
        for addr in server.addrs() {
            println!("listening api http://{addr}");
        }
        server.run().await?;
        Ok(())
    })
}
