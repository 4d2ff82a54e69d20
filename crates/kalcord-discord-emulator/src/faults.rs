//! Scripted faults: the next N matching requests get a 429, an error status, or a delay.

use serde::{Deserialize, Serialize};

/// What a fault does.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer 429 (`global` sets `X-RateLimit-Global`/`Scope: global`, otherwise `Scope: user` with bucket headers).
    RateLimited {
        /// Seconds (`retry_after` and `Retry-After`, rounded up).
        retry_after: f64,
        /// Global limit or route bucket.
        #[serde(default)]
        global: bool,
    },
    /// Answer this status (401, 403, 404, 500, 502, 503, ...) with Discord's body for it.
    Status {
        /// HTTP status.
        status: u16,
    },
    /// Wait this long, then handle the request normally.
    Delay {
        /// Milliseconds.
        millis: u64,
    },
}

/// A scripted fault.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct Fault {
    /// Only this method (any when `None`).
    #[serde(default)]
    pub method: Option<String>,
    /// Only paths matching this pattern (without `/api/v10`; `*` or a `{param}` matches one segment, a trailing
    /// `**` the rest), e.g. `/channels/*/messages` or `/channels/{channel_id}/messages`.
    #[serde(default)]
    pub path: Option<String>,
    /// How many requests it applies to.
    #[serde(default = "one")]
    pub times: u32,
    /// What it does.
    pub action: FaultAction,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// A fault for the next request, whatever it is.
    #[must_use]
    pub fn next(action: FaultAction) -> Self {
        Self { method: None, path: None, times: 1, action }
    }

    /// Restricts it to a method and path pattern.
    #[must_use]
    pub fn on(mut self, method: &str, path: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self.path = Some(path.to_owned());
        self
    }

    /// Applies it to `times` requests.
    #[must_use]
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|wanted| wanted.eq_ignore_ascii_case(method))
            && self.path.as_deref().is_none_or(|pattern| path_matches(pattern, path))
    }
}

/// `*` matches one segment; a final `**` matches the rest.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    let mut wanted = pattern.trim_matches('/').split('/');
    let mut given = path.trim_matches('/').split('/');
    loop {
        match (wanted.next(), given.next()) {
            (Some("**"), _) | (None, None) => return true,
            (Some(want), Some(got)) if want == "*" || want.starts_with('{') || want == got => {}
            _ => return false,
        }
    }
}

/// Takes the first fault matching a request (counting it down).
pub(crate) fn take(faults: &mut Vec<Fault>, method: &str, path: &str) -> Option<FaultAction> {
    let index = faults.iter().position(|fault| fault.times > 0 && fault.matches(method, path))?;
    let fault = &mut faults[index];
    fault.times -= 1;
    let action = fault.action.clone();
    if fault.times == 0 {
        faults.remove(index);
    }
    Some(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_counts() {
        assert!(path_matches("/channels/*/messages", "/channels/1/messages"));
        assert!(!path_matches("/channels/*/messages", "/channels/1/messages/2"));
        assert!(path_matches("/channels/**", "/channels/1/messages/2"));
        assert!(path_matches("/channels/{channel_id}/messages", "/channels/1/messages"));
        let mut faults =
            vec![Fault::next(FaultAction::Status { status: 500 }).on("post", "/channels/*/messages").times(2)];
        assert!(take(&mut faults, "GET", "/channels/1/messages").is_none());
        assert!(take(&mut faults, "POST", "/channels/1/messages").is_some());
        assert!(take(&mut faults, "POST", "/channels/1/messages").is_some());
        assert!(take(&mut faults, "POST", "/channels/1/messages").is_none());
    }
}
