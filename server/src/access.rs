//! Who may load each page and call each server function, enforced before either runs. The REST
//! API's rules are its route list's (`api::access`); these come from what the `app` crate
//! declares beside its pages and functions:
//! - server functions: `app::server_fns::needs`, keyed by each function's own path; a POST not
//!   in it needs an admin, a GET is left to its service's check;
//! - pages: `app::PUBLIC_PAGES` load for anyone; every other page sends an anonymous browser to
//!   `app::LOGIN` (and back after signing in); `app::SETUP` opens only with the one-time link;
//!   the sign-in page sends a signed-in user home.
//!
//! The services check the principal again (`domain::auth::principal`): these rules make the
//! refusal uniform and early.

use crate::api::error::ApiError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use domain::auth::principal::{Need, RequestContext};
use domain::Services;
use http::Method;
use std::collections::HashMap;
use std::sync::Arc;

/// The server functions' needs, by path and method (`None`: left to the service).
#[derive(Debug, Default)]
pub struct ServerFns(HashMap<(Method, String), Option<Need>>);

impl ServerFns {
    /// Every registered server function, with the need `app::server_fns::needs` declares or
    /// its method's default.
    pub fn registered() -> Self {
        let declared: HashMap<&str, Need> = app::server_fns::needs().into_iter().collect();
        let table = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, method)| {
                let need = match declared.get(path) {
                    Some(need) => Some(*need),
                    None => default_need(&method),
                };
                ((method, path.to_owned()), need)
            })
            .collect();
        Self(table)
    }

    /// Every (method, path, need) for the tests that walk them, sorted.
    pub fn entries(&self) -> Vec<(Method, String, Option<Need>)> {
        crate::api::access::sorted(&self.0)
    }

    /// The need of a call: a registered function's, or, for a path under the functions' prefix
    /// that names none, its method's default (a write to a function that does not exist is
    /// refused as any write would be). `None` for other paths: pages.
    fn of(&self, method: &Method, path: &str) -> Option<Option<Need>> {
        if let Some(need) = self.0.get(&(method.clone(), path.to_owned())) {
            return Some(*need);
        }
        path.starts_with(app::server_fns::PREFIX)
            .then(|| default_need(method))
    }
}

/// A server function's need by its method: a change needs an admin; a read is its service's.
fn default_need(method: &Method) -> Option<Need> {
    match *method {
        Method::GET | Method::HEAD => None,
        _ => Some(Need::Admin),
    }
}

/// What [`enforce`] reads: the server functions' table and the services (the setup link).
#[derive(Clone)]
pub struct Rules {
    pub server_fns: Arc<ServerFns>,
    pub services: Services,
}

/// Applies the rules to a request for a page or a server function (the Leptos routes and the
/// fallback behind them).
pub async fn enforce(State(rules): State<Rules>, request: Request, next: Next) -> Response {
    let context = request
        .extensions()
        .get::<RequestContext>()
        .cloned()
        .unwrap_or_default();
    let path = request.uri().path();
    match rules.server_fns.of(request.method(), path) {
        Some(Some(need)) => match context.require(need) {
            Ok(_) => next.run(request).await,
            Err(error) => ApiError::from(error).into_response(),
        },
        Some(None) => next.run(request).await,
        None => page(&rules.services, &context, request, next).await,
    }
}

/// The page rules.
async fn page(
    services: &Services,
    context: &RequestContext,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let get = request.method() == Method::GET;
    let public = app::PUBLIC_PAGES.contains(&path);
    if get && context.principal.is_none() && !public {
        let target = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let next_param = domain::audit::encode_component(target);
        return Redirect::to(&format!("{}?next={next_param}", app::LOGIN)).into_response();
    }
    if path == app::SETUP {
        let given = request
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .unwrap_or_default();
        match domain::auth::setup::setup_token_valid(&services.pool, given).await {
            Ok(true) => {}
            Ok(false) => {
                return (
                    http::StatusCode::NOT_FOUND,
                    "setup is closed or this link is not valid",
                )
                    .into_response()
            }
            Err(error) => return ApiError::from(error).into_response(),
        }
    }
    if path == app::LOGIN && get && context.principal.is_some() {
        return Redirect::to("/").into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_server_function_answers_under_the_prefix_and_every_declared_one_exists() {
        let table = ServerFns::registered();
        let entries = table.entries();
        assert!(entries.len() > 20, "{entries:?}");
        for (method, path, _) in &entries {
            assert!(
                path.starts_with(&format!("{}/", app::server_fns::PREFIX)),
                "{method} {path}"
            );
        }
        for (path, need) in app::server_fns::needs() {
            assert!(
                entries
                    .iter()
                    .any(|(_, p, n)| p == path && *n == Some(need)),
                "{path} is declared but not registered"
            );
        }
        for path in app::server_fns::large_bodies() {
            assert!(entries.iter().any(|(_, p, _)| p == path), "{path}");
        }
    }

    #[test]
    fn writes_need_an_admin_unless_declared_and_reads_are_left_to_the_services() {
        let table = ServerFns::registered();
        for (method, path, need) in table.entries() {
            let declared = app::server_fns::needs()
                .into_iter()
                .find(|(p, _)| *p == path)
                .map(|(_, n)| n);
            let expected = match (declared, &method) {
                (Some(need), _) => Some(need),
                (None, &Method::GET) => None,
                (None, _) => Some(Need::Admin),
            };
            assert_eq!(need, expected, "{method} {path}");
        }
        // A function that does not exist is refused to a write as any write would be.
        let missing = format!("{}/no_such_function", app::server_fns::PREFIX);
        assert_eq!(table.of(&Method::POST, &missing), Some(Some(Need::Admin)));
        assert_eq!(table.of(&Method::GET, "/inventory"), None);
    }
}
