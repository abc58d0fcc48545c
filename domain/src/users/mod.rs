//! User management: create users, change roles, reset passwords, disable and delete.

use crate::auth::Role;
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod store;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
}

/// `PUT /api/v1/users/{id}`: every field optional; what is absent stays.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UserUpdate {
    pub role: Option<Role>,
    /// A new password set by an admin (a reset); the user's sessions end.
    pub password: Option<String>,
    /// Disabling ends the user's sessions; the user can no longer sign in.
    pub disabled: Option<bool>,
}

/// What user administration refuses, in its words.
#[cfg(feature = "server")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no user with id {0}")]
    NoSuchUser(i64),
    #[error("this is the last enabled admin; make another admin first")]
    LastAdmin,
    #[error("you cannot delete your own account")]
    OwnAccount,
}

#[cfg(feature = "server")]
impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        match self {
            Refused::NoSuchUser(_) => crate::Failure::NotFound,
            Refused::LastAdmin | Refused::OwnAccount => crate::Failure::Conflict,
        }
    }
}

#[cfg(feature = "server")]
crate::refusal!(Refused);
