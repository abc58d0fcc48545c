//! Sessions and the accounts behind them: sign-in and sign-out, the principal a session acts
//! as, changing one's own password, and the first-start setup.

use super::password::{dummy_hash, hash_password, verify_password};
use super::principal::{Principal, PrincipalKind, RequestContext};
use super::{check_new_password, check_username, CurrentUser, Role};
use crate::audit::store::{record, record_alone, Outcome};
use crate::Error;
use crate::Services;
use serde_json::json;
use sqlx::PgPool;
use std::time::Duration;
use tower_sessions_core::Session;

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
#[tracing::instrument(skip_all, fields(actor = %context.actor(), username = %username.trim()))]
pub async fn sign_in(
    state: &Services,
    session: &Session,
    context: &RequestContext,
    username: &str,
    password: &str,
) -> Result<CurrentUser, Error> {
    let username = username.trim();
    let target = format!("user:{username}");
    if let Err(wait) = state
        .throttle
        .check(&state.pool, username, &context.source)
        .await?
    {
        let retry_after_secs = wait.as_secs().max(1);
        record_alone(
            &state.pool,
            context
                .event("auth.login", &target)
                .outcome(Outcome::Denied)
                .detail(format!("throttled; retry after {retry_after_secs} s")),
        )
        .await?;
        return Err(Error::Throttled { retry_after_secs });
    }
    if username.is_empty() || password.is_empty() || password.len() > super::MAX_PASSWORD_LEN {
        return Err(super::Refused::WrongPassword.into());
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
            return Err(super::Refused::AccountDisabled.into());
        }
        _ => {
            state
                .throttle
                .record_failure(&state.pool, username, &context.source)
                .await?;
            record_alone(
                &state.pool,
                context
                    .event("auth.login", &target)
                    .outcome(Outcome::Failure)
                    .detail("wrong username or password"),
            )
            .await?;
            return Err(super::Refused::WrongPassword.into());
        }
    };

    let role = Role::parse(&user.role).map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    state.throttle.clear_account(&state.pool, username).await?;
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
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn sign_out(
    state: &Services,
    session: &Session,
    context: &RequestContext,
) -> Result<(), Error> {
    // Only a user signs out: another principal (a token) has no session to end, and must not
    // be able to write audit entries by calling this.
    if let Some(principal) = context
        .principal
        .as_ref()
        .filter(|p| p.as_current_user().is_some())
    {
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
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
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
        return Err(super::Refused::TokenHasNoPassword.into());
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
            format!("the {role} role is not for people: use admin or auditor (a monitor is an API token)"),
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
