//! `GET/PUT /api/v1/clusters/{id}/access-policy`: the cluster's access policy, its version as
//! the `ETag`; a save names the version it started from (`If-Match`, or `base_version` in the
//! body) and is refused with 412 and the changes since when that is no longer the latest.
//! `GET .../access-policy/versions` lists every version with its changes;
//! `POST .../access-policy/follow` and `.../leave` share a policy between the clusters behind
//! one proxy pair and end that; `POST .../access-policy/plan` makes a plan, `GET /api/v1/plans/{id}` shows it,
//! `POST /api/v1/plans/{id}/apply` and `.../cancel` confirm and stop it.

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use crate::api::openapi::ErrorBody;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use domain::access_policy::store as policies;
use domain::access_policy::{Follow, PolicyView, Save, VersionView};
use domain::appliances::store as appliances;
use domain::appliances::{PendingRestart, Restart};
use domain::reconcile::store as plans;
use domain::reconcile::{Drift, PlanView};
use domain::Services;
use serde_json::{json, Value};

fn etag(version: i32) -> [(header::HeaderName, HeaderValue); 1] {
    let value = HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes");
    [(header::ETAG, value)]
}

/// The version an `If-Match` names: `"3"` (or `W/"3"`); `None` when absent.
fn if_match(headers: &HeaderMap) -> Result<Option<i32>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    let tag = text.strip_prefix("W/").unwrap_or(text);
    tag.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i32>().ok())
        .filter(|v| *v >= 0)
        .map(Some)
        .ok_or_else(|| {
            ApiError::unreadable(format!(
                "If-Match must name one version as its ETag shows it, e.g. \"3\" (got {text:?})"
            ))
        })
}

#[utoipa::path(get, path = "/api/v1/clusters/{id}/access-policy", tag = "access policy",
    params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "the policy in force (version 0 before the first save); ETag: its version",
        body = PolicyView, headers(("ETag" = String, description = "the version, quoted"))),
        (status = 404, body = ErrorBody)))]
pub async fn get_policy(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let view = policies::policy(&state.pool, &context, id).await?;
    Ok((etag(view.version), Json(view)))
}

#[utoipa::path(put, path = "/api/v1/clusters/{id}/access-policy", tag = "access policy",
    params(("id" = i64, Path, example = 1),
        ("If-Match" = Option<String>, Header, description = "the version the edit started from, as its ETag (\"0\" for the first save)")),
    request_body = Save,
    responses((status = 200, description = "saved as the next version; ETag: its version", body = PolicyView,
            headers(("ETag" = String, description = "the new version, quoted"))),
        (status = 404, body = ErrorBody),
        (status = 412, description = "edited from an older version: `changes` lists what differs from the latest", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 428, description = "no If-Match and no base_version", body = ErrorBody)))]
pub async fn put_policy(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(mut body): ApiJson<Save>,
) -> Result<impl IntoResponse, ApiError> {
    match (if_match(&headers)?, body.base_version) {
        (Some(header), Some(field)) if header != field => {
            return Err(ApiError::unreadable(format!(
                "If-Match names version {header} but base_version is {field}; send one"
            )))
        }
        (Some(header), _) => body.base_version = Some(header),
        _ => {}
    }
    let view = policies::save(&state.pool, &context, id, body).await?;
    Ok((etag(view.version), Json(view)))
}

#[utoipa::path(get, path = "/api/v1/clusters/{id}/access-policy/versions", tag = "access policy",
    params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "every saved version, newest first, with its changes from the one before",
        body = Vec<VersionView>), (status = 404, body = ErrorBody)))]
pub async fn versions(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<VersionView>>, ApiError> {
    Ok(Json(policies::versions(&state.pool, &context, id).await?))
}

#[utoipa::path(post, path = "/api/v1/clusters/{id}/access-policy/follow", tag = "access policy",
    params(("id" = i64, Path, example = 1)), request_body = Follow,
    responses((status = 200, description = "the cluster follows the named cluster's policy (a cluster behind the same proxy pair); both policies it touches get a new version, so earlier plans must be made again",
        body = PolicyView),
        (status = 400, description = "the cluster itself", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the named cluster has no policy yet", body = ErrorBody)))]
pub async fn follow(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Follow>,
) -> Result<Json<PolicyView>, ApiError> {
    Ok(Json(
        policies::follow(&state.pool, &context, id, body.cluster_id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/clusters/{id}/access-policy/leave", tag = "access policy",
    params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "the cluster left its shared policy with a copy of its own (version 1)", body = PolicyView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "no policy, or no other cluster shares it", body = ErrorBody)))]
pub async fn leave(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<PolicyView>, ApiError> {
    Ok(Json(policies::leave(&state.pool, &context, id).await?))
}

#[utoipa::path(post, path = "/api/v1/clusters/{id}/access-policy/plan", tag = "access policy",
    params(("id" = i64, Path, example = 1)),
    responses((status = 201, description = "made: {\"id\"}; the nodes are read in the background (state `reading`, then `ready`)"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "no policy saved yet, or no node follows it", body = ErrorBody)))]
pub async fn create_plan(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let plan = policies::plan(&state.pool, &context, id).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": plan }))))
}

#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "plans", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "the plan: per node its state, steps with command, outcome and output, what still differs",
        body = PlanView), (status = 404, body = ErrorBody)))]
pub async fn get_plan(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<PlanView>, ApiError> {
    Ok(Json(plans::view(&state, &context, id).await?))
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/apply", tag = "plans", params(("id" = i64, Path, example = 1)),
    responses((status = 202, description = "confirmed (or resumed): applying; follow it with GET /api/v1/plans/{id}"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not ready, already applying or applied, superseded, or the desired state changed since", body = ErrorBody)))]
pub async fn apply_plan(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    plans::apply(&state, &context, id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/cancel", tag = "plans", params(("id" = i64, Path, example = 1)),
    responses((status = 202, description = "cancelled, or stopping after the command that is running"),
        (status = 404, body = ErrorBody), (status = 409, description = "already ended", body = ErrorBody)))]
pub async fn cancel_plan(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    plans::cancel(&state.pool, &context, id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(get, path = "/api/v1/drift", tag = "access policy",
    extensions(("x-gatehouse-need" = json!("monitor"))),
    responses((status = 200, description = "one entry per item of a managed node that differs from the policy last applied, as last checked",
        body = Vec<Drift>)))]
pub async fn drift(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<Drift>>, ApiError> {
    Ok(Json(
        domain::reconcile::drift::drift(&state, &context).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/drift/check", tag = "access policy",
    responses((status = 200, description = "every managed node read now; the drift found", body = Vec<Drift>),
        (status = 409, description = "the check failed or is still running after a minute", body = ErrorBody)))]
pub async fn check_drift(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<Drift>>, ApiError> {
    Ok(Json(
        domain::reconcile::drift::check_now(&state, &context).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/nodes/{id}/adopt-policy", tag = "access policy", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "the node read now and its state saved as its cluster's next policy version; apply it to bring the other nodes along",
            body = PolicyView, headers(("ETag" = String, description = "the new version, quoted"))),
        (status = 404, body = ErrorBody),
        (status = 409, description = "no policy, not a managed kind of node, or the node could not be read", body = ErrorBody)))]
pub async fn adopt(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let view = policies::adopt(&state, &context, id).await?;
    Ok((etag(view.version), Json(view)))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestartRequest {
    /// As `utils service list` names it, e.g. `Cisco Web Proxy Service`.
    service: String,
}

#[utoipa::path(post, path = "/api/v1/nodes/{id}/restart", tag = "access policy", params(("id" = i64, Path, example = 1)),
    request_body = RestartRequest,
    responses((status = 200, description = "the restart as it ended (state done or failed) with every state the node printed; a done one clears the pending restart",
        body = Restart), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn restart(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<RestartRequest>,
) -> Result<Json<Restart>, ApiError> {
    Ok(Json(
        appliances::restart_service(&state, &context, id, &body.service).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/restarts/{id}", tag = "access policy", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "a restart, with the states the node printed so far", body = Restart),
        (status = 404, body = ErrorBody)))]
pub async fn get_restart(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Restart>, ApiError> {
    Ok(Json(
        appliances::restart_view(&state.pool, &context, id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/clusters/{id}/restarts", tag = "access policy", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "the services the cluster's nodes must restart for applied changes to take effect",
        body = Vec<PendingRestart>), (status = 404, body = ErrorBody)))]
pub async fn pending_restarts(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<PendingRestart>>, ApiError> {
    Ok(Json(
        appliances::pending_restarts(&state.pool, &context, Some(id)).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/clusters/{id}/rolling-restart", tag = "access policy", params(("id" = i64, Path, example = 1)),
    responses((status = 202, description = "queued: {\"restarts\": [ids]}, run one node at a time, the primary first; a failed one stops the rest"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "nothing pending, or restarts already running on the cluster", body = ErrorBody)))]
pub async fn rolling_restart(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let ids = appliances::rolling_restart(&state, &context, id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "restarts": ids }))))
}
