//! Webhooks: one message per alert state transition (a certificate on an endpoint turning
//! warning, critical, expired, back to ok, or no longer served), to every configured receiver,
//! retried with backoff, with a delivery log. The queries live in [`store`], the sending in
//! [`deliver`] (both with `server`).

#[cfg(feature = "server")]
pub mod deliver;
#[cfg(feature = "server")]
pub mod store;

use serde::{Deserialize, Serialize};

/// A receiver's URL, which may hold a secret (a user and password, a token in the path as
/// Slack's incoming webhooks have, or in the query). Only [`SecretUrl::expose`] gives it
/// whole, for sending and for admins; its `Display` and `Debug` show [`redacted`], so a log
/// line or an audit entry cannot carry the secret by accident.
#[cfg(feature = "server")]
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

#[cfg(feature = "server")]
impl SecretUrl {
    pub fn new(url: String) -> Self {
        Self(url)
    }

    /// The whole URL: for the request itself and for admins.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(feature = "server")]
impl std::fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redacted(&self.0))
    }
}

#[cfg(feature = "server")]
impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretUrl({:?})", redacted(&self.0))
    }
}

/// `url` with only its scheme, host and port: its user and password, path, query and
/// fragment, where it has any, become one `…` (`https://hooks.example.com/…`).
#[cfg(feature = "server")]
pub fn redacted(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return "(a URL that does not parse)".into();
    };
    let mut shown = format!(
        "{}://{}",
        parsed.scheme(),
        parsed.host_str().unwrap_or_default()
    );
    if let Some(port) = parsed.port() {
        shown.push_str(&format!(":{port}"));
    }
    let hidden = !parsed.username().is_empty()
        || parsed.password().is_some()
        || parsed.path() != "/"
        || parsed.query().is_some()
        || parsed.fragment().is_some();
    shown.push_str(if hidden { "/…" } else { "/" });
    shown
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    /// The whole URL for admins; for auditors only its scheme, host and port
    /// (`https://hooks.example.com/…`): it may hold a secret.
    pub url: String,
    /// `json` (Gatehouse's JSON) or `slack` (`{"text"}` for Slack-compatible receivers).
    pub format: String,
    pub created_by: String,
    pub created_at: String,
}

/// `POST /api/v1/webhooks`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WebhookInput {
    pub name: String,
    /// `http://` or `https://`.
    pub url: String,
    /// `json` (default) or `slack`.
    #[serde(default)]
    pub format: Option<String>,
}

/// One transition's delivery to one webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: i64,
    pub webhook: String,
    /// `pending` (will be tried again at `next_attempt_at`), `delivered` or `failed` (gave up).
    pub state: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: String,
    pub delivered_at: Option<String>,
    pub fqdn: Option<String>,
    pub port: Option<i32>,
    pub subject_cn: Option<String>,
    pub from_state: Option<String>,
    pub to_state: String,
    pub created_at: String,
}

/// What a test message met (`POST /api/v1/webhooks/{id}/test`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TestResult {
    /// The receiver answered 2xx.
    pub delivered: bool,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// What happened, for people.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhooksOverview {
    pub webhooks: Vec<Webhook>,
    /// The latest 100 deliveries, newest first.
    pub deliveries: Vec<Delivery>,
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;

    #[test]
    fn a_redacted_url_keeps_only_scheme_host_and_port() {
        for (url, shown) in [
            (
                "https://user:pass@hooks.example.com/services/T/B/X",
                "https://hooks.example.com/…",
            ),
            (
                "https://hooks.example.com:8443/?token=s3cret",
                "https://hooks.example.com:8443/…",
            ),
            ("http://[2001:db8::1]/hook#frag", "http://[2001:db8::1]/…"),
            ("https://hooks.example.com", "https://hooks.example.com/"),
        ] {
            assert_eq!(redacted(url), shown, "{url}");
            let secret = SecretUrl::new(url.into());
            assert_eq!(secret.to_string(), shown);
            assert!(
                !format!("{secret:?}").contains("pass")
                    && !format!("{secret:?}").contains("s3cret")
            );
        }
    }
}

/// What webhook administration refuses, in its words.
#[cfg(feature = "server")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no webhook with id {0}")]
    NoSuchWebhook(i64),
}

#[cfg(feature = "server")]
impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        crate::Failure::NotFound
    }
}

#[cfg(feature = "server")]
crate::refusal!(Refused);
