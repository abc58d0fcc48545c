//! Server functions for webhooks.

use crate::error::AppError;
use domain::webhooks::*;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::webhooks::store,
};

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "webhooks")]
pub async fn load_webhooks() -> Result<WebhooksOverview, AppError> {
    let app = app_state()?;
    let context = request_context();
    Ok(WebhooksOverview {
        webhooks: store::list(&app.pool, &context).await?,
        deliveries: store::deliveries(&app.pool, &context, 100).await?,
    })
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "webhook_create")]
pub async fn add_webhook(
    name: String,
    url: String,
    format: Option<String>,
) -> Result<i64, AppError> {
    let app = app_state()?;
    let context = request_context();
    store::create(&app.pool, &context, WebhookInput { name, url, format })
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "webhook_delete")]
pub async fn remove_webhook(id: i64) -> Result<(), AppError> {
    let app = app_state()?;
    let context = request_context();
    store::delete(&app.pool, &context, id)
        .await
        .map_err(AppError::from)
}

/// Sends a test message to one webhook now and reports what the receiver answered.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "webhook_test")]
pub async fn test_webhook(id: i64) -> Result<TestResult, AppError> {
    let app = app_state()?;
    let context = request_context();
    store::send_test(&app, &context, id)
        .await
        .map_err(AppError::from)
}
