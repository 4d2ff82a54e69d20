//! The launch page's own answers: small self-contained HTML (no scripts, no external assets),
//! every text HTML-escaped, never cached and never leaking a referrer.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};

/// Inline style; the only thing the content security policy allows besides the document.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;\
color:#1f2328;line-height:1.5}h1{font-size:1.35rem}a{color:#0969da}";

/// A page telling the member what happened and, maybe, what to do next.
#[derive(Debug)]
pub(super) struct Page<'a> {
    /// HTTP status.
    pub status: StatusCode,
    /// Heading (and title).
    pub title: &'a str,
    /// One or two sentences.
    pub message: &'a str,
    /// Link offered below: its target (a same-site path) and its text.
    pub link: Option<(String, &'a str)>,
    /// `Retry-After` seconds, for pages that say "try again".
    pub retry_after: Option<u32>,
}

impl Page<'_> {
    /// The page as a response.
    pub(super) fn response(&self) -> HttpResponse {
        let link = self.link.as_ref().map_or_else(String::new, |(href, text)| {
            format!("<p><a href=\"{}\">{}</a></p>", escape(href), escape(text))
        });
        let body = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\">\
<title>{title} · kalcord</title><style>{STYLE}</style></head>\
<body><main><h1>{title}</h1><p>{message}</p>{link}</main></body></html>\n",
            title = escape(self.title),
            message = escape(self.message),
        );
        let mut response = HttpResponse::build(self.status);
        response
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.body(body)
    }
}

/// `text` safe inside HTML text and quoted attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody as _;
    use actix_web::http::StatusCode;
    use actix_web::http::header::HeaderValue;

    use super::{Page, escape};

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"<b a="1">Tom & 'Jerry'</b>"#),
            "&lt;b a=&quot;1&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn pages_carry_no_markup_from_their_texts_and_are_never_cached() {
        let page = Page {
            status: StatusCode::CONFLICT,
            title: "<script>alert(1)</script>",
            message: "This meeting \"Biology\" has ended.",
            link: Some(("/m/1/2?a=b&c=\"d\"".to_owned(), "Try again")),
            retry_after: Some(5),
        };
        let response = page.response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let headers = response.headers();
        assert_eq!(headers.get("cache-control").map(HeaderValue::as_bytes), Some(&b"no-store"[..]));
        assert_eq!(headers.get("retry-after").map(HeaderValue::as_bytes), Some(&b"5"[..]));
        assert!(headers.get("content-security-policy").is_some());
        let body = response.into_body().try_into_bytes().unwrap_or_default();
        let body = String::from_utf8_lossy(&body);
        assert!(!body.contains("<script>") && body.contains("&lt;script&gt;"), "{body}");
        assert!(body.contains("href=\"/m/1/2?a=b&amp;c=&quot;d&quot;\""), "{body}");
        assert!(!body.contains("://"), "no external asset: {body}");
    }
}
