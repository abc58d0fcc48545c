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
