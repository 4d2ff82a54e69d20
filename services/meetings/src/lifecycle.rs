//! The meeting lifecycle: `SCHEDULED -> LIVE -> ENDED`, or `SCHEDULED -> CANCELLED`.
//!
//! `ENDED` and `CANCELLED` are final; a scheduled meeting cannot end without going live.

use kalcord_store::entity::MeetingStatus;

use crate::failure::{ALREADY_ENDED_MESSAGE, Failure};

/// A change of a meeting's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// `SCHEDULED -> LIVE`.
    Start,
    /// `LIVE -> ENDED`.
    End,
    /// `SCHEDULED -> CANCELLED`.
    Cancel,
}

impl Transition {
    /// The audit action of the transition, e.g. `meeting.end`.
    #[must_use]
    pub fn action(self) -> &'static str {
        match self {
            Self::Start => "meeting.start",
            Self::End => "meeting.end",
            Self::Cancel => "meeting.cancel",
        }
    }
}

/// Whether `status` is final (nothing can happen to the meeting any more).
#[must_use]
pub fn is_final(status: MeetingStatus) -> bool {
    matches!(status, MeetingStatus::Ended | MeetingStatus::Cancelled)
}

/// Whether the meeting's details may still change.
#[must_use]
pub fn is_editable(status: MeetingStatus) -> bool {
    !is_final(status)
}

/// The status after `transition`, or a `conflict` failure explaining why it is not allowed.
///
/// # Errors
///
/// A `conflict` [`Failure`] for every transition the lifecycle does not allow.
pub fn next(from: MeetingStatus, transition: Transition) -> Result<MeetingStatus, Failure> {
    match (from, transition) {
        (MeetingStatus::Scheduled, Transition::Start) => Ok(MeetingStatus::Live),
        (MeetingStatus::Scheduled, Transition::Cancel) => Ok(MeetingStatus::Cancelled),
        (MeetingStatus::Live, Transition::End) => Ok(MeetingStatus::Ended),
        (MeetingStatus::Ended, _) => Err(Failure::conflict(ALREADY_ENDED_MESSAGE)),
        (MeetingStatus::Cancelled, _) => Err(Failure::conflict("This meeting was cancelled.")),
        (MeetingStatus::Scheduled, Transition::End) => {
            Err(Failure::conflict("This meeting has not started yet; cancel it instead of ending it."))
        }
        (MeetingStatus::Live, Transition::Cancel) => {
            Err(Failure::conflict("This meeting is already live; end it instead of cancelling it."))
        }
        (MeetingStatus::Live, Transition::Start) => Err(Failure::conflict("This meeting is already live.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::code;

    #[test]
    fn allowed_transitions() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(next(MeetingStatus::Scheduled, Transition::Start), Ok(MeetingStatus::Live));
        assert_eq!(next(MeetingStatus::Scheduled, Transition::Cancel), Ok(MeetingStatus::Cancelled));
        assert_eq!(next(MeetingStatus::Live, Transition::End), Ok(MeetingStatus::Ended));
    }

    #[test]
    fn a_scheduled_meeting_cannot_end() {
        let _trace = kalcord_test_util::trace_init();
        let err = next(MeetingStatus::Scheduled, Transition::End).unwrap_err();
        assert_eq!(err.code, code::CONFLICT);
    }

    #[test]
    fn final_states_stay_final() {
        let _trace = kalcord_test_util::trace_init();
        for transition in [Transition::Start, Transition::End, Transition::Cancel] {
            let err = next(MeetingStatus::Ended, transition).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (code::CONFLICT, ALREADY_ENDED_MESSAGE));
            assert_eq!(next(MeetingStatus::Cancelled, transition).unwrap_err().code, code::CONFLICT);
        }
        assert!(is_final(MeetingStatus::Ended) && is_final(MeetingStatus::Cancelled));
        assert!(is_editable(MeetingStatus::Scheduled) && is_editable(MeetingStatus::Live));
    }

    #[test]
    fn live_meetings_end_rather_than_cancel() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(next(MeetingStatus::Live, Transition::Cancel).unwrap_err().code, code::CONFLICT);
        assert_eq!(next(MeetingStatus::Live, Transition::Start).unwrap_err().code, code::CONFLICT);
        assert_eq!(Transition::End.action(), "meeting.end");
    }
}
