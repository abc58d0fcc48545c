//! What every server-side request handler can reach: the database pool, the login throttle and
//! the settings that shape sessions. Built once by the server and shared by the REST API and
//! the server functions (which find it in the Leptos context).

use crate::auth::ssr::Throttle;
use crate::error::AppError;
use leptos::prelude::*;
use sqlx::PgPool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Settings that shape sign-in and sessions.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute_timeout: Duration,
    /// Whether the console is served over TLS (cookies get `Secure`, responses get HSTS).
    pub tls: bool,
}

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub sessions: Arc<SessionSettings>,
    pub throttle: Arc<Throttle>,
    /// The one-time setup token printed at first start when no user exists; taken on use.
    pub setup_token: Arc<Mutex<Option<String>>>,
    /// Starts and stops certificate scans (the server's scanner).
    pub scans: Arc<dyn crate::certificates::ssr::ScanControl>,
    pub leptos: LeptosOptions,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// The state, from inside a server function.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("AppState missing from the Leptos context"))
    })
}
