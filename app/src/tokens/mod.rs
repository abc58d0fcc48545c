//! API tokens for automation and monitoring: shown once at creation, stored only as a hash,
//! with a role (their scope) and an optional expiry.

use crate::auth::Role;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod ssr;

/// Every token starts with this, so a leaked one is easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "gh_";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenSummary {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The first characters of the token, to tell tokens apart.
    pub hint: String,
    pub created_by: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked: bool,
    pub expired: bool,
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    /// RFC 3339 or `YYYY-MM-DD` (the end of that day, UTC). Absent: never expires.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// The answer to a token's creation: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    pub id: i64,
    pub token: String,
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "tokens")]
pub async fn list_tokens() -> Result<Vec<TokenSummary>, AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    context.require_reader()?;
    ssr::list(&state.pool).await
}

#[server(prefix = "/api/fn", endpoint = "token_create")]
pub async fn create_token(
    name: String,
    role: String,
    expires_at: Option<String>,
) -> Result<CreatedToken, AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    let role = Role::parse(&role).map_err(|m| AppError::field("role", m))?;
    let expires_at = expires_at.filter(|e| !e.trim().is_empty());
    ssr::create(
        &state.pool,
        &context,
        NewToken {
            name,
            role,
            expires_at,
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "token_revoke")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    ssr::revoke(&state.pool, &context, id).await
}
