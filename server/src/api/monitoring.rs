//! `GET /api/v1/alerts` and `GET /metrics`: for monitoring systems (the monitor role) as well as
//! admins and auditors.

use super::{ApiJson, Ctx};
use crate::api::openapi::ErrorBody;
use crate::monitor::Alert;
use app::auth::Role;
use app::error::AppError;
use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

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
    let mutes = crate::monitor::mutes(&state.pool).await?;
    Ok(Json(crate::monitor::alerts(&served, &mutes, now)))
}

/// Which alert: a certificate served on one endpoint of a node.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertKey {
    node_id: i64,
    port: i32,
    fingerprint_sha256: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteRequest {
    node_id: i64,
    port: i32,
    fingerprint_sha256: String,
    /// Who is handling it.
    owner: String,
    #[serde(default)]
    note: String,
    /// RFC 3339 or YYYY-MM-DD (end of that day, UTC); in the future.
    until: String,
}

async fn endpoint_of(pool: &sqlx::PgPool, node_id: i64, port: i32) -> Result<i64, AppError> {
    sqlx::query_scalar!(
        "select id from endpoint where node_id = $1 and port = $2",
        node_id,
        port
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("node {node_id} has no endpoint on port {port}")))
}

#[utoipa::path(put, path = "/api/v1/alerts/mute", tag = "monitoring", request_body = MuteRequest,
    responses((status = 204, description = "muted"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mute(
    State(state): State<AppState>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<MuteRequest>,
) -> Result<StatusCode, AppError> {
    let principal = context.require_admin()?;
    let owner = body.owner.trim().to_owned();
    if owner.is_empty() || owner.chars().count() > 100 {
        return Err(AppError::field(
            "owner",
            "name who handles it (1 to 100 characters)",
        ));
    }
    if body.note.chars().count() > 1000 {
        return Err(AppError::field("note", "use at most 1000 characters"));
    }
    let until =
        app::tokens::ssr::parse_expiry(&body.until).map_err(|m| AppError::field("until", m))?;
    let endpoint = endpoint_of(&state.pool, body.node_id, body.port).await?;
    let known = sqlx::query_scalar!(
        r#"select exists(select 1 from certificate where sha256 = $1) as "known!""#,
        body.fingerprint_sha256
    )
    .fetch_one(&state.pool)
    .await?;
    if !known {
        return Err(AppError::field(
            "fingerprint_sha256",
            "no certificate with this fingerprint has been seen",
        ));
    }
    let mut tx = state.pool.begin().await?;
    sqlx::query!(
        "insert into alert_mute (endpoint_id, sha256, owner, note, until, muted_by) values ($1, $2, $3, $4, $5, $6)
         on conflict (endpoint_id, sha256) do update set owner = excluded.owner, note = excluded.note, until = excluded.until,
             muted_by = excluded.muted_by, created_at = now()",
        endpoint,
        body.fingerprint_sha256,
        owner,
        body.note,
        until,
        principal.actor()
    )
    .execute(&mut *tx)
    .await?;
    app::audit::ssr::record(
        &mut tx,
        context
            .event(
                "alert.mute",
                format!(
                    "cert:{}@node:{}:{}",
                    body.fingerprint_sha256, body.node_id, body.port
                ),
            )
            .after(serde_json::json!({"owner": owner, "note": body.note, "until": body.until})),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/alerts/mute", tag = "monitoring", request_body = AlertKey,
    responses((status = 204, description = "unmuted"), (status = 404, body = ErrorBody)))]
pub async fn unmute(
    State(state): State<AppState>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<AlertKey>,
) -> Result<StatusCode, AppError> {
    context.require_admin()?;
    let endpoint = endpoint_of(&state.pool, body.node_id, body.port).await?;
    let mut tx = state.pool.begin().await?;
    let removed = sqlx::query!(
        "delete from alert_mute where endpoint_id = $1 and sha256 = $2",
        endpoint,
        body.fingerprint_sha256
    )
    .execute(&mut *tx)
    .await?;
    if removed.rows_affected() == 0 {
        return Err(AppError::NotFound("this alert is not muted".into()));
    }
    app::audit::ssr::record(
        &mut tx,
        context.event(
            "alert.unmute",
            format!(
                "cert:{}@node:{}:{}",
                body.fingerprint_sha256, body.node_id, body.port
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
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

#[utoipa::path(get, path = "/api/v1/certificates", tag = "monitoring",
    responses((status = 200, description = "every served certificate, soonest expiry first", body = Vec<crate::monitor::ServedCertificateRow>), (status = 401, body = ErrorBody)))]
pub async fn certificates(
    State(state): State<AppState>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<crate::monitor::ServedCertificateRow>>, AppError> {
    context.require_reader()?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Ok(Json(crate::monitor::certificates(&state.pool, now).await?))
}
