//! KS minting and parsing throughput. Target: at least 100,000 join sessions minted per second
//! per core (a join storm of thousands of members must cost milliseconds, not a round trip).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group};
use kalcord_kaltura::join::{DisplayIdentity, JoinRole, JoinTarget, join_privileges};
use kalcord_kaltura::ks::{KsSpec, Minter, SessionType, decode};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn join_ks(c: &mut Criterion) {
    let minter = Minter::new(1_234_567, SECRET);
    let identity = DisplayIdentity { first_name: Some("Max Mustermann".into()), ..DisplayIdentity::default() };
    let privileges = join_privileges(JoinTarget::Event(3_371_011), JoinRole::Attendee, &identity);
    let spec = KsSpec {
        expiry: 1_900_000_000,
        partner_id: 1_234_567,
        privileges: &privileges,
        session_type: SessionType::User,
        user_id: "discord-80351110224678912",
    };
    let mut group = c.benchmark_group("ks");
    group.throughput(Throughput::Elements(1));
    group.bench_function("mint_v2_join", |b| b.iter(|| black_box(minter.mint(black_box(&spec)))));
    group.bench_function("join_privileges_and_mint_v2", |b| {
        b.iter(|| {
            let privileges = join_privileges(JoinTarget::Event(3_371_011), JoinRole::Attendee, black_box(&identity));
            black_box(minter.mint(&KsSpec { privileges: &privileges, ..spec.clone() }))
        });
    });
    let ks = minter.mint(&spec);
    group.bench_function("decode_v2", |b| b.iter(|| black_box(decode(black_box(&ks), &[SECRET]))));
    group.finish();
}

/// Fails the benchmark run when minting is under the 100,000 per second per core target.
fn check_target() {
    let minter = Minter::new(1_234_567, SECRET);
    let privileges = join_privileges(JoinTarget::Event(3_371_011), JoinRole::Attendee, &DisplayIdentity::default());
    let spec = KsSpec {
        expiry: 1_900_000_000,
        partner_id: 1_234_567,
        privileges: &privileges,
        session_type: SessionType::User,
        user_id: "discord-80351110224678912",
    };
    let count = 200_000u32;
    let started = std::time::Instant::now();
    for _ in 0..count {
        black_box(minter.mint(black_box(&spec)));
    }
    let rate = f64::from(count) / started.elapsed().as_secs_f64();
    println!("ks/mint_v2 target check: {rate:.0} KS/s on one thread (target 100000)");
    assert!(rate >= 100_000.0, "minting {rate:.0} KS/s is under the 100,000/s target");
}

criterion_group!(benches, join_ks);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    check_target();
}
