//! What a service can fail with, typed. Each variant says what the caller can do about it;
//! the adapters turn it into their own answer in one place each (`app::error::AppError` for the
//! browser and the REST API). Internal failures keep their whole cause chain here and are
//! logged, with the request id, where they are turned into an answer; nobody outside sees the
//! chain.

use crate::field_errors::{summary, FieldErrors};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not signed in, or the credentials are wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but the role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but some fields are invalid.
    #[error("{}", summary(.0))]
    Validation(FieldErrors),
    /// The request itself cannot be understood.
    #[error("{0}")]
    BadRequest(String),
    /// The change conflicts with the current state (a duplicate name, the last admin, ...).
    #[error("{0}")]
    Conflict(String),
    /// The change was made from a version that is no longer the latest: what changed since.
    #[error("{message}")]
    Stale {
        message: String,
        changes: Vec<String>,
    },
    /// Like [`Error::Stale`], for a save that names its base version in the body (REST: 409
    /// rather than 412, which answers an `If-Match`).
    #[error("{message}")]
    Diverged {
        message: String,
        changes: Vec<String>,
    },
    /// A change that must name the version it started from did not.
    #[error("{0}")]
    PreconditionRequired(String),
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database cannot do it now (unreachable, restarting, read-only, out of space or
    /// connections); nothing was written, worth retrying.
    /// Says what failed, for the log.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a failure the caller cannot act on.
    #[error("{0:#}")]
    Internal(anyhow::Error),
}

impl Error {
    /// A validation error on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), vec![message.into()]);
        Self::Validation(fields)
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
            Self::Validation(fields) => fields.get(field).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            Self::Unavailable(error.to_string())
        } else if is_code(&error, "22021") {
            // Text PostgreSQL cannot store: U+0000, the one character UTF-8 allows and it does
            // not (the REST API refuses it before; forms and server functions meet it here).
            Self::BadRequest("text may not contain the NUL character (\\u0000)".into())
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
