//! A cluster's security posture (`/api/v1/clusters/{id}/posture`: the latest report as JSON or
//! printable HTML, its trend, a new scan, the plan fixing what the console sets) and where a
//! node's other services listen (`/api/v1/nodes/{id}/ports`).

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use crate::api::openapi::ErrorBody;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::posture::store as posture;
use domain::posture::{PosturePoint, PostureReport};
use domain::Services;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(serde::Deserialize)]
pub struct FormatQuery {
    format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/clusters/{id}/posture", tag = "posture",
    params(("id" = i64, Path, example = 1), ("format" = Option<String>, Query, description = "json (default) or html: one printable document (no script, no external file) for an auditor")),
    responses((status = 200, description = "the latest scan's report: findings (severity, the seed sentence behind each, what was observed, the fix: a posture plan, a page or a CLI command), what could not be looked at, the score and grade (score = max(0, 100 − 20·critical − 10·high − 4·medium − 1·low))", body = PostureReport),
        (status = 404, description = "no such cluster, or never scanned (`POST .../posture/scan`)", body = ErrorBody),
        (status = 422, description = "an unknown format", body = ErrorBody)))]
pub async fn get_posture(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    query: Result<Query<FormatQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::unreadable(e.body_text()))?;
    let html = match query.format.as_deref().unwrap_or("json") {
        "json" => false,
        "html" => true,
        other => {
            return Err(ApiError::field(
                "format",
                format!("'{other}' is not a format; use json or html"),
            ))
        }
    };
    let report = posture::latest(&state, &context, id)
        .await?
        .ok_or(domain::Error::from(posture::Refused::NeverScanned))?;
    if !html {
        return Ok(Json(report).into_response());
    }
    let trend = posture::history(&state, &context, id).await?;
    let (document, policy) = domain::posture::print::printable(&report, &trend);
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CONTENT_SECURITY_POLICY, policy),
        ],
        document,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/clusters/{id}/posture/history", tag = "posture",
    params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "every scan's score and counts by severity, oldest first (the newest 200): the trend", body = Vec<PosturePoint>),
        (status = 404, body = ErrorBody)))]
pub async fn posture_history(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<PosturePoint>>, ApiError> {
    Ok(Json(posture::history(&state, &context, id).await?))
}

#[utoipa::path(post, path = "/api/v1/clusters/{id}/posture/scan", tag = "posture",
    params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "scanned now: every node's settings read over SSH, its HTTP, HSTS, notification and TLS ports probed, the certificate findings and the trust matrix's red cells added; the report, stored (the trend's newest point)", body = PostureReport),
        (status = 404, body = ErrorBody)))]
pub async fn scan_posture(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<PostureReport>, ApiError> {
    Ok(Json(posture::scan(&state, &context, id).await?))
}

#[utoipa::path(post, path = "/api/v1/clusters/{id}/posture/plan", tag = "posture",
    params(("id" = i64, Path, example = 1)),
    responses((status = 201, description = "made: {\"id\"}; a plan of the reconciliation engine setting what the latest scan found and the console sets (trustAllCertificates false, secureSystemInfo true, enableInsecureOpenfirePort false, tls min-version 1.2); the nodes are read in the background, then `POST /api/v1/plans/{id}/apply` confirms it. Scan again afterwards"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "never scanned, or nothing the console sets was found", body = ErrorBody)))]
pub async fn plan_posture(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let plan = posture::plan(&state, &context, id).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": plan }))))
}

#[utoipa::path(get, path = "/api/v1/nodes/{id}/ports", tag = "posture",
    params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "where the node's other services listen, each service with its port (the product's default unless set): http (80), http_alt (8082), xmpp (5222), bosh (7071), desktop (8445), cti (8012)", body = BTreeMap<String, u16>),
        (status = 404, body = ErrorBody)))]
pub async fn get_ports(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<BTreeMap<String, u16>>, ApiError> {
    Ok(Json(posture::ports(&state, &context, id).await?))
}

#[utoipa::path(put, path = "/api/v1/nodes/{id}/ports", tag = "posture",
    params(("id" = i64, Path, example = 1)),
    request_body(content = BTreeMap<String, u16>, description = "services to move, e.g. {\"http\": 8080}; a service at its default port is no longer set"),
    responses((status = 200, description = "set; every service with its port", body = BTreeMap<String, u16>),
        (status = 404, body = ErrorBody),
        (status = 422, description = "an unknown service or port 0", body = ErrorBody)))]
pub async fn put_ports(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<BTreeMap<String, u16>>,
) -> Result<Json<BTreeMap<String, u16>>, ApiError> {
    posture::set_ports(&state, &context, id, &body).await?;
    Ok(Json(posture::ports(&state, &context, id).await?))
}
