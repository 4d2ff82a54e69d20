//! Minting a join Kaltura Session locally: the cost every Join pays instead of a Kaltura call.

use std::hint::black_box;
use std::time::Instant;

use kalcord_kaltura::join::{DisplayIdentity, JoinRole, JoinTarget, join_privileges};
use kalcord_kaltura::ks::{KsSpec, Minter, SessionType, decode};

use super::Ctx;
use crate::report::{Section, median, thousands};

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const TARGET: f64 = 100_000.0;

/// Mints join KS v2 (privileges built, AES-CBC, SHA-1, base64) in a loop on one core.
#[must_use]
pub fn run(ctx: &Ctx) -> Section {
    let count: u32 = ctx.pick(300_000, 20_000);
    let mut section = Section::new(
        "Join KS minting",
        format!(
            "`kalcord_kaltura::ks::Minter::mint` of a join KS v2 (privileges for an attendee of one room, 2-hour \
             expiry), {} times in a loop on the load core, {} run(s); then `decode` of one.",
            thousands(f64::from(count)),
            ctx.runs
        ),
    );
    let minter = Minter::new(1_234_567, SECRET);
    let identity = DisplayIdentity { first_name: Some("Max Mustermann".into()), ..DisplayIdentity::default() };
    let mut rates = Vec::new();
    for run in 0..ctx.runs {
        let started = Instant::now();
        for n in 0..count {
            let privileges = join_privileges(JoinTarget::Event(3_371_011), JoinRole::Attendee, black_box(&identity));
            let user = format!("discord-{}", 80_351_110_224_678_912_u64 + u64::from(n));
            let spec = KsSpec {
                expiry: 1_900_000_000,
                partner_id: 1_234_567,
                privileges: &privileges,
                session_type: SessionType::User,
                user_id: &user,
            };
            black_box(minter.mint(black_box(&spec)));
        }
        let rate = f64::from(count) / started.elapsed().as_secs_f64();
        section.runs.push(format!(
            "run {}: {} KS in {:.2?} = {}/s",
            run + 1,
            count,
            started.elapsed(),
            thousands(rate)
        ));
        rates.push(rate);
    }
    let privileges = join_privileges(JoinTarget::Event(3_371_011), JoinRole::Attendee, &identity);
    let ks = minter.mint(&KsSpec {
        expiry: 1_900_000_000,
        partner_id: 1_234_567,
        privileges: &privileges,
        session_type: SessionType::User,
        user_id: "discord-1",
    });
    section.check(decode(&ks, &[SECRET]).is_ok(), "a minted KS decodes with its secret");
    let rate = median(&rates);
    section.at_least(
        "Join KS minted locally, one core".to_owned(),
        format!("{}/s ({:.2} µs each)", thousands(rate), 1e6 / rate),
        rate,
        TARGET,
        "/s",
        ctx.judge(),
    );
    section
}
