//! Polite answers for everything no handler takes: never a timeout, never a stack trace.

use kalcord_discord::custom_id::CustomIdError;
use kalcord_discord::response::InteractionResponse;

use crate::route::Route;

/// The answer when no handler matches `route`.
#[must_use]
pub fn unhandled(route: &Route) -> InteractionResponse {
    match route {
        Route::Autocomplete { .. } => InteractionResponse::choices(Vec::new()),
        Route::Component(Err(CustomIdError::Outdated(_))) | Route::Modal(Err(CustomIdError::Outdated(_)), _) => {
            InteractionResponse::ephemeral(
                "This button comes from an older version of kalcord and no longer works. Use `/meeting list` to find the meeting again.",
            )
        }
        Route::Component(Err(_)) | Route::Modal(Err(_), _) => {
            InteractionResponse::ephemeral("That control isn't one kalcord knows.")
        }
        Route::Command { name, .. } => InteractionResponse::ephemeral(&format!(
            "kalcord doesn't know `/{name}` in this form. Discord may still show an old command list; it refreshes on its own shortly."
        )),
        _ => InteractionResponse::ephemeral("kalcord can't handle this kind of interaction."),
    }
}

/// The answer when a handler failed.
#[must_use]
pub fn failed(route: &Route) -> InteractionResponse {
    match route {
        Route::Autocomplete { .. } => InteractionResponse::choices(Vec::new()),
        _ => InteractionResponse::ephemeral(
            "Something went wrong on our side and it has been logged. Please try again in a moment.",
        ),
    }
}

/// The answer when the interaction JSON could not be read.
#[must_use]
pub fn unreadable() -> InteractionResponse {
    InteractionResponse::ephemeral("kalcord couldn't read this interaction. Please try again.")
}
