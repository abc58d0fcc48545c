//! Proxy maps: `GET/POST /api/v1/proxymaps`, `GET /api/v1/proxymaps/{id}`, its versions (a
//! save names the version it started from: 409 with the changes since when stale), publishing
//! one, and `POST /api/v1/proxymaps/validate`: a text checked (with `?cluster_id=`, against that
//! cluster's inventory, proxies and their certificates too), as the editor checks it.

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use crate::api::openapi::ErrorBody;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use domain::proxy_maps::rollout::{PropagationView, Rollout, RolloutView};
use domain::proxy_maps::store as maps;
use domain::proxy_maps::{MapVersion, MapView, NewMap, SaveMap, Validation};
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
        (status = 404, description = "no such cluster", body = ErrorBody),
        (status = 415, description = "the body is not sent as text/plain (a JSON body is no map)", body = ErrorBody)))]
pub async fn validate(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Query(query): Query<ValidateQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Validation>, axum::response::Response> {
    use axum::response::IntoResponse;
    if !is_text(&headers) {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the map's text as text/plain (Content-Type: text/plain; charset=utf-8)",
        )
            .into_response());
    }
    maps::validate(&state.pool, &context, &body, query.cluster_id)
        .await
        .map(Json)
        .map_err(|e| ApiError::from(e).into_response())
}

/// Whether a body is sent as text: `text/plain` (any parameters), or with no type at all.
fn is_text(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .is_none_or(|value| {
            value.to_str().is_ok_and(|value| {
                value
                    .split(';')
                    .next()
                    .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/plain"))
            })
        })
}

#[utoipa::path(get, path = "/api/v1/proxymaps", tag = "proxy maps",
    responses((status = 200, description = "every map, by name", body = Vec<MapView>)))]
pub async fn list(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<MapView>>, ApiError> {
    Ok(Json(maps::list(&state.pool, &context).await?))
}

#[utoipa::path(post, path = "/api/v1/proxymaps", tag = "proxy maps", request_body = NewMap,
    responses((status = 201, description = "made (no version yet; nothing is served until a version is published)", body = MapView)))]
pub async fn create(
    State(state): State<Services>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<NewMap>,
) -> Result<(StatusCode, Json<MapView>), ApiError> {
    let made = maps::create(&state.pool, &context, body).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[utoipa::path(get, path = "/api/v1/proxymaps/{id}", tag = "proxy maps", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "the map: its path, latest and published versions", body = MapView),
        (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<MapView>, ApiError> {
    Ok(Json(maps::get(&state.pool, &context, id).await?))
}

#[utoipa::path(get, path = "/api/v1/proxymaps/{id}/versions", tag = "proxy maps", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "every saved version, newest first, with its text", body = Vec<MapVersion>),
        (status = 404, body = ErrorBody)))]
pub async fn versions(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<MapVersion>>, ApiError> {
    Ok(Json(maps::versions(&state.pool, &context, id).await?))
}

#[utoipa::path(post, path = "/api/v1/proxymaps/{id}/versions", tag = "proxy maps", params(("id" = i64, Path, example = 1)),
    request_body = SaveMap,
    responses((status = 201, description = "saved as the next version", body = MapView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "edited from an older version: `changes` lists what differs from the latest", body = ErrorBody),
        (status = 422, description = "the text has errors: `fields.text` lists them as `line:column: level: code: message`", body = ErrorBody)))]
pub async fn save(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<SaveMap>,
) -> Result<(StatusCode, Json<MapView>), ApiError> {
    let saved = maps::save(&state.pool, &context, id, body).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    version: i32,
}

#[utoipa::path(post, path = "/api/v1/proxymaps/{id}/publish", tag = "proxy maps", params(("id" = i64, Path, example = 1)),
    request_body = Publish,
    responses((status = 200, description = "published: the nodes are served this version from now on", body = MapView),
        (status = 404, description = "no such map or version", body = ErrorBody)))]
pub async fn publish(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Publish>,
) -> Result<Json<MapView>, ApiError> {
    Ok(Json(
        maps::publish(&state.pool, &context, id, body.version).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/proxymaps/{id}/rollout", tag = "proxy maps", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "the config URIs the cluster's nodes are to fetch the map from, the update frequency, the fetch restriction, and the URL this console serves the map at", body = RolloutView),
        (status = 404, body = ErrorBody)))]
pub async fn rollout(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<RolloutView>, ApiError> {
    Ok(Json(maps::rollout::get(&state, &context, id).await?))
}

#[utoipa::path(put, path = "/api/v1/proxymaps/{id}/rollout", tag = "proxy maps", params(("id" = i64, Path, example = 1)),
    request_body = Rollout,
    responses((status = 200, description = "saved (plans made before are refused from now on)", body = RolloutView),
        (status = 404, body = ErrorBody),
        (status = 422, description = "more than two URIs, a URI that is not http(s), a frequency outside 1-1440", body = ErrorBody)))]
pub async fn set_rollout(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Rollout>,
) -> Result<Json<RolloutView>, ApiError> {
    Ok(Json(maps::rollout::set(&state, &context, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/proxymaps/{id}/plan", tag = "proxy maps", params(("id" = i64, Path, example = 1)),
    responses((status = 201, description = "made: {\"id\"}; the nodes are read in the background, then `GET /api/v1/plans/{id}` shows the steps and `POST /api/v1/plans/{id}/apply` runs them"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "no cluster, nothing published, no node that reads maps, or an HTTPS map host whose certificate could not be read", body = ErrorBody)))]
pub async fn create_plan(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let plan = maps::rollout::plan(&state, &context, id).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": plan }))))
}

#[utoipa::path(get, path = "/api/v1/proxymaps/{id}/propagation", tag = "proxy maps", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "each Finesse, IdS, CUIC and LiveData node of the map's cluster, read now: its config URIs, update frequency, the version it holds and last fetched, and `propagated`, `pending`, `stale`, `not_configured` or `unknown`", body = PropagationView),
        (status = 404, body = ErrorBody)))]
pub async fn propagation(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<PropagationView>, ApiError> {
    Ok(Json(
        maps::serve::propagation_of(&state, &context, id).await?,
    ))
}
