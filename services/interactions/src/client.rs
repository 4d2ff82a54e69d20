//! A typed client of the meetings and identity services over the bus, whose failures turn
//! into answers a member can read.

use std::time::Duration;

use kalcord_bus::{BusExt, SharedBus};
use kalcord_discord::response::{Choice, InteractionResponse};
use kalcord_proto::subject;
use kalcord_proto::v1::{
    AttachMessageRequest, CreateMeetingRequest, EndMeetingRequest, Error, GetMeetingRequest, Join, JoinReply,
    JoinRequest, ListMeetingsReply, ListMeetingsRequest, Meeting, MeetingReply, NotificationSettings,
    NotificationSettingsReply, NotificationSettingsRequest, RoleMapping, RoleMappingReply, RoleMappingRequest,
    SetupRequest, SyncReply, SyncReport, SyncRequest, TenantReply, TenantRequest, TenantSummary, join_reply,
    meeting_reply, sync_reply,
};

/// Time each service gets to answer.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Time `identity.sync` gets: it reads every member of the server from Discord, within Discord's
/// rate limits (100,000 members take about 10 to 20 s). The interaction is deferred long before.
pub const SYNC_TIMEOUT: Duration = Duration::from_mins(2);

/// The answer when a service did not answer in time.
pub const BUSY: &str = "kalcord is busy; please try again in a minute.";

/// Why a request did not give a result; each one is an answer for the member.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// The service refused (its message is safe to show).
    Refused(Error),
    /// No service answered in time.
    Busy,
    /// Something to tell the member.
    Say(String),
}

impl Failure {
    /// A sentence for the member.
    #[must_use]
    pub fn say(text: impl Into<String>) -> Self {
        Self::Say(text.into())
    }

    /// The sentence the member sees.
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Self::Refused(error) => {
                let message = if error.message.trim().is_empty() {
                    "kalcord couldn't do that. Please try again."
                } else {
                    error.message.trim()
                };
                if error.code == "invalid" && !error.field.is_empty() {
                    format!("{message} (check `{}`)", error.field)
                } else {
                    message.to_owned()
                }
            }
            Self::Busy => BUSY.to_owned(),
            Self::Say(text) => text.clone(),
        }
    }

    /// The failure as an ephemeral reply.
    #[must_use]
    pub fn response(&self) -> InteractionResponse {
        InteractionResponse::ephemeral(&self.text())
    }
}

/// Either answer of a handler's steps.
pub type Outcome<T = InteractionResponse> = Result<T, Failure>;

/// Flattens a step's outcome into the reply.
#[must_use]
pub fn reply(outcome: Outcome) -> InteractionResponse {
    outcome.unwrap_or_else(|failure| failure.response())
}

/// Autocomplete never shows an error: no choices instead.
#[must_use]
pub fn choices(outcome: Outcome<Vec<Choice>>) -> InteractionResponse {
    InteractionResponse::choices(outcome.unwrap_or_default())
}

fn refused(error: Option<Error>) -> Failure {
    Failure::Refused(error.unwrap_or_else(|| Error {
        code: "internal".into(),
        message: "kalcord couldn't do that. Please try again.".into(),
        field: String::new(),
    }))
}

fn present(error: Option<Error>) -> Option<Error> {
    error.filter(|error| !error.code.is_empty() || !error.message.is_empty())
}

/// The meetings and identity services.
#[derive(Clone, Debug)]
pub struct Services {
    bus: SharedBus,
    timeout: Duration,
}

impl Services {
    /// Over `bus`, with the default timeout.
    #[must_use]
    pub fn new(bus: SharedBus) -> Self {
        Self { bus, timeout: TIMEOUT }
    }

    async fn call<Q, R>(&self, subject: &str, request: &Q) -> Outcome<R>
    where
        Q: kalcord_proto::Message,
        R: kalcord_proto::Message + Default,
    {
        self.call_within(subject, request, self.timeout).await
    }

    async fn call_within<Q, R>(&self, subject: &str, request: &Q, timeout: Duration) -> Outcome<R>
    where
        Q: kalcord_proto::Message,
        R: kalcord_proto::Message + Default,
    {
        self.bus.request_proto(subject, request, timeout).await.map_err(|err| {
            metrics::counter!("kalcord_interactions_service_unavailable_total", "subject" => subject.to_owned())
                .increment(1);
            tracing::warn!(subject, error = %err, "service request failed");
            Failure::Busy
        })
    }

    async fn meeting(&self, subject: &str, request: &impl kalcord_proto::Message) -> Outcome<(Meeting, bool)> {
        let reply: MeetingReply = self.call(subject, request).await?;
        match reply.result {
            Some(meeting_reply::Result::Meeting(meeting)) => Ok((meeting, reply.replayed)),
            Some(meeting_reply::Result::Error(error)) => Err(refused(Some(error))),
            None => Err(refused(None)),
        }
    }

    /// `meetings.create`: the meeting, and whether the key had already created it.
    ///
    /// # Errors
    ///
    /// The service's refusal, or [`Failure::Busy`].
    pub async fn create(&self, request: &CreateMeetingRequest) -> Outcome<(Meeting, bool)> {
        self.meeting(subject::MEETINGS_CREATE, request).await
    }

    /// `meetings.get`.
    ///
    /// # Errors
    ///
    /// The service's refusal, or [`Failure::Busy`].
    pub async fn get(&self, request: &GetMeetingRequest) -> Outcome<Meeting> {
        self.meeting(subject::MEETINGS_GET, request).await.map(|(meeting, _)| meeting)
    }

    /// `meetings.list`.
    ///
    /// # Errors
    ///
    /// The service's refusal, or [`Failure::Busy`].
    pub async fn list(&self, request: &ListMeetingsRequest) -> Outcome<Vec<Meeting>> {
        let reply: ListMeetingsReply = self.call(subject::MEETINGS_LIST, request).await?;
        match present(reply.error) {
            Some(error) => Err(refused(Some(error))),
            None => Ok(reply.meetings),
        }
    }

    /// `meetings.end` (LIVE) or `meetings.cancel` (SCHEDULED) when `cancel`.
    ///
    /// # Errors
    ///
    /// The service's refusal, or [`Failure::Busy`].
    pub async fn end(&self, request: &EndMeetingRequest, cancel: bool) -> Outcome<Meeting> {
        let subject = if cancel { subject::MEETINGS_CANCEL } else { subject::MEETINGS_END };
        self.meeting(subject, request).await.map(|(meeting, _)| meeting)
    }

    /// `meetings.attach_message`.
    ///
    /// # Errors
    ///
    /// The service's refusal, or [`Failure::Busy`].
    pub async fn attach_message(&self, request: &AttachMessageRequest) -> Outcome<Meeting> {
        self.meeting(subject::MEETINGS_ATTACH_MESSAGE, request).await.map(|(meeting, _)| meeting)
    }

    /// `identity.join`: the actor's personal way in.
    ///
    /// # Errors
    ///
    /// The service's refusal, or [`Failure::Busy`].
    pub async fn join(&self, request: &JoinRequest) -> Outcome<Join> {
        let reply: JoinReply = self.call(subject::IDENTITY_JOIN, request).await?;
        match reply.result {
            Some(join_reply::Result::Join(join)) => Ok(join),
            Some(join_reply::Result::Error(error)) => Err(refused(Some(error))),
            None => Err(refused(None)),
        }
    }

    /// `identity.roles.map`, `identity.roles.unmap` or `identity.roles.list` (`subject`): the
    /// guild's mappings after the change.
    ///
    /// # Errors
    ///
    /// The service's refusal, or [`Failure::Busy`].
    pub async fn roles(&self, subject: &str, request: &RoleMappingRequest) -> Outcome<Vec<RoleMapping>> {
        let reply: RoleMappingReply = self.call(subject, request).await?;
        match present(reply.error) {
            Some(error) => Err(refused(Some(error))),
            None => Ok(reply.mappings),
        }
    }

    /// `identity.setup`.
    ///
    /// # Errors
    ///
    /// The service's refusal, or [`Failure::Busy`].
    pub async fn setup(&self, request: &SetupRequest) -> Outcome<TenantSummary> {
        let reply: TenantReply = self.call(subject::IDENTITY_SETUP, request).await?;
        Self::tenant_of(reply)
    }

    /// `identity.tenant`.
    ///
    /// # Errors
    ///
    /// The service's refusal, or [`Failure::Busy`].
    pub async fn tenant(&self, request: &TenantRequest) -> Outcome<TenantSummary> {
        let reply: TenantReply = self.call(subject::IDENTITY_TENANT, request).await?;
        Self::tenant_of(reply)
    }

    /// `identity.notifications`: the guild's notification settings after the change asked for.
    ///
    /// # Errors
    ///
    /// The service's refusal, or [`Failure::Busy`].
    pub async fn notifications(&self, request: &NotificationSettingsRequest) -> Outcome<NotificationSettings> {
        let reply: NotificationSettingsReply = self.call(subject::IDENTITY_NOTIFICATIONS, request).await?;
        match present(reply.error) {
            Some(error) => Err(refused(Some(error))),
            None => Ok(reply.settings.unwrap_or_default()),
        }
    }

    /// `identity.sync`, given [`SYNC_TIMEOUT`] to answer.
    ///
    /// # Errors
    ///
    /// The service's refusal, or [`Failure::Busy`].
    pub async fn sync(&self, request: &SyncRequest) -> Outcome<SyncReport> {
        let reply: SyncReply = self.call_within(subject::IDENTITY_SYNC, request, SYNC_TIMEOUT).await?;
        match reply.result {
            Some(sync_reply::Result::Report(report)) => Ok(report),
            Some(sync_reply::Result::Error(error)) => Err(refused(Some(error))),
            None => Err(refused(None)),
        }
    }

    fn tenant_of(reply: TenantReply) -> Outcome<TenantSummary> {
        match present(reply.error) {
            Some(error) => Err(refused(Some(error))),
            None => Ok(reply.tenant.unwrap_or_default()),
        }
    }
}
