//! `POST /api/v1/session` signs in (sets the session cookie); `DELETE` signs out.

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::Services;
use serde::Deserialize;
use serde_json::{json, Value};
use tower_sessions::Session;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/session", tag = "session", extensions(("x-gatehouse-need" = json!("anyone"))), request_body = crate::api::openapi::Credentials,
    responses((status = 200, description = "signed in; the session cookie is set"), (status = 401, description = "wrong username or password", body = crate::api::openapi::ErrorBody), (status = 429, description = "throttled; see Retry-After", body = crate::api::openapi::ErrorBody)))]
pub async fn login(
    State(state): State<Services>,
    session: Session,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Json<Value>, ApiError> {
    let user =
        domain::auth::store::sign_in(&state, &session, &context, &body.username, &body.password)
            .await?;
    Ok(Json(
        json!({"id": user.id, "username": user.username, "role": user.role}),
    ))
}

#[utoipa::path(delete, path = "/api/v1/session", tag = "session", extensions(("x-gatehouse-need" = json!("anyone"))), responses((status = 204, description = "signed out; the session is destroyed")))]
pub async fn logout(
    State(state): State<Services>,
    session: Session,
    Ctx(context): Ctx,
) -> Result<StatusCode, ApiError> {
    domain::auth::store::sign_out(&state, &session, &context).await?;
    Ok(StatusCode::NO_CONTENT)
}
