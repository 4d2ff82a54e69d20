//! Everything the emulator remembers, behind locks, and the handle tests drive it with.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kalcord_kaltura::ks::{KsSpec, Minter, Privileges, SessionType};
use parking_lot::Mutex;

use crate::api::object::Record;
use crate::config::PartnerConfig;
use crate::error::EmulatorError;
use crate::faults::FaultState;
use crate::model::{
    Fault, KafLaunch, RecordingRequest, RequestRecord, WebhookDelivery, WebhookInfo, WebhookSubscription,
};
use crate::webhooks::Hook;

/// Timing knobs fixed at start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub webhook_retry_delay: Duration,
    pub webhook_max_attempts: u32,
    pub recording_step_delay: Duration,
}

/// One partner's objects and sessions.
#[derive(Debug)]
pub(crate) struct PartnerData {
    pub config: PartnerConfig,
    pub users: BTreeMap<String, Record>,
    pub resources: BTreeMap<i64, Record>,
    pub events: BTreeMap<i64, Record>,
    pub links: Vec<Record>,
    pub entries: BTreeMap<String, Record>,
    pub revoked_ks: HashSet<String>,
    pub revoked_sessions: HashSet<String>,
    pub recordings_per_room: HashMap<String, u32>,
}

impl PartnerData {
    pub fn new(config: PartnerConfig) -> Self {
        Self {
            config,
            users: BTreeMap::new(),
            resources: BTreeMap::new(),
            events: BTreeMap::new(),
            links: Vec::new(),
            entries: BTreeMap::new(),
            revoked_ks: HashSet::new(),
            revoked_sessions: HashSet::new(),
            recordings_per_room: HashMap::new(),
        }
    }

    fn clear(&mut self) {
        *self = Self::new(self.config.clone());
    }
}

/// All partners.
#[derive(Debug, Default)]
pub(crate) struct World {
    pub partners: BTreeMap<i64, PartnerData>,
}

#[derive(Debug, Default)]
struct ClockState {
    fixed: Option<i64>,
    offset: i64,
}

/// Shared state of one emulator.
pub(crate) struct Inner {
    pub world: Mutex<World>,
    clock: Mutex<ClockState>,
    pub faults: Mutex<FaultState>,
    pub log: Mutex<Vec<RequestRecord>>,
    pub launches: Mutex<Vec<KafLaunch>>,
    pub deliveries: Mutex<Vec<WebhookDelivery>>,
    pub hooks: Mutex<BTreeMap<i64, Hook>>,
    pub tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    pub settings: Settings,
    pub base_url: String,
    pub runtime: tokio::runtime::Handle,
    pub http: reqwest::Client,
    seq: AtomicU64,
    next_resource_id: AtomicI64,
    next_event_id: AtomicI64,
    pub next_hook_id: AtomicI64,
    pub next_job_id: AtomicI64,
}

impl Inner {
    pub fn new(settings: Settings, base_url: String, runtime: tokio::runtime::Handle, http: reqwest::Client) -> Self {
        Self {
            world: Mutex::new(World::default()),
            clock: Mutex::new(ClockState::default()),
            faults: Mutex::new(FaultState::default()),
            log: Mutex::new(Vec::new()),
            launches: Mutex::new(Vec::new()),
            deliveries: Mutex::new(Vec::new()),
            hooks: Mutex::new(BTreeMap::new()),
            tasks: Mutex::new(Vec::new()),
            settings,
            base_url,
            runtime,
            http,
            seq: AtomicU64::new(1),
            next_resource_id: AtomicI64::new(1_100_601),
            next_event_id: AtomicI64::new(3_371_011),
            next_hook_id: AtomicI64::new(26_970_222),
            next_job_id: AtomicI64::new(33_578_094_492),
        }
    }

    /// Emulator time, Unix seconds.
    pub fn now(&self) -> i64 {
        let clock = self.clock.lock();
        clock.fixed.unwrap_or_else(|| system_now().saturating_add(clock.offset))
    }

    /// A fresh sequence number (creation order of everything).
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// A fresh schedule resource id.
    pub fn next_resource_id(&self) -> i64 {
        self.next_resource_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A fresh schedule event id.
    pub fn next_event_id(&self) -> i64 {
        self.next_event_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Spawns a background task that `stop` aborts.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let handle = self.runtime.spawn(task);
        let mut tasks = self.tasks.lock();
        tasks.retain(|task| !task.is_finished());
        tasks.push(handle);
    }

    /// Aborts every background task.
    pub fn abort_tasks(&self) {
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
    }
}

/// Most entries kept per record list (request log, launches, deliveries) in long sandbox runs.
const MAX_RECORDS: usize = 10_000;

/// Appends to a record list, dropping the oldest tenth once it is full.
pub(crate) fn push_capped<T>(list: &mut Vec<T>, item: T) {
    if list.len() >= MAX_RECORDS {
        list.drain(..MAX_RECORDS / 10);
    }
    list.push(item);
}

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
}

/// A cheap, cloneable handle on a running emulator's state.
#[derive(Clone)]
pub struct EmulatorState {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for EmulatorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorState").field("base_url", &self.inner.base_url).finish_non_exhaustive()
    }
}

impl EmulatorState {
    /// Base URL of the emulator: `api_v3` service URL and KAF host.
    #[must_use]
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// Makes the next matching calls fail (see [`Fault`]).
    pub fn inject_fault(&self, fault: Fault) {
        self.inner.faults.lock().faults.push(fault);
    }

    /// Faults still pending.
    #[must_use]
    pub fn faults(&self) -> Vec<Fault> {
        self.inner.faults.lock().faults.clone()
    }

    /// Drops pending faults.
    pub fn clear_faults(&self) {
        self.inner.faults.lock().faults.clear();
    }

    /// Delays `api_v3` HTTP requests to `service.action` (`None` matches any) by `delay`.
    pub fn set_latency(&self, service: Option<&str>, action: Option<&str>, delay: Duration) {
        self.inner.faults.lock().set_latency(service, action, delay);
    }

    /// Removes every latency rule.
    pub fn clear_latency(&self) {
        self.inner.faults.lock().latency.clear();
    }

    /// The `api_v3` request log, oldest first.
    #[must_use]
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.inner.log.lock().clone()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.inner.log.lock().clear();
    }

    /// KAF launches, oldest first.
    #[must_use]
    pub fn launches(&self) -> Vec<KafLaunch> {
        self.inner.launches.lock().clone()
    }

    /// Forgets KAF launches.
    pub fn clear_launches(&self) {
        self.inner.launches.lock().clear();
    }

    /// Webhook delivery attempts, oldest first.
    #[must_use]
    pub fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.inner.deliveries.lock().clone()
    }

    /// Forgets webhook deliveries.
    pub fn clear_deliveries(&self) {
        self.inner.deliveries.lock().clear();
    }

    /// Adds a partner.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::DuplicatePartner`], or [`EmulatorError::InvalidPartner`] without an admin secret.
    pub fn add_partner(&self, partner: PartnerConfig) -> Result<(), EmulatorError> {
        if partner.admin_secrets.iter().all(String::is_empty) || partner.id <= 0 {
            return Err(EmulatorError::InvalidPartner(format!(
                "partner {} needs a positive id and an admin secret",
                partner.id
            )));
        }
        let mut world = self.inner.world.lock();
        if world.partners.contains_key(&partner.id) {
            return Err(EmulatorError::DuplicatePartner(partner.id));
        }
        world.partners.insert(partner.id, PartnerData::new(partner));
        Ok(())
    }

    /// Removes a partner and all its objects; whether it existed.
    pub fn remove_partner(&self, id: i64) -> bool {
        self.inner.world.lock().partners.remove(&id).is_some()
    }

    /// Configured partners (secrets included: this is a test fixture).
    #[must_use]
    pub fn partners(&self) -> Vec<PartnerConfig> {
        self.inner.world.lock().partners.values().map(|partner| partner.config.clone()).collect()
    }

    /// Subscribes a webhook to entry status changes of a partner; returns its template id.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::WebhookUrl`] unless the URL is `http://127.0.0.1...`;
    /// [`EmulatorError::UnknownPartner`].
    pub fn subscribe_webhook(&self, subscription: WebhookSubscription) -> Result<i64, EmulatorError> {
        crate::webhooks::subscribe(&self.inner, subscription)
    }

    /// Removes a subscription; whether it existed.
    pub fn unsubscribe_webhook(&self, id: i64) -> bool {
        self.inner.hooks.lock().remove(&id).is_some()
    }

    /// Subscriptions.
    #[must_use]
    pub fn webhooks(&self) -> Vec<WebhookInfo> {
        self.inner.hooks.lock().iter().map(|(id, hook)| hook.info(*id)).collect()
    }

    /// Simulates a recording of a room: creates a media entry (status 7) that then goes to
    /// 1 and 2 after the configured step delay each, notifying webhooks at each change.
    /// Returns the entry id.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::UnknownPartner`], [`EmulatorError::NoSuchRoom`], [`EmulatorError::RecordingTarget`].
    pub fn simulate_recording(&self, request: &RecordingRequest) -> Result<String, EmulatorError> {
        crate::recordings::simulate(&self.inner, request)
    }

    /// Status of an entry (`None` when unknown).
    #[must_use]
    pub fn entry_status(&self, partner_id: i64, entry_id: &str) -> Option<i64> {
        let world = self.inner.world.lock();
        world.partners.get(&partner_id)?.entries.get(entry_id)?.int("status")
    }

    /// Emulator time, Unix seconds.
    #[must_use]
    pub fn now(&self) -> i64 {
        self.inner.now()
    }

    /// Freezes the clock at `now` (Unix seconds), or lets it follow the system clock again.
    pub fn set_now(&self, now: Option<i64>) {
        let mut clock = self.inner.clock.lock();
        clock.fixed = now;
        clock.offset = 0;
    }

    /// Moves the clock by `seconds` (frozen or not).
    pub fn advance_clock(&self, seconds: i64) {
        let mut clock = self.inner.clock.lock();
        match clock.fixed.as_mut() {
            Some(fixed) => *fixed = fixed.saturating_add(seconds),
            None => clock.offset = clock.offset.saturating_add(seconds),
        }
    }

    /// Mints a v2 KS for a partner, as `session.start` would (expiry clamped likewise).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::UnknownPartner`].
    pub fn mint_ks(
        &self,
        partner_id: i64,
        user_id: &str,
        session_type: SessionType,
        privileges: &str,
        expires_in: i64,
    ) -> Result<String, EmulatorError> {
        let now = self.inner.now();
        let world = self.inner.world.lock();
        let partner = world.partners.get(&partner_id).ok_or(EmulatorError::UnknownPartner(partner_id))?;
        let secret = partner.config.signing_secret().ok_or(EmulatorError::UnknownPartner(partner_id))?;
        let expires_in =
            if expires_in <= 0 { partner.config.max_expiry() } else { expires_in.min(partner.config.max_expiry()) };
        let privileges = Privileges::parse(privileges);
        let spec = KsSpec {
            expiry: now.saturating_add(expires_in),
            partner_id,
            privileges: &privileges,
            session_type,
            user_id,
        };
        Ok(Minter::new(partner_id, secret).mint(&spec))
    }

    /// Forgets every object, session revocation, log, launch, delivery and fault; partners and
    /// webhook subscriptions stay.
    pub fn reset(&self) {
        for partner in self.inner.world.lock().partners.values_mut() {
            partner.clear();
        }
        self.clear_requests();
        self.clear_launches();
        self.clear_deliveries();
        self.clear_faults();
        self.clear_latency();
        self.set_now(None);
    }
}
