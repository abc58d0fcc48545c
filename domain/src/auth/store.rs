//! Server side of identity: password hashing (argon2id, off the async threads), the sign-in
//! throttle, sessions, and the principal a request acts as.

use super::{check_new_password, check_username, CurrentUser, Role};
use crate::audit::store::{record, record_alone, Event, Outcome};
use crate::Error;
use crate::Services;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use serde_json::json;
use sqlx::PgPool;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tower_sessions_core::Session;

/// Who a request acts as.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PrincipalKind {
    User {
        id: i64,
        username: String,
    },
    Token {
        id: i64,
        name: String,
    },
    /// Gatehouse itself (e.g. `demo`: registering the simulated demo fleet).
    System {
        what: String,
    },
}

impl Principal {
    /// The name the audit log records.
    pub fn actor(&self) -> String {
        match &self.kind {
            PrincipalKind::User { username, .. } => username.clone(),
            PrincipalKind::Token { name, .. } => format!("token:{name}"),
            PrincipalKind::System { what } => format!("system:{what}"),
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        match self.kind {
            PrincipalKind::User { id, .. } => Some(id),
            PrincipalKind::Token { .. } | PrincipalKind::System { .. } => None,
        }
    }

    pub fn as_current_user(&self) -> Option<CurrentUser> {
        match &self.kind {
            PrincipalKind::User { id, username } => Some(CurrentUser {
                id: *id,
                username: username.clone(),
                role: self.role,
            }),
            PrincipalKind::Token { .. } | PrincipalKind::System { .. } => None,
        }
    }
}

/// What the server's middleware learned about a request before any handler runs.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub principal: Option<Principal>,
    /// The client's address as seen on the socket.
    pub source: String,
}

impl RequestContext {
    pub fn require_signed_in(&self) -> Result<&Principal, Error> {
        self.principal
            .as_ref()
            .ok_or_else(|| Error::Unauthorized("sign in first".into()))
    }

    /// Admins only: every change to the console's state.
    pub fn require_admin(&self) -> Result<&Principal, Error> {
        let principal = self.require_signed_in()?;
        if principal.role == Role::Admin {
            Ok(principal)
        } else {
            Err(Error::Forbidden(format!(
                "the {} role cannot change anything; ask an admin",
                principal.role
            )))
        }
    }

    /// Admins and auditors: reading the console's data.
    pub fn require_reader(&self) -> Result<&Principal, Error> {
        let principal = self.require_signed_in()?;
        if principal.role.can_read_console() {
            Ok(principal)
        } else {
            Err(Error::Forbidden(format!(
                "the {} role can read only metrics and alerts",
                principal.role
            )))
        }
    }

    /// An audit event acted by this request's principal (or anonymously).
    pub fn event(&self, action: &str, target: impl Into<String>) -> Event {
        let (actor, role) = match &self.principal {
            Some(p) => (p.actor(), Some(p.role)),
            None => ("-".to_owned(), None),
        };
        Event::new(action, target).by(actor, role, &self.source)
    }
}

// ---------------------------------------------------------------------------------------------
// Passwords

/// argon2id with the OWASP Password Storage Cheat Sheet's first recommended parameter set:
/// m = 19 MiB, t = 2, p = 1.
fn hasher() -> Argon2<'static> {
    match Params::new(19 * 1024, 2, 1, None) {
        Ok(params) => Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        // The constants above are within argon2's limits; this arm is never taken.
        Err(_) => Argon2::default(),
    }
}

/// Hashes a password on a blocking thread (argon2 takes tens of milliseconds of CPU).
pub async fn hash_password(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .map_err(Error::internal)?
    .map_err(Error::internal)
}

/// Checks a password against a stored hash on a blocking thread.
pub async fn verify_password(hash: String, password: String) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        Ok::<bool, anyhow::Error>(
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
        )
    })
    .await
    .map_err(Error::internal)?
    .map_err(Error::internal)
}

/// A valid hash of a random password, checked when the username does not exist so that a
/// wrong username takes as long as a wrong password (no account enumeration by timing).
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

async fn dummy_hash() -> Result<String, Error> {
    if let Some(hash) = DUMMY_HASH.get() {
        return Ok(hash.clone());
    }
    let hash = hash_password(crate::tokens::store::random_secret()).await?;
    Ok(DUMMY_HASH.get_or_init(|| hash).clone())
}

// ---------------------------------------------------------------------------------------------
// Throttle

/// Counts failed sign-ins per account and per client address in a sliding window and refuses
/// further attempts once a limit is reached, until the oldest failure leaves the window.
#[derive(Debug)]
pub struct Throttle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
    pub account_limit: usize,
    pub address_limit: usize,
    pub window: Duration,
}

impl Throttle {
    pub fn new(account_limit: usize, address_limit: usize, window: Duration) -> Self {
        Self {
            failures: Mutex::new(HashMap::new()),
            account_limit,
            address_limit,
            window,
        }
    }

    fn keys(account: &str, address: &str) -> [(String, bool); 2] {
        [
            (format!("account:{}", account.trim().to_lowercase()), true),
            (format!("address:{address}"), false),
        ]
    }

    /// `Err(wait)` when either the account or the address is over its limit.
    pub fn check(&self, account: &str, address: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = None::<Duration>;
        for (key, is_account) in Self::keys(account, address) {
            let limit = if is_account {
                self.account_limit
            } else {
                self.address_limit
            };
            if let Some(times) = failures.get_mut(&key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    times.pop_front();
                }
                if times.len() >= limit {
                    if let Some(oldest) = times.front() {
                        let left = self.window.saturating_sub(now.duration_since(*oldest));
                        wait = Some(wait.map_or(left, |w| w.max(left)));
                    }
                }
            }
        }
        wait.map_or(Ok(()), Err)
    }

    pub fn record_failure(&self, account: &str, address: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 100_000 {
            // Bound memory under a spray of usernames: forget windows that have passed.
            let window = self.window;
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        for (key, _) in Self::keys(account, address) {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn clear_account(&self, account: &str) {
        let [(key, _), _] = Self::keys(account, "");
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
    }
}

// ---------------------------------------------------------------------------------------------
// Sessions

const SESSION_USER: &str = "user_id";
const SESSION_EPOCH: &str = "epoch";
const SESSION_SIGNED_IN_AT: &str = "signed_in_at";

/// The session store fails only when the database does (or a record is corrupt).
fn session_error(error: tower_sessions_core::session::Error) -> Error {
    use tower_sessions_core::session::Error as E;
    use tower_sessions_core::session_store::Error as Store;
    match error {
        E::Store(Store::Backend(message)) => {
            Error::Unavailable(format!("session store: {message}"))
        }
        other => Error::internal(anyhow::anyhow!("session store: {other}")),
    }
}

/// Checks a username and password, throttles repeated failures, and on success starts a new
/// session (a fresh id, so a session id planted before sign-in is worthless).
pub async fn sign_in(
    state: &Services,
    session: &Session,
    context: &RequestContext,
    username: &str,
    password: &str,
) -> Result<CurrentUser, Error> {
    let username = username.trim();
    let target = format!("user:{username}");
    if let Err(wait) = state.throttle.check(username, &context.source) {
        let retry_after_secs = wait.as_secs().max(1);
        record_alone(
            &state.pool,
            context
                .event("auth.login", &target)
                .outcome(Outcome::Denied)
                .detail(format!("throttled; retry after {retry_after_secs} s")),
        )
        .await?;
        return Err(Error::TooManyRequests { retry_after_secs });
    }
    if username.is_empty() || password.is_empty() || password.len() > super::MAX_PASSWORD_LEN {
        return Err(Error::Unauthorized("wrong username or password".into()));
    }

    let row = sqlx::query!(
        r#"select id, username, password_hash, role, disabled_at is not null as "disabled!", session_epoch
           from app_user where lower(username) = lower($1)"#,
        username
    )
    .fetch_optional(&state.pool)
    .await?;
    let hash = match &row {
        Some(row) => row.password_hash.clone(),
        None => dummy_hash().await?,
    };
    let password_ok = verify_password(hash, password.to_owned()).await?;

    let user = match row {
        Some(row) if password_ok && !row.disabled => row,
        Some(_) if password_ok => {
            record_alone(
                &state.pool,
                context
                    .event("auth.login", &target)
                    .outcome(Outcome::Denied)
                    .detail("account disabled"),
            )
            .await?;
            return Err(Error::Forbidden(
                "this account is disabled; ask an administrator".into(),
            ));
        }
        _ => {
            state.throttle.record_failure(username, &context.source);
            record_alone(
                &state.pool,
                context
                    .event("auth.login", &target)
                    .outcome(Outcome::Failure)
                    .detail("wrong username or password"),
            )
            .await?;
            return Err(Error::Unauthorized("wrong username or password".into()));
        }
    };

    let role = Role::parse(&user.role).map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    state.throttle.clear_account(username);
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(SESSION_USER, user.id)
        .await
        .map_err(session_error)?;
    session
        .insert(SESSION_EPOCH, user.session_epoch)
        .await
        .map_err(session_error)?;
    session
        .insert(
            SESSION_SIGNED_IN_AT,
            time::OffsetDateTime::now_utc().unix_timestamp(),
        )
        .await
        .map_err(session_error)?;

    let mut tx = state.pool.begin().await?;
    sqlx::query!(
        "update app_user set last_login_at = now() where id = $1",
        user.id
    )
    .execute(&mut *tx)
    .await?;
    let signed_in = RequestContext {
        principal: Some(Principal {
            kind: PrincipalKind::User {
                id: user.id,
                username: user.username.clone(),
            },
            role,
        }),
        source: context.source.clone(),
    };
    record(&mut tx, signed_in.event("auth.login", &target)).await?;
    tx.commit().await?;

    Ok(CurrentUser {
        id: user.id,
        username: user.username,
        role,
    })
}

/// Ends the session: its record is deleted from the store and the cookie cleared.
pub async fn sign_out(
    state: &Services,
    session: &Session,
    context: &RequestContext,
) -> Result<(), Error> {
    if let Some(principal) = &context.principal {
        record_alone(
            &state.pool,
            context.event("auth.logout", format!("user:{}", principal.actor())),
        )
        .await?;
    }
    session.flush().await.map_err(session_error)
}

/// The user a session belongs to, if it is still valid: not past the absolute timeout, the
/// user still enabled, and no password reset or disabling since sign-in (the epoch).
/// An invalid session is destroyed.
pub async fn principal_from_session(
    pool: &PgPool,
    session: &Session,
    absolute_timeout: Duration,
) -> Result<Option<Principal>, Error> {
    let Some(user_id) = session
        .get::<i64>(SESSION_USER)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    let epoch = session
        .get::<i32>(SESSION_EPOCH)
        .await
        .map_err(session_error)?;
    let signed_in_at = session
        .get::<i64>(SESSION_SIGNED_IN_AT)
        .await
        .map_err(session_error)?
        .unwrap_or(0);
    let age = time::OffsetDateTime::now_utc().unix_timestamp() - signed_in_at;
    let expired = age < 0 || age as u64 > absolute_timeout.as_secs();

    let row = sqlx::query!(
        r#"select username, role, session_epoch, disabled_at is not null as "disabled!"
           from app_user where id = $1"#,
        user_id
    )
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) if !expired && !row.disabled && Some(row.session_epoch) == epoch => {
            let role = Role::parse(&row.role).map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
            Ok(Some(Principal {
                kind: PrincipalKind::User {
                    id: user_id,
                    username: row.username,
                },
                role,
            }))
        }
        _ => {
            session.flush().await.map_err(session_error)?;
            Ok(None)
        }
    }
}

/// Changes the signed-in user's own password after checking the current one. Other sessions
/// of the user end (the epoch moves); this one stays signed in.
pub async fn change_own_password(
    state: &Services,
    session: &Session,
    context: &RequestContext,
    current: &str,
    new_password: &str,
    confirm: &str,
) -> Result<(), Error> {
    let principal = context.require_signed_in()?;
    let Some(user_id) = principal.user_id() else {
        return Err(Error::Forbidden("API tokens have no password".into()));
    };
    let username = principal.actor();
    check_new_password(&username, new_password).map_err(|m| Error::field("new_password", m))?;
    if new_password != confirm {
        return Err(Error::field("confirm", "the two new passwords differ"));
    }
    let hash = sqlx::query_scalar!("select password_hash from app_user where id = $1", user_id)
        .fetch_one(&state.pool)
        .await?;
    if !verify_password(hash, current.to_owned()).await? {
        record_alone(
            &state.pool,
            context
                .event("user.password_change", format!("user:{username}"))
                .outcome(Outcome::Failure)
                .detail("current password wrong"),
        )
        .await?;
        return Err(Error::field("current", "the current password is wrong"));
    }
    let new_hash = hash_password(new_password.to_owned()).await?;
    let mut tx = state.pool.begin().await?;
    let epoch = sqlx::query_scalar!(
        "update app_user set password_hash = $2, session_epoch = session_epoch + 1, updated_at = now()
         where id = $1 returning session_epoch",
        user_id,
        new_hash
    )
    .fetch_one(&mut *tx)
    .await?;
    record(
        &mut tx,
        context
            .event("user.password_change", format!("user:{username}"))
            .after(json!({"password": "changed"})),
    )
    .await?;
    tx.commit().await?;
    session
        .insert(SESSION_EPOCH, epoch)
        .await
        .map_err(session_error)?;
    Ok(())
}

/// Inserts a user; the username's uniqueness is checked by the database.
pub async fn insert_user(
    tx: &mut sqlx::PgConnection,
    username: &str,
    password: &str,
    role: Role,
) -> Result<i64, Error> {
    check_username(username).map_err(|m| Error::field("username", m))?;
    if !role.is_for_users() {
        return Err(Error::field(
            "role",
            "the monitor role is for API tokens; create a token instead",
        ));
    }
    check_new_password(username, password).map_err(|m| Error::field("password", m))?;
    let hash = hash_password(password.to_owned()).await?;
    sqlx::query_scalar!(
        "insert into app_user (username, password_hash, role) values ($1, $2, $3) returning id",
        username,
        hash,
        role.as_str()
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        crate::error::on_constraint(
            e,
            "app_user_username_key",
            "username",
            "this username is taken",
        )
    })
}

/// Whether any user exists (first start shows the setup page until one does).
pub async fn any_user(pool: &PgPool) -> Result<bool, Error> {
    Ok(
        sqlx::query_scalar!(r#"select exists(select 1 from app_user) as "exists!""#)
            .fetch_one(pool)
            .await?,
    )
}

/// Creates the first admin, if no user exists yet. Used by the setup page and by
/// `GATEHOUSE_BOOTSTRAP_ADMIN`. Returns `Ok(None)` when a user already exists.
pub async fn create_first_admin(
    pool: &PgPool,
    actor: &RequestContext,
    username: &str,
    password: &str,
) -> Result<Option<i64>, Error> {
    let mut tx = pool.begin().await?;
    // Serialise concurrent attempts: only one first admin.
    sqlx::query!("lock table app_user in exclusive mode")
        .execute(&mut *tx)
        .await?;
    let exists = sqlx::query_scalar!(r#"select exists(select 1 from app_user) as "exists!""#)
        .fetch_one(&mut *tx)
        .await?;
    if exists {
        return Ok(None);
    }
    let id = insert_user(&mut tx, username, password, Role::Admin).await?;
    record(
        &mut tx,
        actor
            .event("setup.first_admin", format!("user:{username}"))
            .after(json!({"username": username, "role": "admin"})),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// The setup page's action: checks the one-time token, creates the first admin and signs in.
pub async fn complete_setup(
    state: &Services,
    session: &Session,
    context: &RequestContext,
    token: &str,
    username: &str,
    password: &str,
    confirm: &str,
) -> Result<(), Error> {
    let expected = state
        .setup_token
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let Some(expected) = expected else {
        return Err(Error::Forbidden(
            "setup is closed: an administrator already exists".into(),
        ));
    };
    if !crate::tokens::store::constant_time_eq(expected.as_bytes(), token.as_bytes()) {
        return Err(Error::Forbidden(
            "this setup link is not valid; use the link printed on the server's console".into(),
        ));
    }
    if password != confirm {
        return Err(Error::field("confirm", "the two passwords differ"));
    }
    if create_first_admin(&state.pool, context, username.trim(), password)
        .await?
        .is_none()
    {
        return Err(Error::Conflict("an administrator already exists".into()));
    }
    *state.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = None;
    sign_in(state, session, context, username, password).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_refuses_after_the_account_limit_and_names_the_wait() {
        let throttle = Throttle::new(3, 100, Duration::from_secs(900));
        for _ in 0..3 {
            assert!(throttle.check("Alice", "10.0.0.1").is_ok());
            throttle.record_failure("alice", "10.0.0.1");
        }
        let wait = throttle.check("ALICE", "10.0.0.2").unwrap_err();
        assert!(wait > Duration::from_secs(890) && wait <= Duration::from_secs(900));
        // Another account from the same address is still allowed.
        assert!(throttle.check("bob", "10.0.0.1").is_ok());
    }

    #[test]
    fn the_throttle_limits_one_address_across_accounts() {
        let throttle = Throttle::new(100, 2, Duration::from_secs(60));
        throttle.record_failure("a", "192.0.2.7");
        throttle.record_failure("b", "192.0.2.7");
        assert!(throttle.check("c", "192.0.2.7").is_err());
        assert!(throttle.check("c", "192.0.2.8").is_ok());
    }

    #[test]
    fn a_successful_sign_in_clears_only_the_account() {
        let throttle = Throttle::new(1, 1, Duration::from_secs(60));
        throttle.record_failure("alice", "192.0.2.7");
        throttle.clear_account("alice");
        assert!(throttle.check("alice", "192.0.2.9").is_ok());
        assert!(throttle.check("alice", "192.0.2.7").is_err());
    }

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            verify_password(hash.clone(), "correct horse battery".into())
                .await
                .unwrap()
        );
        assert!(!verify_password(hash, "wrong horse battery".into())
            .await
            .unwrap());
    }
}
