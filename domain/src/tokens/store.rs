//! Token storage and lookup. The secret is 32 random bytes; only its SHA-256 is stored (a
//! slow hash is not needed for a full-entropy secret, and lookups stay one index probe).

use super::{CreatedToken, NewToken, TokenSummary, TOKEN_PREFIX};
use crate::audit::store::record;
use crate::auth::principal::{Principal, PrincipalKind, RequestContext};
use crate::auth::Role;
use crate::dates::rfc3339;
use crate::Error;
use base64::Engine;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// 32 random bytes from the OS, base64url without padding.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a token: its SHA-256 (proxy instance tokens are kept the same way).
pub(crate) fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Parses an expiry: RFC 3339, or a date meaning the end of that day in UTC. Must be future.
pub fn parse_expiry(value: &str) -> Result<OffsetDateTime, String> {
    let value = value.trim();
    let at = OffsetDateTime::parse(value, &Rfc3339).or_else(|_| {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(value, &format)
            .map(|d| d.with_hms(23, 59, 59).map(|t| t.assume_utc()))
            .map_err(|_| format!("'{value}' is not a date (YYYY-MM-DD) or an RFC 3339 time"))?
            .map_err(|e| e.to_string())
    })?;
    if at <= OffsetDateTime::now_utc() {
        return Err("the expiry must be in the future".into());
    }
    Ok(at)
}

/// Every token, newest first, without its secret (admins: a token list is user management).
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn list(pool: &PgPool, context: &RequestContext) -> Result<Vec<TokenSummary>, Error> {
    context.require_admin()?;
    let rows = sqlx::query!(
        r#"select t.id, t.name, t.role, t.hint, u.username as "created_by?", t.created_at, t.expires_at,
                  t.last_used_at, t.revoked_at is not null as "revoked!",
                  coalesce(t.expires_at <= now(), false) as "expired!"
           from api_token t left join app_user u on u.id = t.created_by
           order by t.revoked_at is not null, t.created_at desc"#
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(TokenSummary {
                id: r.id,
                name: r.name,
                role: Role::parse(&r.role).map_err(|e| Error::internal(anyhow::anyhow!(e)))?,
                hint: r.hint,
                created_by: r.created_by,
                created_at: rfc3339(r.created_at),
                expires_at: r.expires_at.map(rfc3339),
                last_used_at: r.last_used_at.map(rfc3339),
                revoked: r.revoked,
                expired: r.expired,
            })
        })
        .collect()
}

#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn create(
    pool: &PgPool,
    context: &RequestContext,
    new: NewToken,
) -> Result<CreatedToken, Error> {
    let principal = context.require_admin()?;
    if !Role::ALL.contains(&new.role) {
        return Err(Error::field(
            "role",
            "use monitor, auditor or admin (proxy instances get their tokens on their pair's page)",
        ));
    }
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::field("name", "use 1 to 100 characters"));
    }
    let expires_at = match new.expires_at.as_deref() {
        Some(value) => Some(parse_expiry(value).map_err(|m| Error::field("expires_at", m))?),
        None => None,
    };
    let token = format!("{TOKEN_PREFIX}{}", random_secret());
    let hint: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into api_token (name, role, token_hash, hint, created_by, expires_at)
         values ($1, $2, $3, $4, $5, $6) returning id",
        name,
        new.role.as_str(),
        digest(&token),
        hint,
        principal.user_id(),
        expires_at
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        crate::error::on_constraint(
            e,
            "api_token_name_key",
            "name",
            "a token with this name exists",
        )
    })?;
    record(
        &mut tx,
        context
            .event("token.create", format!("token:{name}"))
            .after(json!({
                "id": id, "name": name, "role": new.role, "hint": hint,
                "expires_at": expires_at.map(rfc3339),
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken { id, token })
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn revoke(pool: &PgPool, context: &RequestContext, id: i64) -> Result<(), Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!(
        "update api_token set revoked_at = coalesce(revoked_at, now()) where id = $1 returning name",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(super::Refused::NoSuchToken(id))?;
    record(
        &mut tx,
        context.event("token.revoke", format!("token:{name}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The principal a bearer token stands for: `Ok(None)` when it is unknown, revoked or expired.
pub async fn authenticate(pool: &PgPool, token: &str) -> Result<Option<Principal>, Error> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let row = sqlx::query!(
        "update api_token set last_used_at = now()
         where token_hash = $1 and revoked_at is null and (expires_at is null or expires_at > now())
         returning id, name, role",
        digest(token)
    )
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => Ok(Some(Principal {
            kind: PrincipalKind::Token {
                id: row.id,
                name: row.name,
            },
            role: Role::parse(&row.role).map_err(|e| Error::internal(anyhow::anyhow!(e)))?,
        })),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_and_distinct() {
        let (a, b) = (random_secret(), random_secret());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn an_expiry_must_be_a_future_date_or_time() {
        assert!(parse_expiry("2999-01-31").is_ok());
        assert!(parse_expiry("2999-01-31T10:00:00Z").is_ok());
        assert!(parse_expiry("2000-01-01").unwrap_err().contains("future"));
        assert!(parse_expiry("next week")
            .unwrap_err()
            .contains("not a date"));
    }
}
