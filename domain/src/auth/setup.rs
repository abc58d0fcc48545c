//! First start: the first admin (from `GATEHOUSE_BOOTSTRAP_ADMIN` or the setup page) and the
//! one-time setup links, kept in the database so that a link printed by one replica works on
//! every replica and all of them stop working once the first admin exists.

use super::principal::RequestContext;
use super::store::{insert_user, sign_in};
use super::Role;
use crate::audit::store::record;
use crate::Error;
use crate::Services;
use serde_json::json;
use sqlx::PgPool;
use tower_sessions_core::Session;

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
    // Setup is over, on every replica: their links stop working.
    sqlx::query!("delete from setup_token")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// Opens first-start setup: stores a new one-time token's digest and returns the token (each
/// replica that starts before the first admin exists prints its own link; any of them works).
pub async fn open_setup(pool: &PgPool) -> Result<String, Error> {
    let token = crate::tokens::store::random_secret();
    sqlx::query!(
        "insert into setup_token (sha256) values ($1)",
        setup_digest(&token)
    )
    .execute(pool)
    .await?;
    Ok(token)
}

/// Whether `token` is one of the setup links printed and not yet used.
pub async fn setup_token_valid(pool: &PgPool, token: &str) -> Result<bool, Error> {
    if token.is_empty() || token.len() > 200 {
        return Ok(false);
    }
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from setup_token where sha256 = $1) as "exists!""#,
        setup_digest(token)
    )
    .fetch_one(pool)
    .await?)
}

/// Whether setup is open: a link was printed and no admin made yet.
async fn any_setup_open(pool: &PgPool) -> Result<bool, Error> {
    Ok(
        sqlx::query_scalar!(r#"select exists(select 1 from setup_token) as "exists!""#)
            .fetch_one(pool)
            .await?,
    )
}

fn setup_digest(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// The setup page's action: checks the one-time token, creates the first admin and signs in.
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn complete_setup(
    state: &Services,
    session: &Session,
    context: &RequestContext,
    token: &str,
    username: &str,
    password: &str,
    confirm: &str,
) -> Result<(), Error> {
    if !any_setup_open(&state.pool).await? {
        return Err(super::Refused::SetupClosed.into());
    }
    if !setup_token_valid(&state.pool, token).await? {
        return Err(super::Refused::SetupLinkInvalid.into());
    }
    if password != confirm {
        return Err(Error::field("confirm", "the two passwords differ"));
    }
    if create_first_admin(&state.pool, context, username.trim(), password)
        .await?
        .is_none()
    {
        return Err(super::Refused::AdminExists.into());
    }
    sign_in(state, session, context, username, password).await?;
    Ok(())
}
