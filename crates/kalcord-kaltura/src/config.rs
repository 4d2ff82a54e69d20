//! The `kaltura.*` section: the default Kaltura partner (guilds may link their own with
//! `/kaltura setup`) and how long members' sessions last.

use std::time::Duration;

use kalcord_config::{Reader, Secret, Section};
use url::Url;

use crate::client::{ClientConfig, DEFAULT_SERVICE_URL};

/// Longest KS a member may get (Kaltura's guidance for user sessions: at most a day).
pub const MAX_KS_TTL: Duration = Duration::from_hours(24);

/// The default Kaltura partner and session policy.
#[derive(Clone, Debug)]
pub struct KalturaConfig {
    /// Default partner id; guilds without `/kaltura setup` use it. Unset: none.
    pub partner_id: Option<i64>,
    /// Admin secret of the default partner.
    pub admin_secret: Option<Secret>,
    /// Kaltura API base of the default partner.
    pub service_url: Url,
    /// KAF host launch URLs go to (`https://{partner}.kaf.kaltura.com` when unset).
    pub kaf_url: Option<Url>,
    /// Lifetime of a member's KS (default 1 hour, at most 24).
    pub ks_ttl: Duration,
    /// Timeout of one Kaltura request.
    pub timeout: Duration,
    /// Hosts `/kaltura setup` may point a guild at (`*.example.com` for subdomains); the
    /// default partner's own service and KAF origins are always allowed.
    pub setup_hosts: Vec<String>,
    /// Whether `/kaltura setup` accepts plain `http://` addresses (tests, private deployments).
    pub setup_allow_http: bool,
}

impl KalturaConfig {
    /// The client configuration of the default partner, when one is configured.
    #[must_use]
    pub fn default_client(&self) -> Option<ClientConfig> {
        let (partner_id, secret) = (self.partner_id?, self.admin_secret.clone()?);
        let mut config = ClientConfig::new(partner_id, secret, self.service_url.clone());
        config.kaf_url.clone_from(&self.kaf_url);
        config.timeout = self.timeout;
        Some(config)
    }

    /// Whether `/kaltura setup` may send this server's requests (and members' sessions) to `url`:
    /// the default partner's own origins, or an https URL on a host of [`Self::setup_hosts`]. Keeps
    /// server managers from aiming kalcord at internal addresses.
    #[must_use]
    pub fn setup_url_allowed(&self, url: &Url) -> bool {
        let own = std::iter::once(&self.service_url).chain(self.kaf_url.as_ref());
        if own.into_iter().any(|known| known.origin() == url.origin()) {
            return true;
        }
        let scheme_ok = url.scheme() == "https" || (self.setup_allow_http && url.scheme() == "http");
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else { return false };
        scheme_ok
            && self.setup_hosts.iter().any(|pattern| {
                let pattern = pattern.trim().to_ascii_lowercase();
                match pattern.strip_prefix("*.") {
                    Some(suffix) => host.ends_with(&format!(".{suffix}")),
                    None => host == pattern,
                }
            })
    }
}

impl Section for KalturaConfig {
    fn read(r: &mut Reader<'_>) -> Self {
        let default_url = Url::parse(DEFAULT_SERVICE_URL).expect("a valid URL");
        let service_url: Option<String> =
            r.get_opt("service_url", "Kaltura API base of the default partner (https://www.kaltura.com when unset).");
        let kaf_url: Option<String> =
            r.get_opt("kaf_url", "KAF host members are sent to (https://{partner_id}.kaf.kaltura.com when unset).");
        let config = Self {
            partner_id: r
                .get_opt("partner_id", "Default Kaltura partner id, for guilds that did not run /kaltura setup."),
            admin_secret: r
                .secret("admin_secret", "Admin secret of the default Kaltura partner (signs members' sessions)."),
            service_url: default_url.clone(),
            kaf_url: None,
            ks_ttl: r.duration(
                "ks_ttl",
                Duration::from_hours(1),
                "Lifetime of a member's Kaltura session (at most 24h).",
            ),
            timeout: r.duration("timeout", Duration::from_secs(10), "Timeout of one Kaltura request."),
            setup_hosts: r.list(
                "setup_hosts",
                vec!["kaltura.com".to_owned(), "*.kaltura.com".to_owned()],
                "Hosts /kaltura setup may link a server to (`*.example.com` matches subdomains); the default partner's own addresses are always allowed.",
            ),
            setup_allow_http: r.get(
                "setup_allow_http",
                false,
                "Let /kaltura setup accept plain http:// Kaltura addresses (tests and private networks only).",
            ),
        };
        let mut config = config;
        if let Some(text) = service_url {
            match Url::parse(&text) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => config.service_url = url,
                _ => r.invalid("service_url", "must be an http(s) URL such as https://www.kaltura.com"),
            }
        }
        if let Some(text) = kaf_url {
            match Url::parse(&text) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => config.kaf_url = Some(url),
                _ => r.invalid("kaf_url", "must be an http(s) URL such as https://12345.kaf.kaltura.com"),
            }
        }
        if config.ks_ttl.is_zero() || config.ks_ttl > MAX_KS_TTL {
            r.invalid("ks_ttl", "must be between 1s and 24h");
        }
        if config.partner_id.is_some() != config.admin_secret.is_some() {
            r.invalid("partner_id", "kaltura.partner_id and kaltura.admin_secret go together");
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use url::Url;

    use super::KalturaConfig;

    fn config() -> KalturaConfig {
        KalturaConfig {
            partner_id: None,
            admin_secret: None,
            service_url: Url::parse("https://www.kaltura.com").unwrap(),
            kaf_url: Some(Url::parse("http://127.0.0.1:7200/").unwrap()),
            ks_ttl: Duration::from_hours(1),
            timeout: Duration::from_secs(10),
            setup_hosts: vec!["kaltura.com".into(), "*.kaltura.com".into(), "kaltura.example.org".into()],
            setup_allow_http: false,
        }
    }

    #[test]
    fn setup_only_reaches_allowed_kaltura_hosts() {
        let config = config();
        let allowed = |text: &str| config.setup_url_allowed(&Url::parse(text).unwrap());
        assert!(allowed("https://www.kaltura.com"));
        assert!(allowed("https://12345.kaf.kaltura.com/"));
        assert!(allowed("https://kaltura.example.org"));
        assert!(allowed("http://127.0.0.1:7200/"), "the default partner's own KAF origin");
        assert!(!allowed("http://www.kaltura.com"), "plain http");
        assert!(!allowed("https://127.0.0.1:8200/"), "an internal service");
        assert!(!allowed("https://169.254.169.254/"), "cloud metadata");
        assert!(!allowed("https://evilkaltura.com"), "not a subdomain");
        assert!(!allowed("https://kaltura.com.evil.net"), "suffix tricks");
        let http = KalturaConfig { setup_allow_http: true, ..config };
        assert!(http.setup_url_allowed(&Url::parse("http://www.kaltura.com").unwrap()));
    }
}
