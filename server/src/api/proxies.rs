//! gatehouse-proxy pairs and instances. For admins and auditors: `/api/v1/proxy-pairs` (list,
//! create, plan the configuration; publish: plan and apply at once), `/api/v1/proxy-plans`
//! (a plan, apply it), `/api/v1/proxies` (each instance: pair, side,
//! listeners, versions, health), an instance's sessions and bans, bans added and lifted, the
//! instance's token (issued once). For an instance, with its own token and nothing else:
//! `GET /api/v1/proxy/config` (long poll: the configuration to serve and the orders it has
//! not taken) and `POST /api/v1/proxy/report` (what it serves now).

use super::{ApiJson, Ctx};
use crate::api::error::ApiError;
use crate::api::openapi::ErrorBody;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::proxies::{
    self, BanView, Instance, IssuedToken, NewBan, NewPair, Pair, PairSettings, ProxyPlan,
    SessionView,
};
use domain::Services;
use serde::Deserialize;
use std::time::Duration;

#[utoipa::path(get, path = "/api/v1/proxy-pairs", tag = "proxies",
    responses((status = 200, body = Vec<Pair>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_pairs(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<Pair>>, ApiError> {
    Ok(Json(proxies::store::pairs(&state.pool, &context).await?))
}

#[utoipa::path(post, path = "/api/v1/proxy-pairs", tag = "proxies", request_body = NewPair,
    responses((status = 201, body = Pair), (status = 404, description = "no such map", body = ErrorBody),
        (status = 409, description = "the name is taken", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_pair(
    State(state): State<Services>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<NewPair>,
) -> Result<(StatusCode, Json<Pair>), ApiError> {
    let pair = proxies::store::create(&state.pool, &context, body).await?;
    Ok((StatusCode::CREATED, Json(pair)))
}

#[utoipa::path(get, path = "/api/v1/proxy-pairs/{id}", tag = "proxies", params(("id" = i64, Path, example = 1)),
    responses((status = 200, body = Pair), (status = 404, body = ErrorBody)))]
pub async fn get_pair(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Pair>, ApiError> {
    Ok(Json(proxies::store::pair(&state.pool, &context, id).await?))
}

#[utoipa::path(get, path = "/api/v1/proxy-pairs/{id}/settings", tag = "proxies", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "the pair's settings and each side's overlay, as an admin set them (what the next plan is made from)", body = PairSettings),
        (status = 404, body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<PairSettings>, ApiError> {
    Ok(Json(
        proxies::store::settings(&state.pool, &context, id).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/proxy-pairs/{id}/settings", tag = "proxies", params(("id" = i64, Path, example = 1)), request_body = PairSettings,
    responses((status = 200, description = "the settings and overlays replaced; the instances serve them once a plan made after this is applied", body = Pair),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<PairSettings>,
) -> Result<Json<Pair>, ApiError> {
    Ok(Json(
        proxies::store::update(&state.pool, &context, id, body).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/proxy-pairs/{id}/plan", tag = "proxies", params(("id" = i64, Path, example = 1)),
    responses((status = 201, description = "a plan: the configuration made now from the pair's settings, its map's published version and the trust the console knows (a new version, or the newest when nothing changed), and per instance every setting that changes; nothing is told to the instances until it is applied", body = ProxyPlan),
        (status = 404, body = ErrorBody), (status = 409, description = "the map has no published version", body = ErrorBody),
        (status = 422, description = "an engine would refuse the document: every problem named", body = ErrorBody)))]
pub async fn plan(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<ProxyPlan>), ApiError> {
    let plan = proxies::store::plan(&state.pool, &context, id).await?;
    Ok((StatusCode::CREATED, Json(plan)))
}

#[utoipa::path(get, path = "/api/v1/proxy-pairs/{id}/plans", tag = "proxies", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "the pair's newest plans (at most 20), newest first", body = Vec<ProxyPlan>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn plans(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ProxyPlan>>, ApiError> {
    proxies::store::pair(&state.pool, &context, id).await?;
    Ok(Json(
        proxies::store::plans(&state.pool, &context, id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/proxy-plans/{id}", tag = "proxies", params(("id" = i64, Path, example = 1)),
    responses((status = 200, body = ProxyPlan), (status = 404, body = ErrorBody)))]
pub async fn get_plan(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<ProxyPlan>, ApiError> {
    Ok(Json(
        proxies::store::proxy_plan(&state.pool, &context, id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/proxy-plans/{id}/apply", tag = "proxies", params(("id" = i64, Path, example = 1)),
    responses((status = 202, description = "both instances are told the plan's version; the plan is `applying` until both report it in force (then `applied`), one refuses it or a minute passes (then `failed`, with why)", body = ProxyPlan),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the plan is not ready (applied, failed or superseded), or the instances were told other versions since it was made", body = ErrorBody)))]
pub async fn apply_plan(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<ProxyPlan>), ApiError> {
    let plan = proxies::store::apply(&state.pool, &context, id).await?;
    Ok((StatusCode::ACCEPTED, Json(plan)))
}

#[utoipa::path(post, path = "/api/v1/proxy-pairs/{id}/publish", tag = "proxies", params(("id" = i64, Path, example = 1)),
    responses((status = 202, description = "a plan made and applied at once (for scripts): as `POST .../plan` then `POST /api/v1/proxy-plans/{id}/apply`", body = ProxyPlan),
        (status = 404, body = ErrorBody), (status = 409, description = "the map has no published version", body = ErrorBody),
        (status = 422, description = "an engine would refuse the document: every problem named", body = ErrorBody)))]
pub async fn publish(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<ProxyPlan>), ApiError> {
    let plan = proxies::store::publish(&state.pool, &context, id).await?;
    Ok((StatusCode::ACCEPTED, Json(plan)))
}

#[utoipa::path(get, path = "/api/v1/proxies", tag = "proxies",
    responses((status = 200, description = "every instance: its pair and side, the listeners of the configuration it serves, the version it is told to serve and the one it reported in force, its health and when it last reported", body = Vec<Instance>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<Services>,
    Ctx(context): Ctx,
) -> Result<Json<Vec<Instance>>, ApiError> {
    Ok(Json(
        proxies::store::instances(&state.pool, &context).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/proxies/{id}", tag = "proxies", params(("id" = i64, Path, example = 1)),
    responses((status = 200, body = Instance), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Instance>, ApiError> {
    Ok(Json(
        proxies::store::instance(&state.pool, &context, id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/proxies/{id}/token", tag = "proxies", params(("id" = i64, Path, example = 1)),
    responses((status = 201, description = "the instance's token, shown only now; an earlier one stops working", body = IssuedToken),
        (status = 404, body = ErrorBody)))]
pub async fn issue_token(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let token = proxies::store::issue_token(&state.pool, &context, id).await?;
    Ok((StatusCode::CREATED, Json(token)))
}

#[utoipa::path(delete, path = "/api/v1/proxies/{id}/token", tag = "proxies", params(("id" = i64, Path, example = 1)),
    responses((status = 204, description = "revoked: the instance's token stops working at once"), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    proxies::store::revoke_token(&state.pool, &context, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/proxies/{id}/sessions", tag = "proxies", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "who is connected through the instance, as it last reported", body = Vec<SessionView>), (status = 404, body = ErrorBody)))]
pub async fn sessions(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    Ok(Json(
        proxies::store::sessions(&state.pool, &context, id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/proxies/{id}/bans", tag = "proxies", params(("id" = i64, Path, example = 1)),
    responses((status = 200, description = "whom the instance bans, as it last reported: reason, time left, origin", body = Vec<BanView>), (status = 404, body = ErrorBody)))]
pub async fn bans(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<BanView>>, ApiError> {
    Ok(Json(proxies::store::bans(&state.pool, &context, id).await?))
}

#[utoipa::path(post, path = "/api/v1/proxies/{id}/bans", tag = "proxies", params(("id" = i64, Path, example = 1)), request_body = NewBan,
    responses((status = 202, description = "ordered: both instances of the pair ban the address with their next pull"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_ban(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<NewBan>,
) -> Result<StatusCode, ApiError> {
    proxies::store::ban(&state.pool, &context, id, body).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(delete, path = "/api/v1/proxies/{id}/bans/{ip}", tag = "proxies",
    params(("id" = i64, Path, example = 1), ("ip" = String, Path, description = "an address, or account:<login ID>", example = "203.0.113.9")),
    responses((status = 202, description = "ordered: both instances lift the ban with their next pull"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn lift_ban(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Path((id, ip)): Path<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    proxies::store::lift(&state.pool, &context, id, &ip).await?;
    Ok(StatusCode::ACCEPTED)
}

/// What the instance has: the configuration version and the last order it took.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Have {
    /// The configuration version it serves (0: none).
    #[serde(default)]
    version: u64,
    /// The id of the last order it took (0: none).
    #[serde(default)]
    order: i64,
    /// How long to wait for something new, in seconds (at most 30; default 25).
    #[serde(default)]
    wait: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/proxy/config", tag = "proxies", params(Have),
    extensions(("x-gatehouse-need" = json!("proxy"))),
    responses((status = 200, description = "the configuration to serve (when newer than `version`) and the orders after `order`"),
        (status = 204, description = "nothing new within the wait"),
        (status = 401, body = ErrorBody), (status = 403, description = "not a proxy instance's token", body = ErrorBody)))]
pub async fn pull(
    State(state): State<Services>,
    Ctx(context): Ctx,
    Query(have): Query<Have>,
) -> Result<Response, ApiError> {
    let wait = Duration::from_secs(have.wait.unwrap_or(25).min(30));
    match proxies::store::pull(&state.pool, &context, have.version, have.order, wait).await? {
        Some(pull) => Ok(Json(pull).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

#[utoipa::path(post, path = "/api/v1/proxy/report", tag = "proxies", request_body(content = Object, description = "the instance's report (proxyconf::Report)"),
    extensions(("x-gatehouse-need" = json!("proxy"))),
    responses((status = 204, description = "kept"),
        (status = 429, description = "another report came within the last second: send it again after `Retry-After` (1 s)"),
        (status = 401, body = ErrorBody), (status = 403, description = "not a proxy instance's token", body = ErrorBody)))]
pub async fn report(
    State(state): State<Services>,
    Ctx(context): Ctx,
    ApiJson(body): ApiJson<proxyconf::Report>,
) -> Result<Response, ApiError> {
    if proxies::store::report(&state.pool, &context, body).await? {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok((
        StatusCode::TOO_MANY_REQUESTS,
        [(axum::http::header::RETRY_AFTER, "1")],
    )
        .into_response())
}
