//! `GET /api/v1/audit` (filters as query parameters; `format=json` pages, `jsonl` and `csv`
//! export everything that matches) and `GET /api/v1/audit/verify`. Admins and auditors; every
//! read is itself audited.

use super::Ctx;
use crate::api::error::ApiError;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::audit::export::Format;
use domain::audit::{AuditFilter, AuditPage, VerifyReport};
use domain::Services;
use futures::StreamExt;
use http::header;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    format: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    offset: Option<i64>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(("format" = Option<String>, Query, description = "json (a page), jsonl or csv (every matching entry)"), ("actor" = Option<String>, Query), ("action" = Option<String>, Query, description = "an action, or a prefix ending in a dot"), ("target" = Option<String>, Query, description = "substring"), ("outcome" = Option<String>, Query), ("from" = Option<String>, Query, description = "YYYY-MM-DD or RFC 3339"), ("to" = Option<String>, Query), ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query, description = "1 to 1000, default 100")),
    responses((status = 200, description = "a page (json) or an export (jsonl, csv)", body = AuditPage), (status = 422, body = crate::api::openapi::ErrorBody), (status = 401, description = "not signed in", body = crate::api::openapi::ErrorBody), (status = 403, description = "the role does not allow this", body = crate::api::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<Services>,
    Ctx(context): Ctx,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::unreadable(e.body_text()))?;
    let filter = AuditFilter {
        actor: query.actor,
        action: query.action,
        target: query.target,
        outcome: query.outcome,
        from: query.from,
        to: query.to,
    };
    let format = match query.format.as_deref().unwrap_or("json") {
        "json" => {
            let page: AuditPage = domain::audit::store::read_page(
                &state.pool,
                &context,
                &filter,
                query.offset.unwrap_or(0),
                query.limit.unwrap_or(100),
            )
            .await?;
            return Ok(Json(page).into_response());
        }
        other => Format::parse(other).ok_or_else(|| {
            ApiError::field(
                "format",
                format!("'{other}' is not a format; use json, jsonl or csv"),
            )
        })?,
    };
    let entries = domain::audit::store::export_as(&state.pool, &context, &filter).await?;
    let lines = entries.map(move |entry| match entry {
        Ok(entry) => Ok(format.line(&entry)),
        Err(error) => Err(std::io::Error::other(error.to_string())),
    });
    let body = futures::stream::iter(format.header().map(Ok)).chain(lines);
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"gatehouse-audit.{}\"",
                    format.extension()
                ),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = VerifyReport), (status = 401, description = "not signed in", body = crate::api::openapi::ErrorBody), (status = 403, description = "the role does not allow this", body = crate::api::openapi::ErrorBody)))]
pub async fn verify(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<VerifyReport>, ApiError> {
    Ok(Json(
        domain::audit::store::verify_as(&state.pool, &context).await?,
    ))
}
