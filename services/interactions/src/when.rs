//! What members type for a start time and a length.
//!
//! Times are UTC unless they carry an offset: `2026-12-01T15:00:00+02:00` (RFC 3339),
//! `2026-12-01 15:00` (UTC) or `2026-12-01 15:00 +02:00`, and the friendly `in 30m`, `in 2h`,
//! `in 1h30m`, `in 2 hours`, `today 18:00` and `tomorrow 18:00` (UTC).

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// How the rule is explained to members.
pub const TIME_RULE: &str = "Times are UTC unless you add an offset (e.g. `2026-12-01 15:00+02:00`); `in 2h`, `in 1h30m`, `today 18:00` and `tomorrow 18:00` work too.";

/// Shortest and longest meeting, minutes.
pub const DURATION_MINUTES: (u32, u32) = (5, 1440);

/// Why a start time is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    /// Not a time kalcord reads.
    #[error("kalcord can't read `{0}` as a time. {TIME_RULE}")]
    Unreadable(String),
    /// Already past.
    #[error("{0} is in the past. {TIME_RULE}")]
    Past(String),
}

/// Reads a start time typed at `now`; only future instants are accepted.
///
/// # Errors
///
/// [`WhenError`] for text that is not a time, or a time not after `now`.
pub fn parse_when(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, WhenError> {
    let instant = read_when(text, now).ok_or_else(|| WhenError::Unreadable(text.trim().chars().take(64).collect()))?;
    if instant <= now {
        return Err(WhenError::Past(format!("<t:{}:F>", instant.timestamp())));
    }
    Ok(instant)
}

fn read_when(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    if let Some(span) = lower.strip_prefix("in ") {
        return span_minutes(span, false).and_then(|minutes| now.checked_add_signed(Duration::minutes(minutes.into())));
    }
    for (word, days) in [("today", 0), ("tomorrow", 1)] {
        if let Some(rest) = lower.strip_prefix(word) {
            let time = clock(rest.trim().trim_start_matches("at").trim())?;
            let date = now.date_naive().checked_add_signed(Duration::days(days))?;
            return Some(date.and_time(time).and_utc());
        }
    }
    absolute(text)
}

fn clock(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M").or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S")).ok()
}

fn absolute(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    let normal = text.replacen(' ', "T", 1);
    let normal = normal.replace(' ', "");
    if let Ok(instant) = DateTime::parse_from_rfc3339(&normal) {
        return Some(instant.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(instant) = DateTime::<FixedOffset>::parse_from_str(&normal, format) {
            return Some(instant.with_timezone(&Utc));
        }
    }
    let naive = normal.strip_suffix('Z').or_else(|| normal.strip_suffix('z')).unwrap_or(&normal);
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(instant) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(instant.and_utc());
        }
    }
    NaiveDate::parse_from_str(naive, "%Y-%m-%d").ok().and_then(|date| date.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
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

    use super::{WhenError, parse_duration, parse_when};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        parse_when(text, now()).unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    #[test]
    fn every_accepted_form() {
        let utc = |d, h, m| Utc.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap();
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
    fn past_times_are_refused() {
        assert!(matches!(parse_when("2026-11-22 09:59", now()), Err(WhenError::Past(_))));
        assert!(matches!(parse_when("today 08:00", now()), Err(WhenError::Past(_))));
        assert!(matches!(parse_when("2020-01-01T00:00:00Z", now()), Err(WhenError::Past(_))));
        let message = parse_when("today 08:00", now()).unwrap_err().to_string();
        assert!(message.contains("in the past") && message.contains("UTC"), "{message}");
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
            assert!(matches!(parse_when(text, now()), Err(WhenError::Unreadable(_))), "{text:?}");
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
