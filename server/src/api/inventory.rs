//! `/api/v1/clusters` and `/api/v1/nodes`: the inventory. Admins change it; admins and
//! auditors read it.

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use crate::api::openapi::ErrorBody;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use domain::inventory::store as inventory;
use domain::inventory::{ClusterInput, ClusterSummary, Node, NodeInput, NodeSaved};
use domain::Services;
use serde::Deserialize;
use serde_json::{json, Value};

#[utoipa::path(get, path = "/api/v1/clusters", tag = "inventory",
    responses((status = 200, body = Vec<ClusterSummary>), (status = 403, body = ErrorBody)))]
pub async fn list_clusters(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<ClusterSummary>>, ApiError> {
    Ok(Json(inventory::list_clusters(&state.pool, &context).await?))
}

#[utoipa::path(post, path = "/api/v1/clusters", tag = "inventory", request_body = ClusterInput,
    responses((status = 201, description = "created: {\"id\"}"), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_cluster(
    State(state): State<Services>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<ClusterInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = inventory::create_cluster(&state.pool, &context, body).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

#[utoipa::path(put, path = "/api/v1/clusters/{id}", tag = "inventory", params(("id" = i64, Path, example = 1)), request_body = ClusterInput,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn update_cluster(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ClusterInput>,
) -> Result<StatusCode, ApiError> {
    inventory::update_cluster(&state.pool, &context, id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/clusters/{id}", tag = "inventory", params(("id" = i64, Path, example = 1)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, description = "the cluster still has nodes", body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn delete_cluster(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    inventory::delete_cluster(&state.pool, &context, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeQuery {
    cluster_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/nodes", tag = "inventory", params(("cluster_id" = Option<i64>, Query)),
    responses((status = 200, body = Vec<Node>), (status = 403, body = ErrorBody)))]
pub async fn list_nodes(
    State(state): State<Services>,
    Ctx(context): Ctx,
    query: Result<Query<NodeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Node>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::unreadable(e.body_text()))?;
    Ok(Json(
        inventory::list_nodes(&state.pool, &context, query.cluster_id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/nodes", tag = "inventory", request_body = NodeInput,
    responses((status = 201, description = "created; `dns` says what the FQDN resolves to from Gatehouse", body = NodeSaved),
        (status = 422, description = "a field is invalid, or the FQDN or role is taken in the cluster", body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_node(
    State(state): State<Services>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<NodeInput>,
) -> Result<(StatusCode, Json<NodeSaved>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(inventory::create_node(&state.pool, &context, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/nodes/{id}", tag = "inventory", params(("id" = i64, Path, example = 1)),
    responses((status = 200, body = Node), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_node(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Node>, ApiError> {
    Ok(Json(inventory::get_node(&state.pool, &context, id).await?))
}

#[utoipa::path(put, path = "/api/v1/nodes/{id}", tag = "inventory", params(("id" = i64, Path, example = 1)), request_body = NodeInput,
    responses((status = 200, body = NodeSaved), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn update_node(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<NodeInput>,
) -> Result<Json<NodeSaved>, ApiError> {
    Ok(Json(
        inventory::update_node(&state.pool, &context, id, body).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/nodes/{id}", tag = "inventory", params(("id" = i64, Path, example = 1)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn delete_node(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    inventory::delete_node(&state.pool, &context, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/inventory/export", tag = "inventory",
    responses((status = 200, description = "text/csv: cluster,kind,role,fqdn,address,version,tags,ports (tags and ports separated by ';')"),
        (status = 403, body = ErrorBody)))]
pub async fn export_csv(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let text = domain::inventory::csv::export(&state.pool, &context).await?;
    Ok((
        [
            (http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"gatehouse-inventory.csv\"",
            ),
        ],
        text,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImportQuery {
    /// Check only: report what would be imported and every row's errors, write nothing.
    #[serde(default)]
    dry_run: bool,
}

#[utoipa::path(post, path = "/api/v1/inventory/import", tag = "inventory", params(ImportQuery),
    extensions(("x-gatehouse-large-body" = json!(true))),
    request_body(content = String, content_type = "text/csv", description = "cluster,kind,role,fqdn,address,version,tags,ports; at most 100,000 rows and 32 MiB"),
    responses((status = 200, description = "dry run: the report", body = domain::inventory::ImportReport),
        (status = 201, description = "imported: the report", body = domain::inventory::ImportReport),
        (status = 422, description = "some rows are invalid, nothing was written: {\"error\",\"message\",\"report\"}"),
        (status = 400, description = "not this CSV (header, encoding, too many rows)", body = ErrorBody)))]
pub async fn import_csv(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Query(query): Query<ImportQuery>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::unreadable(format!("the CSV is not UTF-8: {e}")))?;
    let report = domain::inventory::csv::import(&state.pool, &context, text, query.dry_run).await?;
    let status = match (report.dry_run, report.valid) {
        (true, _) => StatusCode::OK,
        (false, true) => StatusCode::CREATED,
        (false, false) => {
            let message = format!(
                "{} error(s) in the file; nothing was imported",
                report.error_count
            );
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"error": "validation", "message": message, "report": report})),
            ));
        }
    };
    Ok((
        status,
        Json(serde_json::to_value(report).map_err(ApiError::internal)?),
    ))
}
