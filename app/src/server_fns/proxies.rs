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

/// JSON an admin typed, read as `T`; what is wrong said under `field`.
#[cfg(feature = "ssr")]
fn typed<T: serde::de::DeserializeOwned>(field: &str, text: &str) -> Result<T, AppError> {
    serde_json::from_str(text)
        .map_err(|e| AppError::field(field, format!("not a valid document: {e}")))
}

/// The two sides' overlays as typed: `[{...}, {...}]`, or nothing for none.
#[cfg(feature = "ssr")]
fn overlays(text: &str) -> Result<Option<[serde_json::Value; 2]>, AppError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    typed("overlays", text).map(Some)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_pair_create")]
pub async fn create_pair(
    name: String,
    map_id: String,
    side_a: String,
    side_b: String,
    settings: String,
    overlays: String,
) -> Result<Pair, AppError> {
    let state = app_state()?;
    let map_id = map_id
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::field("map_id", "choose a published proxy map"))?;
    let new = NewPair {
        name,
        map_id,
        instances: [side_a, side_b],
        settings: typed("settings", &settings)?,
        overlays: self::overlays(&overlays)?,
    };
    store::create(&state.pool, &request_context(), new)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_pair_settings")]
pub async fn save_pair_settings(
    id: i64,
    settings: String,
    overlays: String,
) -> Result<Pair, AppError> {
    let state = app_state()?;
    let new = PairSettings {
        settings: typed("settings", &settings)?,
        overlays: self::overlays(&overlays)?,
    };
    store::update(&state.pool, &request_context(), id, new)
        .await
        .map_err(AppError::from)
}

/// What the pair page's forms start from: an instance to order bans through, and the settings
/// and overlays as JSON to edit.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PairForms {
    pub instance: i64,
    pub settings: String,
    pub overlays: String,
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_pair_forms")]
pub async fn load_pair_forms(id: i64) -> Result<PairForms, AppError> {
    let state = app_state()?;
    let context = request_context();
    let pair = store::pair(&state.pool, &context, id).await?;
    let settings = store::settings(&state.pool, &context, id).await?;
    Ok(PairForms {
        instance: pair.instances.first().map(|i| i.id).unwrap_or(0),
        settings: serde_json::to_string_pretty(&settings.settings).unwrap_or_default(),
        overlays: serde_json::to_string_pretty(&settings.overlays.unwrap_or_default())
            .unwrap_or_default(),
    })
}
