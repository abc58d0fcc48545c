//! A BroadWorks node's CTI interface facing Webex (seed 003): the checklist as the node stands
//! with the probe's findings (`GET /api/v1/nodes/{id}/cti`), and the plan that brings it there
//! (`POST /api/v1/nodes/{id}/cti/plan`).

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use crate::api::openapi::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::cti::CtiView;
use domain::Services;
use serde_json::{json, Value};

#[utoipa::path(get, path = "/api/v1/nodes/{id}/cti", tag = "cti",
    params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "the node's CTI settings read over SSH now and judged against seed 003's checklist (each step: done or not, what was read, the seed's sentence, the command), and what a TLS 1.2 client meets on the CTI port (the suite chosen by its IANA and OpenSSL names, whether a client certificate is asked for, whether the chain is complete) with the findings. What could not be read or probed says why", body = CtiView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not a BroadWorks node", body = ErrorBody)))]
pub async fn get_cti(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<CtiView>, ApiError> {
    Ok(Json(domain::cti::store::view(&state, &context, id).await?))
}

/// `POST /api/v1/nodes/{id}/cti/plan`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CtiPlanInput {
    /// The Webex CA chain file's text (Partner Hub, *Download Webex CA Certificate*:
    /// CombinedCertChain): split into one trust anchor per CA certificate, each under an alias
    /// made of its common name and the start of its SHA-256 fingerprint. Without it the trust
    /// anchors are left as they are.
    #[schema(max_length = 262144)]
    pub chain: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/nodes/{id}/cti/plan", tag = "cti",
    params(("id" = i64, Path, example = 1)),
    request_body(content = CtiPlanInput, description = "`{}`, or the Webex CA chain for the trust anchors"),
    responses((status = 201, description = "made: {\"id\"}; a plan of the reconciliation engine adding what the checklist misses (trust anchors, a CTI interface requiring client certificates, TLSv1.2, a recommended suite where the interface lists none, allowClientApp true; on an Application Server the Webex client identity). Nothing is removed. The node is read in the background, then `POST /api/v1/plans/{id}/apply` confirms it"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not a BroadWorks node, its settings could not be read, or nothing is missing", body = ErrorBody),
        (status = 422, description = "the chain is no certificate text, or holds no root", body = ErrorBody)))]
pub async fn plan_cti(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<CtiPlanInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let plan = domain::cti::plan::plan(&state, &context, id, input.chain.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": plan }))))
}
