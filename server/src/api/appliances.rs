//! `/api/v1/nodes/{id}/...` on the appliances themselves (over SSH), and `/api/v1/connected-agents`.

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use crate::api::openapi::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::appliances::store as appliances;
use domain::appliances::{
    ConnectedAgents, ConnectionTest, CredentialsInput, HostKey, Operation, Stores, TrustImport,
};
use domain::Services;
use serde::Deserialize;

#[utoipa::path(put, path = "/api/v1/nodes/{id}/credentials", tag = "appliances", params(("id" = i64, Path, example = 1)),
    request_body = CredentialsInput,
    responses((status = 204, description = "stored, sealed; the password is never returned"), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_credentials(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<CredentialsInput>,
) -> Result<StatusCode, ApiError> {
    appliances::set_credentials(&state, &context, id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/nodes/{id}/host-key", tag = "appliances", params(("id" = i64, Path, example = 1)),
    responses((status = 200, body = HostKey), (status = 404, body = ErrorBody)))]
pub async fn host_key(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<HostKey>, ApiError> {
    // 404 for a node that does not exist, rather than "none".
    let access = appliances::access(&state.pool, &context, id).await?;
    Ok(Json(access.host_key))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptKey {
    /// The fingerprint the admin compared (`SHA256:...`): the presented key when it changed,
    /// else the key pinned on first use.
    pub fingerprint: String,
}

#[utoipa::path(post, path = "/api/v1/nodes/{id}/host-key/accept", tag = "appliances", params(("id" = i64, Path, example = 1)),
    request_body = AcceptKey,
    responses((status = 200, body = HostKey), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept_host_key(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AcceptKey>,
) -> Result<Json<HostKey>, ApiError> {
    Ok(Json(
        appliances::accept_host_key(&state, &context, id, &body.fingerprint).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/nodes/{id}/test-connection", tag = "appliances", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "ok or not, with the prompt, version and latency, or the reason", body = ConnectionTest), (status = 404, body = ErrorBody)))]
pub async fn test_connection(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<ConnectionTest>, ApiError> {
    Ok(Json(
        appliances::test_connection(&state, &context, id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/nodes/{id}/stores", tag = "appliances", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "the stores as last read (empty before the first read; the last failure is in `error`); a GET never reaches the node", body = Stores), (status = 404, body = ErrorBody)))]
pub async fn stores(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Stores>, ApiError> {
    Ok(Json(appliances::stores(&state, &context, id).await?))
}

#[utoipa::path(post, path = "/api/v1/nodes/{id}/stores/read", tag = "appliances", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "read from the appliance now", body = Stores), (status = 409, body = ErrorBody)))]
pub async fn read_stores(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Stores>, ApiError> {
    Ok(Json(
        appliances::read_and_show_stores(&state, &context, id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/nodes/{id}/stores/trust", tag = "appliances", params(("id" = i64, Path, example = 1)),
    request_body = TrustImport,
    responses((status = 200, description = "what the appliance answered (ok false: not imported)", body = Operation), (status = 422, body = ErrorBody)))]
pub async fn import_trust(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<TrustImport>,
) -> Result<Json<Operation>, ApiError> {
    Ok(Json(
        appliances::import_trust(&state, &context, id, body).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/connected-agents", tag = "appliances",
    responses((status = 200, body = ConnectedAgents), (status = 403, body = ErrorBody)))]
pub async fn connected_agents(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<ConnectedAgents>, ApiError> {
    Ok(Json(
        appliances::connected_agents(&state, &context, true, None).await?,
    ))
}
