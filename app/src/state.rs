//! What a server function finds in the Leptos context: the domain's services, and what the
//! server's middleware learned about the request (its principal, its session).

use crate::error::AppError;
use domain::auth::principal::RequestContext;
use domain::Services;
use leptos::prelude::use_context;
use tower_sessions::Session;

/// The services, from inside a server function.
pub fn app_state() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "the services are missing from the Leptos context"
        ))
    })
}

/// The request context inside a server function.
pub fn request_context() -> RequestContext {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestContext>().cloned())
        .unwrap_or_default()
}

/// The session inside a server function.
pub fn session() -> Result<Session, AppError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Session>().cloned())
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no session layer on this route")))
}
