//! `kalcord-gateway-shard`, run as its own process.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    kalcord_runtime::main::<kalcord_gateway_shard::GatewayShard>(
        "kalcord-gateway-shard",
        "Discord gateway shards republished to JetStream.",
    )
}
