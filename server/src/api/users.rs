//! `/api/v1/users`: list and create; `/api/v1/users/{id}`: update and delete. Admins only.

use super::{ApiJson, Ctx};
use app::error::AppError;
use app::state::AppState;
use app::users::{NewUser, UserSummary, UserUpdate};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

pub async fn list(
    State(state): State<AppState>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<UserSummary>>, AppError> {
    context.require_admin()?;
    Ok(Json(app::users::ssr::list(&state.pool).await?))
}

pub async fn create(
    State(state): State<AppState>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let id = app::users::ssr::create(&state.pool, &context, body).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

pub async fn update(
    State(state): State<AppState>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<UserUpdate>,
) -> Result<StatusCode, AppError> {
    app::users::ssr::update(&state.pool, &context, id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete(
    State(state): State<AppState>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    app::users::ssr::delete(&state.pool, &context, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
