//! The REST API under `/api/v1`: JSON in and out, authenticated by the session cookie or by
//! `Authorization: Bearer <token>`. Errors are `{"error", "message", "request_id"}`.

mod appliances;
mod audit;
mod inventory;
pub mod monitoring;
pub mod openapi;
mod scans;
mod session;
mod tokens;
mod users;
mod webhooks;

use crate::AppState;
use app::error::AppError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::routing::{get, put};
use axum::Router;
use domain::auth::principal::RequestContext;
use http::request::Parts;
use serde::de::DeserializeOwned;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/session",
            axum::routing::post(session::login).delete(session::logout),
        )
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", put(users::update).delete(users::delete))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/deliveries", get(webhooks::deliveries))
        .route("/webhooks/{id}", axum::routing::delete(webhooks::delete))
        .route("/webhooks/{id}/test", axum::routing::post(webhooks::test))
        .route("/audit", get(audit::list))
        .route("/audit/verify", get(audit::verify))
        .route("/openapi.json", get(openapi::document))
        .route(
            "/clusters",
            get(inventory::list_clusters).post(inventory::create_cluster),
        )
        .route(
            "/clusters/{id}",
            put(inventory::update_cluster).delete(inventory::delete_cluster),
        )
        .route(
            "/nodes",
            get(inventory::list_nodes).post(inventory::create_node),
        )
        .route("/nodes/{id}/certificates", get(scans::node_certificates))
        .route("/nodes/{id}/credentials", put(appliances::put_credentials))
        .route("/nodes/{id}/host-key", get(appliances::host_key))
        .route(
            "/nodes/{id}/host-key/accept",
            axum::routing::post(appliances::accept_host_key),
        )
        .route(
            "/nodes/{id}/test-connection",
            axum::routing::post(appliances::test_connection),
        )
        .route("/nodes/{id}/stores", get(appliances::stores))
        .route(
            "/nodes/{id}/stores/read",
            axum::routing::post(appliances::read_stores),
        )
        .route(
            "/nodes/{id}/stores/trust",
            axum::routing::post(appliances::import_trust),
        )
        .route("/connected-agents", get(appliances::connected_agents))
        .route("/nodes/{id}/thresholds", put(scans::node_thresholds))
        .route("/clusters/{id}/thresholds", put(scans::cluster_thresholds))
        .route(
            "/clusters/{id}/cas",
            get(scans::list_cas).post(scans::add_cas),
        )
        .route(
            "/clusters/{id}/cas/{sha256}",
            axum::routing::delete(scans::remove_ca),
        )
        .route("/certificates/{sha256}", get(monitoring::certificate))
        .route(
            "/certificates/{sha256}/pem",
            get(monitoring::certificate_pem),
        )
        .route("/alerts", get(monitoring::alerts))
        .route("/certificates", get(monitoring::certificates))
        .route(
            "/alerts/mute",
            put(monitoring::mute).delete(monitoring::unmute),
        )
        .route(
            "/alerts/ack",
            put(monitoring::acknowledge).delete(monitoring::unacknowledge),
        )
        .route("/scans", axum::routing::post(scans::start))
        .route("/scans/{id}", get(scans::status))
        .route("/scans/{id}/cancel", axum::routing::post(scans::cancel))
        .route("/inventory/export", get(inventory::export_csv))
        .route(
            "/inventory/import",
            // Its larger body limit is `middleware::body_limit`'s.
            axum::routing::post(inventory::import_csv),
        )
        .route(
            "/nodes/{id}",
            get(inventory::get_node)
                .put(inventory::update_node)
                .delete(inventory::delete_node),
        )
        .fallback(|| async { AppError::NotFound("no such API endpoint".into()) })
}

/// CSV imports may be larger than other bodies (100,000 rows).
pub const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

/// A JSON body whose rejections (malformed JSON, unknown fields, wrong content type) become
/// clear `bad_request` errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => AppError::BadRequest(
                    "send the body as JSON with 'Content-Type: application/json'".into(),
                ),
                JsonRejection::JsonSyntaxError(e) => {
                    AppError::BadRequest(format!("malformed JSON: {}", e.body_text()))
                }
                JsonRejection::JsonDataError(e) => {
                    AppError::BadRequest(format!("invalid body: {}", e.body_text()))
                }
                JsonRejection::BytesRejection(_) => AppError::BadRequest(
                    "the body could not be read (is it larger than 1 MiB?)".into(),
                ),
                other => AppError::BadRequest(other.body_text()),
            }),
        }
    }
}

/// The request's context, as the middleware resolved it.
pub struct Ctx(pub RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Ctx(parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_default()))
    }
}
