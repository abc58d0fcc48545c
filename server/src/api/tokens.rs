//! `/api/v1/tokens`: list and create (the secret is in the creation answer only);
//! `/api/v1/tokens/{id}`: revoke. Admins only.

use super::{ApiJson, Ctx};
use app::error::AppError;
use app::state::AppState;
use app::tokens::{CreatedToken, NewToken, TokenSummary};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

pub async fn list(
    State(state): State<AppState>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<TokenSummary>>, AppError> {
    context.require_admin()?;
    Ok(Json(app::tokens::ssr::list(&state.pool).await?))
}

pub async fn create(
    State(state): State<AppState>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), AppError> {
    let created = app::tokens::ssr::create(&state.pool, &context, body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn revoke(
    State(state): State<AppState>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    app::tokens::ssr::revoke(&state.pool, &context, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
