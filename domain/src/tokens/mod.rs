//! API tokens for automation and monitoring: shown once at creation, stored only as a hash,
//! with a role (their scope) and an optional expiry.

use crate::auth::Role;
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod store;

/// Every token starts with this, so a leaked one is easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "gh_";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TokenSummary {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The first characters of the token, to tell tokens apart.
    pub hint: String,
    pub created_by: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked: bool,
    pub expired: bool,
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    /// RFC 3339 or `YYYY-MM-DD` (the end of that day, UTC). Absent: never expires.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// The answer to a token's creation: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    pub id: i64,
    pub token: String,
}

/// What token administration refuses, in its words.
#[cfg(feature = "server")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no token with id {0}")]
    NoSuchToken(i64),
}

#[cfg(feature = "server")]
impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        crate::Failure::NotFound
    }
}

#[cfg(feature = "server")]
crate::refusal!(Refused);
