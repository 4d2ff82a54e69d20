//! Fidelity: Kaltura's own client libraries, not our reading of the spec, judge the emulator
//! and our KS code.
//!
//! The scripts under `tests/fidelity/` run the official clients pinned there — npm
//! `kaltura-client` 21.20.0 (JSON, `format=1`) and PyPI `KalturaApiClient` 23.10.0 (XML,
//! `format=2`) — as child processes against an in-process emulator, and print what the clients
//! got back as JSON. The tests prove that:
//!
//! * the Node client's `session.start`, `session.get`, `user.add`/`user.get`,
//!   `scheduleResource.add` and a `request.add(request)` multirequest (with a `{1:result:id}`
//!   reference and a failing sub-request) get the right objects, and the right error objects
//!   (`INVALID_USER_ID` "Invalid user id" with `args: []`, …) through the client's own error path;
//!   the emulator's request log shows the exact requests of spec §1.6 (`application/json`,
//!   `format` 1, `clientTag`/`apiVersion`, the secret masked, nested multirequest keys);
//! * KS minted offline by the Python client (`generateSession` v1, `generateSessionV2` v2) decode
//!   with [`kalcord_kaltura::ks::decode`] to the partner, user, type, expiry and privileges they
//!   were minted with, are accepted by the emulator over HTTP (and refused the way the server
//!   refuses them when expired or signed with another secret), and — with the client's clock and
//!   randomness fixed — are byte for byte what our own minters produce;
//! * the Python client drives the emulator in XML: `media.list` with a filter and a pager finds
//!   recordings simulated to READY, in `-createdAt` order, and `media.get` of a missing entry
//!   raises `KalturaException` with `ENTRY_ID_NOT_FOUND`.
//!
//! The clients are installed by `make fidelity-deps` (which `make test` runs first); without them
//! these tests fail, naming that command, rather than skip.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use kalcord_kaltura::ks::{self, KsError, KsSpec, KsVersion, Privileges, SessionType};
use kalcord_kaltura_emulator::{
    Emulator, EmulatorConfig, EmulatorState, PartnerConfig, RecordingRequest, RequestRecord,
};
use serde_json::{Value, json};
use tokio::process::Command;

/// The partner (the spec's sample account).
const PID: i64 = 1_234_567;
/// Its admin secret (the spec's test-vector secret).
const SECRET: &str = "0123456789abcdef0123456789abcdef";
/// The pinned official clients.
const NODE_CLIENT_VERSION: &str = "21.20.0";
const PYTHON_CLIENT_VERSION: &str = "23.10.0";
/// What each client sends as `clientTag` (hard-coded in the clients).
const NODE_CLIENT_TAG: &str = "node:25-07-20";
const PYTHON_CLIENT_TAG: &str = "python-26-10-22";
/// A script runs in about half a second; this only bounds a hung one.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);
/// What to do when the clients are missing.
const DEPS_HINT: &str = "run `make fidelity-deps` (it installs Kaltura's official Node and Python clients)";
/// What the scripts exit with when their dependencies are missing.
const EXIT_DEPS: i32 = 3;

// ------------------------------------------------------------------------------- harness --

fn project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fidelity_dir() -> PathBuf {
    project_dir().join("tests/fidelity")
}

/// `tests/fidelity/node/drive.js`, once the pinned `kaltura-client` is installed next to it.
fn node_driver() -> PathBuf {
    let dir = fidelity_dir().join("node");
    let manifest = dir.join("node_modules/kaltura-client/package.json");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|error| {
        panic!("the official Node client is not installed ({}: {error}); {DEPS_HINT}", manifest.display())
    });
    let version = serde_json::from_str::<Value>(&text).ok().and_then(|doc| doc["version"].as_str().map(str::to_owned));
    assert_eq!(
        version.as_deref(),
        Some(NODE_CLIENT_VERSION),
        "kaltura-client in {} is not the pinned version; {DEPS_HINT}",
        manifest.display()
    );
    dir.join("drive.js")
}

/// The project venv's Python (where `make fidelity-deps` installs `KalturaApiClient`).
fn venv_python() -> PathBuf {
    let python = project_dir().join(".venv/bin/python");
    assert!(python.exists(), "{} does not exist; {DEPS_HINT}", python.display());
    python
}

fn python_script(name: &str) -> PathBuf {
    fidelity_dir().join("python").join(name)
}

/// Runs `program script args…` and parses the one JSON document it prints.
async fn run_json(program: impl AsRef<OsStr>, script: &Path, args: &[String]) -> Value {
    let program = program.as_ref();
    let what = format!("{} {}", program.to_string_lossy(), script.display());
    let mut command = Command::new(program);
    command
        .arg(script)
        .args(args)
        .current_dir(script.parent().expect("script dir"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    // NOTE: the emulator is on 127.0.0.1; a proxy from the environment could only get in the way.
    for proxy in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        command.env_remove(proxy);
    }
    let child = command.spawn().unwrap_or_else(|error| {
        let hint = if program == OsStr::new("node") { "install Node.js 18+ (node must be on PATH), then " } else { "" };
        panic!("cannot start {what}: {error}; {hint}{DEPS_HINT}")
    });
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {SCRIPT_TIMEOUT:?}"))
        .unwrap_or_else(|error| panic!("{what}: {error}"));
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    match output.status.code() {
        Some(0) => {}
        Some(EXIT_DEPS) => {
            panic!("{what}: the official client is missing or not the pinned version; {DEPS_HINT}\n{stderr}")
        }
        _ => panic!("{what} failed ({}):\n--- stderr\n{stderr}\n--- stdout\n{stdout}", output.status),
    }
    serde_json::from_str(stdout.trim()).unwrap_or_else(|error| panic!("{what} printed no JSON ({error}):\n{stdout}"))
}

/// An emulator with the one partner.
struct Rig {
    emulator: Emulator,
    http: reqwest::Client,
}

impl Rig {
    async fn start() -> Self {
        let config = EmulatorConfig { recording_step_delay: Duration::from_millis(10), ..EmulatorConfig::default() }
            .with_partner(PartnerConfig::new(PID, SECRET));
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().expect("client");
        Self { emulator, http }
    }

    fn state(&self) -> EmulatorState {
        self.emulator.state()
    }

    fn base_url(&self) -> String {
        self.emulator.base_url()
    }

    /// `service.action` as a `format=1` JSON call, for seeding and for checking a KS.
    async fn call(&self, service: &str, action: &str, mut body: Value) -> Value {
        body["format"] = json!(1);
        let url = format!("{}/api_v3/service/{service}/action/{action}", self.base_url());
        let response = self.http.post(url).json(&body).send().await.expect("emulator answers");
        assert_eq!(response.status().as_u16(), 200, "{service}.{action}");
        response.json().await.expect("JSON answer")
    }

    /// The requests logged for `service.action` (`action` `None`: a multirequest).
    fn logged(&self, service: &str, action: Option<&str>) -> Vec<RequestRecord> {
        self.state()
            .requests()
            .into_iter()
            .filter(|record| record.service.as_deref() == Some(service) && record.action.as_deref() == action)
            .collect()
    }

    async fn stop(self) {
        self.emulator.stop().await;
    }
}

/// `{"code","message","objectType":"KalturaAPIException","args"}` as the server serialises it.
fn api_error(code: &str, message: &str, args: Value) -> Value {
    json!({"code": code, "message": message, "objectType": "KalturaAPIException", "args": args})
}

/// The sorted key set of a JSON object.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value.as_object().map(|map| map.keys().map(String::as_str).collect()).unwrap_or_default();
    keys.sort_unstable();
    keys
}

/// An `{ok, result}` outcome of a script, unwrapped.
fn ok<'a>(outcome: &'a Value, what: &str) -> &'a Value {
    assert_eq!(outcome["ok"], json!(true), "{what} should succeed: {outcome}");
    &outcome["result"]
}

/// An `{ok, error}` outcome of a script, unwrapped.
fn failed<'a>(outcome: &'a Value, what: &str) -> &'a Value {
    assert_eq!(outcome["ok"], json!(false), "{what} should fail: {outcome}");
    &outcome["error"]
}

// ---------------------------------------------------------------------------------- node --

#[tokio::test]
async fn node_client_drives_sessions_users_rooms_and_a_multirequest() {
    let _trace = kalcord_test_util::trace_init();
    let driver = node_driver();
    let rig = Rig::start().await;
    let started = rig.state().now();
    let out = run_json("node", &driver, &[rig.base_url(), PID.to_string(), SECRET.to_owned()]).await;
    let finished = rig.state().now();
    assert_eq!(out["client"]["version"], NODE_CLIENT_VERSION);
    assert_eq!(out["client"]["clientTag"], NODE_CLIENT_TAG);

    // session.start: the client rejects with the server's error object, then gets a string KS.
    let pid = PID.to_string();
    assert_eq!(
        *failed(&out["sessionStartBadSecret"], "session.start with a wrong secret"),
        api_error(
            "START_SESSION_ERROR",
            &format!("Error while starting session for partner [{PID}]"),
            json!({"PID": pid})
        )
    );
    let ks = ok(&out["sessionStart"], "session.start").as_str().expect("session.start gives a string KS").to_owned();
    let session = ks::decode(&ks, &[SECRET]).expect("our parser reads the emulator's KS");
    assert_eq!(session.version, KsVersion::V2);
    assert_eq!((session.partner_id, session.user_id.as_str()), (PID, "fidelity-admin"));
    assert_eq!(session.session_type, SessionType::Admin);
    assert_eq!(session.privileges.to_string(), "disableentitlement");
    assert!((started + 86_400..=finished + 86_400).contains(&session.expiry), "expiry {}", session.expiry);
    assert_eq!(
        *ok(&out["sessionGet"], "session.get"),
        json!({"ks": ks, "sessionType": 2, "partnerId": PID, "userId": "fidelity-admin", "expiry": session.expiry,
               "privileges": "disableentitlement", "objectType": "KalturaSessionInfo"})
    );

    // user.add / user.get: the same KalturaUser both times.
    let user = ok(&out["userAdd"], "user.add");
    for (field, value) in [
        ("id", json!("discord-1111")),
        ("partnerId", json!(PID)),
        ("screenName", json!("Max Power")),
        ("firstName", json!("Max")),
        ("lastName", json!("Power")),
        ("email", json!("max@example.com")),
        ("type", json!(0)),
        ("status", json!(1)),
        ("isAdmin", json!(false)),
        ("objectType", json!("KalturaUser")),
    ] {
        assert_eq!(user[field], value, "user.add {field}: {user}");
    }
    assert!(user["createdAt"].as_i64().is_some_and(|at| (started..=finished).contains(&at)), "{user}");
    assert_eq!(ok(&out["userGet"], "user.get"), user);
    // The error objects reach the client's rejection path intact (spec §4: `args` is `[]`).
    assert_eq!(
        *failed(&out["userGetMissing"], "user.get of a missing user"),
        api_error("INVALID_USER_ID", "Invalid user id", json!([]))
    );
    assert_eq!(
        *failed(&out["userAddDuplicate"], "user.add of an existing id"),
        api_error(
            "DUPLICATE_USER_BY_ID",
            "User with id [discord-1111] already exists in system",
            json!({"UID": "discord-1111"})
        )
    );

    // scheduleResource.add: a KalturaLocationScheduleResource with an integer id, ACTIVE.
    let room = ok(&out["scheduleResourceAdd"], "scheduleResource.add");
    assert!(room["id"].as_i64().is_some_and(|id| id > 0), "{room}");
    for (field, value) in [
        ("name", json!("Room-1")),
        ("tags", json!("vcprovider:newrow")),
        ("description", json!("fidelity")),
        ("status", json!(2)),
        ("partnerId", json!(PID)),
        ("objectType", json!("KalturaLocationScheduleResource")),
    ] {
        assert_eq!(room[field], value, "scheduleResource.add {field}: {room}");
    }

    // The multirequest: one array; `{1:result:id}` resolved; a failing sub-request fails alone.
    let results = ok(&out["multirequest"], "multirequest").as_array().expect("an array of results");
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0]["objectType"], "KalturaLocationScheduleResource");
    assert_eq!(results[0]["name"], "Room-2");
    assert_ne!(results[0]["id"], room["id"]);
    assert_eq!(results[1], results[0], "the second sub-request reads the first one's id");
    assert_eq!(results[2], api_error("INVALID_OBJECT_ID", "Invalid object id [987654321]", json!({"ID": "987654321"})));

    assert_node_requests(&rig, &ks);
    rig.stop().await;
}

/// The request log shows the Node client's requests exactly as spec §1.6 captured them.
fn assert_node_requests(rig: &Rig, ks: &str) {
    let all = rig.state().requests();
    assert_eq!(
        all.len(),
        9,
        "2 session.start, session.get, 2 user.add, 2 user.get, scheduleResource.add, multirequest"
    );
    for record in &all {
        assert_eq!(record.method, "POST", "{record:?}");
        assert_eq!(record.content_type.as_deref(), Some("application/json"), "{record:?}");
        assert_eq!(record.query, "", "everything travels in the body: {record:?}");
        assert_eq!(record.params["format"], "1", "{record:?}");
        assert_eq!(record.params["clientTag"], NODE_CLIENT_TAG, "{record:?}");
        assert_eq!(record.params["apiVersion"], NODE_CLIENT_VERSION, "{record:?}");
        let kalsig = record.params["kalsig"].as_str().unwrap_or_default();
        assert!(kalsig.len() == 32 && kalsig.bytes().all(|b| b.is_ascii_hexdigit()), "md5 kalsig: {record:?}");
    }
    // `service` and `action` come from the path (/api_v3/service/session/action/start).
    let starts = rig.logged("session", Some("start"));
    assert_eq!(starts.len(), 2);
    for start in &starts {
        assert_eq!(start.path, "/api_v3/service/session/action/start");
        assert_eq!(
            keys(&start.params),
            [
                "action",
                "apiVersion",
                "clientTag",
                "expiry",
                "format",
                "kalsig",
                "partnerId",
                "privileges",
                "secret",
                "service",
                "type",
                "userId"
            ]
        );
        assert_eq!(start.params["secret"], "***", "the log masks secrets");
        assert_eq!(start.params["userId"], "fidelity-admin");
        assert_eq!(start.params["type"], "2");
        assert_eq!(start.params["partnerId"], PID.to_string());
        assert_eq!(start.params["expiry"], "86400");
        assert_eq!(start.params["privileges"], "disableentitlement");
    }
    let gets = rig.logged("user", Some("get"));
    assert_eq!(gets.len(), 2);
    assert_eq!(gets[1].path, "/api_v3/service/user/action/get");
    assert_eq!(
        keys(&gets[1].params),
        ["action", "apiVersion", "clientTag", "format", "kalsig", "ks", "service", "userId"]
    );
    assert_eq!(gets[1].params["userId"], "nobody");
    assert_eq!(gets[1].params["ks"], ks);
    let adds = rig.logged("user", Some("add"));
    assert_eq!(
        adds[0].params["user"],
        json!({"objectType": "KalturaUser", "id": "discord-1111", "screenName": "Max Power", "firstName": "Max",
               "lastName": "Power", "email": "max@example.com", "type": "0"})
    );
    let rooms = rig.logged("schedule_scheduleresource", Some("add"));
    assert_eq!(rooms[0].path, "/api_v3/service/schedule_scheduleresource/action/add");
    assert_eq!(
        rooms[0].params["scheduleResource"],
        json!({"objectType": "KalturaLocationScheduleResource", "name": "Room-1", "tags": "vcprovider:newrow",
               "description": "fidelity"})
    );
    let multi = rig.logged("multirequest", None);
    assert_eq!(multi.len(), 1);
    assert_eq!(multi[0].path, "/api_v3/service/multirequest");
    let params = &multi[0].params;
    assert_eq!(keys(params), ["0", "1", "2", "apiVersion", "clientTag", "format", "kalsig", "ks", "service"]);
    assert_eq!(params["ks"], ks, "the KS is top-level only, inherited by the sub-requests");
    assert_eq!(
        params["0"],
        json!({"scheduleResource": {"name": "Room-2", "tags": "vcprovider:newrow",
               "objectType": "KalturaLocationScheduleResource"}, "format": "1",
               "service": "schedule_scheduleresource", "action": "add"})
    );
    assert_eq!(
        params["1"],
        json!({"scheduleResourceId": "{1:result:id}", "format": "1", "service": "schedule_scheduleresource",
               "action": "get"})
    );
    assert_eq!(
        params["2"],
        json!({"scheduleEventId": "987654321", "format": "1", "service": "schedule_scheduleevent", "action": "get"})
    );
}

// ------------------------------------------------------------------------ python: KS mint --

/// How a minted KS should fare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Valid,
    Expired,
    OtherSecret,
}

/// One `generateSession`/`generateSessionV2` input.
struct MintCase {
    name: &'static str,
    secret: &'static str,
    user_id: &'static str,
    session_type: SessionType,
    expiry: i64,
    privileges: &'static str,
    /// The privileges as the server splits them (not computed by our parser).
    pairs: &'static [(&'static str, &'static str)],
    expect: Expect,
}

const ESCAPES: &str =
    "disableentitlement,lastName:van der Berg,firstName:Zoë,returnUrl:https://example.com/a?b=c&d=e%20f";

const MINT_CASES: &[MintCase] = &[
    MintCase {
        name: "member",
        secret: SECRET,
        user_id: "discord-1111",
        session_type: SessionType::User,
        expiry: 86_400,
        privileges: "eventId:3371011,role:viewerRole,userContextualRole:3,firstName:Max",
        pairs: &[("eventId", "3371011"), ("role", "viewerRole"), ("userContextualRole", "3"), ("firstName", "Max")],
        expect: Expect::Valid,
    },
    MintCase {
        name: "admin-wildcard",
        secret: SECRET,
        user_id: "",
        session_type: SessionType::Admin,
        expiry: 3_600,
        privileges: "*",
        pairs: &[("all", "*")],
        expect: Expect::Valid,
    },
    MintCase {
        name: "escapes",
        secret: SECRET,
        user_id: "jane.doe+kal@example.com",
        session_type: SessionType::User,
        expiry: 600,
        privileges: ESCAPES,
        pairs: &[
            ("disableentitlement", ""),
            ("lastName", "van der Berg"),
            ("firstName", "Zoë"),
            ("returnUrl", "https://example.com/a?b=c&d=e%20f"),
        ],
        expect: Expect::Valid,
    },
    MintCase {
        name: "no-privileges",
        secret: SECRET,
        user_id: "discord-3333",
        session_type: SessionType::Widget,
        expiry: 120,
        privileges: "",
        pairs: &[],
        expect: Expect::Valid,
    },
    MintCase {
        name: "expired",
        secret: SECRET,
        user_id: "discord-2222",
        session_type: SessionType::User,
        expiry: -60,
        privileges: "role:viewerRole",
        pairs: &[("role", "viewerRole")],
        expect: Expect::Expired,
    },
    MintCase {
        name: "other-secret",
        secret: "not-the-admin-secret",
        user_id: "discord-1111",
        session_type: SessionType::Admin,
        expiry: 3_600,
        privileges: "",
        pairs: &[],
        expect: Expect::OtherSecret,
    },
];

fn mint_case_json(case: &MintCase) -> Value {
    json!({"name": case.name, "secret": case.secret, "partnerId": PID, "userId": case.user_id,
           "type": case.session_type.code(), "expiry": case.expiry, "privileges": case.privileges})
}

/// Runs `mint_ks.py` on `cases`; returns its `cases` array.
async fn mint_with_python(cases: Vec<Value>) -> Vec<Value> {
    let out = run_json(venv_python(), &python_script("mint_ks.py"), &[json!({ "cases": cases }).to_string()]).await;
    assert_eq!(out["client"]["version"], PYTHON_CLIENT_VERSION);
    out["cases"].as_array().expect("cases").clone()
}

#[tokio::test]
async fn python_minted_ks_decode_with_our_parser_and_pass_the_emulator() {
    let _trace = kalcord_test_util::trace_init();
    let minted = mint_with_python(MINT_CASES.iter().map(mint_case_json).collect()).await;
    assert_eq!(minted.len(), MINT_CASES.len());
    let rig = Rig::start().await;
    for (case, out) in MINT_CASES.iter().zip(&minted) {
        assert_eq!(out["name"], case.name);
        assert_eq!(out["patched"], false, "real, fresh KS");
        let (before, after) =
            (out["clock"]["before"].as_i64().expect("clock"), out["clock"]["after"].as_i64().expect("clock"));
        for (version, field) in [(KsVersion::V1, "v1"), (KsVersion::V2, "v2")] {
            let what = format!("{} {field}", case.name);
            let text = out[field].as_str().expect("a KS");
            if case.expect == Expect::OtherSecret {
                assert_eq!(ks::decode(text, &[SECRET]), Err(KsError::InvalidStr), "{what}");
                assert_refused(&rig, text, text, &what).await;
                continue;
            }
            // Our parser: the same fields; any of the partner's admin secrets verifies.
            let decoded = ks::decode(text, &["another-admin-secret", SECRET]).unwrap_or_else(|error| {
                panic!("{what}: our parser refuses the official client's KS ({error}): {text}")
            });
            assert_eq!(decoded.version, version, "{what}");
            assert_eq!(decoded.partner_id, PID, "{what}");
            assert_eq!(decoded.user_id, case.user_id, "{what}");
            assert_eq!(decoded.session_type, case.session_type, "{what}");
            assert!((before + case.expiry..=after + case.expiry).contains(&decoded.expiry), "{what}: {decoded:?}");
            assert_eq!(decoded.privileges.iter().collect::<Vec<_>>(), case.pairs, "{what}");
            assert_eq!(decoded.privileges, Privileges::parse(case.privileges), "{what}");
            assert_eq!((decoded.master_partner_id, decoded.additional_data.as_deref()), (None, None), "{what}");
            assert_eq!(ks::decode(text, &["another-admin-secret"]), Err(KsError::InvalidStr), "{what}");
            if case.expect == Expect::Expired {
                assert_eq!(decoded.check(rig.state().now()), Err(KsError::Expired), "{what}");
                assert_refused(&rig, text, "EXPIRED", &what).await;
                continue;
            }
            decoded.check(rig.state().now()).unwrap_or_else(|error| panic!("{what}: {error}"));
            // The emulator: session.get reads the same session out of it…
            let info = rig.call("session", "get", json!({"ks": text})).await;
            assert_eq!(
                info,
                json!({"ks": text, "sessionType": case.session_type.code(), "partnerId": PID, "userId": case.user_id,
                       "expiry": decoded.expiry, "privileges": decoded.privileges.to_string(),
                       "objectType": "KalturaSessionInfo"}),
                "{what}"
            );
            // …and an action past the KS check answers for its own reasons (no such user).
            let user = if case.user_id.is_empty() { "nobody" } else { case.user_id };
            let missing = rig.call("user", "get", json!({"ks": text, "userId": user})).await;
            assert_eq!(missing, api_error("INVALID_USER_ID", "Invalid user id", json!([])), "{what}");
        }
    }
    rig.stop().await;
}

/// The emulator refuses `ks` with `INVALID_KS` naming `ksid` (the KS itself, or `EXPIRED`).
async fn assert_refused(rig: &Rig, ks: &str, ksid: &str, what: &str) {
    let answer = rig.call("session", "get", json!({"ks": ks})).await;
    assert_eq!(
        answer,
        api_error(
            "INVALID_KS",
            &format!("Invalid KS \"{ksid}\", Error \"-1,INVALID_STR\""),
            json!({"KSID": ksid, "ERR_CODE": "-1", "ERR_DESC": "INVALID_STR"})
        ),
        "{what}"
    );
}

#[tokio::test]
async fn python_minted_ks_equal_ours_byte_for_byte_with_fixed_clock_and_randomness() {
    let _trace = kalcord_test_util::trace_init();
    const NOW: i64 = 1_700_000_000;
    const RAND_V1: u32 = 4242;
    const RAND_V2: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    let cases: Vec<&MintCase> = MINT_CASES.iter().filter(|case| case.expect != Expect::OtherSecret).collect();
    let inputs = cases
        .iter()
        .map(|case| {
            let mut input = mint_case_json(case);
            input["now"] = json!(NOW);
            input["rand"] = json!(RAND_V1);
            input["rand16"] = json!(RAND_V2.iter().map(|byte| format!("{byte:02x}")).collect::<String>());
            input
        })
        .collect();
    let minted = mint_with_python(inputs).await;
    for (case, out) in cases.iter().zip(&minted) {
        assert_eq!(out["patched"], true);
        assert_eq!((out["clock"]["before"].as_i64(), out["clock"]["after"].as_i64()), (Some(NOW), Some(NOW)));
        let privileges = Privileges::parse(case.privileges);
        let spec = KsSpec {
            expiry: NOW + case.expiry,
            partner_id: PID,
            privileges: &privileges,
            session_type: case.session_type,
            user_id: case.user_id,
        };
        assert_eq!(out["v1"], ks::mint_v1(SECRET, &spec, RAND_V1), "{} v1", case.name);
        assert_eq!(out["v2"], ks::mint_v2(SECRET, &spec, RAND_V2), "{} v2", case.name);
    }
}

// ------------------------------------------------------------------------- python: XML API --

/// Waits until the emulator's recording lifecycle has made `entry` READY (2).
async fn until_ready(state: &EmulatorState, entry: &str) {
    for _ in 0..500 {
        if state.entry_status(PID, entry) == Some(2) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("entry {entry} never became READY: {:?}", state.entry_status(PID, entry));
}

#[tokio::test]
async fn python_client_lists_recordings_in_xml_and_raises_api_errors() {
    let _trace = kalcord_test_util::trace_init();
    let python = venv_python();
    let rig = Rig::start().await;
    let state = rig.state();
    // Two rooms; two recordings of Room-A (five seconds apart) and one of Room-B, all READY.
    let admin = state.mint_ks(PID, "seeder", SessionType::Admin, "", 3_600).expect("admin KS");
    let mut rooms = Vec::new();
    for name in ["Room-A", "Room-B"] {
        let room = rig
            .call(
                "schedule_scheduleresource",
                "add",
                json!({"ks": admin, "scheduleResource": {"objectType": "KalturaLocationScheduleResource",
                       "name": name, "tags": "vcprovider:newrow"}}),
            )
            .await;
        rooms.push(room["id"].as_i64().unwrap_or_else(|| panic!("room {name}: {room}")));
    }
    let record = |room: i64| RecordingRequest {
        partner_id: PID,
        resource_id: Some(room),
        duration_seconds: Some(95),
        ..RecordingRequest::default()
    };
    let first = state.simulate_recording(&record(rooms[0])).expect("recording 1");
    state.advance_clock(5);
    let second = state.simulate_recording(&record(rooms[0])).expect("recording 2");
    let other = state.simulate_recording(&record(rooms[1])).expect("other room's recording");
    for entry in [&first, &second, &other] {
        until_ready(&state, entry).await;
    }
    state.clear_requests();

    let args = [rig.base_url(), PID.to_string(), SECRET.to_owned(), "Room-A".to_owned(), "0_missing1".to_owned()];
    let out = run_json(&python, &python_script("drive.py"), &args).await;
    assert_eq!(out["client"]["version"], PYTHON_CLIENT_VERSION);
    assert_eq!(out["client"]["format"], 2, "the official Python client only speaks XML");

    // Sessions it minted itself, read back by the emulator and by our parser alike.
    for (field, user) in [("v1", "fidelity-py-v1"), ("v2", "fidelity-py")] {
        let text = out["ks"][field].as_str().expect("KS");
        let decoded = ks::decode(text, &[SECRET]).expect("our parser reads it");
        let info = ok(&out[format!("sessionGet{}", field.to_uppercase()).as_str()], "session.get");
        assert_eq!(
            *info,
            json!({"class": "KalturaSessionInfo", "ks": text, "sessionType": 2, "partnerId": PID, "userId": user,
                   "expiry": decoded.expiry, "privileges": "disableentitlement"}),
            "session.get with the {field} KS"
        );
    }

    // media.list: the filter keeps Room-A's READY recordings, newest first; the pager pages.
    let entry = |id: &str, name: &str| json!({"id": id, "name": name});
    let listed = ok(&out["mediaList"], "media.list");
    assert_eq!(listed["class"], "KalturaMediaListResponse");
    assert_eq!(listed["totalCount"], 2, "{listed}");
    let objects = listed["objects"].as_array().expect("objects");
    let summary: Vec<Value> =
        objects.iter().map(|object| json!({"id": object["id"], "name": object["name"]})).collect();
    assert_eq!(summary, [entry(&second, "Room-A - Recording 2"), entry(&first, "Room-A - Recording 1")]);
    for object in objects {
        let id = object["id"].clone();
        for (field, value) in [
            ("class", json!("KalturaMediaEntry")),
            ("partnerId", json!(PID)),
            ("status", json!("2")),
            ("type", json!("1")),
            ("mediaType", json!(1)),
            ("sourceType", json!("1")),
            ("rootEntryId", id.clone()),
            ("duration", json!(95)),
            ("msDuration", json!(95_000)),
            ("width", json!(1280)),
            ("height", json!(720)),
        ] {
            assert_eq!(object[field], value, "media.list {field}: {object}");
        }
    }
    assert!(objects[0]["createdAt"].as_i64() > objects[1]["createdAt"].as_i64(), "-createdAt order: {objects:?}");
    let page2 = ok(&out["mediaListPage2"], "media.list page 2");
    assert_eq!(page2["totalCount"], 2);
    assert_eq!(page2["objects"].as_array().map(Vec::len), Some(1));
    assert_eq!(page2["objects"][0], objects[1], "page 2 of size 1 is the second entry");

    // Errors arrive as KalturaException(message, code), alone or inside a multirequest.
    let not_found = json!({"class": "KalturaException", "code": "ENTRY_ID_NOT_FOUND",
                           "message": "Entry id \"0_missing1\" not found"});
    assert_eq!(*failed(&out["mediaGetMissing"], "media.get of a missing entry"), not_found);
    let multi = out["multirequest"].as_array().expect("multirequest results");
    assert_eq!(multi.len(), 2);
    assert_eq!(multi[0], not_found);
    assert_eq!(multi[1]["class"], "KalturaSessionInfo");
    assert_eq!(multi[1]["userId"], "fidelity-py");
    let forged = out["forgedKs"]["ks"].as_str().expect("forged KS");
    assert_eq!(
        *failed(&out["forgedKs"]["mediaList"], "media.list with a KS of another secret"),
        json!({"class": "KalturaException", "code": "INVALID_KS",
               "message": format!("Invalid KS \"{forged}\", Error \"-1,INVALID_STR\"")})
    );

    assert_python_requests(&rig);
    rig.stop().await;
}

/// The Python client's requests as spec §1.6 captured them: JSON bodies, `format` "2", every
/// scalar a string, typed filter and pager objects, nested multirequest sub-requests.
fn assert_python_requests(rig: &Rig) {
    let all = rig.state().requests();
    assert_eq!(all.len(), 7, "2 session.get, 2 media.list, media.get, multirequest, media.list: {all:#?}");
    for record in &all {
        assert_eq!(record.method, "POST", "{record:?}");
        assert_eq!(record.content_type.as_deref(), Some("application/json"), "{record:?}");
        assert_eq!(record.params["format"], "2", "{record:?}");
        assert_eq!(record.params["clientTag"], PYTHON_CLIENT_TAG, "{record:?}");
        assert_eq!(record.params["apiVersion"], PYTHON_CLIENT_VERSION, "{record:?}");
        assert!(record.params["ks"].is_string() || record.path.ends_with("/multirequest"), "{record:?}");
    }
    let lists = rig.logged("media", Some("list"));
    assert_eq!(lists.len(), 3);
    assert_eq!(lists[0].path, "/api_v3/service/media/action/list");
    assert_eq!(
        keys(&lists[0].params),
        ["action", "apiVersion", "clientTag", "filter", "format", "kalsig", "ks", "pager", "service"]
    );
    assert_eq!(
        lists[0].params["filter"],
        json!({"objectType": "KalturaMediaEntryFilter", "nameLike": "Room-A", "statusEqual": "2",
               "orderBy": "-createdAt"})
    );
    assert_eq!(
        lists[0].params["pager"],
        json!({"objectType": "KalturaFilterPager", "pageIndex": "1", "pageSize": "50"})
    );
    assert_eq!(
        lists[1].params["pager"],
        json!({"objectType": "KalturaFilterPager", "pageIndex": "2", "pageSize": "1"})
    );
    let get = rig.logged("media", Some("get"));
    assert_eq!(get[0].params["entryId"], "0_missing1");
    assert_eq!(get[0].params["version"], "-1", "the client sends the default version");
    let multi = rig.logged("multirequest", None);
    assert_eq!(multi.len(), 1);
    let params = &multi[0].params;
    assert_eq!(keys(params), ["0", "1", "apiVersion", "clientTag", "format", "kalsig", "service"]);
    assert_eq!(keys(&params["0"]), ["action", "entryId", "ks", "service", "version"]);
    assert_eq!((&params["0"]["service"], &params["0"]["action"]), (&json!("media"), &json!("get")));
    assert_eq!((&params["1"]["service"], &params["1"]["action"]), (&json!("session"), &json!("get")));
}
