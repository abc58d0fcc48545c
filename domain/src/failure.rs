//! What kind of failure a service reports, in the domain's words, shared with the browser. The
//! adapters decide from it what their callers see: the REST API and the server functions take
//! their status and error code from one table (`server::api::error`), the pages their wording.

use serde::{Deserialize, Serialize};

/// The kind of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// Nobody is signed in, or the credentials are wrong.
    NotSignedIn,
    /// The one signed in may not do this.
    NotAllowed,
    NotFound,
    /// Some fields are invalid (each says why).
    Invalid,
    /// The input cannot be understood at all (not JSON, not a certificate, text the database
    /// cannot hold).
    Unreadable,
    /// It conflicts with how things are now (a duplicate name, the last admin, a plan that is
    /// running).
    Conflict,
    /// Made from a version that is no longer the latest; `Base` says how the version was named.
    Outdated(Base),
    /// A change that must name the version it was made from did not.
    VersionRequired,
    /// Too many attempts: wait before the next.
    Throttled,
    /// The database cannot do it now; nothing was written, worth retrying.
    Unavailable,
    /// A bug or a failure the caller cannot act on (logged with its cause).
    Internal,
}

/// How a change named the version it was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// As the condition of the change: only if version N is the latest (a policy's save).
    Precondition,
    /// As the version a draft was edited from, part of the draft (a map's `base_version`).
    Draft,
}
