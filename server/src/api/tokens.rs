//! `/api/v1/tokens`: list and create (the secret is in the creation answer only);
//! `/api/v1/tokens/{id}`: revoke. Admins only.

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::tokens::{CreatedToken, NewToken, TokenSummary};
use domain::Services;

#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", extensions(("x-gatehouse-need" = json!("admin"))), responses((status = 200, body = Vec<TokenSummary>), (status = 401, description = "not signed in", body = crate::api::openapi::ErrorBody), (status = 403, description = "the role does not allow this", body = crate::api::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<TokenSummary>>, ApiError> {
    Ok(Json(
        domain::tokens::store::list(&state.pool, &context).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken, responses((status = 201, description = "the token, shown only now", body = CreatedToken), (status = 422, body = crate::api::openapi::ErrorBody), (status = 401, description = "not signed in", body = crate::api::openapi::ErrorBody), (status = 403, description = "the role does not allow this", body = crate::api::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<Services>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let created = domain::tokens::store::create(&state.pool, &context, body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path, example = 1)), responses((status = 204, description = "revoked"), (status = 404, body = crate::api::openapi::ErrorBody), (status = 401, description = "not signed in", body = crate::api::openapi::ErrorBody), (status = 403, description = "the role does not allow this", body = crate::api::openapi::ErrorBody)))]
pub async fn revoke(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    domain::tokens::store::revoke(&state.pool, &context, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
