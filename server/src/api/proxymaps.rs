//! `POST /api/v1/proxymaps/validate`: a proxy map's text checked (with `?cluster_id=`, against
//! that cluster's inventory, proxies and their certificates too), as the editor checks it.

use super::Ctx;
use crate::api::openapi::ErrorBody;
use app::error::AppError;
use axum::extract::{Query, State};
use axum::Json;
use domain::proxy_maps::store as maps;
use domain::proxy_maps::Validation;
use domain::Services;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ValidateQuery {
    /// Check against this cluster too: its nodes' endpoints, its proxies' public names and the
    /// names their certificates cover.
    cluster_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/proxymaps/validate", tag = "proxy maps", params(ValidateQuery),
    extensions(("x-gatehouse-need" = json!("reader"))),
    request_body(content = String, content_type = "text/plain", description = "the map's text (UTF-8; at most 1 MiB)"),
    responses((status = 200, description = "what the text is: `valid` (no errors), counts, every diagnostic (line, column, level, stable code, message), and the file the nodes would fetch", body = Validation),
        (status = 404, description = "no such cluster", body = ErrorBody)))]
pub async fn validate(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Query(query): Query<ValidateQuery>,
    body: axum::body::Bytes,
) -> Result<Json<Validation>, AppError> {
    Ok(Json(
        maps::validate(&state.pool, &context, &body, query.cluster_id).await?,
    ))
}
