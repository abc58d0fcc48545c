//! User management: create users, change roles, reset passwords, disable and delete.

use crate::auth::Role;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod ssr;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
}

/// `PUT /api/v1/users/{id}`: every field optional; what is absent stays.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserUpdate {
    pub role: Option<Role>,
    /// A new password set by an admin (a reset); the user's sessions end.
    pub password: Option<String>,
    /// Disabling ends the user's sessions; the user can no longer sign in.
    pub disabled: Option<bool>,
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    context.require_reader()?;
    ssr::list(&state.pool).await
}

#[server(prefix = "/api/fn", endpoint = "user_create")]
pub async fn create_user(
    username: String,
    password: String,
    role: String,
) -> Result<i64, AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    let role = Role::parse(&role).map_err(|m| AppError::field("role", m))?;
    ssr::create(
        &state.pool,
        &context,
        NewUser {
            username,
            password,
            role,
        },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "user_update")]
pub async fn update_user(id: i64, update: UserUpdate) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    ssr::update(&state.pool, &context, id, update).await
}

#[server(prefix = "/api/fn", endpoint = "user_delete")]
pub async fn delete_user(id: i64) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    ssr::delete(&state.pool, &context, id).await
}
