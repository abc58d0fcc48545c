//! `GET /api/v1/alerts` and `GET /metrics`: for monitoring systems (the monitor role) as well as
//! admins and auditors.

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use crate::api::openapi::ErrorBody;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use domain::auth::principal::RequestContext;
use domain::certificates::store::{self as certificates, AlertKey, MuteRequest};
use domain::certificates::{Alert, CertificateReport, Filter, ServedCertificate};
use domain::Services;
use serde::Deserialize;

#[utoipa::path(get, path = "/api/v1/alerts", tag = "monitoring", extensions(("x-gatehouse-need" = json!("monitor"))),
    responses((status = 200, description = "every served certificate whose state is not ok", body = Vec<Alert>), (status = 401, body = ErrorBody)))]
pub async fn alerts(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<Alert>>, ApiError> {
    Ok(Json(certificates::alerts(&state, &context).await?))
}

#[utoipa::path(put, path = "/api/v1/alerts/mute", tag = "monitoring", request_body = MuteRequest,
    responses((status = 204, description = "muted"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mute(
    State(state): State<Services>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<MuteRequest>,
) -> Result<StatusCode, ApiError> {
    certificates::mute(&state.pool, &context, body, certificates::MuteKind::Mute).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/alerts/ack", tag = "monitoring", request_body = MuteRequest,
    responses((status = 204, description = "acknowledged: shown with owner, note and until; it keeps alerting"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn acknowledge(
    State(state): State<Services>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<MuteRequest>,
) -> Result<StatusCode, ApiError> {
    certificates::mute(&state.pool, &context, body, certificates::MuteKind::Ack).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/alerts/ack", tag = "monitoring", request_body = AlertKey,
    responses((status = 204, description = "the acknowledgement (or mute) ended"), (status = 404, body = ErrorBody)))]
pub async fn unacknowledge(
    state: State<Services>,
    context: Ctx,
    body: ApiJson<AlertKey>,
) -> Result<StatusCode, ApiError> {
    unmute(state, context, body).await
}

#[utoipa::path(delete, path = "/api/v1/alerts/mute", tag = "monitoring", request_body = AlertKey,
    responses((status = 204, description = "the mute or acknowledgement ended"), (status = 404, body = ErrorBody)))]
pub async fn unmute(
    State(state): State<Services>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<AlertKey>,
) -> Result<StatusCode, ApiError> {
    certificates::unmute(&state.pool, &context, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Prometheus text format: for a monitor token (or any signed-in reader), or without one from
/// an address in `GATEHOUSE_METRICS_ALLOW`.
pub async fn metrics(
    State(state): State<crate::AppState>,
    Ctx(context): Ctx,
) -> Result<impl IntoResponse, ApiError> {
    let allow_listed = context.principal.is_none()
        && context
            .source
            .parse()
            .is_ok_and(|ip| state.metrics_allow.contains(ip));
    let context = if allow_listed {
        RequestContext::allow_listed_monitor(&context.source)
    } else {
        context
    };
    let facts = domain::scans::stats::monitoring_facts(&state.services, &context).await?;
    let text = crate::monitor::metrics(&facts)?;
    Ok((
        [(
            http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    ))
}

/// `GET /api/v1/certificates` narrowing: each absent or empty parameter means all.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct CertificateQuery {
    /// A cluster id.
    cluster: Option<String>,
    /// A node kind (`finesse`, `cuic`, ...).
    kind: Option<String>,
    /// `expired`, `critical`, `warning` or `ok`.
    state: Option<String>,
    /// A lint id, e.g. `cn_not_in_san`.
    lint: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/certificates", tag = "monitoring", params(CertificateQuery),
    responses((status = 200, description = "every served certificate, soonest expiry first", body = Vec<ServedCertificate>), (status = 401, body = ErrorBody)))]
pub async fn certificates(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Query(query): Query<CertificateQuery>,
) -> Result<Json<Vec<ServedCertificate>>, ApiError> {
    if query
        .cluster
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty() && c.trim().parse::<i64>().is_err())
    {
        return Err(ApiError::unreadable("cluster must be a cluster id"));
    }
    let filter = Filter::from_form(query.cluster, query.kind, query.state, query.lint);
    Ok(Json(
        certificates::certificates(&state, &context, &filter).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/certificates/{sha256}", tag = "monitoring", params(("sha256" = String, Path)),
    responses((status = 200, description = "the certificate's facts and every place it is or was served", body = CertificateReport), (status = 404, body = ErrorBody)))]
pub async fn certificate(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(sha256): Path<String>,
) -> Result<Json<CertificateReport>, ApiError> {
    Ok(Json(
        certificates::certificate_report(&state, &context, &sha256).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/certificates/{sha256}/pem", tag = "monitoring", params(("sha256" = String, Path)),
    responses((status = 200, description = "the certificate as PEM (application/x-pem-file, an attachment)"), (status = 404, body = ErrorBody)))]
pub async fn certificate_pem(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(sha256): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let (der, cn) = certificates::certificate_der(&state.pool, &context, &sha256).await?;
    // A file name people recognise: the subject CN, reduced to safe characters.
    let stem: String = cn
        .unwrap_or_else(|| sha256.chars().take(16).collect())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (
                http::header::CONTENT_TYPE,
                "application/x-pem-file".to_owned(),
            ),
            (
                http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{stem}.pem\""),
            ),
        ],
        certificates::pem(&der),
    ))
}
