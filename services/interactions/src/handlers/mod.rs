//! The handlers this service registers.

mod kaltura;
mod meeting;
mod status;

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use kalcord_discord::response::InteractionResponse;
use kalcord_proto::v1::Actor;
pub use status::KalturaStatus;

use crate::client::{Failure, Outcome, Services, reply};
use crate::handler::{Ctx, Handler, HandlerError, Registry};

/// A handler made of an async function whose failures are answers for the member.
struct Func<F>(F);

#[async_trait]
impl<F, Fut> Handler for Func<F>
where
    F: Fn(Ctx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    async fn handle(&self, ctx: &Ctx) -> Result<InteractionResponse, HandlerError> {
        Ok(reply((self.0)(ctx.clone()).await))
    }
}

/// The acting member, or the answer outside a server.
async fn actor_of(ctx: &Ctx) -> Outcome<Actor> {
    crate::actor::actor(ctx).await.ok_or_else(|| Failure::say(crate::actor::GUILD_ONLY))
}

/// The meetings and identity services.
fn services(ctx: &Ctx) -> Services {
    Services::new(Arc::clone(&ctx.app.deps.bus))
}

/// Every handler, by route key.
#[must_use]
pub fn registry() -> Registry {
    Registry::default()
        .with("command:kaltura status", KalturaStatus)
        .with("command:kaltura setup", Func(kaltura::setup))
        .with("modal:setup", Func(kaltura::setup_submit))
        .with("command:kaltura roles map", Func(kaltura::roles_map))
        .with("command:kaltura roles unmap", Func(kaltura::roles_unmap))
        .with("command:kaltura roles list", Func(kaltura::roles_list))
        .with("command:kaltura sync", Func(kaltura::sync))
        .with("command:kaltura notifications", Func(kaltura::notifications))
        .with("command:meeting start", Func(meeting::start))
        .with("command:meeting schedule", Func(meeting::schedule))
        .with("command:meeting join", Func(meeting::join_command))
        .with("command:meeting list", Func(meeting::list))
        .with("command:meeting info", Func(meeting::info))
        .with("command:meeting end", Func(meeting::end_command))
        .with("component:join", Func(meeting::join_button))
        .with("component:end", Func(meeting::end_click))
        .with("component:cancel", Func(meeting::cancel_click))
        .with("autocomplete:meeting schedule", Func(meeting::autocomplete))
        .with("autocomplete:meeting join", Func(meeting::autocomplete))
        .with("autocomplete:meeting info", Func(meeting::autocomplete))
        .with("autocomplete:meeting end", Func(meeting::autocomplete))
}
