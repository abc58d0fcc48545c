//! Failures as HTTP answers: the one table from a [`Failure`] to a status and the REST API's
//! stable `error` code ([`status`], [`code`]), and [`ApiError`], what a REST handler fails with:
//! what the domain lets a caller be told (`domain::error::Told`), or a failure of the request
//! itself (a body that is not JSON, a path that names no endpoint). Server functions take their
//! status from the same table (`middleware::server_fn_status`).
//!
//! The body: `{"error": code, "message": text, "request_id": id}`, plus `fields` for invalid
//! fields and `changes` for an outdated change; `Retry-After` when throttled.

use axum::response::{IntoResponse, Response};
use domain::failure::{Base, Failure};
use domain::FieldErrors;
use http::StatusCode;

/// The HTTP status of a failure.
pub fn status(failure: Failure) -> StatusCode {
    match failure {
        Failure::NotSignedIn => StatusCode::UNAUTHORIZED,
        Failure::NotAllowed => StatusCode::FORBIDDEN,
        Failure::NotFound => StatusCode::NOT_FOUND,
        Failure::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        Failure::Unreadable => StatusCode::BAD_REQUEST,
        Failure::Conflict => StatusCode::CONFLICT,
        // A failed `If-Match` is 412; a draft whose base is in its own body conflicts (409).
        Failure::Outdated(Base::Precondition) => StatusCode::PRECONDITION_FAILED,
        Failure::Outdated(Base::Draft) => StatusCode::CONFLICT,
        Failure::VersionRequired => StatusCode::PRECONDITION_REQUIRED,
        Failure::Throttled => StatusCode::TOO_MANY_REQUESTS,
        Failure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Failure::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The REST API's stable code of a failure (`{"error": ...}`).
pub fn code(failure: Failure) -> &'static str {
    match failure {
        Failure::NotSignedIn => "unauthorized",
        Failure::NotAllowed => "forbidden",
        Failure::NotFound => "not_found",
        Failure::Invalid => "validation",
        Failure::Unreadable => "bad_request",
        Failure::Conflict => "conflict",
        Failure::Outdated(_) => "stale",
        Failure::VersionRequired => "precondition_required",
        Failure::Throttled => "too_many_requests",
        Failure::Unavailable => "unavailable",
        Failure::Internal => "internal",
    }
}

/// What a REST handler fails with.
#[derive(Debug)]
pub struct ApiError(domain::error::Told);

impl ApiError {
    fn new(failure: Failure, message: impl Into<String>) -> Self {
        Self(domain::error::Told {
            failure,
            message: message.into(),
            fields: FieldErrors::new(),
            changes: Vec::new(),
            retry_after_secs: None,
        })
    }

    /// A request that cannot be understood (not JSON, the wrong content type, ...).
    pub fn unreadable(message: impl Into<String>) -> Self {
        Self::new(Failure::Unreadable, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Failure::NotFound, message)
    }

    pub fn not_allowed(message: impl Into<String>) -> Self {
        Self::new(Failure::NotAllowed, message)
    }

    /// An invalid field of the request.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        domain::Error::field(field, message).into()
    }

    /// Logs an internal failure with its whole chain; the caller gets the request id.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        domain::Error::internal(error).into()
    }

    pub fn failure(&self) -> Failure {
        self.0.failure
    }
}

impl From<domain::Error> for ApiError {
    fn from(error: domain::Error) -> Self {
        Self(error.told())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let told = self.0;
        let mut body = serde_json::json!({
            "error": code(told.failure),
            "message": told.message,
            "request_id": domain::trace::current_request_id(),
        });
        if told.failure == Failure::Invalid {
            body["fields"] = serde_json::json!(told.fields);
        }
        if matches!(told.failure, Failure::Outdated(_)) {
            body["changes"] = serde_json::json!(told.changes);
        }
        let mut response = (status(told.failure), axum::Json(body)).into_response();
        if let Some(seconds) = told.retry_after_secs {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
