//! `system`: liveness checks clients use.

use crate::api::dispatch::{Ctx, Outcome};
use crate::api::value::{Obj, Val};

/// `system.ping` → `true`.
#[allow(clippy::unnecessary_wraps)] // NOTE: every handler has the same signature.
pub(crate) fn ping(_ctx: &Ctx<'_>) -> Outcome {
    Ok(Val::Bool(true))
}

/// `system.getTime` → the emulator clock.
#[allow(clippy::unnecessary_wraps)] // NOTE: every handler has the same signature.
pub(crate) fn get_time(ctx: &Ctx<'_>) -> Outcome {
    Ok(Val::Int(ctx.now))
}

/// `elasticsearch_esearch.searchEntry` → an empty `KalturaESearchEntryResponse` (a stub: the
/// emulator does not index anything; it exists for permission checks).
#[allow(clippy::unnecessary_wraps)] // NOTE: every handler has the same signature.
pub(crate) fn search_entry(_ctx: &Ctx<'_>) -> Outcome {
    let response =
        Obj::new("KalturaESearchEntryResponse").with("objects", Val::Arr(Vec::new())).with("totalCount", Val::Int(0));
    Ok(Val::Obj(response))
}
