//! A running meetings service on the in-process bus, a real store, the Kaltura emulator and
//! a scripted `identity.role` responder.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use kalcord_bus::{BusExt as _, MemoryBus, Message, SharedBus};
use kalcord_kaltura::Client;
use kalcord_kaltura_emulator::{Emulator, EmulatorConfig, EmulatorState, PartnerConfig};
use kalcord_meetings::{Config, Meetings};
use kalcord_proto::Message as _;
use kalcord_proto::subject;
use kalcord_proto::v1::{
    Actor, CreateMeetingRequest, Meeting, MeetingKind, MeetingReply, MeetingRole, RoleReply, RoleRequest, meeting_reply,
};
use kalcord_runtime::{CancellationToken, CommonConfig, Deps, Service as _};
use kalcord_store::Store;
use sea_orm::{EntityTrait as _, PaginatorTrait as _};
use tokio::task::JoinHandle;

pub const PARTNER: i64 = 2_345_678;
pub const SECRET: &str = "fedcba9876543210fedcba9876543210";
pub const GUILD_A: u64 = 111_111_111_111;
pub const GUILD_B: u64 = 222_222_222_222;
pub const HOST: u64 = 1_001;
pub const MEMBER: u64 = 1_002;
pub const OTHER_HOST: u64 = 1_003;

/// Options of a harness.
pub struct Options {
    pub store_url: String,
    pub kaltura: bool,
    pub identity: bool,
    pub kaltura_timeout: Duration,
    /// Bus to run on (real NATS); the in-process bus when `None`.
    pub bus: Option<SharedBus>,
    /// `meetings.reminder_lead`.
    pub reminder_lead: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            store_url: "sqlite::memory:".to_owned(),
            kaltura: true,
            identity: true,
            kaltura_timeout: Duration::from_secs(3),
            bus: None,
            reminder_lead: kalcord_meetings::DEFAULT_REMINDER_LEAD,
        }
    }
}

pub struct Harness {
    pub bus: SharedBus,
    pub store: Store,
    pub emulator: Emulator,
    pub kaltura: Client,
    roles: Arc<scripted::Roles>,
    shutdown: CancellationToken,
    service: JoinHandle<Result<(), kalcord_meetings::Error>>,
    identity: Option<JoinHandle<()>>,
}

/// Roles per user, read by the identity responder (attendee unless set).
mod scripted {
    use std::collections::HashMap;

    use parking_lot::Mutex;

    use kalcord_proto::v1::MeetingRole;

    #[derive(Default)]
    pub struct Roles(pub Mutex<HashMap<u64, MeetingRole>>);

    impl Roles {
        pub fn get(&self, user: u64) -> MeetingRole {
            self.0.lock().get(&user).copied().unwrap_or(MeetingRole::Attendee)
        }
    }
}

impl Harness {
    pub async fn new() -> Self {
        Self::with(Options::default()).await
    }

    pub async fn with(options: Options) -> Self {
        kalcord_test_util::install_crypto();
        let emulator = Emulator::start(EmulatorConfig::default().with_partner(PartnerConfig::new(PARTNER, SECRET)))
            .await
            .expect("emulator starts");
        let mut common = CommonConfig::defaults();
        common.kaltura.service_url = emulator.base_url().parse().expect("emulator url");
        common.kaltura.kaf_url = Some(emulator.base_url().parse().expect("emulator url"));
        common.kaltura.timeout = options.kaltura_timeout;
        common.kaltura.partner_id = Some(PARTNER);
        common.kaltura.admin_secret = Some(kalcord_config::Secret::new(SECRET));
        let kaltura = Client::new(common.kaltura.default_client().expect("default partner")).expect("client");
        if !options.kaltura {
            common.kaltura.partner_id = None;
            common.kaltura.admin_secret = None;
        }
        let store = Store::connect(&options.store_url).await.expect("store connects");
        store.migrate().await.expect("migrations apply");
        let bus: SharedBus = options.bus.clone().unwrap_or_else(|| Arc::new(MemoryBus::new("")));
        for stream in kalcord_bus::spec::streams() {
            bus.ensure_stream(&stream).await.expect("streams declared");
        }
        let roles = Arc::new(scripted::Roles::default());
        {
            let mut map = roles.0.lock();
            map.insert(HOST, MeetingRole::Host);
            map.insert(OTHER_HOST, MeetingRole::Host);
        }
        let identity = if options.identity { Some(identity_responder(&bus, Arc::clone(&roles)).await) } else { None };
        let deps = Deps {
            bus: bus.clone(),
            cache: None,
            common: Arc::new(common),
            instance: "test".into(),
            started: Instant::now(),
            store: Some(store.clone()),
        };
        let config = Config {
            max_in_flight: 8,
            identity_timeout: Duration::from_millis(300),
            reminder_lead: options.reminder_lead,
            reminder_poll: Duration::from_millis(100),
            ..Config::default()
        };
        let service = Meetings::build(config, deps).await.expect("service builds");
        let shutdown = CancellationToken::new();
        let service = tokio::spawn(service.run(shutdown.clone()));
        // NOTE: the service subscribes asynchronously; wait until a request gets an answer.
        let probe = kalcord_proto::v1::GetMeetingRequest { actor: Some(actor(GUILD_A, HOST)), meeting_id: "x".into() };
        for _ in 0..100 {
            let reply: Result<MeetingReply, _> =
                bus.request_proto(subject::MEETINGS_GET, &probe, Duration::from_millis(200)).await;
            if reply.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self { bus, store, emulator, kaltura, roles, shutdown, service, identity }
    }

    pub fn emulator(&self) -> EmulatorState {
        self.emulator.state()
    }

    pub fn set_role(&self, user: u64, role: MeetingRole) {
        self.roles.0.lock().insert(user, role);
    }

    pub async fn call<Q, R>(&self, subject: &str, request: &Q) -> R
    where
        Q: kalcord_proto::Message,
        R: kalcord_proto::Message + Default,
    {
        self.bus.request_proto(subject, request, Duration::from_secs(15)).await.expect("the meetings service answers")
    }

    pub async fn raw(&self, subject: &str, payload: Vec<u8>) -> Vec<u8> {
        let reply = self.bus.request(subject, Message::new(payload), Duration::from_secs(15)).await.expect("answer");
        reply.payload.to_vec()
    }

    pub async fn create(&self, request: CreateMeetingRequest) -> MeetingReply {
        self.call(subject::MEETINGS_CREATE, &request).await
    }

    pub async fn meeting_rows(&self) -> u64 {
        kalcord_store::entity::meeting::Entity::find().count(self.store.connection()).await.expect("count")
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.service.await.expect("service task").expect("service stops cleanly");
        if let Some(identity) = self.identity {
            identity.abort();
        }
        self.emulator.stop().await;
    }
}

async fn identity_responder(bus: &SharedBus, roles: Arc<scripted::Roles>) -> JoinHandle<()> {
    let mut requests = bus.serve(subject::IDENTITY_ROLE, "identity").await.expect("serve identity.role");
    tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            let reply = match RoleRequest::decode(request.message.payload.as_ref()) {
                Ok(RoleRequest { actor: Some(actor) }) => {
                    RoleReply { role: roles.get(actor.user_id).into(), reason: "test".into(), error: None }
                }
                _ => RoleReply::default(),
            };
            let _ = request.respond(Message::new(reply.encode_to_vec())).await;
        }
    })
}

pub fn actor(guild: u64, user: u64) -> Actor {
    Actor { guild_id: guild, user_id: user, display_name: format!("user {user}"), ..Actor::default() }
}

pub fn create_request(guild: u64, user: u64, key: &str, title: &str) -> CreateMeetingRequest {
    CreateMeetingRequest {
        actor: Some(actor(guild, user)),
        kind: MeetingKind::MeetingRoom.into(),
        title: title.to_owned(),
        idempotency_key: key.to_owned(),
        ..CreateMeetingRequest::default()
    }
}

pub fn meeting(reply: &MeetingReply) -> &Meeting {
    match &reply.result {
        Some(meeting_reply::Result::Meeting(meeting)) => meeting,
        other => panic!("expected a meeting, got {other:?}"),
    }
}

pub fn error(reply: &MeetingReply) -> &kalcord_proto::v1::Error {
    match &reply.result {
        Some(meeting_reply::Result::Error(error)) => error,
        other => panic!("expected an error, got {other:?}"),
    }
}

pub fn in_hours(hours: i64) -> i64 {
    (chrono::Utc::now() + chrono::TimeDelta::hours(hours)).timestamp_millis()
}
