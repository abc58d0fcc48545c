//! Server functions for user accounts.

use crate::error::AppError;
use domain::users::*;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::auth::Role,
    domain::users::store,
};

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    let state = app_state()?;
    let context = request_context();
    store::list(&state.pool, &context)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "user_create")]
pub async fn create_user(
    username: String,
    password: String,
    role: String,
) -> Result<i64, AppError> {
    let state = app_state()?;
    let context = request_context();
    let role = Role::parse(&role).map_err(|m| AppError::field("role", m))?;
    store::create(
        &state.pool,
        &context,
        NewUser {
            username,
            password,
            role,
        },
    )
    .await
    .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "user_update")]
pub async fn update_user(id: i64, update: UserUpdate) -> Result<(), AppError> {
    let state = app_state()?;
    let context = request_context();
    store::update(&state.pool, &context, id, update)
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "user_delete")]
pub async fn delete_user(id: i64) -> Result<(), AppError> {
    let state = app_state()?;
    let context = request_context();
    store::delete(&state.pool, &context, id)
        .await
        .map_err(AppError::from)
}
