//! The error the pages see: what a server function tells the browser when it fails. It is
//! what the domain says a caller may be told (`domain::error::Told`: the kind of failure, the
//! words, the fields, what changed since), made serializable for the browser; it names no
//! status. The server gives a server function's failure its HTTP status from the same table as
//! the REST API's (`server::api::error`), by its [`Failure`].

use serde::{Deserialize, Serialize};

pub use domain::failure::{Base, Failure};
pub use domain::FieldErrors;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub failure: Failure,
    pub message: String,
    /// With [`Failure::Invalid`]: each field's messages.
    #[serde(default, skip_serializing_if = "FieldErrors::is_empty")]
    pub fields: FieldErrors,
    /// With [`Failure::Outdated`]: what changed since the version the change was made from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// With [`Failure::Throttled`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl AppError {
    /// A failure of `kind` with these words.
    pub fn new(failure: Failure, message: impl Into<String>) -> Self {
        Self {
            failure,
            message: message.into(),
            fields: FieldErrors::new(),
            changes: Vec::new(),
            retry_after_secs: None,
        }
    }

    /// Input that cannot be understood.
    pub fn unreadable(message: impl Into<String>) -> Self {
        Self::new(Failure::Unreadable, message)
    }

    /// Fields that need attention.
    pub fn invalid(fields: FieldErrors) -> Self {
        Self {
            message: domain::field_errors::summary(&fields),
            fields,
            ..Self::new(Failure::Invalid, "")
        }
    }

    /// A validation error on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), vec![message.into()]);
        Self::invalid(fields)
    }

    /// Whether some fields need attention (the form shows them beside each field).
    pub fn is_invalid(&self) -> bool {
        self.failure == Failure::Invalid
    }

    /// Whether the change was made from a version that is no longer the latest.
    pub fn is_outdated(&self) -> bool {
        matches!(self.failure, Failure::Outdated(_))
    }

    /// Messages for one form field, if any.
    pub fn field_messages(&self, field: &str) -> Vec<String> {
        self.fields.get(field).cloned().unwrap_or_default()
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(message) | E::MissingArg(message) => Self::unreadable(message),
            E::Request(_) => Self::unreadable(
                "the server could not be reached; check the connection and try again",
            ),
            other => Self::unreadable(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;

    /// What the domain lets the browser be told (internal failures are logged there, with
    /// the request id the browser is given).
    impl From<domain::Error> for AppError {
        fn from(error: domain::Error) -> Self {
            let told = error.told();
            Self {
                failure: told.failure,
                message: told.message,
                fields: told.fields,
                changes: told.changes,
                retry_after_secs: told.retry_after_secs,
            }
        }
    }

    impl AppError {
        /// Logs an internal failure with its whole chain and returns the generic error the
        /// caller sees (database connection failures: unavailable).
        pub fn internal(error: impl Into<anyhow::Error>) -> Self {
            Self::from(domain::Error::internal(error))
        }
    }
}

#[cfg(feature = "ssr")]
pub use domain::trace::{current_request_id, REQUEST_ID};
