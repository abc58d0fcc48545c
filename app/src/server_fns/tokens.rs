//! Server functions for API tokens.

use crate::error::AppError;
use domain::tokens::*;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::auth::Role,
    domain::tokens::store,
};

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "tokens")]
pub async fn list_tokens() -> Result<Vec<TokenSummary>, AppError> {
    let state = app_state()?;
    let context = request_context();
    store::list(&state.pool, &context)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "token_create")]
pub async fn create_token(
    name: String,
    role: String,
    expires_at: Option<String>,
) -> Result<CreatedToken, AppError> {
    let state = app_state()?;
    let context = request_context();
    let role = Role::parse(&role).map_err(|m| AppError::field("role", m))?;
    let expires_at = expires_at.filter(|e| !e.trim().is_empty());
    store::create(
        &state.pool,
        &context,
        NewToken {
            name,
            role,
            expires_at,
        },
    )
    .await
    .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "token_revoke")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let state = app_state()?;
    let context = request_context();
    store::revoke(&state.pool, &context, id)
        .await
        .map_err(AppError::from)
}
