//! `/api/v1/users`: list and create; `/api/v1/users/{id}`: update and delete. Admins only.

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::users::{NewUser, UserSummary, UserUpdate};
use domain::Services;
use serde_json::{json, Value};

#[utoipa::path(get, path = "/api/v1/users", tag = "users", extensions(("x-gatehouse-need" = json!("admin"))), responses((status = 200, body = Vec<UserSummary>), (status = 401, description = "not signed in", body = crate::api::openapi::ErrorBody), (status = 403, description = "the role does not allow this", body = crate::api::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<UserSummary>>, ApiError> {
    Ok(Json(
        domain::users::store::list(&state.pool, &context).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser, responses((status = 201, description = "created: {\"id\"}"), (status = 422, description = "invalid or taken", body = crate::api::openapi::ErrorBody), (status = 401, description = "not signed in", body = crate::api::openapi::ErrorBody), (status = 403, description = "the role does not allow this", body = crate::api::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<Services>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = domain::users::store::create(&state.pool, &context, body).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path, example = 1)), request_body = UserUpdate, responses((status = 204, description = "changed"), (status = 404, body = crate::api::openapi::ErrorBody), (status = 409, description = "would leave no enabled admin", body = crate::api::openapi::ErrorBody), (status = 401, description = "not signed in", body = crate::api::openapi::ErrorBody), (status = 403, description = "the role does not allow this", body = crate::api::openapi::ErrorBody)))]
pub async fn update(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<UserUpdate>,
) -> Result<StatusCode, ApiError> {
    domain::users::store::update(&state.pool, &context, id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path, example = 1)), responses((status = 204, description = "deleted"), (status = 404, body = crate::api::openapi::ErrorBody), (status = 409, description = "yourself or the last admin", body = crate::api::openapi::ErrorBody), (status = 401, description = "not signed in", body = crate::api::openapi::ErrorBody), (status = 403, description = "the role does not allow this", body = crate::api::openapi::ErrorBody)))]
pub async fn delete(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    domain::users::store::delete(&state.pool, &context, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
