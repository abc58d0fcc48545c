//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` annotations and the request and response types.

use axum::response::IntoResponse;
use domain::auth::principal::Need;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// Every error answer.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// Stable code: bad_request, unauthorized, forbidden, not_found, method_not_allowed,
    /// conflict, too_large, unsupported_media_type, validation, stale, precondition_required,
    /// too_many_requests, unavailable, internal.
    error: String,
    message: String,
    request_id: String,
    /// For `validation`: field → messages.
    fields: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// For `stale`: what the latest version changed, one line each.
    changes: Option<Vec<String>>,
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

/// Documents on every operation the errors that the machinery every request passes through can
/// answer, from what the operation takes (so a new route is documented without effort):
/// 400 when it has path or query parameters or a body (they may not parse), 401 and 403 unless
/// it is open to anonymous callers (no session or token; a role that may not, or a write from
/// another site), 404 when it names a resource in its path, 413 and 422 when it takes a body
/// (larger than the limit; a field that is not valid), 422 for query filters, 429 for sign-in,
/// and 500 and 503 everywhere (a fault; the database away). Statuses a handler documents itself
/// keep their own description.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let limit = format!(
            "the body is larger than this endpoint takes ({} MiB; imports {} MiB)",
            crate::BODY_LIMIT / (1024 * 1024),
            super::IMPORT_LIMIT / (1024 * 1024)
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let in_path = path.contains('{');
            for (method, operation) in super::access::operations_mut(item) {
                let open = super::access::need_of(&method, operation) == Need::Anyone;
                let parameters = operation.parameters.as_deref().unwrap_or_default();
                let query = parameters
                    .iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query));
                let body = operation.request_body.is_some();
                let errors: [(&str, bool, &str); 9] = [
                    ("400", in_path || query || body, "the request is malformed: a path parameter, the query string or the body does not parse"),
                    ("401", !open, "no valid session or bearer token"),
                    ("403", !open, "the caller's role may not do this, or a state-changing request came from another site"),
                    ("404", in_path, "nothing with that id"),
                    ("413", body, &limit),
                    ("422", body || query, "a field is not valid: `fields` says which and why"),
                    ("429", open && body, "too many failed sign-ins; `Retry-After` says when to try again"),
                    ("500", true, "an internal error; the request id finds it in the log"),
                    ("503", true, "the database is unavailable; try again shortly"),
                ];
                for (status, applies, description) in errors {
                    if !applies || operation.responses.responses.contains_key(status) {
                        continue;
                    }
                    let response = ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build();
                    operation
                        .responses
                        .responses
                        .insert(status.to_owned(), response.into());
                }
            }
        }
    }
}

/// What the server enforces on request fields, in the document's words (JSON Schema), so that a
/// client generated from it sends what the server takes. The limits shared with the browser
/// come from their constants; names are trimmed before they are checked, hence "a character
/// that is not a space" rather than a plain length of one.
pub struct Constraints;

impl Constraints {
    /// (schema, property, JSON Schema keywords the server enforces on it).
    pub fn table() -> Vec<(&'static str, &'static str, serde_json::Value)> {
        use domain::auth::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
        use serde_json::json;
        let name = json!({"minLength": 1, "maxLength": 100, "pattern": "\\S"});
        let password = json!({"minLength": MIN_PASSWORD_LEN, "maxLength": MAX_PASSWORD_LEN});
        let username = json!({"minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9._@-]+$"});
        let fingerprint = json!({"pattern": "^[0-9A-Fa-f:]{64,95}$"});
        let kinds: Vec<&str> = domain::inventory::model::NodeKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect();
        vec![
            ("NewUser", "username", username),
            ("NewUser", "password", password.clone()),
            ("UserUpdate", "password", password),
            ("NewToken", "name", name.clone()),
            ("ClusterInput", "name", name.clone()),
            ("ClusterInput", "description", json!({"maxLength": 1000})),
            ("NodeInput", "kind", json!({"enum": kinds})),
            (
                "NodeInput",
                "fqdn",
                json!({"minLength": 1, "maxLength": 253, "pattern": "^[A-Za-z0-9.-]+$"}),
            ),
            ("NodeInput", "version", json!({"maxLength": 64})),
            (
                "EndpointSpec",
                "port",
                json!({"minimum": 1, "maximum": 65535}),
            ),
            ("WebhookInput", "name", name),
            (
                "WebhookInput",
                "url",
                json!({"format": "uri", "pattern": "^https?://"}),
            ),
            (
                "WebhookInput",
                "format",
                json!({"enum": ["json", "slack", null]}),
            ),
            (
                "ThresholdsInput",
                "warning_days",
                json!({"minimum": 1, "maximum": 3650}),
            ),
            (
                "ThresholdsInput",
                "critical_days",
                json!({"minimum": 0, "maximum": 3650}),
            ),
            (
                "ThresholdsInput",
                "warning_lifetime_percent",
                json!({"minimum": 0, "maximum": 100}),
            ),
            ("MuteRequest", "fingerprint_sha256", fingerprint.clone()),
            (
                "MuteRequest",
                "owner",
                json!({"minLength": 1, "pattern": "\\S"}),
            ),
            (
                "MuteRequest",
                "port",
                json!({"minimum": 1, "maximum": 65535}),
            ),
            ("AlertKey", "fingerprint_sha256", fingerprint),
            ("AlertKey", "port", json!({"minimum": 1, "maximum": 65535})),
            (
                "CredentialsInput",
                "username",
                json!({"minLength": 1, "maxLength": 100, "pattern": "^\\S+$"}),
            ),
            (
                "CredentialsInput",
                "password",
                json!({"minLength": 1, "maxLength": 200}),
            ),
            (
                "CredentialsInput",
                "port",
                json!({"minimum": 1, "maximum": 65535}),
            ),
        ]
    }
}

impl Modify for Constraints {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for (schema, property, rules) in Self::table() {
            let Some(object) = components.schemas.get_mut(schema) else {
                tracing::warn!(schema, "a constrained schema is not in the document");
                continue;
            };
            let Ok(mut value) = serde_json::to_value(&*object) else {
                continue;
            };
            let Some(field) = value
                .get_mut("properties")
                .and_then(|p| p.get_mut(property))
            else {
                tracing::warn!(
                    schema,
                    property,
                    "a constrained property is not in the document"
                );
                continue;
            };
            // An optional field may be `oneOf [null, T]`; the rules go where the value's own
            // type is.
            let target = if field.get("oneOf").is_some() {
                field["oneOf"].as_array_mut().and_then(|variants| {
                    variants
                        .iter_mut()
                        .find(|v| v.get("type") != Some(&serde_json::json!("null")))
                })
            } else {
                Some(field)
            };
            match (target.and_then(|t| t.as_object_mut()), rules) {
                (Some(target), serde_json::Value::Object(rules)) => target.extend(rules),
                _ => tracing::warn!(
                    schema,
                    property,
                    "a constrained property is not in the document"
                ),
            }
            if let Ok(constrained) = serde_json::from_value(value) {
                *object = constrained;
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse API", description = "The contact-center security console's REST API. \
        Authenticate with the session cookie (browsers; state-changing requests must carry the console's \
        Origin) or `Authorization: Bearer <token>`."),
    components(schemas(ErrorBody, Credentials)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
)]
pub struct ApiDoc;

/// What the routes cannot say about themselves, added once they are all in the document: who
/// may call each ([`super::access::Needs`]), the errors every request can meet, and the field
/// constraints the server enforces.
pub fn complete(openapi: &mut utoipa::openapi::OpenApi) {
    super::access::Needs.modify(openapi);
    ErrorResponses.modify(openapi);
    Constraints.modify(openapi);
}

/// `GET /api/v1/openapi.json`: the document, serialised once.
pub fn served(openapi: &utoipa::openapi::OpenApi) -> impl IntoResponse + Clone {
    let body = openapi.to_pretty_json().unwrap_or_else(|error| {
        tracing::error!(%error, "serialising the OpenAPI document");
        "{}".to_owned()
    });
    ([(http::header::CONTENT_TYPE, "application/json")], body)
}
