//! Service and action routing (`KalturaDispatcher`), one call at a time.

use super::auth::{Access, Caller, authorize};
use super::errors::ApiError;
use super::object::{Input, read_object};
use super::params::{Param, Params, php_int};
use super::schema::Class;
use super::services::{entry, event, event_resource, resource, session, system, user};
use super::value::Val;
use crate::model::FaultKind;
use crate::state::{Inner, PartnerData};

/// What a call returns.
pub(crate) type Outcome = Result<Val, ApiError>;

type Handler = fn(&Ctx<'_>) -> Outcome;

struct ActionDef {
    name: &'static str,
    access: Access,
    run: Handler,
}

struct ServiceDef {
    id: &'static str,
    actions: &'static [ActionDef],
}

const fn act(name: &'static str, access: Access, run: Handler) -> ActionDef {
    ActionDef { name, access, run }
}

use Access::{Admin, AnyKs, Ignored, Optional};

/// Service ids as the server knows them (plugin services are `{plugin}_{service}`).
static SERVICES: &[ServiceDef] = &[
    ServiceDef {
        id: "session",
        actions: &[
            act("start", Ignored, session::start),
            act("end", Optional, session::end),
            act("get", AnyKs, session::get),
        ],
    },
    ServiceDef {
        id: "system",
        actions: &[act("ping", Ignored, system::ping), act("getTime", Ignored, system::get_time)],
    },
    ServiceDef { id: "elasticsearch_esearch", actions: &[act("searchEntry", Admin, system::search_entry)] },
    ServiceDef {
        id: "user",
        actions: &[
            act("add", Admin, user::add),
            act("get", AnyKs, user::get),
            act("update", Admin, user::update),
            act("delete", Admin, user::delete),
            act("list", Admin, user::list),
        ],
    },
    ServiceDef {
        id: "media",
        actions: &[
            act("get", Admin, entry::media_get),
            act("list", Admin, entry::media_list),
            act("delete", Admin, entry::media_delete),
        ],
    },
    ServiceDef {
        id: "livestream",
        actions: &[
            act("add", Admin, entry::live_add),
            act("get", Admin, entry::live_get),
            act("delete", Admin, entry::live_delete),
            act("list", Admin, entry::live_list),
        ],
    },
    ServiceDef {
        id: "schedule_scheduleresource",
        actions: &[
            act("add", Admin, resource::add),
            act("get", Admin, resource::get),
            act("update", Admin, resource::update),
            act("delete", Admin, resource::delete),
            act("list", Admin, resource::list),
        ],
    },
    ServiceDef {
        id: "schedule_scheduleevent",
        actions: &[
            act("add", Admin, event::add),
            act("get", Admin, event::get),
            act("update", Admin, event::update),
            act("cancel", Admin, event::cancel),
            act("delete", Admin, event::delete),
            act("list", Admin, event::list),
        ],
    },
    ServiceDef {
        id: "schedule_scheduleeventresource",
        actions: &[
            act("add", Admin, event_resource::add),
            act("get", Admin, event_resource::get),
            act("delete", Admin, event_resource::delete),
            act("list", Admin, event_resource::list),
        ],
    },
];

/// Everything an action handler sees.
pub(crate) struct Ctx<'a> {
    pub inner: &'a Inner,
    pub params: &'a Params,
    pub caller: Caller,
    pub now: i64,
}

impl Ctx<'_> {
    /// A scalar parameter.
    pub fn opt_str(&self, name: &str) -> Option<String> {
        self.params.get(name).and_then(Param::as_str).map(str::to_owned)
    }

    /// A mandatory scalar parameter.
    pub fn req_str(&self, name: &str) -> Result<String, ApiError> {
        self.opt_str(name).ok_or_else(|| ApiError::missing(name))
    }

    /// An integer parameter.
    pub fn opt_int(&self, name: &str) -> Option<i64> {
        self.params.get(name).and_then(Param::as_str).map(php_int)
    }

    /// A mandatory integer parameter.
    pub fn req_int(&self, name: &str) -> Result<i64, ApiError> {
        self.opt_int(name).ok_or_else(|| ApiError::missing(name))
    }

    /// A mandatory object parameter declared as `class`.
    pub fn req_object(&self, name: &str, class: &'static Class) -> Result<Input, ApiError> {
        read_object(self.params, name, class, self.now)?.ok_or_else(|| ApiError::missing(name))
    }

    /// Runs `work` on the caller's partner under the world lock.
    pub fn with_partner<T>(&self, work: impl FnOnce(&mut PartnerData) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let mut world = self.inner.world.lock();
        let partner_id = self.caller.partner_id;
        let partner = world
            .partners
            .get_mut(&partner_id)
            .ok_or_else(|| ApiError::new("INVALID_PARTNER_ID", &[&partner_id.to_string()]))?;
        work(partner)
    }
}

/// Runs one call (a request, or a sub-request of a multirequest).
pub(crate) fn call(inner: &Inner, params: &Params) -> Outcome {
    let text = |name: &str| params.get(name).and_then(Param::as_str).map(str::trim).filter(|value| !value.is_empty());
    let service =
        text("service").map(str::to_ascii_lowercase).ok_or_else(|| ApiError::new("SERVICE_NOT_SPECIFIED", &[]))?;
    let action = text("action").ok_or_else(|| ApiError::new("ACTION_NOT_SPECIFIED", &[]))?;
    let service_def = SERVICES
        .iter()
        .find(|candidate| candidate.id == service)
        .ok_or_else(|| ApiError::new("SERVICE_DOES_NOT_EXISTS", &[&service]))?;
    let action_def = service_def
        .actions
        .iter()
        .find(|candidate| candidate.name.eq_ignore_ascii_case(action))
        .ok_or_else(|| ApiError::new("ACTION_DOES_NOT_EXISTS", &[action, &service]))?;
    let injected = inner.faults.lock().take(service_def.id, action_def.name, false);
    match injected {
        Some(FaultKind::ActionBlocked) => {
            return Err(ApiError::new("ACTION_BLOCKED", &[action_def.name, service_def.id]));
        }
        Some(_) => return Err(ApiError::invalid_ks_status("EXPIRED")),
        None => {}
    }
    let now = inner.now();
    let service_action = format!("{}->{}", service_def.id, action_def.name);
    let caller = authorize(&inner.world.lock(), params, &service_action, action_def.access, now)?;
    (action_def.run)(&Ctx { inner, params, caller, now })
}

/// The `service` and `action` of a request, lowercased, for logs and fault matching.
pub(crate) fn names(params: &Params) -> (Option<String>, Option<String>) {
    let text = |name: &str| {
        params
            .get(name)
            .and_then(Param::as_str)
            .map(|value| value.trim().to_ascii_lowercase())
            .filter(|value| !value.is_empty())
    };
    (text("service"), text("action"))
}
