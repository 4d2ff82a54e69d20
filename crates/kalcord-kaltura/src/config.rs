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
