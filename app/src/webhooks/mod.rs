//! Webhooks: one message per alert state transition (a certificate on an endpoint turning
//! warning, critical, expired, back to ok, or no longer served), to every configured receiver,
//! retried with backoff, with a delivery log. The queries live in [`ssr`]; the sending is the
//! server's (`server::notify`).

#[cfg(feature = "ssr")]
pub mod ssr;

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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

#[server(input = server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "webhooks")]
pub async fn load_webhooks() -> Result<WebhooksOverview, AppError> {
    let app = crate::state::app_state()?;
    crate::auth::ssr::request_context().require_reader()?;
    Ok(WebhooksOverview {
        webhooks: ssr::list(&app.pool).await?,
        deliveries: ssr::deliveries(&app.pool, 100).await?,
    })
}

#[server(prefix = "/api/fn", endpoint = "webhook_create")]
pub async fn add_webhook(
    name: String,
    url: String,
    format: Option<String>,
) -> Result<i64, AppError> {
    let app = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    ssr::create(&app.pool, &context, WebhookInput { name, url, format }).await
}

#[server(prefix = "/api/fn", endpoint = "webhook_delete")]
pub async fn remove_webhook(id: i64) -> Result<(), AppError> {
    let app = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    ssr::delete(&app.pool, &context, id).await
}

/// Sends a test message to one webhook now and reports what the receiver answered.
#[server(prefix = "/api/fn", endpoint = "webhook_test")]
pub async fn test_webhook(id: i64) -> Result<TestResult, AppError> {
    let app = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    ssr::send_test(&app, &context, id).await
}
