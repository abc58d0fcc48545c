//! Webhooks: one message per alert state transition (a certificate on an endpoint turning
//! warning, critical, expired, back to ok, or no longer served), to every configured receiver,
//! retried with backoff, with a delivery log. The queries live in [`store`], the sending in
//! [`deliver`] (both with `server`).

#[cfg(feature = "server")]
pub mod deliver;
#[cfg(feature = "server")]
pub mod store;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: i64,
    pub name: String,
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
