//! What runs around every request, outermost first: a request id → security headers → the
//! body limit → the session → who the request acts as → the cross-site guard → who may call
//! what (`crate::access` for pages and server functions, the route list for REST).

use crate::api::error::ApiError;
use app::error::{AppError, REQUEST_ID};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::auth::credentials::{self, Credential};
use domain::auth::principal::RequestContext;
use domain::Services;
use http::header::{self, HeaderValue};
use http::Method;
use rand::RngCore;
use std::net::SocketAddr;
use tower_sessions::Session;
use tracing::Instrument;

/// Gives every request an id (in the `x-request-id` response header and in error bodies).
pub async fn request_id(request: Request, next: Next) -> Response {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    let id = hex::encode(bytes);
    // Every log line of the request, services' spans included, carries its id.
    let span = tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(request).instrument(span))
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Resolves who the request acts as (`domain::auth::credentials`: a bearer secret, else the
/// session). An invalid bearer secret is refused at once (401) rather than silently treated as
/// anonymous. What the principal may then do is `crate::access`'s and the REST route list's.
pub async fn context(
    State(state): State<Services>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default().to_owned());
    let credential = match &authorization {
        Some(value) => Credential::Authorization(value),
        None => Credential::Session {
            session: &session,
            absolute_timeout: state.sessions.absolute_timeout,
        },
    };
    let principal = match credentials::principal(&state.pool, credential).await {
        Ok(principal) => principal,
        Err(error) => return ApiError::from(error).into_response(),
    };
    request.extensions_mut().insert(RequestContext {
        principal,
        source: peer.ip().to_string(),
    });
    next.run(request).await
}

/// Refuses state-changing requests from other sites (CSRF), whoever sends them. Runs before
/// every handler, so an endpoint added later is covered without effort. Who may change what is
/// the route list's (REST) and `crate::access`'s (pages and server functions).
pub async fn cross_site_guard(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    match check_same_origin(&request) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// A browser names the page that sent a request (`Origin`, `Sec-Fetch-Site`); it must be this
/// console. A request with a session cookie and neither header is refused too: only clients
/// that authenticate with a bearer token (not sent automatically) may omit them.
fn check_same_origin(request: &Request) -> Result<(), ApiError> {
    let headers = request.headers();
    let refuse = || Err(ApiError::not_allowed("cross-site request refused"));
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return refuse();
        }
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            let authority = origin.to_str().ok().and_then(|o| {
                o.strip_prefix("https://")
                    .or_else(|| o.strip_prefix("http://"))
            });
            if authority.is_some_and(|a| !host.is_empty() && a.eq_ignore_ascii_case(host)) {
                Ok(())
            } else {
                refuse()
            }
        }
        None => {
            let has_cookie = headers.contains_key(header::COOKIE);
            let has_bearer = headers.contains_key(header::AUTHORIZATION);
            if has_cookie && !has_bearer && !headers.contains_key("sec-fetch-site") {
                return refuse();
            }
            Ok(())
        }
    }
}

/// Server functions answer every error with status 500; give each the status its failure
/// means (401, 403, 422, 429 with Retry-After, ...), from the REST API's table. The browser side
/// decodes any 4xx or 5xx body as the error, so nothing else changes for it.
pub async fn server_fn_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if !response.headers().contains_key("serverfnerror") {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "error body too large",
        )
            .into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = crate::api::error::status(error.failure);
        if let Some(seconds) = error.retry_after_secs {
            parts.headers.insert(header::RETRY_AFTER, seconds.into());
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// The REST API answers every error with its one body, `{"error", "message", "request_id"}`.
/// Handlers do so through [`ApiError`]; what axum answers by itself comes as plain text (a path
/// parameter or query string that does not parse, an unknown method: 405) and is rewritten
/// here with the same words, the same status and the other headers (`Allow`) kept.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = match text.is_empty() {
        true => status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase(),
        false => text,
    };
    let body = serde_json::json!({
        "error": error_code(status),
        "message": message,
        "request_id": domain::trace::current_request_id(),
    });
    let mut rewritten = (status, axum::Json(body)).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}

/// The stable `error` code of a status, as `api::error::code` names them.
pub fn error_code(status: http::StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "too_large",
        415 => "unsupported_media_type",
        422 => "validation",
        429 => "too_many_requests",
        503 => "unavailable",
        500.. => "internal",
        _ => "bad_request",
    }
}

/// The paths that take bodies up to `limit` (inventory imports): the REST operations that
/// declare `x-gatehouse-large-body` in the route list and the server functions
/// `app::server_fns::large_bodies` names.
#[derive(Debug, Default)]
pub struct LargeBodies {
    paths: std::collections::HashSet<String>,
    limit: usize,
}

impl LargeBodies {
    pub fn new(paths: impl IntoIterator<Item = String>, limit: usize) -> Self {
        Self {
            paths: paths.into_iter().collect(),
            limit,
        }
    }
}

/// Refuses bodies larger than the path allows: at once (413) when the length is declared, else
/// when the body reaches the limit. axum's extractors honour `DefaultBodyLimit` by themselves,
/// but server functions read their whole body without a limit.
pub async fn body_limit(
    State(large): State<std::sync::Arc<LargeBodies>>,
    request: Request,
    next: Next,
) -> Response {
    let limit = if large.paths.contains(request.uri().path()) {
        large.limit
    } else {
        crate::BODY_LIMIT
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        let message = format!(
            "the request body is larger than this endpoint takes ({} MiB)",
            limit / (1024 * 1024)
        );
        return (
            http::StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(serde_json::json!({
                "error": "too_large",
                "message": message,
                "request_id": domain::trace::current_request_id(),
            })),
        )
            .into_response();
    }
    let request =
        request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}
