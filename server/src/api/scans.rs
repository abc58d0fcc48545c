//! `POST /api/v1/scans` starts a scan (202), `GET /api/v1/scans/{id}` follows it,
//! `POST /api/v1/scans/{id}/cancel` stops it; `GET /api/v1/nodes/{id}/certificates` shows what
//! each endpoint of a node served at its latest probe, with findings judged now;
//! `PUT /api/v1/{clusters,nodes}/{id}/thresholds` overrides the expiry thresholds.

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use crate::api::openapi::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::certificates::store as certificates;
use domain::certificates::{CaUpload, ClusterCa, NodeReport, ScanStatus, ThresholdsInput};
use domain::Services;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// Nodes to scan; empty or absent: the whole fleet.
    #[serde(default)]
    node_ids: Option<Vec<i64>>,
}

#[utoipa::path(post, path = "/api/v1/scans", tag = "scans", request_body = ScanRequest,
    responses((status = 202, description = "started: {\"id\"}"), (status = 403, body = ErrorBody),
        (status = 404, description = "an unknown node id", body = ErrorBody),
        (status = 409, description = "a fleet scan is already running", body = ErrorBody)))]
pub async fn start(
    State(state): State<Services>,
    Ctx(context): Ctx,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // The body is optional: none means the whole fleet.
    let request: ScanRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ScanRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::unreadable(format!("invalid body: {e}")))?
    };
    let id = certificates::start_scan(&state, &context, request.node_ids).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"id": id}))))
}

#[utoipa::path(get, path = "/api/v1/scans/{id}", tag = "scans", params(("id" = i64, Path, example = 1)),
    responses((status = 200, body = ScanStatus), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<ScanStatus>, ApiError> {
    Ok(Json(
        certificates::scan_status(&state.pool, &context, id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/scans/{id}/cancel", tag = "scans", params(("id" = i64, Path, example = 1)),
    responses((status = 202, description = "asked to stop"), (status = 404, body = ErrorBody),
        (status = 409, description = "not running", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    certificates::cancel_scan(&state, &context, id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(get, path = "/api/v1/nodes/{id}/certificates", tag = "scans", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "per endpoint: the latest probe and its served chain with findings", body = NodeReport),
        (status = 404, body = ErrorBody)))]
pub async fn node_certificates(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<NodeReport>, ApiError> {
    let now = domain::dates::now();
    Ok(Json(
        certificates::node_report(&state.pool, &context, id, now).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/clusters/{id}/thresholds", tag = "scans", params(("id" = i64, Path, example = 1)),
    request_body = ThresholdsInput,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cluster_thresholds(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ThresholdsInput>,
) -> Result<StatusCode, ApiError> {
    let of = certificates::ThresholdsOf::Cluster(id);
    certificates::set_thresholds(&state.pool, &context, of, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/nodes/{id}/thresholds", tag = "scans", params(("id" = i64, Path, example = 1)),
    request_body = ThresholdsInput,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn node_thresholds(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ThresholdsInput>,
) -> Result<StatusCode, ApiError> {
    let of = certificates::ThresholdsOf::Node(id);
    certificates::set_thresholds(&state.pool, &context, of, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/clusters/{id}/cas", tag = "scans", params(("id" = i64, Path, example = 1)),
    responses((status = 200, body = Vec<ClusterCa>), (status = 403, body = ErrorBody)))]
pub async fn list_cas(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ClusterCa>>, ApiError> {
    Ok(Json(
        certificates::list_cluster_cas(&state.pool, &context, Some(id)).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/clusters/{id}/cas", tag = "scans", params(("id" = i64, Path, example = 1)),
    request_body = CaUpload,
    responses((status = 201, description = "the CAs now trusted from this upload", body = Vec<ClusterCa>),
        (status = 404, body = ErrorBody), (status = 422, description = "not PEM, not a CA, expired", body = ErrorBody)))]
pub async fn add_cas(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<CaUpload>,
) -> Result<(StatusCode, Json<Vec<ClusterCa>>), ApiError> {
    let added = certificates::add_cluster_cas(&state.pool, &context, id, &body.pem).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

#[utoipa::path(delete, path = "/api/v1/clusters/{id}/cas/{sha256}", tag = "scans",
    params(("id" = i64, Path, example = 1), ("sha256" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove_ca(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path((id, sha256)): Path<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    certificates::remove_cluster_ca(&state.pool, &context, id, &sha256).await?;
    Ok(StatusCode::NO_CONTENT)
}
