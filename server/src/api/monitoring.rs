//! `GET /api/v1/alerts` and `GET /metrics`: for monitoring systems (the monitor role) as well as
//! admins and auditors.

use super::Ctx;
use crate::api::openapi::ErrorBody;
use crate::monitor::Alert;
use app::auth::Role;
use app::error::AppError;
use app::state::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;

fn require_monitoring(context: &app::auth::ssr::RequestContext) -> Result<(), AppError> {
    match context.principal.as_ref().map(|p| p.role) {
        Some(Role::Admin | Role::Auditor | Role::Monitor) => Ok(()),
        None => Err(AppError::Unauthorized(
            "send 'Authorization: Bearer <token>' with a monitor token".into(),
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "monitoring",
    responses((status = 200, description = "every served certificate whose state is not ok", body = Vec<Alert>), (status = 401, body = ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<Alert>>, AppError> {
    require_monitoring(&context)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (_, served) = crate::monitor::current(&state.pool, now).await?;
    Ok(Json(crate::monitor::alerts(&served, now)))
}

/// Prometheus text format.
pub async fn metrics(
    State(state): State<AppState>,
    Ctx(context): Ctx,
) -> Result<impl IntoResponse, AppError> {
    require_monitoring(&context)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let text = crate::monitor::metrics(&state.pool, now).await?;
    Ok((
        [(
            http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    ))
}
