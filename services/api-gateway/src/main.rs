//! `kalcord-api-gateway`: the HTTP edge, run as its own process.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    kalcord_runtime::main::<kalcord_api_gateway::ApiGateway>(
        "kalcord-api-gateway",
        "kalcord HTTP edge: verifies and routes every inbound request over the bus.",
    )
}
