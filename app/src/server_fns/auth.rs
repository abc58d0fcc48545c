//! Server functions for identity: who is signed in, sign-in and sign-out, first-start setup,
//! changing one's own password.

use crate::error::AppError;
use domain::auth::*;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context, session},
    domain::auth::store,
};

/// The signed-in user, or `None`.
#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "me")]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    let context = request_context();
    Ok(context.principal.and_then(|p| p.as_current_user()))
}

/// Signs in with a username and password, then goes to `next` (a local path).
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let state = app_state()?;
    let context = request_context();
    let session = session()?;
    store::sign_in(&state, &session, &context, &username, &password).await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Signs out: the session is destroyed on the server.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let state = app_state()?;
    let context = request_context();
    let session = session()?;
    store::sign_out(&state, &session, &context).await?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Changes the signed-in user's own password (any role).
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "change_password")]
pub async fn change_password(
    current: String,
    new_password: String,
    confirm: String,
) -> Result<(), AppError> {
    let state = app_state()?;
    let context = request_context();
    let session = session()?;
    store::change_own_password(
        &state,
        &session,
        &context,
        &current,
        &new_password,
        &confirm,
    )
    .await
    .map_err(AppError::from)
}

/// Creates the first administrator with the one-time setup token printed at first start.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "setup")]
pub async fn setup(
    token: String,
    username: String,
    password: String,
    confirm: String,
) -> Result<(), AppError> {
    let state = app_state()?;
    let context = request_context();
    let session = session()?;
    domain::auth::setup::complete_setup(
        &state, &session, &context, &token, &username, &password, &confirm,
    )
    .await?;
    leptos_axum::redirect("/");
    Ok(())
}
