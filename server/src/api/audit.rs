//! `GET /api/v1/audit` (filters as query parameters; `format=json` pages, `jsonl` and `csv`
//! export everything that matches) and `GET /api/v1/audit/verify`. Admins and auditors; every
//! read is itself audited.

use super::Ctx;
use app::audit::{AuditEntry, AuditFilter, AuditPage, VerifyReport};
use app::error::AppError;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
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
    State(state): State<AppState>,
    Ctx(context): Ctx,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let filter = AuditFilter {
        actor: query.actor,
        action: query.action,
        target: query.target,
        outcome: query.outcome,
        from: query.from,
        to: query.to,
    };
    let format = query.format.as_deref().unwrap_or("json");
    let (content_type, extension, to_line): (&str, &str, fn(&AuditEntry) -> String) = match format {
        "json" => {
            let page: AuditPage = app::audit::ssr::read_page(
                &state.pool,
                &context,
                &filter,
                query.offset.unwrap_or(0),
                query.limit.unwrap_or(100),
            )
            .await?;
            return Ok(Json(page).into_response());
        }
        "jsonl" => ("application/jsonl", "jsonl", jsonl_line),
        "csv" => ("text/csv; charset=utf-8", "csv", csv_line),
        other => {
            return Err(AppError::field(
                "format",
                format!("'{other}' is not a format; use json, jsonl or csv"),
            ))
        }
    };
    context.require_reader()?;
    let bounds = filter.bounds()?;
    app::audit::ssr::record_read(&state.pool, &context, "audit.export", &filter).await?;
    let header_line = (extension == "csv").then(|| Ok::<_, AppError>(CSV_HEADER.to_owned()));
    let lines = app::audit::ssr::export(state.pool.clone(), bounds).map(move |entry| match entry {
        Ok(entry) => Ok(to_line(&entry)),
        Err(error) => Err(std::io::Error::other(error.to_string())),
    });
    let body = futures::stream::iter(
        header_line.map(|l| l.map_err(|e| std::io::Error::other(e.to_string()))),
    )
    .chain(lines);
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"gatehouse-audit.{extension}\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = VerifyReport), (status = 401, description = "not signed in", body = crate::api::openapi::ErrorBody), (status = 403, description = "the role does not allow this", body = crate::api::openapi::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Ctx(context): Ctx,
) -> Result<Json<VerifyReport>, AppError> {
    Ok(Json(
        app::audit::ssr::verify_as(&state.pool, &context).await?,
    ))
}

const CSV_HEADER: &str =
    "id,at,actor,actor_role,source,action,target,outcome,detail,before,after,prev_hash,hash\n";

fn jsonl_line(entry: &AuditEntry) -> String {
    let mut line = serde_json::to_string(entry).unwrap_or_default();
    line.push('\n');
    line
}

/// RFC 4180: quote a field that holds a comma, quote or line break; double inner quotes.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn csv_line(e: &AuditEntry) -> String {
    let json =
        |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    let fields = [
        e.id.to_string(),
        e.at.clone(),
        e.actor.clone(),
        e.actor_role.clone().unwrap_or_default(),
        e.source.clone().unwrap_or_default(),
        e.action.clone(),
        e.target.clone().unwrap_or_default(),
        e.outcome.clone(),
        e.detail.clone().unwrap_or_default(),
        json(&e.before),
        json(&e.after),
        e.prev_hash.clone(),
        e.hash.clone(),
    ];
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_separators_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
