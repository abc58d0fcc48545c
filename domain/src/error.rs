//! What a service can fail with, in the domain's words. Each variant says what went wrong and
//! what the caller can do about it; it names no protocol: the adapters decide what their callers
//! see from its [`Failure`] (the REST API's status and code in one table,
//! `server::api::error`). Internal failures keep their whole cause chain here; [`Error::told`]
//! logs it with the request id and gives the caller only the id.

use crate::failure::{Base, Failure};
use crate::field_errors::{summary, FieldErrors};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nobody is signed in, or the credentials are wrong.
    #[error("{0}")]
    NotSignedIn(String),
    /// The one signed in may not do this (their role does not allow it).
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    NotFound(String),
    /// Some fields are invalid.
    #[error("{}", summary(.0))]
    Invalid(FieldErrors),
    /// The input cannot be understood at all.
    #[error("{0}")]
    Unreadable(String),
    /// The change conflicts with how things are now (a duplicate name, the last admin, ...).
    #[error("{0}")]
    Conflict(String),
    /// The change was made from a version that is no longer the latest: what changed since.
    #[error("{message}")]
    Outdated {
        message: String,
        changes: Vec<String>,
        /// How the change named the version it was made from.
        base: Base,
    },
    /// A change that must name the version it was made from did not.
    #[error("{0}")]
    VersionRequired(String),
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    /// The database cannot do it now (unreachable, restarting, read-only, out of space or
    /// connections); nothing was written, worth retrying. Says what failed, for the log.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a failure the caller cannot act on.
    #[error("{0:#}")]
    Internal(anyhow::Error),
}

/// What a caller may be told of an error: its kind, the words, and what goes with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Told {
    pub failure: Failure,
    pub message: String,
    /// With [`Failure::Invalid`]: each field's messages.
    pub fields: FieldErrors,
    /// With [`Failure::Outdated`]: what changed since the version the change was made from.
    pub changes: Vec<String>,
    /// With [`Failure::Throttled`].
    pub retry_after_secs: Option<u64>,
}

/// An area's own refusal (`inventory::Refused`, `users::Refused`, ...): what went wrong, in that
/// area's words, and of which kind; it becomes an [`Error`] of that kind with its words.
pub trait Refusal: std::fmt::Display {
    fn failure(&self) -> Failure;
}

/// `From<$refused> for Error` for an area's [`Refusal`] type.
#[macro_export]
macro_rules! refusal {
    ($refused:ty) => {
        impl From<$refused> for $crate::Error {
            fn from(refused: $refused) -> Self {
                $crate::Error::refused(&refused)
            }
        }
    };
}

impl Error {
    /// An area's refusal as the error of its kind, with its words.
    pub fn refused(refusal: &impl Refusal) -> Self {
        let words = refusal.to_string();
        match refusal.failure() {
            Failure::NotSignedIn => Self::NotSignedIn(words),
            Failure::NotAllowed => Self::NotAllowed(words),
            Failure::NotFound => Self::NotFound(words),
            Failure::Unreadable => Self::Unreadable(words),
            Failure::VersionRequired => Self::VersionRequired(words),
            _ => Self::Conflict(words),
        }
    }

    /// A validation error on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), vec![message.into()]);
        Self::Invalid(fields)
    }

    /// An internal failure, with its cause chain kept for the log. A database error that
    /// means "unreachable" becomes [`Error::Unavailable`].
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        match error.downcast::<sqlx::Error>() {
            Ok(sqlx_error) => Self::from(sqlx_error),
            Err(error) => Self::Internal(error),
        }
    }

    /// Messages for one field, if any.
    pub fn field_messages(&self, field: &str) -> Vec<String> {
        match self {
            Self::Invalid(fields) => fields.get(field).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Its kind.
    pub fn failure(&self) -> Failure {
        match self {
            Self::NotSignedIn(_) => Failure::NotSignedIn,
            Self::NotAllowed(_) => Failure::NotAllowed,
            Self::NotFound(_) => Failure::NotFound,
            Self::Invalid(_) => Failure::Invalid,
            Self::Unreadable(_) => Failure::Unreadable,
            Self::Conflict(_) => Failure::Conflict,
            Self::Outdated { base, .. } => Failure::Outdated(*base),
            Self::VersionRequired(_) => Failure::VersionRequired,
            Self::Throttled { .. } => Failure::Throttled,
            Self::Unavailable(_) => Failure::Unavailable,
            Self::Internal(_) => Failure::Internal,
        }
    }

    /// What the caller is told: the one place an error leaves the domain. An internal failure
    /// is logged here with its whole chain and the request id, and the caller is told only the
    /// id; a database that is unavailable is logged and named as such.
    pub fn told(self) -> Told {
        let failure = self.failure();
        let mut told = Told {
            failure,
            message: self.to_string(),
            fields: FieldErrors::new(),
            changes: Vec::new(),
            retry_after_secs: None,
        };
        match self {
            Self::Invalid(fields) => told.fields = fields,
            Self::Outdated { changes, .. } => told.changes = changes,
            Self::Throttled { retry_after_secs } => told.retry_after_secs = Some(retry_after_secs),
            Self::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                told.message = "the database is unavailable; try again shortly".into();
            }
            Self::Internal(error) => {
                let request_id = crate::trace::current_request_id();
                tracing::error!(%request_id, error = %format!("{error:#}"), "internal error");
                told.message = format!("internal error (request id {request_id})");
            }
            _ => {}
        }
        told
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            Self::Unavailable(error.to_string())
        } else if is_code(&error, "22021") {
            // Text PostgreSQL cannot store: U+0000, the one character UTF-8 allows and it does
            // not (the REST API refuses it before; forms and server functions meet it here).
            Self::Unreadable("text may not contain the NUL character (\\u0000)".into())
        } else {
            Self::Internal(error.into())
        }
    }
}

/// Whether the database cannot do this now, through no fault of the request: unreachable, shutting
/// down or starting (a restart, a failover), out of connections or disk, or read-only (a standby,
/// `default_transaction_read_only`). Nothing was written; the same request may succeed later.
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception, 53: insufficient resources (disk full, out of memory,
            // too many connections), 57P0x: shutdown and starting up, 25006: read-only
            // transaction, 40001 is not here (a retry is the caller's).
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P0")
                || code == "25006"
        }),
        _ => false,
    }
}

fn is_code(error: &sqlx::Error, wanted: &str) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().is_some_and(|code| code == wanted))
}

/// Turns a unique-constraint violation on `constraint` into a field error; any other database
/// error stays what it is. One helper so that every form maps constraints alike.
pub fn on_constraint(error: sqlx::Error, constraint: &str, field: &str, message: &str) -> Error {
    if let sqlx::Error::Database(db) = &error {
        if db.constraint() == Some(constraint) {
            return Error::field(field, message);
        }
    }
    Error::from(error)
}
