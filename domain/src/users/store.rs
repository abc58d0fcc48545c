//! User queries. Every change runs in one transaction with its audit entry, and none may leave
//! the console without an enabled admin.

use super::{NewUser, UserSummary, UserUpdate};
use crate::audit::store::record;
use crate::auth::{check_new_password, Role};
use crate::auth::{password::hash_password, principal::RequestContext, store::insert_user};
use crate::dates::rfc3339;
use crate::Error;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

/// Every user by name (admins: user management).
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn list(pool: &PgPool, context: &RequestContext) -> Result<Vec<UserSummary>, Error> {
    context.require_admin()?;
    let rows = sqlx::query!(
        r#"select id, username, role, disabled_at is not null as "disabled!", created_at, last_login_at
           from app_user order by lower(username)"#
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(UserSummary {
                id: r.id,
                username: r.username,
                role: Role::parse(&r.role).map_err(|e| Error::internal(anyhow::anyhow!(e)))?,
                disabled: r.disabled,
                created_at: rfc3339(r.created_at),
                last_login_at: r.last_login_at.map(rfc3339),
            })
        })
        .collect()
}

#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn create(pool: &PgPool, context: &RequestContext, new: NewUser) -> Result<i64, Error> {
    context.require_admin()?;
    let username = new.username.trim().to_owned();
    let mut tx = pool.begin().await?;
    let id = insert_user(&mut tx, &username, &new.password, new.role).await?;
    record(
        &mut tx,
        context
            .event("user.create", format!("user:{username}"))
            .after(json!({"id": id, "username": username, "role": new.role})),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

struct Locked {
    username: String,
    role: String,
    disabled: bool,
}

/// Locks the user row for the rest of the transaction.
async fn lock_user(tx: &mut PgConnection, id: i64) -> Result<Locked, Error> {
    sqlx::query_as!(
        Locked,
        r#"select username, role, disabled_at is not null as "disabled!" from app_user where id = $1 for update"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| super::Refused::NoSuchUser(id).into())
}

/// Refuses a change that would leave no enabled admin. Locks every admin row so two
/// concurrent demotions cannot both pass.
async fn keep_one_admin(tx: &mut PgConnection, leaving: i64) -> Result<(), Error> {
    let others = sqlx::query_scalar!(
        r#"select id from app_user where role = 'admin' and disabled_at is null and id <> $1 for update"#,
        leaving
    )
    .fetch_all(&mut *tx)
    .await?;
    if others.is_empty() {
        return Err(super::Refused::LastAdmin.into());
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn update(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
    update: UserUpdate,
) -> Result<(), Error> {
    context.require_admin()?;
    if let Some(role) = update.role {
        if !role.is_for_users() {
            return Err(Error::field(
                "role",
                format!("the {role} role is not for people: use admin or auditor"),
            ));
        }
    }
    let mut tx = pool.begin().await?;
    let user = lock_user(&mut tx, id).await?;
    let was_admin = user.role == "admin" && !user.disabled;
    let stays_admin = update
        .role
        .map_or(user.role == "admin", |r| r == Role::Admin)
        && !update.disabled.unwrap_or(user.disabled);
    if was_admin && !stays_admin {
        keep_one_admin(&mut tx, id).await?;
    }
    let password_hash = match &update.password {
        Some(password) => {
            check_new_password(&user.username, password)
                .map_err(|m| Error::field("password", m))?;
            Some(hash_password(password.clone()).await?)
        }
        None => None,
    };
    let ends_sessions = password_hash.is_some() || update.disabled == Some(true);
    sqlx::query!(
        "update app_user set
           role = coalesce($2, role),
           password_hash = coalesce($3, password_hash),
           disabled_at = case when $4::bool is null then disabled_at
                              when $4 then coalesce(disabled_at, now()) else null end,
           session_epoch = session_epoch + case when $5 then 1 else 0 end,
           updated_at = now()
         where id = $1",
        id,
        update.role.map(Role::as_str),
        password_hash,
        update.disabled,
        ends_sessions
    )
    .execute(&mut *tx)
    .await?;
    let mut after = serde_json::Map::new();
    if let Some(role) = update.role {
        after.insert("role".into(), json!(role));
    }
    if update.password.is_some() {
        after.insert("password".into(), json!("changed"));
    }
    if let Some(disabled) = update.disabled {
        after.insert("disabled".into(), json!(disabled));
    }
    record(
        &mut tx,
        context
            .event("user.update", format!("user:{}", user.username))
            .before(json!({"role": user.role, "disabled": user.disabled}))
            .after(after.into()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn delete(pool: &PgPool, context: &RequestContext, id: i64) -> Result<(), Error> {
    let principal = context.require_admin()?;
    if principal.user_id() == Some(id) {
        return Err(super::Refused::OwnAccount.into());
    }
    let mut tx = pool.begin().await?;
    let user = lock_user(&mut tx, id).await?;
    if user.role == "admin" && !user.disabled {
        keep_one_admin(&mut tx, id).await?;
    }
    sqlx::query!("delete from app_user where id = $1", id)
        .execute(&mut *tx)
        .await?;
    record(
        &mut tx,
        context
            .event("user.delete", format!("user:{}", user.username))
            .before(json!({"id": id, "username": user.username, "role": user.role})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
