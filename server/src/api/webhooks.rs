//! `/api/v1/webhooks`: receivers of alert state transitions, and their delivery log.

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use crate::api::openapi::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::webhooks::store as webhooks;
use domain::webhooks::{Delivery, TestResult, Webhook, WebhookInput};
use domain::Services;
use serde_json::{json, Value};

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<Webhook>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<Webhook>>, ApiError> {
    Ok(Json(webhooks::list(&state.pool, &context).await?))
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookInput,
    responses((status = 201, description = "created: {\"id\"}"), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<Services>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<WebhookInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = webhooks::create(&state.pool, &context, body).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path, example = 1)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    webhooks::delete(&state.pool, &context, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/webhooks/deliveries", tag = "webhooks",
    responses((status = 200, description = "the latest 500 deliveries, newest first", body = Vec<Delivery>), (status = 403, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    Ok(Json(
        webhooks::deliveries(&state.pool, &context, 500).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "sent now, not queued nor retried: what the receiver answered", body = TestResult),
        (status = 404, body = ErrorBody)))]
pub async fn test(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<TestResult>, ApiError> {
    Ok(Json(webhooks::send_test(&state, &context, id).await?))
}
