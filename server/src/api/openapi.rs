//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` annotations and the request and response types.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// Every error answer.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// Stable code: unauthorized, forbidden, not_found, validation, bad_request, conflict,
    /// too_many_requests, unavailable, internal.
    error: String,
    message: String,
    request_id: String,
    /// For `validation`: field → messages.
    fields: Option<std::collections::BTreeMap<String, Vec<String>>>,
}

/// `POST /api/v1/session`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Credentials {
    username: String,
    password: String,
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("gatehouse_session"))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse API", description = "The contact-center security console's REST API. \
        Authenticate with the session cookie (browsers; state-changing requests must carry the console's \
        Origin) or `Authorization: Bearer <token>`."),
    paths(
        super::session::login, super::session::logout,
        super::users::list, super::users::create, super::users::update, super::users::delete,
        super::tokens::list, super::tokens::create, super::tokens::revoke,
        super::audit::list, super::audit::verify,
        super::inventory::list_clusters, super::inventory::create_cluster, super::inventory::update_cluster,
        super::inventory::delete_cluster, super::inventory::list_nodes, super::inventory::create_node,
        super::inventory::get_node, super::inventory::update_node, super::inventory::delete_node,
        super::inventory::export_csv, super::inventory::import_csv, super::webhooks::list, super::webhooks::create, super::webhooks::delete, super::webhooks::test, super::webhooks::deliveries,
        super::scans::start, super::scans::status, super::scans::cancel, super::scans::node_certificates, super::scans::node_thresholds, super::scans::cluster_thresholds, super::scans::list_cas, super::scans::add_cas, super::scans::remove_ca,
        super::monitoring::alerts, super::monitoring::mute, super::monitoring::unmute, super::monitoring::acknowledge, super::monitoring::unacknowledge, super::monitoring::certificates, super::monitoring::certificate, super::monitoring::certificate_pem,
        super::appliances::put_credentials, super::appliances::host_key, super::appliances::accept_host_key, super::appliances::test_connection,
        super::appliances::stores, super::appliances::read_stores, super::appliances::import_trust, super::appliances::connected_agents,
    ),
    components(schemas(ErrorBody, Credentials)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
)]
pub struct ApiDoc;

pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
