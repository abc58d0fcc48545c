//! Server functions for gatehouse-proxy pairs.

use crate::error::AppError;
use domain::proxies::*;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::proxies::store,
};

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_pairs")]
pub async fn list_pairs() -> Result<Vec<Pair>, AppError> {
    let state = app_state()?;
    store::pairs(&state.pool, &request_context())
        .await
        .map_err(AppError::from)
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_pair")]
pub async fn load_pair(id: i64) -> Result<PairDetail, AppError> {
    let state = app_state()?;
    store::detail(&state.pool, &request_context(), id)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_plan")]
pub async fn plan_pair(id: i64) -> Result<ProxyPlan, AppError> {
    let state = app_state()?;
    store::plan(&state.pool, &request_context(), id)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_plan_apply")]
pub async fn apply_proxy_plan(plan: i64) -> Result<ProxyPlan, AppError> {
    let state = app_state()?;
    store::apply(&state.pool, &request_context(), plan)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_token")]
pub async fn issue_proxy_token(instance: i64) -> Result<IssuedToken, AppError> {
    let state = app_state()?;
    store::issue_token(&state.pool, &request_context(), instance)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_token_revoke")]
pub async fn revoke_proxy_token(instance: i64) -> Result<(), AppError> {
    let state = app_state()?;
    store::revoke_token(&state.pool, &request_context(), instance)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_ban")]
pub async fn add_proxy_ban(
    instance: i64,
    ip: String,
    minutes: String,
    reason: String,
) -> Result<(), AppError> {
    let state = app_state()?;
    let minutes = minutes
        .trim()
        .parse::<u64>()
        .map_err(|_| AppError::field("minutes", "a whole number of minutes"))?;
    let ban = NewBan {
        ip,
        minutes,
        reason,
    };
    store::ban(&state.pool, &request_context(), instance, ban)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_lift")]
pub async fn lift_proxy_ban(instance: i64, target: String) -> Result<(), AppError> {
    let state = app_state()?;
    store::lift(&state.pool, &request_context(), instance, &target)
        .await
        .map_err(AppError::from)
}
