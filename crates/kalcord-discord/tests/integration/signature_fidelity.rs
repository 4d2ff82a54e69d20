//! Our `Verifier` against Discord's own helper, npm `discord-interactions` 4.4.0 (`verifyKey`, through
//! `tests/fidelity/discord/verify-key.mjs`), over one corpus signed like the emulator signs
//! (`kalcord_discord_emulator::sign`), and against the emulator's bad-signature probes.
//! Fails (never skips) when `node` or the npm package is missing: run `make fidelity-deps`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use ed25519_dalek::SigningKey;
use kalcord_discord::signature::{SignatureError, Verifier};
use kalcord_discord_emulator::{ProbeKind, sign};
use serde_json::{Value, json};

use super::support::{self, Endpoint};

/// When every case is signed; our verifier is asked at this instant (freshness is not under test here).
const SIGNED_AT: i64 = 1_700_000_000;

/// Ed25519's group order L, little-endian (a signature's S must be below it).
const ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// One request as an endpoint receives it.
#[derive(Clone, Debug)]
struct Case {
    name: &'static str,
    public_key: String,
    timestamp: String,
    body: Vec<u8>,
    signature: String,
}

impl Case {
    fn ours(&self) -> Result<(), SignatureError> {
        Verifier::from_hex(&self.public_key).expect("public key").verify(
            Some(&self.signature),
            Some(&self.timestamp),
            &self.body,
            SIGNED_AT,
        )
    }
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn public_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
}

/// Standard base64 with padding (what `Buffer.from(.., "base64")` reads).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word =
            chunk.iter().enumerate().fold(0u32, |word, (index, byte)| word | u32::from(*byte) << (16 - 8 * index));
        for index in 0..4 {
            if index <= chunk.len() {
                out.push(char::from(ALPHABET[usize::try_from((word >> (18 - 6 * index)) & 63).expect("six bits")]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `signature` with S replaced by S + L: the same point equation, but not canonical (malleated).
fn malleated(signature: &str) -> String {
    let mut bytes = hex::decode(signature).expect("hex");
    let mut carry = 0u16;
    for (byte, add) in bytes[32..].iter_mut().zip(ORDER) {
        let sum = u16::from(*byte) + u16::from(add) + carry;
        *byte = u8::try_from(sum & 0xff).expect("one byte");
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 256 bits");
    hex::encode(bytes)
}

/// `haystack` with the first `from` replaced by `to`.
fn replace_first(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = haystack.windows(from.len()).position(|window| window == from).expect("pattern present");
    [&haystack[..at], to, &haystack[at + from.len()..]].concat()
}

/// The corpus: `(case, valid)`.
fn corpus() -> Vec<(Case, bool)> {
    let app = key(0x42);
    let other = key(0x17);
    let timestamp = SIGNED_AT.to_string();
    let ping = json!({"application_id": "1284000000000000900", "id": "1284000000000000901", "token": "aW50ZXJhY3Rpb24",
                      "type": 1, "version": 1})
    .to_string()
    .into_bytes();
    let command = json!({
        "type": 2, "id": "1284000000000000902", "application_id": "1284000000000000900", "token": "dG9rZW4",
        "guild_id": "1284000000000000001", "channel_id": "1284000000000000201", "version": 1,
        "data": {"id": "1284000000000000903", "name": "meeting", "type": 1,
                 "options": [{"type": 1, "name": "start",
                              "options": [{"type": 3, "name": "title", "value": "Maths"}]}]},
        "member": {"user": {"id": "1284000000000000301", "username": "ada"}, "permissions": "2147483648"},
    })
    .to_string()
    .into_bytes();
    let unicode =
        r#"{"type":2,"data":{"options":[{"name":"title","value":"Réunion — 数学 🎓 «Ωmega»"}]}}"#.as_bytes().to_vec();
    let large = json!({"type": 2, "data": {"name": "meeting", "padding": "x".repeat(16_000)}}).to_string().into_bytes();
    let binary = vec![0x00, 0xff, 0xfe, 0x80, 0x7b, 0x0a, 0xc3, 0x28];
    let signed = |name, key: &SigningKey, timestamp: &str, body: &[u8]| Case {
        name,
        public_key: public_hex(&app),
        timestamp: timestamp.to_owned(),
        body: body.to_vec(),
        signature: sign(key, timestamp, body),
    };
    let valid = signed("valid PING", &app, &timestamp, &ping);
    let changed = |name, change: &dyn Fn(&mut Case)| {
        let mut case = valid.clone();
        case.name = name;
        change(&mut case);
        case
    };
    let signature = valid.signature.clone();
    let mut non_hex = signature.clone();
    non_hex.replace_range(0..1, "g");
    let mut unicode_changed = signed("unicode body, one letter swapped for a look-alike", &app, &timestamp, &unicode);
    unicode_changed.body = replace_first(&unicode, "Ωmega".as_bytes(), "Ωmegа".as_bytes());
    vec![
        (valid.clone(), true),
        (signed("valid slash command", &app, &timestamp, &command), true),
        (signed("valid unicode body", &app, &timestamp, &unicode), true),
        (signed("valid empty body", &app, &timestamp, b""), true),
        (signed("valid 16 kB body", &app, &timestamp, &large), true),
        (signed("valid body that is not UTF-8", &app, &timestamp, &binary), true),
        (signed("valid, another timestamp", &app, &(SIGNED_AT + 3).to_string(), &ping), true),
        (changed("valid, signature in upper-case hex", &|case| case.signature = signature.to_uppercase()), true),
        (
            changed("tampered body (one byte changed)", &|case| {
                case.body = replace_first(&ping, b"\"type\":1", b"\"type\":2")
            }),
            false,
        ),
        (changed("tampered body (newline appended)", &|case| case.body.push(b'\n')), false),
        (unicode_changed, false),
        (changed("truncated body (last byte cut)", &|case| case.body.truncate(ping.len() - 1)), false),
        (changed("truncated body (nothing left)", &|case| case.body.clear()), false),
        (changed("wrong public key", &|case| case.public_key = public_hex(&other)), false),
        (signed("signed with another key", &other, &timestamp, &ping), false),
        (
            changed("wrong timestamp (signed for another one)", &|case| case.timestamp = (SIGNED_AT + 1).to_string()),
            false,
        ),
        (changed("non-hex signature (all z)", &|case| case.signature = "z".repeat(128)), false),
        (changed("non-hex signature (one character)", &|case| case.signature.clone_from(&non_hex)), false),
        (changed("signature too short (63 bytes)", &|case| case.signature.truncate(126)), false),
        (changed("signature too long (65 bytes)", &|case| case.signature.push_str("00")), false),
        (changed("signature of zero bytes", &|case| case.signature = "00".repeat(64)), false),
        (changed("malleated signature (S + L)", &|case| case.signature = malleated(&signature)), false),
        (changed("empty signature", &|case| case.signature.clear()), false),
    ]
}

/// `verifyKey` of npm `discord-interactions` on each case, in order.
fn discord_interactions(cases: &[Case]) -> Vec<bool> {
    let dir = support::require_node_package("discord-interactions");
    let mut child = Command::new("node")
        .arg(dir.join("verify-key.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot run node from PATH ({error}): install Node.js and run make fidelity-deps")
        });
    let input: String = cases
        .iter()
        .map(|case| {
            let line = json!({"publicKey": case.public_key, "timestamp": case.timestamp,
                              "body": base64(&case.body), "signature": case.signature});
            format!("{line}\n")
        })
        .collect();
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("node runs");
    writer.join().expect("writer thread").expect("stdin written");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "verify-key.mjs failed: {stderr}");
    let answers: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}")))
        .collect();
    assert_eq!(answers.len(), cases.len(), "one answer per case; stderr: {stderr}");
    answers
        .iter()
        .zip(cases)
        .map(|(answer, case)| {
            assert!(answer.get("error").is_none(), "{}: verify-key.mjs could not read the case: {answer}", case.name);
            answer["valid"].as_bool().unwrap_or_else(|| panic!("{}: no verdict in {answer}", case.name))
        })
        .collect()
}

#[test]
fn base64_matches_the_rfc_examples() {
    let _trace = kalcord_test_util::trace_init();
    let encoded: Vec<String> =
        ["", "f", "fo", "foo", "foob", "fooba", "foobar"].map(|text| base64(text.as_bytes())).into();
    assert_eq!(encoded, ["", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"]);
    assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
}

#[test]
fn discord_interactions_and_our_verifier_agree_on_every_case() {
    let _trace = kalcord_test_util::trace_init();
    let corpus = corpus();
    assert!(corpus.len() >= 20, "the corpus has {} cases", corpus.len());
    let cases: Vec<Case> = corpus.iter().map(|(case, _)| case.clone()).collect();
    let node = discord_interactions(&cases);
    let mut disagreements = Vec::new();
    for ((case, valid), node_valid) in corpus.iter().zip(&node) {
        let ours = case.ours();
        if *node_valid != *valid || ours.is_ok() != *valid {
            disagreements.push(format!(
                "{}: expected {}, discord-interactions {node_valid}, ours {ours:?}",
                case.name,
                if *valid { "valid" } else { "invalid" }
            ));
        }
    }
    assert!(disagreements.is_empty(), "verdicts differ:\n{}", disagreements.join("\n"));
    let by_name = |name: &str| corpus.iter().find(|(case, _)| case.name == name).expect("case").0.ours();
    assert_eq!(by_name("empty signature"), Err(SignatureError::Missing));
    assert_eq!(by_name("non-hex signature (all z)"), Err(SignatureError::MalformedSignature));
    assert_eq!(by_name("signature too short (63 bytes)"), Err(SignatureError::MalformedSignature));
    assert_eq!(by_name("wrong timestamp (signed for another one)"), Err(SignatureError::Invalid));
    assert_eq!(by_name("malleated signature (S + L)"), Err(SignatureError::Invalid));
}

/// What `discord-interactions` accepts only because it parses leniently (hex through `parseInt`, any timestamp
/// text) or does not check freshness: Discord never sends these, and our verifier refuses them. Proves we are
/// stricter, never looser.
#[test]
fn malformed_headers_discord_interactions_tolerates_are_refused_by_us() {
    let _trace = kalcord_test_util::trace_init();
    let app = key(0x42);
    let body = br#"{"type":1}"#.to_vec();
    let valid = sign(&app, &SIGNED_AT.to_string(), &body);
    let low_byte = (0..64).find(|index| valid.as_bytes()[index * 2] == b'0').expect("a byte below 0x10");
    let mut plus = valid.clone();
    plus.replace_range(low_byte * 2..low_byte * 2 + 1, "+");
    let base = Case {
        name: "",
        public_key: public_hex(&app),
        timestamp: SIGNED_AT.to_string(),
        body: body.clone(),
        signature: valid,
    };
    let lenient = [
        (Case { name: "hex digit written as +", signature: plus, ..base.clone() }, SignatureError::MalformedSignature),
        (
            Case {
                name: "timestamp that is not a number",
                timestamp: "17e8".to_owned(),
                signature: sign(&app, "17e8", &body),
                ..base.clone()
            },
            SignatureError::MalformedTimestamp,
        ),
        (
            Case {
                name: "empty timestamp",
                timestamp: String::new(),
                signature: sign(&app, "", &body),
                ..base.clone()
            },
            SignatureError::Missing,
        ),
        // NOTE: Discord signs `timestamp + body`; moving the timestamp's last digit into the body keeps the signed
        // bytes, so the signature still verifies; only the freshness check tells the forged timestamp apart.
        (
            Case {
                name: "timestamp digit moved into the body",
                timestamp: SIGNED_AT.to_string()[..9].to_owned(),
                body: [&SIGNED_AT.to_string().as_bytes()[9..], body.as_slice()].concat(),
                ..base
            },
            SignatureError::Stale { age_seconds: SIGNED_AT - SIGNED_AT / 10 },
        ),
    ];
    let cases: Vec<Case> = lenient.iter().map(|(case, _)| case.clone()).collect();
    for ((case, refusal), node_valid) in lenient.iter().zip(discord_interactions(&cases)) {
        assert!(node_valid, "{}: discord-interactions accepts it", case.name);
        assert_eq!(case.ours(), Err(*refusal), "{}: we refuse it", case.name);
    }
}

/// The emulator's routine probes (wrong key, tampered body, stale timestamp, no headers, a valid PING) against an
/// endpoint guarded by our verifier, and every signed request it received re-checked by discord-interactions.
#[tokio::test]
async fn the_emulators_probes_are_answered_like_discord_requires() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = support::emulator(|config| config).await;
    let app = emulator.application();
    let endpoint = Endpoint::start(&app.public_key_hex, json!({"type": 5})).await;
    emulator.state().set_interactions_url(Some(endpoint.url.clone()));
    let outcomes = emulator.state().probe_all().await.expect("probes sent");
    assert_eq!(outcomes.len(), ProbeKind::ALL.len());
    for outcome in &outcomes {
        assert!(outcome.passed, "probe {:?} answered {:?} {}", outcome.kind, outcome.status, outcome.body);
    }
    let seen = endpoint.seen().await;
    assert_eq!(seen.len(), ProbeKind::ALL.len(), "one request per probe");
    let signed: Vec<_> = seen.iter().filter(|request| request.signature.is_some()).collect();
    let cases: Vec<Case> = signed
        .iter()
        .map(|request| Case {
            name: "probe",
            public_key: app.public_key_hex.clone(),
            timestamp: request.timestamp.clone().unwrap_or_default(),
            body: request.body.clone(),
            signature: request.signature.clone().unwrap_or_default(),
        })
        .collect();
    let node = discord_interactions(&cases);
    for (request, node_valid) in signed.iter().zip(node) {
        let stale = matches!(request.verdict, Err(SignatureError::Stale { .. }));
        // NOTE: verifyKey does not look at the timestamp's age; a stale probe is correctly signed.
        assert_eq!(node_valid, request.verdict.is_ok() || stale, "{request:?}");
    }
    assert_eq!(seen.iter().filter(|request| request.verdict.is_ok()).count(), 1, "only the valid PING verifies");
    emulator.stop().await;
}
