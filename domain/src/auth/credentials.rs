//! How a request proves who it is, and the principal each proof stands for: a bearer credential
//! in `Authorization` (an API token today), else the browser's session. The server's middleware
//! asks [`principal`] and knows no kind of credential.
//!
//! A new kind of principal (a proxy instance with a token of its own) is added here: its
//! variant in [`PrincipalKind`](super::principal::PrincipalKind) (how the audit log names it,
//! what role it holds) and its entry in [`BEARERS`], a prefix its secrets start with and the
//! lookup that turns one into a principal.
//!
//! ```ignore
//! // principal.rs: who it is, for the audit log and the role checks
//! pub enum PrincipalKind { User, Token, ProxyInstance /* new */ }
//!
//! // here: secrets that start with "gp_" are proxy instances' tokens
//! const BEARERS: &[(&str, Lookup)] = &[
//!     (crate::tokens::TOKEN_PREFIX, |pool, secret| Box::pin(crate::tokens::store::authenticate(pool, secret))),
//!     ("gp_", |pool, secret| Box::pin(crate::proxies::store::authenticate(pool, secret))),
//! ];
//! // what it may do is its role's, checked by every service and route as for any principal
//! ```

use super::principal::Principal;
use crate::Error;
use futures::future::BoxFuture;
use sqlx::PgPool;
use std::time::Duration;
use tower_sessions_core::Session;

/// A lookup of one kind of bearer secret: `Ok(None)` when it is unknown, revoked or expired.
type Lookup = for<'a> fn(&'a PgPool, &'a str) -> BoxFuture<'a, Result<Option<Principal>, Error>>;

/// Each kind of bearer secret, by the prefix its secrets start with.
const BEARERS: &[(&str, Lookup)] = &[
    (crate::tokens::TOKEN_PREFIX, |pool, secret| {
        Box::pin(crate::tokens::store::authenticate(pool, secret))
    }),
    (crate::proxies::TOKEN_PREFIX, |pool, secret| {
        Box::pin(crate::proxies::store::authenticate(pool, secret))
    }),
];

/// What a request carries to say who it is.
pub enum Credential<'a> {
    /// The value of its `Authorization` header.
    Authorization(&'a str),
    /// Its session (signed in through the console's sign-in page).
    Session {
        session: &'a Session,
        absolute_timeout: Duration,
    },
}

/// Who the request acts as: `Ok(None)` for a request with no session user (anonymous);
/// `Err(NotSignedIn)` for an `Authorization` header that is malformed or names no valid
/// secret: refused at once rather than treated as anonymous.
pub async fn principal(
    pool: &PgPool,
    credential: Credential<'_>,
) -> Result<Option<Principal>, Error> {
    match credential {
        Credential::Authorization(value) => {
            let Some(secret) = value.strip_prefix("Bearer ").map(str::trim) else {
                return Err(super::Refused::BearerOnly.into());
            };
            let lookup = BEARERS
                .iter()
                .find(|(prefix, _)| secret.starts_with(prefix))
                .map(|(_, lookup)| lookup);
            let found = match lookup {
                Some(lookup) => lookup(pool, secret).await?,
                None => None,
            };
            found
                .map(Some)
                .ok_or_else(|| Error::from(super::Refused::UnknownToken))
        }
        Credential::Session {
            session,
            absolute_timeout,
        } => super::store::principal_from_session(pool, session, absolute_timeout).await,
    }
}
