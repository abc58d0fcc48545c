//! The REST API under `/api/v1`: JSON in and out, authenticated by the session cookie or by
//! `Authorization: Bearer <token>`. Errors are `{"error", "message", "request_id"}`.

pub mod access;
mod appliances;
mod audit;
mod cti;
pub mod error;
mod inventory;
pub mod monitoring;
pub mod openapi;
mod policy;
mod posture;
mod proxies;
mod proxymaps;
mod scans;
mod session;
mod tokens;
mod trust;
mod users;
mod webhooks;

use crate::api::error::ApiError;
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::routing::{any, get};
use axum::Router;
use domain::auth::principal::RequestContext;
use http::request::Parts;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The REST API: every route declared once, with its handler's `#[utoipa::path]` (method, path,
/// parameters, answers and, where it differs from the default, who may call it: see
/// [`access`]). The router, the OpenAPI document, the access checks and the tests that walk
/// every route are all derived from this list.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(session::login, session::logout))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::update, users::delete))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::delete))
        .routes(routes!(webhooks::test))
        .routes(routes!(audit::list))
        .routes(routes!(audit::verify))
        .routes(routes!(inventory::list_clusters, inventory::create_cluster))
        .routes(routes!(
            inventory::update_cluster,
            inventory::delete_cluster
        ))
        .routes(routes!(inventory::list_nodes, inventory::create_node))
        .routes(routes!(
            inventory::get_node,
            inventory::update_node,
            inventory::delete_node
        ))
        .routes(routes!(inventory::export_csv))
        // Its larger body limit is `middleware::body_limit`'s.
        .routes(routes!(inventory::import_csv))
        .routes(routes!(scans::node_certificates))
        .routes(routes!(appliances::put_credentials))
        .routes(routes!(appliances::host_key))
        .routes(routes!(appliances::accept_host_key))
        .routes(routes!(appliances::test_connection))
        .routes(routes!(appliances::stores))
        .routes(routes!(appliances::read_stores))
        .routes(routes!(appliances::import_trust))
        .routes(routes!(appliances::connected_agents))
        .routes(routes!(scans::node_thresholds))
        .routes(routes!(scans::cluster_thresholds))
        .routes(routes!(scans::list_cas, scans::add_cas))
        .routes(routes!(scans::remove_ca))
        .routes(routes!(monitoring::certificates))
        .routes(routes!(monitoring::certificate))
        .routes(routes!(monitoring::certificate_pem))
        .routes(routes!(monitoring::alerts))
        .routes(routes!(monitoring::mute, monitoring::unmute))
        .routes(routes!(monitoring::acknowledge, monitoring::unacknowledge))
        .routes(routes!(scans::start))
        .routes(routes!(scans::status))
        .routes(routes!(scans::cancel))
        .routes(routes!(policy::get_policy, policy::put_policy))
        .routes(routes!(policy::versions))
        .routes(routes!(policy::follow))
        .routes(routes!(policy::leave))
        .routes(routes!(policy::create_plan))
        .routes(routes!(policy::get_plan))
        .routes(routes!(policy::apply_plan))
        .routes(routes!(policy::cancel_plan))
        .routes(routes!(policy::drift))
        .routes(routes!(policy::check_drift))
        .routes(routes!(policy::adopt))
        .routes(routes!(policy::restart))
        .routes(routes!(policy::get_restart))
        .routes(routes!(policy::pending_restarts))
        .routes(routes!(policy::rolling_restart))
        .routes(routes!(proxymaps::validate))
        .routes(routes!(proxymaps::list, proxymaps::create))
        .routes(routes!(proxymaps::get))
        .routes(routes!(proxymaps::versions, proxymaps::save))
        .routes(routes!(proxymaps::publish))
        .routes(routes!(proxymaps::rollout, proxymaps::set_rollout))
        .routes(routes!(proxymaps::create_plan))
        .routes(routes!(proxymaps::propagation))
        .routes(routes!(proxies::list_pairs, proxies::create_pair))
        .routes(routes!(proxies::get_pair))
        .routes(routes!(proxies::publish))
        .routes(routes!(proxies::plan))
        .routes(routes!(proxies::get_settings, proxies::put_settings))
        .routes(routes!(proxies::plans))
        .routes(routes!(proxies::get_plan))
        .routes(routes!(proxies::apply_plan))
        .routes(routes!(proxies::list))
        .routes(routes!(proxies::get))
        .routes(routes!(proxies::issue_token, proxies::revoke_token))
        .routes(routes!(proxies::sessions))
        .routes(routes!(proxies::bans, proxies::add_ban))
        .routes(routes!(proxies::lift_ban))
        .routes(routes!(proxies::pull))
        .routes(routes!(proxies::report))
        .routes(routes!(trust::split_chain))
        .routes(routes!(trust::trust_matrix))
        .routes(routes!(trust::trust_matrix_plan))
        .routes(routes!(trust::add_trust_server))
        .routes(routes!(trust::remove_trust_server))
        .routes(routes!(trust::read_trust_servers))
        .routes(routes!(trust::generate_csr, trust::get_csr))
        .routes(routes!(trust::check_certificate))
        .routes(routes!(trust::plan_certificate))
        .routes(routes!(trust::regenerate_certificate))
        .routes(routes!(posture::get_posture))
        .routes(routes!(posture::posture_history))
        .routes(routes!(posture::scan_posture))
        .routes(routes!(posture::plan_posture))
        .routes(routes!(cti::get_cti))
        .routes(routes!(cti::plan_cti))
        .routes(routes!(posture::get_ports, posture::put_ports))
        .split_for_parts();
    openapi::complete(&mut document);
    let needs = Arc::new(access::Table::of(&document));
    let served = openapi::served(&document);
    let router = router
        // Unknown paths answer 404, behind the same rules (`access::Table::get`).
        .route(
            access::UNKNOWN,
            any(|| async { ApiError::not_found("no such API endpoint") }),
        )
        .route_layer(axum::middleware::from_fn_with_state(needs, access::enforce))
        .route(
            "/api/v1/openapi.json",
            get(move || std::future::ready(served.clone())),
        )
        .layer(axum::middleware::from_fn(crate::middleware::json_errors));
    (router, document)
}

/// Every REST operation as the route list declares it: (method, path template, who may call
/// it). The tests that walk every route start here.
pub fn operations() -> Vec<(http::Method, String, domain::auth::principal::Need)> {
    access::Table::of(&router().1).entries()
}

/// CSV imports may be larger than other bodies (100,000 rows).
pub const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

/// The OpenAPI extension by which an operation takes bodies up to [`IMPORT_LIMIT`]
/// (`extensions(("x-gatehouse-large-body" = json!(true)))`).
pub const LARGE_BODY: &str = "x-gatehouse-large-body";

/// The paths of the operations that declare [`LARGE_BODY`].
pub fn large_bodies(document: &utoipa::openapi::OpenApi) -> Vec<String> {
    let mut paths = Vec::new();
    for (path, item) in &document.paths.paths {
        let mut item = item.clone();
        let large = access::operations_mut(&mut item).any(|(_, operation)| {
            operation
                .extensions
                .as_ref()
                .is_some_and(|e| e.get(LARGE_BODY).and_then(|v| v.as_bool()) == Some(true))
        });
        if large {
            paths.push(path.clone());
        }
    }
    paths
}

/// A JSON body whose rejections (malformed JSON, unknown fields, wrong content type) become
/// clear `bad_request` errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|m| {
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !json {
            return Err(ApiError::unreadable(
                "send the body as JSON with 'Content-Type: application/json'",
            ));
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|_| {
                ApiError::unreadable("the body could not be read (is it larger than 1 MiB?)")
            })?;
        // PostgreSQL text cannot hold U+0000: refuse it here, not with a database error later.
        if escapes_nul(&bytes) {
            return Err(ApiError::unreadable(
                "text may not contain the NUL character (\\u0000)",
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::unreadable(
                    "send the body as JSON with 'Content-Type: application/json'",
                ),
                JsonRejection::JsonSyntaxError(e) => {
                    ApiError::unreadable(format!("malformed JSON: {}", e.body_text()))
                }
                JsonRejection::JsonDataError(e) => {
                    ApiError::unreadable(format!("invalid body: {}", e.body_text()))
                }
                JsonRejection::BytesRejection(_) => {
                    ApiError::unreadable("the body could not be read (is it larger than 1 MiB?)")
                }
                other => ApiError::unreadable(other.body_text()),
            }),
        }
    }
}

/// The request's context, as the middleware resolved it.
pub struct Ctx(pub RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Ctx(parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_default()))
    }
}

/// Whether JSON text holds the escape `\u0000` (a backslash that is itself escaped, as in
/// `"C:\\u0000"`, starts no escape).
fn escapes_nul(json: &[u8]) -> bool {
    json.windows(6).enumerate().any(|(at, w)| {
        w == b"\\u0000"
            && json[..=at]
                .iter()
                .rev()
                .take_while(|&&b| b == b'\\')
                .count()
                % 2
                == 1
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_real_escape_is_a_nul() {
        for (json, nul) in [
            (r#"{"a":"x\u0000"}"#, true),
            (r#"{"a":"x\\\u0000"}"#, true),
            (r#"{"a":"C:\\u0000"}"#, false),
            (r#"{"a":"u0000"}"#, false),
        ] {
            assert_eq!(super::escapes_nul(json.as_bytes()), nul, "{json}");
        }
    }
}
