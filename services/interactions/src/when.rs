//! What members type for a start time and a length.
//!
//! Times without an offset are read in the guild's time zone (UTC unless set with
//! `/kaltura setup`): `2026-12-01 15:00`, `2026-12-01T15:00`, `today 18:00` and
//! `tomorrow 18:00`. A time that carries an offset keeps it: `2026-12-01T15:00:00+02:00`
//! (RFC 3339), `2026-12-01 15:00 +02:00`, `2026-12-01T15:00Z`. `in 30m`, `in 2h`, `in 1h30m`
//! and `in 2 hours` count from now, whatever the zone. A local time the clocks skip (a daylight
//! saving gap) is refused; one they pass twice is the earlier of the two.

use chrono::{DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;

/// How the rule is explained to members, for a guild whose time zone is `zone`.
#[must_use]
pub fn time_rule(zone: Tz) -> String {
    format!(
        "Times are {} time unless you add an offset (e.g. `2026-12-01 15:00+02:00`); `in 2h`, `in 1h30m`, `today 18:00` and `tomorrow 18:00` work too.",
        zone.name()
    )
}

/// Shortest and longest meeting, minutes.
pub const DURATION_MINUTES: (u32, u32) = (5, 1440);

/// Why a start time is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    /// Not a time kalcord reads.
    #[error("kalcord can't read `{text}` as a time. {rule}", rule = time_rule(*.zone))]
    Unreadable {
        /// What was typed (at most 64 characters).
        text: String,
        /// The guild's time zone.
        zone: Tz,
    },
    /// Already past.
    #[error("{at} is in the past. {rule}", rule = time_rule(*.zone))]
    Past {
        /// The instant, as a Discord timestamp.
        at: String,
        /// The guild's time zone.
        zone: Tz,
    },
    /// A local time the clocks skip in the guild's time zone (daylight saving time starts).
    #[error(
        "{local} doesn't exist in {zone} (the clocks skip it when daylight saving time starts); pick a time outside the gap or add an offset.",
        zone = .zone.name()
    )]
    Skipped {
        /// The local date and time, as `2026-03-29 02:30`.
        local: String,
        /// The guild's time zone.
        zone: Tz,
    },
}

/// A start time as typed, before the guild's time zone and the current time are applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Typed {
    /// An instant: it carried an offset or `Z`.
    At(DateTime<Utc>),
    /// `in …`: minutes from now.
    In(u32),
    /// `today`/`tomorrow` (days from today in the zone) at a local time.
    Day(i64, NaiveTime),
    /// A local date and time.
    Local(NaiveDateTime),
}

/// Whether reading `text` depends on the guild's time zone (a local date or time without an
/// offset); `false` for relative times, instants with an offset, and unreadable text.
#[must_use]
pub fn uses_zone(text: &str) -> bool {
    matches!(read(text), Some(Typed::Day(..) | Typed::Local(_)))
}

/// Reads a start time typed at `now` in a guild whose time zone is `zone`; only future
/// instants are accepted.
///
/// # Errors
///
/// [`WhenError`] for text that is not a time, a local time the clocks skip in `zone`, or a
/// time not after `now`.
pub fn parse_when(text: &str, now: DateTime<Utc>, zone: Tz) -> Result<DateTime<Utc>, WhenError> {
    let unreadable = || WhenError::Unreadable { text: text.trim().chars().take(64).collect(), zone };
    let instant = match read(text).ok_or_else(unreadable)? {
        Typed::At(instant) => instant,
        Typed::In(minutes) => now.checked_add_signed(Duration::minutes(minutes.into())).ok_or_else(unreadable)?,
        Typed::Day(days, time) => {
            let today = now.with_timezone(&zone).date_naive();
            let date = today.checked_add_signed(Duration::days(days)).ok_or_else(unreadable)?;
            local(date.and_time(time), zone)?
        }
        Typed::Local(naive) => local(naive, zone)?,
    };
    if instant <= now {
        return Err(WhenError::Past { at: format!("<t:{}:F>", instant.timestamp()), zone });
    }
    Ok(instant)
}

/// The instant of a local date and time in `zone`: the earlier one when the clocks pass it
/// twice, refused when they skip it.
fn local(naive: NaiveDateTime, zone: Tz) -> Result<DateTime<Utc>, WhenError> {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Ok(at.with_timezone(&Utc)),
        LocalResult::None => Err(WhenError::Skipped { local: naive.format("%Y-%m-%d %H:%M").to_string(), zone }),
    }
}

fn read(text: &str) -> Option<Typed> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    if let Some(span) = lower.strip_prefix("in ") {
        return span_minutes(span, false).map(Typed::In);
    }
    for (word, days) in [("today", 0), ("tomorrow", 1)] {
        if let Some(rest) = lower.strip_prefix(word) {
            let time = clock(rest.trim().trim_start_matches("at").trim())?;
            return Some(Typed::Day(days, time));
        }
    }
    absolute(text)
}

fn clock(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M").or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S")).ok()
}

fn absolute(text: &str) -> Option<Typed> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(Typed::At(instant.with_timezone(&Utc)));
    }
    let normal = text.replacen(' ', "T", 1);
    let normal = normal.replace(' ', "");
    if let Ok(instant) = DateTime::parse_from_rfc3339(&normal) {
        return Some(Typed::At(instant.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(instant) = DateTime::<FixedOffset>::parse_from_str(&normal, format) {
            return Some(Typed::At(instant.with_timezone(&Utc)));
        }
    }
    // NOTE: a trailing `Z` is an explicit UTC offset, whatever the guild's zone.
    let (naive, utc) = match normal.strip_suffix('Z').or_else(|| normal.strip_suffix('z')) {
        Some(naive) => (naive, true),
        None => (normal.as_str(), false),
    };
    let date_time = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .into_iter()
        .find_map(|format| NaiveDateTime::parse_from_str(naive, format).ok())
        .or_else(|| NaiveDate::parse_from_str(naive, "%Y-%m-%d").ok().and_then(|date| date.and_hms_opt(0, 0, 0)))?;
    Some(if utc { Typed::At(date_time.and_utc()) } else { Typed::Local(date_time) })
}

/// Reads a span like `90`, `90m`, `1h30m`, `2 hours`, `1d`: minutes. A bare number is
/// minutes when `bare_minutes`, else refused.
fn span_minutes(text: &str, bare_minutes: bool) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(minutes) = text.parse::<u32>() {
        return bare_minutes.then_some(minutes);
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = rest[digits..].trim_start();
        let unit_len = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let factor = match unit {
            "m" | "min" | "mins" | "minute" | "minutes" => 1,
            "h" | "hr" | "hrs" | "hour" | "hours" => 60,
            "d" | "day" | "days" => 1440,
            _ => return None,
        };
        total = total.checked_add(number.checked_mul(factor)?)?;
        rest = rest[unit_len..].trim_start().trim_start_matches(',').trim_start();
        rest = rest.strip_prefix("and ").unwrap_or(rest).trim_start();
    }
    u32::try_from(total).ok()
}

/// Why a length is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("The duration must be between 5 and 1440 minutes, e.g. `90`, `90m` or `1h30m`.")]
pub struct DurationError;

/// Reads a meeting length: `90`, `90m`, `1h30m`, `2 hours` (5 to 1440 minutes).
///
/// # Errors
///
/// [`DurationError`] for anything else.
pub fn parse_duration(text: &str) -> Result<u32, DurationError> {
    span_minutes(&text.to_ascii_lowercase(), true)
        .filter(|minutes| (DURATION_MINUTES.0..=DURATION_MINUTES.1).contains(minutes))
        .ok_or(DurationError)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use chrono_tz::Tz;

    use super::{WhenError, parse_duration, parse_when, uses_zone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        in_zone(text, Tz::UTC)
    }

    fn in_zone(text: &str, zone: Tz) -> DateTime<Utc> {
        parse_when(text, now(), zone).unwrap_or_else(|err| panic!("{text} in {zone}: {err}"))
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn every_accepted_form() {
        let utc = |d, h, m| utc(2026, 12, d, h, m);
        assert_eq!(at("2026-12-01T15:00:00Z"), utc(1, 15, 0));
        assert_eq!(at("2026-12-01T15:00:00+02:00"), utc(1, 13, 0));
        assert_eq!(at("2026-12-01 15:00:00-05:00"), utc(1, 20, 0));
        assert_eq!(at("2026-12-01 15:00"), utc(1, 15, 0), "UTC without an offset");
        assert_eq!(at("2026-12-01T15:00"), utc(1, 15, 0));
        assert_eq!(at("2026-12-01 15:00+02:00"), utc(1, 13, 0));
        assert_eq!(at("2026-12-01 15:00 +02:00"), utc(1, 13, 0));
        assert_eq!(at("2026-12-01 15:00 +0200"), utc(1, 13, 0));
        assert_eq!(at("in 30m"), now() + chrono::Duration::minutes(30));
        assert_eq!(at("in 2h"), now() + chrono::Duration::hours(2));
        assert_eq!(at("in 1h30m"), now() + chrono::Duration::minutes(90));
        assert_eq!(at("In 2 hours"), now() + chrono::Duration::hours(2));
        assert_eq!(at("in 1h 15m"), now() + chrono::Duration::minutes(75));
        assert_eq!(at("today 18:00"), Utc.with_ymd_and_hms(2026, 11, 22, 18, 0, 0).unwrap());
        assert_eq!(at("tomorrow 18:00"), Utc.with_ymd_and_hms(2026, 11, 23, 18, 0, 0).unwrap());
        assert_eq!(at("Tomorrow at 09:30"), Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap());
    }

    #[test]
    fn local_times_are_read_in_the_guilds_zone() {
        let paris = chrono_tz::Europe::Paris;
        // Winter: UTC+1.
        assert_eq!(in_zone("2026-12-01 15:00", paris), utc(2026, 12, 1, 14, 0));
        assert_eq!(in_zone("2026-12-01T15:00:00", paris), utc(2026, 12, 1, 14, 0));
        assert_eq!(in_zone("2026-12-01", paris), utc(2026, 11, 30, 23, 0), "midnight, local");
        assert_eq!(in_zone("today 18:00", paris), utc(2026, 11, 22, 17, 0));
        assert_eq!(in_zone("tomorrow 18:00", paris), utc(2026, 11, 23, 17, 0));
        // Summer: UTC+2.
        assert_eq!(in_zone("2027-07-14 21:00", paris), utc(2027, 7, 14, 19, 0));
        // New York: UTC-5 in winter, UTC-4 in summer.
        let new_york = chrono_tz::America::New_York;
        assert_eq!(in_zone("2026-12-01 15:00", new_york), utc(2026, 12, 1, 20, 0));
        assert_eq!(in_zone("2027-07-04 21:00", new_york), utc(2027, 7, 5, 1, 0));
        // At 10:00 UTC it is already 11:00 in Paris and only 05:00 in New York.
        assert!(matches!(parse_when("today 10:30", now(), paris), Err(WhenError::Past { .. })));
        assert_eq!(in_zone("today 10:30", new_york), utc(2026, 11, 22, 15, 30));
        // "today" is the guild's today: 22:00 UTC on the 22nd is already the 23rd in Tokyo.
        let late = utc(2026, 11, 22, 22, 0);
        let tokyo = chrono_tz::Asia::Tokyo;
        assert_eq!(parse_when("today 09:00", late, tokyo), Ok(utc(2026, 11, 23, 0, 0)));
    }

    #[test]
    fn offsets_and_relative_times_ignore_the_zone() {
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(in_zone("2026-12-01T15:00:00Z", paris), utc(2026, 12, 1, 15, 0));
        assert_eq!(in_zone("2026-12-01 15:00Z", paris), utc(2026, 12, 1, 15, 0));
        assert_eq!(in_zone("2026-12-01 15:00 -05:00", paris), utc(2026, 12, 1, 20, 0));
        assert_eq!(in_zone("in 30m", paris), now() + chrono::Duration::minutes(30));
        assert_eq!(in_zone("in 30m", chrono_tz::Pacific::Kiritimati), now() + chrono::Duration::minutes(30));
        for text in ["in 30m", "2026-12-01T15:00:00Z", "2026-12-01 15:00+02:00", "soon"] {
            assert!(!uses_zone(text), "{text:?}");
        }
        for text in ["2026-12-01 15:00", "2026-12-01", "today 18:00", "Tomorrow at 09:30"] {
            assert!(uses_zone(text), "{text:?}");
        }
    }

    #[test]
    fn daylight_saving_gaps_are_refused_and_overlaps_take_the_earlier() {
        let paris = chrono_tz::Europe::Paris;
        // 2027-03-28: Paris jumps from 02:00 to 03:00.
        let err = parse_when("2027-03-28 02:30", now(), paris).unwrap_err();
        assert!(matches!(err, WhenError::Skipped { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("2027-03-28 02:30") && message.contains("Europe/Paris"), "{message}");
        assert_eq!(in_zone("2027-03-28 03:30", paris), utc(2027, 3, 28, 1, 30));
        // 2027-10-31: Paris passes 02:30 twice (UTC+2, then UTC+1); the first is taken.
        assert_eq!(in_zone("2027-10-31 02:30", paris), utc(2027, 10, 31, 0, 30));
        // New York: 2027-03-14 02:30 does not exist, 2027-11-07 01:30 happens twice.
        let new_york = chrono_tz::America::New_York;
        assert!(matches!(parse_when("2027-03-14 02:30", now(), new_york), Err(WhenError::Skipped { .. })));
        assert_eq!(in_zone("2027-11-07 01:30", new_york), utc(2027, 11, 7, 5, 30));
        // An offset never falls in a gap.
        assert_eq!(in_zone("2027-03-28 02:30+01:00", paris), utc(2027, 3, 28, 1, 30));
    }

    #[test]
    fn past_times_are_refused() {
        assert!(matches!(parse_when("2026-11-22 09:59", now(), Tz::UTC), Err(WhenError::Past { .. })));
        assert!(matches!(parse_when("today 08:00", now(), Tz::UTC), Err(WhenError::Past { .. })));
        assert!(matches!(parse_when("2020-01-01T00:00:00Z", now(), Tz::UTC), Err(WhenError::Past { .. })));
        let message = parse_when("today 08:00", now(), Tz::UTC).unwrap_err().to_string();
        assert!(message.contains("in the past") && message.contains("UTC"), "{message}");
        let message = parse_when("today 08:00", now(), chrono_tz::Europe::Paris).unwrap_err().to_string();
        assert!(message.contains("Europe/Paris time"), "the rule names the guild's zone: {message}");
    }

    #[test]
    fn nonsense_is_refused() {
        for text in [
            "",
            "soon",
            "in",
            "in 30",
            "in 3 weeks",
            "in m",
            "tomorrow",
            "tomorrow 25:00",
            "2026-13-01 10:00",
            "next friday",
            "in 99999999999h",
        ] {
            assert!(matches!(parse_when(text, now(), Tz::UTC), Err(WhenError::Unreadable { .. })), "{text:?}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("90m"), Ok(90));
        assert_eq!(parse_duration("1h30m"), Ok(90));
        assert_eq!(parse_duration("2 hours"), Ok(120));
        assert_eq!(parse_duration("1H"), Ok(60));
        for text in ["", "0", "4", "1441", "25h", "long", "1x", "-5"] {
            assert!(parse_duration(text).is_err(), "{text:?}");
        }
    }
}
