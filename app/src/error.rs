//! The one error type that crosses the browser boundary (server functions and the REST API).
//!
//! Each variant says what the caller can do about it; the HTTP status and the stable `error`
//! code used by the REST API are decided in one place ([`AppError::status`], [`AppError::code`]).
//! Internal failures are logged with their whole chain where they happen and reach the caller
//! only as a generic message with the request id, never with database or stack details.

use serde::{Deserialize, Serialize};

pub use domain::FieldErrors;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Not signed in, or the credentials are wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but the role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but some fields are invalid.
    #[error("{}", domain::field_errors::summary(.0))]
    Validation(FieldErrors),
    /// The request itself could not be understood (malformed JSON, wrong content type, ...).
    #[error("{0}")]
    BadRequest(String),
    /// The change conflicts with the current state (a duplicate name, the last admin, ...).
    #[error("{0}")]
    Conflict(String),
    /// Made from an older version than the latest (REST: `If-Match` no longer matches): what
    /// changed since, to merge.
    #[error("{message}")]
    Stale {
        message: String,
        changes: Vec<String>,
    },
    /// Made from an older version than the latest, named in the body: what changed since (409).
    #[error("{message}")]
    Diverged {
        message: String,
        changes: Vec<String>,
    },
    /// The change must name the version it started from (REST: `If-Match`).
    #[error("{0}")]
    PreconditionRequired(String),
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    #[error("internal error (request id {request_id})")]
    Internal { request_id: String },
}

impl AppError {
    /// A validation error on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), vec![message.into()]);
        Self::Validation(fields)
    }

    /// The stable machine-readable code the REST API puts in `{"error": ...}`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Validation(_) => "validation",
            Self::BadRequest(_) => "bad_request",
            Self::Conflict(_) => "conflict",
            Self::Stale { .. } | Self::Diverged { .. } => "stale",
            Self::PreconditionRequired(_) => "precondition_required",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable => "unavailable",
            Self::Internal { .. } => "internal",
        }
    }

    /// The HTTP status for this error.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Self::Unauthorized(_) => S::UNAUTHORIZED,
            Self::Forbidden(_) => S::FORBIDDEN,
            Self::NotFound(_) => S::NOT_FOUND,
            Self::Validation(_) => S::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => S::BAD_REQUEST,
            Self::Conflict(_) => S::CONFLICT,
            Self::Stale { .. } => S::PRECONDITION_FAILED,
            Self::Diverged { .. } => S::CONFLICT,
            Self::PreconditionRequired(_) => S::PRECONDITION_REQUIRED,
            Self::TooManyRequests { .. } => S::TOO_MANY_REQUESTS,
            Self::Unavailable => S::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// Messages for one form field, if any.
    pub fn field_messages(&self, field: &str) -> Vec<String> {
        match self {
            Self::Validation(fields) => fields.get(field).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(message) | E::MissingArg(message) => Self::BadRequest(message),
            E::Request(_) => Self::BadRequest(
                "the server could not be reached; check the connection and try again".into(),
            ),
            other => Self::BadRequest(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;
    use domain::trace::current_request_id;

    /// The one place a domain error becomes what the caller sees. Internal failures are logged
    /// here with their whole chain and the request id; the caller gets only the id.
    impl From<domain::Error> for AppError {
        fn from(error: domain::Error) -> Self {
            use domain::Error as E;
            match error {
                E::Unauthorized(message) => Self::Unauthorized(message),
                E::Forbidden(message) => Self::Forbidden(message),
                E::NotFound(message) => Self::NotFound(message),
                E::Validation(fields) => Self::Validation(fields),
                E::BadRequest(message) => Self::BadRequest(message),
                E::Conflict(message) => Self::Conflict(message),
                E::Stale { message, changes } => Self::Stale { message, changes },
                E::Diverged { message, changes } => Self::Diverged { message, changes },
                E::PreconditionRequired(message) => Self::PreconditionRequired(message),
                E::TooManyRequests { retry_after_secs } => {
                    Self::TooManyRequests { retry_after_secs }
                }
                E::Unavailable(source) => {
                    tracing::warn!(error = %source, "database unavailable");
                    Self::Unavailable
                }
                E::Internal(error) => {
                    let request_id = current_request_id();
                    tracing::error!(%request_id, error = %format!("{error:#}"), "internal error");
                    Self::Internal { request_id }
                }
            }
        }
    }

    impl AppError {
        /// Logs an internal failure with its whole chain and returns the generic error the
        /// caller sees (database connection failures: [`AppError::Unavailable`]).
        pub fn internal(error: impl Into<anyhow::Error>) -> Self {
            Self::from(domain::Error::internal(error))
        }
    }
}

#[cfg(feature = "ssr")]
pub use domain::trace::{current_request_id, REQUEST_ID};

/// REST responses: `{"error": code, "message": text, "request_id": id}`, plus `fields` for
/// validation errors and `Retry-After` when throttled.
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let mut body = serde_json::json!({
            "error": self.code(),
            "message": self.to_string(),
            "request_id": current_request_id(),
        });
        if let AppError::Validation(fields) = &self {
            body["fields"] = serde_json::json!(fields);
        }
        if let AppError::Stale { changes, .. } | AppError::Diverged { changes, .. } = &self {
            body["changes"] = serde_json::json!(changes);
        }
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let AppError::TooManyRequests { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, retry_after_secs.into());
        }
        response
    }
}
