//! Database URL handling that keeps credentials out of logs, `Debug` output and errors.

use percent_encoding::percent_decode_str;

/// A database URL split into a password-free part and the password.
///
/// The password-free part is what sea-orm sees (and may record in trace spans); the password
/// is handed to the driver separately.
pub(crate) struct SplitUrl {
    /// The URL without password (userinfo password and `password=` query parameter removed).
    pub(crate) public: String,
    /// The URL for humans: like `public`, with `***` where a password was.
    pub(crate) display: String,
    /// The password, decoded.
    pub(crate) password: Option<String>,
}

/// Splits the password out of a `postgres://` URL.
///
/// URLs that do not parse are returned as an error message that does not echo the input.
pub(crate) fn split_password(raw: &str) -> Result<SplitUrl, String> {
    let mut url = url::Url::parse(raw).map_err(|err| format!("malformed url ({err})"))?;
    let mut password = url.password().map(|encoded| percent_decode_str(encoded).decode_utf8_lossy().into_owned());
    if password.is_some() {
        url.set_password(None).map_err(|()| "url cannot carry credentials".to_owned())?;
    }

    let mut kept = Vec::new();
    for (key, value) in url.query_pairs() {
        if key == "password" {
            password = Some(value.into_owned());
        } else {
            kept.push((key.into_owned(), value.into_owned()));
        }
    }
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }

    let public = url.to_string();
    let display =
        if password.is_some() && url.set_password(Some("***")).is_ok() { url.to_string() } else { public.clone() };
    Ok(SplitUrl { public, display, password })
}

/// `message` with every occurrence of `password` masked.
pub(crate) fn scrub(message: &str, password: Option<&str>) -> String {
    match password {
        Some(password) if !password.is_empty() => message.replace(password, "***"),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_password_is_split_out_and_decoded() -> Result<(), String> {
        let _trace = kalcord_test_util::trace_init();
        let split = split_password("postgres://kal:p%40ss%2Fw@db.example:5432/kalcord")?;
        assert_eq!(split.password.as_deref(), Some("p@ss/w"));
        assert_eq!(split.public, "postgres://kal@db.example:5432/kalcord");
        assert_eq!(split.display, "postgres://kal:***@db.example:5432/kalcord");
        Ok(())
    }

    #[test]
    fn query_password_is_split_out_and_other_parameters_kept() -> Result<(), String> {
        let _trace = kalcord_test_util::trace_init();
        let split = split_password("postgres://kal@h/db?sslmode=disable&password=s3cret")?;
        assert_eq!(split.password.as_deref(), Some("s3cret"));
        assert_eq!(split.public, "postgres://kal@h/db?sslmode=disable");
        assert!(!split.display.contains("s3cret"));
        Ok(())
    }

    #[test]
    fn url_without_password_is_unchanged() -> Result<(), String> {
        let _trace = kalcord_test_util::trace_init();
        let split = split_password("postgres://postgres@127.0.0.1:5432/postgres")?;
        assert_eq!(split.password, None);
        assert_eq!(split.public, "postgres://postgres@127.0.0.1:5432/postgres");
        assert_eq!(split.display, split.public);
        Ok(())
    }

    #[test]
    fn malformed_url_error_does_not_echo_input() {
        let _trace = kalcord_test_util::trace_init();
        let err = split_password("postgres://u:s3cret@[bad/db").err();
        assert!(err.is_some_and(|e| !e.contains("s3cret")));
    }

    #[test]
    fn scrub_masks_the_password() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(scrub("auth failed for s3cret", Some("s3cret")), "auth failed for ***");
        assert_eq!(scrub("no secret here", None), "no secret here");
        assert_eq!(scrub("empty", Some("")), "empty");
    }
}
